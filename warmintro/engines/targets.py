"""Pre-loaded targets: the 3-5 people in a champion's own network worth naming in the ask.

Candidates are the champion's direct ties in the relationship graph (`warmintro.engines.graph`). Each is
either excluded for one reason — the first that applies of same_domain, customer, do_not_contact,
competitor, recently_referred, outside_icp (docs/rules.md, "Targets"), the others listed in `also` — or
ranked by

    score = 0.5 * tie strength + 0.3 * ICP fit + 0.2 * persona fit

where ICP fit is the share of the ICP's facets the person matches (the hard facets must all match to
be eligible; title keywords only add) and persona fit follows the champion's persona: economic buyers
-> executive peers (director/vp/cxo) at similar-size companies; product and power users ->
practitioners in their own function; administrators -> peer admins in IT/RevOps/Ops.
The vendor's own team (team.csv) and people at the vendor's domain are not candidates at all.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from warmintro.engines.graph import GraphIndex, email_domain, get_graph, normalise_domain
from warmintro.errors import NotFoundError
from warmintro.program import ICP, load_program
from warmintro.store import models as m
from warmintro.store.db import core_execute

EXCLUSION_ORDER: tuple[str, ...] = (
    "same_domain", "customer", "do_not_contact", "competitor", "recently_referred", "outside_icp",
)
RECENTLY_REFERRED_DAYS = 90
PERSONAS = ("economic_buyer", "product_user", "power_user", "administrator")
W_STRENGTH, W_ICP, W_PERSONA = 0.5, 0.3, 0.2
CHUNK = 500

# ---------------------------------------------------------------------------------------------------
# Title reading (used when people.csv has no seniority/function)

_SENIORITY_RULES: tuple[tuple[str, str], ...] = (
    ("cxo", r"\b(chief|ceo|coo|cfo|cto|cio|cmo|cro|cpo|founder|co-founder|owner|president|partner)\b"),
    ("vp", r"\b(vp|svp|evp|avp|vice president|head of|gm|general manager)\b"),
    ("director", r"\bdirector\b"),
    ("manager", r"\b(manager|lead|supervisor|team lead)\b"),
)
_FUNCTION_RULES: tuple[tuple[str, str], ...] = (
    ("revops", r"\b(revops|revenue operations|sales operations|sales ops|rev ops|salesforce admin|crm)\b"),
    ("it", r"\b(it|information technology|systems|sysadmin|infrastructure|helpdesk|cio)\b"),
    ("cs", r"\b(customer success|cs|customer experience|support|account management)\b"),
    ("ops", r"\b(operations|ops|logistics|supply chain|dispatch|fulfil?ment|procurement|coo)\b"),
    ("finance", r"\b(finance|financial|controller|accounting|cfo|treasury)\b"),
    ("marketing", r"\b(marketing|brand|growth|demand gen|cmo|communications)\b"),
    ("sales", r"\b(sales|account executive|business development|bdr|sdr|cro)\b"),
    ("engineering", r"\b(engineer|engineering|developer|software|cto|architect)\b"),
    ("product", r"\b(product|cpo)\b"),
    ("hr", r"\b(hr|human resources|people|talent|recruit\w*)\b"),
)
_ADMIN_TITLE = re.compile(r"\b(admin|administrator|systems|platform|tooling|revops|operations|ops)\b", re.I)


@functools.lru_cache(maxsize=65_536)
def infer_seniority(title: str | None) -> str | None:
    if not title:
        return None
    t = title.lower()
    for level, pattern in _SENIORITY_RULES:
        if re.search(pattern, t):
            return level
    return "ic"


@functools.lru_cache(maxsize=65_536)
def infer_function(title: str | None) -> str | None:
    if not title:
        return None
    t = title.lower()
    for fn, pattern in _FUNCTION_RULES:
        if re.search(pattern, t):
            return fn
    return None


# ---------------------------------------------------------------------------------------------------
# Facts about a person and the ICP check

@dataclass
class PersonFacts:
    email: str
    name: str | None = None
    company: str | None = None
    domain: str | None = None
    title: str | None = None
    seniority: str | None = None
    function: str | None = None
    industry: str | None = None
    employees: float | None = None
    location: str | None = None


@dataclass
class IcpResult:
    passes: bool
    fit: float  # share of the given facets matched (title keywords included), 0..1
    matched: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # readable: "industry Software is not in the ICP"
    title_keyword: str | None = None


def _fmt_int(x: float | None) -> str:
    return f"{int(x):,}" if x is not None and not math.isnan(x) else "?"


def _norm(s: str | None) -> str:
    return (s or "").strip().lower()


@functools.lru_cache(maxsize=256)
def _norm_set(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_norm(v) for v in values)


@functools.lru_cache(maxsize=256)
def _whole_words(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(word, its whole-word case-insensitive pattern) per non-blank word, in order: compiled once per ICP."""
    return tuple((w, re.compile(r"(?<!\w)" + re.escape(w.strip()) + r"(?!\w)", re.I)) for w in words if w.strip())


