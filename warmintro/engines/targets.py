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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from warmintro.engines.graph import GraphIndex, email_domain, get_graph, normalise_domain
from warmintro.errors import NotFoundError
from warmintro.program import ICP, load_program
from warmintro.store import models as m
from warmintro.store.db import driver_rows

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
# The same facts and ICP check over a batch of people at once (what find_targets ranks)

def _coded(values: Iterable[str | None]) -> tuple[list[int], list[str | None]]:
    """Values as codes into their distinct values, code 0 = None."""
    index: dict[str | None, int] = {None: 0}
    codes = [index.setdefault(v, len(index)) for v in values]
    return codes, list(index)


@dataclass
class FactColumns:
    """`PersonFacts` of a batch of people as columns (row i = the batch's i-th person). Industry and
    location are codes into their value lists (code 0 = None): the index's own lists, so the ICP check
    reads each distinct value once per index, not once per person. Employees: NaN = unknown. Name and
    company are read per row asked for (the ranked and a few exclusion texts need them). Plain lists: a
    batch is a few dozen people, for which list steps cost less than array operations."""

    emails: list[str]
    name_of: Callable[[int], str | None]
    company_of: Callable[[int], str | None]
    domains: list[str | None]
    titles: list[str | None]
    seniorities: list[str | None]
    functions: list[str | None]
    industry: list[int]
    industry_values: list[str | None]
    employees: list[float]
    location: list[int]
    location_values: list[str | None]

    def __len__(self) -> int:
        return len(self.emails)

    @classmethod
    def of(cls, facts: Sequence[PersonFacts]) -> FactColumns:
        industry, industry_values = _coded(f.industry for f in facts)
        location, location_values = _coded(f.location for f in facts)
        employees = [math.nan if f.employees is None else float(f.employees) for f in facts]
        names, companies = [f.name for f in facts], [f.company for f in facts]
        return cls([f.email for f in facts], names.__getitem__, companies.__getitem__, [f.domain for f in facts],
                   [f.title for f in facts], [f.seniority for f in facts], [f.function for f in facts],
                   industry, industry_values, employees, location, location_values)

    def head(self, n: int) -> FactColumns:
        return FactColumns(self.emails[:n], self.name_of, self.company_of, self.domains[:n], self.titles[:n],
                           self.seniorities[:n], self.functions[:n], self.industry[:n], self.industry_values,
                           self.employees[:n], self.location[:n], self.location_values)

    def facts(self, i: int) -> PersonFacts:
        employees = self.employees[i]
        return PersonFacts(
            email=self.emails[i], name=self.name_of(i), company=self.company_of(i), domain=self.domains[i],
            title=self.titles[i], seniority=self.seniorities[i], function=self.functions[i],
            industry=self.industry_values[self.industry[i]],
            employees=None if math.isnan(employees) else employees, location=self.location_values[self.location[i]])


@dataclass
class _ValueVerdicts:
    """One facet's verdict on each value of a value list: matches, and the readable text (the value as
    matched, or why it fails)."""

    spec: _IcpSpec  # spec and values kept: their ids are the cache key, so they are not reused while it lives
    values: list[str | None]
    ok: list[bool]  # per code
    text: list[str]


def _verdicts(spec: _IcpSpec, facet: str, values: list[str | None],
              judge: Callable[[_IcpSpec], Callable[[str | None], tuple[bool, str]]],
              cache: dict[Any, Any] | None) -> _ValueVerdicts:
    key = (facet, id(spec), id(values))
    hit = cache.get(key) if cache is not None else None
    if hit is not None and hit.spec is spec and hit.values is values:
        return hit  # type: ignore[no-any-return]
    judged = list(map(judge(spec), values))
    verdicts = _ValueVerdicts(spec, values, [ok for ok, _ in judged], [t for _, t in judged])
    if cache is not None:
        cache[key] = verdicts
    return verdicts


def _industry_verdict(spec: _IcpSpec) -> Callable[[str | None], tuple[bool, str]]:
    industries = spec.industries or frozenset()
    return lambda v: ((False, "industry unknown") if not v else (True, v) if _norm(v) in industries
                      else (False, f"industry {v} is not in the ICP"))


def _location_verdict(spec: _IcpSpec) -> Callable[[str | None], tuple[bool, str]]:
    pattern = spec.locations
    assert pattern is not None
    return lambda v: ((True, str(v)) if v and pattern.search(v)
                      else (False, f"location {v} is not in the ICP" if v else "location unknown"))


