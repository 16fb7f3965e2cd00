"""The claim store (warmintro.claims) on SQLite and PostgreSQL: the first claim of a key wins, a released one can
be taken again, and pruning forgets only the kinds that matter for a while (Slack event ids, daily digests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warmintro.claims import PRUNED, ClaimKind, claim, prune_events, release
from warmintro.store import models as m

pytestmark = pytest.mark.store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_every_kind_has_its_own_prefix_and_keys_read_as_before():
    assert len({k.prefix for k in ClaimKind}) == len(ClaimKind)
    assert ClaimKind.DIGEST.key("dana@vendor.example", "2026-11-25") == "digest:dana@vendor.example:2026-11-25"
    assert ClaimKind.HOOK_CARD.key("S1", "priya@northwind.example") == "hookask:S1:priya@northwind.example"
    assert ClaimKind.NOTICE.key("R1", "handoff") == "notice:R1:handoff"


def test_first_claim_wins_and_a_release_gives_it_back(store):
    key = ClaimKind.ANSWER.key(42)
    assert claim(store, key, NOW) and not claim(store, key, NOW)
    release(store, key)
    assert claim(store, key, NOW)


def test_pruning_forgets_only_the_short_lived_kinds(store):
    old = NOW - timedelta(days=10)
    for kind in ClaimKind:
        assert claim(store, kind.key("x"), old)
    assert prune_events(store, NOW - timedelta(days=3)) == len(PRUNED)
    with store.session() as s:
        left = {row.event_id for row in s.query(m.SlackEvent)}
    assert left == {kind.key("x") for kind in ClaimKind if kind not in PRUNED}
