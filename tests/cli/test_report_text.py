"""The plain-text program report as a VP reads it: a human 'as of', and one flag line per finding."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.console import Console

from warmintro.commands import ledger
from warmintro.engines.report import program_report

NOW = datetime(2026, 11, 25, 9, 30, 12, 345678, tzinfo=UTC)
pytestmark = pytest.mark.store


def test_as_of_is_for_people_and_a_referrers_flags_are_one_line(store, monkeypatch):
    import io

    out, err = io.StringIO(), io.StringIO()  # own consoles: the module's may be ones another test patched
    monkeypatch.setattr(ledger, "out", Console(file=out, width=80, highlight=False, soft_wrap=True))
    monkeypatch.setattr(ledger, "err", Console(file=err, width=80, highlight=False, soft_wrap=True))
    with store.session() as s:
        data = program_report(s, NOW)
    detail = "eve@vendor.example: 5 of 5 referrals reached an opportunity (100%; program 47%)"
    data["flags"] = [{"flag": "high_conversion", "referral_id": f"R-{i}", "detail": detail} for i in range(3)] + [
        {"flag": "self_referral", "referral_id": "R-9", "detail": "kim@x.example referred their own domain"}]
    ledger.print_report(data)
    assert "as of 25 Nov 2026 09:30 UTC" in " ".join(out.getvalue().split())
    assert "2026-11-25T" not in out.getvalue()
    lines = [" ".join(line.split()) for line in err.getvalue().splitlines() if line.strip()]
    assert lines == [f"flag: high_conversion: {detail} (referrals R-0, R-1, R-2)",
                     "flag: self_referral: kim@x.example referred their own domain (referral R-9)"]
