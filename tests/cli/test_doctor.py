"""`warmintro doctor`: each check says ok, warn or fail and what to fix; the command exits 1 when one fails.

The Slack check talks to a mock `auth.test` and the model check to a mock OpenAI-compatible endpoint, both on
127.0.0.1 (port 0); nothing leaves the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from warmintro.commands.doctor import check_database, check_model, check_slack, check_tiktoken, check_vectors
from warmintro.settings import Settings
from warmintro.store.db import make_engine, migrate


class MockServer:
    """auth.test (token "xoxb-good" is valid, anything else is invalid_auth) and /v1/chat/completions."""

    def __init__(self) -> None:
        calls = self.calls = []  # type: list[tuple[str, str]]

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                calls.append((self.path, self.headers.get("authorization", "")))
                if self.path.endswith("/auth.test"):
                    ok = self.headers.get("authorization") == "Bearer xoxb-good"
                    payload: dict[str, Any] = {"ok": True, "user": "warmintro", "team": "Vendor", "user_id": "U0BOT",
                                               "team_id": "T0VENDOR"} if ok else {"ok": False, "error": "invalid_auth"}
                    self._send(200, payload)
                elif self.path.endswith("/chat/completions"):
                    model = json.loads(body).get("model")
                    if model != "tiny":
                        self._send(404, {"error": {"message": f"model {model} not found", "type": "not_found"}})
                        return
                    self._send(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": "tiny",
                                     "choices": [{"index": 0, "finish_reason": "length",
                                                  "message": {"role": "assistant", "content": "p"}}],
                                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                else:
                    self._send(404, {"ok": False, "error": "unknown_method"})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mock() -> Iterator[MockServer]:
    server = MockServer()
    try:
        yield server
    finally:
        server.stop()


def settings(tmp_path: Path, **env: Any) -> Settings:
    return Settings(WARMINTRO_HOME=tmp_path / "home", **env)


def run(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("WARMINTRO_", "OPENAI_", "SLACK_", "CHROMA_"))}
    full.update({"WARMINTRO_HOME": str(home), **env})
    return subprocess.run([sys.executable, "-m", "warmintro", "doctor", "--json"], capture_output=True, text=True,
                          env=full, timeout=300)


def migrated_sqlite(tmp_path: Path, revision: str = "head") -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = make_engine(url)
    migrate(engine, revision)
    engine.dispose()
    return url


# -- database ---------------------------------------------------------------------------------------


def test_a_migrated_database_is_ok(tmp_path):
    check = check_database(settings(tmp_path, WARMINTRO_DATABASE_URL=migrated_sqlite(tmp_path)))
    assert check.status == "ok" and "schema at head" in check.detail


def test_a_missing_sqlite_file_fails_and_is_not_created(tmp_path):
    path = tmp_path / "nowhere" / "store.sqlite3"
    check = check_database(settings(tmp_path, WARMINTRO_DATABASE_URL=f"sqlite:///{path}"))
    assert check.status == "fail" and "warmintro migrate" in check.fix
    assert not path.exists()


def test_an_unreachable_postgresql_fails_with_what_to_fix(tmp_path):
    check = check_database(settings(tmp_path, WARMINTRO_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    assert check.status == "fail"
    assert "cannot reach" in check.detail and "WARMINTRO_DATABASE_URL" in check.fix


def test_a_bad_database_url_fails(tmp_path):
    check = check_database(settings(tmp_path, WARMINTRO_DATABASE_URL="not a url at all"))
    assert check.status == "fail" and "WARMINTRO_DATABASE_URL" in check.fix


def test_an_unmigrated_database_fails_and_is_left_unmigrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'bare.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE something_else (x INTEGER)"))
    check = check_database(settings(tmp_path, WARMINTRO_DATABASE_URL=url))
    assert check.status == "fail" and "no warmintro schema" in check.detail and "warmintro migrate" in check.fix
    with engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    engine.dispose()
    assert tables == {"something_else"}, "doctor must never migrate"


def test_a_database_behind_head_fails(tmp_path):
    url = migrated_sqlite(tmp_path, "0001")
    check = check_database(settings(tmp_path, WARMINTRO_DATABASE_URL=url))
    assert check.status == "fail" and "revision 0001" in check.detail and "warmintro migrate" in check.fix


# -- slack ------------------------------------------------------------------------------------------


def test_no_token_is_a_warning_that_says_skipped(tmp_path):
    check = check_slack(settings(tmp_path))
    assert check.status == "warn" and "skipped" in check.detail and "SLACK_BOT_TOKEN" in check.fix


def test_a_valid_token_passes_auth_test(tmp_path, mock):
    check = check_slack(settings(tmp_path, SLACK_BOT_TOKEN="xoxb-good", SLACK_SIGNING_SECRET="s",
                                 SLACK_API_URL=mock.url + "/api/"))
    assert check.status == "ok" and "warmintro in Vendor" in check.detail
    assert mock.calls == [("/api/auth.test", "Bearer xoxb-good")]


def test_an_invalid_token_fails(tmp_path, mock):
    check = check_slack(settings(tmp_path, SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET="s",
                                 SLACK_API_URL=mock.url + "/api/"))
    assert check.status == "fail" and "invalid_auth" in check.detail and "SLACK_BOT_TOKEN" in check.fix


def test_a_valid_token_without_a_signing_secret_warns(tmp_path, mock):
    check = check_slack(settings(tmp_path, SLACK_BOT_TOKEN="xoxb-good", SLACK_API_URL=mock.url + "/api/"))
    assert check.status == "warn" and "SLACK_SIGNING_SECRET" in check.fix


def test_slack_unreachable_fails(tmp_path):
    check = check_slack(settings(tmp_path, SLACK_BOT_TOKEN="xoxb-good", SLACK_API_URL="http://127.0.0.1:1/api/"))
    assert check.status == "fail" and "cannot reach Slack" in check.detail


# -- model, vectors, tiktoken -----------------------------------------------------------------------


def test_no_model_names_offline_mode(tmp_path):
    check = check_model(settings(tmp_path))
    assert check.status == "ok" and "offline mode" in check.detail


def test_a_reachable_model_is_ok_and_a_wrong_one_fails(tmp_path, mock):
    ok = check_model(settings(tmp_path, OPENAI_BASE_URL=mock.url + "/v1", WARMINTRO_MODEL="tiny"))
    assert ok.status == "ok"
    wrong = check_model(settings(tmp_path, OPENAI_BASE_URL=mock.url + "/v1", WARMINTRO_MODEL="huge"))
    assert wrong.status == "fail" and "WARMINTRO_MODEL" in wrong.fix
    down = check_model(settings(tmp_path, OPENAI_BASE_URL="http://127.0.0.1:1/v1", WARMINTRO_MODEL="tiny"))
    assert down.status == "fail" and "OPENAI_BASE_URL" in down.fix


def test_no_vector_store_yet_is_a_warning(tmp_path):
    check = check_vectors(settings(tmp_path))
    assert check.status == "warn" and "index-emails" in check.fix


def test_tiktoken_files_come_from_the_bundled_wheel(tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    assert check_tiktoken(settings(tmp_path)).status == "ok"
    from warmintro.tokens import ensure_tiktoken_cache

    ensure_tiktoken_cache(tmp_path / "home" / "tiktoken")
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)  # ensure_tiktoken_cache sets it
    check = check_tiktoken(settings(tmp_path))
    assert check.status == "ok" and "present offline" in check.detail


# -- the command ------------------------------------------------------------------------------------


def test_doctor_exits_0_on_a_healthy_offline_deployment(tmp_path, mock):
    url = migrated_sqlite(tmp_path)
    done = run(tmp_path / "home", WARMINTRO_DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-good", SLACK_SIGNING_SECRET="s",
               SLACK_API_URL=mock.url + "/api/")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses == {"database": "ok", "slack": "ok", "vectors": "warn", "links": "warn", "model": "ok",
                        "tiktoken": "ok"}
    assert "Traceback" not in done.stderr


def test_doctor_exits_1_when_a_check_fails_and_says_what_to_fix(tmp_path):
    done = run(tmp_path / "home", WARMINTRO_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    db = next(c for c in report["checks"] if c["name"] == "database")
    assert db["status"] == "fail" and db["fix"]
    assert "database" in done.stderr and "Traceback" not in done.stderr


def test_a_provider_whose_package_is_missing_fails_with_the_install_line(tmp_path):
    import importlib.util

    if importlib.util.find_spec("langchain_anthropic") is not None:
        pytest.skip("langchain-anthropic is installed here")
    check = check_model(settings(tmp_path, WARMINTRO_MODEL="anthropic:claude-sonnet-4-5"))
    assert check.status == "fail" and "pip install langchain-anthropic" in check.detail
    assert "WARMINTRO_MODEL_PROVIDER" in check.fix


# -- issue 21: what the index holds against what the store holds; the link secret -------------------


def test_vectors_say_how_many_of_the_stored_emails_are_indexed(tmp_path):
    import shutil

    from warmintro.importer.run import import_folder
    from warmintro.store.db import Store
    from warmintro.voice.index import index_emails, open_email_index

    folder = tmp_path / "folder"
    shutil.copytree(Path(__file__).parents[1] / "fixtures" / "northwind", folder)
    with (folder / "emails" / "emails.jsonl").open("a", encoding="utf-8") as fh:
        for k in range(3):
            fh.write(json.dumps({"message_id": f"<s{k}@northwind.example>", "from": "sam.okafor@northwind.example",
                                 "to": ["dana@vendor.example"], "cc": [], "date": f"2026-10-1{k}T09:00:00Z",
                                 "subject": "routes", "body": f"Hi Dana, route plan {k} is attached. Sam"}) + "\n")
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    s = settings(tmp_path, WARMINTRO_DATABASE_URL=url)
    store = Store.open(url)
    try:
        import_folder(store, folder)
        index = open_email_index(s)
        index_emails(store, index, authors=["priya.natarajan@northwind.example"])  # as her first draft does
        check = check_vectors(s)
        assert check.status == "ok"
        assert "2 of the 5 stored emails indexed" in check.detail and "index-emails" in check.detail
        index_emails(store, index)
        assert "all 5 stored emails indexed" in check_vectors(s).detail
        with store.session(write=True) as session:  # the store now holds fewer than the index: another store's
            session.execute(text("DELETE FROM emails WHERE from_email = 'sam.okafor@northwind.example'"))
        check = check_vectors(s)
        assert check.status == "warn" and "store holds only 2" in check.detail
    finally:
        store.close()


def test_vectors_warn_when_the_index_was_made_by_another_model(tmp_path):
    from vectorstore.client import EmailIndex, make_chroma_client
    from vectorstore.embeddings import MiniLMEmbeddingFunction, index_embedding_function

    s = settings(tmp_path)
    old = EmailIndex(make_chroma_client(s.chroma_path), embedding_function=MiniLMEmbeddingFunction())  # the old model
    old.upsert([{"id": "m1", "text": "Thanks for the intro.", "metadata": {"author": "a@x.example"}}])
    check = check_vectors(s)
    assert check.status == "warn" and "not the model this version indexes with" in check.detail
    assert "index-emails" in check.fix
    EmailIndex(make_chroma_client(s.chroma_path), embedding_function=index_embedding_function()).rebuild()
    assert "not the model" not in check_vectors(s).detail


@pytest.mark.parametrize(("secret", "status", "words"), [
    (None, "warn", "is not set"), ("short", "warn", "only 5 characters"),
    ("a-long-random-link-secret-0123456789", "ok", "set (36 characters)")])
def test_the_link_secret_is_checked(tmp_path, secret, status, words):
    from warmintro.commands.doctor import check_links

    env = {"WARMINTRO_LINK_SECRET": secret} if secret else {}
    check = check_links(settings(tmp_path, **env))
    assert check.status == status and words in check.detail
    assert secret is None or secret not in check.detail + check.fix  # never print the secret
    if status == "warn":
        assert "WARMINTRO_LINK_SECRET" in check.fix
