"""The champion's answer to an ask, one code path for every surface (the Slack DM buttons and the signed web
page): which names the ask carried, a drafted note per name, and Approve / Not a fit / Not now with the same
records: the ask's outcome (cadence enforced), a referral per approved name in the ledger (idempotent per ask
and person), and an audit row. Nothing here talks to Slack; callers pass `on_created` to tell the referral's
owner (the Slack app DMs them).

An ask is answered once, whatever the surface: `claim_answer` takes the key `answer:{ask_id}` (the same
key the Slack buttons take), so a click in Slack after an answer on the web (or a second POST) records
nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.champion_text import csm_intro
from warmintro.claims import ClaimKind, claim, release
from warmintro.engines.cadence import record_outcome
from warmintro.flows.queue import target_emails
from warmintro.program import Program, load_program
from warmintro.settings import Settings
from warmintro.store import models as m
from warmintro.store.db import Store

log = logging.getLogger(__name__)

ASK_SENT = "ask_sent"  # audit row written with every ask sent: which names it carried
APPROVED = "champion_approved"
NOT_A_FIT = "champion_not_a_fit"


@dataclass(frozen=True)
class NoteDraft:
    to_email: str
    to_name: str
    subject: str
    body: str
    source: str  # "drafter" or "template"


def answer_key(ask_id: int) -> str:
    return ClaimKind.ANSWER.key(ask_id)


def claim_answer(store: Store, ask_id: int, now: datetime) -> bool:
    """True for the first answer to this ask (on any surface); False when it was already answered."""
    return claim(store, answer_key(ask_id), now)


def release_answer(store: Store, ask_id: int) -> None:
    release(store, answer_key(ask_id))


def is_answered(store: Store, ask_id: int) -> bool:
    with store.session() as s:
        return s.get(m.SlackEvent, answer_key(ask_id)) is not None


def _audit(store: Store, now: datetime, *, actor: str | None, action: str, subject: str | None,
           detail: dict[str, Any]) -> None:
    with store.session() as s:
        s.add(m.AuditLog(at=now, actor=actor, action=action, subject=subject, detail=detail))


def solved_for(s: Session, ask: m.Ask, program: Program) -> str | None:
    """What the champion said the vendor solved for them, in their own words (their NPS comment on the
    trigger), if anything: CSM notes are never quoted to a champion."""
    from warmintro.engines.problem import extract_problem

    signal = s.get(m.Signal, ask.trigger_signal_id) if ask.trigger_signal_id else None
    if signal is None or not signal.notes or signal.type != "nps" or signal.contact_email != ask.contact_email:
        return None
    problem = extract_problem(signal.notes, program.vendor.one_liner)
    return problem.solved if problem else None


def ask_targets(store: Store, ask: m.Ask, now: datetime, limit: int) -> list[str]:
    """The names this ask carried (recorded when it was sent), else today's targets for the champion."""
    with store.session() as s:
        sent = s.scalars(select(m.AuditLog).where(m.AuditLog.action == ASK_SENT, m.AuditLog.subject == ask.contact_email)
                         .order_by(m.AuditLog.id.desc())).all()
        targets = next((list(r.detail.get("targets") or []) for r in sent
                        if r.detail and r.detail.get("ask_id") == ask.id), [])
        if not targets:
            _lines, targets, _note = target_emails(s, ask.contact_email, now, limit)
    return targets


def draft_notes(s: Session, champion: m.Contact, target_emails: Sequence[str], program: Program,
                csm_name: str | None, solved: str | None, *, settings: Settings, now: datetime) -> list[NoteDraft]:
    """A forwardable note per target, in the champion's voice (warmintro.voice: the LLM drafter when a model
    is configured, else the offline composer; both grounded). Should the drafter fail, a plain template made
    only of facts in the store (names, the vendor, what the champion said it solved)."""
    from warmintro.voice.service import draft_in_session

    account = s.get(m.Account, champion.account_id)
    notes: list[NoteDraft] = []
    for email in target_emails:
        person = s.get(m.Person, email)
        to_name = person.name if person is not None else email
        try:
            with s.begin_nested():  # a failed draft must not poison the caller's transaction
                draft = draft_in_session(s, champion.email, email, settings=settings, now=now)
            note = draft.to_json()["note"]
            notes.append(NoteDraft(email, to_name, str(note["subject"]), str(note["body"]), "drafter"))
            continue
        except Exception as exc:
            log.warning("drafter failed; using the plain template", extra={"fields": {"error": type(exc).__name__}})
        first = to_name.split(" ")[0] if person is not None else "there"
        mine = (champion.name or "").split(" ")[0]
        company = f" at {account.name}" if account is not None else ""
        what = f": {solved[0].lower() + solved[1:]}" if solved else ""  # their own words; never the tagline
        csm = f" to {csm_intro(csm_name, program.vendor.name)}," if csm_name else ""
        body = (f"Hi {first},\n\nWe've been using {program.vendor.name}{company}{what}. I thought it might be useful "
                f"for you too. Happy to introduce you{csm} if you'd like.\n\n{mine}")
        notes.append(NoteDraft(email, to_name, f"Introduction: {program.vendor.name}", body, "template"))
    return notes


def draft_for_ask(store: Store, settings: Settings, ask: m.Ask, targets: Sequence[str], now: datetime) -> list[NoteDraft]:
    """draft_notes for an ask's champion, with the CSM who asked and what the champion said it solved."""
    with store.session() as s:
        program = load_program(s)
        champion = s.scalars(select(m.Contact).where(m.Contact.email == ask.contact_email)).one()
        csm = s.get(m.TeamMember, ask.asked_by) if ask.asked_by else None
        return draft_notes(s, champion, targets, program, csm.name if csm else None, solved_for(s, ask, program),
                           settings=settings, now=now)


