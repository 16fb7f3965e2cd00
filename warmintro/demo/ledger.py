"""Record the demo's referrals in the ledger (`warmintro demo`), through the real engine.

The generator plants referral-sourced deals in opportunities.csv (source `referral`, `partner` or
`employee` with a `referrer_email`; see warmintro.demo.programs). This module turns each one into a ledger
referral, the way it happened: made a few days before the opportunity was created (inside the attribution
window, so the ledger referral sources the deal), approved, the intro sent (the owner's first touch: mostly
inside the 24 h SLA, about one in eight late), a meeting, an opportunity when the deal was created, and won
or lost when it closed. It also records the referrals that never became a deal (ground_truth.json `ledger`,
warmintro.demo.programs.plan_ledger): intros never made (no_response at the owner's first touch), intros
nobody answered (no_response two weeks on) and meetings that led nowhere (lost three weeks after). Every referral carries its trigger and the referrer's
persona (a partner's or employee's: the channel and the program). The program is explicit (source -> program). The referee
is a person at the deal's company: its first contact (contacts.csv, by contact_id) for a customer account,
else the first person at that domain in people.csv (by email), else `info@` the domain (a network company
where nobody in people.csv works now: 3 of 167 in the default demo).

The referrals are made before the rest of the workspace is imported (only program.toml, team.csv and
partners.csv are loaded first): a won deal's company is a customer today, and the ledger's blocking rules
look at the store as it is now, so recording them afterwards would refuse them as existing customers.

Their history is the past: the Slack messages it would have caused by then (close the loop, employee
stages; `due_notifications`) count as sent (`settle_notices`: their keys go into slack_events, as the
Slack app's sender claims them), so starting the bot on the demo store does not send hundreds of
months-old DMs.

Every referral has the idempotency key `demo:{seed}:{key}` (the opportunity id, or the dropped one's key): running the demo again (same seed)
records nothing twice. Nothing here touches the generator's random streams or files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from warmintro.claims import ClaimKind
from warmintro.demo.programs import PROGRAM_OF_SOURCE
from warmintro.store import models as m
from warmintro.store.db import Store

PRE_FILES = ("program.toml", "team.csv", "partners.csv")
NOTICE_PREFIX = ClaimKind.NOTICE.prefix  # the referral notices' claim keys in slack_events
EMPTY = {"accounts.csv": "account_id,name,domain\n", "contacts.csv": "contact_id,account_id,name,email\n"}


@dataclass(frozen=True)
class PlannedReferral:
    key: str  # the opportunity id, or the dropped referral's key from ground_truth.json
    program: str
    referrer_email: str
    referee_email: str
    referee_name: str | None
    referee_company: str
    made_at: datetime
    history: tuple[tuple[str, datetime], ...]  # (status, at) after creation, oldest first
    trigger: str | None = None
    persona: str | None = None


@dataclass
class LedgerResult:
    created: int = 0
    existing: int = 0
    blocked: list[str] = field(default_factory=list)
    by_program: dict[str, int] = field(default_factory=dict)


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _parse(value: str) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _hash(seed: int, key: str, salt: str = "") -> int:
    return int(hashlib.sha1(f"{seed}:{key}{salt}".encode()).hexdigest()[:8], 16)


def _lead_days(opportunity_id: str, seed: int) -> int:
    """How many days before the opportunity the referral came (3-21), stable per seed and opportunity."""
    return 3 + _hash(seed, opportunity_id) % 19


def _first_touch_hours(key: str, seed: int) -> int:
    """Hours from the referral to the owner's first touch (the intro): mostly within the 24 h SLA, about one
    in eight late (26-50 h), as a real team's would be."""
    h = _hash(seed, key, ":touch")
    return 26 + h % 25 if h % 100 < 12 else 2 + h % 21


def _ledger_truth(folder: Path) -> list[dict[str, Any]]:
    path = folder / "ground_truth.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("ledger") or [])


