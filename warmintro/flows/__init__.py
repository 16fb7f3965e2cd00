"""Domain flows: what the product does when someone acts (a champion answers an ask, a CSM's queue is
computed, a referral notice is due, a signal is pushed), with no Slack or HTTP in them. The Slack app, the
web pages and the CLI call these."""
