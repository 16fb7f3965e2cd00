"""The import folder's files and columns, as data (../shared/design/contract.md, "Import folder")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "str", "email", "emails", "domain", "int", "float", "percent", "bool", "datetime", "enum"]

LIFECYCLE_STAGES = ("onboarding", "active", "renewal", "churned")
CRM_ROLES = ("economic_buyer", "product_user", "power_user", "administrator", "other")
SIGNAL_TYPES = (
    "nps", "qbr", "go_live", "expansion", "renewal", "public_win", "milestone", "offboarding",
    "support_escalation", "churn_risk", "contract_negotiation", "downgrade",
)
SENTIMENTS = ("positive", "neutral", "negative")
MEETING_KINDS = ("qbr", "renewal", "onboarding", "kickoff", "other")
SENIORITIES = ("ic", "manager", "director", "vp", "cxo")
FUNCTIONS = ("marketing", "sales", "cs", "ops", "revops", "engineering", "it", "finance", "product", "hr", "other")
RELATIONSHIP_KINDS = ("email", "meeting", "linkedin", "coworker", "investor", "advisor", "partner")
TEAM_ROLES = ("csm", "ae", "sdr", "revops", "admin", "employee", "investor", "advisor", "partner")
OPPORTUNITY_STAGES = ("prospecting", "discovery", "evaluation", "negotiation", "won", "lost")
ASK_OUTCOMES = ("accepted", "declined", "no_response", "pending")
PARTNER_KINDS = ("referral", "implementation", "technology", "agency", "investor", "community")
WELL_KNOWN_EVENTS = (
    "login", "feature_used", "workflow_completed", "report_shared", "integration_configured",
    "admin_settings_changed", "user_invited",
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "str"
    required: bool = False
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    default: object = None


@dataclass(frozen=True)
class FileSpec:
    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required_file: bool = False
    # Files whose rows are rolled up at import rather than stored one by one.
    rollup: bool = False
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def C(name: str, kind: Kind = "str", *, req: bool = False, choices: tuple[str, ...] = (),
      lo: float | None = None, hi: float | None = None, default: object = None) -> Column:
    return Column(name, kind, req, choices, lo, hi, default)


FILES: dict[str, FileSpec] = {
    spec.name: spec
    for spec in (
        FileSpec("accounts.csv", "accounts", (
            C("account_id", "id", req=True), C("name", req=True), C("domain", "domain", req=True),
            C("industry"), C("employees", "int", lo=0), C("arr", "float", lo=0), C("nrr", "percent", lo=0, hi=1000),
            C("health_score", "float", lo=0, hi=100), C("lifecycle_stage", "enum", choices=LIFECYCLE_STAGES),
            C("customer_since", "datetime"), C("renewal_date", "datetime"), C("csm_email", "email"),
            C("ae_email", "email"),
        ), key=("account_id",), required_file=True),
        FileSpec("contacts.csv", "contacts", (
            C("contact_id", "id", req=True), C("account_id", "id", req=True), C("name", req=True),
            C("email", "email", req=True), C("title"), C("crm_role", "enum", choices=CRM_ROLES),
            C("do_not_contact", "bool", default=False), C("slack_user_id"),
        ), key=("contact_id",), required_file=True),
        FileSpec("signals.csv", "signals", (
            C("signal_id", "id", req=True), C("account_id", "id", req=True), C("contact_email", "email"),
            C("type", "enum", req=True, choices=SIGNAL_TYPES), C("occurred_at", "datetime", req=True),
            C("score", "float", lo=0, hi=10), C("sentiment", "enum", choices=SENTIMENTS), C("notes"),
            C("resolved_at", "datetime"),
        ), key=("signal_id",)),
        FileSpec("usage.csv", "usage_daily", (
            C("account_id", "id", req=True), C("contact_email", "email", req=True), C("event", "id", req=True),
            C("occurred_at", "datetime", req=True), C("count", "int", lo=0, default=1),
        ), rollup=True),
        FileSpec("meetings.csv", "meetings", (
            C("meeting_id", "id", req=True), C("account_id", "id"), C("title", req=True),
            C("kind", "enum", choices=MEETING_KINDS), C("occurred_at", "datetime", req=True),
            C("attendees", "emails", req=True),
        ), key=("meeting_id",)),
        FileSpec("people.csv", "people", (
            C("email", "email", req=True), C("name", req=True), C("company"), C("domain", "domain"), C("title"),
            C("seniority", "enum", choices=SENIORITIES), C("function", "enum", choices=FUNCTIONS), C("industry"),
            C("company_employees", "int", lo=0), C("location"), C("linkedin_url"),
        ), key=("email",)),
        FileSpec("employment.csv", "employment", (
            C("email", "email", req=True), C("company", req=True), C("domain", "domain"), C("title"),
            C("start", "datetime", req=True), C("end", "datetime"),
        ), key=("email", "company", "start")),
        FileSpec("relationships.csv", "relationships", (
            C("a_email", "email", req=True), C("b_email", "email", req=True),
            C("kind", "enum", req=True, choices=RELATIONSHIP_KINDS), C("weight", "float", lo=0),
            C("first_at", "datetime"), C("last_at", "datetime"),
        ), key=("a_email", "b_email", "kind")),
        FileSpec("team.csv", "team", (
            C("email", "email", req=True), C("name", req=True), C("role", "enum", req=True, choices=TEAM_ROLES),
            C("slack_user_id"),
        ), key=("email",)),
        FileSpec("opportunities.csv", "opportunities", (
            C("opportunity_id", "id", req=True), C("account_name", req=True), C("domain", "domain", req=True),
            C("stage", "enum", req=True, choices=OPPORTUNITY_STAGES), C("amount", "float", lo=0),
            C("created_at", "datetime", req=True), C("closed_at", "datetime"), C("source"),
            C("referrer_email", "email"), C("referral_id"),
        ), key=("opportunity_id",)),
        FileSpec("asks.csv", "asks", (
            C("contact_email", "email", req=True), C("asked_at", "datetime", req=True),
            C("outcome", "enum", choices=ASK_OUTCOMES), C("channel"), C("asked_by", "email"),
        ), key=("contact_email", "asked_at")),
        FileSpec("partners.csv", "partners", (
            C("partner_id", "id", req=True), C("name", req=True), C("domain", "domain", req=True),
            C("kind", "enum", req=True, choices=PARTNER_KINDS), C("tier"), C("certified", "bool"),
            C("contact_email", "email"), C("commission_rate", "percent", lo=0, hi=100),
        ), key=("partner_id",)),
    )
}

# Load order: parents before children (contacts need accounts, etc.).
LOAD_ORDER = (
    "accounts.csv", "contacts.csv", "team.csv", "partners.csv", "signals.csv", "meetings.csv", "usage.csv",
    "people.csv", "employment.csv", "relationships.csv", "opportunities.csv", "asks.csv",
)

KNOWN_ENTRIES = set(FILES) | {"program.toml", "emails"}

# program.toml [rules]: name -> type. Unknown keys are warned about, wrong types rejected.
RULE_TYPES: dict[str, type] = {
    "promoter_min": int, "detractor_max": int, "ask_window_hours": float, "trigger_lookback_days": int,
    "nrr_min": float, "detractor_days": int, "active_weeks": int, "persona_active_days": int,
    "escalation_quiet_days": int, "max_asks_per_year": int, "min_days_between_asks": int,
    "decline_cooldown_days": int, "attribution_days": int, "attribution_days_enterprise": int,
    "enterprise_deal_size": float, "first_touch_sla_hours": float, "close_loop_days": int,
    "churn_risk_days": int, "ask_window_hours_by_type": dict,
}
