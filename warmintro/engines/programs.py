"""The employee program (issue 13): whom an employee could refer, from their own employment history.

A suggestion is a former colleague (employment.csv: the same company, tenures overlapping) who now works at
a company that fits the ICP (people.csv industry and company size, the company facets of the ICP), and who
is not blocked (same domain, customer, do-not-contact, competitor), not at the vendor and not referred
already. Customer-facing employees (CSMs, AEs, SDRs) come first in the team list, then RevOps and admins,
then everyone else (the seeds: customer-facing first, then technical, then everyone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.engines.timeutil import utc
from warmintro.store import models as m

ROLE_ORDER = {"csm": 0, "ae": 0, "sdr": 0, "revops": 1, "admin": 1, "employee": 2}
CUSTOMER_FACING = ("csm", "ae", "sdr")


@dataclass(frozen=True)
class _Stint:
    email: str
    company: str
    domain: str | None
    title: str | None
    start: datetime
    end: datetime | None


def _key(company: str, domain: str | None) -> str:
    return (domain or "").strip().lower() or company.strip().lower()


def _stints(session: Session, **where: Any) -> list[_Stint]:
    q = select(m.Employment)
    for col, value in where.items():
        q = q.where(getattr(m.Employment, col) == value)
    return [_Stint(e.email, e.company, e.domain, e.title, utc(e.start), utc(e.end) if e.end else None)
            for e in session.scalars(q.order_by(m.Employment.email, m.Employment.start, m.Employment.id))]


def employee_suggestions(session: Session, email: str, as_of: datetime, *, limit: int = 5) -> dict[str, Any]:
    from warmintro.engines.ledger import block_reason, domain_of
    from warmintro.engines.partners import icp_fit
    from warmintro.program import load_program

    as_of = utc(as_of)
    email = email.strip().lower()
    program = load_program(session)
    vendor = program.vendor.domain
    member = session.get(m.TeamMember, email)
    mine = [s for s in _stints(session, email=email) if s.start <= as_of and _key(s.company, s.domain) != vendor]
    referred = set(session.scalars(select(m.Referral.referee_email)))
    best: dict[str, dict[str, Any]] = {}
    excluded: dict[str, str] = {}
    for stint in mine:
        key = _key(stint.company, stint.domain)
        my_end = stint.end or as_of
        pool = (_stints(session, domain=stint.domain) if stint.domain else _stints(session, company=stint.company))
        for other in pool:
            if other.email == email or _key(other.company, other.domain) != key:
                continue
            overlap = (min(my_end, other.end or as_of) - max(stint.start, other.start)).days
            if overlap <= 0 or other.email in best:
                continue
            now = [s for s in _stints(session, email=other.email) if s.end is None and s.start <= as_of]
            current = max(now, key=lambda s: s.start) if now else None
            if current is None:
                continue
            cur_domain = (current.domain or domain_of(other.email)).lower()
            if cur_domain == vendor:
                excluded.setdefault(other.email, "works_here")
                continue
            blocked = block_reason(session, program, email, other.email)
            if blocked:
                excluded.setdefault(other.email, blocked[0])
                continue
            if other.email in referred:
                excluded.setdefault(other.email, "already_referred")
                continue
            person = session.get(m.Person, other.email)
            industry = person.industry if person else None
            size = float(person.company_employees) if person and person.company_employees is not None else None
            fit = icp_fit(program.icp, industry, size)
            if not fit["passes"]:
                excluded.setdefault(other.email, "outside_icp")
                continue
            years = overlap / 365.25
            score = round(0.5 * min(1.0, overlap / (3 * 365)) + 0.5 * fit["fit"], 4)
            title = (person.title if person else None) or current.title
            best[other.email] = {
                "email": other.email, "name": person.name if person else other.email, "company": current.company,
                "domain": cur_domain, "title": title, "score": score,
                "reasons": [f"worked with you at {stint.company} ({max(stint.start, other.start).year}-"
                            f"{min(my_end, other.end or as_of).year}, {years:.1f} years together)",
                            f"now {title or 'there'} at {current.company}: " + ", ".join(fit["matched"])],
            }
    ranked = sorted(best.values(), key=lambda x: (-x["score"], x["email"]))[:limit]
    for e in best:
        excluded.pop(e, None)
    return {"employee": email, "role": member.role if member else None,
            "customer_facing": bool(member and member.role in CUSTOMER_FACING), "suggestions": ranked,
            "excluded": [{"email": e, "reason": r} for e, r in sorted(excluded.items())]}


def team_suggestions(session: Session, as_of: datetime, *, limit: int = 5) -> list[dict[str, Any]]:
    """Suggestions for every vendor employee with some, customer-facing employees first."""
    members = sorted((t for t in session.scalars(select(m.TeamMember)) if t.role in ROLE_ORDER),
                     key=lambda t: (ROLE_ORDER[t.role], t.email))
    out = []
    for t in members:
        got = employee_suggestions(session, t.email, as_of, limit=limit)
        if got["suggestions"]:
            out.append(got)
    return out
