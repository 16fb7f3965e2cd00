"""The translation machinery shared by the CRM presets and the calendar reader."""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from warmintro.importer.schema import FILES
from warmintro.importer.validate import (
    ROW,
    Header,
    ImportIssue,
    Unreadable,
    first_record_text,
    iter_lenient_batches,
    locate_csv_error,
    physical_lines,
)

PRESET_NAMES = ("hubspot", "salesforce")
AddIssue = Callable[[ImportIssue], None]
_LINE_RE = re.compile(r"\bline (\d+)\b")


def norm(header: str) -> str:
    """Headers are matched case-insensitively, trimmed, with inner whitespace collapsed."""
    return " ".join(header.replace("\ufeff", "").split()).lower()


@dataclass
class Segment:
    """Consecutive translated records that come from one source file."""

    start: int  # first translated record index of the segment
    file: str  # the source file's name, as shown in problems
    path: Path | None  # CSV source: record indices are mapped to physical lines on demand
    rows: list[int]  # per record: the source's record index (CSV) or physical line (path None)
    columns: dict[str, str]  # contract column -> the source's own column label


@dataclass
class Output:
    path: Path
    segments: list[Segment]


@dataclass
class CrmTable:
    """One CRM file, read as strings: ROW plus one column per normalised header (trimmed, empty -> null)."""

    name: str
    path: Path
    frame: pl.DataFrame
    labels: dict[str, str]  # normalised header -> header as written
    # values of records that could not be read (reported on their lines): a link to one is not "unknown"
    unreadable: set[str] = field(default_factory=set)

    def has(self, header: str) -> bool:
        return header in self.labels

    def first(self, headers: Iterable[str]) -> str | None:
        return next((h for h in headers if h in self.labels), None)

    def pick(self, headers: Iterable[str]) -> pl.Expr:
        present = [h for h in headers if h in self.labels]
        if not present:
            return pl.lit(None, dtype=pl.String)
        return pl.coalesce([pl.col(h) for h in present]) if len(present) > 1 else pl.col(present[0])

    def label(self, headers: Iterable[str]) -> str | None:
        h = self.first(headers)
        return self.labels[h] if h else None


