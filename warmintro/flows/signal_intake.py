"""Signal hooks, the flow behind the HTTP adapter (web/hooks.py, which documents the endpoints, signing and
answers): contract rows from a payload (a survey preset when named), checked by the importer's own column
validation and cross-checks, stored idempotently (signals by signal_id; usage added to the daily rollup once
per signed delivery), then evaluated.

A hook answers within 2 s whatever the store's size and however cold the process: the rows are stored and
a durable evaluation job is written (`start_job`: a `hookeval:` claim + a `slack_jobs` row of kind `hook_eval`)
before the answer. The job (`slackapp.hook_cards.run_job`, leased; replayed by every process after a crash)
runs the signals engine limited to the contacts the new signals touch (`evaluate`: `scan(only=...)`, the same
triggers, gates and cadence as the daily scan for those contacts), enqueues the `ask_opened` webhooks and DMs
each owning CSM the queue card, claimed first (`hookask:{signal_id}:{contact}`) so it is sent once. The HTTP
answer (web/hooks.py) carries the asks when the job has evaluated them within the budget, else `"pending": n`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from warmintro.claims import ClaimKind, claim, release
from warmintro.engines.scan import TRIGGER_TYPES, scan
from warmintro.engines.timeutil import utc
from warmintro.errors import WarmintroError
from warmintro.flows import jobs
from warmintro.importer.schema import FileSpec
from warmintro.importer.validate import ROW, validate_batch
from warmintro.store import models as m
from warmintro.store.db import Store

log = logging.getLogger(__name__)

TOLERANCE_S = 300  # a hook's timestamp may be this far off (signature check; a moment stamped ahead)
MAX_ROWS = 5000
MAX_ERRORS = 50
JOB_KIND = "hook_eval"
JOB_KEY = ClaimKind.HOOK_EVAL.prefix  # + a digest of the batch's stored trigger signal ids
BODY_KEY = ClaimKind.HOOK_BODY.prefix  # identical signed usage deliveries, forgotten after the tolerance window


# ---------------------------------------------------------------------------------------------------
# Payloads -> contract rows


@dataclass(frozen=True)
class RowError:
    index: int | None
    field: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


class Rejected(WarmintroError):
    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("; ".join(e.reason for e in errors[:3]))
        self.errors = list(errors)[:MAX_ERRORS]


def parse_body(body: bytes) -> list[Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejected([RowError(None, None, f"body is not UTF-8 JSON: {exc}")]) from exc
    items = data if isinstance(data, list) else [data]
    if not items:
        raise Rejected([RowError(None, None, "empty array: nothing to store")])
    if len(items) > MAX_ROWS:
        raise Rejected([RowError(None, None, f"too many rows in one request ({len(items)}; at most {MAX_ROWS})")])
    return items


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _unix_to_iso(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return value


def preset_delighted(item: dict[str, Any], index: int) -> tuple[dict[str, Any] | None, RowError | None]:
    """Delighted's webhook (`survey_response.created` / `.updated`: event_id, event_data.{id, person.email,
    survey_type, score, comment, created_at (unix), person_properties}) -> an nps signal. Other events
    (`unsubscribe.created`) and non-NPS surveys are ignored. The response id is the signal id, so the
    `.updated` event that follows a `.created` one is a duplicate."""
    event_type = str(item.get("event_type") or "")
    if not event_type.startswith("survey_response."):
        return None, None
    data = item.get("event_data")
    if not isinstance(data, dict):
        return None, RowError(index, "event_data", "missing the survey response object")
    if str(data.get("survey_type") or "nps").lower() != "nps":
        return None, None
    person = _dict(data.get("person"))
    props = _dict(data.get("person_properties"))
    account = next((props[k] for k in ("account_id", "Account ID", "warmintro_account_id") if props.get(k)), None)
    if data.get("id") in (None, ""):
        return None, RowError(index, "event_data.id", "required value is empty")
    return {
        "signal_id": f"delighted:{data['id']}",
        "account_id": account,
        "contact_email": person.get("email"),
        "type": "nps",
        "occurred_at": _unix_to_iso(data.get("created_at")),
        "score": data.get("score"),
        "notes": data.get("comment"),
    }, None


def _typeform_score(answers: list[Any]) -> Any:
    by_kind: dict[str, Any] = {}
    for a in answers:
        if not isinstance(a, dict) or a.get("type") != "number":
            continue
        f = _dict(a.get("field"))
        key = "ref" if str(f.get("ref") or "").lower() in ("nps", "score") else str(f.get("type") or "")
        by_kind.setdefault(key, a.get("number"))
    for key in ("nps", "ref", "opinion_scale"):
        if key in by_kind:
            return by_kind[key]
    return None


def preset_typeform(item: dict[str, Any], index: int) -> tuple[dict[str, Any] | None, RowError | None]:
    """Typeform's webhook (`form_response`: form_response.{token, submitted_at, hidden, answers}) -> an nps
    signal. The score is the answer to the NPS question (field type `nps`, or a field with ref `nps`/`score`,
    or the first opinion scale); the email from hidden field `email` or an email answer; the account from
    hidden field `account_id` when set; notes from the first text answer."""
    if item.get("event_type") != "form_response":
        return None, None
    fr = item.get("form_response")
    if not isinstance(fr, dict):
        return None, RowError(index, "form_response", "missing the form response object")
    answers = _list(fr.get("answers"))
    hidden = _dict(fr.get("hidden"))
    score = _typeform_score(answers)
    if score is None:
        return None, RowError(index, "form_response.answers",
                              "no NPS answer (a number answer to a field of type nps, ref 'nps' or an opinion scale)")
    email = hidden.get("email") or next(
        (a.get("email") for a in answers if isinstance(a, dict) and a.get("type") == "email"), None)
    notes = next((a.get("text") for a in answers if isinstance(a, dict) and a.get("type") == "text"), None)
    token = fr.get("token") or item.get("event_id")
    if not token:
        return None, RowError(index, "form_response.token", "required value is empty")
    return {
        "signal_id": f"typeform:{token}",
        "account_id": hidden.get("account_id"),
        "contact_email": email,
        "type": "nps",
        "occurred_at": fr.get("submitted_at"),
        "score": score,
        "notes": notes,
    }, None


PRESETS: dict[str, Callable[[dict[str, Any], int], tuple[dict[str, Any] | None, RowError | None]]] = {
    "delighted": preset_delighted,
    "typeform": preset_typeform,
}


def apply_preset(name: str, items: list[Any]) -> tuple[list[tuple[int, dict[str, Any]]], int, list[RowError]]:
    """(index in the posted array, contract row) for each relevant event, the number ignored, errors."""
    mapper = PRESETS[name]
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    ignored = 0
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(RowError(i, None, "not a JSON object"))
            continue
        row, error = mapper(item, i)
        if error is not None:
            errors.append(error)
        elif row is None:
            ignored += 1
        else:
            rows.append((i, row))
    return rows, ignored, errors


def _cell(value: Any) -> str | None | RowError:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return RowError(None, None, f"must be a string, number or boolean, not {type(value).__name__}")


def validate_rows(spec: FileSpec, rows: Sequence[tuple[int, Any]]) -> tuple[pl.DataFrame, list[RowError], list[str]]:
    """The importer's column validation on JSON rows: (parsed frame with ROW = index, errors, warnings)."""
    errors: list[RowError] = []
    unknown: set[str] = set()
    present: set[str] = set()
    columns: dict[str, list[str | None]] = {c: [] for c in spec.column_names}
    indices: list[int] = []
    for index, row in rows:
        if not isinstance(row, dict):
            errors.append(RowError(index, None, "not a JSON object"))
            continue
        norm = {str(k).strip().lower(): v for k, v in row.items()}
        unknown.update(k for k in norm if k not in columns)
        present.update(k for k in norm if k in columns)
        indices.append(index)
        for name, values in columns.items():
            cell = _cell(norm.get(name))
            if isinstance(cell, RowError):
                errors.append(RowError(index, name, cell.reason))
                cell = None
            values.append(cell)
    raw = pl.DataFrame({ROW: pl.Series(indices, dtype=pl.UInt32),
                        **{c: pl.Series(v, dtype=pl.String) for c, v in columns.items()}})
    parsed, bad = validate_batch(raw, spec, set(spec.column_names))
    for row_index, column, reason in bad.iter_rows():
        errors.append(RowError(int(row_index), column, reason))
    errors.sort(key=lambda e: (e.index if e.index is not None else -1, e.field or ""))
    warnings = [f"unknown field '{k}' ignored" for k in sorted(unknown)]
    return parsed, errors, warnings


