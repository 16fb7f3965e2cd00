"""The contract importer on SQLite and PostgreSQL: counts, idempotency, all-or-nothing, error reports."""

from __future__ import annotations

import codecs
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from storeutil import dump

from warmintro.importer.run import ImportRejected, import_folder
from warmintro.importer.schema import FILES
from warmintro.store import models as m

pytestmark = pytest.mark.store

EXPECTED = {
    "accounts": 4, "contacts": 6, "signals": 6, "usage": 9, "meetings": 2, "people": 3, "employment": 3,
    "relationships": 3, "team": 4, "opportunities": 2, "asks": 2, "partners": 2, "program": 1, "emails": 2,
}


def _reject(store, folder: Path) -> ImportRejected:
    before = dump(store)
    with pytest.raises(ImportRejected) as info:
        import_folder(store, folder)
    assert dump(store) == before, "a rejected import must leave the store exactly as it was"
    return info.value


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_imports_counts_and_values(store, northwind):
    result = import_folder(store, northwind)
    assert result.imported == EXPECTED
    assert result.rolled_up == {"usage_daily": 8}  # two feature_used rows on one day merge
    with store.session() as s:
        acc2 = s.get(m.Account, "ACC-2")
        assert acc2.name == "Bluebird Foods, Inc."  # quoted comma
        assert acc2.domain == "bluebird.example"  # normalised from a URL
        assert acc2.nrr == 96
        assert s.get(m.Account, "ACC-3").nrr is None
        priya = s.get(m.Contact, "C-1")
        assert priya.email == "priya.natarajan@northwind.example"  # emails compared case-insensitively
        assert s.get(m.Contact, "C-3").do_not_contact is True
        s3 = s.get(m.Signal, "S-3")
        assert s3.occurred_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # +01:00 converted to UTC
        assert s.get(m.Signal, "S-4").resolved_at == datetime(2026, 11, 18, tzinfo=UTC)
        assert "\n" in s.get(m.Signal, "S-5").notes  # a quoted multi-line note
        sam = s.execute(
            select(m.UsageDaily.count).where(m.UsageDaily.contact_email == "sam.okafor@northwind.example",
                                             m.UsageDaily.event == "feature_used", m.UsageDaily.day == date(2026, 11, 20))
        ).scalar_one()
        assert sam == 5  # 3 + 2 on the same day, rolled up
        wf = s.execute(select(m.UsageDaily.count).where(m.UsageDaily.event == "workflow_completed")).scalar_one()
        assert wf == 1  # empty count defaults to 1
        attendees = set(s.scalars(select(m.MeetingAttendee.email).where(m.MeetingAttendee.meeting_id == "M-1")))
        assert attendees == {"priya.natarajan@northwind.example", "sam.okafor@northwind.example", "dana@vendor.example"}
        assert s.get(m.Partner, "P-2").commission_rate == 12.5
        assert s.get(m.ProgramSetting, "icp").value["exclude_domains"] == ["rival.example"]
        mail = s.get(m.EmailMessage, "m1@northwind.example")  # ids are stored without angle brackets
        assert mail.from_email == "priya.natarajan@northwind.example"
        assert s.scalar(select(func.count()).select_from(m.ImportRun)) == 1


def test_reimport_is_idempotent(store, northwind):
    import_folder(store, northwind)
    first = dump(store)
    import_folder(store, northwind)
    second = dump(store)
    first.pop("import_runs"), second.pop("import_runs")
    first.pop("audit_log"), second.pop("audit_log")
    assert first == second


def test_reimport_updates_rows(store, northwind):
    import_folder(store, northwind)
    _edit(northwind / "accounts.csv", "Kestrel Health,kestrel.example,Healthcare,260,22000,,72",
          "Kestrel Health,kestrel.example,Healthcare,260,22000,104,72")
    import_folder(store, northwind)
    with store.session() as s:
        assert s.get(m.Account, "ACC-3").nrr == 104
        assert s.scalar(select(func.count()).select_from(m.Account)) == 4