@dataclass
class Translation:
    entries: dict[str, Path]  # the folder's entries as the importer should see them
    consumed: set[str] = field(default_factory=set)  # source entries that were translated
    replaced: set[str] = field(default_factory=set)  # contract files this translation provides
    outputs: dict[str, Output] = field(default_factory=dict)
    tmp: Path | None = None
    # Problems the translation found on the CRM files themselves: already on their lines, never remapped (HubSpot's
    # contacts.csv has the name of the translated contacts.csv). Kept alive so their ids stay theirs.
    direct: list[ImportIssue] = field(default_factory=list)

    def cleanup(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def write(self, name: str, frame: pl.DataFrame, segments: list[Segment]) -> None:
        """Write a translated contract file (its columns, in the contract's order) and remember its origins."""
        if self.tmp is None:
            self.tmp = Path(tempfile.mkdtemp(prefix="warmintro-import-"))
        cols = [c for c in FILES[name].column_names if c in frame.columns]
        path = self.tmp / name
        frame.select([pl.col(c).cast(pl.String) for c in cols]).write_csv(path, quote_style="necessary")
        self.entries[name] = path
        self.replaced.add(name)
        self.outputs[name] = Output(path, segments)

    def remap(self, issues: list[ImportIssue]) -> list[ImportIssue]:
        """Problems found in translated files, pointed back at the source files' own lines and columns."""
        lines_needed: dict[str, set[int]] = {}
        direct_ids = {id(i) for i in self.direct}
        for i in issues:
            if i.file in self.outputs and i.line is not None and id(i) not in direct_ids:
                need = lines_needed.setdefault(i.file, set())
                need.add(i.line)
                need.update(int(n) for n in _LINE_RE.findall(i.reason))
        located: dict[str, dict[int, tuple[str, int, Segment]]] = {
            name: self._locate(self.outputs[name], lines) for name, lines in lines_needed.items()
        }
        out: list[ImportIssue] = []
        direct = {id(i) for i in self.direct}
        for i in issues:
            output = self.outputs.get(i.file)
            if output is None or id(i) in direct:
                out.append(i)
                continue
            if i.line is None or i.line not in located[i.file]:
                seg = output.segments[0] if output.segments else None
                file = seg.file if seg else i.file
                column = seg.columns.get(i.column, i.column) if seg and i.column else i.column
                out.append(ImportIssue(file, 1 if i.line == 1 else None, column, i.reason))
                continue
            file, line, seg = located[i.file][i.line]
            where = located[i.file]

            def _sub(m: re.Match[str], where: dict[int, tuple[str, int, Segment]] = where, file: str = file) -> str:
                hit = where.get(int(m.group(1)))
                if hit is None:
                    return m.group(0)
                return f"line {hit[1]}" if hit[0] == file else f"{hit[0]} line {hit[1]}"

            reason = _LINE_RE.sub(_sub, i.reason)
            column = seg.columns.get(i.column, i.column) if i.column else i.column
            out.append(ImportIssue(file, line, column, reason))
        return out

    @staticmethod
    def _locate(output: Output, lines: set[int]) -> dict[int, tuple[str, int, Segment]]:
        """Translated physical line -> (source file, source line, segment)."""
        record_of: dict[int, int] = {}
        with output.path.open("r", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            start = reader.line_num + 1
            for index, _ in enumerate(reader):
                if start in lines:
                    record_of[start] = index
                start = reader.line_num + 1
        found: dict[int, tuple[str, int, Segment]] = {}
        by_segment: dict[int, list[tuple[int, int]]] = {}
        for line, record in record_of.items():
            k = max((k for k, s in enumerate(output.segments) if s.start <= record), default=None)
            if k is not None:
                by_segment.setdefault(k, []).append((line, record))
        for k, items in by_segment.items():
            seg = output.segments[k]
            source = {line: seg.rows[record - seg.start] for line, record in items}
            if seg.path is not None:
                physical = physical_lines(seg.path, list(source.values()))
                for line, rec in source.items():
                    found[line] = (seg.file, physical[rec], seg)
            else:
                for line, src_line in source.items():
                    found[line] = (seg.file, src_line, seg)
        return found


def read_table(path: Path, add: AddIssue) -> CrmTable | None:
    """Read a CRM export as strings. UTF-8 with or without a BOM, LF or CRLF, quoted or not."""
    name = path.name
    try:
        text = first_record_text(path)
    except UnicodeDecodeError as exc:
        add(ImportIssue(name, 1, None, f"not UTF-8 text (byte {exc.start}); export the file as UTF-8"))
        return None
    first = next(csv.reader(io.StringIO(text, newline="")), None) if text is not None else None
    if first is None:
        add(ImportIssue(name, None, None, "the file is empty (no header row)"))
        return None
    headers = [norm(h) for h in first]
    labels: dict[str, str] = {}
    bad = False
    for h, raw in zip(headers, first, strict=True):
        if h in labels:
            add(ImportIssue(name, 1, raw.strip(), "column appears twice in the header"))
            bad = True
        elif h:
            labels[h] = raw.replace("\ufeff", "").strip()
    if bad:
        return None
    names = [f"__c{i}" for i in range(len(headers))]
    lost = Unreadable()
    try:
        frame = pl.read_csv(path, infer_schema=False, new_columns=names, row_index_name=ROW, encoding="utf8",
                            raise_if_empty=False, truncate_ragged_lines=False)
    except (pl.exceptions.PolarsError, OSError):
        # Every malformed record on its own line, and the readable ones still translated and checked.
        try:
            batches = list(iter_lenient_batches(path, Header(names, []), add, lost))
        except (csv.Error, OSError):
            add(locate_csv_error(path))
            return None
        frame = pl.concat(batches) if batches else pl.DataFrame(
            {ROW: pl.Series([], dtype=pl.UInt32), **{n: pl.Series([], dtype=pl.String) for n in names}})
    keep = {f"__c{i}": h for i, h in enumerate(headers) if h}
    exprs = [pl.col(ROW)]
    for src, h in keep.items():
        cell = pl.col(src).str.strip_chars()
        exprs.append(pl.when(cell == "").then(None).otherwise(cell).alias(h))
    return CrmTable(name, path, frame.select(exprs), labels, lost.values)


def report_rows(table: CrmTable, rows: list[int], column: str | None, reasons: list[str], add: AddIssue) -> None:
    lines = physical_lines(table.path, rows)
    for row, reason in zip(rows, reasons, strict=True):
        add(ImportIssue(table.name, lines[row], column, reason))


def require(table: CrmTable, groups: Iterable[tuple[str, ...]], add: AddIssue) -> bool:
    ok = True
    for group in groups:
        if table.first(group) is None:
            add(ImportIssue(table.name, 1, " or ".join(_title(g) for g in group),
                            "required column is missing from the header"))
            ok = False
    return ok


# How the CRMs spell the headers a preset requires (for "required column is missing" problems).
SPELLINGS = {norm(s): s for s in (
    "Record ID", "Company ID", "Contact ID", "Deal ID", "Company name", "Name", "Company Domain Name", "Website URL",
    "Website", "Lifecycle Stage", "Email", "Deal Stage", "Create Date", "Associated Company IDs (Primary)",
    "Associated Company ID (Primary)", "Associated Company ID", "Associated Company IDs", "Associated Company",
    "Id", "AccountId", "StageName", "CreatedDate", "Type",
)}


def _title(header: str) -> str:
    return SPELLINGS.get(header, header)


def warn_unmapped(table: CrmTable, used: set[str], warnings: list[str], notes: dict[str, str] | None = None) -> None:
    notes = notes or {}
    unmapped = [table.labels[h] for h in table.labels if h not in used]
    if unmapped:
        shown = ", ".join(f"'{u}'" + (f" ({notes[norm(u)]})" if norm(u) in notes else "") for u in unmapped[:40])
        more = f" and {len(unmapped) - 40} more" if len(unmapped) > 40 else ""
        warnings.append(f"{table.name}: {len(unmapped)} column(s) not mapped, ignored: {shown}{more}")


def map_values(table: CrmTable, frame: pl.DataFrame, column: str, mapping: dict[str, str], label: str | None,
               add: AddIssue, what: str, hint: str) -> pl.DataFrame:
    """Replace the values of `column` through `mapping` (keys normalised); unknown values are problems."""
    if frame.height == 0:
        return frame
    low = pl.col(column).str.to_lowercase().str.replace_all(r"\s+", " ")
    mapped = low.replace_strict(list(mapping), list(mapping.values()), default=None, return_dtype=pl.String)
    bad = frame.filter(pl.col(column).is_not_null() & mapped.is_null())
    if bad.height:
        report_rows(table, bad[ROW].to_list()[:50], label,
                    [f"unknown {what} '{v}'; {hint}" for v in bad[column].to_list()[:50]], add)
    return frame.with_columns(mapped.alias(column))


@dataclass
class Directory:
    """Team members (team.csv, the store, a CRM's user list) by email, name and CRM user id."""

    emails: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # lower name -> email
    ids: dict[str, str] = field(default_factory=dict)  # CRM user id -> email

    def add(self, email: str | None, name: str | None, uid: str | None = None) -> None:
        if not email:
            return
        email = email.strip().lower()
        self.emails.add(email)
        if name and name.strip():
            self.names.setdefault(" ".join(name.split()).lower(), email)
        if uid and uid.strip():
            self.ids[uid.strip()] = email
            if len(uid.strip()) == 18:  # Salesforce: the 15-character id names the same record
                self.ids.setdefault(uid.strip()[:15], email)

    def resolve(self, value: str) -> str | None:
        v = value.strip()
        if v in self.ids:
            return self.ids[v]
        m = re.search(r"[^\s<>()\"';,]+@[^\s<>()\"';,]+", v)
        if m:
            return m.group(0).lower()
        return self.names.get(" ".join(v.split()).lower())


def read_team(path: Path | None, directory: Directory) -> None:
    if path is None or not path.is_file():
        return
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                low = {norm(k or ""): (v or "") for k, v in row.items()}
                directory.add(low.get("email"), low.get("name"))
    except (UnicodeDecodeError, csv.Error):
        return  # team.csv's own validation reports it


def resolve_people(table: CrmTable, frame: pl.DataFrame, column: str, label: str | None, directory: Directory,
                   add: AddIssue) -> pl.DataFrame:
    """A person column (owner, CSM) takes a team member's email, name or CRM user id -> their email."""
    if column not in frame.columns or frame.height == 0:
        return frame
    values = [v for v in frame[column].unique().to_list() if v is not None]
    resolved = {v: directory.resolve(v) for v in values}
    unknown = {v for v, e in resolved.items() if e is None}
    if unknown:
        bad = frame.filter(pl.col(column).is_in(list(unknown)))
        report_rows(table, bad[ROW].to_list()[:50], label,
                    [f"not a team member's email or name (add them to team.csv): {v}" for v in bad[column].to_list()[:50]],
                    add)
    known = {v: e for v, e in resolved.items() if e is not None}
    return frame.with_columns(
        pl.col(column).replace_strict(list(known), list(known.values()), default=None, return_dtype=pl.String)
        if known else pl.lit(None, dtype=pl.String).alias(column)
    )


def config_columns(preset: str, program: dict[str, Any] | None, add: AddIssue) -> dict[str, str]:
    """`[presets.NAME.columns]`: CRM header -> contract column (normalised header)."""
    section = ((program or {}).get("presets") or {}).get(preset) or {}
    raw = section.get("columns") or {}
    out: dict[str, str] = {}
    if not isinstance(raw, dict):
        add(ImportIssue("program.toml", None, f"presets.{preset}.columns", "must be a table of \"CRM column\" = \"contract column\""))
        return out
    for header, target in raw.items():
        if not isinstance(target, str):
            add(ImportIssue("program.toml", None, f"presets.{preset}.columns.{header}", "must name a contract column"))
            continue
        out[norm(header)] = target.strip().lower()
    return out


def config_values(preset: str, program: dict[str, Any] | None, key: str, add: AddIssue) -> dict[str, str]:
    section = ((program or {}).get("presets") or {}).get(preset) or {}
    raw = section.get(key) or {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        add(ImportIssue("program.toml", None, f"presets.{preset}.{key}", "must be a table of \"CRM value\" = \"contract value\""))
        return {}
    return {" ".join(k.split()).lower(): v.strip().lower() for k, v in raw.items()}
