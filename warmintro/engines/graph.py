"""The relationship graph: every source of "who knows whom", built once into an index.

Sources (all optional): overlapping tenure in `employment` (same domain, or same company name when a row
has no domain), imported `emails` (From with To/Cc), meeting co-attendance (`meeting_attendees`),
`relationships` rows (email, meeting, linkedin, coworker, investor, advisor, partner) and the vendor's
own account teams (an account's CSM/AE knows its contacts). Each source produces *parts*: one per
pair, kind and source, with a strength in [0, 1] and the numbers a person can read back as evidence
("worked together at Segment, Apr 2019 - Jun 2021, 26 months"; "14 emails, last in March 2026").
A pair's tie strength combines its kinds with a noisy-or (within one kind the strongest part counts, so
two sources of the same mail are not counted twice).

The index interns people (emails) to integer ids and keeps the symmetric tie strengths in a
scipy.sparse CSR matrix, plus the parts sorted by pair for evidence lookups. Everything is column-wise
(polars/numpy); a query reads one CSR row and a few parts, never the whole population.
`get_graph(session)` caches the index per database in this process, rebuilt when an import has run
since (the latest `import_runs` id, plus the sizes of the small tables), or for another day: graphs are
built per UTC day (ties dated up to the end of the as-of day count; recency is measured from it). When
the live day rolls over with nothing imported since, yesterday's graph keeps answering while today's is
built on a thread of its own: at 5,000 customers a build takes a minute, and a day's recency moves the
strengths by hundredths, so the first question after midnight does not wait for it.

The strength functions (`email_strength`, `meeting_strength`, `coworker_strength`, ...) are public and
vectorised: `evals/enron_auc.py` scores real mail with exactly the same code.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------
# Kinds, pillars and tunables

KINDS: tuple[str, ...] = (
    "coworker", "email", "meeting", "linkedin", "investor", "advisor", "partner", "account_team",
)
KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}

PILLARS: tuple[str, ...] = ("", "customer", "employee", "investor", "advisor", "partner")
PILLAR_CODE: dict[str, int] = {p: i for i, p in enumerate(PILLARS)}
VENDOR_ROLES = frozenset({"csm", "ae", "sdr", "revops", "admin", "employee"})

DAYS_PER_MONTH = 30.4375

EMAIL_SCALE = 6.0  # messages for ~63% of the count credit
EMAIL_HALF_LIFE_DAYS = 180.0
EMAIL_FLOOR = 0.25  # an old but real correspondence keeps a quarter of its credit
MAX_EMAIL_RECIPIENTS = 50  # announcements and list mail say nothing about a tie

MEETING_SCALE = 3.0
MEETING_HALF_LIFE_DAYS = 180.0
MEETING_FLOOR = 0.25
MEETING_CAP = 0.9  # sitting in the same meeting is a little less personal than mail
MAX_MEETING_SIZE = 30  # all-hands and webinars are not ties

COWORKER_SCALE_MONTHS = 12.0
COWORKER_HALF_LIFE_MONTHS = 48.0
COWORKER_FLOOR = 0.3
COWORKER_CAP = 0.95
COWORKER_DEFAULT_SIZE = 1000.0  # company size when nothing says otherwise
MIN_OVERLAP_DAYS = 30
# Overlaps are found among the people who joined closest in time (per company, sorted by start date):
# each employment row is compared with the NEIGHBOURS rows that started just before it. Companies with
# at most NEIGHBOURS + 1 rows get every pair; big ones (whose ties are weak anyway) stay linear.
COWORKER_NEIGHBOURS = 48

LINKEDIN_BASE = 0.25
ROLE_BASE = {"investor": 0.5, "advisor": 0.5, "partner": 0.45}
ROLE_HALF_LIFE_DAYS = 365.0
ACCOUNT_TEAM_STRENGTH = {"csm": 0.5, "ae": 0.4}
UNKNOWN_RECENCY_DAYS = 365.0  # a relationships.csv row without dates counts as a year old

MAX_STRENGTH = 0.999

FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com",
    "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com", "yandex.com",
    "fastmail.com", "hey.com", "msn.com",
})

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


# ---------------------------------------------------------------------------------------------------
# Strength functions (vectorised; scalars work too)

def _arr(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def recency(days_since: Any, half_life_days: float, floor: float) -> np.ndarray:
    """`floor` + (1 - floor) * 0.5 ** (days / half_life): 1 for today, halving towards `floor`."""
    d = np.clip(_arr(days_since), 0.0, None)
    d = np.where(np.isnan(d), UNKNOWN_RECENCY_DAYS, d)
    return floor + (1.0 - floor) * np.power(0.5, d / half_life_days)


def email_strength(count: Any, days_since_last: Any, mutual: Any = 0.5) -> np.ndarray:
    """Tie strength from mail: more messages -> stronger (saturating), more recent -> stronger, and a
    two-way correspondence (`mutual` = 1) a little stronger than one-way (0)."""
    c = np.clip(_arr(count), 0.0, None)
    vol = 1.0 - np.exp(-c / EMAIL_SCALE)
    s = vol * recency(days_since_last, EMAIL_HALF_LIFE_DAYS, EMAIL_FLOOR) * (0.8 + 0.2 * np.clip(_arr(mutual), 0, 1))
    return np.clip(s, 0.0, MAX_STRENGTH)


def meeting_strength(count: Any, days_since_last: Any) -> np.ndarray:
    c = np.clip(_arr(count), 0.0, None)
    vol = 1.0 - np.exp(-c / MEETING_SCALE)
    return np.clip(MEETING_CAP * vol * recency(days_since_last, MEETING_HALF_LIFE_DAYS, MEETING_FLOOR), 0.0, MAX_STRENGTH)


def size_factor(company_size: Any) -> np.ndarray:
    """1 for a 20-person company, ~0.65 at 1,000, ~0.31 at 50,000 (floor 0.25): an overlap in a small
    team means more than one in a large company. Unknown (NaN) -> COWORKER_DEFAULT_SIZE."""
    n = _arr(company_size)
    n = np.where(np.isnan(n) | (n <= 0), COWORKER_DEFAULT_SIZE, n)
    return np.clip(1.25 - 0.2 * np.log10(np.maximum(n, 1.0)), 0.25, 1.0)


def coworker_strength(overlap_months: Any, months_since_overlap: Any, company_size: Any = np.nan) -> np.ndarray:
    """Former or current colleagues: longer overlap -> stronger, more recent -> stronger, smaller
    company -> stronger."""
    m = np.clip(_arr(overlap_months), 0.0, None)
    dur = 1.0 - np.exp(-m / COWORKER_SCALE_MONTHS)
    since = np.clip(_arr(months_since_overlap), 0.0, None)
    rec = COWORKER_FLOOR + (1.0 - COWORKER_FLOOR) * np.power(0.5, since / COWORKER_HALF_LIFE_MONTHS)
    return np.clip(COWORKER_CAP * dur * rec * size_factor(company_size), 0.0, MAX_STRENGTH)


def linkedin_strength(weight: Any) -> np.ndarray:
    w = np.nan_to_num(np.clip(_arr(weight), 0.0, None), nan=0.0)
    return LINKEDIN_BASE + 0.25 * (1.0 - np.exp(-w / 5.0))


def role_strength(kind: str, weight: Any, days_since_last: Any) -> np.ndarray:
    """investor / advisor / partner relationships: a known role, more interactions, more recent."""
    base = ROLE_BASE[kind]
    w = np.nan_to_num(np.clip(_arr(weight), 0.0, None), nan=0.0)
    s = (base + (0.9 - base) * (1.0 - np.exp(-w / 4.0))) * recency(days_since_last, ROLE_HALF_LIFE_DAYS, 0.5)
    return np.clip(s, 0.0, MAX_STRENGTH)


def combine(strengths: Iterable[float]) -> float:
    """Noisy-or: the chance that at least one of the (independent) kinds of tie is real."""
    p = 1.0
    for s in strengths:
        p *= 1.0 - min(max(float(s), 0.0), MAX_STRENGTH)
    return 1.0 - p


# ---------------------------------------------------------------------------------------------------
# Small helpers shared by the engines

_COMPANY_SUFFIX = re.compile(
    r"\b(inc|incorporated|llc|l\.l\.c|ltd|limited|corp|corporation|co|company|gmbh|ag|sa|plc|bv|oy|ab)\b\.?$"
)


def normalise_company(name: str | None) -> str | None:
    """'Bluebird Foods, Inc.' -> 'bluebird foods'."""
    if not name:
        return None
    s = re.sub(r"[^\w\s&]", " ", name.lower())
    s = re.sub(r"\s+", " ", s).strip()
    for _ in range(2):
        s = _COMPANY_SUFFIX.sub("", s).strip(" &")
    return s or None


def normalise_company_expr(col: str) -> pl.Expr:
    """`normalise_company` as a polars expression (same result, column-wise)."""
    e = (pl.col(col).str.to_lowercase().str.replace_all(r"[^\w\s&]", " ").str.replace_all(r"\s+", " ")
         .str.strip_chars())
    suffix = _COMPANY_SUFFIX.pattern
    for _ in range(2):
        e = e.str.replace(suffix, "").str.strip_chars(" &")
    return pl.when(e == "").then(None).otherwise(e)


def normalise_domain(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().lower()
    v = re.sub(r"^[a-z]+://", "", v)
    v = re.sub(r"^www\.", "", v)
    v = re.sub(r"[/?#].*$", "", v)
    return v or None


def email_domain(email: str) -> str | None:
    return email.rsplit("@", 1)[1] if "@" in email else None


@functools.lru_cache(maxsize=65_536)
def _calendar_month(days: int) -> tuple[str, int]:
    """(month name, year) of a day counted from 1970-01-01 (cached: evidence texts name a few thousand)."""
    d = date(1970, 1, 1) + timedelta(days=days)
    return _MONTHS[d.month - 1], d.year


def month_year(day: float | None) -> str:
    if day is None or math.isnan(day):
        return "an unknown date"
    month, year = _calendar_month(int(day))
    return f"{month} {year}"


def _mon(day: float) -> str:
    month, year = _calendar_month(int(day))
    return f"{month[:3]} {year}"


def _epoch_days(when: datetime) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400.0


# ---------------------------------------------------------------------------------------------------
# Inputs

def _frame(schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


TS = pl.Datetime("us", "UTC")
SCHEMAS: dict[str, dict[str, Any]] = {
    "people": {"email": pl.String, "name": pl.String, "company": pl.String, "domain": pl.String,
               "industry": pl.String, "company_employees": pl.Int64},
    "employment": {"email": pl.String, "company": pl.String, "domain": pl.String, "title": pl.String,
                   "start": TS, "end": TS},
    "emails": {"from_email": pl.String, "to_emails": pl.List(pl.String), "cc_emails": pl.List(pl.String),
               "sent_at": TS},
    "meetings": {"meeting_id": pl.String, "email": pl.String, "occurred_at": TS, "title": pl.String},
    "relationships": {"a_email": pl.String, "b_email": pl.String, "kind": pl.String, "weight": pl.Float64,
                      "first_at": TS, "last_at": TS},
    "team": {"email": pl.String, "name": pl.String, "role": pl.String},
    "accounts": {"account_id": pl.String, "name": pl.String, "domain": pl.String, "industry": pl.String,
                 "employees": pl.Int64, "lifecycle_stage": pl.String, "csm_email": pl.String,
                 "ae_email": pl.String},
    "contacts": {"email": pl.String, "name": pl.String, "account_id": pl.String, "do_not_contact": pl.Boolean},
    "partners": {"name": pl.String, "domain": pl.String, "kind": pl.String, "contact_email": pl.String},
    "opportunities": {"account_name": pl.String, "domain": pl.String},
}
# The further columns `read_sources` reads for the candidate facts (GraphSources.complete).
CANDIDATE_SCHEMAS: dict[str, dict[str, Any]] = {
    "people": {**SCHEMAS["people"], "title": pl.String, "seniority": pl.String, "function": pl.String,
               "location": pl.String},
    "opportunities": {**SCHEMAS["opportunities"], "opportunity_id": pl.String, "created_at": TS,
                      "referrer_email": pl.String, "referral_id": pl.String, "source": pl.String},
}


@dataclass
class GraphSources:
    """The tables the graph is built from, as polars frames (emails lower-case). Any may be empty."""

    people: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["people"]))
    employment: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["employment"]))
    emails: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["emails"]))
    meetings: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["meetings"]))
    relationships: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["relationships"]))
    team: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["team"]))
    accounts: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["accounts"]))
    contacts: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["contacts"]))
    partners: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["partners"]))
    opportunities: pl.DataFrame = field(default_factory=lambda: _frame(SCHEMAS["opportunities"]))
    # Read from a store with every column of SCHEMAS (read_sources): then the index also carries the
    # column-wise candidate facts; hand-made sources (tests, evals) may hold fewer columns.
    complete: bool = False


def _read(session: Session, columns: Sequence[Any], schema: dict[str, Any], *, join: Any = None,
          chunk: int = 100_000) -> pl.DataFrame:
    """SELECT `columns` (one per `schema` entry) into a frame inside the session's transaction, in bulk:
    on PostgreSQL as one CSV stream (COPY ... TO STDOUT) parsed by polars; on SQLite `chunk` rows at a
    time, each chunk turned into columns by polars (not value by value in Python). Timestamps and JSON
    lists travel as text and are parsed by polars."""
    from sqlalchemy import String, cast

    names = list(schema)
    text_cols = {n for n, t in schema.items() if t == TS or isinstance(t, pl.List)}
    cols = [cast(c, String).label(n) if n in text_cols else c.label(n) for n, c in zip(names, columns, strict=True)]
    stmt = select(*cols)
    if join is not None:
        stmt = stmt.select_from(join)
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    raw: Any = conn.connection.dbapi_connection
    dtypes = {n: (pl.String if n in text_cols else t) for n, t in schema.items()}
    if conn.dialect.name == "postgresql":
        frame = _copy_frame(raw, sql, names, dtypes)
    else:
        frames: list[pl.DataFrame] = []
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(chunk):
                frames.append(pl.DataFrame(rows, schema=dtypes, orient="row", strict=False))
        finally:
            cursor.close()
        if not frames:
            return _frame(schema)
        frame = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
    fixes = []
    for n in text_cols:
        if schema[n] == TS:
            # microseconds kept: candidate facts compare employment dates with the query's as_of exactly
            fixes.append(pl.col(n).str.slice(0, 26).str.replace("T", " ", literal=True)
                         .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC", strict=False))
        else:
            fixes.append(pl.col(n).str.json_decode(schema[n]))
    return frame.with_columns(fixes) if fixes else frame


def _copy_frame(raw: Any, sql: str, names: list[str], dtypes: dict[str, Any]) -> pl.DataFrame:
    """PostgreSQL: the query's rows as CSV from COPY, parsed by polars. In CSV a NULL is an unquoted empty
    field and an empty string a quoted one, as polars reads them; booleans come as t/f."""
    import io

    buf = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        for data in copy:
            buf.write(data)
    if not buf.tell():
        return pl.DataFrame(schema=dtypes)
    buf.seek(0)
    text = pl.read_csv(buf, has_header=False, new_columns=names, infer_schema=False, quote_char='"')
    del buf
    return text.select(
        (pl.col(n) == "t") if t == pl.Boolean else pl.col(n) if t == pl.String else pl.col(n).cast(t)
        for n, t in dtypes.items())


def read_sources(session: Session) -> GraphSources:
    """Every table the graph needs, read column-wise from the store."""
    from warmintro.store import models as m

    def read(name: str, *columns: Any, join: Any = None) -> pl.DataFrame:
        return _read(session, columns, CANDIDATE_SCHEMAS.get(name, SCHEMAS[name]), join=join)

    return GraphSources(
        people=read("people", m.Person.email, m.Person.name, m.Person.company, m.Person.domain, m.Person.industry,
                    m.Person.company_employees, m.Person.title, m.Person.seniority, m.Person.function,
                    m.Person.location),
        employment=read("employment", m.Employment.email, m.Employment.company, m.Employment.domain,
                        m.Employment.title, m.Employment.start, m.Employment.end),
        emails=read("emails", m.EmailMessage.from_email, m.EmailMessage.to_emails, m.EmailMessage.cc_emails,
                    m.EmailMessage.sent_at),
        meetings=read("meetings", m.MeetingAttendee.meeting_id, m.MeetingAttendee.email, m.Meeting.occurred_at,
                      m.Meeting.title,
                      join=m.MeetingAttendee.__table__.join(
                          m.Meeting.__table__, m.Meeting.meeting_id == m.MeetingAttendee.meeting_id)),
        relationships=read("relationships", m.Relationship.a_email, m.Relationship.b_email, m.Relationship.kind,
                           m.Relationship.weight, m.Relationship.first_at, m.Relationship.last_at),
        team=read("team", m.TeamMember.email, m.TeamMember.name, m.TeamMember.role),
        accounts=read("accounts", m.Account.account_id, m.Account.name, m.Account.domain, m.Account.industry,
                      m.Account.employees, m.Account.lifecycle_stage, m.Account.csm_email, m.Account.ae_email),
        contacts=read("contacts", m.Contact.email, m.Contact.name, m.Contact.account_id, m.Contact.do_not_contact),
        partners=read("partners", m.Partner.name, m.Partner.domain, m.Partner.kind, m.Partner.contact_email),
        opportunities=read("opportunities", m.Opportunity.account_name, m.Opportunity.domain,
                           m.Opportunity.opportunity_id, m.Opportunity.created_at, m.Opportunity.referrer_email,
                           m.Opportunity.referral_id, m.Opportunity.source),
        complete=True,
    )


# ---------------------------------------------------------------------------------------------------
# The index

@dataclass(frozen=True)
class Evidence:
    kind: str
    strength: float
    text: str
    brief: str = ""  # the same in a few words ("30 emails", "60 months at Ironbridge"), for strength in words


@dataclass(frozen=True)
class Tie:
    a: str
    b: str
    strength: float
    kind: str  # the strongest kind
    evidence: tuple[Evidence, ...]


PART_SCHEMA: dict[str, Any] = {
    "a": pl.Int64, "b": pl.Int64, "kind": pl.UInt8, "strength": pl.Float64, "count": pl.Float64,
    "first": pl.Float64, "last": pl.Float64, "months": pl.Float64, "size": pl.Float64,
    "label": pl.Categorical,  # few distinct texts (company names, meeting titles) over millions of parts
}


@dataclass
class Coded:
    """A text column as integer codes into its distinct values (code 0 = null): a query gathers a few
    rows with numpy and looks the strings up, no dataframe engine involved."""

    codes: np.ndarray  # int32 per row
    values: list[str | None]  # values[0] is None

    @classmethod
    def of(cls, column: pl.Series) -> Coded:
        values = column.drop_nulls().unique().sort()
        # the dense rank, by hashing each value to its place among the few distinct ones (no full sort)
        codes = column.replace_strict(values, pl.int_range(1, len(values) + 1, eager=True), default=0,
                                      return_dtype=pl.Int32).fill_null(0).to_numpy()
        return cls(codes, [None, *values.to_list()])

    def take(self, rows: np.ndarray) -> list[str | None]:
        values = self.values
        return [values[c] for c in self.codes[rows].tolist()]


@dataclass
class CandidateColumns:
    """What `find_targets` needs to know about any person, column-wise and built with the index (so it is
    refreshed with it, when an import runs): a query gathers the rows of its candidates from arrays
    instead of querying people, employment, accounts, contacts and opportunities per call. Only the
    referral ledger, which the product writes between imports, is still read per call.

    Per person id: the people.csv row (`has_person`; `here` = its domain is unset or is the person's
    current organisation) and its fields, but for industry and company size, which are the facts the
    engine uses: the person's own when `here` and given, else their organisation's domain profile (so a
    query gathers them, with no per-person lookup). Employment rows are grouped by person id (`job_indptr`),
    newest start first, with start/end in epoch microseconds (end: int64 max when open), so "current at
    as_of" is decided per query, exactly as the SQL did."""

    here: np.ndarray  # bool
    # The per-person codes side by side, one row per person (a query gathers a row per candidate, not a
    # cell per column): here, title, seniority, function, industry, location, job_current, domain; the
    # Coded columns' codes are views of it.
    person_codes: np.ndarray  # int32 (people, 8)
    title: Coded
    seniority: Coded
    function: Coded
    industry: Coded  # the person's when `here` and given, else the domain profile's
    location: Coded
    domain: Coded  # the organisation's (`GraphIndex.org_domain`)
    employees: np.ndarray  # float64, NaN = unknown; the person's when `here` and known, else the profile's
    job_indptr: np.ndarray
    job_start: np.ndarray
    job_end: np.ndarray
    job_title: Coded
    # Per person, the current job's title code (0: none, or untitled) at the build's as_of, and the span
    # [from, until) of epoch us in which that answer holds (no start or end of the person's rows inside):
    # a query in the span reads it, one outside walks the person's rows.
    job_current: np.ndarray
    job_current_from: np.ndarray
    job_current_until: np.ndarray
    customer_domains: frozenset[str]  # accounts not churned
    do_not_contact: np.ndarray  # bool per person id
    referral_created: np.ndarray  # epoch us per referral-sourced opportunity, in table order
    referral_rows: dict[str, list[int]]  # domain -> its referral opportunities' rows, in table order
    referral_text: list[str]