def plan_referrals(folder: Path, seed: int, as_of: datetime) -> list[PlannedReferral]:
    """The ledger referrals the workspace in `folder` says happened (module docstring), oldest first."""
    account_domain = {a["account_id"]: a["domain"].lower() for a in _read(folder / "accounts.csv")}
    referee: dict[str, tuple[str, str | None]] = {}
    for c in sorted(_read(folder / "contacts.csv"), key=lambda c: c["contact_id"]):
        d = account_domain.get(c["account_id"])
        if d and c.get("do_not_contact", "").lower() != "true":
            referee.setdefault(d, (c["email"].lower(), c.get("name") or None))
    for p in sorted(_read(folder / "people.csv"), key=lambda p: p["email"]):
        d = (p.get("domain") or "").lower()
        if d and p["email"].lower().endswith("@" + d):
            referee.setdefault(d, (p["email"].lower(), p.get("name") or None))
    truth = {e["key"]: e for e in _ledger_truth(folder)}
    out: list[PlannedReferral] = []
    for o in _read(folder / "opportunities.csv"):
        program = PROGRAM_OF_SOURCE.get((o.get("source") or "").strip().lower())
        referrer = (o.get("referrer_email") or "").strip().lower()
        domain = o["domain"].lower()
        created = _parse(o["created_at"])
        if not program or not referrer or created is None or created > as_of:
            continue
        email, name = referee.get(domain, (f"info@{domain}", None))
        made = created - timedelta(days=_lead_days(o["opportunity_id"], seed))
        intro = min(made + timedelta(hours=_first_touch_hours(o["opportunity_id"], seed)), created)
        history: list[tuple[str, datetime]] = [("intro_sent", intro), ("meeting", intro + (created - intro) / 2),
                                               ("opportunity", created)]
        closed = _parse(o.get("closed_at") or "")
        if o["stage"] in ("won", "lost") and closed is not None and closed <= as_of:
            history.append((o["stage"], closed))
        e = truth.get(o["opportunity_id"], {})
        out.append(PlannedReferral(o["opportunity_id"], program, referrer, email, name, o.get("account_name") or domain,
                                   made, tuple(history), e.get("trigger"), e.get("persona")))
    for e in truth.values():  # the referrals that dropped out before a deal
        made_at = _parse(e.get("made_at") or "")
        if e.get("opportunity_id") or made_at is None or made_at > as_of:
            continue
        email, name = referee.get(e["domain"], (f"info@{e['domain']}", None))
        touch = made_at + timedelta(hours=_first_touch_hours(e["key"], seed))
        steps = [("intro_sent", touch)]
        if e["reached"] == "approved":  # the owner followed up; the intro never happened
            steps = [("no_response", touch)]
        elif e["reached"] == "meeting":
            intro = touch
            meeting = intro + timedelta(days=3 + _hash(seed, e["key"], ":meeting") % 8)
            steps += [("meeting", meeting), ("lost", meeting + timedelta(days=21))]
        else:
            steps.append(("no_response", touch + timedelta(days=14)))
        out.append(PlannedReferral(e["key"], e["program"], e["referrer_email"], email, name, e["company"], made_at,
                                   tuple((st, at) for st, at in steps if at <= as_of), e.get("trigger"),
                                   e.get("persona")))
    return sorted(out, key=lambda p: (p.made_at, p.key))


def prepare_store(store: Store, folder: Path, scratch: Path) -> None:
    """Load program.toml, team.csv and partners.csv (no accounts or contacts) before the referrals are made."""
    from warmintro.importer.run import import_folder

    scratch.mkdir(parents=True, exist_ok=True)
    for name in PRE_FILES:
        if (folder / name).exists():
            shutil.copy(folder / name, scratch / name)
    for name, header in EMPTY.items():
        (scratch / name).write_text(header, encoding="utf-8")
    import_folder(store, scratch)


def record_referrals(store: Store, plan: list[PlannedReferral], seed: int) -> LedgerResult:
    """Create each planned referral (idempotent) and move a new one through its history."""
    from warmintro.engines.ledger import ReferralBlocked, create_referral, update_referral

    result = LedgerResult()
    for p in plan:
        try:
            view = create_referral(store, referrer_email=p.referrer_email, referee_email=p.referee_email, at=p.made_at,
                                   referee_name=p.referee_name, referee_company=p.referee_company,
                                   trigger_type=p.trigger, persona=p.persona, program_kind=p.program,
                                   source_tag=f"demo:{p.program}", idempotency_key=f"demo:{seed}:{p.key}",
                                   actor="warmintro demo")
        except ReferralBlocked as e:
            result.blocked.append(f"{p.key}: {e}")
            continue
        result.by_program[p.program] = result.by_program.get(p.program, 0) + 1
        if not view.created:
            result.existing += 1
            continue
        result.created += 1
        for status, at in p.history:
            update_referral(store, view.referral_id, status=status, at=at, actor="warmintro demo",
                            note=f"{p.key} {status}")
    return result


def settle_notices(store: Store, now: datetime) -> int:
    """Mark every notification of a demo referral due by `now` as sent (module docstring); how many were new."""
    from warmintro.engines.ledger import due_notifications

    with store.session(write=True) as s:
        demo = set(s.scalars(select(m.Referral.referral_id).where(m.Referral.idempotency_key.like("demo:%"))))
        done = set(s.scalars(select(m.SlackEvent.event_id).where(m.SlackEvent.event_id.like(NOTICE_PREFIX + "%"))))
        new = [n for n in due_notifications(s, now) if n.referral_id in demo and NOTICE_PREFIX + n.key not in done]
        for n in new:
            s.add(m.SlackEvent(event_id=NOTICE_PREFIX + n.key, received_at=n.due_at))
        return len(new)