def _any_word(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern matching where any of `_whole_words(words)` matches (None: no non-blank word)."""
    alternatives = "|".join(re.escape(w.strip()) for w in words if w.strip())
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)", re.I) if alternatives else None


def location_matches(wanted: Sequence[str], location: str | None) -> bool:
    """Whole-word, case-insensitive: ICP 'TX' matches 'Austin, TX' but 'CO' does not match 'Chicago'."""
    if not location:
        return False
    return any(p.search(location) for _w, p in _whole_words(tuple(wanted)))


def company_icp_check(icp: ICP, industry: str | None, employees: float | None) -> IcpResult:
    """The company facets only (industry, size): for mobility and company-level checks."""
    return _check(_spec_of(icp), PersonFacts(email="", industry=industry, employees=employees), company_only=True)


def icp_check(icp: ICP, p: PersonFacts) -> IcpResult:
    """Does the person fit the ICP? Every facet the ICP gives (industry, size, function, seniority,
    location) must be known and match; title keywords are a bonus, not a requirement."""
    return _check(_spec_of(icp), p, company_only=False)


@dataclass(frozen=True)
class _IcpSpec:
    """An ICP's facets in the form `_check` reads them (sets and compiled patterns), built once per ICP."""

    industries: frozenset[str] | None
    size: tuple[float, float] | None
    functions: frozenset[str] | None
    seniorities: frozenset[str] | None
    locations: re.Pattern[str] | None  # any of the words, whole-word (one search, not one per word)
    title_keywords: tuple[tuple[str, re.Pattern[str]], ...] | None
    any_keyword: re.Pattern[str] | None  # any title keyword: most titles match none, so one search decides


_specs: dict[int, tuple[ICP, _IcpSpec]] = {}


def _spec_of(icp: ICP) -> _IcpSpec:
    hit = _specs.get(id(icp))
    # The ICP is kept with its entry, so its id cannot be reused while the entry lives; a program
    # reloaded (another ICP object) gets its own entry. Facets are read at build time: ICPs are not edited.
    if hit is not None and hit[0] is icp:
        return hit[1]
    has_size = icp.employees_min is not None or icp.employees_max is not None
    spec = _IcpSpec(
        industries=_norm_set(tuple(icp.industries)) if icp.industries else None,
        size=((icp.employees_min if icp.employees_min is not None else 0),
              (icp.employees_max if icp.employees_max is not None else math.inf)) if has_size else None,
        functions=_norm_set(tuple(icp.functions)) if icp.functions else None,
        seniorities=_norm_set(tuple(icp.seniorities)) if icp.seniorities else None,
        locations=_any_word(tuple(icp.locations)),
        title_keywords=_whole_words(tuple(icp.title_keywords)) if icp.title_keywords else None,
        any_keyword=_any_word(tuple(icp.title_keywords)),
    )
    if len(_specs) >= 64:
        _specs.clear()
    _specs[id(icp)] = (icp, spec)
    return spec


def _check(spec: _IcpSpec, p: PersonFacts, *, company_only: bool) -> IcpResult:
    matched: list[str] = []
    failed: list[str] = []
    if spec.industries is not None:
        if not p.industry:
            failed.append("industry unknown")
        elif _norm(p.industry) in spec.industries:
            matched.append(p.industry)
        else:
            failed.append(f"industry {p.industry} is not in the ICP")
    if spec.size is not None:
        lo, hi = spec.size
        if p.employees is None or math.isnan(p.employees):
            failed.append("company size unknown")
        elif lo <= p.employees <= hi:
            matched.append(f"{_fmt_int(p.employees)} employees")
        else:
            failed.append(f"{_fmt_int(p.employees)} employees is outside {lo:,}-"
                          f"{'any' if hi == math.inf else f'{int(hi):,}'}")
    if not company_only:
        if spec.functions is not None:
            if not p.function:
                failed.append("function unknown")
            elif p.function in spec.functions:
                matched.append(f"{p.function} function")
            else:
                failed.append(f"function {p.function} is not in the ICP")
        if spec.seniorities is not None:
            if not p.seniority:
                failed.append("seniority unknown")
            elif p.seniority in spec.seniorities:
                matched.append(f"{p.seniority} seniority")
            else:
                failed.append(f"seniority {p.seniority} is not in the ICP")
        if spec.locations is not None:
            location = p.location
            if location and spec.locations.search(location):
                matched.append(str(location))
            else:
                failed.append(f"location {location} is not in the ICP" if location else "location unknown")
    given = len(matched) + len(failed)
    keyword = None
    if spec.title_keywords is not None and not company_only:
        given += 1
        title = _norm(p.title)
        if spec.any_keyword is not None and spec.any_keyword.search(title):
            keyword = next((k for k, pattern in spec.title_keywords if pattern.search(title)), None)
    hits = len(matched) + (1 if keyword else 0)
    fit = hits / given if given else 1.0
    return IcpResult(passes=not failed, fit=fit, matched=matched, failed=failed, title_keyword=keyword)


# ---------------------------------------------------------------------------------------------------
# Persona fit

_EXEC_SCORE = {"cxo": 1.0, "vp": 1.0, "director": 0.8, "manager": 0.3, "ic": 0.1}
_PRACTITIONER_SCORE = {"ic": 1.0, "manager": 1.0, "director": 0.8, "vp": 0.4, "cxo": 0.2}
ADMIN_FUNCTIONS = ("it", "revops", "ops")


def size_similarity(a: float | None, b: float | None) -> float | None:
    """1 for the same size, 0.37 for ten times bigger or smaller; None when either is unknown."""
    if not a or not b or math.isnan(a) or math.isnan(b):
        return None
    return math.exp(-abs(math.log10(a) - math.log10(b)))


def persona_fit(persona: str | None, champion: PersonFacts, target: PersonFacts) -> tuple[float, str | None]:
    """How well the target suits what this champion can credibly ask of: (0..1, a readable reason)."""
    first = (champion.name or champion.email).split()[0]
    if persona == "economic_buyer":
        sen = _EXEC_SCORE.get(target.seniority or "", 0.3)
        sim = size_similarity(champion.employees, target.employees)
        fit = 0.6 * sen + 0.4 * (0.5 if sim is None else sim)
        if sen >= 0.8:
            if sim is not None and sim >= 0.5:
                return fit, (f"executive peer ({target.seniority}) at a similar-size company "
                             f"({_fmt_int(target.employees)} vs {_fmt_int(champion.employees)} employees), "
                             f"the kind of intro an economic buyer like {first} makes")
            return fit, f"executive peer ({target.seniority}), the kind of intro an economic buyer makes"
        return fit, None
    if persona in ("product_user", "power_user"):
        same = 1.0 if champion.function and target.function == champion.function else 0.0
        prac = _PRACTITIONER_SCORE.get(target.seniority or "", 0.5)
        fit = 0.7 * same + 0.3 * prac
        if same:
            return fit, f"practitioner in {target.function}, {first}'s own function"
        return fit, None
    if persona == "administrator":
        fn = 1.0 if target.function in ADMIN_FUNCTIONS else 0.0
        admin = 1.0 if _ADMIN_TITLE.search(target.title or "") else 0.0
        fit = 0.7 * fn + 0.3 * admin
        if fn:
            label = {"it": "IT", "revops": "RevOps", "ops": "Ops"}.get(target.function or "", target.function)
            return fit, f"peer in {label} who runs systems, like {first}"
        return fit, None
    return 0.5, None


@dataclass(frozen=True)
class ChampionRow:
    """The champion's own imported rows that `find_targets` reads (contacts, accounts, people): the
    importer alone writes them, so they are kept with the graph index until the next import."""

    is_contact: bool = False
    name: str | None = None
    title: str | None = None
    crm_role: str | None = None
    has_account: bool = False
    account_domain: str | None = None
    account_name: str | None = None
    account_employees: int | None = None
    is_person: bool = False  # read only for a champion who is neither a contact nor in the graph


def _read_champion(session: Session, email: str, in_graph: bool) -> ChampionRow:
    contact = session.scalar(select(m.Contact).where(m.Contact.email == email))
    if contact is None:
        return ChampionRow(is_person=not in_graph and session.get(m.Person, email) is not None)
    account = session.get(m.Account, contact.account_id)
    if account is None:
        return ChampionRow(is_contact=True, name=contact.name, title=contact.title, crm_role=contact.crm_role)
    return ChampionRow(is_contact=True, name=contact.name, title=contact.title, crm_role=contact.crm_role,
                       has_account=True, account_domain=account.domain, account_name=account.name,
                       account_employees=account.employees)


def _memoised(memo: dict[Any, Any] | None, key: Any, read: Callable[[], Any]) -> Any:
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def _champion_persona(session: Session, email: str, row: ChampionRow, facts: PersonFacts, as_of: datetime,
                      memo: dict[Any, Any] | None) -> tuple[str | None, str]:
    """The champion's persona: from the personas engine (usage, meetings, title, CRM role) for a customer
    contact; else the CRM role; else the title (admin -> administrator; director and above -> economic
    buyer; anyone else with a title -> product user)."""
    if row.is_contact:
        from warmintro.engines.personas import infer_persona_cached, infer_personas

        result = (infer_personas(session, [email], as_of).get(email) if memo is None
                  else infer_persona_cached(session, email, as_of, memo))
        if result is not None and result.persona in PERSONAS:
            return result.persona, "personas engine"
        if row.crm_role in PERSONAS:
            return row.crm_role, "crm_role"
    title = facts.title or ""
    if re.search(r"\badmin(istrator)?\b", title, re.I):
        return "administrator", "title"
    if facts.seniority in ("director", "vp", "cxo"):
        return "economic_buyer", "title"
    if title:
        return "product_user", "title"
    return None, "unknown"


# ---------------------------------------------------------------------------------------------------
# Loading facts for a batch of people (indexed lookups only)

def _chunks(items: Sequence[Any], n: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def load_facts(session: Session, graph: GraphIndex, pids: Sequence[int], as_of: datetime) -> dict[int, PersonFacts]:
    """Facts for the given people: people.csv, their current employment and the domain's profile."""
    emails = [graph.emails[p] for p in pids]
    people: dict[str, m.Person] = {}
    current: dict[str, m.Employment] = {}
    for chunk in _chunks(emails):
        for row_person in session.scalars(select(m.Person).where(m.Person.email.in_(chunk))):
            people[row_person.email] = row_person
        rows = session.scalars(select(m.Employment).where(
            m.Employment.email.in_(chunk), m.Employment.start <= as_of,
            or_(m.Employment.end.is_(None), m.Employment.end > as_of)))
        for row in rows:
            old = current.get(row.email)
            # equal starts: the first row in table (id) order, whichever index the rows came through
            if old is None or row.start > old.start or (row.start == old.start and row.id < old.id):
                current[row.email] = row
    out: dict[int, PersonFacts] = {}
    for pid, email in zip(pids, emails, strict=True):
        person = people.get(email)
        job = current.get(email)
        domain = graph.org_domain[pid]
        profile = graph.domain_profile.get(domain or "", (None, None, None))
        person_here = person is not None and (person.domain is None or person.domain == domain)
        title = (job.title if job is not None and job.title else None) or (person.title if person else None)
        seniority = person.seniority if person_here and person and person.seniority else infer_seniority(title)
        function = person.function if person_here and person and person.function else infer_function(title)
        industry = person.industry if person_here and person and person.industry else profile[2]
        employees: float | None = None
        if person_here and person and person.company_employees is not None:
            employees = float(person.company_employees)
        elif profile[1] is not None and not math.isnan(profile[1]):
            employees = float(profile[1])
        out[pid] = PersonFacts(
            email=email, name=graph.names[pid], company=graph.org_company[pid] or profile[0], domain=domain,
            title=title, seniority=seniority, function=function, industry=industry, employees=employees,
            location=person.location if person else None,
        )
    return out


def _epoch_us(when: datetime) -> int:
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def column_facts(graph: GraphIndex, pids: Sequence[int], as_of: datetime) -> dict[int, PersonFacts]:
    """`load_facts` from the index's candidate columns (no queries): the same facts, gathered from arrays."""
    cols = graph.candidates
    if cols is None:
        raise ValueError("this graph carries no candidate columns; use load_facts")
    if not pids:
        return {}
    at = np.asarray(pids, dtype=np.int64)
    # The current job: the first (newest-start) employment row of each person that is open at as_of.
    lo, hi = cols.job_indptr[at], cols.job_indptr[at + 1]
    lengths = hi - lo
    job_titles: list[str | None] = [None] * len(at)
    if lengths.sum():
        owner = np.repeat(np.arange(len(at)), lengths)
        idx = np.repeat(lo - np.cumsum(np.concatenate(([0], lengths[:-1]))), lengths) + np.arange(lengths.sum())
        t = _epoch_us(as_of)
        open_ = (cols.job_start[idx] <= t) & (cols.job_end[idx] > t)
        owner, idx = owner[open_], idx[open_]
        first = np.concatenate(([True], owner[1:] != owner[:-1])) if len(owner) else np.zeros(0, dtype=bool)
        for o, title in zip(owner[first].tolist(), cols.job_title.take(idx[first]), strict=True):
            job_titles[o] = title
    here = cols.here[at].tolist()
    columns = zip(at.tolist(), job_titles, here, cols.title.take(at), cols.seniority.take(at),
                  cols.function.take(at), cols.industry.take(at), cols.location.take(at),
                  cols.employees[at].tolist(), strict=True)
    out: dict[int, PersonFacts] = {}
    for pid, job_title, is_here, p_title, p_seniority, p_function, p_industry, location, p_employees in columns:
        domain = graph.org_domain[pid]
        profile = graph.domain_profile.get(domain or "", (None, None, None))
        title = job_title or p_title
        employees: float | None = None
        if is_here and not math.isnan(p_employees):
            employees = float(p_employees)
        elif profile[1] is not None and not math.isnan(profile[1]):
            employees = float(profile[1])
        out[pid] = PersonFacts(
            email=graph.emails[pid], name=graph.names[pid], company=graph.org_company[pid] or profile[0],
            domain=domain, title=title,
            seniority=p_seniority if is_here and p_seniority else infer_seniority(title),
            function=p_function if is_here and p_function else infer_function(title),
            industry=p_industry if is_here and p_industry else profile[2],
            employees=employees, location=location,
        )
    return out


@functools.lru_cache(maxsize=65_536)
def _domain_in(domain: str | None, domains: tuple[str, ...]) -> bool:
    """Is `domain` one of `domains` or a subdomain of one? Cached: a champion's candidates share a few domains."""
    if not domain:
        return False
    return any(domain == d or domain.endswith("." + d) for d in domains if d)


# ---------------------------------------------------------------------------------------------------
# Results

@dataclass
class Target:
    email: str
    name: str | None
    company: str | None
    title: str | None
    score: float
    reasons: list[str]
    kind: str
    strength: float
    evidence: list[str]
    icp_fit: float
    persona_fit: float

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email, "name": self.name, "company": self.company, "title": self.title,
            "score": self.score, "reasons": self.reasons,
            "relationship": {"kind": self.kind, "strength": self.strength, "evidence": self.evidence},
            "icp_fit": self.icp_fit, "persona_fit": self.persona_fit,
        }


@dataclass
class Excluded:
    email: str
    reason: str
    also: list[str]
    detail: str
    strength: float

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "reason": self.reason, "also": self.also, "detail": self.detail}