def checked_rows(store: Store, spec: FileSpec, rows: Sequence[tuple[int, Any]]) -> tuple[pl.DataFrame, list[str]]:
    """The rows validated column-wise and cross-checked against the store, with the warnings; any bad row
    raises Rejected naming every problem found."""
    frame, errors, warnings = validate_rows(spec, rows)
    if errors:
        raise Rejected(errors)
    errors = cross_checks(store, spec, frame)
    if errors:
        raise Rejected(errors)
    return frame, warnings


def cross_checks(store: Store, spec: FileSpec, frame: pl.DataFrame) -> list[RowError]:
    """The importer's cross-file checks that apply to one pushed file (warmintro/importer/run.py)."""
    errors: list[RowError] = []
    if frame.height == 0:
        return errors
    with store.session() as s:
        wanted = frame["account_id"].unique().to_list()
        known = set(s.scalars(select(m.Account.account_id).where(m.Account.account_id.in_(wanted))))
    for index, acc in frame.select(ROW, "account_id").iter_rows():
        if acc not in known:
            errors.append(RowError(int(index), "account_id", f"unknown account_id {acc}"))
    if spec.table == "signals":
        first: dict[str, int] = {}
        for index, sid in frame.select(ROW, "signal_id").iter_rows():
            if sid in first:
                errors.append(RowError(int(index), "signal_id", f"duplicate signal_id '{sid}' (first at index {first[sid]})"))
            first.setdefault(sid, int(index))
        for index in frame.filter((pl.col("type") == "nps") & pl.col("score").is_null())[ROW].to_list():
            errors.append(RowError(int(index), "score", "an nps signal needs a score (0-10)"))
        for index in frame.filter(pl.col("resolved_at") < pl.col("occurred_at"))[ROW].to_list():
            errors.append(RowError(int(index), "resolved_at", "resolved before it occurred"))
    return errors


