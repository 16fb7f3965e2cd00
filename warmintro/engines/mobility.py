"""Champion mobility: a known champion (a customer contact) who now works somewhere else.

A move is a current employment row (started on or before the as-of time, not ended by it) at a domain
other than the contact's account domain (and a company other than the account's) that started after
their latest row at the account — or, when employment.csv has no row at the account, after the
account's `customer_since`. The new company is checked against the ICP (industry and size, from the
accounts, people and employment data for its domain); a competitor or the vendor itself never fits.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmintro.engines.graph import normalise_company, normalise_domain
from warmintro.engines.targets import company_icp_check
from warmintro.program import load_program
from warmintro.store import models as m


@dataclass
class Move:
    email: str
    name: str
    from_account_id: str
    from_company: str
    to_company: str
    to_domain: str | None
    since: datetime
    icp_fit: bool
    reasons: list[str]
    title: str | None = None
    to_is_customer: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email, "name": self.name, "from_account_id": self.from_account_id,
            "from_company": self.from_company, "to_company": self.to_company, "to_domain": self.to_domain,
            "since": _iso(self.since), "icp_fit": self.icp_fit, "reasons": self.reasons, "title": self.title,
            "to_is_customer": self.to_is_customer,
        }


@dataclass
class MobilityResult:
    moves: list[Move]

    def to_json(self) -> dict[str, Any]:
        return {"moves": [mv.to_json() for mv in self.moves]}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _same_org(domain: str | None, company: str | None, acc_domain: str | None, acc_name: str | None) -> bool:
    d = normalise_domain(domain)
    if d and acc_domain:
        return d == acc_domain or d.endswith("." + acc_domain)
    return bool(company) and normalise_company(company) == normalise_company(acc_name)


def _profiles(session: Session, domains: list[str]) -> dict[str, tuple[str | None, float | None, str | None, str | None]]:
    """domain -> (company, employees, industry, customer account id) from accounts, then people."""
    out: dict[str, tuple[str | None, float | None, str | None, str | None]] = {}
    for i in range(0, len(domains), 500):
        chunk = domains[i : i + 500]
        sizes: dict[str, list[float]] = defaultdict(list)
        industries: dict[str, Counter[str]] = defaultdict(Counter)
        names: dict[str, Counter[str]] = defaultdict(Counter)
        for dom_, company, size, industry in session.execute(
                select(m.Person.domain, m.Person.company, m.Person.company_employees, m.Person.industry)
                .where(m.Person.domain.in_(chunk))):
            dom = str(dom_)
            if size is not None:
                sizes[dom].append(float(size))
            if industry:
                industries[dom][industry] += 1
            if company:
                names[dom][company] += 1
        for dom in chunk:
            median: float | None = statistics.median(sizes[dom]) if sizes[dom] else None
            out[dom] = (
                names[dom].most_common(1)[0][0] if names[dom] else None,
                median,
                industries[dom].most_common(1)[0][0] if industries[dom] else None,
                None,
            )
        for acc in session.scalars(select(m.Account).where(m.Account.domain.in_(chunk))):
            company, known_size, industry, _ = out[acc.domain]
            live = (acc.lifecycle_stage or "") != "churned"
            out[acc.domain] = (acc.name or company, float(acc.employees) if acc.employees is not None else known_size,
                               acc.industry or industry, acc.account_id if live else None)
    return out


def find_moves(session: Session, *, as_of: datetime | None = None) -> MobilityResult:
    """Every customer contact whose employment shows they have moved to another company."""
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    program = load_program(session)
    icp = program.icp
    vendor = normalise_domain(program.vendor.domain)
    rows = session.execute(
        select(m.Contact.email, m.Contact.name, m.Contact.do_not_contact, m.Account.account_id, m.Account.name,
               m.Account.domain, m.Account.customer_since, m.Employment.company, m.Employment.domain,
               m.Employment.title, m.Employment.start, m.Employment.end)
        .join(m.Account, m.Account.account_id == m.Contact.account_id)
        .join(m.Employment, m.Employment.email == m.Contact.email)
        .where(m.Employment.start <= as_of)
        .order_by(m.Contact.email, m.Employment.start)
    ).all()
    by_contact: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_contact[r[0]].append(r)

    found: list[tuple[Any, Any]] = []  # (contact row, new job row)
    for jobs in by_contact.values():
        acc_domain, acc_name, customer_since = normalise_domain(jobs[0][5]), jobs[0][4], jobs[0][6]
        old = [j for j in jobs if _same_org(j[8], j[7], acc_domain, acc_name)]
        after = max(j[10] for j in old) if old else customer_since
        if after is None:
            continue
        new = [j for j in jobs if not _same_org(j[8], j[7], acc_domain, acc_name)
               and (j[11] is None or j[11] > as_of) and j[10] > after]
        if new:
            found.append((jobs[0], max(new, key=lambda j: j[10])))

    domains = sorted({d for _, j in found if (d := normalise_domain(j[8]))})
    profiles = _profiles(session, domains)
    moves: list[Move] = []
    for c, job in found:
        email, name, dnc, account_id, acc_name = c[0], c[1], c[2], c[3], c[4]
        to_domain = normalise_domain(job[8])
        company, size, industry, customer_id = profiles.get(to_domain or "", (None, None, None, None))
        to_company = job[7] or company or to_domain or "?"
        since: datetime = job[10]
        reasons = [f"Left {acc_name} for {to_company} ({since:%b %Y})"
                   + (f", now {job[9]}" if job[9] else "")]
        old_still_open = any(
            _same_org(j[8], j[7], normalise_domain(c[5]), acc_name) and (j[11] is None or j[11] > as_of)
            for j in by_contact[email])
        if old_still_open:
            reasons.append(f"Still listed at {acc_name} too: check before reaching out")
        check = company_icp_check(icp, industry, size)
        fit = check.passes
        if to_domain and any(to_domain == d or to_domain.endswith("." + d) for d in icp.exclude_domains):
            fit = False
            reasons.append(f"{to_company} is a competitor")
        elif vendor and to_domain and (to_domain == vendor or to_domain.endswith("." + vendor)):
            fit = False
            reasons.append(f"{to_company} is the vendor itself")
        elif check.passes:
            bits = ", ".join(check.matched)
            reasons.append(f"{to_company} fits the ICP" + (f" ({bits})" if bits else ""))
        else:
            reasons.append(f"{to_company} is outside the ICP: " + "; ".join(check.failed))
        if customer_id:
            reasons.append(f"{to_company} is already a customer ({customer_id}): an expansion, not a new logo")
        elif fit:
            reasons.append(f"A new-logo opening: {name} already knows the product from {acc_name}")
        if dnc:
            reasons.append(f"{name} is marked do-not-contact")
        moves.append(Move(
            email=email, name=name, from_account_id=account_id, from_company=acc_name, to_company=to_company,
            to_domain=to_domain, since=since, icp_fit=fit, reasons=reasons, title=job[9],
            to_is_customer=customer_id is not None,
        ))
    moves.sort(key=lambda mv: (-mv.since.timestamp(), mv.email))
    return MobilityResult(moves)
