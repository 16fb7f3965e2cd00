"""A rep's "Request intro" under a warm path: the owning CSM or team member is asked, once per connector and target."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import select

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from slackapp.listeners.common import (
    ack_only,
    guarded,
    identity_of,
    refusal_for,
    tell,
    tell_failure,
)
from slackapp.messaging import audit, dm, explain_cadence
from warmintro.claims import ClaimKind, claim
from warmintro.program import load_program
from warmintro.store import models as m

log = logging.getLogger(__name__)


def request_intro(deps: Deps, client: WebClient, body: dict[str, Any], who: Identity, value: str | None) -> None:
    """Route the rep's request to whoever owns the connector's relationship (the customer's CSM, the
    investor's owner...). A customer connector is asked only within cadence: the request is refused, with
    the reason, when the champion could not be asked now. Each request is routed once."""
    from warmintro.engines.cadence import load_history, write_reasons

    data = b.decode_value(value)
    connector, target = str(data.get("c") or "").lower(), str(data.get("t") or "").lower()
    pillar, owner = str(data.get("p") or ""), str(data.get("r") or "").lower()
    if not connector or not target:
        tell(deps, client, body, who, "That button is out of date; ask again.")
        return
    now = deps.now()
    with deps.store.session() as s:
        program = load_program(s)
        names: dict[str, str] = {}
        for e in (connector, target):
            person = s.get(m.Person, e)
            names[e] = person.name if person is not None and person.name else e
        contact = s.scalars(select(m.Contact).where(m.Contact.email == connector)).first()
        if contact is not None:
            names[connector] = contact.name
        reasons: list[str] = []
        if pillar == "customer" and contact is not None:
            if contact.do_not_contact:
                reasons = ["do_not_contact"]
            else:
                reasons = write_reasons(load_history(s, [connector]).get(connector, []), now, program.rules)
        member = s.get(m.TeamMember, owner) if owner else None
        owner_slack = member.slack_user_id if member is not None else None
        owner_name = member.name if member is not None else owner
    if reasons:
        tell(deps, client, body, who, explain_cadence(reasons, program, names[connector]))
        return
    if not owner_slack:
        tell(deps, client, body, who, f"No one on our team owns {b.escape(names[connector])}'s relationship in Slack "
                                      f"yet; reach out to {b.escape(owner_name or 'the account team')} directly.")
        return
    if not claim(deps.store, ClaimKind.INTRO.key(who.email, connector, target), now):
        tell(deps, client, body, who, f"Already requested: {b.escape(owner_name)} has it.")
        return
    dm(client, owner_slack, f":handshake: {b.escape(who.name or who.email or 'A rep')} ({b.escape(who.role)}) asks for an "
                             f"intro to *{b.escape(names[target])}* through *{b.escape(names[connector])}* ({b.escape(pillar)}). "
                             "If the moment is right, ask them from your queue.")
    audit(deps, actor=who.email, action="intro_requested", subject=connector,
           detail={"target": target, "pillar": pillar, "routed_to": owner})
    tell(deps, client, body, who, f":white_check_mark: Asked {b.escape(owner_name)} to arrange the intro to "
                                  f"{b.escape(names[target])} through {b.escape(names[connector])}.")


def register(app: App, deps: Deps) -> None:
    _failed = tell_failure(deps)

    @guarded("rep_request_intro", _failed)
    def on_request_intro(body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = identity_of(context)
        if not (who.is_vendor and who.email and who.role != "unknown"):
            tell(deps, client, body, who, refusal_for(who))
            return
        request_intro(deps, client, body, who, action.get("value"))

    app.action(re.compile("^" + re.escape(b.REQUEST_INTRO) + ":"))(ack=ack_only, lazy=[on_request_intro])