@dataclass
class TargetsResult:
    champion: str
    persona: str | None
    persona_source: str
    targets: list[Target]
    excluded: list[Excluded]

    def to_json(self) -> dict[str, Any]:
        return {
            "champion": self.champion, "persona": self.persona, "persona_source": self.persona_source,
            "targets": [t.to_json() for t in self.targets], "excluded": [e.to_json() for e in self.excluded],
        }


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# ---------------------------------------------------------------------------------------------------
# Exclusion facts: from the index's columns, or (a graph without them) from the store

def _column_exclusions(graph: GraphIndex, pids: Sequence[int], facts: dict[int, PersonFacts], since: datetime,
                       as_of: datetime) -> tuple[frozenset[str] | set[str], set[str], dict[str, str]]:
    cols = graph.candidates
    assert cols is not None
    at = np.asarray(pids, dtype=np.int64)
    dnc = {graph.emails[int(p)] for p in at[cols.do_not_contact[at]]} if len(at) else set()
    domains = {f.domain for f in facts.values() if f.domain}
    referred_domains: dict[str, str] = {}
    if domains and len(cols.referral_created):
        created = cols.referral_created
        for i in np.flatnonzero((created > _epoch_us(since)) & (created <= _epoch_us(as_of))).tolist():
            if cols.referral_domain[i] in domains:
                referred_domains[cols.referral_domain[i]] = cols.referral_text[i]
    return cols.customer_domains, dnc, referred_domains


