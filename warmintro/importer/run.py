"""`warmintro import DIR`: validate the whole folder, then load it in one transaction.

All-or-nothing: every file is parsed and checked (column-wise, in batches) before anything is written;
any bad row rejects the import with file, line, column and reason, and the store is left as it was.
Re-importing the same folder is idempotent: rows are upserted by their id or email, and usage is rolled
up into per-day counts that replace (not add to) the counts for the same contact, event and day.
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from warmintro.errors import WarmintroError
from warmintro.importer.schema import FILES, KNOWN_ENTRIES, LOAD_ORDER, FileSpec
from warmintro.importer.validate import (
    ROW,
    Header,
    ImportIssue,
    Unreadable,
    iter_lenient_batches,
    iter_raw_batches,
    locate_csv_error,
    physical_lines,
    read_header,
    validate_batch,
)
from warmintro.program import KNOWN_SECTIONS, parse_program
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.store.upsert import bulk_upsert, upsert

MAX_ERRORS = 50
# Kinds of problems, in the order they are listed when they share a line.
KINDS = ("file", "header", "record", "value", "duplicate", "reference", "rule")
BULK_CACHE_KIB = 256 * 1024
EMAIL_SCHEMA: dict[str, pl.DataType] = {"message_id": pl.String(), "from_email": pl.String(),
                                        "to_emails": pl.List(pl.String), "cc_emails": pl.List(pl.String), "sent_at": pl.Datetime("us"),
                                        "subject": pl.String(), "body": pl.String()}
ProgressFn = Callable[[str, int, bool], None]  # (file, rows so far, finished)


class ImportRejected(WarmintroError):
    """The folder has bad rows; nothing was written."""

    exit_code = 2

    def __init__(self, issues: list[ImportIssue], total: int) -> None:
        self.issues = issues
        self.total = total
        more = f" (showing the first {len(issues)})" if total > len(issues) else ""
        lines = "\n".join(f"  {i}" for i in issues)
        super().__init__(f"import rejected, nothing was changed: {total} problem(s){more}\n{lines}")

    def to_json(self) -> dict[str, Any]:
        return {"error": "import_rejected", "problems": self.total, "errors": [i.to_json() for i in self.issues]}


@dataclass
class ImportResult:
    imported: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rolled_up: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"imported": self.imported, "warnings": self.warnings, "rolled_up": self.rolled_up}


@dataclass
class _Parsed:
    spec: FileSpec
    frame: pl.DataFrame  # validated columns plus ROW (for rollup files: the rollup, ROW its first record)
    rows: int
    path: Path
    bad: pl.DataFrame  # [ROW, column] of the values that failed their check (cross-checks skip those cells)
    unreadable: Unreadable  # records a lenient read could not use (their values count as known references)


class _Issues:
    """Every problem of the run, kept per (file, kind) up to the cap each, so that no kind of problem hides
    another (a ragged line hides no bad value, bad values hide no unknown reference); `items` picks up to
    `cap` of them for the report, round-robin across files and kinds, listed file by file, line by line."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.groups: dict[tuple[str, str], list[ImportIssue]] = {}
        self.total = 0

    def add(self, issue: ImportIssue, kind: str = "file") -> None:
        self.total += 1
        group = self.groups.setdefault((issue.file, kind), [])
        if len(group) < self.cap:
            group.append(issue)

    def add_rows(self, path: Path, errors: pl.DataFrame, kind: str = "value") -> None:
        """errors: [ROW, column, reason]; rows are mapped to physical lines only here (the slow path)."""
        self.total += errors.height
        group = self.groups.setdefault((path.name, kind), [])
        room = self.cap - len(group)
        if room <= 0 or errors.height == 0:
            return
        head = errors.sort(ROW).head(room)
        lines = physical_lines(path, head[ROW].to_list())
        for row, column, reason in head.select(ROW, "column", "reason").iter_rows():
            group.append(ImportIssue(path.name, lines[row], column, reason))

    def merge(self, other: _Issues) -> None:
        for key, group in other.groups.items():
            mine = self.groups.setdefault(key, [])
            mine.extend(group[: max(0, self.cap - len(mine))])
        self.total += other.total

    @property
    def items(self) -> list[ImportIssue]:
        chosen: list[tuple[int, ImportIssue]] = []
        queues = [(KINDS.index(kind) if kind in KINDS else len(KINDS), list(g)) for (_f, kind), g in self.groups.items()]
        while len(chosen) < self.cap and any(q for _k, q in queues):
            for k, q in queues:
                if q and len(chosen) < self.cap:
                    chosen.append((k, q.pop(0)))
        rank = {name: n for n, name in enumerate(("program.toml", *LOAD_ORDER))}
        first_seen = {f: n for n, (f, _kind) in reversed(list(enumerate(self.groups)))}
        chosen.sort(key=lambda c: (rank.get(c[1].file, len(rank) + first_seen.get(c[1].file, 0)), c[1].line or 0, c[0]))
        return [issue for _k, issue in chosen]


