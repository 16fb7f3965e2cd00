"""CSM navigation: personas by account name, `explain`/`why` with the values behind each reason and the
next-eligible date, `scan --csm`, `--skipped` details, listings readable in an 80-column pipe (never a cut
id, email or amount), and usage mistakes as a usage message rather than a crash."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from test_cli import FIXTURE, run

from warmintro.commands.layout import Column, person, print_records
from warmintro.engines.eligibility import explain_contact
from warmintro.engines.lookup import find_account, find_contact
from warmintro.errors import NotFoundError
from warmintro.importer.run import import_folder
from warmintro.store.db import Store

AS_OF = "2026-11-25T09:00:00Z"
T = datetime(2026, 11, 25, 9, tzinfo=UTC)
LONG_EMAIL = "bartholomew.featherstonehaugh-worthington@consolidated-example-holdings.example"


def _render(width: int, rows: list[list[object]]) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, color_system=None)
    print_records(console, [Column("referral", "key"), Column("person", "key"), Column("amount", "key", "right"),
                            Column("why", "text")], rows, title="Listing")  # type: ignore[arg-type]
    return buf.getvalue()


def test_narrow_listing_keeps_ids_emails_and_amounts_whole() -> None:
    why = "a long free-text explanation that would wrap one word per line in a squeezed table column " * 2
    rows: list[list[object]] = [["R-a6a5b3c2d1", person("Bartholomew F.", LONG_EMAIL), "8,990,500.00", why]]
    narrow = _render(80, rows)
    assert "…" not in narrow and "R-a6a5b3c2d1" in narrow and LONG_EMAIL in narrow and "8,990,500.00" in narrow
    assert all(len(line) <= 80 for line in narrow.splitlines() if LONG_EMAIL not in line)
    assert "┃" not in narrow  # blocks, not a squeezed table
    words = [line.strip() for line in narrow.splitlines() if line.strip()]
    assert max(len(w.split()) for w in words) > 5  # free text is not one word per line
    wide = _render(250, rows)
    assert "┃" in wide and LONG_EMAIL in wide and "…" not in wide


@pytest.fixture
def nw_store(database_url: str) -> Store:
    store = Store.open(database_url)
    import_folder(store, FIXTURE)
    return store


def test_lookup_by_name_prefix_and_ambiguity(nw_store: Store) -> None:
    with nw_store.session() as s:
        assert find_account(s, "northwind").account_id == "ACC-1"
        assert find_account(s, "  KESTREL health ").account_id == "ACC-3"
        assert find_account(s, "acc-2").account_id == "ACC-2"
        assert find_account(s, "oldmill.example").account_id == "ACC-4"
        with pytest.raises(NotFoundError) as ambiguous:
            find_account(s, "")
        assert "give" in str(ambiguous.value)
        assert find_contact(s, "sam").email == "sam.okafor@northwind.example"
        assert find_contact(s, "Priya.Natarajan@Northwind.example").email == "priya.natarajan@northwind.example"
        with pytest.raises(NotFoundError, match="no customer contact called 'zed'"):
            find_contact(s, "zed")
    nw_store.close()


def test_explain_gives_values_and_next_date(nw_store: Store) -> None:
    with nw_store.session() as s:
        tom = explain_contact(s, "tom reyes", T, sentiment=_positive)
        priya = explain_contact(s, "priya", T, sentiment=_positive)
        lena = explain_contact(s, "lena@northwind.example", T, sentiment=_positive)
    nw_store.close()
    assert tom["status"] == "skipped" and tom["reason"] == "unhealthy"
    details = {d["code"]: d for d in tom["details"]}
    assert details["unhealthy"]["detail"] == "account NRR 96%; the rule is at least 100%"
    assert "resolved 18 Nov 2026 (7 days ago)" in details["escalation"]["detail"]
    assert details["escalation"]["until"] == "2026-12-02T00:00:00Z"
    assert details["decline_cooldown"]["detail"].startswith("declined an ask on 1 Jun 2026 (177 days ago)")
    assert details["decline_cooldown"]["until"] == "2026-11-28T10:00:00Z"
    assert tom["next_eligible_at"] == "2026-12-02T00:00:00Z"  # the latest date-bound reason
    assert "once NRR is back to 100%" in tom["next_eligible"]
    assert priya["status"] == "ask" and priya["next_eligible"] == "now"
    # no positive moment: the gates are still checked, so the answer says what would stop the next ask
    assert lena["status"] == "no_moment" and lena["also"][0] == "do_not_contact"
    assert "not while marked do-not-contact" in lena["next_eligible"]


def _positive(texts: list[str], session: object = None) -> list[str]:
    return ["positive" for _ in texts]  # northwind's unlabelled notes are all happy ones


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str, str]]:
    """The CLI in this process (the sentiment model is not fitted per call), printing at 80 columns."""
    from warmintro import cli as cli_module
    from warmintro.commands import common
    from warmintro.engines import scan as scan_engine

    monkeypatch.setenv("WARMINTRO_HOME", str(tmp_path / "home"))
    for key in [k for k in os.environ if k.startswith("WARMINTRO_") and k != "WARMINTRO_HOME"]:
        monkeypatch.delenv(key)
    monkeypatch.setattr(scan_engine, "_default_sentiment", _positive)
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "_width", 80)
        monkeypatch.setattr(console, "_file", None)

    def call(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_module.main(list(args))
        return code, out.getvalue(), err.getvalue()

    assert call("import", str(FIXTURE), "--json")[0] == 0
    return call


def test_personas_by_name_in_an_80_column_pipe(tmp_path: Path) -> None:
    """A real process whose stdout is a pipe: rich lays out for 80 columns."""
    home = tmp_path / "home"
    assert run(["import", str(FIXTURE)], home).returncode == 0
    done = run(["personas", "northwind log", "--as-of", AS_OF], home, COLUMNS="80")
    assert done.returncode == 0, done.stderr
    assert "Northwind Logistics (ACC-1)" in done.stdout and "priya.natarajan@northwind.example" in done.stdout
    assert "…" not in done.stdout and all(len(line) <= 80 for line in done.stdout.splitlines())
    ambiguous = run(["personas", "acc"], home)  # no account name starts with "acc", ids need to be whole
    assert ambiguous.returncode == 4 and "no account called 'acc'" in ambiguous.stderr
    bad = run(["scan", "--bogus"], home)
    assert bad.returncode == 2 and "unexpected" not in bad.stderr and "Traceback" not in bad.stderr
    assert "Usage: warmintro scan" in bad.stderr and "No such option: --bogus" in bad.stderr
    missing = run(["personas"], home)
    assert missing.returncode == 2 and "Missing argument" in missing.stderr and "unexpected" not in missing.stderr


def test_why_scan_csm_and_skipped(cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = cli("personas", "Northwind", "--json")
    js = json.loads(out)
    assert code == 0 and js["account_id"] == "ACC-1" and len(js["contacts"]) == 3

    code, out, err = cli("why", "tom.reyes@bluebird.example", "--as-of", AS_OF)
    assert code == 0, err
    assert "account NRR 96%; the rule is at least 100%" in " ".join(out.split())
    assert "Can be asked: from 2 Dec 2026" in out
    assert all(len(line) <= 80 for line in out.splitlines())
    code, out, err = cli("explain", "Tom", "--as-of", AS_OF, "--json")
    assert json.loads(out)["contact_email"] == "tom.reyes@bluebird.example"

    code, out, err = cli("scan", "--as-of", AS_OF, "--csm", "omar@vendor.example", "--json")
    scan = json.loads(out)
    assert {k["account_id"] for k in scan["skipped"]} | {a["account_id"] for a in scan["asks"]} == {"ACC-3"}
    mei = scan["skipped"][0]
    assert {"contact_email", "account_id", "reason"} <= set(mei) and mei["next_eligible"]
    assert "no usage in 3 of the last 4 weeks" in mei["details"][0]["detail"]
    code, out, err = cli("scan", "--as-of", AS_OF, "--skipped")
    assert "can be asked: from 2 Dec 2026" in " ".join(out.split())
    assert "…" not in out and "tom.reyes@bluebird.example" in out

    code, out, err = cli("scan", "--csm", "nobody@vendor.example")
    assert code == 4 and "not on the team" in err
    code, out, err = cli("why", "zed")
    assert code == 4 and "no customer contact called 'zed'" in err
