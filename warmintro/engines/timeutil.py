"""Time helpers shared by the engines: everything is UTC-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day_of(value: datetime) -> date:
    return utc(value).date()


def iso(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat().replace("+00:00", "Z")
