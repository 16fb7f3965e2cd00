"""SQLAlchemy 2 models: everything in the data contract, plus the asks ledger, referrals, Slack event ids
and an audit log.

Emails are stored lower-cased (the contract compares them case-insensitively). Usage is rolled up at import
into one row per contact, event and UTC day: the scan reads aggregates, never raw events.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from warmintro.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


Email = String(320)


class Account(Base):
    __tablename__ = "accounts"
    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    domain: Mapped[str] = mapped_column(String(256), index=True)
    industry: Mapped[str | None] = mapped_column(String(128))
    employees: Mapped[int | None] = mapped_column(Integer)
    arr: Mapped[float | None] = mapped_column(Float)
    nrr: Mapped[float | None] = mapped_column(Float)
    health_score: Mapped[float | None] = mapped_column(Float)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(32))
    customer_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewal_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    csm_email: Mapped[str | None] = mapped_column(Email)
    ae_email: Mapped[str | None] = mapped_column(Email)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Contact(Base):
    __tablename__ = "contacts"
    contact_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    email: Mapped[str] = mapped_column(Email, unique=True)
    title: Mapped[str | None] = mapped_column(String(256))
    crm_role: Mapped[str | None] = mapped_column(String(32))
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    slack_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Signal(Base):
    __tablename__ = "signals"
    signal_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    contact_email: Mapped[str | None] = mapped_column(Email, index=True)
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    score: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(16))
    # Where the sentiment came from: "given" (in the data) or the classifier that inferred it.
    sentiment_source: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class UsageDaily(Base):
    """usage.csv rolled up: one row per (account, contact, event, UTC day).

    The key starts with (contact_email, day), which the persona and recency reads filter on, so it serves
    them without an index of its own, and the per-account reads use usage_account_days; on SQLite the rows
    live in the key's b-tree (WITHOUT ROWID): one b-tree per row to write at import instead of four
    (migration 0012)."""

    __tablename__ = "usage_daily"
    account_id: Mapped[str] = mapped_column(String(128))
    contact_email: Mapped[str] = mapped_column(Email)
    event: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)
    __table_args__ = (
        PrimaryKeyConstraint("contact_email", "day", "event", "account_id"),
        {"sqlite_with_rowid": False},
    )
    # The ORM identity keeps its earlier order: session.get(UsageDaily, (account, email, event, day)).
    __mapper_args__ = {"primary_key": ["account_id", "contact_email", "event", "day"]}


class UsageAccountDay(Base):
    """The days each account had any usage: usage_daily's distinct (account_id, day), written beside it by
    every writer (import, usage hook), for the active-weeks reads: a table of a few rows per account and day
    instead of an (account_id, day) index as big as usage_daily itself."""

    __tablename__ = "usage_account_days"
    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    __table_args__ = ({"sqlite_with_rowid": False},)


class Meeting(Base):
    __tablename__ = "meetings"
    meeting_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class MeetingAttendee(Base):
    __tablename__ = "meeting_attendees"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.meeting_id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(Email, primary_key=True, index=True)


class Person(Base):
    __tablename__ = "people"
    email: Mapped[str] = mapped_column(Email, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    company: Mapped[str | None] = mapped_column(String(256))
    domain: Mapped[str | None] = mapped_column(String(256), index=True)
    title: Mapped[str | None] = mapped_column(String(256))
    seniority: Mapped[str | None] = mapped_column(String(16))
    function: Mapped[str | None] = mapped_column(String(32))
    industry: Mapped[str | None] = mapped_column(String(128))
    company_employees: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(256))
    linkedin_url: Mapped[str | None] = mapped_column(String(512))


class Employment(Base):
    """employment.csv rows. The lookups by email use the unique (email, company, start) index, whose prefix
    is the email: no index of its own (migration 0013). Readers that take the first of several rows order
    by `id` last, as the email index's rowid order gave them."""

    __tablename__ = "employment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(Email)
    company: Mapped[str] = mapped_column(String(256))
    domain: Mapped[str | None] = mapped_column(String(256), index=True)
    title: Mapped[str | None] = mapped_column(String(256))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("email", "company", "start"),)


