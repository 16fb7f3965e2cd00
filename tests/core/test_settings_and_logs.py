from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from warmintro.logs import JsonFormatter, RedactingFilter, redact
from warmintro.settings import Settings


def test_settings_defaults_and_env(monkeypatch, tmp_path):
    for k in ("WARMINTRO_HOME", "WARMINTRO_DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # must not be mistaken for WARMINTRO_HOME
    s = Settings()
    assert s.home_dir == tmp_path / ".warmintro"
    assert s.resolved_database_url == f"sqlite:///{tmp_path / '.warmintro' / 'warmintro.sqlite3'}"
    assert not s.model_configured
    monkeypatch.setenv("WARMINTRO_HOME", "/srv/wi")
    monkeypatch.setenv("WARMINTRO_DATABASE_URL", "postgresql://u@db/x")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    s = Settings()
    assert s.home_dir == Path("/srv/wi") and s.resolved_database_url == "postgresql://u@db/x"
    assert s.model_configured


def test_secrets_never_print(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123456789-abcdefgh")
    s = Settings()
    assert "xoxb" not in repr(s) and "xoxb" not in str(s.model_dump())


def test_log_redaction_of_tokens_and_bodies():
    assert "xoxb" not in redact("token xoxb-1234-5678-abcdefgh used")
    assert "sk-" not in redact("key sk-abcdefghijklmnopqrstuv")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    log.propagate = False
    log.warning("drafted with xoxb-9999-8888-secretsecret", extra={"fields": {"body": "Dear Jo, private words", "to": "a@b"}})
    line = json.loads(stream.getvalue())
    assert "secretsecret" not in line["msg"]
    assert line["body"] == "[22 chars redacted]" and line["to"] == "a@b"


def test_text_logs_carry_the_fields_redacted():
    from warmintro.logs import TextFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(TextFormatter())
    log = logging.getLogger("test.text")
    log.addHandler(handler)
    log.propagate = False
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("exemplar retrieval failed", extra={"fields": {"error": "OSError: disk full", "body": "Dear Jo",
                                                                       "n": 3}})
    first, *rest = stream.getvalue().splitlines()
    assert first == ('ERROR test.text: exemplar retrieval failed [error="OSError: disk full" '
                     'body="[7 chars redacted]" n=3]')
    assert rest[0].startswith("Traceback") and "ValueError: boom" in rest[-1]
