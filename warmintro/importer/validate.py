"""Column-wise validation of one CSV file with polars.

Files are read in batches (so a 10M-row usage.csv is never held whole), every column is checked with
vectorised expressions, and errors carry the file, the physical line, the column and the reason.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from warmintro.importer.schema import Column, FileSpec

ROW = "__row"  # 0-based data-record index inside the file
EMAIL_RE = r"^[^@\s;,<>\"]+@[^@\s;,<>\"]+\.[^@\s;,<>\"]+$"
DOMAIN_RE = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
TRUE = ("true", "yes", "1", "t", "y")
FALSE = ("false", "no", "0", "f", "n")
BATCH_ROWS = 500_000


def _lift_csv_field_limit() -> None:
    """The csv module refuses fields over 128 KiB by default; polars reads them, and a giant cell must be
    reported as too long for its column (with its line), not crash the line lookup."""
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)


@dataclass(frozen=True)
class ImportIssue:
    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class Header:
    columns: list[str]  # normalised names, in file order
    unknown: list[str]


def first_record_text(path: Path) -> str | None:
    """The header record's text, decoding only its own line(s), so a bad byte further down is reported on its
    own line rather than on the header's. None for an empty file; raises UnicodeDecodeError for the header."""
    lines: list[bytes] = []
    with path.open("rb") as fh:
        for raw in fh:
            lines.append(raw)
            if b"".join(lines).count(b'"') % 2 == 0:
                break
    if not lines:
        return None
    return b"".join(lines).decode("utf-8-sig")