def record_referrals(store: Store, ask: m.Ask, target_emails: Sequence[str], *, actor: str | None, now: datetime,
                     source_tag: str = "slack", on_created: Callable[[str], object] | None = None
                     ) -> tuple[list[str], dict[str, str]]:
    """The champion approved intros to these people: one referral each in the ledger (idempotent per ask and
    person, so a second click or a retry records nothing twice). `on_created(referral_id)` runs for each new
    one (the owner hears at once). Returns (referral ids, {email: blocked reason})."""
    from warmintro.engines.ledger import ReferralBlocked, create_referral

    with store.session() as s:
        signal = s.get(m.Signal, ask.trigger_signal_id) if ask.trigger_signal_id else None
        trigger = signal.type if signal is not None else None
        people = {e: s.get(m.Person, e) for e in target_emails}
        refs = {e: (p.name if p else None, p.company if p else None) for e, p in people.items()}
    ids: list[str] = []
    blocked: dict[str, str] = {}
    for email in target_emails:
        name, company = refs[email]
        try:
            view = create_referral(store, referrer_email=ask.contact_email, referee_email=email, at=now,
                                   referee_name=name, referee_company=company, trigger_type=trigger,
                                   persona=ask.persona, status="approved", idempotency_key=f"ask:{ask.id}:{email}",
                                   actor=actor, source_tag=source_tag)
            ids.append(view.referral_id)
        except ReferralBlocked as exc:
            blocked[email] = exc.reason
            continue
        if on_created is not None and view.created:
            try:
                on_created(view.referral_id)
            except Exception as exc:
                log.warning("referral handoff failed", extra={"fields": {"error": type(exc).__name__}})
    return ids, blocked


@dataclass
class Approval:
    notes: list[NoteDraft]  # one per approved, unblocked name (edited by the champion where they edited it)
    referral_ids: list[str]
    blocked: dict[str, str] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)


def approve(store: Store, settings: Settings, ask: m.Ask, targets: Sequence[str], *, actor: str | None,
            now: datetime, notes: Sequence[NoteDraft] | None = None, source_tag: str = "slack", via: str = "slack",
            on_created: Callable[[str], object] | None = None) -> Approval:
    """The champion said yes to `targets` (the ask's names, or the ones they kept): outcome accepted (cadence
    enforced), a referral per name, an audit row, and a note per name to forward. `notes` are the notes the
    champion saw (and maybe edited, source "champion") on the page; a name without one gets a fresh draft."""
    given = {n.to_email: n for n in notes or ()}
    to_draft = [t for t in targets if t not in given]
    drafted = {n.to_email: n for n in draft_for_ask(store, settings, ask, to_draft, now)} if to_draft else {}
    final = [given[t] if t in given else drafted[t] for t in targets]
    with store.session() as s:
        rules = load_program(s).rules
    record_outcome(store, rules, ask.id, "accepted", actor=actor)
    from warmintro.engines.webhooks import enqueue

    with store.session() as s:  # record_outcome commits in its own transaction: the event right after it
        enqueue(s, "ask_approved", {"ask_id": ask.id, "contact_email": ask.contact_email,
                                    "account_id": ask.account_id, "trigger_signal_id": ask.trigger_signal_id,
                                    "persona": ask.persona, "targets": list(targets), "actor": actor,
                                    "via": via, "approved_at": now}, f"ask_approved:{ask.id}", at=now)
    ids, blocked = record_referrals(store, ask, targets, actor=actor, now=now, source_tag=source_tag,
                                    on_created=on_created)
    kept = [n for n in final if n.to_email not in blocked]
    detail: dict[str, Any] = {"ask_id": ask.id, "targets": list(targets), "drafts": [n.source for n in final],
                              "referrals": ids, "blocked": blocked}
    if via != "slack":
        detail |= {"via": via, "notes": [{"to_email": n.to_email, "to_name": n.to_name, "subject": n.subject,
                                          "body": n.body, "source": n.source} for n in kept]}
    _audit(store, now, actor=actor, action=APPROVED, subject=ask.contact_email, detail=detail)
    from warmintro.metrics import count

    count("approval", via=via)
    return Approval(kept, ids, blocked, list(targets))


def decline(store: Store, ask: m.Ask, *, actor: str | None, now: datetime) -> None:
    """Not now: the ask is declined and the cadence cool-down starts (CadenceViolation when it cannot be)."""
    with store.session() as s:
        rules = load_program(s).rules
    record_outcome(store, rules, ask.id, "declined", actor=actor)


def not_a_fit(store: Store, ask: m.Ask, *, actor: str | None, now: datetime, via: str = "slack") -> None:
    """The names are not a fit: noted for the account team; the ask stays as it is."""
    detail: dict[str, Any] = {"ask_id": ask.id}
    if via != "slack":
        detail["via"] = via
    _audit(store, now, actor=actor, action=NOT_A_FIT, subject=ask.contact_email, detail=detail)


def last_approval(store: Store, ask: m.Ask) -> dict[str, Any] | None:
    """The audit detail of the approval of this ask (with the notes, when it was approved on the web)."""
    with store.session() as s:
        rows = s.scalars(select(m.AuditLog).where(m.AuditLog.action == APPROVED, m.AuditLog.subject == ask.contact_email)
                         .order_by(m.AuditLog.id.desc())).all()
        return next((dict(r.detail) for r in rows if r.detail and r.detail.get("ask_id") == ask.id), None)


def said_not_a_fit(store: Store, ask: m.Ask) -> bool:
    with store.session() as s:
        rows = s.scalars(select(m.AuditLog).where(m.AuditLog.action == NOT_A_FIT, m.AuditLog.subject == ask.contact_email))
        return any(r.detail and r.detail.get("ask_id") == ask.id for r in rows)
