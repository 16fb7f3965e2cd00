"""The bolt App: an injected Web API client, global middleware, and listeners registered per kind.

Single-token mode (SLACK_BOT_TOKEN) is the default. With the OAuth install flow configured (slackapp/oauth.py),
each request is authorized from the installation store: bolt gives every request its own WebClient (a copy of
the injected client's base URL, headers and retry handlers) holding the token of the workspace it came from.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from slackapp import listeners, oauth
from slackapp.client import build_slack_client, copy_client, secret_value
from slackapp.deps import Deps
from slackapp.middleware import UserCache, dedupe_middleware, identity_middleware
from warmintro.errors import ConfigError

log = logging.getLogger(__name__)

_NO_AUTH_BODIES = ("url_verification", "ssl_check")
_NO_AUTH_EVENTS = ("app_uninstalled", "tokens_revoked")


def installed_only(deps: Deps) -> Any:
    """bolt `before_authorize` middleware (OAuth mode): a request from a workspace with no installation is
    acknowledged with an empty 200 and goes no further (no answer, no reinstall notice, no error log)."""
    installations, _states = oauth.stores(deps)

    def check(req: BoltRequest, context: BoltContext, next: Any) -> BoltResponse | None:
        body: dict[str, Any] = req.body if isinstance(req.body, dict) else {}
        raw_event = body.get("event")
        event: dict[str, Any] = raw_event if isinstance(raw_event, dict) else {}
        if (body.get("type") in _NO_AUTH_BODIES or body.get("ssl_check") or event.get("type") in _NO_AUTH_EVENTS
                or not (context.team_id or context.enterprise_id)):
            return next()
        bot = installations.find_bot(enterprise_id=context.enterprise_id, team_id=context.team_id,
                                     is_enterprise_install=context.is_enterprise_install)
        if bot is None:
            log.warning("request from a workspace that has not installed the app", extra={"fields": {
                "team_id": context.team_id, "enterprise_id": context.enterprise_id}})
            return BoltResponse(status=200, body="")
        return next()

    return check


def build_bolt_app(deps: Deps, *, socket_mode: bool = False) -> App:
    """A bolt App wired to `deps`. HTTP mode needs the signing secret; Socket Mode does not verify
    signatures (Slack's WebSocket is already authenticated with the app token).

    With the OAuth install flow configured, each request runs with its own workspace's bot token from the
    installation store (the listeners' `client` is bolt's per-request copy of `deps.client`, so its base URL);
    `deps.client` keeps SLACK_BOT_TOKEN (if any) for sends outside a request."""
    multi = oauth.configured(deps)
    if deps.client is None:
        deps.client = build_slack_client(deps.settings, require_token=not multi)
    signing_secret = secret_value(deps.settings.slack_signing_secret)
    if not signing_secret and not socket_mode:
        raise ConfigError("SLACK_SIGNING_SECRET is not set")
    per_workspace: dict[str, Any] = {}
    if multi:
        installations, _states = oauth.stores(deps)
        per_workspace = {"authorize": oauth.authorize(deps), "installation_store": installations,
                         "before_authorize": installed_only(deps)}
    app = App(
        client=copy_client(deps.client, None) if multi else deps.client,
        signing_secret=signing_secret or "socket-mode",
        token_verification_enabled=False,  # auth.test on the first request instead of at start-up
        process_before_response=False,  # ack at once; lazy listeners do the work
        request_verification_enabled=not socket_mode,
        logger=logging.getLogger("slackapp.bolt"),
        name="warmintro",
        # acks of commands and clicks run on this pool too (bolt's default is 5 threads): lazy agent calls
        # that take seconds must never leave an ack waiting past Slack's 3 s
        listener_executor=ThreadPoolExecutor(max_workers=deps.listener_workers, thread_name_prefix="slack-listener"),
        **per_workspace,
    )
    if multi:
        app.enable_token_revocation_listeners()  # app_uninstalled / tokens_revoked forget the workspace's token
    app.use(dedupe_middleware(deps))
    app.use(identity_middleware(deps, UserCache()))
    listeners.register(app, deps)
    return app