def read_header(path: Path, spec: FileSpec) -> tuple[Header | None, list[ImportIssue]]:
    """Read and check the header row with the csv module (exact, cheap)."""
    name = path.name
    _lift_csv_field_limit()
    try:
        text = first_record_text(path)
    except UnicodeDecodeError as exc:
        return None, [ImportIssue(name, 1, None, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
    first = next(csv.reader(io.StringIO(text, newline="")), None) if text is not None else None
    if first is None:
        return None, []  # an empty file: nothing to import from it
    columns = [c.strip().lower() for c in first]
    issues: list[ImportIssue] = []
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            issues.append(ImportIssue(name, 1, c, "column appears twice in the header"))
        seen.add(c)
    for col in spec.columns:
        if col.required and col.name not in seen:
            issues.append(ImportIssue(name, 1, col.name, "required column is missing from the header"))
    unknown = [c for c in columns if c and c not in spec.column_names]
    if "" in columns:
        issues.append(ImportIssue(name, 1, None, "a header cell is empty"))
    return Header(columns, unknown), issues


def _clean(name: str) -> pl.Expr:
    raw = pl.col(name).str.strip_chars()
    return pl.when(raw == "").then(None).otherwise(raw)


def parse_datetime(expr: pl.Expr) -> pl.Expr:
    """ISO 8601 date or datetime -> naive UTC datetime (UTC when no zone is given)."""
    s = expr.str.replace("T", " ", literal=True).str.replace(r"[zZ]$", "+00:00")
    aware = [
        s.str.to_datetime(fmt, strict=False, time_zone="UTC", time_unit="us")
        for fmt in ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M%z")
    ]
    naive = [
        s.str.to_datetime(fmt, strict=False, time_unit="us").dt.replace_time_zone("UTC")
        for fmt in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
    ]
    day = s.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return pl.coalesce([*aware, *naive, day]).dt.replace_time_zone(None)


# The two shapes exports write (ISO day, ISO second in UTC): one exact parse each instead of parse_datetime's five.
_FAST_SHAPES = ((r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", "%Y-%m-%dT%H:%M:%SZ"), (r"^\d{4}-\d{2}-\d{2}$", None))


def parse_datetimes(raw: pl.Series) -> pl.Series:
    """`parse_datetime` over a cleaned column, with the same results: values of a common shape are parsed with
    one exact format, and only the rest (other shapes, and values the exact format refused) go through
    `parse_datetime`."""
    frame = raw.to_frame("raw")
    col = pl.col("raw")
    fast = []
    for shape, fmt in _FAST_SHAPES:
        parsed = (col.str.to_datetime(fmt, strict=False, time_unit="us") if fmt is not None
                  else col.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")))
        fast.append(pl.when(col.str.contains(shape)).then(parsed))
    out = frame.select(pl.coalesce(fast).alias(raw.name))
    rest = frame.with_row_index("__i").filter(out[raw.name].is_null() & col.is_not_null())
    if rest.height:
        slow = rest.select(parse_datetime(col))["raw"]
        out = out.with_columns(out[raw.name].scatter(rest["__i"], slow))
    return out[raw.name]


@functools.cache
def column_limits(table: str) -> dict[str, int]:
    """The store's length limit (characters) per column of `table`: PostgreSQL enforces VARCHAR(n), SQLite
    does not, so the importer checks it itself and both backends accept and reject the same rows."""
    from warmintro.store.models import Base

    t = Base.metadata.tables.get(table)
    if t is None:
        return {}
    limits: dict[str, int] = {}
    for c in t.columns:
        length = getattr(c.type, "length", None)
        if isinstance(length, int):
            limits[c.name] = length
    return limits


def _parsed_name(name: str) -> str:
    return f"__parsed_{name}"


Check = tuple[pl.Expr, pl.Expr]  # (the value is bad: boolean, the reason: text), in the order they win


def _column_checks(col: Column, max_len: int | None = None) -> tuple[pl.Expr, list[Check]]:
    """(parsed value, its checks) for one column, whose values `validate_batch` has already cleaned (`_clean`,
    once: every check reads them); the first check that holds gives the row's reason. A datetime column reads
    its parsed values from the column `validate_batch` added beside it (parsed once)."""
    raw = pl.col(col.name)
    present = raw.is_not_null()
    kind = col.kind
    own: list[Check] = []
    if kind in ("id", "str"):
        value = raw
    elif kind == "email":
        value = raw.str.to_lowercase()
        own.append((present & ~value.str.contains(EMAIL_RE), pl.lit("not an email address: ") + raw.str.slice(0, 80)))
    elif kind == "emails":
        value = raw.str.to_lowercase().str.replace_all(r"\s+", "")
        parts = value.str.split(";").list.eval(pl.element().filter(pl.element() != ""))
        bad = parts.list.eval(pl.element().str.contains(EMAIL_RE).not_()).list.any()
        own.append((present & (bad | (parts.list.len() == 0)),
                    pl.lit("not a list of emails separated by ';': ") + raw.str.slice(0, 80)))
        value = parts.list.join(";")
    elif kind == "domain":
        value = (
            raw.str.to_lowercase()
            .str.replace(r"^[a-z]+://", "")
            .str.replace(r"^www\.", "")
            .str.replace(r"[/?#].*$", "")
        )
        own.append((present & ~value.str.contains(DOMAIN_RE), pl.lit("not a domain name: ") + raw.str.slice(0, 80)))
    elif kind in ("int", "float", "percent"):
        text = raw.str.replace(r"%$", "") if kind == "percent" else raw
        value = text.cast(pl.Float64, strict=False)
        bad = present & (value.is_null() | value.is_nan() | value.is_infinite())
        what = "a whole number" if kind == "int" else "a number"
        if kind == "int":
            bad = bad | (present & value.is_not_null() & (value != value.round(0)))
        own.append((bad, pl.lit(f"not {what}: ") + raw.str.slice(0, 80)))
        if col.min_value is not None:
            own.append((value < col.min_value, pl.lit(f"below the minimum {col.min_value:g}: ") + raw))
        if col.max_value is not None:
            own.append((value > col.max_value, pl.lit(f"above the maximum {col.max_value:g}: ") + raw))
        if kind == "int":
            value = value.cast(pl.Int64, strict=False)
    elif kind == "bool":
        low = raw.str.to_lowercase()
        value = pl.when(low.is_in(TRUE)).then(True).when(low.is_in(FALSE)).then(False).otherwise(None)
        own.append((present & value.is_null(), pl.lit("not true or false: ") + raw.str.slice(0, 80)))
    elif kind == "datetime":
        value = pl.col(_parsed_name(col.name))
        own.append((present & value.is_null(), pl.lit("not an ISO 8601 date or datetime: ") + raw.str.slice(0, 80)))
    elif kind == "enum":
        value = raw.str.to_lowercase().str.replace_all(r"[\s-]+", "_")
        own.append((present & ~value.is_in(list(col.choices)),
                    pl.lit(f"must be one of {', '.join(col.choices)}; got ") + raw.str.slice(0, 80)))
    else:  # pragma: no cover - the schema is fixed
        raise ValueError(kind)
    checks: list[Check] = []
    if col.required:
        checks.append((raw.is_null(), pl.lit("required value is empty")))
    # PostgreSQL text cannot hold NUL, and no CSV value of the contract needs one: reject it on every backend.
    checks.append((raw.str.contains("\x00", literal=True), pl.lit("contains a NUL byte (binary data, not text)")))
    if max_len is not None:
        checks.append((raw.str.len_chars() > max_len,
                       pl.lit(f"longer than {max_len} characters: ") + raw.str.slice(0, 40) + pl.lit("...")))
    checks.extend(own)
    if col.default is not None:
        value = pl.when(raw.is_null()).then(pl.lit(col.default)).otherwise(value)
    return value.alias(col.name), checks


def _bad_name(name: str) -> str:
    return f"__bad_{name}"


def validate_batch(df: pl.DataFrame, spec: FileSpec, present: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse a batch of raw string columns. Returns (parsed frame with ROW, errors frame [ROW, column, reason])."""
    # Columns absent from the header behave as all-empty.
    missing = [pl.lit(None, dtype=pl.String).alias(c.name) for c in spec.columns if c.name not in present]
    if missing:
        df = df.with_columns(missing)
    df = df.with_columns(_clean(c.name).alias(c.name) for c in spec.columns)
    dates = [c.name for c in spec.columns if c.kind == "datetime"]
    if dates:
        df = df.with_columns(parse_datetimes(df[c]).alias(_parsed_name(c)) for c in dates)
    limits = column_limits(spec.table)
    checked = [(c.name, *_column_checks(c, limits.get(c.name))) for c in spec.columns]
    # One boolean per column and row first; the reason texts are built only for the rows that have a problem
    # (building them for every row, to keep the few that apply, was most of the cost of a clean batch).
    out = df.select(pl.col(ROW), *(value for _n, value, _c in checked),
                    *(pl.any_horizontal(cond.fill_null(False) for cond, _r in checks).alias(_bad_name(name))
                      for name, _v, checks in checked))
    errors = [_reasons(df.filter(out[_bad_name(name)]), name, position, checks)
              for position, (name, _v, checks) in enumerate(checked) if out[_bad_name(name)].any()]
    if errors:
        found = pl.concat(errors).sort(ROW, "__position", maintain_order=True).drop("__position")
    else:
        found = pl.DataFrame({ROW: pl.Series([], dtype=out[ROW].dtype), "column": pl.Series([], dtype=pl.String),
                              "reason": pl.Series([], dtype=pl.String)})
    return out.select(ROW, *spec.column_names), found


def _reasons(bad_rows: pl.DataFrame, name: str, position: int, checks: list[Check]) -> pl.DataFrame:
    """[ROW, column, reason, __position] for the rows of one column that failed a check: the first check that holds."""
    reason = pl.coalesce(pl.when(cond.fill_null(False)).then(text) for cond, text in checks)
    return bad_rows.select(pl.col(ROW), pl.lit(name).alias("column"), reason.cast(pl.String).alias("reason"),
                           pl.lit(position, dtype=pl.UInt32).alias("__position"))


def iter_raw_batches(path: Path, header: Header, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """Raw string batches with a ROW index. Raises polars errors on malformed CSV (caller reports them)."""
    lf = pl.scan_csv(
        path,
        infer_schema=False,
        new_columns=[f"__col{i}" for i in range(len(header.columns))],
        encoding="utf8",
        raise_if_empty=False,
        truncate_ragged_lines=False,
        row_index_name=ROW,
        empty_string_is_null=False,
    )
    rename = {f"__col{i}": c for i, c in enumerate(header.columns) if c}
    keep = [ROW, *[f"__col{i}" for i, c in enumerate(header.columns) if c and c not in header.columns[:i]]]
    lf = lf.select(keep).rename({k: v for k, v in rename.items() if k in keep})
    yield from lf.collect_batches(chunk_size=batch_rows)


@dataclass
class Unreadable:
    """What a lenient read could not turn into rows: the values of those records, so that a reference to one
    of them is not reported as unknown (the record's own problem is reported instead)."""

    records: int = 0
    values: set[str] = field(default_factory=set)


def _decoded_lines(path: Path, bad_lines: dict[int, str], quotes: list[int]) -> Iterator[str]:
    """The file's lines, each decoded on its own: an undecodable line is noted (with its byte) and read with
    replacement characters, so every later line keeps its number. `quotes[0]` counts the quote characters
    handed out since the caller last reset it (a record that ends the file inside quotes never closes them)."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                bad_lines[number] = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start + 1} of " \
                                    "the line); save the file as UTF-8"
                text = raw.decode("utf-8", errors="replace")
            quotes[0] += text.count('"')
            yield text


def iter_lenient_batches(path: Path, header: Header, report: Callable[[ImportIssue], None],
                         unreadable: Unreadable, batch_rows: int = 50_000) -> Iterator[pl.DataFrame]:
    """The csv module's reading of a file polars refused: every malformed record (more fields than the header,
    undecodable bytes, a quote never closed) is reported on its own line and left out, and the readable records
    come out as raw batches like `iter_raw_batches` (same ROW numbering), so their values are still checked."""
    _lift_csv_field_limit()
    width = len(header.columns)
    keep = [(i, c) for i, c in enumerate(header.columns) if c and c not in header.columns[:i]]
    bad_lines: dict[int, str] = {}
    quotes = [0]
    reader = csv.reader(_decoded_lines(path, bad_lines, quotes))
    next(reader, None)
    start = reader.line_num + 1
    quotes[0] = 0
    rows: list[int] = []
    columns: list[list[str | None]] = [[] for _ in keep]
    for index, record in enumerate(reader):
        end = reader.line_num
        problem = next((bad_lines[n] for n in range(start, end + 1) if n in bad_lines), None)
        if problem is None and len(record) > width:
            problem = f"has {len(record)} fields where the header has {width}"
        if problem is None and quotes[0] % 2:
            problem = "a quoted field opened in this record is never closed (the file ends inside it)"
        quotes[0] = 0
        if problem is not None:
            line = next((n for n in range(start, end + 1) if n in bad_lines), start)
            report(ImportIssue(path.name, line, None, problem))
            unreadable.records += 1
            unreadable.values.update(v.strip() for v in record if v.strip())
        else:
            rows.append(index)
            for k, (i, _c) in enumerate(keep):
                columns[k].append(record[i] if i < len(record) else None)
        start = end + 1
        if len(rows) >= batch_rows:
            yield _raw_frame(rows, keep, columns)
            rows, columns = [], [[] for _ in keep]
    if rows:
        yield _raw_frame(rows, keep, columns)


def _raw_frame(rows: list[int], keep: list[tuple[int, str]], columns: list[list[str | None]]) -> pl.DataFrame:
    return pl.DataFrame({ROW: pl.Series(rows, dtype=pl.UInt32),
                         **{c: pl.Series(columns[k], dtype=pl.String) for k, (_i, c) in enumerate(keep)}})


def physical_lines(path: Path, rows: list[int]) -> dict[int, int]:
    """Map 0-based data-record indices to the physical line each record starts on (quoted fields may
    span lines). Only run when there are errors to report, so the fast path never pays for it."""
    wanted = set(rows)
    out: dict[int, int] = {}
    if not wanted:
        return out
    last = max(wanted)
    _lift_csv_field_limit()
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        start = reader.line_num + 1
        for index, _record in enumerate(reader):
            if index in wanted:
                out[index] = start
            if index >= last:
                break
            start = reader.line_num + 1
    for r in wanted - out.keys():
        out[r] = r + 2
    return out


def locate_csv_error(path: Path) -> ImportIssue:
    """A polars parse failure says little about where; find the first malformed line with the csv module."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImportIssue(name, None, None, f"cannot read the file: {exc.strerror}")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return ImportIssue(name, line, None, "contains a NUL byte (binary data, not CSV text)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ImportIssue(name, line, None, "not UTF-8 text; save the file as UTF-8")
    _lift_csv_field_limit()
    reader = csv.reader(io.StringIO(text, newline=""))
    width = None
    start = 1
    try:
        for record in reader:
            if width is None:
                width = len(record)
            elif record and len(record) != width:
                return ImportIssue(name, start, None, f"has {len(record)} fields where the header has {width}")
            start = reader.line_num + 1
    except csv.Error as exc:
        return ImportIssue(name, reader.line_num, None, f"malformed CSV: {exc}")
    if text.count('"') % 2:
        return ImportIssue(name, None, None, "malformed CSV: a quoted field is never closed")
    return ImportIssue(name, None, None, "malformed CSV")
