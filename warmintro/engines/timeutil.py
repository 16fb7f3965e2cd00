"""Time helpers shared by the engines: everything is UTC-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day_of(value: datetime) -> date:
    return utc(value).date()


def iso(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat().replace("+00:00", "Z")


def human_day(value: datetime | date) -> str:
    """'7 Dec 2026': dates read by people (ISO stays in --json and the API)."""
    return f"{value.day} {value:%b %Y}"


def human_moment(value: datetime | str) -> str:
    """'7 Dec 2026 19:18 UTC' for a datetime or an ISO string ('2026-12-07T19:18:00Z')."""
    at = utc(datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value)
    return f"{at.day} {at:%b %Y %H:%M} UTC"


def time_left(expires_at: datetime, now: datetime) -> str | None:
    """What is left of an ask window, as the CLI and Slack show it: '13 h' (whole hours left, never rounded
    up), 'under 1 h' (to its last instant: the scan still asks at the moment it expires), or None after."""
    hours = (utc(expires_at) - utc(now)).total_seconds() / 3600
    if hours < 0:
        return None
    return "under 1 h" if hours < 1 else f"{int(hours)} h"