def resolve_accounts(store: Store, rows: list[tuple[int, dict[str, Any]]]) -> list[RowError]:
    """Presets: a row without account_id takes the account of the contact with that email."""
    emails = sorted({str(r["contact_email"]).strip().lower() for _, r in rows
                     if not r.get("account_id") and r.get("contact_email")})
    found: dict[str, str] = {}
    if emails:
        with store.session() as s:
            found = dict(s.execute(select(m.Contact.email, m.Contact.account_id).where(m.Contact.email.in_(emails))).all())
    errors: list[RowError] = []
    for index, row in rows:
        if row.get("account_id"):
            continue
        email = str(row.get("contact_email") or "").strip().lower()
        if email in found:
            row["account_id"] = found[email]
        else:
            errors.append(RowError(index, "account_id", f"no account_id, and {email or 'the respondent'} is not a known "
                                   "contact (send account_id as a person property / hidden field)"))
    return errors


# ---------------------------------------------------------------------------------------------------
# Storing


def _insert(store: Store) -> Any:
    return postgresql.insert if store.dialect == "postgresql" else sqlite.insert


def store_signals(store: Store, frame: pl.DataFrame, *, source: str, preset: str | None, at: datetime) -> list[str]:
    """Insert the new signals (a known signal_id is left as it is). Returns the ids this call stored."""
    records = []
    for row in frame.drop(ROW).iter_rows(named=True):
        row["extra"] = {"via": "hook", "source": source, **({"preset": preset} if preset else {})}
        records.append(row)
    insert = _insert(store)
    with store.session(write=True) as s:
        stmt = (insert(m.Signal).values(records).on_conflict_do_nothing(index_elements=["signal_id"])
                .returning(m.Signal.signal_id))
        stored = [r[0] for r in s.execute(stmt).all()]
        s.add(m.AuditLog(at=at, actor=f"hook:{source}", action="hook_signals", subject=preset,
                         detail={"accepted": len(stored), "duplicates": len(records) - len(stored)}))
    return stored


