"""The web pages through the real app (uvicorn on a free port, httpx), on SQLite and PostgreSQL: the champion's
approval page (signed links, CSRF, idempotent answers, the same records as Slack), the referral form (the
ledger's blocking rules), and tracking links (redirect, click, signup credited, attribution)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from starlette.applications import Starlette
from test_slack_home import champion_click, sent_dm
from webharness import JO, LEE, NOW, PRIYA_EMAIL, open_ask, referrals, snapshot, web_harness

from warmintro import weblinks
from warmintro.engines.attribution import attribution
from warmintro.flows import approval
from warmintro.store import models as m
from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import PRIYA, Harness, serve
from web import pages as webpages


@pytest.fixture
def web(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path) -> Iterator[Harness]:
    yield from web_harness(workspace_store, mock_slack, tmp_path)


def approve_url(h: Harness, *, now=NOW, ttl=timedelta(days=7)) -> str:
    return weblinks.approval_link(h.deps.store, h.deps.settings, PRIYA_EMAIL, now, ttl).url


def path_of(url: str) -> str:
    return urlsplit(url).path


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def form_of(page: str, action: str, **overrides: str) -> dict[str, list[str]]:
    """The form's fields as the browser would send them (every kept name checked)."""
    data: dict[str, list[str]] = {"csrf": [csrf_of(page)], "action": [action]}
    for i in range(len(re.findall(r'name="pick"', page))):
        data.setdefault("pick", []).append(str(i))
        data[f"subject_{i}"] = [html.unescape(re.search(rf'name="subject_{i}"[^>]*value="([^"]*)"', page).group(1))]
        data[f"body_{i}"] = [html.unescape(re.search(rf'name="body_{i}"[^>]*>(.*?)</textarea>', page, re.S).group(1))]
        data[f"src_{i}"] = [re.search(rf'name="src_{i}" value="([^"]*)"', page).group(1)]
        data[f"h_{i}"] = [re.search(rf'name="h_{i}" value="([^"]*)"', page).group(1)]
    for key, value in overrides.items():
        data[key] = [value]
    return data


def post(h: Harness, url: str, data: dict[str, list[str]], **headers: str) -> httpx.Response:
    return h.http.post(url, data=data, headers=headers, follow_redirects=False)  # type: ignore[arg-type]


# --- the approval page ---------------------------------------------------------------------------------------


def test_approval_page_shows_the_champions_ask(web: Harness):
    open_ask(web)
    resp = web.http.get(approve_url(web))
    assert resp.status_code == 200, resp.text
    page = resp.text
    assert "Hi Priya" in page and "Jo Park" in page and "Lee Fox" in page
    assert "VP Operations at Acme Freight" in page
    assert page.count("<textarea") == 2 and page.count('name="pick"') == 2
    for label in ("Approve", "Not a fit", "Not now"):
        assert f">{label}</button>" in page
    assert 'name="viewport"' in page
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    assert resp.headers["referrer-policy"] == "same-origin" and resp.headers["cache-control"] == "no-store"
    assert "mei@kestrel.example" not in page and "Mei" not in page  # nobody else's data
    # why each name fits, in human terms (the graph's evidence has counts: never shown to the champion)
    assert "class=reason" in page and "you worked together" in page
    assert not re.search(r"\d+ (?:emails?|meetings?|months?)\b", page)


def test_approve_with_an_edited_note_records_like_slack_and_is_idempotent(web: Harness):
    ask_id = open_ask(web)
    url = approve_url(web)
    page = web.http.get(url).text
    edited = "Hi Lee,\n\nWe cut dispatch planning from 3 hours to 20 minutes. Worth a chat?\n\nPriya & co <3"
    data = form_of(page, "approve", body_1=edited)
    resp = post(web, url, data)
    assert resp.status_code == 303 and resp.headers["location"] == path_of(url)
    done = web.http.get(url).text
    mailtos = [html.unescape(x) for x in re.findall(r'href="(mailto:[^"]+)"', done)]
    assert len(mailtos) == 2 and done.count("Copy note") == 2
    lee = next(x for x in mailtos if x.startswith("mailto:lee@roadrunner.example"))
    assert unquote(parse_qs(urlsplit(lee).query)["body"][0]) == edited
    web.drain()
    with web.deps.store.session() as s:
        ask = s.get(m.Ask, ask_id)
        assert ask is not None and ask.outcome == "accepted"
        row = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "champion_approved")).one()
        assert row.actor == PRIYA_EMAIL and row.detail["via"] == "web"
        assert row.detail["targets"] == [JO, LEE] and row.detail["drafts"] == ["drafter", "champion"]
    refs = referrals(web.deps.store)
    assert [(r.referrer_email, r.referee_email, r.status, r.source_tag) for r in refs] == [
        (PRIYA_EMAIL, JO, "approved", "web"), (PRIYA_EMAIL, LEE, "approved", "web")]
    before = snapshot(web.deps.store)
    again = post(web, url, data)  # a double submit or a retry
    assert again.status_code == 303
    assert snapshot(web.deps.store) == before
    assert approval.is_answered(web.deps.store, ask_id)


