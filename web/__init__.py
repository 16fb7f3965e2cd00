"""The HTTP server (one Starlette app): Slack's endpoint bridged to bolt, the signed approval page and
referral form, the partner portal, the signal hooks, and the ops endpoints (/healthz, /readyz, /metrics)."""
