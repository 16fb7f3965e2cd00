"""The web pages in a real browser: Debian's Chromium, headless, at phone size, driven by Selenium through
Debian's chromedriver (never a downloaded browser or driver). Approve with an edited note, decline, submit a
referral, visit a tracking link; screenshots are saved as test artefacts (tmp_path, and
$WARMINTRO_TEST_ARTIFACTS/web when set). Skipped, with the reason, when Chromium or Selenium is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from webharness import LEE, NOW, PRIYA_EMAIL, open_ask, referrals, web_harness

from warmintro import weblinks
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import Harness


@pytest.fixture
def web(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path) -> Iterator[Harness]:
    yield from web_harness(workspace_store, mock_slack, tmp_path)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PHONE = (390, 844)  # CSS pixels, an ordinary phone
WAIT_S = 30


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed (apt-get install -y chromium chromium-driver)"
    if not Path(CHROMEDRIVER).exists():
        return "chromedriver is not installed (apt-get install -y chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                f"--window-size={PHONE[0]},{PHONE[1]}"):
        options.add_argument(arg)
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 2.0, "touch": True}})
    # An explicit driver path: Selenium Manager never runs, nothing is downloaded.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver, tmp_path: Path, name: str) -> Path:
    """A full-height screenshot at phone width, kept with the test's artefacts."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE[0], "height": max(PHONE[1], int(height)), "deviceScaleFactor": 2, "mobile": True})
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})
    out = os.environ.get("WARMINTRO_TEST_ARTIFACTS")
    if out:
        Path(out, "web").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(out, "web", path.name))
    return path


def wait(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S)


def submit(driver, button) -> None:
    """Click a submit button and wait until the next page replaced this one (never touch a stale page)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def replaced(exc: WebDriverException) -> bool:
        # chromedriver (touch emulation) reports a node of a page that was already replaced this way, not as a
        # stale element: the click landed and the old page is gone; anything else is a real failure
        return isinstance(exc, StaleElementReferenceException) or "does not belong to the document" in str(exc)

    try:
        button.click()
    except WebDriverException as exc:
        if not replaced(exc):
            raise

    def gone(_driver: object) -> bool:
        try:
            button.is_enabled()
        except WebDriverException as exc:
            if replaced(exc):
                return True
            raise
        return False

    wait(driver).until(gone)


def test_champion_approves_an_edited_note_and_forwards_it_from_a_phone(browser, web: Harness, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = browser
    ask_id = open_ask(web)
    driver.get(weblinks.approval_link(web.deps.store, web.deps.settings, PRIYA_EMAIL, NOW).url)
    wait(driver).until(ec.presence_of_element_located((By.ID, "body_1")))
    assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]  # no sideways scroll
    shoot(driver, tmp_path, "approval-page")
    note = driver.find_element(By.ID, "body_1")
    note.clear()
    note.send_keys("Hi Lee,\n\nWe cut dispatch planning from 3 hours to 20 minutes. Worth a chat?\n\nPriya")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button[value=approve]"))
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "a.mailto")))
    links = {a.get_attribute("href").split("?")[0]: a.get_attribute("href")
             for a in driver.find_elements(By.CSS_SELECTOR, "a.mailto")}
    assert set(links) == {"mailto:jo@acme-freight.example", "mailto:lee@roadrunner.example"}
    body = parse_qs(urlsplit(links["mailto:lee@roadrunner.example"]).query)["body"][0]
    assert body == "Hi Lee,\n\nWe cut dispatch planning from 3 hours to 20 minutes. Worth a chat?\n\nPriya"
    copy = driver.find_elements(By.CSS_SELECTOR, "button.copy")[1]
    copy.click()
    wait(driver).until(lambda d: copy.text == "Copied")
    shoot(driver, tmp_path, "approval-done")
    with web.deps.store.session() as s:
        assert s.get(m.Ask, ask_id).outcome == "accepted"
        row = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "champion_approved")).one()
        assert row.detail["drafts"] == ["drafter", "champion"]
    assert [(r.referee_email, r.status) for r in referrals(web.deps.store)] == [
        ("jo@acme-freight.example", "approved"), (LEE, "approved")]
    driver.refresh()  # reload after approving: the same notes, nothing recorded twice
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "a.mailto")))
    assert len(referrals(web.deps.store)) == 2


def test_champion_says_not_now(browser, web: Harness, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = browser
    ask_id = open_ask(web)
    driver.get(weblinks.approval_link(web.deps.store, web.deps.settings, PRIYA_EMAIL, NOW).url)
    submit(driver, wait(driver).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "button[value=not_now]"))))
    wait(driver).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "No problem at all"))
    with web.deps.store.session() as s:
        assert s.get(m.Ask, ask_id).outcome == "declined"
    assert referrals(web.deps.store) == []


def test_referrer_submits_the_form_and_visits_their_tracking_link(browser, web: Harness, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = browser
    links = weblinks.referrer_links(web.deps.store, web.deps.settings, PRIYA_EMAIL, NOW)
    driver.get(links.form_url)
    wait(driver).until(ec.presence_of_element_located((By.ID, "name"))).send_keys("Ana Ruiz")
    driver.find_element(By.ID, "email").send_keys("ops@bluebird.example")  # an existing customer: refused
    driver.find_element(By.ID, "company").send_keys("Bluebird")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button.primary"))
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".error")))
    assert "already a" in driver.find_element(By.CSS_SELECTOR, ".error").text
    assert referrals(web.deps.store) == []
    email = driver.find_element(By.ID, "email")
    email.clear()
    email.send_keys("ana@gulfstream-cargo.example")
    company = driver.find_element(By.ID, "company")
    company.clear()
    company.send_keys("Gulfstream Cargo")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button.primary"))
    wait(driver).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Thank you"))
    assert "What happens next" in driver.page_source
    shoot(driver, tmp_path, "referral-confirmation")
    [r] = referrals(web.deps.store)
    assert (r.referrer_email, r.referee_email, r.source_tag) == (PRIYA_EMAIL, "ana@gulfstream-cargo.example", "web_form")

    driver.get(links.tracking_url)  # -> 302 to the landing page (here the app's own /healthz)
    wait(driver).until(lambda d: urlsplit(d.current_url).path == "/healthz")
    assert parse_qs(urlsplit(driver.current_url).query)["ref"] == [links.code]
    with web.deps.store.session() as s:
        [click] = s.scalars(select(m.LinkClick)).all()
        assert click.referrer_email == PRIYA_EMAIL and "Chrome" in (click.user_agent or "")