def test_keeping_one_name_refers_only_that_one(web: Harness):
    open_ask(web)
    url = approve_url(web)
    data = form_of(web.http.get(url).text, "approve")
    data["pick"] = ["0"]
    assert post(web, url, data).status_code == 303
    assert [r.referee_email for r in referrals(web.deps.store)] == [JO]
    assert web.http.get(url).text.count("mailto:") == 1


def test_bad_input_is_explained_and_records_nothing(web: Harness):
    open_ask(web)
    url = approve_url(web)
    page = web.http.get(url).text
    before = snapshot(web.deps.store)
    data = form_of(page, "approve")
    data.pop("pick")
    resp = post(web, url, data)
    assert resp.status_code == 400 and "Pick at least one name" in resp.text
    resp = post(web, url, form_of(page, "approve", body_0="  "))
    assert resp.status_code == 400 and "needs a subject and a message" in resp.text
    resp = post(web, url, form_of(page, "approve", pick="7"))
    assert resp.status_code == 400
    assert snapshot(web.deps.store) == before


def test_not_now_declines_and_not_a_fit_is_noted(web: Harness):
    ask_id = open_ask(web)
    url = approve_url(web)
    assert post(web, url, form_of(web.http.get(url).text, "not_now")).status_code == 303
    with web.deps.store.session() as s:
        assert s.get(m.Ask, ask_id).outcome == "declined"
    assert "No problem at all" in web.http.get(url).text
    assert referrals(web.deps.store) == []


def test_not_a_fit_is_noted_and_the_ask_stays_open_for_the_team(web: Harness):
    ask_id = open_ask(web)
    url = approve_url(web)
    assert post(web, url, form_of(web.http.get(url).text, "not_a_fit")).status_code == 303
    with web.deps.store.session() as s:
        assert s.get(m.Ask, ask_id).outcome == "pending"
        row = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "champion_not_a_fit")).one()
        assert row.detail == {"ask_id": ask_id, "via": "web"}
    assert "aren't a fit" in html.unescape(web.http.get(url).text)


def tampered(url: str) -> list[str]:
    token = url.rsplit("/", 1)[1]
    body, mac = token.split(".")
    flip = {"A": "B"}.get(body[5], "A")
    other = weblinks._b64(weblinks._unb64(body).replace(b'"a":', b'"a":1'))  # another ask id, same signature
    return [f"{url.rsplit('/', 1)[0]}/{body[:5]}{flip}{body[6:]}.{mac}", f"{url}x", f"{url.rsplit('/', 1)[0]}/{other}.{mac}",
            f"{url.rsplit('/', 1)[0]}/{body}", f"{url.rsplit('/', 1)[0]}/garbage"]


def test_tampered_and_expired_links_get_403_and_change_nothing(web: Harness):
    open_ask(web)
    url = approve_url(web)
    page = web.http.get(url).text
    data = form_of(page, "approve")
    before = snapshot(web.deps.store)
    for bad in tampered(url):
        for resp in (web.http.get(bad), post(web, bad, data)):
            assert resp.status_code == 403, bad
            assert "isn't valid" in html.unescape(resp.text) and "nothing was changed" in resp.text
    expired = approve_url(web, now=NOW - timedelta(days=8))
    for resp in (web.http.get(expired), post(web, expired, data)):
        assert resp.status_code == 403 and "expired" in resp.text
    # a referrer's form link does not open the approval page
    form_token = weblinks.referrer_links(web.deps.store, web.deps.settings, PRIYA_EMAIL, NOW).form_url.rsplit("/", 1)[1]
    assert web.http.get(f"{web.base_url}/a/{form_token}").status_code == 403
    after = snapshot(web.deps.store)
    after["codes"] = []  # the referrer link above made Priya's code
    assert after == before


