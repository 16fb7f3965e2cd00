"""Cross-cutting work done once per request, before any listener runs.

1. Dedupe: Slack retries an event (same `event_id`, header `X-Slack-Retry-Num`) when it did not see a 200
   in 3 s. The first delivery inserts the event id into `slack_events` (a primary key); a conflict means
   another delivery (this process, another process, or before a restart) already took it: ack, stop.
2. Identity: the Slack user becomes an `agent.identity.Identity` in `context["identity"]`: team.csv by
   Slack user id, else users.info (email, home team) matched against the team and the contacts. A user
   whose home team is not this workspace's, or whom Slack marks `is_stranger`, is external (Slack
   Connect) and can only ever be a champion.

Claims (dedupe) live in `warmintro.claims`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from agent.identity import Identity, resolve_identity
from slackapp.deps import Deps
from warmintro.claims import ClaimKind, claim
from warmintro.errors import WarmintroError
from warmintro.store import models as m

log = logging.getLogger(__name__)


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name.lower())
    if not values:
        return None
    return values[0] if isinstance(values, list | tuple) else str(values)


def dedupe_middleware(deps: Deps) -> Callable[..., BoltResponse | None]:
    def dedupe(req: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        body = req.body if isinstance(req.body, dict) else {}
        event_id = body.get("event_id")
        if body.get("type") != "event_callback" or not isinstance(event_id, str) or not event_id:
            return next()
        retry_num = _header(req, "X-Slack-Retry-Num")
        try:
            first = claim(deps.store, ClaimKind.EVENT.key(event_id), deps.now())
        except SQLAlchemyError:
            # The store is down. A first delivery is still handled (at most a duplicate reply); a retry is
            # dropped, since it most likely was handled already and nothing else can tell.
            log.exception("dedupe: store unavailable", extra={"fields": {"event_id": event_id}})
            if retry_num:
                return BoltResponse(status=200, body="")
            return next()
        if not first:
            log.info("duplicate event ignored", extra={"fields": {
                "event_id": event_id, "retry_num": retry_num, "retry_reason": _header(req, "X-Slack-Retry-Reason")}})
            return BoltResponse(status=200, body="")
        return next()

    return dedupe


# ---------------------------------------------------------------------------------------------------
# Identity


@dataclass(frozen=True)
class SlackUser:
    team_id: str | None
    enterprise_id: str | None
    email: str | None
    is_stranger: bool
    is_bot: bool


class UserCache:
    """users.info answers, kept a few minutes (identity is resolved on every request)."""

    def __init__(self, ttl_s: float = 300.0, max_size: int = 5000) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._data: dict[str, tuple[float, SlackUser | None]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> tuple[bool, SlackUser | None]:
        with self._lock:
            hit = self._data.get(user_id)
            if hit is None or hit[0] < time.monotonic():
                return False, None
            return True, hit[1]

    def put(self, user_id: str, user: SlackUser | None) -> None:
        with self._lock:
            if len(self._data) >= self.max_size:
                self._data.clear()
            self._data[user_id] = (time.monotonic() + self.ttl_s, user)


class LookupFailed(WarmintroError):
    """users.info could not answer now (rate limited, Slack down): the user is not known to be anyone."""


def lookup_client(client: WebClient) -> WebClient:
    """A client for lookups made before the ack: short timeout, no waiting out a 429's Retry-After (that
    would hold the ack past Slack's 3 s); one retry on a dropped connection."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=2, headers=client.headers,
                     retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)])


