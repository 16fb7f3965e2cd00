"""The program configuration (program.toml): vendor, ideal customer profile and rules, with defaults.

The importer validates program.toml with these models and stores it; engines read it back with
`load_program(session)`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session


class Vendor(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    domain: str = Field(min_length=3)
    one_liner: str | None = None
    # ISO 4217 code of every amount in the imported data (opportunities, ARR, payouts): reports name it
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @field_validator("domain")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v


class ICP(BaseModel):
    model_config = ConfigDict(extra="allow")
    industries: list[str] = []
    employees_min: int | None = Field(default=None, ge=0)
    employees_max: int | None = Field(default=None, ge=0)
    functions: list[str] = []
    seniorities: list[str] = []
    title_keywords: list[str] = []
    exclude_domains: list[str] = []
    locations: list[str] = []

    @field_validator("exclude_domains")
    @classmethod
    def _lower_domains(cls, v: list[str]) -> list[str]:
        return [d.strip().lower() for d in v]


class Rules(BaseModel):
    """Program rules; defaults from the contract. docs/rules.md says exactly what each one means."""

    model_config = ConfigDict(extra="forbid")
    promoter_min: int = Field(default=9, ge=0, le=10)
    detractor_max: int = Field(default=6, ge=0, le=10)
    detractor_days: int = Field(default=90, ge=0)
    ask_window_hours: float = Field(default=48, gt=0)
    ask_window_hours_by_type: dict[str, float] = {}
    trigger_lookback_days: int = Field(default=30, gt=0)
    nrr_min: float = Field(default=100, ge=0)
    active_weeks: int = Field(default=4, ge=0)
    persona_active_days: int = Field(default=30, ge=0)
    escalation_quiet_days: int = Field(default=14, ge=0)
    churn_risk_days: int = Field(default=90, ge=0)
    max_asks_per_year: int = Field(default=3, ge=1)
    min_days_between_asks: int = Field(default=90, ge=0)
    decline_cooldown_days: int = Field(default=180, ge=0)
    attribution_days: int = Field(default=90, gt=0)
    attribution_days_enterprise: int = Field(default=180, gt=0)
    enterprise_deal_size: float = Field(default=100_000, gt=0)
    first_touch_sla_hours: float = Field(default=24, gt=0)
    close_loop_days: int = Field(default=30, gt=0)
    # Ledger additions (issue 7): reminder before the first-touch SLA, fraud flags.
    first_touch_reminder_hours: float = Field(default=20, gt=0)
    ring_window_days: int | None = Field(default=None, gt=0)  # default: the attribution window
    fraud_min_referrals: int = Field(default=3, ge=1)
    fraud_conversion_min: float = Field(default=0.6, gt=0, le=1)
    fraud_conversion_multiple: float = Field(default=2.0, ge=1)
    routing_pool: list[str] = []  # team emails new referrals are spread over (default: every AE and SDR)

    def window_hours(self, trigger_type: str) -> float:
        return self.ask_window_hours_by_type.get(trigger_type, self.ask_window_hours)


RewardKind = Literal["credit", "bonus", "non_cash", "donation"]


class RewardTier(BaseModel):
    """A customer reward tier: from the `at`-th successful (won) referral on, each one earns `amount`."""

    model_config = ConfigDict(extra="forbid")
    at: int = Field(ge=1)
    name: str = Field(min_length=1)
    amount: float = Field(ge=0)
    kind: RewardKind = "credit"


DEFAULT_TIERS = (RewardTier(at=1, name="thank_you", amount=250), RewardTier(at=5, name="advocate", amount=500),
                 RewardTier(at=10, name="champion", amount=1000))


class CustomerRewards(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tiers: list[RewardTier] = list(DEFAULT_TIERS)
    # Enterprise-size referrer accounts get non-cash rewards by default (swag, experiences, a donation...).
    enterprise_kind: RewardKind = "non_cash"
    enterprise_employees: int = Field(default=1000, ge=1)
    # Double-sided rewards (issue 13): the referee gets a reward too, recorded on the referral. Off unless
    # asked for; even then off for deals at or above the enterprise deal size unless referee_enterprise.
    double_sided: bool = False
    referee_amount: float = Field(default=250, ge=0)
    referee_kind: RewardKind = "credit"
    referee_enterprise: bool = False

    @field_validator("tiers")
    @classmethod
    def _sorted_unique(cls, v: list[RewardTier]) -> list[RewardTier]:
        ats = [t.at for t in v]
        if len(set(ats)) != len(ats):
            raise ValueError("two tiers at the same referral count")
        return sorted(v, key=lambda t: t.at)


class PartnerTier(BaseModel):
    """A partner tier (issue 13): reached with at least `min_won` won deals in the last `window_days` (and a
    certification when `certified`); `rate` (percent) overrides the kind's default rate when given."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    min_won: int = Field(default=0, ge=0)
    certified: bool = False
    rate: float | None = Field(default=None, ge=0, le=100)


