"""The partner portal (issue 13, web/portal.py) in a real browser: Debian's Chromium, headless, at phone
size, driven by Selenium through Debian's chromedriver (as tests/slack/test_web_browser.py does). A partner
opens their signed link (what `warmintro portal-link` prints), sees their tracking link, their own
submissions with stages and their commissions (never the other partner's), submits the three-field form and
sees the new submission listed, logged in the ledger as a partner referral; a lead outside the ICP shows as in
review and is held with its reason. A tampered or an expired link gets an error page, not data. Skipped, with
the reason, when Chromium or Selenium is missing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from test_web_browser import PHONE, browser, shoot, submit, wait  # noqa: F401  (browser: its fixture, reused)
from webharness import NOW, web_harness

from warmintro.engines.ledger import create_referral
from warmintro.engines.partners import portal_link
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import Harness

KIM = "kim@routewise.example"  # Routewise, an implementation partner (25%)
ZED = "zed@otherco.example"  # OtherCo, an agency: the partner whose rows must never show
CAMPUS = "dean@campus-college.example"  # an Education company: outside the workspace's ICP (Logistics)


@pytest.fixture
def driver(request: pytest.FixtureRequest) -> object:
    """The module's headless phone-sized Chromium (test_web_browser's `browser`; skips without one)."""
    return request.getfixturevalue("browser")


def _cleanup(store: Store) -> None:
    with store.session() as s:
        s.execute(delete(m.PayoutRecord))
        s.execute(delete(m.Opportunity).where(m.Opportunity.opportunity_id.like("PORTALB-%")))
        s.execute(delete(m.Person).where(m.Person.email == CAMPUS))
        s.execute(delete(m.ReferralEvent))
        s.execute(delete(m.Referral))
        s.execute(delete(m.Partner).where(m.Partner.partner_id.in_(("PB-1", "PB-9"))))


@pytest.fixture
def web(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path) -> Iterator[Harness]:
    """The real app on uvicorn, two partners, each with a referral and a won deal it sourced."""
    store = workspace_store
    with store.session() as s:
        s.add(m.Partner(partner_id="PB-1", name="Routewise", domain="routewise.example", kind="implementation",
                        certified=True, contact_email=KIM))
        s.add(m.Partner(partner_id="PB-9", name="OtherCo", domain="otherco.example", kind="agency",
                        contact_email=ZED))
        s.add(m.Person(email=CAMPUS, name="Dana Dean", company="Campus College", domain="campus-college.example",
                       industry="Education", company_employees=900))
    create_referral(store, referrer_email=KIM, referee_email="jo@acme-freight.example", at=NOW - timedelta(days=40),
                    referee_name="Jo Park", referee_company="Acme Freight")
    create_referral(store, referrer_email=ZED, referee_email="lee@roadrunner.example", at=NOW - timedelta(days=40),
                    referee_name="Lee Fox", referee_company="Roadrunner")
    with store.session() as s:
        s.add(m.Opportunity(opportunity_id="PORTALB-1", account_name="Acme Freight", domain="acme-freight.example",
                            stage="won", amount=40_000, created_at=NOW - timedelta(days=35),
                            closed_at=NOW - timedelta(days=5)))
        s.add(m.Opportunity(opportunity_id="PORTALB-2", account_name="Roadrunner", domain="roadrunner.example",
                            stage="won", amount=70_000, created_at=NOW - timedelta(days=35),
                            closed_at=NOW - timedelta(days=5)))
    try:
        yield from web_harness(store, mock_slack, tmp_path)
    finally:
        _cleanup(store)


def _rows(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    section = driver.find_element(By.XPATH, "//section[h2[text()='Your submissions']]")
    return [tr.text for tr in section.find_elements(By.CSS_SELECTOR, "tr")[1:]]


def _fill(driver, name: str, email: str, company: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait(driver).until(ec.presence_of_element_located((By.ID, "name"))).send_keys(name)
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "company").send_keys(company)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "section.notice, section.problem")))


def test_a_partner_sees_only_their_own_page_and_submits_a_referral_from_a_phone(driver, web: Harness,
                                                                                tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    link = portal_link(web.deps.store, web.deps.settings, "PB-1", NOW)
    assert link.url.startswith(web.base_url + "/p/")
    driver.get(link.url)
    wait(driver).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Routewise"))
    assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]  # no sideways scroll
    shoot(driver, tmp_path, "portal-page")
    page = driver.find_element(By.TAG_NAME, "main").text
    # the tracking link: the partner contact's own code on this server
    tracking = driver.find_element(By.CSS_SELECTOR, "p.link").text
    assert re.fullmatch(re.escape(web.base_url) + r"/r/[a-z2-9]{8}", tracking), tracking
    with web.deps.store.session() as s:
        code = s.scalars(select(m.ReferralCode).where(m.ReferralCode.referrer_email == KIM)).one().code
    assert tracking.endswith("/r/" + code)
    # their submission, with its stage, and their commission: 25% of the 40,000 won deal
    [row] = _rows(driver)
    assert "Jo Park" in row and "Acme Freight" in row and row.endswith("won")  # its deal was won: not "with our team"
    assert "10,000.00" in page and "Earned so far: 10,000.00" in page
    # never the other partner's
    for theirs in ("Lee Fox", "Roadrunner", "OtherCo", "10,500.00", ZED):
        assert theirs not in driver.page_source, theirs

    # the three-field form: an ICP-fit lead goes to the team
    _fill(driver, "Sam Reyes", "Sam@Gulfstream-Cargo.example", "Gulfstream Cargo")
    notice = driver.find_element(By.CSS_SELECTOR, "section.notice").text
    assert notice == "Thank you! Sam Reyes is with our team now."
    rows = _rows(driver)
    assert len(rows) == 2 and rows[-1].startswith("Jo Park")  # newest first
    [sam_row] = [r for r in rows if "Sam Reyes" in r]
    assert "Gulfstream Cargo" in sam_row and sam_row.endswith("with our team")
    shoot(driver, tmp_path, "portal-submitted")
    with web.deps.store.session() as s:
        sam = s.scalars(select(m.Referral).where(m.Referral.referee_email == "sam@gulfstream-cargo.example")).one()
        assert (sam.referrer_email, sam.program, sam.status, sam.source_tag, sam.referee_company) == (
            KIM, "partner", "approved", "referral:partner:portal", "Gulfstream Cargo")
        assert sam.owner_email  # routed, with a first-touch SLA
        assert sam.sla_due_at is not None

    # a lead outside the ICP: shown as in review, held in the ledger with the reason
    _fill(driver, "Dana Dean", CAMPUS, "Campus College")
    notice = driver.find_element(By.CSS_SELECTOR, "section.notice").text
    assert "Dana Dean is in review with our partner team first" in notice
    rows = _rows(driver)
    [dana_row] = [r for r in rows if "Dana Dean" in r]
    assert len(rows) == 3 and "Campus College" in dana_row and dana_row.endswith("in review")
    with web.deps.store.session() as s:
        held = s.scalars(select(m.Referral).where(m.Referral.referee_email == CAMPUS)).one()
        assert (held.program, held.status, held.owner_email) == ("partner", "held", None)
        reasons = (held.extra or {})["qualification"]["reasons"]
        assert reasons and reasons[0].startswith("outside_icp")
        event = s.scalars(select(m.ReferralEvent).where(m.ReferralEvent.referral_id == held.referral_id)).one()
        assert "held for review: outside_icp" in (event.note or "")

    # a blocked one (an existing customer) is refused on the page and records nothing
    _fill(driver, "Priya", "priya@northwind.example", "Northwind")
    assert "already a customer" in driver.find_element(By.CSS_SELECTOR, "section.problem").text
    assert len(_rows(driver)) == 3
    with web.deps.store.session() as s:
        assert len(s.scalars(select(m.Referral).where(m.Referral.referrer_email == KIM)).all()) == 3
    # reloading the page (a GET) shows the same list and logs nothing twice
    driver.get(link.url)
    wait(driver).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Routewise"))
    assert len(_rows(driver)) == 3


def test_the_other_partner_sees_their_own_rows(driver, web: Harness):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(portal_link(web.deps.store, web.deps.settings, ZED, NOW).url)  # by the contact's email
    wait(driver).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "OtherCo"))
    [row] = _rows(driver)
    assert "Lee Fox" in row and "Roadrunner" in row
    assert "10,500.00" in driver.page_source  # 15% of 70,000 for an agency
    assert "Jo Park" not in driver.page_source and "Routewise" not in driver.page_source


def test_a_tampered_or_expired_link_shows_an_error_page_not_data(driver, web: Harness, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    good = portal_link(web.deps.store, web.deps.settings, "PB-1", NOW).url
    head, sig = good.rsplit(".", 1)
    driver.get(head + "." + ("A" if sig[0] != "A" else "B") + sig[1:])
    wait(driver).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "This link isn"))
    shoot(driver, tmp_path, "portal-tampered")
    for leak in ("Jo Park", "Routewise", "Your submissions", "commission", 'name="email"'):
        assert leak not in driver.page_source, leak

    expired = portal_link(web.deps.store, web.deps.settings, "PB-1", NOW - timedelta(days=2), timedelta(days=1)).url
    driver.get(expired)
    wait(driver).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "This link has expired"))
    for leak in ("Jo Park", "Routewise", "Your submissions", 'name="email"'):
        assert leak not in driver.page_source, leak
    with web.deps.store.session() as s:
        assert len(s.scalars(select(m.Referral)).all()) == 2  # the two seeded ones, nothing more
