"""`warmintro voice --json` and `warmintro draft --json` as a script sees them (real processes), on the
northwind fixture workspace with a formal champion (Priya) and a casual one (Tom) who have past emails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli import run
from test_voice_profile import casual_bodies, formal_bodies

FIXTURE = Path(__file__).parents[1] / "fixtures" / "northwind"
AS_OF = "2026-11-25T09:00:00Z"
PRIYA = "priya.natarajan@northwind.example"
TOM = "tom.reyes@bluebird.example"


def _emails() -> list[dict]:
    rows = []
    for i, body in enumerate(formal_bodies()):
        rows.append({"message_id": f"<p{i}@northwind.example>", "from": f"Priya Natarajan <{PRIYA}>",
                     "to": ["dana@vendor.example"], "cc": [], "date": f"2026-{1 + i % 9:02d}-{1 + i:02d}T09:00:00Z",
                     "subject": f"update {i}",
                     "body": body.replace("Margaret Ellison", "Priya Natarajan")
                     .replace("Director of Operations, Harbor Freight Lines", "VP Operations, Northwind Logistics")})
    for i, body in enumerate(casual_bodies()):
        rows.append({"message_id": f"<t{i}@bluebird.example>", "from": TOM, "to": ["dana@vendor.example"], "cc": [],
                     "date": f"2026-{1 + i % 9:02d}-{1 + i:02d}T10:00:00Z", "subject": f"re: thing {i}",
                     "body": body.replace("renée", "tom")})
    return rows


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ws") / "northwind"
    shutil.copytree(FIXTURE, folder)
    with (folder / "emails" / "emails.jsonl").open("a", encoding="utf-8") as fh:
        for row in _emails():
            fh.write(json.dumps(row) + "\n")
    home = tmp_path_factory.mktemp("home")
    done = run(["import", str(folder), "--json"], home)
    assert done.returncode == 0, done.stderr
    return home


def test_voice_json_shape(home):
    done = run(["voice", PRIYA.upper(), "--json"], home)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["email"] == PRIYA and data["name"] == "Priya Natarajan"
    assert set(data) >= {"n_messages", "greetings", "signoffs", "greeting", "signoff", "signoff_name",
                         "avg_sentence_words", "avg_message_words", "formality", "contraction_rate",
                         "exclamation_rate", "emoji_rate", "lowercase_rate", "recurring_phrases", "register"}
    assert data["n_messages"] == 16  # 2 fixture emails + 14 added
    assert data["greeting"] == "Dear {full_name}," and data["signoff"] == "Kind regards,"
    assert data["register"] == "formal"
    for form in data["greetings"] + data["signoffs"]:
        assert set(form) == {"form", "count", "share"} and 0 < form["share"] <= 1
    for ph in data["recurring_phrases"]:
        assert set(ph) == {"text", "count", "share", "lift"} and "priya" not in ph["text"]


def test_draft_json_shape_formal_champion(home):
    done = run(["draft", PRIYA, "--target", "jordan.lee@harbor.example", "--as-of", AS_OF, "--json"], home)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    # The contract's keys (extra keys are allowed, none may be missing).
    assert set(data) >= {"ask", "note", "voice", "grounding", "model"}
    assert "text" in data["ask"] and {"subject", "body"} <= set(data["note"])
    assert {"greeting", "signoff", "exemplar_ids"} <= set(data["voice"])
    assert {"names", "facts"} <= set(data["grounding"])
    assert data["model"] == "offline"  # no model configured
    body = data["note"]["body"]
    assert body.startswith("Dear Jordan Lee,") and body.endswith("Kind regards,\nPriya Natarajan")
    assert "Harbor Freight Lines" in body and "from 5 days to 2" in body  # shared history, the NPS comment
    assert data["grounding"]["violations"] == []
    assert {"Jordan Lee", "Relaydesk"} <= set(data["grounding"]["names"])
    assert any(f.startswith("what it did for them, in their own words: Cut our month-end close")
               for f in data["grounding"]["facts"])
    ids = data["voice"]["exemplar_ids"]
    assert len(ids) == 3 and all(i.endswith("@northwind.example") and i[0] in "pm" for i in ids)  # Priya's own
    assert data["note"]["mailto"].startswith("mailto:jordan.lee@harbor.example?subject=")
    assert "Jordan Lee" in data["ask"]["text"] and "just one" in data["ask"]["text"]


def test_draft_json_casual_champion(home):
    done = run(["draft", TOM, "--target", "ana.silva@tidewater.example", "--as-of", AS_OF, "--json"], home)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    body = data["note"]["body"]
    assert body.startswith("hey Ana —") and body.endswith("cheers\ntom")
    assert data["voice"]["greeting"] == "hey Ana —" and data["voice"]["signoff"] == "cheers\ntom"
    assert len(body.split()) < 45 and data["grounding"]["violations"] == []
    assert data["voice"]["exemplar_ids"] and all(
        i.startswith("t") and i.endswith("@bluebird.example") for i in data["voice"]["exemplar_ids"])


def test_unknown_people_are_clean_errors(home):
    done = run(["voice", "nobody@nowhere.example", "--json"], home)
    assert done.returncode != 0 and "nobody@nowhere.example" in done.stderr and "Traceback" not in done.stderr
    done = run(["draft", PRIYA, "--target", "ghost@nowhere.example", "--json"], home)
    assert done.returncode != 0 and "ghost@nowhere.example" in done.stderr and "Traceback" not in done.stderr
