"""The test harness shared by the tests, the fault suite (evals/faults) and the benchmarks: one mock Slack Web
API (`mock_slack_api`), one small-workspace builder (`workspace`), and the Slack app harness (`slack_harness`:
the real Starlette + bolt app on uvicorn, signed requests, a fake agent). Nothing here runs at import time."""
