"""Run the Slack app.

    python bot.py                 # HTTP: Events API + interactivity at POST /slack/events on $PORT (3000)
    python bot.py --socket        # Socket Mode (SLACK_APP_TOKEN), no public URL needed

Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode); the store is chosen
like the CLI's (WARMINTRO_DATABASE_URL or the SQLite file under WARMINTRO_HOME). Every process also runs the
daily digest loop; the digest is claimed per CSM and day in the store, so several processes send it once.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Any

log = logging.getLogger("bot")


def build_agent(settings: Any, store: Any) -> Any:
    """THE injection point for the agent service (agent/service.py): with a model configured it writes (and
    streams) the answers and remembers each thread (the checkpointer); without one, the offline router answers."""
    try:
        from agent.checkpoint import open_checkpointer
        from agent.models import make_chat_model
        from agent.service import AgentService
    except ImportError as exc:
        from slackapp.deps import UnavailableAgent

        log.warning("agent service unavailable (%s): free-text answers are disabled", type(exc).__name__)
        return UnavailableAgent()
    model = make_chat_model(settings)
    return AgentService(settings, store, model=model,
                        checkpointer=open_checkpointer(settings) if model is not None else None)


def _fail(message: str, code: int) -> int:
    print(f"bot.py: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="Run the warmintro Slack app.")
    parser.add_argument("--socket", action="store_true", help="Socket Mode (needs SLACK_APP_TOKEN)")
    parser.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default $PORT or 3000)")
    parser.add_argument("--digest-hour", type=int, default=9, help="UTC hour after which the daily digest goes out")
    parser.add_argument("--no-digest", action="store_true", help="do not send daily digests from this process")
    args = parser.parse_args(argv)

    from pydantic import ValidationError

    from warmintro.errors import WarmintroError
    from warmintro.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        return _fail(f"invalid setting {where}: {first.get('msg')}", 2)
    from types import SimpleNamespace

    from slackapp import oauth

    # With the OAuth install flow each workspace brings its own bot token: SLACK_BOT_TOKEN becomes optional
    # (it is then only the default for sends that name no workspace).
    oauth_on = oauth.configured(SimpleNamespace(settings=settings))
    missing = [name for name, value in (
        *(() if oauth_on else (("SLACK_BOT_TOKEN", settings.slack_bot_token),)),
        ("SLACK_APP_TOKEN" if args.socket else "SLACK_SIGNING_SECRET",
         settings.slack_app_token if args.socket else settings.slack_signing_secret),
    ) if value is None or not value.get_secret_value()]
    if missing:
        return _fail(f"missing {' and '.join(missing)} (see docs/slack.md)", 2)

    from warmintro.logs import configure_logging

    configure_logging()
    root_level = logging.getLogger().level
    for noisy in ("slack_sdk", "slack_bolt", "slackapp.bolt"):
        # their DEBUG lines carry request bodies (message text): never below INFO
        logging.getLogger(noisy).setLevel(max(root_level, logging.INFO))

    from warmintro.store.db import Store

    try:
        store = Store.open(settings.resolved_database_url)
    except WarmintroError as exc:
        return _fail(str(exc), exc.exit_code)

    from slackapp import scheduler
    from slackapp.app import build_bolt_app, build_slack_client
    from slackapp.deps import Deps

    try:
        deps = Deps(settings=settings, store=store, agent=build_agent(settings, store),
                    client=build_slack_client(settings, require_token=not oauth_on))
        bolt_app = build_bolt_app(deps, socket_mode=args.socket)
    except WarmintroError as exc:
        return _fail(str(exc), exc.exit_code)

    from warmintro.warmup import Warmup

    # Off the request path: what every listener shares is built now, in the background; /readyz says when.
    deps.warmup = Warmup(store, deps.now).start()
    stop = threading.Event()
    threading.Thread(target=scheduler.jobs_loop, args=(deps, stop), name="jobs", daemon=True).start()
    if not args.no_digest:
        threading.Thread(target=scheduler.digest_loop, args=(deps, args.digest_hour, stop), name="digest", daemon=True).start()
    try:
        if args.socket:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
            SocketModeHandler(bolt_app, app_token).start()
        else:
            import uvicorn

            from web.ops import instrument
            from web.server import create_web_app

            port = args.port or settings.port
            uvicorn.run(instrument(create_web_app(bolt_app, deps)), host=args.host, port=port, log_level="warning")
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