class Relationship(Base):
    """relationships.csv rows. On SQLite the rows live in the key's b-tree (WITHOUT ROWID, migration 0013):
    an import writes two b-trees per row (the key, b_email's index) instead of three (the rowid table, the
    key's index, b_email's index), and a full scan reads the rows in key order, as a fresh import's rowid
    order was."""

    __tablename__ = "relationships"
    __table_args__ = ({"sqlite_with_rowid": False},)
    a_email: Mapped[str] = mapped_column(Email, primary_key=True)
    b_email: Mapped[str] = mapped_column(Email, primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    weight: Mapped[float | None] = mapped_column(Float)
    first_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TeamMember(Base):
    __tablename__ = "team"
    email: Mapped[str] = mapped_column(Email, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    slack_user_id: Mapped[str | None] = mapped_column(String(64), index=True)


class Opportunity(Base):
    __tablename__ = "opportunities"
    opportunity_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_name: Mapped[str] = mapped_column(String(256))
    domain: Mapped[str] = mapped_column(String(256), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(String(64))
    referrer_email: Mapped[str | None] = mapped_column(Email, index=True)
    referral_id: Mapped[str | None] = mapped_column(String(64))


class EmailMessage(Base):
    """Metadata and cleaned text of past emails; their embeddings live in the vector store."""

    __tablename__ = "emails"
    message_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    from_email: Mapped[str] = mapped_column(Email, index=True)
    to_emails: Mapped[list[str]] = mapped_column(JSON)
    cc_emails: Mapped[list[str]] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    embedded: Mapped[bool] = mapped_column(Boolean, default=False)


class Ask(Base):
    """The asks ledger: imported history and asks the product makes. Cadence is read from here."""

    __tablename__ = "asks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_email: Mapped[str] = mapped_column(Email, index=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    asked_by: Mapped[str | None] = mapped_column(Email)
    source: Mapped[str] = mapped_column(String(16), default="import")
    account_id: Mapped[str | None] = mapped_column(String(128))
    trigger_signal_id: Mapped[str | None] = mapped_column(String(128))
    persona: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (UniqueConstraint("contact_email", "asked_at"),)


class CadenceLock(Base):
    """One row per champion, locked (SELECT ... FOR UPDATE / SQLite write lock) while an ask is recorded,
    so two people asking at once cannot both pass the cadence check."""

    __tablename__ = "cadence_locks"
    contact_email: Mapped[str] = mapped_column(Email, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Partner(Base):
    __tablename__ = "partners"
    partner_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    domain: Mapped[str] = mapped_column(String(256), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str | None] = mapped_column(String(64))
    certified: Mapped[bool | None] = mapped_column(Boolean)
    contact_email: Mapped[str | None] = mapped_column(Email)
    commission_rate: Mapped[float | None] = mapped_column(Float)


class Referral(Base):
    __tablename__ = "referrals"
    referral_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    referrer_email: Mapped[str] = mapped_column(Email, index=True)
    referee_email: Mapped[str] = mapped_column(Email, index=True)
    referee_name: Mapped[str | None] = mapped_column(String(256))
    referee_company: Mapped[str | None] = mapped_column(String(256))
    referee_domain: Mapped[str | None] = mapped_column(String(256), index=True)
    program: Mapped[str] = mapped_column(String(16), default="customer")
    status: Mapped[str] = mapped_column(String(24))
    trigger_type: Mapped[str | None] = mapped_column(String(32))
    persona: Mapped[str | None] = mapped_column(String(32))
    source_tag: Mapped[str | None] = mapped_column(String(64))
    owner_email: Mapped[str | None] = mapped_column(Email)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReferralEvent(Base):
    """Every status transition of a referral, timestamped."""

    __tablename__ = "referral_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.referral_id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)


class SlackJob(Base):
    """Work a click started that must survive the process: written in the same transaction as the answer's
    claim, before the click is acknowledged; done by the lazy listener, or replayed after a crash (a lease
    keeps two processes from doing it at once)."""

    __tablename__ = "slack_jobs"
    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)  # what it answers, e.g. "answer:42"
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # leases taken (a crashed holder's count too)
    errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # runs that raised
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlackEvent(Base):
    """Slack event ids already handled, so retries are answered once across restarts and processes."""

    __tablename__ = "slack_events"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str | None] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(512))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ProgramSetting(Base):
    """program.toml as imported: one row per top-level section ([vendor], [icp], [rules], ...)."""

    __tablename__ = "program_settings"
    section: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)


class ImportRun(Base):
    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(1024))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON)