DEFAULT_PARTNER_TIERS = (PartnerTier(name="registered"), PartnerTier(name="silver", min_won=2),
                         PartnerTier(name="gold", min_won=5, certified=True))


class PartnerRewards(BaseModel):
    model_config = ConfigDict(extra="forbid")
    implementation_rate: float = Field(default=25, ge=0, le=100)  # percent of the won amount
    default_rate: float = Field(default=15, ge=0, le=100)
    recurring: bool = True  # due again at each anniversary while the account stays a customer
    # Tiers, lowest first; the default tiers carry no rate of their own (the contract's default rates apply).
    tiers: list[PartnerTier] = list(DEFAULT_PARTNER_TIERS)
    tier_window_days: int = Field(default=365, gt=0)

    @field_validator("tiers")
    @classmethod
    def _unique_names(cls, v: list[PartnerTier]) -> list[PartnerTier]:
        names = [t.name.lower() for t in v]
        if len(set(names)) != len(names):
            raise ValueError("two partner tiers with the same name")
        return v


class EmployeeRewards(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fee: float = Field(default=1000, ge=0)
    enterprise_fee: float = Field(default=3000, ge=0)


class RewardRules(BaseModel):
    """program.toml `[rewards]` (contract "Programs and payouts"), with the defaults."""

    model_config = ConfigDict(extra="forbid")
    customer: CustomerRewards = CustomerRewards()
    partner: PartnerRewards = PartnerRewards()
    employee: EmployeeRewards = EmployeeRewards()
    clawback_days: int = Field(default=90, ge=0)


class Qualification(BaseModel):
    """program.toml `[qualification]` (issue 13): the bar a partner's lead is held to at submission.

    A lead is held for review when its company is known and outside the ICP (or unknown, with
    `hold_unknown_icp`), or when the partner has at least `min_history` matured leads (older than
    `mature_days`) and the share reaching a meeting or an opportunity is below the minimum. A partner below
    the bar is also flagged (`partner_quality`) on its referrals."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    hold_unknown_icp: bool = False
    min_history: int = Field(default=5, ge=1)
    mature_days: int = Field(default=30, ge=0)
    min_meeting_rate: float = Field(default=0.3, ge=0, le=1)
    min_opportunity_rate: float = Field(default=0.1, ge=0, le=1)


class EmployeeProgram(BaseModel):
    """program.toml `[employees]`: the Slack channel (id, e.g. C0123) where "name, email, company, context"
    messages become employee referrals."""

    model_config = ConfigDict(extra="forbid")
    referrals_channel: str | None = None


class Economics(BaseModel):
    """program.toml `[economics]`: the inputs of the program economics in the report. CAC figures are per won
    customer; platform_cost is the program's tooling cost over the reported period; time_cost_per_referral is
    the team's time spent on each referral (hours x loaded rate)."""

    model_config = ConfigDict(extra="forbid")
    paid_cac: float | None = Field(default=None, ge=0)
    organic_cac: float | None = Field(default=None, ge=0)
    outbound_close_rate: float | None = Field(default=None, ge=0, le=1)
    platform_cost: float = Field(default=0, ge=0)
    time_cost_per_referral: float = Field(default=0, ge=0)
    retention_days: int = Field(default=365, gt=0)


class Program(BaseModel):
    model_config = ConfigDict(extra="allow")
    vendor: Vendor
    icp: ICP = ICP()
    rules: Rules = Rules()
    rewards: dict[str, Any] = {}
    presets: dict[str, Any] = {}
    qualification: Qualification = Qualification()
    employees: EmployeeProgram = EmployeeProgram()
    economics: Economics = Economics()

    @field_validator("rewards")
    @classmethod
    def _valid_rewards(cls, v: dict[str, Any]) -> dict[str, Any]:
        RewardRules.model_validate(v)  # reject a bad [rewards] at import, with the field path
        return v

    @property
    def reward_rules(self) -> RewardRules:
        return RewardRules.model_validate(self.rewards)


KNOWN_SECTIONS = {"vendor", "icp", "rules", "rewards", "presets", "qualification", "employees", "economics"}


def parse_program(data: dict[str, Any]) -> tuple[Program | None, list[tuple[str, str]]]:
    """Validate parsed TOML. Returns (program, [(field path, reason)])."""
    try:
        return Program.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            reason = err["msg"]
            if err["type"] == "extra_forbidden":
                reason = "unknown rule (see docs/rules.md for the rule names)"
            problems.append((loc, reason))
        return None, problems


def load_program(session: Session) -> Program:
    """The program as imported; defaults when no program.toml was imported yet."""
    from warmintro.store.models import ProgramSetting

    data = {row.section: row.value for row in session.scalars(select(ProgramSetting))}
    if "vendor" not in data:
        data["vendor"] = {"name": "Your company", "domain": "example.com"}
    return Program.model_validate(data)