def _stored_exclusions(session: Session, facts: dict[int, PersonFacts], emails: list[str], since: datetime,
                       as_of: datetime) -> tuple[set[str], set[str], dict[str, str]]:
    domains = sorted({f.domain for f in facts.values() if f.domain})
    customer_domains: set[str] = set()
    dnc: set[str] = set()
    referred_domains: dict[str, str] = {}
    for chunk in _chunks(domains):
        customer_domains |= set(session.scalars(select(m.Account.domain).where(
            m.Account.domain.in_(chunk), func.coalesce(m.Account.lifecycle_stage, "") != "churned")))
        for opp in session.scalars(select(m.Opportunity).where(
                m.Opportunity.domain.in_(chunk), m.Opportunity.created_at > since, m.Opportunity.created_at <= as_of,
                or_(m.Opportunity.referrer_email.is_not(None), m.Opportunity.referral_id.is_not(None),
                    func.lower(m.Opportunity.source) == "referral"))):
            referred_domains[opp.domain] = (f"{opp.account_name} came in as a referral "
                                            f"({opp.opportunity_id}, {opp.created_at:%Y-%m-%d})")
    for chunk in _chunks(emails):
        dnc |= set(session.scalars(select(m.Contact.email).where(m.Contact.email.in_(chunk),
                                                                 m.Contact.do_not_contact.is_(True))))
    return customer_domains, dnc, referred_domains