class PendingActionRow(Base):
    """A change the agent proposed, waiting for a human's click. Deciding it twice is a no-op."""

    __tablename__ = "pending_actions"
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(256), index=True)
    tool: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    proposed_for: Mapped[str | None] = mapped_column(String(320))  # who may approve it (email)
    mode: Mapped[str] = mapped_column(String(16))  # "offline" or "model" (resume the graph)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, approved, rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(Text)


class ReferralCode(Base):
    """A referrer's personal tracking code (the short link /r/{code}); one per referrer."""

    __tablename__ = "referral_codes"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    referrer_email: Mapped[str] = mapped_column(Email, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkClick(Base):
    """One visit to a tracking link. The visitor's IP is kept only as a keyed hash."""

    __tablename__ = "link_clicks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(ForeignKey("referral_codes.code"), index=True)
    referrer_email: Mapped[str] = mapped_column(Email, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    referer: Mapped[str | None] = mapped_column(String(512))


class PayoutRecord(Base):
    """A payout marked paid (issue 13). Payouts themselves are recomputed from the ledger every time; this
    table only records which of them finance paid, when and by whom (keyed by the stable payout_id)."""

    __tablename__ = "payouts"
    payout_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    referral_id: Mapped[str | None] = mapped_column(String(64), index=True)
    opportunity_id: Mapped[str] = mapped_column(String(128))
    recipient_email: Mapped[str] = mapped_column(Email)
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[float] = mapped_column(Float)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_by: Mapped[str] = mapped_column(String(320))
    reference: Mapped[str | None] = mapped_column(String(256))


class WebhookDelivery(Base):
    """The outgoing-webhook outbox (docs/hooks.md, "Outgoing webhooks"): one row per event, written in the
    same transaction as the change it reports, then delivered (signed, retried with backoff) by
    `warmintro.engines.webhooks.deliver_due`. `next_attempt_at` is when a pending row is due; while a row is
    `sending` it is the sender's lease (past it, a crashed sender's row goes back to pending)."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sending, delivered, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),)


class AgentFeedback(Base):
    """A thumbs up or down on one of the agent's answers (Slack's feedback buttons, migration 0010). One vote per
    person per answer: a second click changes it."""

    __tablename__ = "agent_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(String(256))  # "channel:ts" of the answer message
    thread_id: Mapped[str | None] = mapped_column(String(256))
    user_id: Mapped[str] = mapped_column(String(64))  # the Slack user who clicked
    email: Mapped[str | None] = mapped_column(Email)
    role: Mapped[str] = mapped_column(String(32))
    vote: Mapped[str] = mapped_column(String(8))  # "up" or "down"
    mode: Mapped[str | None] = mapped_column(String(16))  # how the answer was written: "model" or "offline"
    intent: Mapped[str | None] = mapped_column(String(64))  # what answered (a tool, "help", ...)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    __table_args__ = (UniqueConstraint("answer_id", "user_id"),)


class NoteSentiment(Base):
    """A note's sentiment as the classifier read it (engines.note_sentiment, migration 0011): keyed by the
    classifier's fingerprint and a hash of the note's stripped text, so the scan classifies a note once per
    model rather than once per process. A new fingerprint (other training notes, options or embedding model)
    finds none of the old rows; an edited note hashes to a new key."""

    __tablename__ = "note_sentiments"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Slack distribution (slackapp/oauth.py, migration 0009): Core tables, read and written through slack_sdk's
# InstallationStore / OAuthStateStore interfaces rather than the ORM. Every installation is kept (re-installs
# are an audit trail); the latest row per (client_id, enterprise_id, team_id) wins.
slack_oauth_installations = Table(
    "slack_oauth_installations", Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("enterprise_id", String(64)),
    Column("team_id", String(64)),
    Column("user_id", String(64)),
    Column("is_enterprise_install", Boolean, nullable=False, default=False),
    Column("installed_at", Float, nullable=False),
    Column("installation", JSON),
    Column("bot", JSON),
    Index("ix_slack_oauth_installations_team", "client_id", "enterprise_id", "team_id"),
)

# One-time OAuth states (expire after 10 minutes), shared by every replica.
slack_oauth_states = Table(
    "slack_oauth_states", Base.metadata,
    Column("state", String(128), primary_key=True),
    Column("expire_at", Float, nullable=False),
)