def _read_program(path: Path, issues: _Issues, warnings: list[str]) -> dict[str, Any] | None:
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        issues.add(ImportIssue(path.name, line, None, "not UTF-8 text; save the file as UTF-8"))
        return None
    except tomllib.TOMLDecodeError as exc:
        issues.add(ImportIssue(path.name, getattr(exc, "lineno", None), None, f"not valid TOML: {exc}"))
        return None
    program, problems = parse_program(data)
    for loc, reason in problems:
        issues.add(ImportIssue(path.name, None, loc, reason))
    for section in data:
        if section not in KNOWN_SECTIONS:
            warnings.append(f"program.toml: unknown section [{section}] ignored")
    return data if program is not None else None


def _parse_file(path: Path, spec: FileSpec, issues: _Issues, warnings: list[str],
                progress: ProgressFn | None) -> _Parsed | None:
    header, header_issues = read_header(path, spec)
    for issue in header_issues:
        issues.add(issue, "header")
    if header is None or header_issues:
        return None
    for col in header.unknown:
        warnings.append(f"{path.name}: unknown column '{col}' ignored")
    try:
        return _parse_batches(path, spec, header, iter_raw_batches(path, header), issues, progress, Unreadable())
    except (pl.exceptions.PolarsError, OSError):
        pass
    # polars stops at the first malformed record: read the file again with the csv module, which reports every
    # malformed record on its own line and still hands over the readable ones, whose values are checked too.
    unreadable = Unreadable()
    try:
        return _parse_batches(path, spec, header,
                              iter_lenient_batches(path, header, lambda i: issues.add(i, "record"), unreadable),
                              issues, progress, unreadable)
    except (csv.Error, pl.exceptions.PolarsError, OSError):
        issues.add(locate_csv_error(path), "record")
        return None


def _parse_batches(path: Path, spec: FileSpec, header: Header, batches: Iterator[pl.DataFrame], issues: _Issues,
                   progress: ProgressFn | None, unreadable: Unreadable) -> _Parsed:
    """Validate every batch; value problems are gathered for the whole file first and only then reported, so a
    read that fails half-way (and is redone leniently) reports nothing twice."""
    present = set(header.columns)
    frames: list[pl.DataFrame] = []
    errors: list[pl.DataFrame] = []
    rows = 0
    for raw in batches:
        parsed, batch_errors = validate_batch(raw, spec, present)
        rows += raw.height
        if batch_errors.height:
            errors.append(batch_errors)
        if spec.rollup:
            # Summed once at the end, not per batch: a batch barely shrinks when rolled up (10M rows -> 8.75M
            # at L), so summing batches as they came was a group-by per batch for little.
            frames.append(_at_day(parsed))
        else:
            frames.append(parsed)
        if progress:
            progress(path.name, rows, False)
    if progress:
        progress(path.name, rows, True)
    bad = pl.concat(errors) if errors else pl.DataFrame({ROW: pl.Series([], dtype=pl.UInt32),
                                                         "column": pl.Series([], dtype=pl.String),
                                                         "reason": pl.Series([], dtype=pl.String)})
    if bad.height:
        issues.add_rows(path, bad)
    if spec.rollup:
        frame = _sum_days(pl.concat(frames) if frames else _at_day(validate_batch(_empty(spec), spec, set())[0]))
    else:
        frame = pl.concat(frames) if frames else validate_batch(_empty(spec), spec, set())[0]
    return _Parsed(spec, frame, rows + unreadable.records, path, bad.select(ROW, "column"), unreadable)