def _size_text(spec: _IcpSpec, employees: float) -> tuple[bool, str]:
    assert spec.size is not None
    lo, hi = spec.size
    if math.isnan(employees):
        return False, "company size unknown"
    if lo <= employees <= hi:
        return True, f"{_fmt_int(employees)} employees"
    return False, (f"{_fmt_int(employees)} employees is outside {lo:,}-"
                   f"{'any' if hi == math.inf else f'{int(hi):,}'}")


def _label_text(facet: str, wanted: frozenset[str], value: str | None) -> tuple[bool, str]:
    if not value:
        return False, f"{facet} unknown"
    if value in wanted:
        return True, f"{value} {facet}"
    return False, f"{facet} {value} is not in the ICP"


def _title_keyword(spec: _IcpSpec, title: str | None) -> str | None:
    assert spec.title_keywords is not None
    t = _norm(title)
    if spec.any_keyword is not None and spec.any_keyword.search(t):
        return next((k for k, pattern in spec.title_keywords if pattern.search(t)), None)
    return None


def _title_keywords_seen(spec: _IcpSpec, cache: dict[Any, Any] | None) -> dict[str | None, str | None]:
    """title -> its first ICP title keyword, kept in `cache` (with the spec, whose id is the key)."""
    if cache is None:
        return {}
    hit = cache.get(("title keywords", id(spec)))
    if hit is None or hit[0] is not spec:
        hit = cache[("title keywords", id(spec))] = (spec, {})
    return hit[1]  # type: ignore[no-any-return]


@dataclass
class _FacetColumn:
    """One ICP facet over a batch: does each row match, and the row's text (as matched, or why not)."""

    ok: list[bool]
    text: Callable[[int], str]


@dataclass
class IcpColumns:
    """`icp_check` of every row of a `FactColumns`: `passes` and `fit` per row; `failed_text(i)` and
    `result(i)` build the texts of the rows asked about only (the texts are what costs)."""

    passes: list[bool]
    fit: list[float]
    title_keyword: list[str | None]
    facets: list[_FacetColumn]  # in `_check`'s order: industry, size, function, seniority, location

    def failed_text(self, i: int) -> str:
        """Row i's failures as `find_targets` shows them (its outside_icp detail)."""
        return "; ".join([f.text(i) for f in self.facets if not f.ok[i]])

    def result(self, i: int) -> IcpResult:
        return IcpResult(passes=self.passes[i], fit=self.fit[i],
                         matched=[f.text(i) for f in self.facets if f.ok[i]],
                         failed=[f.text(i) for f in self.facets if not f.ok[i]], title_keyword=self.title_keyword[i])


def icp_columns(icp: ICP, facts: FactColumns, cache: dict[Any, Any] | None = None) -> IcpColumns:
    """`icp_check` for every row of `facts` at once: industry and location judged once per value of their
    value lists (kept in `cache` while the lists live) and gathered by code, size, function and seniority
    compared per row, title keywords searched once per distinct title. `cache`: a dict that lives as long
    as the value lists (the graph index's memo), so an index's lists are judged once per ICP; None judges
    them on every call. A batch is a few dozen rows: past the per-code gathers, plain lists cost less
    than array operations."""
    spec = _spec_of(icp)
    n = len(facts)
    facets: list[_FacetColumn] = []
    if spec.industries is not None:
        industry = _verdicts(spec, "industry", facts.industry_values, _industry_verdict, cache)
        facets.append(_FacetColumn([industry.ok[c] for c in facts.industry],
                                   lambda i: industry.text[facts.industry[i]]))
    if spec.size is not None:
        lo, hi = spec.size
        facets.append(_FacetColumn([lo <= e <= hi for e in facts.employees],  # NaN (unknown) compares False
                                   lambda i: _size_text(spec, facts.employees[i])[1]))
    if spec.functions is not None:
        functions = spec.functions
        facets.append(_FacetColumn([bool(v) and v in functions for v in facts.functions],
                                   lambda i: _label_text("function", functions, facts.functions[i])[1]))
    if spec.seniorities is not None:
        seniorities = spec.seniorities
        facets.append(_FacetColumn([bool(v) and v in seniorities for v in facts.seniorities],
                                   lambda i: _label_text("seniority", seniorities, facts.seniorities[i])[1]))
    if spec.locations is not None:
        location = _verdicts(spec, "location", facts.location_values, _location_verdict, cache)
        facets.append(_FacetColumn([location.ok[c] for c in facts.location],
                                   lambda i: location.text[facts.location[i]]))
    rows = list(zip(*[f.ok for f in facets], strict=True)) if facets else [()] * n
    hits = [sum(row) for row in rows]
    given = len(facets)
    keywords: list[str | None] = [None] * n
    if spec.title_keywords is not None:
        seen = _title_keywords_seen(spec, cache)
        keywords = [seen[t] if t in seen else seen.setdefault(t, _title_keyword(spec, t))
                    for t in facts.titles]
        hits = [h + (k is not None) for h, k in zip(hits, keywords, strict=True)]
        given += 1
    fit = [h / given for h in hits] if given else [1.0] * n
    return IcpColumns([all(row) for row in rows], fit, keywords, facets)


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
    if not pids:
        return {}
    facts = fact_columns(graph, pids, as_of)
    return {pid: facts.facts(i) for i, pid in enumerate(pids)}