def test_posts_need_the_pages_csrf_token_and_a_same_site_origin(web: Harness):
    open_ask(web)
    url = approve_url(web)
    page = web.http.get(url).text
    before = snapshot(web.deps.store)
    assert post(web, url, form_of(page, "approve", csrf="forged")).status_code == 403
    no_token = form_of(page, "approve")
    no_token.pop("csrf")
    assert post(web, url, no_token).status_code == 403
    assert post(web, url, form_of(page, "approve"), Origin="https://evil.example").status_code == 403
    assert snapshot(web.deps.store) == before


def test_an_ask_answered_on_the_web_cannot_be_answered_again_in_slack(web: Harness):
    blocks = sent_dm(web)  # the CSM's Send ask: recorded with its names, DM'd to Priya
    url = approve_url(web)
    assert post(web, url, form_of(web.http.get(url).text, "approve")).status_code == 303  # synchronous
    # the CSM and the referrals' owner hear about it in Slack, as after an approval in the DM
    web.mock.wait_for("chat.postMessage", where=lambda c: "on the web page" in str(c.body.get("text")))
    before = snapshot(web.deps.store)
    champion_click(web, blocks, "champion_approve", user=PRIYA)
    assert "already answered" in web.mock.wait_for("response_url")[-1].body["text"]
    web.drain()
    assert snapshot(web.deps.store) == before
    assert len(referrals(web.deps.store)) == 2


def test_links_refused_when_no_secret_is_configured(web: Harness):
    open_ask(web)
    url = approve_url(web)
    web.deps.settings = web.deps.settings.model_copy(update={"link_secret": None})
    with pytest.raises(weblinks.ConfigError, match="WARMINTRO_LINK_SECRET"):
        approve_url(web)
    assert web.http.get(url).status_code == 503


