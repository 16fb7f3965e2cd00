"""`scan(..., only=contacts)`: the scan limited to some contacts decides for each of them exactly what the
full scan decides (signal hooks evaluate only the contacts new signals touch)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from warmintro.engines.scan import ScanResult, scan
from warmintro.importer.run import import_folder

AS_OF = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _sentiment(texts: list[str]) -> list[str]:
    """Deterministic and model-free: the restriction is what is under test, not the classifier."""
    return ["negative" if any(w in t.lower() for w in ("fail", "slow", "bug", "frustrat", "churn")) else "positive"
            for t in texts]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from warmintro.demo.generator import generate_workspace

    out = tmp_path_factory.mktemp("scan-only") / "contract"
    generate_workspace(out, accounts=30, seed=5, as_of=AS_OF, people=300, ties=900, emails=60)
    return out


def _by_contact(result: ScanResult) -> dict[str, dict]:
    out = {a.contact_email: {"ask": a.to_json()} for a in result.asks}
    out.update({k.contact_email: {"skip": k.to_json()} for k in result.skipped})
    return out


def test_limited_scan_decides_like_the_full_scan(store, folder):
    import_folder(store, folder)
    with store.session() as s:
        full = scan(s, AS_OF, sentiment=_sentiment)
        everyone = _by_contact(full)
        asked = [a.contact_email for a in full.asks]
        skipped = [k.contact_email for k in full.skipped]
        assert asked and skipped  # the workspace exercises both
        rng = random.Random(3)
        subsets = [asked[:1], skipped[:1], rng.sample(asked, min(5, len(asked))) + rng.sample(skipped, min(5, len(skipped))),
                   [asked[0].upper(), "nobody@nowhere.example"]]
        for subset in subsets:
            limited = scan(s, AS_OF, sentiment=_sentiment, only=subset)
            wanted = {e.lower() for e in subset}
            assert _by_contact(limited) == {e: v for e, v in everyone.items() if e in wanted}
            # ordering is the full scan's ordering restricted to the subset
            assert [a.contact_email for a in limited.asks] == [e for e in asked if e in wanted]
            assert [k.contact_email for k in limited.skipped] == [e for e in skipped if e in wanted]
        assert scan(s, AS_OF, sentiment=_sentiment, only=[]).asks == []
        # every contact given at once: the full scan
        assert _by_contact(scan(s, AS_OF, sentiment=_sentiment, only=list(everyone))) == everyone
