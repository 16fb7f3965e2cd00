"""Signed links and tracking codes (warmintro.weblinks), the store tables behind them on SQLite and
PostgreSQL, and `warmintro link approve|referrer --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect, select

from warmintro import weblinks
from warmintro.errors import ConfigError, NotFoundError, WarmintroError
from warmintro.settings import Settings
from warmintro.store import models as m

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FIXTURE = Path(__file__).parents[1] / "fixtures" / "northwind"


def settings(secret: str | None = "s3cret-for-tests", **extra: object) -> Settings:
    s = Settings()
    return s.model_copy(update={"link_secret": SecretStr(secret) if secret else None, "public_url": None, "port": 3000,
                                "landing_url": None, **extra})


def test_sign_and_verify_round_trip_and_refusals():
    st = settings()
    token = weblinks.sign(st, {"k": "approve", "a": 7, "e": "a@b.example"}, NOW + timedelta(days=1))
    assert weblinks.verify(st, token, NOW, "approve")["a"] == 7
    with pytest.raises(weblinks.BadLink, match="expired"):
        weblinks.verify(st, token, NOW + timedelta(days=1), "approve")
    with pytest.raises(weblinks.BadLink, match="tampered"):
        weblinks.verify(st, token, NOW, "refer")  # another kind of link
    with pytest.raises(weblinks.BadLink, match="tampered"):
        weblinks.verify(settings("another-secret"), token, NOW, "approve")
    body, mac = token.split(".")
    for bad in (f"{body}.{mac[:-2]}", f"{body[:-1]}A.{mac}", "", "a.b.c", f"{body}.", "%%%.%%%", "é.é"):
        with pytest.raises(weblinks.BadLink):
            weblinks.verify(st, bad, NOW, "approve")


def test_no_secret_no_links():
    with pytest.raises(ConfigError, match="WARMINTRO_LINK_SECRET"):
        weblinks.sign(settings(None), {"k": "approve"}, NOW)
    with pytest.raises(ConfigError):
        weblinks.verify(settings(None), "x.y", NOW, "approve")


def test_csrf_token_is_bound_to_the_link():
    st = settings()
    assert weblinks.csrf_ok(st, "tok-a", weblinks.csrf_token(st, "tok-a"))
    assert not weblinks.csrf_ok(st, "tok-b", weblinks.csrf_token(st, "tok-a"))
    assert not weblinks.csrf_ok(st, "tok-a", "")


def test_ttl_and_landing_url():
    assert weblinks.parse_ttl("7d") == timedelta(days=7) and weblinks.parse_ttl("36h") == timedelta(hours=36)
    assert weblinks.parse_ttl("2w") == timedelta(weeks=2)
    for bad in ("", "7", "0d", "7y", "1000d"):
        with pytest.raises(WarmintroError):
            weblinks.parse_ttl(bad)
    url = weblinks.landing_url(settings(landing_url="https://vendor.example/start?utm=x&ref=old#top"), None, "abcd2345")
    parts = urlsplit(url)
    assert (parts.netloc, parts.path, parts.fragment) == ("vendor.example", "/start", "top")
    assert parse_qs(parts.query) == {"utm": ["x"], "ref": ["abcd2345"]}
    assert weblinks.landing_url(settings(), "relaydesk.example", "abcd2345") == "https://relaydesk.example/?ref=abcd2345"


@pytest.mark.store
def test_tables_and_codes(store):
    tables = set(inspect(store.engine).get_table_names())
    assert {"referral_codes", "link_clicks"} <= tables
    code = weblinks.referrer_code(store, "Priya@Northwind.example", NOW)
    assert weblinks.CODE_RE.match(code)
    assert weblinks.referrer_code(store, "priya@northwind.example", NOW) == code  # one per referrer, for good
    other = weblinks.referrer_code(store, "sam@bluebird.example", NOW)
    assert other != code
    assert weblinks.code_owner(store, code) == "priya@northwind.example"
    assert weblinks.code_owner(store, "nope") is None and weblinks.code_owner(store, "zzzzzzzz") is None
    with store.session() as s:
        s.add(m.LinkClick(code=code, referrer_email="priya@northwind.example", at=NOW, ip_hash="h"))
    with store.session() as s:
        [click] = s.scalars(select(m.LinkClick)).all()
        assert click.at == NOW and click.code == code


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("WARMINTRO_", "OPENAI_", "SLACK_"))}
    full_env.update({"WARMINTRO_HOME": str(home), **env})
    return subprocess.run([sys.executable, "-m", "warmintro", *args], capture_output=True, text=True, env=full_env,
                          timeout=300)


def test_cli_link_approve_and_referrer(tmp_path):
    home = tmp_path / "home"
    assert run(["import", str(FIXTURE), "--json"], home).returncode == 0
    env = {"WARMINTRO_LINK_SECRET": "cli-secret", "WARMINTRO_PUBLIC_URL": "https://intro.vendor.example/"}
    champion = json.loads(run(["scan", "--as-of", "2026-11-25T09:00:00Z", "--json"], home).stdout)["asks"][0]["contact_email"]
    done = run(["link", "approve", champion, "--json"], home, **env)
    assert done.returncode != 0 and "no open ask" in done.stderr and "Traceback" not in done.stderr

    from warmintro.engines.cadence import record_ask
    from warmintro.program import load_program
    from warmintro.store.db import Store

    store = Store.open(f"sqlite:///{home / 'warmintro.sqlite3'}")
    try:
        with store.session() as s:
            rules = load_program(s).rules
        ask_id = record_ask(store, rules, contact_email=champion, asked_at=datetime.now(UTC) - timedelta(hours=1))
    finally:
        store.close()
    done = run(["link", "approve", champion, "--ttl", "36h", "--json"], home, **env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"url", "expires_at"} and data["url"].startswith("https://intro.vendor.example/a/")
    token = data["url"].rsplit("/", 1)[1]
    payload = weblinks.verify(settings("cli-secret"), token, datetime.now(UTC), "approve")
    assert payload["a"] == ask_id and payload["e"] == champion
    expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
    assert timedelta(hours=35) < expires - datetime.now(UTC) <= timedelta(hours=36)

    done = run(["link", "referrer", champion, "--json"], home, **env)
    assert done.returncode == 0, done.stderr
    ref = json.loads(done.stdout)
    assert {"code", "tracking_url", "form_url"} <= set(ref)
    assert ref["tracking_url"] == f"https://intro.vendor.example/r/{ref['code']}"
    assert ref["form_url"].startswith("https://intro.vendor.example/refer/")
    again = json.loads(run(["link", "referrer", champion, "--json"], home, **env).stdout)
    assert again["code"] == ref["code"]

    done = run(["link", "referrer", champion, "--json"], home)  # no secret
    assert done.returncode != 0 and "WARMINTRO_LINK_SECRET" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.store
def test_open_ask_errors_are_clear(store):
    with pytest.raises(NotFoundError, match="no customer contact"):
        weblinks.open_ask(store, "nobody@nowhere.example")