def _empty(spec: FileSpec) -> pl.DataFrame:
    return pl.DataFrame({ROW: pl.Series([], dtype=pl.UInt32), **{c: pl.Series([], dtype=pl.String) for c in spec.column_names}})


def _rollup(frame: pl.DataFrame) -> pl.DataFrame:
    # ROW (when the frame has it): the group's first record, so a problem found on the rollup (an unknown
    # account) still has a line; the signal hooks roll up rows that have none.
    first = [pl.col(ROW).min()] if ROW in frame.columns else []
    return frame.group_by(
        "account_id", "contact_email", "event", pl.col("occurred_at").dt.date().alias("day")
    ).agg(pl.col("count").sum(), *first)


def _at_day(frame: pl.DataFrame) -> pl.DataFrame:
    """Usage rows with the rollup's columns (day instead of occurred_at), not yet summed."""
    return frame.select("account_id", "contact_email", "event", pl.col("occurred_at").dt.date().alias("day"),
                        "count", ROW)


USAGE_KEY = ("contact_email", "day", "event", "account_id")  # usage_daily's primary key, in its order


def _sum_days(frame: pl.DataFrame) -> pl.DataFrame:
    """The rollup of `_at_day` rows, in usage_daily's key order (which SQLite then appends to its b-tree).

    Each key column is coded by its rank among the column's distinct values (their byte order, SQLite's
    BINARY order), and the four codes make one mixed-radix integer whose order is the key's: one integer
    column to group and sort instead of four with three of text (at L, 10M rows: 6 CPU-s against 25)."""
    text = ("contact_email", "event", "account_id")
    if frame.height == 0 or frame.select(pl.any_horizontal(pl.col(*text, "day").is_null()).any()).item():
        # A row with an empty key value is reported and the import rejected: the rollup only has to exist.
        return _sum_days_by_columns(frame)
    values = {c: frame[c].unique().sort() for c in text}
    day = frame["day"].cast(pl.Int32)
    first_day = int(day.min())  # type: ignore[arg-type]
    radix = [values["contact_email"].len(), int(day.max()) - first_day + 1,  # type: ignore[arg-type]
             values["event"].len(), values["account_id"].len()]
    codes = [frame["contact_email"].cast(pl.Enum(values["contact_email"])).to_physical().cast(pl.UInt64),
             (day - first_day).cast(pl.UInt64),
             frame["event"].cast(pl.Enum(values["event"])).to_physical().cast(pl.UInt64),
             frame["account_id"].cast(pl.Enum(values["account_id"])).to_physical().cast(pl.UInt64)]
    if math.prod(radix) >= 2**63:  # never at any real size: four key columns as they are
        return _sum_days_by_columns(frame)
    key = codes[0]
    for code, size in zip(codes[1:], radix[1:], strict=True):
        key = key * size + code
    summed = (pl.DataFrame({"key": key, "count": frame["count"], ROW: frame[ROW]})
              .group_by("key").agg(pl.col("count").sum(), pl.col(ROW).min()).sort("key"))
    rest = summed["key"]
    account = rest % radix[3]
    rest = rest // radix[3]
    event = rest % radix[2]
    rest = rest // radix[2]
    return pl.DataFrame({
        "account_id": values["account_id"].gather(account), "contact_email": values["contact_email"].gather(rest // radix[1]),
        "event": values["event"].gather(event), "day": ((rest % radix[1]).cast(pl.Int32) + first_day).cast(pl.Date),
        "count": summed["count"], ROW: summed[ROW],
    })


def _sum_days_by_columns(frame: pl.DataFrame) -> pl.DataFrame:
    return (frame.group_by(USAGE_KEY).agg(pl.col("count").sum(), pl.col(ROW).min()).sort(USAGE_KEY, nulls_last=True)
            .select("account_id", "contact_email", "event", "day", "count", ROW))


def _check_duplicates(p: _Parsed, issues: _Issues) -> None:
    key = list(p.spec.key)
    if not key or p.frame.height == 0:
        return
    dup = p.frame.filter(pl.struct(key).is_duplicated())
    if dup.height == 0:
        return
    first = dup.group_by(key).agg(pl.col(ROW).min().alias("first"))
    later = dup.join(first, on=key).filter(pl.col(ROW) != pl.col("first"))
    later = later.sort(ROW)
    shown = later.head(issues.cap)
    lines = physical_lines(p.path, shown[ROW].to_list() + shown["first"].to_list())
    for row in shown.iter_rows(named=True):
        value = ", ".join(str(row[k]) for k in key)
        issues.add(ImportIssue(p.path.name, lines[row[ROW]], key[0],
                               f"duplicate {'/'.join(key)} '{value}' (first on line {lines[row['first']]})"), "duplicate")
    issues.total += max(0, later.height - issues.cap)


def _check_refs(p: _Parsed, column: str, known: set[str], what: str, issues: _Issues) -> None:
    if column not in p.frame.columns or p.frame.height == 0:
        return
    bad = p.frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(list(known)))
    if bad.height:
        issues.add_rows(p.path, bad.select(ROW, pl.lit(column).alias("column"),
                                           (pl.lit(f"unknown {what} ") + pl.col(column)).alias("reason")), "reference")


