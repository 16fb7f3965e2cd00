"""Data model of the demo generator: the in-memory world, the sizes, and the planted ground truth.

The small tables (accounts, contacts, team, signals, meetings, asks, opportunities, partners, planted
people and ties) live here as plain dataclasses in a `World`; the big ones (network people,
employment, relationships, usage) are streamed straight to disk with numpy/polars and never held as
Python objects.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

# Named sizes. Every key is a keyword of `generate_workspace`, so `generate_workspace(out, **SIZES["L"])`
# works. None means "derived from the number of accounts".
SIZES: dict[str, dict[str, Any]] = {
    "S": {"accounts": 60, "people": 2_500, "ties": 10_000, "emails": None, "usage_rows": None},
    "M": {"accounts": 1_000, "people": 60_000, "ties": 300_000, "emails": 30_000, "usage_rows": 1_500_000},
    "L": {"accounts": 5_000, "contacts": 50_000, "people": 1_000_000, "ties": 5_000_000, "emails": 100_000,
          "usage_rows": 10_000_000},
}

PERSONAS: tuple[str, ...] = ("economic_buyer", "product_user", "power_user", "administrator")
USER_PERSONAS: tuple[str, ...] = ("product_user", "power_user", "administrator")
SKIP_REASONS: tuple[str, ...] = (
    "do_not_contact", "unhealthy", "churn_risk", "onboarding", "negotiation", "escalation", "detractor",
    "inactive", "decline_cooldown", "cadence_limit", "too_soon", "window_expired",
)
TARGET_EXCLUSIONS: tuple[str, ...] = (
    "same_domain", "customer", "do_not_contact", "competitor", "recently_referred", "outside_icp",
)
ASK_WINDOW = timedelta(hours=48)
LOOKBACK = timedelta(days=30)


# ---------------------------------------------------------------------------------------------------
# Formatting

def ts(value: datetime | None) -> str:
    """ISO 8601 UTC with a Z, to the second; '' for None."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(value: datetime | date | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d")


def derive_rng(seed: int, name: str) -> random.Random:
    """An independent, reproducible stream per component (string seeds hash with SHA-512)."""
    return random.Random(f"warmintro-demo:{seed}:{name}")


def derive_np(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(ord(c) for c in name)])


# ---------------------------------------------------------------------------------------------------
# The small tables

@dataclass
class Vendor:
    name: str
    domain: str
    one_liner: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "domain": self.domain, "one_liner": self.one_liner}


@dataclass
class TeamMember:
    email: str
    first: str
    last: str
    gender: str
    role: str
    slack_user_id: str = ""
    title: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class Partner:
    partner_id: str
    name: str
    domain: str
    kind: str
    tier: str
    certified: bool
    contact_email: str
    commission_rate: float | None = None


@dataclass
class Account:
    index: int
    account_id: str
    name: str
    domain: str
    industry: str
    employees: int
    arr: float
    nrr: float | None
    health: float
    stage: str
    customer_since: datetime
    renewal_date: datetime
    csm: str
    ae: str
    story: str
    location: str
    churned_at: datetime | None = None
    # Planted scenarios own this account: background noise stays out of the recent past.
    protected: bool = False
    # Days before as_of (inclusive range) in which nobody at the account uses the product.
    gap: tuple[int, int] | None = None
    contacts: list[int] = field(default_factory=list)


@dataclass
class Contact:
    index: int
    contact_id: str
    account: int
    first: str
    last: str
    gender: str
    email: str
    title: str
    function: str
    seniority: str
    persona: str
    crm_role: str = ""
    dnc: bool = False
    slack_user_id: str = ""
    location: str = ""
    # No usage on the last `idle_days` days before as_of (a contact who went quiet).
    idle_days: int = 0
    planted: bool = False  # has a role in a planted scenario
    champion: bool = False  # a targets champion: only planted ties
    writer: bool = False  # writes emails in emails.jsonl
    extra: bool = False  # added by a scenario (not one of the account's regular contacts)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class Signal:
    account_id: str
    type: str
    at: datetime
    contact_email: str = ""
    score: float | None = None
    sentiment: str = ""  # the column as written ('' = empty, to be inferred)
    notes: str = ""
    resolved_at: datetime | None = None
    label: str = "neutral"  # true sentiment
    signal_id: str = ""


