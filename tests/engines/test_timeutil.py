"""Times read by people: days, moments, and what is left of an ask window (CLI and Slack alike)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from slackapp.blocks import closes_in
from warmintro.engines.timeutil import human_day, human_moment, time_left

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_days_and_moments_read_as_people_write_them():
    assert human_day(NOW) == "7 Dec 2026"
    assert human_moment("2026-12-07T19:18:00Z") == "7 Dec 2026 19:18 UTC"
    assert human_moment(datetime(2026, 12, 7, 20, 18, tzinfo=timezone(timedelta(hours=1)))) == "7 Dec 2026 19:18 UTC"


def test_what_is_left_of_a_window_is_whole_hours_never_rounded_up():
    assert time_left(NOW + timedelta(hours=13, minutes=59), NOW) == "13 h"
    assert time_left(NOW + timedelta(minutes=59), NOW) == "under 1 h"
    # the scan still asks at the very moment a window expires: it is not shown as closed, nor as "0 h"
    assert time_left(NOW, NOW) == "under 1 h"
    assert time_left(NOW - timedelta(seconds=1), NOW) is None
    assert time_left(datetime(2026, 12, 7, 23, 0), NOW) == "14 h"  # a naive time is UTC


def test_slack_says_the_same_as_the_cli():
    assert closes_in(NOW + timedelta(hours=13, minutes=59), NOW) == "closes in 13 h"
    assert closes_in(NOW, NOW) == "closes in under 1 h"
    assert closes_in(NOW - timedelta(hours=1), NOW) == "window closed"
