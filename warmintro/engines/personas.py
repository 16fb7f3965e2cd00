"""Personas: economic buyer, product user, power user or administrator, for each contact of an account.

Inferred from usage depth and frequency, admin/integration/invite events, renewal-call and QBR attendance,
the title, and the CRM role (a hint, not the truth). Each contact gets the persona with the highest score,
a confidence (the winner's share of the scores), and the evidence a person can read.

Economic buyer needs positive evidence of budget authority: the CRM role, a budget-holder title, or
renewal-call attendance. Little or no usage is not such evidence (it fits a budget holder, but just as well a
practitioner who stopped using the product): on its own it makes a product user, whom the scan's activity
gate then holds to the 30-day rule. A contact with no evidence at all is a product user too, never exempt.

Set-based: one aggregate query over the rolled-up usage for all the contacts asked about.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warmintro.engines.timeutil import day_of, human_day, utc
from warmintro.errors import NotFoundError
from warmintro.store import models as m
from warmintro.store.db import driver_rows

PERSONAS = ("economic_buyer", "product_user", "power_user", "administrator")
USER_PERSONAS = ("product_user", "power_user", "administrator")
ADMIN_EVENTS = ("integration_configured", "admin_settings_changed", "user_invited")
DEPTH_EVENTS = ("feature_used", "workflow_completed", "report_shared")
WINDOW_DAYS = 90
MEETING_LOOKBACK_DAYS = 400  # renewal calls and QBRs count this far back

_BUYER_TITLE = re.compile(
    r"\b(chief|ceo|cfo|coo|cro|cto|cio|president|owner|founder|vp|vice president|svp|evp|head of|director|gm|general manager|partner)\b",
    re.I,
)
_ADMIN_TITLE = re.compile(
    r"\b(admin|administrator|it\b|systems|salesforce|crm|revops|revenue operations|sales ops|business systems|platform|integration)",
    re.I,
)
_PRACTITIONER_TITLE = re.compile(r"\b(analyst|specialist|coordinator|associate|manager|engineer|planner|lead|dispatcher|rep)\b", re.I)


@dataclass
class ContactFeatures:
    email: str
    title: str | None = None
    crm_role: str | None = None
    active_days: int = 0
    events: dict[str, int] = field(default_factory=dict)  # event -> total count
    event_days: dict[str, int] = field(default_factory=dict)  # event -> distinct active days
    renewal_meetings: int = 0
    qbr_meetings: int = 0
    last_active: date | None = None  # last day with usage inside the window


@dataclass
class PersonaResult:
    email: str
    persona: str
    confidence: float
    evidence: list[str]
    scores: dict[str, float]

    def to_json(self) -> dict[str, object]:
        return {"email": self.email, "persona": self.persona, "confidence": round(self.confidence, 2),
                "evidence": self.evidence}


def _score(f: ContactFeatures, window_days: int) -> PersonaResult:
    s = dict.fromkeys(PERSONAS, 0.0)
    ev: dict[str, list[str]] = defaultdict(list)
    weekdays = max(1, round(window_days * 5 / 7))
    activity = f.active_days / weekdays
    admin_total = sum(f.events.get(e, 0) for e in ADMIN_EVENTS)
    depth_total = sum(f.events.get(e, 0) for e in DEPTH_EVENTS)
    depth_kinds = sum(1 for e in DEPTH_EVENTS if f.events.get(e))
    total = sum(f.events.values())
    admin_share = admin_total / total if total else 0.0

    title = f.title or ""
    buyer_title = bool(title) and bool(_BUYER_TITLE.search(title)) and not _ADMIN_TITLE.search(title)
    # Positive evidence of budget authority; without it, light usage says "product user", not "buyer".
    buyer_evidence = f.crm_role == "economic_buyer" or buyer_title or f.renewal_meetings > 0

    # Usage depth and frequency
    if f.active_days == 0 or (activity < 0.08 and admin_total == 0):
        seen = f"light usage: active {f.active_days} of {window_days} days" if f.active_days else \
            f"no product usage in the last {window_days} days"
        if buyer_evidence:
            s["economic_buyer"] += 1.0
            ev["economic_buyer"].append(f"{seen}, how budget holders use it")
        else:
            s["product_user"] += 0.8
            last = f", last on {human_day(f.last_active)}" if f.last_active else ""
            ev["product_user"].append(f"{seen}{last}; not a buyer: no CRM role, budget-holder title or renewal call "
                                      "says so")
    elif activity >= 0.55 and depth_kinds >= 2:
        s["power_user"] += 2.5
        ev["power_user"].append(f"active {f.active_days} of {window_days} days, {depth_total} feature/workflow/report events")
    elif activity >= 0.2:
        s["product_user"] += 2.0
        s["power_user"] += 0.5
        ev["product_user"].append(f"active {f.active_days} of {window_days} days, regular use")
    else:
        s["product_user"] += 0.8
        ev["product_user"].append(f"active {f.active_days} of {window_days} days")
    if f.events.get("workflow_completed", 0) >= 30:
        s["power_user"] += 0.7
        ev["power_user"].append(f"{f.events['workflow_completed']} workflows completed")

    # Admin / integration / invite events
    if admin_total >= 3 and admin_share >= 0.2:
        s["administrator"] += 3.0
        kinds = ", ".join(e.replace("_", " ") for e in ADMIN_EVENTS if f.events.get(e))
        ev["administrator"].append(f"{admin_total} admin events ({kinds}), {admin_share:.0%} of their activity")
    elif admin_total >= 3:
        s["administrator"] += 1.0
        ev["administrator"].append(f"{admin_total} admin events")

    # Meetings: renewal calls and QBRs are where budget holders show up
    if f.renewal_meetings:
        s["economic_buyer"] += 1.5 + 0.3 * min(f.renewal_meetings - 1, 3)
        ev["economic_buyer"].append(f"attended {f.renewal_meetings} renewal call{'' if f.renewal_meetings == 1 else 's'}")
    if f.qbr_meetings:
        s["economic_buyer"] += 0.6
        ev["economic_buyer"].append(f"attended {f.qbr_meetings} QBR{'' if f.qbr_meetings == 1 else 's'}")

    # Title
    if title:
        if buyer_title:
            s["economic_buyer"] += 1.5
            ev["economic_buyer"].append(f"title '{title}' reads as a budget holder")
        if _ADMIN_TITLE.search(title):
            s["administrator"] += 1.2
            ev["administrator"].append(f"title '{title}' reads as a systems/admin role")
        if _PRACTITIONER_TITLE.search(title) and not _BUYER_TITLE.search(title):
            s["product_user"] += 0.4
            s["power_user"] += 0.4
            ev["product_user"].append(f"title '{title}' reads as a practitioner")

    # CRM role: a hint, weighted below behaviour so a stale field cannot override what people do
    if f.crm_role in s:
        s[f.crm_role] += 1.0
        ev[f.crm_role].append(f"CRM role says {f.crm_role.replace('_', ' ')}")

    # Ties go to the first in PERSONAS, except that a buyer without positive evidence never wins one.
    order = PERSONAS if buyer_evidence else (*PERSONAS[1:], PERSONAS[0])
    best = max(order, key=lambda p: (s[p], -order.index(p)))
    positive = sum(v for v in s.values() if v > 0)
    confidence = s[best] / positive if positive else 0.25
    evidence = ev[best] or ["no usage, meeting, title or CRM role evidence: a product user by default"]
    return PersonaResult(f.email, best, confidence, evidence, s)


def gather_features(session: Session, emails: Iterable[str], as_of: datetime,
                    window_days: int = WINDOW_DAYS) -> dict[str, ContactFeatures]:
    """Features for the given contacts from the usage rollup and meeting attendance (set-based)."""
    emails = list(dict.fromkeys(emails))
    start = day_of(as_of) - timedelta(days=window_days)
    end = day_of(as_of)
    feats: dict[str, ContactFeatures] = {}
    for i in range(0, len(emails), 5000):
        chunk = emails[i : i + 5000]
        for email, title, role in session.execute(
            select(m.Contact.email, m.Contact.title, m.Contact.crm_role).where(m.Contact.email.in_(chunk))
        ):
            feats[email] = ContactFeatures(email, title, role)
        for email, event, days, total in session.execute(
            select(m.UsageDaily.contact_email, m.UsageDaily.event, func.count(m.UsageDaily.day),
                   func.sum(m.UsageDaily.count))
            .where(m.UsageDaily.contact_email.in_(chunk), m.UsageDaily.day > start, m.UsageDaily.day <= end)
            .group_by(m.UsageDaily.contact_email, m.UsageDaily.event)
        ):
            f = feats.setdefault(email, ContactFeatures(email))
            f.events[event] = int(total or 0)
            f.event_days[event] = int(days)
        for email, days, last in session.execute(
            select(m.UsageDaily.contact_email, func.count(func.distinct(m.UsageDaily.day)), func.max(m.UsageDaily.day))
            .where(m.UsageDaily.contact_email.in_(chunk), m.UsageDaily.day > start, m.UsageDaily.day <= end)
            .group_by(m.UsageDaily.contact_email)
        ):
            f = feats.setdefault(email, ContactFeatures(email))
            f.active_days = int(days)
            f.last_active = last
        meeting_since = as_of - timedelta(days=MEETING_LOOKBACK_DAYS)
        for email, kind, n in session.execute(
            select(m.MeetingAttendee.email, m.Meeting.kind, func.count())
            .join(m.Meeting, m.Meeting.meeting_id == m.MeetingAttendee.meeting_id)
            .where(m.MeetingAttendee.email.in_(chunk), m.Meeting.kind.in_(("renewal", "qbr")),
                   m.Meeting.occurred_at > meeting_since, m.Meeting.occurred_at <= as_of)
            .group_by(m.MeetingAttendee.email, m.Meeting.kind)
        ):
            f = feats.setdefault(email, ContactFeatures(email))
            if kind == "renewal":
                f.renewal_meetings = int(n)
            else:
                f.qbr_meetings = int(n)
    return feats


def infer_personas(session: Session, emails: Iterable[str], as_of: datetime,
                   window_days: int = WINDOW_DAYS) -> dict[str, PersonaResult]:
    feats = gather_features(session, emails, as_of, window_days)
    return {email: _score(f, window_days) for email, f in feats.items()}


def _audit_token(session: Session) -> int:
    """The newest audit entry's id (read on every cached persona lookup: plain SQL on the driver)."""
    return int(driver_rows(session, f"SELECT max(id) FROM {m.AuditLog.__tablename__}")[0][0] or 0)