@dataclass
class Meeting:
    account_id: str
    title: str
    kind: str
    at: datetime
    attendees: list[str]
    meeting_id: str = ""


@dataclass
class AskRow:
    contact_email: str
    asked_at: datetime
    outcome: str
    channel: str
    asked_by: str


@dataclass
class Opportunity:
    account_name: str
    domain: str
    stage: str
    amount: float
    created_at: datetime
    closed_at: datetime | None = None
    source: str = ""
    referrer_email: str = ""
    opportunity_id: str = ""


@dataclass
class Job:
    company: str
    domain: str
    title: str
    start: date
    end: date | None = None


@dataclass
class PlantedPerson:
    """A network person the scenarios need exactly (targets, decoys, prospects' staff)."""

    email: str
    first: str
    last: str
    gender: str
    company: str
    domain: str
    title: str
    seniority: str
    function: str
    industry: str
    employees: int
    location: str
    jobs: list[Job] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class Tie:
    a: str
    b: str
    kind: str
    weight: float | None = None
    first_at: date | None = None
    last_at: date | None = None


@dataclass
class Company:
    name: str
    domain: str
    industry: str
    employees: int
    location: str


# ---------------------------------------------------------------------------------------------------
# Ground truth

@dataclass
class PlantedMoment:
    """One contact with a positive moment in the lookback: an ask (no reasons) or a skip."""

    contact: int
    account: int
    trigger: Signal
    reasons: list[str]  # every skip reason that applies, in precedence order ([] = ask)
    scenario: str


@dataclass
class GroundTruth:
    """What the generator planted, by construction (see docs/rules.md for the semantics).

    asks / skipped: exactly the contacts a scan at `as_of` must report (skipped with THE reason by
    precedence, plus `also`: the other reasons that apply). personas: every contact's true persona.
    sentiment: the true label of every signal written with an empty sentiment column. targets: per
    champion, the good targets best first and one decoy per exclusion reason. who_knows: per domain,
    the connectors with a direct (one-hop) tie to someone there. moves: contacts who left their account for
    an ICP-fit company (what `mobility` must report). voices: the email voice of every
    email writer. programs: per referral program (customer, partner, employee), the opportunities its
    referrers sourced, won deals, pipeline, won revenue, payouts at close and pending (partner and employee)
    and the 12-month retention cohort: what the report's program economics must show
    (warmintro.demo.programs). ledger: every referral `warmintro demo` records, with its program, referrer,
    trigger, persona, the deal it led to (or none) and the furthest stage it reached.
    """

    as_of: str
    seed: int
    vendor: dict[str, str]
    asks: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    personas: dict[str, str] = field(default_factory=dict)
    sentiment: dict[str, str] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    who_knows: dict[str, list[str]] = field(default_factory=dict)
    moves: dict[str, dict[str, Any]] = field(default_factory=dict)
    voices: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    programs: dict[str, dict[str, Any]] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    @property
    def as_of_datetime(self) -> datetime:
        return datetime.fromisoformat(self.as_of.replace("Z", "+00:00"))


@dataclass
class World:
    """Everything the generator decided, before it is written out."""

    as_of: datetime
    seed: int
    vendor: Vendor
    competitors: list[Company]
    icp: dict[str, Any]
    team: list[TeamMember] = field(default_factory=list)
    partners: list[Partner] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    asks: list[AskRow] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    planted_people: list[PlantedPerson] = field(default_factory=list)
    planted_ties: list[Tie] = field(default_factory=list)
    contact_jobs: dict[int, list[Job]] = field(default_factory=dict)
    moments: list[PlantedMoment] = field(default_factory=list)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    who_knows: dict[str, list[str]] = field(default_factory=dict)
    moves: dict[str, dict[str, Any]] = field(default_factory=dict)
    voices: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenario_notes: list[dict[str, Any]] = field(default_factory=list)
    # every ledger referral `warmintro demo` records (warmintro.demo.programs.plan_ledger)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    used_emails: set[str] = field(default_factory=set)
    used_domains: set[str] = field(default_factory=set)

    def account_of(self, contact: Contact) -> Account:
        return self.accounts[contact.account]

    def hours_ago(self, hours: float) -> datetime:
        return self.as_of - timedelta(hours=hours)

    def days_ago(self, days: float) -> datetime:
        return self.as_of - timedelta(days=days)

    def csm(self, account: Account) -> TeamMember:
        return next(m for m in self.team if m.email == account.csm)
