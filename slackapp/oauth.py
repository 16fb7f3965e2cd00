"""Slack distribution: the OAuth install flow, so several workspaces of one company install the app
(Enterprise Grid, or a sales and a CS workspace), each with its own bot token kept in the product's database.

`GET /slack/install` shows the "Add to Slack" page (a state in the database and in a cookie);
`GET /slack/oauth_redirect` checks the state, exchanges the code with Slack's `oauth.v2.access`, and saves the
installation. The installation and state stores implement slack_sdk's interfaces on the store's own engine (SQLite or
PostgreSQL; tables `slack_oauth_installations` and `slack_oauth_states`, from migration 0009; slack_sdk's
own SQLAlchemy stores import sqlalchemy.ext.asyncio, which needs greenlet). `bot_token(deps, team_id)`, `client_for(deps,
team_id)` (sends outside a request) and `authorize(deps)` (bolt's `App(authorize=...)`, wired by
`slackapp.app.build_bolt_app`) read the tokens back.

Off unless `WARMINTRO_SLACK_CLIENT_ID` and `WARMINTRO_SLACK_CLIENT_SECRET` are set: single-token mode
(`SLACK_BOT_TOKEN`) stays the default for one workspace. (Not `SLACK_CLIENT_ID`: bolt's `App()` reads that
itself and switches to its own file-based OAuth, ignoring the bot token.) `WARMINTRO_SLACK_SCOPES`
(comma-separated) overrides the bot scopes of slack/manifest.json.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

# The app manifest (slack/manifest.json): beside the package in a checkout, else in the working directory (the
# image runs from /app, which holds slack/).
MANIFESTS = (Path(__file__).resolve().parents[1] / "slack" / "manifest.json", Path("slack") / "manifest.json")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
_lock = threading.RLock()
_stores: dict[tuple[str, str], tuple[Any, Any]] = {}


def _setting(deps: Any, name: str) -> str | None:
    """One OAuth setting from `deps.settings` (warmintro.settings.Settings: slack_client_id,
    slack_client_secret, slack_scopes), a secret as its value; None when unset or empty."""
    value = getattr(deps.settings, name, None)
    if value is not None and hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return str(value) if value else None


def configured(deps: Any) -> bool:
    return bool(_setting(deps, "slack_client_id") and _setting(deps, "slack_client_secret"))


def bot_scopes(deps: Any) -> list[str]:
    raw = _setting(deps, "slack_scopes")
    if raw:
        return [s.strip() for s in raw.split(",") if s.strip()]
    for path in MANIFESTS:
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            return list(manifest["oauth_config"]["scopes"]["bot"])
        except (OSError, KeyError, ValueError):
            continue
    return ["chat:write", "commands", "im:write", "users:read", "users:read.email"]


class _Tables:
    """The install flow's two tables: defined with the models (warmintro/store/models.py) and created by the
    store's migrations (0009), so `Store.open` has them in place before the first install."""

    def __init__(self) -> None:
        from warmintro.store import models

        self.metadata = models.Base.metadata
        self.installations = models.slack_oauth_installations
        self.states = models.slack_oauth_states


