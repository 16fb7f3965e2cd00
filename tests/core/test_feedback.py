"""Feedback on the agent's answers: one vote per person per answer, counted in the report and by the metrics hook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warmintro import metrics
from warmintro.engines.report import program_report
from warmintro.errors import WarmintroError
from warmintro.feedback import feedback_summary, record_feedback

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.store


def test_votes_are_recorded_changed_and_counted(store):
    counted: list[tuple[str, float, dict[str, str]]] = []
    previous = metrics.set_sink(lambda event, n, labels: counted.append((event, n, labels)))
    try:
        vote = dict(role="csm", email="dana@vendor.example", thread_id="D0DANA:1.0", intent="todays_queue")
        assert record_feedback(store, answer_id="D0DANA:1.1", user_id="U0DANA", vote="up", at=NOW, mode="offline",
                               **vote) == "recorded"
        assert record_feedback(store, answer_id="D0DANA:1.1", user_id="U0DANA", vote="up", at=NOW, **vote) == "same"
        assert record_feedback(store, answer_id="D0DANA:1.1", user_id="U0DANA", vote="down", at=NOW, **vote) == "changed"
        assert record_feedback(store, answer_id="D0DANA:1.2", user_id="U0DANA", vote="up", at=NOW, mode="model",
                               **vote) == "recorded"
        assert record_feedback(store, answer_id="D0ALEX:2.1", user_id="U0ALEX", vote="up", role="ae",
                               at=NOW + timedelta(days=2), mode="model") == "recorded"
        with pytest.raises(WarmintroError):
            record_feedback(store, answer_id="x", user_id="U0DANA", role="csm", vote="meh", at=NOW)
    finally:
        metrics.set_sink(previous)
    assert [(e, labels["vote"], labels["mode"]) for e, _n, labels in counted] == [
        ("agent_feedback", "up", "offline"), ("agent_feedback", "down", "offline"), ("agent_feedback", "up", "model"),
        ("agent_feedback", "up", "model")]
    with store.session() as s:
        assert feedback_summary(s, NOW) == {"answers_rated": 2, "up": 1, "down": 1, "share_up": 0.5,
                                            "by_mode": {"offline": {"up": 0, "down": 1}, "model": {"up": 1, "down": 0}}}
        assert feedback_summary(s)["up"] == 2
        assert program_report(s, NOW + timedelta(days=3))["agent_feedback"]["answers_rated"] == 3


def test_the_plain_text_report_shows_the_votes(store, monkeypatch):
    import io

    from rich.console import Console

    from warmintro.commands import ledger

    buf = io.StringIO()  # its own console: the module's `out` may be one another test patched before its import
    monkeypatch.setattr(ledger, "out", Console(file=buf, width=80, highlight=False, soft_wrap=True))
    record_feedback(store, answer_id="D0DANA:1.1", user_id="U0DANA", vote="up", role="csm", at=NOW, mode="offline")
    record_feedback(store, answer_id="D0DANA:1.2", user_id="U0DANA", vote="down", role="csm", at=NOW, mode="model")
    with store.session() as s:
        ledger.print_report(program_report(s, NOW + timedelta(days=1)))
    text = " ".join(buf.getvalue().split())
    assert "Assistant answers rated in Slack: 2 (1 up, 1 down, 50.0% up; model 0 up / 1 down, offline 1 up / 0 down)" in text