_NO_PROFILE: tuple[str | None, float | None, str | None] = (None, None, None)


def fact_columns(graph: GraphIndex, pids: Sequence[int] | np.ndarray, as_of: datetime) -> FactColumns:
    """The facts `load_facts` reads, as columns gathered from the index's candidate columns (no queries)."""
    cols = graph.candidates
    if cols is None:
        raise ValueError("this graph carries no candidate columns; use load_facts")
    at = np.asarray(pids, dtype=np.int64)
    ids = at.tolist()
    here, title_codes, seniority_codes, function_codes, industry, location, job_codes, domain_codes = (
        cols.person_codes[at].T.tolist())
    # The current job: the first (newest-start) employment row of each person that is open at as_of.
    # The index keeps it as of its own build, with the span it holds for; a person whose rows start or end
    # between then and as_of has them walked.
    t = _epoch_us(as_of)
    job_values = cols.job_title.values
    job_titles = [job_values[c] for c in job_codes]
    spans = zip(cols.job_current_from[at].tolist(), cols.job_current_until[at].tolist(), strict=True)
    for k in [k for k, (since, until) in enumerate(spans) if not since <= t < until]:
        lo, hi = int(cols.job_indptr[at[k]]), int(cols.job_indptr[at[k] + 1])
        job_titles[k] = next((job_values[cols.job_title.codes[j]] for j in range(lo, hi)
                              if cols.job_start[j] <= t < cols.job_end[j]), None)
    titles = [job or cols.title.values[c] for job, c in zip(job_titles, title_codes, strict=True)]
    # people.csv's seniority/function when the row describes the person's current organisation, else read
    # from the title
    seniorities = [given if is_here and given else infer_seniority(title) for given, is_here, title
                   in zip(map(cols.seniority.values.__getitem__, seniority_codes), here, titles, strict=True)]
    functions = [given if is_here and given else infer_function(title) for given, is_here, title
                 in zip(map(cols.function.values.__getitem__, function_codes), here, titles, strict=True)]
    domains = [cols.domain.values[c] for c in domain_codes]

    def company_of(i: int) -> str | None:
        return graph.org_company[ids[i]] or graph.domain_profile.get(domains[i] or "", _NO_PROFILE)[0]

    return FactColumns(
        emails=[graph.emails[p] for p in ids], name_of=lambda i: graph.names[ids[i]], company_of=company_of,
        domains=domains, titles=titles, seniorities=seniorities, functions=functions,
        industry=industry, industry_values=cols.industry.values, employees=cols.employees[at].tolist(),
        location=location, location_values=cols.location.values,
    )


def _vendor_side(graph: GraphIndex, vendor_domain: str | None, ids: np.ndarray,
                 memo: dict[Any, Any] | None) -> np.ndarray:
    """Per id: the vendor's own side, never a candidate: a team.csv member, or at the vendor's domain (or a
    subdomain). Read from a mask over everyone, kept in the index's memo (without one: these ids only)."""
    if memo is None:
        at_vendor = [bool(vendor_domain) and _domain_in(graph.org_domain[i], (vendor_domain,))
                     for i in ids.tolist()]
        return graph.team_any[ids] | np.array(at_vendor, dtype=bool)

    def everyone() -> np.ndarray:
        mask = graph.team_any.copy()
        for domain, members in graph.domain_members.items():
            if vendor_domain and (domain == vendor_domain or domain.endswith("." + vendor_domain)):
                mask[members] = True
        return mask

    return _memoised(memo, ("vendor side", vendor_domain), everyone)[ids]  # type: ignore[no-any-return]


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

