"""Structured logging that redacts secrets and email bodies.

Log records are JSON lines on stderr when WARMINTRO_LOG_JSON is set (deployments), plain text otherwise.
Anything that looks like a token, a key or a body of text handed to a `body=`/`text=` field is replaced
before it is written, so a log never holds a champion's email or a Slack token.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any

_SECRET_PATTERNS = [
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{8,}"),  # Slack tokens
    re.compile(r"xapp-[A-Za-z0-9-]{8,}"),
    re.compile(r"sk-[A-Za-z0-9_-]{16,}"),  # OpenAI-style keys
    re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s'\"]+"),
]
_BODY_KEYS = {"body", "text", "notes", "note", "email_body", "prompt", "draft", "content"}


def redact(value: str) -> str:
    for pattern in _SECRET_PATTERNS:
        value = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", value)
    return value


def redact_fields(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key.lower() in _BODY_KEYS and isinstance(value, str):
            out[key] = f"[{len(value)} chars redacted]"
        elif isinstance(value, dict):
            out[key] = redact_fields(value)
        elif isinstance(value, str):
            out[key] = redact(value)
        else:
            out[key] = value
    return out


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            if isinstance(record.args, dict):
                record.args = redact_fields(record.args)
            else:
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = redact_fields(fields)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, default=str)


class TextFormatter(logging.Formatter):
    """One line per record for people reading a terminal; the structured fields follow as key=value, so the
    text log says as much as the JSON one (already redacted by RedactingFilter)."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            extra = " ".join(f"{k}={json.dumps(v, default=str) if not isinstance(v, str) or ' ' in v else v}"
                             for k, v in fields.items())
            head, sep, rest = line.partition("\n")  # the traceback, when there is one, stays below the line
            line = f"{head} [{extra}]{sep}{rest}"
        return line


def configure_logging(level: str | None = None, *, json_lines: bool | None = None) -> None:
    """Called by entry points only (never at import)."""
    level = level or os.environ.get("WARMINTRO_LOG_LEVEL", "WARNING")
    json_lines = bool(os.environ.get("WARMINTRO_LOG_JSON")) if json_lines is None else json_lines
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
