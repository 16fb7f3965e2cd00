"""The program configuration (program.toml): vendor, ideal customer profile and rules, with defaults.

The importer validates program.toml with these models and stores it; engines read it back with
`load_program(session)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session


class Vendor(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    domain: str = Field(min_length=3)
    one_liner: str | None = None

    @field_validator("domain")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


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

    def window_hours(self, trigger_type: str) -> float:
        return self.ask_window_hours_by_type.get(trigger_type, self.ask_window_hours)


class Program(BaseModel):
    model_config = ConfigDict(extra="allow")
    vendor: Vendor
    icp: ICP = ICP()
    rules: Rules = Rules()
    rewards: dict[str, Any] = {}
    presets: dict[str, Any] = {}


KNOWN_SECTIONS = {"vendor", "icp", "rules", "rewards", "presets"}


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
