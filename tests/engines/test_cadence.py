"""Cadence: the invariant holds for any history the write path accepts, and under concurrent writers."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from warmintro.engines.cadence import (
    CadenceViolation,
    PastAsk,
    cadence_reasons,
    history_violations,
    record_ask,
    write_reasons,
)
from warmintro.program import Rules
from warmintro.store import models as m

RULES = Rules()
BASE = datetime(2024, 1, 1, tzinfo=UTC)

attempts = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3 * 365), st.sampled_from(["accepted", "declined", "no_response"])),
    min_size=1, max_size=25,
)


@settings(max_examples=400, deadline=None)
@given(attempts)
def test_accepting_only_what_write_reasons_allows_keeps_the_invariant(tries):
    history: list[PastAsk] = []
    for day, outcome in tries:
        at = BASE + timedelta(days=day)
        if not write_reasons(history, at, RULES, outcome):
            history.append(PastAsk(at, outcome))
    assert history_violations(history, RULES) == []


@settings(max_examples=300, deadline=None)
@given(attempts, st.integers(min_value=0, max_value=4 * 365))
def test_scan_reasons_agree_with_the_invariant(tries, probe_day):
    """If the scan says an ask at T is fine, adding it at T keeps any valid past history valid."""
    history: list[PastAsk] = []
    for day, outcome in sorted(tries):
        at = BASE + timedelta(days=day)
        if not cadence_reasons(history, at, RULES):
            history.append(PastAsk(at, outcome))
    assert history_violations(history, RULES) == []
    probe = BASE + timedelta(days=probe_day)
    past = [a for a in history if a.asked_at <= probe]
    if not cadence_reasons(past, probe, RULES):
        assert history_violations([*past, PastAsk(probe)], RULES) == []


def test_history_violations_finds_each_kind():
    d = lambda n: BASE + timedelta(days=n)  # noqa: E731
    assert any("too_soon" in p for p in history_violations([PastAsk(d(0)), PastAsk(d(89))], RULES))
    assert history_violations([PastAsk(d(0)), PastAsk(d(90))], RULES) == []
    four = [PastAsk(d(0)), PastAsk(d(91)), PastAsk(d(182)), PastAsk(d(273))]
    assert any("cadence_limit" in p for p in history_violations(four, RULES))
    assert any("decline_cooldown" in p for p in history_violations([PastAsk(d(0), "declined"), PastAsk(d(100))], RULES))


def test_backdated_ask_may_not_squeeze_in_before_a_later_one():
    later = [PastAsk(BASE + timedelta(days=100))]
    assert "too_soon" in write_reasons(later, BASE + timedelta(days=50), RULES)
    assert write_reasons(later, BASE, RULES) == []


@pytest.mark.store
def test_record_ask_enforces_cadence(store):
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    record_ask(store, RULES, contact_email="Champ@A.example", asked_at=t0, channel="slack")
    with pytest.raises(CadenceViolation) as info:
        record_ask(store, RULES, contact_email="champ@a.example", asked_at=t0 + timedelta(days=30))
    assert info.value.reasons == ["too_soon"]
    record_ask(store, RULES, contact_email="champ@a.example", asked_at=t0 + timedelta(days=90))
    with store.session() as s:
        assert len(s.scalars(select(m.Ask).where(m.Ask.contact_email == "champ@a.example")).all()) == 2


@pytest.mark.store
def test_a_do_not_contact_champion_is_never_asked(store):
    with store.session() as s:
        s.add(m.Account(account_id="A1", name="A", domain="a.example"))
        s.add(m.Contact(contact_id="C1", account_id="A1", name="No Contact", email="dnc@a.example", do_not_contact=True))
    with pytest.raises(CadenceViolation) as info:
        record_ask(store, RULES, contact_email="DNC@a.example", asked_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert info.value.reasons == ["do_not_contact"]
    with store.session() as s:
        assert s.scalars(select(m.Ask)).all() == []


@pytest.mark.store
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts)
def test_store_write_path_keeps_the_invariant(store, tries):
    email = f"p{abs(hash(tuple(tries))) % 10**9}@x.example"
    for day, outcome in tries:
        with contextlib.suppress(CadenceViolation):
            record_ask(store, RULES, contact_email=email, asked_at=BASE + timedelta(days=day), outcome=outcome)
    with store.session() as s:
        rows = s.execute(select(m.Ask.asked_at, m.Ask.outcome).where(m.Ask.contact_email == email)).all()
    assert history_violations([PastAsk(a, o) for a, o in rows], RULES) == []


@pytest.mark.store
def test_concurrent_writers_cannot_both_ask(store):
    """Eight threads try to ask the same champion at the same moment: exactly one wins."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    barrier = threading.Barrier(8)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            record_ask(store, RULES, contact_email="race@a.example", asked_at=at + timedelta(minutes=i))
            outcome = "ok"
        except CadenceViolation:
            outcome = "refused"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["ok"] + ["refused"] * 7
    with store.session() as s:
        assert len(s.scalars(select(m.Ask).where(m.Ask.contact_email == "race@a.example")).all()) == 1