def test_rate_limited_per_link(web: Harness):
    open_ask(web)
    url = approve_url(web)
    server, thread, port = serve(Starlette(routes=webpages.routes(web.deps, webpages.Limits(per_ip=100, per_link=2))))
    try:
        path = f"http://127.0.0.1:{port}{path_of(url)}"
        codes = [web.http.get(path).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- the referral form ---------------------------------------------------------------------------------------


def form_url(h: Harness, email: str = PRIYA_EMAIL) -> str:
    return weblinks.referrer_links(h.deps.store, h.deps.settings, email, NOW).form_url


def test_referral_form_lands_in_the_ledger_with_the_referrer_credited(web: Harness):
    url = form_url(web)
    page = web.http.get(url)
    assert page.status_code == 200 and page.text.count("<input type=\"text\"") + page.text.count('type="email"') == 3
    data = {"csrf": [csrf_of(page.text)], "name": ["Ana Ruiz"], "email": ["Ana@Gulfstream-Cargo.example"],
            "company": ["Gulfstream Cargo"]}
    resp = post(web, url, data)
    assert resp.status_code == 200, resp.text
    assert "What happens next" in resp.text and "within 24 hours" in resp.text
    [r] = referrals(web.deps.store)
    assert (r.referrer_email, r.referee_email, r.referee_name, r.referee_company, r.source_tag, r.status) == (
        PRIYA_EMAIL, "ana@gulfstream-cargo.example", "Ana Ruiz", "Gulfstream Cargo", "web_form", "approved")
    assert r.program == "customer" and r.owner_email == "alex@vendor.example"
    before = snapshot(web.deps.store)
    again = post(web, url, data)  # resubmitted: the same referral
    assert again.status_code == 200 and r.referral_id in again.text
    assert snapshot(web.deps.store) == before


@pytest.mark.parametrize(("email", "company", "says"), [
    ("ops@bluebird.example", "Bluebird", "already a"),
    ("raj@northwind.example", "Northwind", "your own company"),
])
def test_blocked_referral_gets_a_friendly_message_and_nothing_is_recorded(web: Harness, email, company, says):
    url = form_url(web)
    page = web.http.get(url).text
    before = snapshot(web.deps.store)
    resp = post(web, url, {"csrf": [csrf_of(page)], "name": ["Someone"], "email": [email], "company": [company]})
    assert resp.status_code == 422 and says in resp.text and "Nothing was recorded" in resp.text
    assert f'value="{email}"' in resp.text  # what they typed is kept
    assert snapshot(web.deps.store) == before


def test_referral_form_validates_its_three_fields(web: Harness):
    url = form_url(web)
    page = web.http.get(url).text
    resp = post(web, url, {"csrf": [csrf_of(page)], "name": [""], "email": ["not-an-email"], "company": [""]})
    assert resp.status_code == 400
    for text in ("Please add their name.", "Please add a work email address", "Please add their company."):
        assert text in resp.text
    assert post(web, url, {"name": ["x"], "email": ["a@b.example"], "company": ["c"]}).status_code == 403
    assert referrals(web.deps.store) == []


# --- tracking links ------------------------------------------------------------------------------------------


def test_tracking_link_redirects_records_the_click_and_credits_the_signup(web: Harness):
    links = weblinks.referrer_links(web.deps.store, web.deps.settings, PRIYA_EMAIL, NOW)
    assert links.code == weblinks.referrer_links(web.deps.store, web.deps.settings, PRIYA_EMAIL, NOW).code
    resp = web.http.get(links.tracking_url, headers={"User-Agent": "test-agent"}, follow_redirects=False)
    assert resp.status_code == 302
    where = urlsplit(resp.headers["location"])
    assert where.path == "/healthz" and parse_qs(where.query) == {"utm_source": ["referral"], "ref": [links.code]}
    with web.deps.store.session() as s:
        [click_row] = s.scalars(select(m.LinkClick)).all()
        assert (click_row.code, click_row.referrer_email, click_row.user_agent) == (links.code, PRIYA_EMAIL, "test-agent")
        assert click_row.ip_hash and "127.0.0.1" not in click_row.ip_hash
    signup = f"{links.tracking_url}/signup"
    resp = web.http.post(signup, json={"email": "kai@harbor-line.example", "name": "Kai", "company": "Harbor Line"})
    assert resp.status_code == 201, resp.text
    rid = resp.json()["referral_id"]
    again = web.http.post(signup, json={"email": "kai@harbor-line.example"})
    assert again.status_code == 200 and again.json() == {"referral_id": rid, "status": "approved", "created": False}
    [r] = referrals(web.deps.store)
    assert (r.referral_id, r.referrer_email, r.source_tag) == (rid, PRIYA_EMAIL, "tracking_link")
    # account-level attribution: a later deal anywhere at that company is sourced by the referral
    with web.deps.store.session() as s:
        s.add(m.Opportunity(opportunity_id="WEB-1", account_name="Harbor Line", domain="harbor-line.example",
                            stage="discovery", amount=20_000, created_at=NOW + timedelta(days=10)))
    with web.deps.store.session() as s:
        credit = next(c for c in attribution(s, NOW + timedelta(days=11)) if c.opportunity_id == "WEB-1")
    assert (credit.credit, credit.referral_id, credit.referrer_email) == ("sourced", rid, PRIYA_EMAIL)


def test_signup_with_a_blocked_or_unknown_code_records_nothing(web: Harness):
    links = weblinks.referrer_links(web.deps.store, web.deps.settings, PRIYA_EMAIL, NOW)
    before = snapshot(web.deps.store)
    resp = web.http.post(f"{links.tracking_url}/signup", json={"email": "ops@bluebird.example"})
    assert resp.status_code == 422 and resp.json() == {"error": "customer"}
    assert web.http.post(f"{web.base_url}/r/zzzzzzzz/signup", json={"email": "a@b.example"}).status_code == 404
    assert web.http.get(f"{web.base_url}/r/zzzzzzzz", follow_redirects=False).status_code == 404
    assert web.http.get(f"{web.base_url}/r/..%2F..", follow_redirects=False).status_code == 404
    assert snapshot(web.deps.store) == before


def test_settings_secret_is_never_in_a_page(web: Harness):
    open_ask(web)
    page = web.http.get(approve_url(web)).text + web.http.get(form_url(web)).text
    secret = web.deps.settings.link_secret
    assert isinstance(secret, SecretStr) and secret.get_secret_value() not in page