@dataclass
class GraphIndex:
    as_of: datetime
    emails: list[str]  # sorted; position = person id
    names: list[str | None]
    matrix: sp.csr_matrix  # symmetric, float64 strengths in [0, 1]
    parts: pl.DataFrame  # PART_SCHEMA, sorted by (a, b); a < b
    part_keys: np.ndarray  # a * n + b per part row, sorted
    org_domain: list[str | None]
    org_company: list[str | None]
    pillar: np.ndarray  # int8 PILLAR_CODE per person
    route: dict[int, str]  # customer connector -> the account's CSM (else AE)
    connector_account: dict[int, str]  # customer connector -> account name
    domain_members: dict[str, np.ndarray]
    company_members: dict[str, np.ndarray]
    name_domains: dict[str, set[str]]
    domain_profile: dict[str, tuple[str | None, float | None, str | None]]  # domain -> (company, size, industry)
    vendor_team: np.ndarray  # bool per person: team.csv member with a vendor role
    team_any: np.ndarray  # bool per person: any team.csv member
    candidates: CandidateColumns | None = None  # None: find_targets reads the facts from the store
    build_seconds: float = 0.0
    # What the engines derive from imported data and reuse until the next import (this index is rebuilt
    # then): the program, each champion's own rows, personas per day (`targets.champion_reads`).
    # None: every call reads the store (the engine before the cache; tests and the baseline compare).
    memo: dict[Any, Any] | None = field(default_factory=dict, repr=False, compare=False)

    # -- lookups --------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.emails)

    @property
    def edge_count(self) -> int:
        return int(self.matrix.nnz // 2)

    def id_of(self, email: str) -> int | None:
        e = email.strip().lower()
        i = bisect.bisect_left(self.emails, e)
        return i if i < len(self.emails) and self.emails[i] == e else None

    def name_of(self, pid: int) -> str:
        return self.names[pid] or self.emails[pid]

    def neighbors(self, pid: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, strengths) of everyone tied to `pid`, strongest first."""
        lo, hi = self.matrix.indptr[pid], self.matrix.indptr[pid + 1]
        ids = self.matrix.indices[lo:hi]
        w = self.matrix.data[lo:hi]
        order = np.argsort(-w, kind="stable")
        return ids[order].astype(np.int64), w[order].astype(np.float64)

    def strength(self, a: int, b: int) -> float:
        return float(self.matrix[a, b])

    def _part_rows(self, a: int, b: int) -> pl.DataFrame:
        lo_id, hi_id = (a, b) if a < b else (b, a)
        key = lo_id * self.size + hi_id
        lo, hi = np.searchsorted(self.part_keys, (key, key + 1)).tolist()  # integer keys: key + 1 ends it
        return self.parts.slice(lo, hi - lo)

    def evidence(self, a: int, b: int) -> list[Evidence]:
        """Readable evidence for the tie between two people, strongest first (equal strengths in kind order)."""
        rows = sorted(self._part_rows(a, b).rows(named=True), key=lambda r: -r["strength"])
        today = _epoch_days(self.as_of)
        return [Evidence(KINDS[r["kind"]], round(float(r["strength"]), 3), _describe(r, today), _brief(r))
                for r in rows]

    def tie(self, a: int, b: int) -> Tie | None:
        s = self.strength(a, b)
        if s <= 0:
            return None
        ev = self.evidence(a, b)
        kind = ev[0].kind if ev else "unknown"
        return Tie(self.emails[a], self.emails[b], s, kind, tuple(ev))

    def people_at(self, domains: Iterable[str] = (), companies: Iterable[str] = ()) -> np.ndarray:
        parts = [self.domain_members[d] for d in domains if d in self.domain_members]
        parts += [self.company_members[c] for c in companies if c in self.company_members]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(parts))

    def pillar_of(self, pid: int) -> str:
        return PILLARS[int(self.pillar[pid])]


def _brief(r: dict[str, Any]) -> str:
    """A tie part in a few words: what a rep needs to judge it at a glance."""
    kind = KINDS[r["kind"]]
    n = int(round(r["count"] or 0))
    if kind == "coworker":
        months = int(round(r["months"] or 0))
        return f"{months} month{'s' if months != 1 else ''} together" + (f" at {r['label']}" if r["label"] else "")
    if kind in ("email", "meeting"):
        return f"{n} {kind}{'s' if n != 1 else ''}"
    if kind == "linkedin":
        return "a LinkedIn connection"
    if kind in ("investor", "advisor", "partner"):
        return f"{kind} relationship" + (f", {n} interaction{'s' if n != 1 else ''}" if n else "")
    if kind == "account_team":
        return r["label"] or "on the account team"
    return kind


def _describe(r: dict[str, Any], today: float) -> str:
    kind = KINDS[r["kind"]]
    n = r["count"]
    last = r["last"]
    label = r["label"]
    if kind == "coworker":
        months = int(round(r["months"] or 0))
        where = f" at {label}" if label else ""
        if r["first"] is not None and last is not None:
            until = "present" if last >= today - 1 else _mon(last)
            span = f", {_mon(r['first'])} - {until}"
        else:
            span = ""
        return f"worked together{where}{span}, {months} month{'s' if months != 1 else ''}"
    if kind == "email":
        k = int(round(n or 0))
        when = f", last in {month_year(last)}" if last is not None else ""
        return f"{k} email{'s' if k != 1 else ''}{when}"
    if kind == "meeting":
        k = int(round(n or 0))
        when = f", last in {month_year(last)}" if last is not None else ""
        what = f" ({label})" if label else ""
        return f"{k} meeting{'s' if k != 1 else ''} together{when}{what}"
    if kind == "linkedin":
        since = f" since {month_year(r['first'])}" if r["first"] is not None else ""
        return f"connected on LinkedIn{since}"
    if kind in ("investor", "advisor", "partner"):
        bits = []
        if n:
            bits.append(f"{int(round(n))} interaction{'s' if int(round(n)) != 1 else ''}")
        if last is not None:
            bits.append(f"last in {month_year(last)}")
        return f"{kind} relationship" + (f" ({', '.join(bits)})" if bits else "")
    if kind == "account_team":
        return label or "on the account team"
    return kind


# ---------------------------------------------------------------------------------------------------
# Build

def _days(col: str) -> pl.Expr:
    return (pl.col(col).dt.epoch("ms").cast(pl.Float64) / 86_400_000.0)


def _parts_frame(**cols: Any) -> pl.DataFrame:
    n = len(cols["a"])
    data = {}
    for name, dtype in PART_SCHEMA.items():
        v = cols.get(name)
        if v is None:
            data[name] = pl.repeat(None, n, dtype=dtype, eager=True).alias(name)  # not a list of n Nones
        elif isinstance(v, pl.Series):
            data[name] = v.alias(name).cast(dtype)
        else:
            data[name] = pl.Series(name, v).cast(dtype)
        if dtype == pl.Float64:
            data[name] = data[name].fill_nan(None)
    return pl.DataFrame(data)


class _Interner:
    """People (emails) to integer ids, in sorted email order. Built from 64-bit hashes of the strings
    (column-wise: joins on strings per column are several times slower at 10M references), with a check
    that no two distinct emails share a hash (then another seed is tried). The source columns it was
    built from get their ids straight away (`column_ids`)."""

    def __init__(self, columns: dict[str, pl.Series]) -> None:
        names = list(columns)
        lengths = [len(columns[k]) for k in names]
        allm = pl.concat([columns[k].cast(pl.String).alias("email") for k in names]) if names else pl.Series(
            "email", [], dtype=pl.String)
        valid = (allm.is_not_null() & allm.str.contains("@", literal=True)).fill_null(False)
        emails = allm.filter(valid)
        for seed in (0, 1, 2, 3):
            h = emails.hash(seed=seed)
            inverse = (h.rank("dense").cast(pl.Int64) - 1).to_numpy() if len(h) else np.zeros(0, np.int64)
            k = int(inverse.max()) + 1 if len(inverse) else 0
            first = np.empty(k, dtype=np.int64)
            first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1, dtype=np.int64)
            reps = emails.gather(first)
            if len(emails) == 0 or bool((emails == reps.gather(inverse)).all()):
                break
        else:  # pragma: no cover - four independent 64-bit collisions
            raise RuntimeError("could not intern emails: repeated hash collisions")
        self.seed = seed
        order = reps.arg_sort().to_numpy()
        pid_of_unique = np.empty(k, dtype=np.int64)
        pid_of_unique[order] = np.arange(k, dtype=np.int64)
        self.emails: list[str] = reps.gather(order).to_list()
        self.lookup = pl.DataFrame({"h": h.to_numpy()[first] if k else np.zeros(0, np.uint64), "pid": pid_of_unique})
        ids = np.full(len(allm), -1, dtype=np.int64)
        ids[valid.to_numpy()] = pid_of_unique[inverse]
        bounds = np.cumsum([0, *lengths])
        self.column_ids = {k_: ids[bounds[i]:bounds[i + 1]] for i, k_ in enumerate(names)}

    @property
    def size(self) -> int:
        return len(self.emails)

    def ids(self, values: pl.Series) -> np.ndarray:
        """The id of each value (which must be among the interned emails, or null); -1 for null."""
        if len(values) == 0 or self.size == 0:
            return np.full(len(values), -1, dtype=np.int64)
        h = values.cast(pl.String).hash(seed=self.seed)
        got = pl.DataFrame({"h": h}).join(self.lookup, on="h", how="left", maintain_order="left")["pid"]
        return np.where(values.is_not_null().to_numpy(), got.fill_null(-1).to_numpy(), -1)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({"pid": np.arange(self.size, dtype=np.int64), "email": self.emails})


def _intern(src: GraphSources) -> _Interner:
    return _Interner({
        "people.email": src.people["email"], "employment.email": src.employment["email"],
        "emails.from_email": src.emails["from_email"], "emails.to": src.emails["to_emails"].explode(),
        "emails.cc": src.emails["cc_emails"].explode(), "meetings.email": src.meetings["email"],
        "relationships.a_email": src.relationships["a_email"], "relationships.b_email": src.relationships["b_email"],
        "team.email": src.team["email"], "contacts.email": src.contacts["email"],
        "partners.contact_email": src.partners["contact_email"], "accounts.csm_email": src.accounts["csm_email"],
        "accounts.ae_email": src.accounts["ae_email"],
    })


def _map(frame: pl.DataFrame, col: str, nodes: _Interner, as_: str, source: str | None = None) -> pl.DataFrame:
    """`frame` with the id of `col` as `as_`; rows whose `col` is null are dropped. `source` names the
    interned column `frame[col]` is (unfiltered), to reuse its ids."""
    ids = nodes.column_ids.get(source) if source else None
    if ids is None or len(ids) != frame.height:
        ids = nodes.ids(frame[col])
    return frame.with_columns(pl.Series(as_, ids)).filter(pl.col(as_) >= 0)


def _domain_profiles(src: GraphSources) -> pl.DataFrame:
    """domain -> company name, size, industry: from accounts first, then people, then employment."""
    acc = src.accounts.select(
        pl.col("domain"), pl.col("name").alias("company"), pl.col("employees").cast(pl.Float64).alias("size"),
        pl.col("industry"), pl.lit(0).alias("prio"))
    ppl = src.people.select(
        pl.col("domain"), pl.col("company"), pl.col("company_employees").cast(pl.Float64).alias("size"),
        pl.col("industry"), pl.lit(1).alias("prio"))
    emp = src.employment.select(
        pl.col("domain"), pl.col("company"), pl.lit(None, dtype=pl.Float64).alias("size"),
        pl.lit(None, dtype=pl.String).alias("industry"), pl.lit(2).alias("prio"))
    opp = src.opportunities.select(
        pl.col("domain"), pl.col("account_name").alias("company"), pl.lit(None, dtype=pl.Float64).alias("size"),
        pl.lit(None, dtype=pl.String).alias("industry"), pl.lit(3).alias("prio"))
    par = src.partners.select(
        pl.col("domain"), pl.col("name").alias("company"), pl.lit(None, dtype=pl.Float64).alias("size"),
        pl.lit(None, dtype=pl.String).alias("industry"), pl.lit(3).alias("prio"))
    allp = pl.concat([acc, ppl, emp, opp, par]).filter(pl.col("domain").is_not_null())
    best_prio = allp.group_by("domain").agg(
        pl.col("size").filter(pl.col("prio") == 0).drop_nulls().first().alias("acc_size"),
        pl.col("size").filter(pl.col("prio") > 0).drop_nulls().median().alias("ppl_size"),
        pl.col("industry").filter(pl.col("prio") == 0).drop_nulls().first().alias("acc_ind"),
        pl.col("company").filter(pl.col("prio") == 0).drop_nulls().first().alias("acc_company"),
    ).join(_mode(allp, "company", "company_mode"), on="domain", how="left").join(
        _mode(allp.filter(pl.col("prio") > 0), "industry", "ppl_ind"), on="domain", how="left")
    return best_prio.select(
        "domain",
        pl.coalesce("acc_company", "company_mode").alias("company"),
        pl.coalesce("acc_size", "ppl_size").alias("size"),
        pl.coalesce("acc_ind", "ppl_ind").alias("industry"),
    )


def _mode(frame: pl.DataFrame, col: str, alias: str) -> pl.DataFrame:
    """domain -> the most frequent non-null `col`, the smallest of equally frequent ones (a per-group
    mode().sort().first(), by counting pairs: per-group modes on millions of rows are slow)."""
    counts = frame.filter(pl.col(col).is_not_null()).group_by("domain", col).len()
    return counts.sort(["domain", "len", col], descending=[False, True, False]).group_by(
        "domain", maintain_order=True).agg(pl.col(col).first().alias(alias))


def _with_normalised_company(frame: pl.DataFrame, col: str, alias: str) -> pl.DataFrame:
    """`frame` with `normalise_company_expr(col)` as `alias`, each distinct name normalised once
    (millions of rows, far fewer companies)."""
    names = frame.select(pl.col(col).unique()).with_columns(normalise_company_expr(col).alias(alias))
    return frame.join(names, on=col, how="left", nulls_equal=True, maintain_order="left")


def _coworker_parts(src: GraphSources, nodes: _Interner, today: float, sizes: pl.DataFrame) -> pl.DataFrame:
    emp = _map(src.employment, "email", nodes, "pid", "employment.email")
    # each distinct name normalised once (millions of rows, far fewer companies)
    emp = _with_normalised_company(emp, "company", "cnorm").with_columns(
        _days("start").alias("s"), _days("end").alias("e"),
        pl.coalesce(pl.col("domain"), pl.lit("name:") + pl.col("cnorm")).alias("key"),
    ).drop("cnorm").filter(pl.col("key").is_not_null() & (pl.col("s") <= today))
    if emp.height < 2:
        return _parts_frame(a=[])
    emp = emp.with_columns(pl.min_horizontal(pl.col("e").fill_null(today), pl.lit(today)).alias("e"))
    emp = emp.join(sizes.select(pl.col("domain").alias("key"), "size"), on="key", how="left")
    emp = emp.sort("key", "s")
    key = emp["key"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    pid = emp["pid"].to_numpy()
    s = emp["s"].to_numpy()
    e = emp["e"].to_numpy()
    size = emp["size"].fill_null(np.nan).to_numpy().astype(np.float64)
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("i", "j")}
    n = len(pid)
    j = np.arange(n, dtype=np.int64)
    for k in range(1, min(COWORKER_NEIGHBOURS, n - 1) + 1):
        # rows k apart in the same company: rows are sorted by company, so only a row that had a same-company
        # row k - 1 below it can have one k below (companies average ~18 rows: most drop out early)
        j = j[j + k < n]
        j = j[key[j + k] == key[j]]
        if not len(j):
            break
        i = j + k
        ok = (pid[i] != pid[j]) & (np.minimum(e[i], e[j]) - np.maximum(s[i], s[j]) >= MIN_OVERLAP_DAYS)
        out["i"].append(i[ok])
        out["j"].append(j[ok])
    if not out["i"]:
        return _parts_frame(a=[])
    i = np.concatenate(out["i"])
    j = np.concatenate(out["j"])
    first = np.maximum(s[i], s[j])
    last = np.minimum(e[i], e[j])
    months = (last - first) / DAYS_PER_MONTH
    since = (today - last) / DAYS_PER_MONTH
    strength = coworker_strength(months, since, size[i])
    a = np.minimum(pid[i], pid[j])
    b = np.maximum(pid[i], pid[j])
    labels = emp["company"].cast(pl.Categorical).gather(pl.Series(i))  # codes, not millions of strings
    return _parts_frame(a=a, b=b, kind=np.full(len(a), KIND_CODE["coworker"]), strength=strength,
                        first=first, last=last, months=months, size=size[i], label=labels)


def _email_parts(src: GraphSources, nodes: _Interner, today: float) -> pl.DataFrame:
    em = src.emails.filter(pl.col("sent_at").is_not_null()).with_columns(_days("sent_at").alias("t"))
    em = em.filter(pl.col("t") <= today)
    if em.height == 0:
        return _parts_frame(a=[])
    em = em.select(
        "from_email", "t",
        pl.concat_list(pl.col("to_emails").fill_null([]), pl.col("cc_emails").fill_null([]))
        .list.unique().alias("rcpt"),
    ).filter(pl.col("rcpt").list.len() <= MAX_EMAIL_RECIPIENTS)
    x = em.explode("rcpt").drop_nulls("rcpt")
    x = _map(x, "from_email", nodes, "src")
    x = _map(x, "rcpt", nodes, "dst").filter(pl.col("src") != pl.col("dst"))
    return email_parts_from_pairs(x.select("src", "dst", "t"), today)


def email_parts_from_pairs(pairs: pl.DataFrame, today: float) -> pl.DataFrame:
    """Email ties from (src, dst, t) rows: one row per message and recipient, ids interned, `t` in days
    since 1970 (the `emails` table comes through here, and so does the Enron eval's mail)."""
    if pairs.height == 0:
        return _parts_frame(a=[])
    x = pairs.with_columns(pl.min_horizontal("src", "dst").alias("a"), pl.max_horizontal("src", "dst").alias("b"))
    g = x.group_by("a", "b").agg(
        pl.len().alias("n"), (pl.col("src") == pl.col("a")).sum().alias("n_ab"),
        (pl.col("src") == pl.col("b")).sum().alias("n_ba"), pl.col("t").min().alias("first"),
        pl.col("t").max().alias("last"),
    )
    mutual = ((g["n_ab"] > 0) & (g["n_ba"] > 0)).cast(pl.Float64).to_numpy()
    strength = email_strength(g["n"].to_numpy(), today - g["last"].to_numpy(), mutual)
    return _parts_frame(a=g["a"], b=g["b"], kind=np.full(g.height, KIND_CODE["email"]), strength=strength,
                        count=g["n"], first=g["first"], last=g["last"])


def _meeting_parts(src: GraphSources, nodes: _Interner, today: float) -> pl.DataFrame:
    mt = _map(src.meetings, "email", nodes, "pid", "meetings.email").with_columns(_days("occurred_at").alias("t"))
    mt = mt.filter(pl.col("t") <= today).unique(["meeting_id", "pid"])
    mt = mt.filter(pl.len().over("meeting_id") <= MAX_MEETING_SIZE)
    if mt.height == 0:
        return _parts_frame(a=[])
    left = mt.select("meeting_id", pl.col("pid").alias("a"), "t", "title")
    right = mt.select("meeting_id", pl.col("pid").alias("b"))
    pairs = left.join(right, on="meeting_id").filter(pl.col("a") < pl.col("b"))
    if pairs.height == 0:
        return _parts_frame(a=[])
    g = pairs.sort("t", "meeting_id").group_by("a", "b").agg(  # (meeting_id: one label for meetings at one time)
        pl.len().alias("n"), pl.col("t").min().alias("first"), pl.col("t").last().alias("last"),
        pl.col("title").last().alias("label"))
    strength = meeting_strength(g["n"].to_numpy(), today - g["last"].to_numpy())
    return _parts_frame(a=g["a"], b=g["b"], kind=np.full(g.height, KIND_CODE["meeting"]), strength=strength,
                        count=g["n"], first=g["first"], last=g["last"], label=g["label"])


def _relationship_parts(src: GraphSources, nodes: _Interner, today: float) -> pl.DataFrame:
    r = src.relationships.with_columns(
        pl.Series("pa", nodes.column_ids["relationships.a_email"]),
        pl.Series("pb", nodes.column_ids["relationships.b_email"]),
    ).filter((pl.col("pa") >= 0) & (pl.col("pb") >= 0) & (pl.col("pa") != pl.col("pb")))
    r = r.with_columns(_days("first_at").alias("first"), _days("last_at").alias("last"))
    # Anything that starts after the reference time did not exist yet; later ends are clipped.
    r = r.filter(pl.col("first").is_null() | (pl.col("first") <= today))
    r = r.with_columns(pl.min_horizontal("last", pl.lit(today)).alias("last"),
                       pl.min_horizontal("pa", "pb").alias("a"), pl.max_horizontal("pa", "pb").alias("b"))
    if r.height == 0:
        return _parts_frame(a=[])
    frames = []
    for kind in r["kind"].unique().to_list():
        g = r.filter(pl.col("kind") == kind)
        w = g["weight"].cast(pl.Float64).to_numpy()
        last = g["last"].to_numpy()
        first = g["first"].to_numpy()
        recent = np.where(np.isnan(last), np.where(np.isnan(first), np.nan, first), last)
        days = today - recent
        months: Any = None
        if kind == "email":
            s = email_strength(np.nan_to_num(w, nan=1.0), days, 0.5)
        elif kind == "meeting":
            s = meeting_strength(np.nan_to_num(w, nan=1.0), days)
        elif kind == "linkedin":
            s = linkedin_strength(w)
        elif kind == "coworker":
            months = np.where(np.isnan(first) | np.isnan(last), 12.0, (last - first) / DAYS_PER_MONTH)
            since = np.where(np.isnan(last), 0.0, (today - last) / DAYS_PER_MONTH)
            s = coworker_strength(months, since)
        elif kind in ROLE_BASE:
            s = role_strength(kind, w, days)
        else:
            continue
        count = np.nan_to_num(w, nan=1.0) if kind in ("email", "meeting") else w
        frames.append(_parts_frame(a=g["a"], b=g["b"], kind=np.full(g.height, KIND_CODE[kind]), strength=s,
                                   count=count, first=first, last=last, months=months))
    return pl.concat(frames) if frames else _parts_frame(a=[])


def _account_team_parts(src: GraphSources, nodes: _Interner) -> pl.DataFrame:
    acc = src.accounts.filter(pl.col("lifecycle_stage").fill_null("") != "churned")
    c = src.contacts.join(acc.select("account_id", pl.col("name").alias("acc_name"), "csm_email", "ae_email"),
                          on="account_id")
    frames = []
    for role, col in (("csm", "csm_email"), ("ae", "ae_email")):
        x = c.filter(pl.col(col).is_not_null())
        x = _map(_map(x, "email", nodes, "pc"), col, nodes, "pt").filter(pl.col("pc") != pl.col("pt"))
        if x.height == 0:
            continue
        frames.append(_parts_frame(
            a=x.select(pl.min_horizontal("pc", "pt"))[:, 0], b=x.select(pl.max_horizontal("pc", "pt"))[:, 0],
            kind=np.full(x.height, KIND_CODE["account_team"]),
            strength=np.full(x.height, ACCOUNT_TEAM_STRENGTH[role]),
            label=x.select((pl.lit(role.upper() + " for ") + pl.col("acc_name")).alias("label"))[:, 0],
        ))
    return pl.concat(frames) if frames else _parts_frame(a=[])


def _group_members(frame: pl.DataFrame, key: str) -> dict[str, np.ndarray]:
    g = frame.filter(pl.col(key).is_not_null()).group_by(key).agg(pl.col("pid"))
    return {k: np.asarray(v, dtype=np.int64) for k, v in zip(g[key].to_list(), g["pid"].to_list(), strict=True)}


def build_graph(src: GraphSources, as_of: datetime | None = None) -> GraphIndex:
    """Build the index from source frames. Ties dated after `as_of` (default now) are left out and
    recency is measured from it."""
    import time

    t0 = time.perf_counter()
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    today = _epoch_days(as_of)
    nodes = _intern(src)
    n = nodes.size
    profiles = _domain_profiles(src)

    parts = pl.concat([
        _coworker_parts(src, nodes, today, profiles),
        _email_parts(src, nodes, today),
        _meeting_parts(src, nodes, today),
        _relationship_parts(src, nodes, today),
        _account_team_parts(src, nodes),
    ])
    # Sort the parts by pair (evidence lookups binary-search this order), then per pair take the
    # strongest part of each kind and combine the kinds with a noisy-or, all with numpy.
    parts = parts.filter(pl.col("strength") > 0)
    pair = parts["a"].to_numpy() * n + parts["b"].to_numpy()
    order = np.argsort(pair * len(KINDS) + parts["kind"].to_numpy().astype(np.int64), kind="stable")
    parts = parts[order]
    pair = pair[order]
    kind = parts["kind"].to_numpy().astype(np.int64)
    strength = parts["strength"].to_numpy()
    if len(pair):
        group = np.flatnonzero(np.r_[True, (pair[1:] != pair[:-1]) | (kind[1:] != kind[:-1])])
        best = np.maximum.reduceat(strength, group)
        best_pair = pair[group]
        edge = np.flatnonzero(np.r_[True, best_pair[1:] != best_pair[:-1]])
        w = 1.0 - np.exp(np.add.reduceat(np.log1p(-np.clip(best, 0.0, MAX_STRENGTH)), edge))
        a, b = np.divmod(best_pair[edge], n)
    else:
        w = np.zeros(0)
        a = b = np.zeros(0, dtype=np.int64)
    matrix = sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                           shape=(n, n))
    matrix.sort_indices()
    part_keys = pair.astype(np.int64)

    index = _node_attributes(src, nodes, profiles, today)
    if src.complete:
        index["candidates"] = _candidate_columns(src, nodes, index["org_domain"], profiles, as_of)
    g = GraphIndex(
        as_of=as_of, emails=nodes.emails, matrix=matrix, parts=parts, part_keys=part_keys,
        **index,
    )
    g.build_seconds = time.perf_counter() - t0
    log.info("graph built: %d people, %d ties in %.2fs", n, g.edge_count, g.build_seconds)
    return g


OPEN_END_US = np.iinfo(np.int64).max


def _epoch_us(col: str) -> pl.Expr:
    return pl.col(col).dt.epoch("us")


def _current_jobs(pid: np.ndarray, indptr: np.ndarray, start: np.ndarray, end: np.ndarray, title: np.ndarray,
                  at: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`CandidateColumns.job_current*`: employment rows grouped by person (`indptr`), newest start first."""
    n = len(indptr) - 1
    current = np.zeros(n, dtype=title.dtype)
    since = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    until = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    if not len(pid):
        return current, since, until
    open_ = np.flatnonzero((start <= at) & (end > at))
    people, first = np.unique(pid[open_], return_index=True)  # rows are in each person's order
    current[people] = title[open_[first]]
    # The nearest start or end at or before `at`, and after it, per person with rows.
    floor = np.iinfo(np.int64).min
    ceiling = np.iinfo(np.int64).max
    before = np.maximum(np.where(start <= at, start, floor), np.where(end <= at, end, floor))
    after = np.minimum(np.where(start > at, start, ceiling), np.where(end > at, end, ceiling))
    with_rows = np.flatnonzero(indptr[1:] > indptr[:-1])
    since[with_rows] = np.maximum.reduceat(before, indptr[with_rows])
    until[with_rows] = np.minimum.reduceat(after, indptr[with_rows])
    return current, since, until


def _candidate_columns(src: GraphSources, nodes: _Interner, org_domain: list[str | None],
                       profiles: pl.DataFrame, as_of: datetime) -> CandidateColumns:
    n = nodes.size
    ppl = _map(src.people, "email", nodes, "pid", "people.email").unique("pid", keep="first")
    person = pl.DataFrame({"pid": np.arange(n, dtype=np.int64)}).with_columns(
        pl.Series("org_domain", org_domain, dtype=pl.String)).join(
        ppl.select("pid", pl.lit(True).alias("has_person"), pl.col("domain").alias("p_domain"), "title", "seniority",
                   "function", "industry", pl.col("company_employees").cast(pl.Float64).alias("employees"),
                   "location"),
        on="pid", how="left").join(
        # the profile of the person's organisation (`domain_profile.get(domain or "")` in the row-wise read)
        profiles.select(pl.col("domain").alias("org_key"), pl.col("size").alias("profile_size"),
                        pl.col("industry").alias("profile_industry")),
        left_on=pl.col("org_domain").fill_null(""), right_on="org_key", how="left").sort("pid")
    here = (pl.col("has_person").fill_null(False)
            & (pl.col("p_domain").is_null() | (pl.col("p_domain") == pl.col("org_domain"))).fill_null(False))
    person = person.with_columns(
        pl.col("has_person").fill_null(False),
        here.alias("here"),
        pl.when(here & (pl.col("industry").fill_null("") != "")).then("industry")
        .otherwise("profile_industry").alias("industry"),
        pl.when(here & pl.col("employees").is_not_nan().fill_null(False)).then("employees")
        .otherwise("profile_size").fill_null(np.nan).alias("employees"),
    ).drop("pid", "p_domain", "profile_size", "profile_industry")
    # Employment grouped by person, newest start first; equal starts keep the table's order, as the
    # row-wise lookup does ("a later start replaces", never an equal one).
    emp = _map(src.employment, "email", nodes, "pid", "employment.email").with_row_index("row").filter(
        pl.col("start").is_not_null()).with_columns(
        _epoch_us("start").alias("s"), _epoch_us("end").fill_null(OPEN_END_US).alias("e"),
    ).sort(["pid", "s", "row"], descending=[False, True, False])
    counts = np.bincount(emp["pid"].to_numpy(), minlength=n) if emp.height else np.zeros(n, dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    dnc = np.zeros(n, dtype=bool)
    flagged = _map(src.contacts.filter(pl.col("do_not_contact").fill_null(False)), "email", nodes, "pid")
    dnc[flagged["pid"].to_numpy()] = True
    live = src.accounts.filter(pl.col("lifecycle_stage").fill_null("") != "churned")["domain"].drop_nulls()
    opp = src.opportunities.filter(
        pl.col("referrer_email").is_not_null() | pl.col("referral_id").is_not_null()
        | (pl.col("source").str.to_lowercase() == "referral").fill_null(False)
    ).filter(pl.col("domain").is_not_null() & pl.col("created_at").is_not_null())
    referral_opps = opp.select(
        "domain", _epoch_us("created_at").alias("created"),
        (pl.col("account_name") + pl.lit(" came in as a referral (") + pl.col("opportunity_id") + pl.lit(", ")
         + pl.col("created_at").dt.strftime("%Y-%m-%d") + pl.lit(")")).alias("text"),
    )
    referral_rows: dict[str, list[int]] = {}
    for row, domain in enumerate(referral_opps["domain"].to_list()):
        referral_rows.setdefault(domain, []).append(row)
    job_start, job_end, job_title = emp["s"].to_numpy(), emp["e"].to_numpy(), Coded.of(emp["title"])
    current, current_from, current_until = _current_jobs(
        emp["pid"].to_numpy(), indptr, job_start, job_end, job_title.codes,
        int((as_of - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)))
    is_here = person["here"].to_numpy()
    coded = [Coded.of(person[name])
             for name in ("title", "seniority", "function", "industry", "location", "org_domain")]
    person_codes = np.stack([is_here.astype(np.int32), *(c.codes for c in coded[:5]), current.astype(np.int32),
                             coded[5].codes], axis=1)
    for k, column in zip((1, 2, 3, 4, 5, 7), coded, strict=True):
        column.codes = person_codes[:, k]
    title, seniority, function, industry, location, domain = coded
    return CandidateColumns(
        here=is_here, person_codes=person_codes, title=title, seniority=seniority, function=function,
        industry=industry, location=location, domain=domain, employees=person["employees"].to_numpy(),
        job_indptr=indptr, job_start=job_start, job_end=job_end, job_title=job_title,
        job_current=person_codes[:, 6],
        job_current_from=current_from, job_current_until=current_until,
        customer_domains=frozenset(live.to_list()), do_not_contact=dnc,
        referral_created=referral_opps["created"].to_numpy(), referral_rows=referral_rows,
        referral_text=referral_opps["text"].to_list(),
    )


def _node_attributes(src: GraphSources, nodes: _Interner, profiles: pl.DataFrame, today: float) -> dict[str, Any]:
    n = nodes.size
    # Names: people, then contacts, then team.
    names = pl.concat([
        _map(src.people, "email", nodes, "pid", "people.email").select("pid", "name", pl.lit(0).alias("p")),
        _map(src.contacts, "email", nodes, "pid", "contacts.email").select("pid", "name", pl.lit(1).alias("p")),
        _map(src.team, "email", nodes, "pid", "team.email").select("pid", "name", pl.lit(2).alias("p")),
    ]).drop_nulls().sort("p").unique("pid", keep="first").drop("p")
    # Current organisation: latest current employment, then people.csv, then the contact's account, then
    # the email's own domain (unless free mail).
    cur = _map(src.employment, "email", nodes, "pid", "employment.email").with_columns(_days("start").alias("s"), _days("end").alias("e")).filter(
        (pl.col("s") <= today) & (pl.col("e").is_null() | (pl.col("e") > today))
    ).sort("s", descending=True).unique("pid", keep="first").select(
        "pid", pl.col("domain").alias("d0"), pl.col("company").alias("c0"))
    ppl = _map(src.people, "email", nodes, "pid", "people.email").select(
        "pid", pl.col("domain").alias("d1"), pl.col("company").alias("c1")).unique("pid")
    acc = _map(src.contacts, "email", nodes, "pid", "contacts.email").select("pid", "account_id").join(
        src.accounts.select("account_id", pl.col("domain").alias("d2"), pl.col("name").alias("c2")), on="account_id"
    ).drop("account_id").unique("pid", keep="first")
    org = nodes.frame().join(cur, on="pid", how="left").join(ppl, on="pid", how="left").join(
        acc, on="pid", how="left").join(names, on="pid", how="left")
    own = pl.col("email").str.split("@").list.last()
    org = org.with_columns(
        pl.coalesce("d0", "d1", "d2", pl.when(~own.is_in(list(FREE_MAIL))).then(own)).alias("domain"),
    ).join(profiles.select("domain", pl.col("company").alias("c3")), on="domain", how="left").with_columns(
        pl.coalesce(
            pl.when(pl.col("d0").is_not_null()).then("c0"),
            pl.when(pl.col("d0").is_null() & pl.col("d1").is_not_null()).then("c1"),
            pl.when(pl.col("d0").is_null() & pl.col("d1").is_null() & pl.col("d2").is_not_null()).then("c2"),
            "c0", "c1", "c2", "c3",
        ).alias("company"),
    ).sort("pid")
    org = _with_normalised_company(org, "company", "cnorm")

    # Pillars, in precedence order customer > employee > investor > advisor > partner.
    pillar = np.zeros(n, dtype=np.int8)
    vendor_team = np.zeros(n, dtype=bool)
    team_any = np.zeros(n, dtype=bool)
    route: dict[int, str] = {}
    connector_account: dict[int, str] = {}

    def ids(frame: pl.DataFrame, col: str) -> np.ndarray:
        return _map(frame.filter(pl.col(col).is_not_null()), col, nodes, "pid")["pid"].to_numpy()

    def assign(pids: np.ndarray, code: int) -> None:
        free = pids[pillar[pids] == 0]
        pillar[free] = code

    live = src.accounts.filter(pl.col("lifecycle_stage").fill_null("") != "churned")
    cust = _map(src.contacts.filter(~pl.col("do_not_contact").fill_null(False)), "email", nodes, "pid").join(
        live.select("account_id", pl.col("name").alias("account_name"), "csm_email", "ae_email"), on="account_id")
    assign(cust["pid"].to_numpy(), PILLAR_CODE["customer"])
    # (the account's name, not the contact's: both tables have a "name")
    for pid_, csm, ae, acc_name in cust.select("pid", "csm_email", "ae_email", "account_name").iter_rows():
        owner = csm or ae
        if owner:
            route[int(pid_)] = owner
        connector_account[int(pid_)] = acc_name
    team = src.team.with_columns(pl.col("role").str.to_lowercase())
    vt = ids(team.filter(pl.col("role").is_in(list(VENDOR_ROLES))), "email")
    vendor_team[vt] = True
    team_any[ids(team, "email")] = True
    assign(vt, PILLAR_CODE["employee"])
    inv_partners = src.partners.filter(pl.col("kind") == "investor")
    assign(np.concatenate([ids(team.filter(pl.col("role") == "investor"), "email"),
                           ids(inv_partners, "contact_email")]), PILLAR_CODE["investor"])
    assign(ids(team.filter(pl.col("role") == "advisor"), "email"), PILLAR_CODE["advisor"])
    assign(np.concatenate([ids(team.filter(pl.col("role") == "partner"), "email"),
                           ids(src.partners.filter(pl.col("kind") != "investor"), "contact_email")]),
           PILLAR_CODE["partner"])

    name_domains: dict[str, set[str]] = {}
    for name, dom in pl.concat([
        src.accounts.select("name", "domain"), src.partners.select("name", "domain"),
        src.opportunities.select(pl.col("account_name").alias("name"), "domain"),
        src.people.select(pl.col("company").alias("name"), "domain"),
        src.employment.select(pl.col("company").alias("name"), "domain"),
    ]).drop_nulls().unique().iter_rows():
        key = normalise_company(name)
        if key:
            name_domains.setdefault(key, set()).add(dom)
    profile = {d: (c, s, i) for d, c, s, i in profiles.select("domain", "company", "size", "industry").iter_rows()}
    return {
        "names": org["name"].to_list(),
        "org_domain": org["domain"].to_list(),
        "org_company": org["company"].to_list(),
        "pillar": pillar, "route": route, "connector_account": connector_account,
        "domain_members": _group_members(org, "domain"),
        "company_members": _group_members(org, "cnorm"),
        "name_domains": name_domains, "domain_profile": profile,
        "vendor_team": vendor_team, "team_any": team_any,
    }


# ---------------------------------------------------------------------------------------------------
# Cache

MAX_CACHED_GRAPHS = 4
_cache: dict[str, tuple[tuple[Any, ...], GraphIndex]] = {}
_lock = threading.Lock()
_rolling_over: dict[str, threading.Thread] = {}  # database url -> the thread building today's graph


def _today() -> date:
    """The live UTC day (a function, so that tests can move it)."""
    return datetime.now(UTC).date()


def _staleness_key(session: Session) -> tuple[Any, ...]:
    from warmintro.store import models as m

    runs = session.execute(select(func.max(m.ImportRun.id), func.count(m.ImportRun.id))).one()
    small = tuple(session.scalar(select(func.count()).select_from(t)) or 0
                  for t in (m.TeamMember, m.Account, m.Contact, m.Partner))
    return (runs[0], runs[1], *small)


def get_graph(session: Session, as_of: datetime | None = None) -> GraphIndex:
    """The graph for this database as of the UTC day of `as_of` (default today), built once and reused
    until an import runs. Day-granular on purpose, so that every query of a day shares one build: ties
    dated up to the end of that day count, and recency is measured from it."""
    when = (as_of or datetime.now(UTC)).astimezone(UTC)
    ref = datetime.combine(when.date(), datetime.min.time(), tzinfo=UTC) + timedelta(days=1, microseconds=-1)
    bind = session.get_bind()
    url = f"{bind.engine.url.render_as_string(hide_password=True)}#{id(bind.engine)}"
    key = (*_staleness_key(session), ref.date().isoformat())
    with _lock:
        hit = _cache.get(url)
        if hit is not None and hit[0] == key:
            return hit[1]
        if hit is not None and _rolled_over(hit[0], key):
            if url not in _rolling_over:
                thread = threading.Thread(target=_build_in_background, args=(bind.engine, url, key, ref),
                                          name="graph-rollover", daemon=True)
                _rolling_over[url] = thread
                thread.start()
            return hit[1]
        graph = build_graph(read_sources(session), ref)
        _keep(url, key, graph)
        return graph


def _keep(url: str, key: tuple[Any, ...], graph: GraphIndex) -> None:
    """Cache `graph` for `url` (under _lock)."""
    _cache.pop(url, None)
    while len(_cache) >= MAX_CACHED_GRAPHS:
        _cache.pop(next(iter(_cache)))
    _cache[url] = (key, graph)


def _rolled_over(cached: tuple[Any, ...], wanted: tuple[Any, ...]) -> bool:
    """The same data, and `wanted` is the live day right after the cached graph's day."""
    if cached[:-1] != wanted[:-1] or wanted[-1] != _today().isoformat():
        return False
    return date.fromisoformat(cached[-1]) + timedelta(days=1) == date.fromisoformat(wanted[-1])


def _build_in_background(engine: Any, url: str, key: tuple[Any, ...], ref: datetime) -> None:
    """Build the graph of `key`'s day in a session of its own and swap it in, unless an import ran meanwhile
    (the next query then builds that one). A failure is logged; the next query tries again."""
    try:
        with Session(engine) as session:
            fresh_key = (*_staleness_key(session), key[-1])
            graph = build_graph(read_sources(session), ref) if fresh_key == key else None
        with _lock:
            if graph is not None and url in _cache and _cache[url][0][:-1] == key[:-1]:
                _keep(url, key, graph)
    except Exception:
        log.exception("building the graph of %s failed; the next query tries again", key[-1])
    finally:
        with _lock:
            _rolling_over.pop(url, None)


def invalidate_graph() -> None:
    """Forget every cached graph (call after writing ties outside the importer)."""
    with _lock:
        _cache.clear()


def wait_for_rollover(timeout: float | None = None) -> bool:
    """Wait for the graphs being built after a day rolled over; False if one is still building (tests)."""
    with _lock:
        threads = list(_rolling_over.values())
    for thread in threads:
        thread.join(timeout)
    return not any(t.is_alive() for t in threads)


def ids_of(graph: GraphIndex, emails: Sequence[str]) -> list[int]:
    return [i for e in emails if (i := graph.id_of(e)) is not None]