def _is(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


class DbInstallationStore(InstallationStore):
    """slack_sdk's InstallationStore interface on the product's database: the latest installation per
    workspace (or Enterprise Grid org) wins; every save is kept, so re-installs are an audit trail."""

    def __init__(self, engine: Any, client_id: str, tables: _Tables) -> None:
        self.engine = engine
        self.client_id = client_id
        self.t = tables.installations

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(__name__)

    def save(self, installation: Any) -> None:
        import time

        from sqlalchemy import insert

        bot = installation.to_bot().__dict__ if installation.bot_token else None
        with self.engine.begin() as conn:
            conn.execute(insert(self.t).values(
                client_id=self.client_id, enterprise_id=installation.enterprise_id, team_id=installation.team_id,
                user_id=installation.user_id, is_enterprise_install=bool(installation.is_enterprise_install),
                installed_at=float(installation.installed_at or time.time()),
                installation=dict(installation.__dict__), bot=dict(bot) if bot else None))

    def save_bot(self, bot: Any) -> None:
        import time

        from sqlalchemy import insert

        with self.engine.begin() as conn:
            conn.execute(insert(self.t).values(
                client_id=self.client_id, enterprise_id=bot.enterprise_id, team_id=bot.team_id, user_id=None,
                is_enterprise_install=bool(bot.is_enterprise_install),
                installed_at=float(bot.installed_at or time.time()), installation=None, bot=dict(bot.__dict__)))

    def _latest(self, column: str, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None,
                user_id: str | None = None) -> Any:
        from sqlalchemy import select

        if is_enterprise_install:
            team_id = None
        query = (select(self.t.c[column]).where(self.t.c.client_id == self.client_id,
                                               _is(self.t.c.enterprise_id, enterprise_id), _is(self.t.c.team_id, team_id),
                                               self.t.c[column].is_not(None))
                 .order_by(self.t.c.id.desc()).limit(1))
        if user_id is not None:
            query = query.where(self.t.c.user_id == user_id)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False) -> Any:
        from slack_sdk.oauth.installation_store.models.bot import Bot

        data = self._latest("bot", enterprise_id, team_id, is_enterprise_install)
        return Bot(**data) if data else None

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Any:
        from slack_sdk.oauth.installation_store.models.installation import Installation

        data = self._latest("installation", enterprise_id, team_id, is_enterprise_install, user_id)
        return Installation(**data) if data else None

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        from sqlalchemy import update

        with self.engine.begin() as conn:
            conn.execute(update(self.t).where(self.t.c.client_id == self.client_id, _is(self.t.c.enterprise_id, enterprise_id),
                                              _is(self.t.c.team_id, team_id)).values(bot=None))

    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None) -> None:
        from sqlalchemy import delete

        query = delete(self.t).where(self.t.c.client_id == self.client_id, _is(self.t.c.enterprise_id, enterprise_id),
                                     _is(self.t.c.team_id, team_id))
        if user_id is not None:
            query = query.where(self.t.c.user_id == user_id)
        with self.engine.begin() as conn:
            conn.execute(query)

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class DbStateStore(OAuthStateStore):
    """slack_sdk's OAuthStateStore interface: one-time states that expire (10 minutes), shared by every replica."""

    def __init__(self, engine: Any, tables: _Tables, expiration_seconds: int = 600) -> None:
        self.engine = engine
        self.t = tables.states
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(__name__)

    def issue(self, *args: Any, **kwargs: Any) -> str:
        import secrets
        import time

        from sqlalchemy import insert

        state = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(insert(self.t).values(state=state, expire_at=time.time() + self.expiration_seconds))
        return state

    def consume(self, state: str) -> bool:
        import time

        from sqlalchemy import delete

        with self.engine.begin() as conn:
            gone = conn.execute(delete(self.t).where(self.t.c.state == state)).rowcount
            conn.execute(delete(self.t).where(self.t.c.expire_at < time.time()))  # sweep the stale ones
        return bool(gone)  # deleting it makes it one-time, across every replica


def stores(deps: Any) -> tuple[DbInstallationStore, DbStateStore]:
    """(installation store, state store) on the product's database (its schema migrated by `Store.open`),
    made once per process and client id."""
    client_id = _setting(deps, "slack_client_id") or ""
    engine = deps.store.engine
    key = (client_id, str(engine.url))
    with _lock:
        if key not in _stores:
            tables = _Tables()
            installations = DbInstallationStore(engine, client_id, tables)
            states = DbStateStore(engine, tables)
            _stores[key] = (installations, states)
        return _stores[key]


def oauth_flow(deps: Any) -> Any:
    from slack_bolt.oauth.oauth_flow import OAuthFlow
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk import WebClient

    installations, states = stores(deps)
    base = deps.settings.resolved_public_url
    settings = OAuthSettings(
        client_id=_setting(deps, "slack_client_id"), client_secret=_setting(deps, "slack_client_secret"),
        scopes=bot_scopes(deps), installation_store=installations, state_store=states,
        install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH, redirect_uri=f"{base}{REDIRECT_PATH}",
        state_cookie_name="warmintro-slack-oauth-state",
    )
    return OAuthFlow(client=WebClient(base_url=deps.settings.slack_api_url), settings=settings)


def bot_token(deps: Any, team_id: str | None, enterprise_id: str | None = None) -> str | None:
    """The bot token a workspace's installation saved (None when that workspace never installed the app)."""
    installations, _ = stores(deps)
    bot = installations.find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                 is_enterprise_install=bool(enterprise_id and not team_id))
    return bot.bot_token if bot is not None else None


def installed_bots(deps: Any) -> dict[str, str]:
    """{team id: bot token} for the workspaces with a bot token on file, in team order (an uninstall clears
    the bot, so it drops out)."""
    from sqlalchemy import select

    installations, _ = stores(deps)
    t = installations.t
    with installations.engine.connect() as conn:
        teams = sorted(str(r[0]) for r in conn.execute(select(t.c.team_id).where(
            t.c.client_id == installations.client_id, t.c.team_id.is_not(None), t.c.bot.is_not(None)).distinct()))
    tokens = {team: bot_token(deps, team) for team in teams}  # the latest installation's token decides
    return {team: token for team, token in tokens.items() if token}


def authorize(deps: Any) -> Any:
    """For `slack_bolt.App(authorize=...)`: each request runs with its own workspace's token."""
    from slack_bolt.authorization.authorize import InstallationStoreAuthorize

    installations, _ = stores(deps)
    return InstallationStoreAuthorize(installation_store=installations, client_id=_setting(deps, "slack_client_id"),
                                      client_secret=_setting(deps, "slack_client_secret"),
                                      client=deps.client, logger=logging.getLogger("slackapp.oauth.authorize"))