def _column_exclusions(graph: GraphIndex, ids: np.ndarray, domains: list[str | None], since: datetime,
                       as_of: datetime) -> tuple[frozenset[str] | set[str], list[bool], dict[str, str]]:
    cols = graph.candidates
    assert cols is not None
    dnc: list[bool] = cols.do_not_contact[ids].tolist()
    referred_domains: dict[str, str] = {}
    lo, hi = _epoch_us(since), _epoch_us(as_of)
    for domain in {d for d in domains if d and d in cols.referral_rows}:
        for row in cols.referral_rows[domain]:  # the last in table order wins, as the row-wise read
            if lo < cols.referral_created[row] <= hi:
                referred_domains[domain] = cols.referral_text[row]
    return cols.customer_domains, dnc, referred_domains


def _stored_exclusions(session: Session, domains: list[str | None], emails: list[str], since: datetime,
                       as_of: datetime) -> tuple[set[str], list[bool], dict[str, str]]:
    wanted = sorted({d for d in domains if d})
    customer_domains: set[str] = set()
    dnc: set[str] = set()
    referred_domains: dict[str, str] = {}
    for chunk in _chunks(wanted):
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
    return customer_domains, [e in dnc for e in emails], referred_domains


@functools.cache
def _reasons_of(flags: tuple[bool, ...]) -> tuple[str, tuple[str, ...]]:
    """The reasons flagged (a flag per reason in EXCLUSION_ORDER): (the first, the others)."""
    first, *also = (reason for reason, on in zip(EXCLUSION_ORDER, flags, strict=True) if on)
    return first, tuple(also)