def _check_rows(p: _Parsed, condition: pl.Expr, column: str, reason: str, issues: _Issues,
                needs: tuple[str, ...] = ()) -> None:
    """Rows that break a rule across columns; a row whose `needs` columns already failed their own check is
    left out (its value problem is reported, and the rule cannot be judged on a value that did not parse)."""
    frame = p.frame
    for col in needs:
        frame = frame.filter(~pl.col(ROW).is_in(p.bad.filter(pl.col("column") == col)[ROW].to_list()))
    bad = frame.filter(condition)
    if bad.height:
        issues.add_rows(p.path, bad.select(ROW, pl.lit(column).alias("column"), pl.lit(reason).alias("reason")),
                        "rule")


def _cross_checks(parsed: dict[str, _Parsed], present: set[str], store: Store, issues: _Issues) -> None:
    for p in parsed.values():
        _check_duplicates(p, issues)
    with store.session() as s:
        known_accounts = set(s.scalars(select(m.Account.account_id)))
        store_contact_emails = {e: cid for e, cid in s.execute(select(m.Contact.email, m.Contact.contact_id))}
    if "accounts.csv" in parsed:
        known_accounts |= set(parsed["accounts.csv"].frame["account_id"].to_list())
        known_accounts |= parsed["accounts.csv"].unreadable.values  # its own problem is reported instead
    # An accounts.csv whose header was refused gave no accounts: unknown references would only be noise.
    accounts_known = "accounts.csv" in parsed or "accounts.csv" not in present
    for name in ("contacts.csv", "signals.csv", "meetings.csv", "usage.csv"):
        if name in parsed and accounts_known:
            _check_refs(parsed[name], "account_id", known_accounts, "account_id", issues)
    if "contacts.csv" in parsed:
        c = parsed["contacts.csv"]
        dup = c.frame.filter(pl.col("email").is_duplicated() & ~pl.col("contact_id").is_duplicated())
        later = dup.filter(pl.col("email").is_first_distinct().not_())
        if later.height:
            issues.add_rows(c.path, later.select(ROW, pl.lit("email").alias("column"),
                                                 (pl.lit("email used by another contact: ") + pl.col("email")).alias("reason")),
                            "duplicate")
        in_file = dict(zip(c.frame["contact_id"].to_list(), c.frame["email"].to_list(), strict=True))
        clash = [
            (row, email) for row, cid, email in c.frame.select(ROW, "contact_id", "email").iter_rows()
            if email in store_contact_emails and store_contact_emails[email] != cid
            and in_file.get(store_contact_emails[email], email) == email
        ]
        if clash:
            lines = physical_lines(c.path, [r for r, _ in clash])
            for row, email in clash:
                issues.add(ImportIssue(c.path.name, lines[row], "email",
                                       f"email {email} already belongs to contact {store_contact_emails[email]}"),
                           "reference")
    if "signals.csv" in parsed:
        sig = parsed["signals.csv"]
        _check_rows(sig, (pl.col("type") == "nps") & pl.col("score").is_null(), "score",
                    "an nps signal needs a score (0-10)", issues, needs=("score", "type"))
        _check_rows(sig, pl.col("resolved_at") < pl.col("occurred_at"), "resolved_at", "resolved before it occurred", issues)
    if "employment.csv" in parsed:
        _check_rows(parsed["employment.csv"], pl.col("end") < pl.col("start"), "end", "ends before it starts", issues)
    if "relationships.csv" in parsed:
        _check_rows(parsed["relationships.csv"], pl.col("a_email") == pl.col("b_email"), "b_email",
                    "a relationship needs two different people", issues)


