"""The partner portal (issue 13): a signed link opens one partner's page (tracking link, submissions and
stages, commissions, a three-field form); nobody else's rows appear; a tampered or expired link gets a 403
and changes nothing; the form needs the page's CSRF token and logs a partner referral through the ledger."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from slackapp.deps import Deps
from warmintro.engines.ledger import create_referral
from warmintro.engines.partners import portal_link
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import NOW, FakeAgent, make_settings
from web import portal
from web.server import ROUTE_MODULES

pytestmark = pytest.mark.store
KIM = "kim@routewise.example"
ZED = "zed@otherco.example"


@pytest.fixture
def partners(workspace_store: Store) -> Iterator[Store]:
    with workspace_store.session() as s:
        s.add(m.Partner(partner_id="P-1", name="Routewise", domain="routewise.example", kind="implementation",
                        certified=True, contact_email=KIM))
        s.add(m.Partner(partner_id="P-9", name="OtherCo", domain="otherco.example", kind="agency", contact_email=ZED))
    try:
        yield workspace_store
    finally:
        with workspace_store.session() as s:
            s.execute(delete(m.PayoutRecord))
            s.execute(delete(m.Opportunity).where(m.Opportunity.opportunity_id.like("PORTAL-%")))
            s.execute(delete(m.LinkClick))
            s.execute(delete(m.ReferralCode))
            s.execute(delete(m.ReferralEvent))
            s.execute(delete(m.Referral))
            s.execute(delete(m.Partner))


@pytest.fixture
def web(partners: Store, mock_slack: MockSlackAPI, tmp_path: Path) -> Iterator[tuple[TestClient, Deps]]:
    settings = make_settings(mock_slack, tmp_path).model_copy(update={
        "link_secret": SecretStr("portal-test-secret-0123456789"), "public_url": "https://wi.example"})
    deps = Deps(settings=settings, store=partners, agent=FakeAgent(), clock=lambda: NOW)
    with TestClient(Starlette(routes=portal.routes(deps)), base_url="https://wi.example") as client:
        yield client, deps


def _path(deps: Deps, partner: str = "P-1", ttl: timedelta = timedelta(days=30)) -> str:
    return portal_link(deps.store, deps.settings, partner, NOW, ttl).url.removeprefix("https://wi.example")


def test_the_portal_is_mounted_with_the_other_pages():
    assert "web.portal" in ROUTE_MODULES


def test_a_partner_sees_its_own_submissions_and_commissions_only(web):
    client, deps = web
    create_referral(deps.store, referrer_email=KIM, referee_email="jo@acme-freight.example",
                           at=NOW - timedelta(days=40), referee_name="Jo <b>Park</b>", referee_company="Acme Freight")
    create_referral(deps.store, referrer_email=ZED, referee_email="lee@roadrunner.example", at=NOW - timedelta(days=40),
                    referee_name="Lee Fox")
    with deps.store.session() as s:
        s.add(m.Opportunity(opportunity_id="PORTAL-1", account_name="Acme", domain="acme-freight.example", stage="won",
                            amount=40_000, created_at=NOW - timedelta(days=35), closed_at=NOW - timedelta(days=5)))
        s.add(m.Opportunity(opportunity_id="PORTAL-2", account_name="Road", domain="roadrunner.example", stage="won",
                            amount=70_000, created_at=NOW - timedelta(days=35), closed_at=NOW - timedelta(days=5)))
    resp = client.get(_path(deps))
    assert resp.status_code == 200 and "width=device-width" in resp.text
    body = resp.text
    assert "Routewise" in body and "Jo &lt;b&gt;Park&lt;/b&gt;" in body and "<b>Park" not in body
    assert "Lee Fox" not in body and "OtherCo" not in body and "17,500.00" not in body  # nobody else's
    assert "10,000.00" in body  # 25% of 40,000
    assert re.search(r"https://wi\.example/r/[a-z2-9]{8}", body)  # the tracking link
    assert body.count('name="name"') == body.count('name="email"') == body.count('name="company"') == 1
    assert resp.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in resp.headers[
        "content-security-policy"]


def test_a_tampered_or_expired_link_changes_nothing(web):
    client, deps = web
    path = _path(deps)
    head, sig = path.rsplit(".", 1)
    bad = client.get(head + "." + ("A" if sig[0] != "A" else "B") + sig[1:])
    assert bad.status_code == 403 and "This link isn" in bad.text and "valid" in bad.text
    expired = _path(deps, ttl=timedelta(minutes=1))
    deps.clock = lambda: NOW + timedelta(minutes=2)
    assert client.get(expired).status_code == 403
    assert "expired" in client.post(expired, data={"name": "X", "email": "x@y.example"}).text
    with deps.store.session() as s:
        assert s.scalars(select(m.Referral)).all() == []


def test_the_form_logs_a_partner_referral_with_csrf(web):
    client, deps = web
    path = _path(deps)
    page = client.get(path).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post(path, data={"name": "Jo", "email": "jo@acme-freight.example"}).status_code == 403  # no CSRF
    foreign = client.post(path, data={"csrf": csrf, "name": "Jo", "email": "jo@acme-freight.example"},
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    ok = client.post(path, data={"csrf": csrf, "name": "Jo Park", "email": "Jo@Acme-Freight.example",
                                 "company": "Acme Freight"})
    assert ok.status_code == 200 and "Thank you! Jo Park is with our team now." in ok.text
    again = client.post(path, data={"csrf": csrf, "name": "Jo Park", "email": "jo@acme-freight.example"})
    assert "already referred Jo Park" in again.text
    blocked = client.post(path, data={"csrf": csrf, "name": "Priya", "email": "priya@northwind.example"})
    assert blocked.status_code == 422 and "already a customer" in blocked.text
    with deps.store.session() as s:
        [r] = s.scalars(select(m.Referral)).all()
        assert (r.referrer_email, r.program, r.referee_company, r.source_tag) == (
            KIM, "partner", "Acme Freight", "referral:partner:portal")
    assert "with our team" in client.get(path).text  # its stage in the list


def test_a_submissions_stage_follows_its_credited_deal():
    from web.portal import _stage

    assert _stage("approved", None) == "approved"  # no deal yet: the referral's own status
    assert _stage("approved", "open") == "opportunity" and _stage("meeting", "open") == "opportunity"
    assert _stage("approved", "won") == "won" and _stage("opportunity", "lost") == "lost"
    assert _stage("won", "lost") == "won"  # the ledger already says won (another deal): kept
    assert _stage("held", "won") == "held" and _stage("declined", "open") == "declined"  # review decides first
