"""Slack's own sample payloads (bolt-python test values, java-slack-sdk all-fields samples), read in place
from ../shared/data, signed as Slack signs them and dispatched over HTTP: none may produce a 5xx.

Interactivity payloads arrive as the form field `payload=<url-encoded JSON>` (the files hold the decoded
JSON); slash commands as a form. response_url values are pointed at the mock so nothing leaves the machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from warmintro.testing.slack_harness import Harness, action_body

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "slack_payloads"
FILES = sorted(p for d in ("bolt_python", "java_sdk_schema_samples") for p in (DATA / d).glob("*")
               if p.suffix in (".json", ".txt"))

pytestmark = [pytest.mark.store,
              pytest.mark.skipif(not FILES, reason="../shared/data/slack_payloads is not present")]


def encode(path: Path, mock_url: str) -> tuple[str, str]:
    """(body, content type) exactly as Slack would send this payload."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".txt":  # already a urlencoded slash command
        fields = [(k, mock_url + "response/cmd" if k == "response_url" else v)
                  for k, v in parse_qsl(raw, keep_blank_values=True)]
        return urlencode(fields), "application/x-www-form-urlencoded"
    data = json.loads(raw)
    if isinstance(data.get("response_url"), str) and data["response_url"]:
        data["response_url"] = mock_url + "response/payload"
    for item in data.get("response_urls") or []:
        if isinstance(item, dict) and item.get("response_url"):
            item["response_url"] = mock_url + "response/payload"
    kind = data.get("type")
    name = path.name
    if "slash-commands" in name or "command" in data and "trigger_id" in data and "type" not in data:
        return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}), \
            "application/x-www-form-urlencoded"
    if name.startswith("interactivity.") or name.startswith("app-backend_") or kind in (
            "block_actions", "view_submission", "view_closed", "shortcut", "message_action"):
        return action_body(data), "application/x-www-form-urlencoded"
    if kind == "" and isinstance(data.get("event"), dict):
        # the java samples leave every string blank; Slack only ever sends events as event_callback
        data["type"] = "event_callback"
        data["event_id"] = "Ev" + path.stem
    return json.dumps(data), "application/json"


def test_sample_payloads_dispatch_without_a_server_error(slack: Harness):
    assert len(FILES) >= 30
    results = {}
    for path in FILES:
        body, ctype = encode(path, slack.mock.url)
        resp = slack.post(body, content_type=ctype)
        results[path.name] = resp.status_code
    slack.drain()
    bad = {k: v for k, v in results.items() if v >= 500}
    assert not bad, bad
    # url_verification answers its challenge; every event is acknowledged
    assert results["url_verification.json"] == 200
    assert all(code == 200 for name, code in results.items() if name.startswith(("event_callback.", "events_")))