def _write_file(s: Session, name: str, p: _Parsed, result: ImportResult) -> None:
    """One file's validated frame into its table(s) (see store.upsert.bulk_upsert)."""
    tables = m.Base.metadata.tables
    spec = p.spec
    table = tables[spec.table]
    frame = p.frame.drop(ROW, strict=False)
    if name == "meetings.csv":
        ids = frame["meeting_id"].to_list()
        bulk_upsert(s, table, frame.drop("attendees"), spec.key)
        for i in range(0, len(ids), 5000):
            s.execute(delete(m.MeetingAttendee).where(m.MeetingAttendee.meeting_id.in_(ids[i : i + 5000])))
        attendees = (
            frame.select("meeting_id", pl.col("attendees").str.split(";").alias("email"))
            .explode("email").filter(pl.col("email") != "").unique()
        )
        bulk_upsert(s, tables["meeting_attendees"], attendees, ("meeting_id", "email"))
    elif spec.rollup:
        bulk_upsert(s, table, frame, USAGE_KEY, ordered=True)  # _sum_days left it in key order
        bulk_upsert(s, tables["usage_account_days"], frame.select("account_id", "day").unique(), ("account_id", "day"))
        result.rolled_up["usage_daily"] = frame.height
    elif name == "asks.csv":
        bulk_upsert(s, table, frame.with_columns(pl.lit("import").alias("source")), spec.key,
                    update=("outcome", "channel", "asked_by"))
    else:
        bulk_upsert(s, table, frame, spec.key)
    result.imported[spec.table if spec.table != "usage_daily" else "usage"] = p.rows


@contextmanager
def _bulk_tuned(session: Session) -> Iterator[None]:
    """SQLite: a bigger page cache for this connection while the import writes (index inserts of millions
    of rows thrash the default 2 MB), restored afterwards. PostgreSQL needs nothing here."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    raw: Any = session.connection().connection.dbapi_connection
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={int(before)}")


def _load(store: Store, parsed: dict[str, _Parsed], program: dict[str, Any] | None,
          mail: pl.DataFrame | None, source: str, result: ImportResult, progress: ProgressFn | None) -> None:
    """One transaction, once every file has been parsed and checked with no problem.

    Not while the parse runs: on 2 cores, writing beside it was slower than after it (the usage write at L
    took 54 s beside the parse against 17 s alone). SQLite's writer lets go of the GIL around every row it
    stores and waits to get it back behind any Python the other thread runs, and polars takes both cores."""
    tables = m.Base.metadata.tables
    with store.session(write=True) as s, _bulk_tuned(s):
        for name, p in parsed.items():  # in LOAD_ORDER: parents before children
            if progress:
                progress(f"→ {p.spec.table}", p.frame.height, False)
            _write_file(s, name, p, result)
            if progress:
                progress(f"→ {p.spec.table}", p.frame.height, True)
        if program is not None:
            for section, value in program.items():
                upsert(s, tables["program_settings"], [{"section": section, "value": value}], ("section",))
            result.imported["program"] = 1
        if mail is not None and mail.height:
            bulk_upsert(s, tables["emails"], mail, ("message_id",),
                        update=("from_email", "to_emails", "cc_emails", "sent_at", "subject", "body"))
            result.imported["emails"] = mail.height
        now = datetime.now(UTC)
        s.add(m.ImportRun(at=now, source=source, counts=result.imported, warnings=result.warnings))
        s.add(m.AuditLog(at=now, actor="cli", action="import", subject=source, detail={"counts": result.imported}))


def _parse_emails(folder: Path, issues: _Issues) -> pl.DataFrame:
    from warmintro.mail import EmailParseError, dedupe, iter_emails

    records = []
    for item in iter_emails(folder):
        if isinstance(item, EmailParseError):
            issues.add(ImportIssue(f"emails/{Path(item.file).name}", item.line_or_index, None, item.reason))
        else:
            records.append(item)
    unique = dedupe(records)
    return pl.DataFrame({
        "message_id": [r.message_id for r in unique], "from_email": [r.from_email for r in unique],
        "to_emails": [list(r.to) for r in unique], "cc_emails": [list(r.cc) for r in unique],
        "sent_at": [r.date.astimezone(UTC).replace(tzinfo=None) for r in unique],
        "subject": [r.subject for r in unique], "body": [r.body for r in unique],
    }, schema=EMAIL_SCHEMA)


def _store_directory(store: Store) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Team members (for a preset's person columns) and account domains (for calendar meetings)."""
    with store.session() as s:
        people = [(e, n) for e, n in s.execute(select(m.TeamMember.email, m.TeamMember.name))]
        domains = {d: a for a, d in s.execute(select(m.Account.account_id, m.Account.domain)) if d}
    return people, domains