def _usage_written_since(session: Session, token: int) -> bool:
    """Did a usage hook add rows after audit entry `token`? (store_usage audits every write it makes)"""
    return session.scalar(select(m.AuditLog.id).where(m.AuditLog.id > token, m.AuditLog.action == "hook_usage")
                          .limit(1)) is not None


def infer_persona_cached(session: Session, email: str, as_of: datetime, cache: dict[Any, Any],
                         window_days: int = WINDOW_DAYS) -> PersonaResult | None:
    """`infer_personas` for one contact, its reads kept in `cache` per UTC day (the caller's: the graph
    index's memo, dropped when an import runs). Usage windows are whole days; the meeting window ends at
    `as_of` itself, so the day's renewal/QBR times are kept and counted per call. Usage written by a hook
    since (`store_usage`, audited as hook_usage) makes the entry stale."""
    day = day_of(as_of)
    key = ("persona", email, day, window_days)
    token = _audit_token(session)
    entry = cache.get(key)
    if entry is not None and entry[0] != token:
        entry = None if _usage_written_since(session, entry[0]) else (token, *entry[1:])
        if entry is not None:
            cache[key] = entry
    if entry is None:
        feats = gather_features(session, [email], as_of, window_days).get(email)
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        times = [(kind, utc(at)) for kind, at in session.execute(
            select(m.Meeting.kind, m.Meeting.occurred_at)
            .join(m.MeetingAttendee, m.Meeting.meeting_id == m.MeetingAttendee.meeting_id)
            .where(m.MeetingAttendee.email == email, m.Meeting.kind.in_(("renewal", "qbr")),
                   m.Meeting.occurred_at > start - timedelta(days=MEETING_LOOKBACK_DAYS),
                   m.Meeting.occurred_at < start + timedelta(days=1)))]
        entry = (token, feats, times, {})
        cache[key] = entry
    feats, times = entry[1], entry[2]
    if feats is None:
        return None
    since = as_of - timedelta(days=MEETING_LOOKBACK_DAYS)
    kinds = [kind for kind, at in times if since < at <= as_of]
    counts = (kinds.count("renewal"), kinds.count("qbr"))
    # The score is a function of the entry's features and these counts: computed once per counts.
    scored: dict[tuple[int, int], PersonaResult] = entry[3]
    if counts not in scored:
        scored[counts] = _score(replace(feats, renewal_meetings=counts[0], qbr_meetings=counts[1]), window_days)
    return scored[counts]


def account_personas(session: Session, account_id: str, as_of: datetime) -> list[PersonaResult]:
    if session.get(m.Account, account_id) is None:
        raise NotFoundError(f"no account with account_id {account_id!r}")
    emails = list(session.scalars(select(m.Contact.email).where(m.Contact.account_id == account_id)
                                  .order_by(m.Contact.email)))
    results = infer_personas(session, emails, as_of)
    return [results[e] for e in emails]
