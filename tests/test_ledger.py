"""Referral ledger: blocking rules (nothing recorded), program inference, routing, SLA, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from storeutil import dump

from warmintro.engines.ledger import ReferralBlocked, create_referral, update_referral
from warmintro.importer.run import import_folder
from warmintro.store import models as m

pytestmark = pytest.mark.store
AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PRIYA = "priya.natarajan@northwind.example"


@pytest.fixture
def loaded(store, northwind):
    import_folder(store, northwind)
    return store


@pytest.mark.parametrize(("referee", "reason"), [
    ("someone@northwind.example", "same_domain"),
    ("buyer@bluebird.example", "customer"),
    ("tom.reyes@bluebird.example", "customer"),
    ("lena@northwind.example", "same_domain"),  # do-not-contact too, but same_domain comes first
    ("raj.patel@rival.example", "competitor"),
])
def test_blocked_referrals_record_nothing(loaded, referee, reason):
    before = dump(loaded)
    with pytest.raises(ReferralBlocked) as info:
        create_referral(loaded, referrer_email=PRIYA, referee_email=referee, at=AT)
    assert info.value.reason == reason
    assert dump(loaded) == before


def test_do_not_contact_referee(loaded):
    with pytest.raises(ReferralBlocked) as info:
        create_referral(loaded, referrer_email="tom.reyes@bluebird.example", referee_email="lena@northwind.example", at=AT)
    # Lena's company is a customer, which comes before do_not_contact in the contract's order
    assert info.value.reason == "customer"


def test_churned_customer_domain_is_not_blocked(loaded):
    view = create_referral(loaded, referrer_email=PRIYA, referee_email="newowner@oldmill.example", at=AT)
    assert view.created


def test_created_with_owner_sla_and_events(loaded):
    view = create_referral(loaded, referrer_email=PRIYA, referee_email="Jordan.Lee@harbor.example", at=AT,
                           trigger_type="nps")
    assert (view.status, view.program, view.owner_email) == ("approved", "customer", "alex@vendor.example")
    assert view.sla_due_at == AT + timedelta(hours=24)
    with loaded.session() as s:
        r = s.get(m.Referral, view.referral_id)
        assert r.referee_email == "jordan.lee@harbor.example" and r.referee_domain == "harbor.example"
        assert [e.status for e in s.scalars(select(m.ReferralEvent))] == ["approved"]


def test_idempotency_key_never_duplicates(loaded):
    a = create_referral(loaded, referrer_email=PRIYA, referee_email="jordan.lee@harbor.example", at=AT, idempotency_key="k1")
    b = create_referral(loaded, referrer_email=PRIYA, referee_email="jordan.lee@harbor.example", at=AT, idempotency_key="k1")
    assert a.referral_id == b.referral_id and a.created and not b.created
    with loaded.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Referral)) == 1


def test_program_inference(loaded):
    assert create_referral(loaded, referrer_email="dana@vendor.example", referee_email="a@harbor.example", at=AT).program == "employee"
    assert create_referral(loaded, referrer_email="kim@routewise.example", referee_email="b@harbor.example", at=AT).program == "partner"
    assert create_referral(loaded, referrer_email="x@stackhouse.example", referee_email="c@harbor.example", at=AT).program == "partner"
    assert create_referral(loaded, referrer_email=PRIYA, referee_email="d@harbor.example", at=AT,
                           program_kind="partner").program == "partner"


def test_routing_keeps_a_company_with_its_owner_and_spreads_load(loaded):
    with loaded.session() as s:
        s.add(m.TeamMember(email="zed@vendor.example", name="Zed", role="sdr"))
    first = create_referral(loaded, referrer_email=PRIYA, referee_email="a@harbor.example", at=AT)
    second = create_referral(loaded, referrer_email=PRIYA, referee_email="b@harbor.example", at=AT)
    third = create_referral(loaded, referrer_email=PRIYA, referee_email="c@tidewater.example", at=AT)
    assert second.owner_email == first.owner_email  # same company, same owner
    assert third.owner_email != first.owner_email  # the least-loaded rep gets the next company


def test_lifecycle_update_is_timestamped(loaded):
    view = create_referral(loaded, referrer_email=PRIYA, referee_email="jordan.lee@harbor.example", at=AT)
    update_referral(loaded, view.referral_id, status="meeting", at=AT + timedelta(hours=5), actor="alex@vendor.example")
    with loaded.session() as s:
        r = s.get(m.Referral, view.referral_id)
        assert r.status == "meeting" and r.first_touch_at == AT + timedelta(hours=5)
        assert [e.status for e in s.scalars(select(m.ReferralEvent).order_by(m.ReferralEvent.id))] == ["approved", "meeting"]