@functools.cache
def _recent_referrals() -> Any:
    """Built once (a statement per call costs more than the indexed query it runs)."""
    r = m.Referral.__table__.c
    return select(r.referee_email, r.referrer_email, r.created_at).where(
        r.referee_email.in_(bindparam("emails", expanding=True)), r.created_at > bindparam("since"),
        r.created_at <= bindparam("as_of"))


# ---------------------------------------------------------------------------------------------------
# The engine

def find_targets(session: Session, champion_email: str, limit: int = 5, *, as_of: datetime | None = None,
                 graph: GraphIndex | None = None) -> TargetsResult:
    """Rank the people in the champion's network who fit the ICP; every one else tied to the champion
    is listed in `excluded` with one reason (the first that applies, in the contract's order)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    email = champion_email.strip().lower()
    graph = graph or get_graph(session, as_of=as_of)
    # Imported data only, so kept with the index until the next import (None: read every call).
    memo = graph.memo
    program = _memoised(memo, "program", lambda: load_program(session))
    icp = program.icp
    vendor_domain = normalise_domain(program.vendor.domain)

    cid = graph.id_of(email)
    row: ChampionRow = _memoised(memo, ("champion", email), lambda: _read_champion(session, email, cid is not None))
    if not row.is_contact and not row.is_person and cid is None:
        raise NotFoundError(f"no champion with email {champion_email!r}: not a customer contact, nor anyone "
                            "in the imported people or relationships")

    facts_of = ((lambda ids: column_facts(graph, ids, as_of)) if graph.candidates is not None
                else (lambda ids: load_facts(session, graph, ids, as_of)))
    pids: list[int] = []
    strengths: np.ndarray = np.zeros(0)
    facts: dict[int, PersonFacts] = {}
    champ_facts = PersonFacts(email=email)
    if cid is not None:
        ids, strengths = graph.neighbors(cid)
        keep = ~graph.team_any[ids]
        ids, strengths = ids[keep], strengths[keep]
        if vendor_domain and len(ids):
            not_vendor = np.array([not _domain_in(graph.org_domain[i], (vendor_domain,)) for i in ids.tolist()],
                                  dtype=bool)
            ids, strengths = ids[not_vendor], strengths[not_vendor]
        pids = ids.tolist()
        # The champion's facts and the candidates' in one gather (a copy should the champion be among them).
        facts = facts_of([*pids, cid])
        champ_facts = facts.pop(cid) if cid not in pids else replace(facts[cid])
    if row.is_contact:
        champ_facts.name = row.name
        champ_facts.title = row.title or champ_facts.title
        champ_facts.seniority = champ_facts.seniority or infer_seniority(champ_facts.title)
        champ_facts.function = champ_facts.function or infer_function(champ_facts.title)
    if row.has_account:
        champ_facts.domain = row.account_domain
        champ_facts.company = row.account_name
        if row.account_employees is not None:
            champ_facts.employees = float(row.account_employees)
    champion_domain = champ_facts.domain or email_domain(email)
    persona, persona_source = _champion_persona(session, email, row, champ_facts, as_of, memo)
    if cid is None:
        return TargetsResult(email, persona, persona_source, [], [])

    emails = [graph.emails[p] for p in pids]
    since = as_of - timedelta(days=RECENTLY_REFERRED_DAYS)
    if graph.candidates is not None:
        customer_domains, dnc, referred_domains = _column_exclusions(graph, pids, facts, since, as_of)
    else:
        customer_domains, dnc, referred_domains = _stored_exclusions(session, facts, emails, since, as_of)
    referred: dict[str, str] = {}
    for chunk in _chunks(emails):  # the referral ledger changes between imports: always read it
        for referee, referrer, created in core_execute(
                session, _recent_referrals(), {"emails": list(chunk), "since": since, "as_of": as_of}):
            referred[referee] = f"referred by {referrer} on {created:%Y-%m-%d}"

    targets: list[Target] = []
    excluded: list[Excluded] = []
    eligible: list[tuple[float, float, int, PersonFacts, IcpResult, float, str | None]] = []
    competitors = tuple(icp.exclude_domains)
    champion_domains = (champion_domain,)
    spec = _spec_of(icp)
    for pid, strength in zip(pids, strengths, strict=True):
        f = facts[pid]
        s = float(strength)
        reasons: dict[str, str] = {}
        if champion_domain and _domain_in(f.domain, champion_domains):
            reasons["same_domain"] = f"works at {f.company or f.domain}, the champion's own company"
        if f.domain in customer_domains:
            reasons["customer"] = f"{f.company or f.domain} is already a customer"
        if f.email in dnc:
            reasons["do_not_contact"] = "marked do-not-contact"
        if _domain_in(f.domain, competitors):
            reasons["competitor"] = f"{f.company or f.domain} is a competitor"
        if f.email in referred:
            reasons["recently_referred"] = referred[f.email]
        elif f.domain in referred_domains:
            reasons["recently_referred"] = referred_domains[f.domain]
        fit = _check(spec, f, company_only=False)
        if not fit.passes:
            reasons["outside_icp"] = "; ".join(fit.failed)
        if reasons:
            order = [r for r in EXCLUSION_ORDER if r in reasons]
            excluded.append(Excluded(f.email, order[0], order[1:], reasons[order[0]], s))
            continue
        pf, persona_reason = persona_fit(persona, champ_facts, f)
        score = W_STRENGTH * s + W_ICP * fit.fit + W_PERSONA * pf
        eligible.append((round(score, 3), round(s, 3), pid, f, fit, pf, persona_reason))
    # Evidence text is read for the returned targets only (the order does not depend on it).
    eligible.sort(key=lambda e: (-e[0], -e[1], e[3].email))
    for score, strength, pid, f, fit, pf, persona_reason in eligible[:limit]:
        evidence = graph.evidence(cid, pid)
        kind = evidence[0].kind if evidence else "unknown"
        why = [_cap(e.text) for e in evidence[:2]]
        company_bits = ", ".join(x for x in (f.industry, f"{_fmt_int(f.employees)} employees" if f.employees else None,
                                             f.location) if x)
        who = f"{f.title} at {f.company}" if f.title and f.company else (f.title or f.company or f.email)
        why.append(f"{who} ({company_bits}) fits the ICP" if company_bits else f"{who} fits the ICP")
        if fit.title_keyword:
            why.append(f"Title mentions '{fit.title_keyword}'")
        if persona_reason:
            why.append(_cap(persona_reason))
        targets.append(Target(
            email=f.email, name=f.name, company=f.company, title=f.title, score=score, reasons=why,
            kind=kind, strength=strength, evidence=[e.text for e in evidence], icp_fit=round(fit.fit, 3),
            persona_fit=round(pf, 3),
        ))
    excluded.sort(key=lambda e: (-e.strength, e.email))
    return TargetsResult(email, persona, persona_source, targets, excluded)