def fetch_user(client: WebClient, user_id: str, cache: UserCache) -> SlackUser | None:
    found, user = cache.get(user_id)
    if found:
        return user
    try:
        resp = client.users_info(user=user_id)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error in ("user_not_found", "user_not_visible", "account_inactive"):
            cache.put(user_id, None)
            return None
        log.warning("users.info failed", extra={"fields": {"error": error, "status": exc.response.status_code}})
        raise LookupFailed(str(error)) from exc
    except OSError as exc:
        log.warning("users.info unreachable", extra={"fields": {"error": type(exc).__name__}})
        raise LookupFailed(type(exc).__name__) from exc
    data: dict[str, Any] = resp.get("user") or {}
    profile = data.get("profile") or {}
    enterprise = data.get("enterprise_user") or {}
    user = SlackUser(
        team_id=data.get("team_id"),
        enterprise_id=enterprise.get("enterprise_id"),
        email=(profile.get("email") or None),
        is_stranger=bool(data.get("is_stranger")),
        is_bot=bool(data.get("is_bot")),
    )
    cache.put(user_id, user)
    return user


def _team_hint(body: dict[str, Any]) -> str | None:
    """The acting user's home team, when the payload says (Slack Connect events and actions do)."""
    event = body.get("event")
    if isinstance(event, dict):
        if isinstance(event.get("user_team"), str) and event["user_team"]:
            return str(event["user_team"])
        profile = event.get("user_profile")
        if isinstance(profile, dict) and isinstance(profile.get("team"), str) and profile["team"]:
            return str(profile["team"])
        return None
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("team_id"), str) and user["team_id"]:
        return str(user["team_id"])
    if isinstance(body.get("user_team"), str) and body["user_team"]:
        return str(body["user_team"])
    return None


def is_external(user: SlackUser, workspace_team: str | None, workspace_enterprise: str | None) -> bool:
    if user.is_stranger:
        return True
    if workspace_team and user.team_id and user.team_id != workspace_team:
        # Enterprise Grid: another workspace of the same organisation is not external.
        return not (workspace_enterprise and user.enterprise_id == workspace_enterprise)
    return False


def identify(deps: Deps, client: WebClient, *, user_id: str, workspace_team: str | None,
             workspace_enterprise: str | None, team_hint: str | None, cache: UserCache) -> Identity:
    foreign_hint = bool(team_hint and workspace_team and team_hint != workspace_team)
    if not foreign_hint:
        with deps.store.session() as s:
            member = s.scalars(select(m.TeamMember).where(m.TeamMember.slack_user_id == user_id)).first()
            if member is not None:
                return Identity(member.role, user_id, member.email, member.name)  # type: ignore[arg-type]
    user = fetch_user(client, user_id, cache)
    if user is not None and user.is_bot:
        return Identity("unknown", user_id)
    external = foreign_hint if user is None else is_external(user, workspace_team, workspace_enterprise)
    with deps.store.session() as s:
        return resolve_identity(s, slack_user_id=user_id, email=user.email if user else None, external=external)


def _assistant_thread_user(body: Any) -> str | None:
    """Who opened an agent thread (assistant_thread_started names them only inside `assistant_thread`, where
    bolt does not look)."""
    event = body.get("event") if isinstance(body, dict) else None
    thread = event.get("assistant_thread") if isinstance(event, dict) else None
    user = thread.get("user_id") if isinstance(thread, dict) else None
    return user if isinstance(user, str) and user else None


def identity_middleware(deps: Deps, cache: UserCache | None = None) -> Callable[..., BoltResponse | None]:
    users = cache or UserCache()

    def identity(req: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        user_id = context.user_id or _assistant_thread_user(req.body)
        if not user_id:
            context["identity"] = Identity("unknown")
            return next()
        body = req.body if isinstance(req.body, dict) else {}
        auth = context.authorize_result
        workspace_team = (auth.team_id if auth is not None else None) or context.team_id
        workspace_enterprise = (auth.enterprise_id if auth is not None else None) or context.enterprise_id
        try:
            who = identify(deps, lookup_client(context.client), user_id=user_id, workspace_team=workspace_team,
                           workspace_enterprise=workspace_enterprise, team_hint=_team_hint(body), cache=users)
        except LookupFailed:
            context["identity_error"] = True
            who = Identity("unknown", user_id)
        except Exception:
            log.exception("identity resolution failed")
            context["identity_error"] = True
            who = Identity("unknown", user_id)
        context["identity"] = who
        return next()

    return identity