def store_usage(store: Store, frame: pl.DataFrame, *, source: str, at: datetime) -> int:
    """Add the rows' counts to the daily rollup, as the importer rolls usage.csv up. Returns rollup rows."""
    from warmintro.importer.run import _rollup

    rolled = _rollup(frame.drop(ROW))
    records = list(rolled.iter_rows(named=True))
    table = m.UsageDaily.__table__
    insert = _insert(store)
    with store.session(write=True) as s:
        stmt = insert(table).values(records)
        stmt = stmt.on_conflict_do_update(index_elements=["account_id", "contact_email", "event", "day"],
                                          set_={"count": table.c.count + stmt.excluded["count"]})
        s.execute(stmt)
        days = insert(m.UsageAccountDay.__table__).values([{"account_id": r["account_id"], "day": r["day"]} for r in records])
        s.execute(days.on_conflict_do_nothing(index_elements=["account_id", "day"]))
        s.add(m.AuditLog(at=at, actor=f"hook:{source}", action="hook_usage", subject=None,
                         detail={"rows": frame.height, "days": len(records)}))
    return len(records)


def store_usage_once(store: Store, frame: pl.DataFrame, *, source: str, key: str, at: datetime) -> bool:
    """`store_usage` once per identical signed delivery (`key`, under BODY_KEY): False when it was stored
    already. Delivery keys older than the hooks' tolerance window (four times over) are forgotten first."""
    with store.session() as s:
        s.execute(delete(m.SlackEvent).where(m.SlackEvent.event_id.like(BODY_KEY + "%"),
                                             m.SlackEvent.received_at < at - timedelta(seconds=4 * TOLERANCE_S)))
    if not claim(store, key, at):
        return False
    try:
        store_usage(store, frame, source=source, at=at)
    except Exception:
        release(store, key)
        raise
    return True


# ---------------------------------------------------------------------------------------------------
# Evaluation and the CSM's card


def touched_contacts(session: Any, signal_ids: Sequence[str]) -> list[str]:
    """The contacts these signals can open an ask for: a signal's own contact, or every contact of its
    account for an account-level one (docs/rules.md, "Who a moment applies to")."""
    rows = session.execute(select(m.Signal.type, m.Signal.contact_email, m.Signal.account_id)
                           .where(m.Signal.signal_id.in_(sorted(set(signal_ids))))).all()
    emails = {c.strip().lower() for typ, c, _ in rows if typ in TRIGGER_TYPES and c and c.strip()}
    accounts = sorted({acc for typ, c, acc in rows if typ in TRIGGER_TYPES and not (c and c.strip())})
    if accounts:
        emails.update(session.scalars(select(m.Contact.email).where(m.Contact.account_id.in_(accounts))))
    return sorted(emails)


def evaluate(store: Store, signal_ids: Sequence[str], now: datetime) -> list[Any]:
    """The asks that these (just stored) signals open now: the signals engine limited to the contacts they
    touch (decisions identical to the full scan's for those contacts), filtered to the asks whose trigger is
    one of them. Its cost follows the batch, not the store."""
    if not signal_ids:
        return []
    ids = set(signal_ids)
    with store.session() as s:
        rows = s.execute(select(m.Signal.type, m.Signal.occurred_at).where(m.Signal.signal_id.in_(sorted(ids)))).all()
        triggers = [utc(at) for typ, at in rows if typ in TRIGGER_TYPES]
        if not triggers:
            return []
        # a moment stamped a little ahead of this server's clock still counts now
        as_of = max([now, *[t for t in triggers if t <= now + timedelta(seconds=TOLERANCE_S)]])
        result = scan(s, as_of, only=touched_contacts(s, sorted(ids)))
    return [a for a in result.asks if a.trigger.signal_id in ids]


def start_job(store: Store, signal_ids: Sequence[str], now: datetime) -> str | None:
    """Write the durable evaluation job of a batch; its id (None when no stored signal is a trigger)."""
    with store.session() as s:
        triggers = sorted(s.scalars(select(m.Signal.signal_id).where(
            m.Signal.signal_id.in_(sorted(set(signal_ids))), m.Signal.type.in_(TRIGGER_TYPES))))
    if not triggers:
        return None
    key = JOB_KEY + hashlib.sha256("\n".join(triggers).encode()).hexdigest()[:40]
    jobs.start(store, key, JOB_KIND, {"signal_ids": triggers, "now": now.isoformat()}, now)
    return jobs.pending_for(store, key)


def job_signal_count(store: Store, job_id: str) -> int:
    """How many signals a job evaluates (the answer's `pending` while it runs)."""
    with store.session() as s:
        payload = s.scalars(select(m.SlackJob.payload).where(m.SlackJob.job_id == job_id)).first() or {}
    return len(payload.get("signal_ids", []))


def card_key(ask: Any) -> str:
    return ClaimKind.HOOK_CARD.key(ask.trigger.signal_id, ask.contact_email)