@functools.lru_cache(maxsize=8)
def _time_processors(dialect: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """The referral ledger's created_at type: datetime -> the driver's value, and back."""
    kind = m.Referral.__table__.c.created_at.type
    to_db, from_db = kind.bind_processor(dialect), kind.result_processor(dialect, None)
    return to_db or (lambda v: v), from_db or (lambda v: v)


def _recent_referrals(session: Session, emails: Sequence[str], since: datetime,
                      as_of: datetime) -> Iterator[tuple[str, str, datetime]]:
    """(referee, referrer, created) of the ledger's referrals of these people created in (since, as_of]. The
    product writes the ledger between imports, so it is read every call: in plain SQL on the driver
    (`driver_rows`), the times through the column type's own processors."""
    to_db, from_db = _time_processors(session.get_bind().dialect)
    for chunk in _chunks(emails):
        sql = ("SELECT referee_email, referrer_email, created_at FROM referrals WHERE referee_email IN ("
               + ",".join("?" * len(chunk)) + ") AND created_at > ? AND created_at <= ?")
        for referee, referrer, created in driver_rows(session, sql, [*chunk, to_db(since), to_db(as_of)]):
            yield referee, referrer, from_db(created)


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
    vendor_domain: str | None = _memoised(memo, "vendor domain", lambda: normalise_domain(program.vendor.domain))

    cid = graph.id_of(email)
    row: ChampionRow = _memoised(memo, ("champion", email), lambda: _read_champion(session, email, cid is not None))
    if not row.is_contact and not row.is_person and cid is None:
        raise NotFoundError(f"no champion with email {champion_email!r}: not a customer contact, nor anyone "
                            "in the imported people or relationships")

    pids: list[int] = []
    strengths: list[float] = []
    candidates: FactColumns | None = None
    champ_facts = PersonFacts(email=email)
    if cid is not None:
        ids, weights = graph.neighbors(cid)
        keep = ~_vendor_side(graph, vendor_domain, ids, memo)
        ids, weights = ids[keep], weights[keep]
        pids, strengths = ids.tolist(), weights.tolist()
        # The candidates' facts and the champion's (the last row) in one gather.
        if graph.candidates is not None:
            gathered = fact_columns(graph, np.append(ids, cid), as_of)
            champ_facts, candidates = gathered.facts(len(pids)), gathered.head(len(pids))
        else:
            loaded = load_facts(session, graph, [*pids, cid], as_of)
            champ_facts, candidates = replace(loaded[cid]), FactColumns.of([loaded[p] for p in pids])
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
    if cid is None or candidates is None:
        return TargetsResult(email, persona, persona_source, [], [])

    emails, domains = candidates.emails, candidates.domains
    since = as_of - timedelta(days=RECENTLY_REFERRED_DAYS)
    if graph.candidates is not None:
        customer_domains, dnc, referred_domains = _column_exclusions(graph, ids, domains, since, as_of)
    else:
        customer_domains, dnc, referred_domains = _stored_exclusions(session, domains, emails, since, as_of)
    referred: dict[str, str] = {}
    for referee, referrer, created in _recent_referrals(session, emails, since, as_of):
        referred[referee] = f"referred by {referrer} on {created:%Y-%m-%d}"

    # Every exclusion reason of every candidate at once (the ICP check over the columns), a flag per
    # reason in EXCLUSION_ORDER; texts only for the reason an exclusion shows and for the ranked.
    # (the ICP is the memoised program's, so its id names it while the memo lives)
    fit = icp_columns(icp, candidates, _memoised(memo, ("icp verdicts", id(icp)), dict))
    competitors = tuple(icp.exclude_domains)
    champion_domains = (champion_domain,)
    reasons = zip(
        [bool(champion_domain) and _domain_in(d, champion_domains) for d in domains],  # same_domain
        [d in customer_domains for d in domains],  # customer
        dnc,  # do_not_contact
        [_domain_in(d, competitors) for d in domains],  # competitor
        [e in referred or d in referred_domains
         for e, d in zip(emails, domains, strict=True)],  # recently_referred
        [not passes for passes in fit.passes],  # outside_icp
        strict=True,
    )

    def detail(reason: str, i: int) -> str:
        if reason == "outside_icp":
            return fit.failed_text(i)
        if reason == "do_not_contact":
            return "marked do-not-contact"
        if reason == "recently_referred":
            return referred[emails[i]] if emails[i] in referred else referred_domains[domains[i] or ""]
        who = candidates.company_of(i) or domains[i]
        if reason == "same_domain":
            return f"works at {who}, the champion's own company"
        if reason == "customer":
            return f"{who} is already a customer"
        return f"{who} is a competitor"

    targets: list[Target] = []
    excluded: list[Excluded] = []
    eligible: list[tuple[float, float, int, PersonFacts, float, str | None]] = []
    fits = fit.fit
    for i, (flags, s) in enumerate(zip(reasons, strengths, strict=True)):
        if True in flags:
            first, also = _reasons_of(flags)
            excluded.append(Excluded(emails[i], first, list(also), detail(first, i), s))
            continue
        f = candidates.facts(i)
        pf, persona_reason = persona_fit(persona, champ_facts, f)
        score = W_STRENGTH * s + W_ICP * fits[i] + W_PERSONA * pf
        eligible.append((round(score, 3), round(s, 3), i, f, pf, persona_reason))
    # Evidence text is read for the returned targets only (the order does not depend on it).
    eligible.sort(key=lambda e: (-e[0], -e[1], e[3].email))
    for score, strength, i, f, pf, persona_reason in eligible[:limit]:
        evidence = graph.evidence(cid, pids[i])
        kind = evidence[0].kind if evidence else "unknown"
        why = [_cap(e.text) for e in evidence[:2]]
        company_bits = ", ".join(x for x in (f.industry, f"{_fmt_int(f.employees)} employees" if f.employees else None,
                                             f.location) if x)
        who = f"{f.title} at {f.company}" if f.title and f.company else (f.title or f.company or f.email)
        why.append(f"{who} ({company_bits}) fits the ICP" if company_bits else f"{who} fits the ICP")
        if fit.title_keyword[i]:
            why.append(f"Title mentions '{fit.title_keyword[i]}'")
        if persona_reason:
            why.append(_cap(persona_reason))
        targets.append(Target(
            email=f.email, name=f.name, company=f.company, title=f.title, score=score, reasons=why,
            kind=kind, strength=strength, evidence=[e.text for e in evidence], icp_fit=round(fits[i], 3),
            persona_fit=round(pf, 3),
        ))
    excluded.sort(key=lambda e: (-e.strength, e.email))
    return TargetsResult(email, persona, persona_source, targets, excluded)
