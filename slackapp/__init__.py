"""The Slack app: bolt listeners, middleware and Block Kit builders over the engines and the agent.

Entry point: `python bot.py` (HTTP, `POST /slack/events`) or `python bot.py --socket` (Socket Mode).
Nothing here reads the environment or opens a connection at import time.
"""

from __future__ import annotations

from slackapp.deps import AgentLike, Deps

__all__ = ["AgentLike", "Deps"]
