"""Meetings from `.ics` calendar exports (Google Calendar, Outlook, Apple), beside meetings.csv.

Each VEVENT is one meeting: UID (plus RECURRENCE-ID for a moved occurrence) -> meeting_id, SUMMARY ->
title, DTSTART -> occurred_at (in UTC; floating times and all-day dates as UTC), ATTENDEE and ORGANIZER
mailto: addresses -> attendees. The kind is read from the title (QBR / quarterly business review,
renewal, onboarding, kickoff), the account from the attendees' email domains. Cancelled events and
events without attendees (focus time, holidays) are skipped with a warning. Recurring events count once
(their first occurrence): a customer meeting series is imported as the meetings its export lists.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from warmintro.importer.presets.base import AddIssue, Segment, Translation, norm
from warmintro.importer.schema import FILES
from warmintro.importer.validate import ROW, ImportIssue, read_header

COLUMNS = {"meeting_id": "UID", "title": "SUMMARY", "occurred_at": "DTSTART", "attendees": "ATTENDEE",
           "kind": "SUMMARY", "account_id": "ATTENDEE"}
KIND_PATTERNS = (
    ("qbr", re.compile(r"\bqbr\b|quarterly business review|business review", re.I)),
    ("renewal", re.compile(r"\brenewal", re.I)),
    ("onboarding", re.compile(r"\bonboarding\b", re.I)),
    ("kickoff", re.compile(r"\bkick[- ]?off\b", re.I)),
)


def meeting_kind(title: str) -> str:
    for kind, pattern in KIND_PATTERNS:
        if pattern.search(title):
            return kind
    return "other"


def _email(value: Any) -> str | None:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.strip().lower()
    return text if "@" in text else None


def _utc(value: Any) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return None


def _event_lines(path: Path) -> list[int]:
    lines = []
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip().upper() == "BEGIN:VEVENT":
                lines.append(n)
    return lines


def read_ics(path: Path, domains: dict[str, str], add: AddIssue) -> tuple[list[dict[str, str | None]], list[int], dict[str, int]]:
    """(meeting rows as contract strings, the line each row's VEVENT starts on, skipped counts by reason)."""
    import icalendar

    skipped: dict[str, int] = {}
    try:
        cal = icalendar.Calendar.from_ical(path.read_bytes())
    except (ValueError, KeyError, IndexError) as exc:
        add(ImportIssue(path.name, None, None, f"not a valid iCalendar file: {exc}"))
        return [], [], skipped
    starts = _event_lines(path)
    rows: list[dict[str, str | None]] = []
    lines: list[int] = []
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    for k, ev in enumerate(events):
        line = starts[k] if k < len(starts) else 1
        if str(ev.get("STATUS", "")).upper() == "CANCELLED":
            skipped["cancelled"] = skipped.get("cancelled", 0) + 1
            continue
        raw = ev.get("ATTENDEE")
        people = raw if isinstance(raw, list) else [raw] if raw is not None else []
        emails = [e for e in (_email(p) for p in people) if e]
        organizer = _email(ev.get("ORGANIZER")) if ev.get("ORGANIZER") is not None else None
        if organizer and organizer not in emails:
            emails.insert(0, organizer)
        if not people:
            skipped["no attendees"] = skipped.get("no attendees", 0) + 1
            continue
        uid = str(ev.get("UID") or "").strip() or None
        rid = ev.get("RECURRENCE-ID")
        if uid and rid is not None:
            uid = f"{uid}@{_utc(rid.dt)}"
        start = ev.get("DTSTART")
        title = str(ev.get("SUMMARY") or "").strip() or None
        account = next((domains[d] for d in (e.rsplit("@", 1)[1] for e in emails) if d in domains), None)
        rows.append({
            "meeting_id": uid, "account_id": account, "title": title,
            "kind": meeting_kind(title or ""), "occurred_at": _utc(start.dt) if start is not None else None,
            "attendees": ";".join(dict.fromkeys(emails)) or None,
        })
        lines.append(line)
    return rows, lines, skipped


def _account_domains(t: Translation, store_domains: dict[str, str]) -> dict[str, str]:
    """domain -> account_id, from the folder's accounts (translated or not) and the store."""
    out = dict(store_domains)
    path = t.entries.get("accounts.csv")
    if path is None or not path.is_file():
        return out
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                low = {norm(k or ""): (v or "").strip() for k, v in row.items()}
                domain = re.sub(r"^[a-z]+://", "", low.get("domain", "").lower())
                domain = re.sub(r"^www\.", "", domain).split("/")[0]
                if domain and low.get("account_id"):
                    out.setdefault(domain, low["account_id"])
    except (UnicodeDecodeError, csv.Error):
        pass  # accounts.csv's own validation reports it
    return out


def translate_calendars(t: Translation, store_domains: dict[str, str], add: AddIssue, warnings: list[str]) -> None:
    calendars = sorted(n for n, p in t.entries.items() if n.lower().endswith(".ics") and p.is_file())
    if not calendars:
        return
    domains = _account_domains(t, store_domains)
    spec = FILES["meetings.csv"]
    frames: list[pl.DataFrame] = []
    segments: list[Segment] = []
    count = 0
    csv_path = t.entries.get("meetings.csv")
    if csv_path is not None and csv_path.is_file():
        header, problems = read_header(csv_path, spec)
        for p in problems:
            add(p)
        if header is None or problems:
            return
        for col in header.unknown:
            warnings.append(f"meetings.csv: unknown column '{col}' ignored")
        try:
            raw = pl.read_csv(csv_path, infer_schema=False, new_columns=header.columns, encoding="utf8",
                              truncate_ragged_lines=False, raise_if_empty=False)
        except pl.exceptions.PolarsError:
            return  # the importer reports meetings.csv's malformed line itself
        frames.append(raw.select([c for c in dict.fromkeys(header.columns) if c]))
        segments.append(Segment(0, "meetings.csv", csv_path, list(range(raw.height)), {}))
        count = raw.height
    seen: set[str] = set()
    for name in calendars:
        t.consumed.add(name)
        path = t.entries.pop(name)
        rows, lines, skipped = read_ics(path, domains, add)
        keep = [(r, n) for r, n in zip(rows, lines, strict=True) if not (r["meeting_id"] and r["meeting_id"] in seen)]
        dupes = len(rows) - len(keep)
        seen.update(r["meeting_id"] for r, _ in keep if r["meeting_id"])
        for why, n in sorted(skipped.items()):
            warnings.append(f"{name}: {n} event(s) skipped: {why}")
        if dupes:
            warnings.append(f"{name}: {dupes} event(s) already read from another calendar file, skipped")
        if not keep:
            continue
        frames.append(pl.DataFrame([r for r, _ in keep], schema={c: pl.String for c in keep[0][0]}))
        segments.append(Segment(count, name, None, [n for _, n in keep], COLUMNS))
        count += len(keep)
    if not frames:
        return
    frame = pl.concat(frames, how="diagonal_relaxed").with_row_index(ROW)
    t.write("meetings.csv", frame, segments)