def test_bom_and_crlf_import_the_same(store, northwind, tmp_path):
    for csv_file in northwind.glob("*.csv"):
        text = csv_file.read_text(encoding="utf-8")
        csv_file.write_bytes(codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"))
    result = import_folder(store, northwind)
    assert result.imported == EXPECTED
    with store.session() as s:
        assert s.get(m.Account, "ACC-1").name == "Northwind Logistics"
        assert s.get(m.Signal, "S-5").notes.replace("\r\n", "\n") == "Live in all three clinics\nahead of plan"


def test_one_bad_date_rejects_everything(store, northwind):
    import_folder(store, northwind)  # the store is not empty: it must stay exactly as it was
    _edit(northwind / "signals.csv", "2026-11-22,,positive", "2026-13-22,,positive")
    exc = _reject(store, northwind)
    assert exc.total == 1
    issue = exc.issues[0]
    # S-5 starts on line 6 (header on line 1); the line is the physical line, after a multi-line note
    assert (issue.file, issue.line, issue.column) == ("signals.csv", 6, "occurred_at")
    assert "ISO 8601" in issue.reason


def test_bad_date_after_multiline_field_names_the_physical_line(store, northwind):
    _edit(northwind / "signals.csv", "2026-05-02,3,negative", "last may,3,negative")
    exc = _reject(store, northwind)
    assert (exc.issues[0].file, exc.issues[0].line) == ("signals.csv", 8)


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_required_column_missing(store, northwind, name):
    spec = FILES[name]
    path = northwind / name
    for col in [c for c in spec.columns if c.required]:
        original = path.read_text(encoding="utf-8")
        header, rest = original.split("\n", 1)
        cols = header.split(",")
        idx = cols.index(col.name)
        cols[idx] = "renamed_" + col.name
        path.write_text(",".join(cols) + "\n" + rest, encoding="utf-8")
        exc = _reject(store, northwind)
        assert any(i.file == name and i.column == col.name and i.line == 1 and "missing" in i.reason
                   for i in exc.issues), (name, col.name, [str(i) for i in exc.issues])
        path.write_text(original, encoding="utf-8")


def test_required_value_empty(store, northwind):
    _edit(northwind / "contacts.csv", "C-5,ACC-3,Mei Chen,", "C-5,ACC-3,,")
    exc = _reject(store, northwind)
    assert [(i.file, i.line, i.column) for i in exc.issues] == [("contacts.csv", 6, "name")]


@pytest.mark.parametrize(("file", "old", "new", "column"), [
    ("accounts.csv", "118,86,active", "118,86,thriving", "lifecycle_stage"),
    ("contacts.csv", "power_user,false", "superuser,false", "crm_role"),
    ("signals.csv", ",nps,2026-11-24", ",praise,2026-11-24", "type"),
    ("signals.csv", "9,positive,Support", "9,glowing,Support", "sentiment"),
    ("meetings.csv", ",qbr,2026-11-20", ",standup,2026-11-20", "kind"),
    ("relationships.csv", ",linkedin,", ",facebook,", "kind"),
    ("team.csv", "Omar Haddad,csm", "Omar Haddad,wizard", "role"),
    ("opportunities.csv", ",discovery,", ",maybe,", "stage"),
    ("asks.csv", ",declined,", ",ghosted,", "outcome"),
    ("partners.csv", ",agency,", ",reseller-ish,", "kind"),
    ("contacts.csv", ",true,", ",perhaps,", "do_not_contact"),
    ("signals.csv", "9,positive", "eleven,positive", "score"),
    ("signals.csv", ",nps,2026-11-24T15:30:00Z,10,", ",nps,2026-11-24T15:30:00Z,11,", "score"),
    ("accounts.csv", "1200,84000", "many,84000", "employees"),
    ("contacts.csv", "sam.okafor@northwind.example", "sam.okafor-at-northwind", "email"),
    ("meetings.csv", "tom.reyes@bluebird.example;alex", "tom.reyes;alex", "attendees"),
])
def test_bad_values_are_named(store, northwind, file, old, new, column):
    _edit(northwind / file, old, new)
    exc = _reject(store, northwind)
    assert any(i.file == file and i.column == column and i.line and i.line > 1 for i in exc.issues), \
        [str(i) for i in exc.issues]


def test_duplicate_ids(store, northwind):
    with (northwind / "accounts.csv").open("a", encoding="utf-8") as fh:
        fh.write("ACC-2,Bluebird again,bluebird2.example,,,,,,,,,,\n")
    exc = _reject(store, northwind)
    assert len(exc.issues) == 1
    assert (exc.issues[0].line, exc.issues[0].column) == (6, "account_id")
    assert "first on line 3" in exc.issues[0].reason


def test_duplicate_contact_email(store, northwind):
    with (northwind / "contacts.csv").open("a", encoding="utf-8") as fh:
        fh.write("C-9,ACC-1,Sam Again,SAM.OKAFOR@northwind.example,,,false,\n")
    exc = _reject(store, northwind)
    assert any(i.column == "email" and i.line == 8 for i in exc.issues)


def test_contact_with_unknown_account(store, northwind):
    _edit(northwind / "contacts.csv", "C-5,ACC-3,", "C-5,ACC-99,")
    exc = _reject(store, northwind)
    assert [(i.file, i.line, i.column) for i in exc.issues] == [("contacts.csv", 6, "account_id")]
    assert "ACC-99" in exc.issues[0].reason


def test_contacts_may_reference_accounts_already_in_the_store(store, northwind, tmp_path):
    import_folder(store, northwind)
    only = tmp_path / "only_contacts"
    only.mkdir()
    (only / "accounts.csv").write_text("account_id,name,domain\n", encoding="utf-8")
    (only / "contacts.csv").write_text("contact_id,account_id,name,email\nC-7,ACC-2,New Person,new@bluebird.example\n",
                                       encoding="utf-8")
    (only / "program.toml").write_bytes((northwind / "program.toml").read_bytes())
    result = import_folder(store, only)
    assert result.imported["contacts"] == 1


def test_several_errors_reported_at_once_with_a_cap(store, northwind):
    rows = "".join(f"bad@northwind.example,2026-02-30,declined,,\n" for _ in range(80))  # noqa: F541
    with (northwind / "asks.csv").open("a", encoding="utf-8") as fh:
        fh.write(rows)
    _edit(northwind / "accounts.csv", "118,86,active", "118,86,thriving")
    exc = _reject(store, northwind)
    assert exc.total >= 81
    assert len(exc.issues) == 50
    assert {i.file for i in exc.issues} == {"accounts.csv", "asks.csv"}


def test_missing_required_files(store, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    exc = _reject(store, empty)
    assert {i.file for i in exc.issues} == {"accounts.csv", "contacts.csv", "program.toml"}


def test_bad_program_toml(store, northwind):
    (northwind / "program.toml").write_text('[vendor]\nname = "X"\n\n[rules]\nmax_asks_per_year = "lots"\nfoo = 1\n',
                                            encoding="utf-8")
    exc = _reject(store, northwind)
    cols = {i.column for i in exc.issues}
    assert {"vendor.domain", "rules.max_asks_per_year", "rules.foo"} <= cols


def test_unknown_files_and_columns_warn(store, northwind):
    (northwind / "notes.txt").write_text("hello", encoding="utf-8")
    _edit(northwind / "team.csv", "email,name,role,slack_user_id", "email,name,role,slack_user_id,favourite_color")
    result = import_folder(store, northwind)
    assert any("notes.txt" in w for w in result.warnings)
    assert any("favourite_color" in w for w in result.warnings)


def test_empty_optional_files(store, northwind):
    (northwind / "usage.csv").write_text("", encoding="utf-8")
    (northwind / "asks.csv").write_text("contact_email,asked_at,outcome,channel,asked_by\n", encoding="utf-8")
    result = import_folder(store, northwind)
    assert result.imported["asks"] == 0
    assert "usage" not in result.imported or result.imported["usage"] == 0


def test_not_utf8_and_ragged_rows(store, northwind):
    (northwind / "people.csv").write_bytes("email,name\nz\xfcrich@x.example,J\xfcrg\n".encode("latin-1"))
    exc = _reject(store, northwind)
    assert any(i.file == "people.csv" and "UTF-8" in i.reason for i in exc.issues)
    shutil_copy = (northwind / "team.csv")
    shutil_copy.write_text("email,name,role\na@b.example,A,csm,extra,fields\n", encoding="utf-8")
    (northwind / "people.csv").unlink()
    exc = _reject(store, northwind)
    assert any(i.file == "team.csv" and i.line == 2 for i in exc.issues), [str(i) for i in exc.issues]


def test_usage_reimport_replaces_daily_counts(store, northwind):
    import_folder(store, northwind)
    import_folder(store, northwind)
    with store.session() as s:
        total = s.scalar(select(func.sum(m.UsageDaily.count)))
    assert total == 1 + 5 + 1 + 1 + 1 + 1 + 1 + 4  # not doubled by the second import


def test_bad_email_line_rejects_the_import(store, northwind):
    with (northwind / "emails" / "emails.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"message_id": "x", "from": "not an address", "date": "yesterday"}\n')
    exc = _reject(store, northwind)
    assert exc.issues[0].file == "emails/emails.jsonl" and exc.issues[0].line == 3


# ---------------------------------------------------------------------------------------------------
# Found by the fault suite's import fuzzer (evals/faults/import_fuzz.py)


@pytest.mark.parametrize("cell, reason", [
    ("x" * 5000, "longer than 256 characters"),  # VARCHAR(256): PostgreSQL refused it mid-load, SQLite kept it
    ("North\x00wind", "contains a NUL byte"),  # PostgreSQL text cannot hold NUL; SQLite stored it
])
def test_a_value_the_store_cannot_hold_is_rejected_with_its_line(store, northwind, cell, reason):
    import_folder(store, northwind)
    _edit(northwind / "accounts.csv", "Northwind Logistics", '"' + cell + '"')
    exc = _reject(store, northwind)
    [issue] = exc.issues
    assert (issue.file, issue.line, issue.column) == ("accounts.csv", 2, "name")
    assert reason in issue.reason


def test_a_giant_field_is_reported_not_a_csv_module_crash(store, northwind):
    # a 1.5 MB cell: polars reads it, and the csv module's 128 KiB field limit used to crash the line lookup
    _edit(northwind / "team.csv", "Dana Whitfield", "g" * 1_500_000)
    exc = _reject(store, northwind)
    assert [(i.file, i.line, i.column) for i in exc.issues] == [("team.csv", 2, "name")]
    assert "longer than 256 characters" in exc.issues[0].reason


# ---------------------------------------------------------------------------------------------------
# Issue 21: one run reports every problem of every kind, file by file, each on its own line


MULTI_ERROR = {
    "accounts.csv": (b"account_id,name,domain,employees,nrr\n"
                     b"A1,Acme,acme.example,120,110\n"
                     b"A2,Bolt,bolt.example,many,105\n"  # 3: bad value
                     b"A3,Cargo,cargo.example,40,99,extra\n"  # 4: one field too many (hides nothing else)
                     b"A4,Delta,delta.example,50,abc\n"),  # 5: bad value after the ragged line
    "contacts.csv": (b"contact_id,account_id,name,email,title\n"
                     b"K1,A1,Ann,ann@acme.example,\"VP,\nOperations\"\n"  # 2-3: a quoted title over two lines
                     b"K2,A9,Bob,bob@nowhere.example,Analyst\n"  # 4: unknown account
                     b"K3,A1,Cy,not-an-email,Analyst\n"  # 5: bad value
                     b"K4,A3,Di,di@cargo.example,Planner\n"  # A3 is on a ragged line: its own problem, not an unknown
                     b"K1,A2,Eve,eve@bolt.example,Analyst\n"),  # 7: duplicate contact_id
    "signals.csv": (b"signal_id,account_id,contact_email,type,occurred_at,score\n"
                    b"S1,A1,ann@acme.example,nps,2026-11-20,caf\xe9\n"  # 2: not UTF-8 (was reported on line 1)
                    b"S2,A1,ann@acme.example,party,2026-11-22,\n"  # 3: bad type (no 'needs a score' on top)
                    b"S3,A1,ann@acme.example,nps,2026-11-23,\n"  # 4: an nps without a score
                    b"S4,A5,ann@acme.example,qbr,yesterday,\n"),  # 5: bad date and unknown account
    "usage.csv": (b"account_id,contact_email,event,occurred_at,count\n"
                  b"A1,ann@acme.example,login,2026-11-20,one\n"  # 2: bad count
                  b"A7,zed@acme.example,login,2026-11-20,1\n"),  # 3: unknown account (a line, though rolled up)
    "meetings.csv": (b"meeting_id,account_id,title,kind,occurred_at,attendees\n"
                     b"M1,A1,QBR,qbr,2026-11-01,ann@acme.example\n"
                     b"M2,A1,\"Renewal,renewal,2026-11-02,ann@acme.example\n"),  # 3: a quote never closed
    "program.toml": b'[vendor]\nname = "Relaydesk"\ndomain = "vendor.example"\n',
}


def test_one_run_reports_every_problem_of_every_kind_with_its_line(store, northwind, tmp_path):
    import_folder(store, northwind)  # a non-empty store must stay exactly as it was
    folder = tmp_path / "multi"
    folder.mkdir()
    for name, data in MULTI_ERROR.items():
        (folder / name).write_bytes(data)
    exc = _reject(store, folder)
    got = [(i.file, i.line, i.column, i.reason.split(":")[0].split(" (")[0]) for i in exc.issues]
    assert got == [
        ("accounts.csv", 3, "employees", "not a whole number"),
        ("accounts.csv", 4, None, "has 6 fields where the header has 5"),
        ("accounts.csv", 5, "nrr", "not a number"),
        ("contacts.csv", 4, "account_id", "unknown account_id A9"),
        ("contacts.csv", 5, "email", "not an email address"),
        ("contacts.csv", 7, "contact_id", "duplicate contact_id 'K1'"),
        ("signals.csv", 2, None, "not UTF-8 text"),
        ("signals.csv", 3, "type", "must be one of nps, qbr, go_live, expansion, renewal, public_win, milestone, "
                                   "offboarding, support_escalation, churn_risk, contract_negotiation, downgrade; got party"),
        ("signals.csv", 4, "score", "an nps signal needs a score"),
        ("signals.csv", 5, "occurred_at", "not an ISO 8601 date or datetime"),
        ("signals.csv", 5, "account_id", "unknown account_id A5"),
        ("meetings.csv", 3, None, "a quoted field opened in this record is never closed"),
        ("usage.csv", 2, "count", "not a whole number"),
        ("usage.csv", 3, "account_id", "unknown account_id A7"),
    ], "\n".join(map(str, exc.issues))
    assert exc.total == len(got)
    assert "duplicate contact_id 'K1' (first on line 2)" in exc.issues[5].reason


def test_the_cap_still_shows_every_kind_and_every_file(store, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for name, data in MULTI_ERROR.items():
        (folder / name).write_bytes(data)
    with (folder / "accounts.csv").open("ab") as fh:  # 200 more bad values
        fh.write(b"".join(b"B%d,Bad,bad%d.example,lots,100\n" % (k, k) for k in range(200)))
    exc = _reject(store, folder)
    assert exc.total == 14 + 200 and len(exc.issues) == 50
    reasons = " | ".join(str(i) for i in exc.issues)
    for kind in ("has 6 fields", "unknown account_id A9", "duplicate contact_id", "not UTF-8", "never closed",
                 "unknown account_id A7", "an nps signal needs a score"):
        assert kind in reasons, kind
    files = [i.file for i in exc.issues]
    assert files == sorted(files, key=["accounts.csv", "contacts.csv", "signals.csv", "meetings.csv", "usage.csv"].index)


def test_usage_rolled_up_across_batches_as_in_one(store, northwind, tmp_path, monkeypatch):
    """Rows of one contact, event and day in different read batches are summed as if read at once (one
    record per batch here, so the partial sums are merged too)."""
    import functools

    import warmintro.importer.run as run
    from warmintro.store.db import Store

    import_folder(store, northwind)
    with store.session() as s:
        whole = sorted(s.execute(select(m.UsageDaily.contact_email, m.UsageDaily.event, m.UsageDaily.day,
                                        m.UsageDaily.count, m.UsageDaily.account_id)).all())
    monkeypatch.setattr(run, "iter_raw_batches", functools.partial(run.iter_raw_batches, batch_rows=1))
    other = Store.open(f"sqlite:///{tmp_path / 'batched.sqlite3'}")
    try:
        result = import_folder(other, northwind)
        with other.session() as s:
            batched = sorted(s.execute(select(m.UsageDaily.contact_email, m.UsageDaily.event, m.UsageDaily.day,
                                              m.UsageDaily.count, m.UsageDaily.account_id)).all())
    finally:
        other.close()
    assert batched == whole and result.rolled_up == {"usage_daily": 8}


def test_usage_rollup_by_packed_codes_is_the_rollup_by_columns_in_key_order():
    import datetime as dt
    import random

    import polars as pl

    from warmintro.importer.run import USAGE_KEY, _sum_days, _sum_days_by_columns
    from warmintro.importer.validate import ROW

    rng = random.Random(7)
    emails = ["ann@kite.com", "Ann@kite.com", "zoë@lark.io", "zoe@lark.io", "b@a.co", "ab@a.co", "a@a.co", "é@x.fr"]
    events = ["login", "feature_used", "Login", "report_shared", "ü"]
    accounts = ["A1", "A10", "A2", "a1", "Ä"]
    days = [dt.date(1999, 12, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2031, 1, 1)]
    n = 3000
    frame = pl.DataFrame({
        "account_id": [rng.choice(accounts) for _ in range(n)], "contact_email": [rng.choice(emails) for _ in range(n)],
        "event": [rng.choice(events) for _ in range(n)], "day": [rng.choice(days) for _ in range(n)],
        "count": [rng.randint(0, 9) for _ in range(n)], ROW: pl.Series(rng.sample(range(10 * n), n), dtype=pl.UInt32),
    })
    packed, by_columns = _sum_days(frame), _sum_days_by_columns(frame)
    assert packed.equals(by_columns) and packed.height < n
    # Key order is the byte order SQLite keeps its key in.
    keys = [tuple(r) for r in packed.select(USAGE_KEY).iter_rows()]
    assert keys == sorted(keys, key=lambda k: (k[0].encode(), k[1], k[2].encode(), k[3].encode()))
    # A row with an empty key value (reported elsewhere) still rolls up.
    with_null = frame.with_columns(pl.when(pl.col(ROW) == frame[ROW][0]).then(None).otherwise(pl.col("event")).alias("event"))
    assert _sum_days(with_null).equals(_sum_days_by_columns(with_null))


def test_a_failing_write_is_raised_and_rolls_back(store, northwind, monkeypatch):
    from warmintro.importer import run

    import_folder(store, northwind)
    _edit(northwind / "accounts.csv", "Northwind Logistics", "Northwind Freight")
    real_write = run._write_file

    def write(s, name, p, result):
        if name == "usage.csv":
            raise OSError("disk full")
        real_write(s, name, p, result)

    monkeypatch.setattr(run, "_write_file", write)
    before = dump(store)
    with pytest.raises(OSError, match="disk full"):
        import_folder(store, northwind)
    assert dump(store) == before