def import_folder(store: Store, folder: Path, *, progress: ProgressFn | None = None,
                  max_errors: int = MAX_ERRORS, preset: str | None = None) -> ImportResult:
    """Import a contract folder; with `preset` ("hubspot", "salesforce"), the CRM's own export stands in for
    accounts.csv, contacts.csv and opportunities.csv. `.ics` calendar files add meetings either way."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WarmintroError(f"{folder}: not a folder (expected an import folder with accounts.csv, contacts.csv, program.toml)")
    from warmintro.importer.presets import PRESET_NAMES, Translation, translate

    if preset is not None and preset not in PRESET_NAMES:
        raise WarmintroError(f"unknown preset {preset!r} (one of {', '.join(PRESET_NAMES)})")
    issues = _Issues(max_errors)
    result = ImportResult()
    entries = {p.name: p for p in folder.iterdir()}
    program = _read_program(entries["program.toml"], issues, result.warnings) if "program.toml" in entries else None
    translation: Translation | None = None
    if preset is not None or any(n.lower().endswith(".ics") for n in entries):
        raw_program = program
        if raw_program is None and "program.toml" in entries:
            try:
                raw_program = tomllib.loads(entries["program.toml"].read_text(encoding="utf-8-sig"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                raw_program = None
        people, domains = _store_directory(store)
        translation = translate(folder, entries, preset, raw_program, people, domains, issues.add, result.warnings)
        entries = translation.entries
    try:
        return _import_entries(store, folder, entries, program, issues, result, translation, progress)
    finally:
        if translation is not None:
            translation.cleanup()


def _import_entries(store: Store, folder: Path, entries: dict[str, Path], program: dict[str, Any] | None,
                    issues: _Issues, result: ImportResult, translation: Any, progress: ProgressFn | None) -> ImportResult:
    consumed = translation.consumed if translation is not None else set()
    replaced = translation.replaced if translation is not None else set()
    for name in sorted(entries):
        if name not in KNOWN_ENTRIES and not name.startswith(".") and name not in consumed:
            result.warnings.append(f"{name}: not a file of the import format, ignored")
    for required in ("accounts.csv", "contacts.csv", "program.toml"):
        if required not in entries and required not in replaced:
            issues.add(ImportIssue(required, None, None, "required file is missing from the folder"))
    parsed: dict[str, _Parsed] = {}
    emails: pl.DataFrame | None = None
    # emails/ is parsed in Python on a thread of its own while polars validates the CSV files (polars lets go
    # of the GIL): its problems are kept apart and listed after the files', as when it was parsed after them.
    email_issues = _Issues(issues.cap)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-emails") as pool:
        pending = (pool.submit(_parse_emails, entries["emails"], email_issues)
                   if "emails" in entries and entries["emails"].is_dir() else None)
        for name in LOAD_ORDER:
            if name in entries and entries[name].is_file():
                p = _parse_file(entries[name], FILES[name], issues, result.warnings, progress)
                if p is not None:
                    parsed[name] = p
        if pending is not None:
            emails = pending.result()
    issues.merge(email_issues)
    _cross_checks(parsed, set(entries), store, issues)
    if issues.total:
        items = issues.items
        if translation is not None:  # back on the CRM files' own lines: list them file by file, line by line again
            items = translation.remap(items)
            files = list(dict.fromkeys(i.file for i in items))
            items.sort(key=lambda i: (files.index(i.file), i.line or 0))
        raise ImportRejected(items, issues.total)
    _load(store, parsed, program, emails, str(folder.resolve()), result, progress)
    return result
