"""CRM export presets (HubSpot, Salesforce) and .ics calendars, on SQLite and PostgreSQL: the real export
layouts, errors on the CRM file's own lines and columns, and the round trip (a generated workspace exported
in each CRM's layout imports to the same store as its contract folder)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from storeutil import dump

from warmintro.importer.presets.export import export_crm
from warmintro.importer.run import ImportRejected, import_folder
from warmintro.store import models as m
from warmintro.store.db import Store

pytestmark = pytest.mark.store
FIXTURES = Path(__file__).parents[1] / "fixtures"
AS_OF = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    data = path.read_bytes().decode("utf-8-sig")
    assert old in data, f"{old!r} not in {path.name}"
    bom = "\ufeff" if path.read_bytes().startswith(b"\xef\xbb\xbf") else ""
    path.write_bytes((bom + data.replace(old, new, 1)).encode("utf-8"))


def _reject(store: Store, folder: Path, preset: str) -> list[tuple[str, int | None, str | None, str]]:
    before = dump(store)
    with pytest.raises(ImportRejected) as info:
        import_folder(store, folder, preset=preset)
    assert dump(store) == before, "a rejected import must leave the store exactly as it was"
    return [(i.file, i.line, i.column, i.reason) for i in info.value.issues]


def test_hubspot_export_layout(store, tmp_path):
    folder = _copy(tmp_path, "crm_hubspot")
    assert (folder / "companies.csv").read_bytes().startswith(b"\xef\xbb\xbf\"Record ID\"")
    assert b"\r\n" in (folder / "deals.csv").read_bytes()
    result = import_folder(store, folder, preset="hubspot")
    assert result.imported["accounts"] == 2 and result.imported["contacts"] == 3
    assert result.imported["opportunities"] == 3
    warnings = "\n".join(result.warnings)
    assert "'Annual Revenue'" in warnings and "'Last Modified Date'" in warnings and "'Phone Number'" in warnings
    assert "1 contact(s) skipped: at a company that is not a customer" in warnings
    assert "1 contact(s) skipped: no associated company" in warnings
    assert "companies.csv: not a file" not in warnings
    with store.session() as s:
        nw = s.get(m.Account, "9001")
        assert (nw.name, nw.domain, nw.employees, nw.arr, nw.nrr) == ("Northwind Logistics", "northwind.example", 1200, 84000, 112)
        assert nw.ae_email == "alex@vendor.example"  # "Company owner" by name -> the team member's email
        assert nw.csm_email == "dana@vendor.example"
        assert nw.customer_since == datetime(2024, 2, 1, tzinfo=UTC)
        bb = s.get(m.Account, "9002")
        assert bb.domain == "bluebird.example" and bb.arr == 41000  # never the Annual Revenue
        assert bb.csm_email == "omar@vendor.example" and bb.lifecycle_stage == "renewal"
        assert bb.customer_since == datetime(2024, 6, 14, 16, 0, tzinfo=UTC)
        assert s.get(m.Account, "9003") is None  # a prospect, not an account
        priya = s.get(m.Contact, "101")
        assert (priya.name, priya.email, priya.crm_role) == ("Priya Natarajan", "priya.natarajan@northwind.example",
                                                            "economic_buyer")
        assert s.get(m.Contact, "102").title == "Dispatch Lead,\nNight Shift"
        assert s.get(m.Contact, "102").crm_role == "product_user"
        lee = s.get(m.Contact, "103")
        assert lee.do_not_contact is True and lee.crm_role == "administrator"
        won, open_, renewal = (s.get(m.Opportunity, i) for i in ("5001", "5002", "5003"))
        assert (won.stage, won.account_name, won.domain, won.source) == ("won", "Northwind Logistics",
                                                                        "northwind.example", "Referrals")
        assert won.closed_at == datetime(2024, 2, 1, tzinfo=UTC)
        assert (open_.stage, open_.domain, open_.closed_at) == ("evaluation", "stripe.example", None)  # expected close
        assert open_.created_at == datetime(2026, 6, 14, 16, 0, tzinfo=UTC)
        assert renewal.stage == "negotiation"
    # Idempotent, like the contract import.
    before = dump(store)
    import_folder(store, folder, preset="hubspot")
    after = dump(store)
    assert {k: v for k, v in after.items() if k not in ("import_runs", "audit_log")} == \
        {k: v for k, v in before.items() if k not in ("import_runs", "audit_log")}


def test_salesforce_export_layout(store, tmp_path):
    folder = _copy(tmp_path, "crm_salesforce")
    result = import_folder(store, folder, preset="salesforce")
    assert result.imported["accounts"] == 2 and result.imported["contacts"] == 2
    assert "'AnnualRevenue'" in "\n".join(result.warnings)
    with store.session() as s:
        nw = s.get(m.Account, "0015e00000AAAA1AAA")
        assert (nw.domain, nw.arr, nw.ae_email, nw.csm_email) == ("northwind.example", 84000, "alex@vendor.example",
                                                                 "dana@vendor.example")  # OwnerId / CSM__c via User.csv
        bb = s.get(m.Account, "0015e00000AAAA2AAA")
        assert bb.csm_email == "omar@vendor.example"  # a name from team.csv; "Customer - Channel" is a customer
        assert s.get(m.Account, "0015e00000AAAA3AAA") is None
        lee = s.execute(select(m.Contact).where(m.Contact.email == "lee.chen@bluebird.example")).scalar_one()
        assert lee.do_not_contact is True and lee.name == "Lee Chen"
        stages = {o.opportunity_id: (o.stage, o.closed_at) for o in s.scalars(select(m.Opportunity))}
        assert stages == {
            "0065e00000CCCC1AAA": ("won", datetime(2024, 2, 1, tzinfo=UTC)),
            "0065e00000CCCC2AAA": ("negotiation", None),
            "0065e00000CCCC3AAA": ("lost", datetime(2025, 3, 1, tzinfo=UTC)),  # IsClosed first, whatever the stage
        }
        stripe = s.get(m.Opportunity, "0065e00000CCCC2AAA")
        assert (stripe.account_name, stripe.domain) == ("Stripe", "stripe.example")
        assert stripe.created_at == datetime(2026, 6, 14, 16, 0, tzinfo=UTC)


def test_hubspot_errors_point_at_the_crm_files_lines(store, tmp_path):
    import_folder(store, FIXTURES / "crm_hubspot", preset="hubspot")  # a non-empty store must stay as it was
    folder = _copy(tmp_path, "crm_hubspot")
    _edit(folder / "companies.csv", '"800"', '"eight hundred"')
    _edit(folder / "contacts.csv", '"lee.chen@bluebird.example"', '"lee.chen-at-bluebird"')  # after a 2-line record
    _edit(folder / "deals.csv", '"Contract Sent"', '"Verbal Yes"')
    _edit(folder / "companies.csv", '"Omar Haddad"', '"Nobody Known"')
    issues = _reject(store, folder, "hubspot")
    assert ("companies.csv", 3, "Number of Employees", "not a whole number: eight hundred") in issues
    assert ("contacts.csv", 5, "Email", "not an email address: lee.chen-at-bluebird") in issues
    assert any(i[:3] == ("deals.csv", 4, "Deal Stage") and "Verbal Yes" in i[3] for i in issues)
    assert any(i[:3] == ("companies.csv", 3, "Customer Success Manager") and "Nobody Known" in i[3] for i in issues)


def test_a_malformed_crm_line_hides_nothing_else(store, tmp_path):
    folder = _copy(tmp_path, "crm_hubspot")
    data = (folder / "companies.csv").read_bytes().replace(b'"Bluebird Foods, Inc."', b'"Bluebird Foods \xe9"', 1)
    (folder / "companies.csv").write_bytes(data)  # not UTF-8 on line 3 (was reported on line 1)
    _edit(folder / "deals.csv", '"Offline Sources","Alex Romero"', '"Offline Sources","Alex Romero","extra"')
    _edit(folder / "deals.csv", '"Contract Sent"', '"Verbal Yes"')
    _edit(folder / "contacts.csv", '"Priya.Natarajan@northwind.example"', '"priya-at-northwind"')
    issues = _reject(store, folder, "hubspot")
    assert ("companies.csv", 3, None) in [i[:3] for i in issues] and "UTF-8" in str(issues)
    assert ("deals.csv", 3, None, "has 11 fields where the header has 10") in issues
    assert any(i[:3] == ("deals.csv", 4, "Deal Stage") and "Verbal Yes" in i[3] for i in issues)
    assert ("contacts.csv", 2, "Email", "not an email address: priya-at-northwind") in issues
    assert len(issues) == 4, issues  # nothing about the deal or contact at the unreadable company's record id


def test_preset_missing_columns_and_duplicates(store, tmp_path):
    folder = _copy(tmp_path, "crm_salesforce")
    _edit(folder / "Contact.csv", "0035e00000BBBB2AAA", "0035e00000BBBB1AAA")
    _edit(folder / "Opportunity.csv", "StageName", "Stage")
    issues = _reject(store, folder, "salesforce")
    assert ("Opportunity.csv", 1, "StageName", "required column is missing from the header") in issues
    folder = _copy(tmp_path / "b", "crm_salesforce")
    _edit(folder / "Contact.csv", "0035e00000BBBB2AAA", "0035e00000BBBB1AAA")
    issues = _reject(store, folder, "salesforce")
    assert any(i[:3] == ("Contact.csv", 3, "Id") and "first on line 2" in i[3] for i in issues), issues
    folder = _copy(tmp_path / "c", "crm_hubspot")
    (folder / "deals.csv").unlink()
    (folder / "companies.csv").unlink()
    issues = _reject(store, folder, "hubspot")
    assert issues[0][:2] == ("companies.csv", None) and "required file is missing" in issues[0][3]


def test_annual_revenue_is_never_arr(store, tmp_path):
    folder = _copy(tmp_path, "crm_hubspot")
    with (folder / "program.toml").open("a", encoding="utf-8") as fh:
        fh.write('"Annual Revenue" = "arr"\n')
    issues = _reject(store, folder, "hubspot")
    assert any(i[0] == "program.toml" and "own revenue" in i[3] for i in issues)


def test_cli_preset_exit_codes(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "WARMINTRO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
           "WARMINTRO_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "warmintro", *args], capture_output=True, text=True, env=env,
                              timeout=120)

    ok = cli("import", str(FIXTURES / "crm_hubspot"), "--preset", "hubspot", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["imported"]["accounts"] == 2
    folder = _copy(tmp_path, "crm_hubspot")
    _edit(folder / "companies.csv", '"800"', '"eight hundred"')
    bad = cli("import", str(folder), "--preset", "hubspot", "--json")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    body = json.loads(bad.stdout)
    assert body["errors"][0] == {"file": "companies.csv", "line": 3, "column": "Number of Employees",
                                 "reason": "not a whole number: eight hundred"}
    unknown = cli("import", str(folder), "--preset", "pipedrive")
    assert unknown.returncode != 0 and "unknown preset" in unknown.stderr


ICS = """BEGIN:VCALENDAR\r
PRODID:-//Google Inc//Google Calendar 70.9054//EN\r
VERSION:2.0\r
CALSCALE:GREGORIAN\r
METHOD:PUBLISH\r
X-WR-CALNAME:dana@vendor.example\r
X-WR-TIMEZONE:America/Chicago\r
BEGIN:VTIMEZONE\r
TZID:America/Chicago\r
BEGIN:STANDARD\r
TZOFFSETFROM:-0500\r
TZOFFSETTO:-0600\r
TZNAME:CST\r
DTSTART:19701101T020000\r
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:-0600\r
TZOFFSETTO:-0500\r
TZNAME:CDT\r
DTSTART:19700308T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
DTSTART;TZID=America/Chicago:20261118T100000\r
DTEND;TZID=America/Chicago:20261118T110000\r
DTSTAMP:20261201T120000Z\r
ORGANIZER;CN=Dana Whitfield:mailto:dana@vendor.example\r
UID:7kukuqrfedlm2f9t0vmhqj3ot5@google.com\r
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Priya Na\r
 tarajan;X-NUM-GUESTS=0:mailto:Priya.Natarajan@northwind.example\r
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Dana Wh\r
 itfield;X-NUM-GUESTS=0:mailto:dana@vendor.example\r
SUMMARY:Northwind x Relaydesk - Quarterly Business Review\r
DESCRIPTION:Agenda: adoption\\, roadmap\\, renewal timeline\r
STATUS:CONFIRMED\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART:20261125T150000Z\r
DTEND:20261125T153000Z\r
DTSTAMP:20261201T120000Z\r
UID:040000008200E00074C5B7101A82E00800000000A0F3@outlook.com\r
ATTENDEE;CN=Lee Chen;RSVP=TRUE:mailto:lee.chen@bluebird.example\r
ATTENDEE;CN=Omar Haddad:mailto:omar@vendor.example\r
SUMMARY:Bluebird renewal call\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20261126\r
DTEND;VALUE=DATE:20261127\r
UID:holiday-1@google.com\r
SUMMARY:Thanksgiving\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART:20261127T150000Z\r
UID:cancelled-1@google.com\r
ATTENDEE:mailto:lee.chen@bluebird.example\r
SUMMARY:Bluebird sync\r
STATUS:CANCELLED\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_meetings_from_ics(store, tmp_path):
    folder = _copy(tmp_path, "crm_hubspot")
    (folder / "dana-calendar.ics").write_text(ICS, encoding="utf-8", newline="")
    (folder / "meetings.csv").write_text(
        "meeting_id,account_id,title,kind,occurred_at,attendees\n"
        "MTG-1,9001,Northwind kickoff,kickoff,2024-02-05T15:00:00Z,priya.natarajan@northwind.example;dana@vendor.example\n",
        encoding="utf-8")
    result = import_folder(store, folder, preset="hubspot")
    assert result.imported["meetings"] == 3
    warnings = "\n".join(result.warnings)
    assert "dana-calendar.ics: 1 event(s) skipped: cancelled" in warnings
    assert "dana-calendar.ics: 1 event(s) skipped: no attendees" in warnings
    assert "not a file of the import format" not in warnings
    with store.session() as s:
        qbr = s.get(m.Meeting, "7kukuqrfedlm2f9t0vmhqj3ot5@google.com")
        assert (qbr.kind, qbr.account_id) == ("qbr", "9001")
        assert qbr.occurred_at == datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # 10:00 CST
        attendees = set(s.scalars(select(m.MeetingAttendee.email).where(m.MeetingAttendee.meeting_id == qbr.meeting_id)))
        assert attendees == {"priya.natarajan@northwind.example", "dana@vendor.example"}
        renewal = s.get(m.Meeting, "040000008200E00074C5B7101A82E00800000000A0F3@outlook.com")
        assert (renewal.kind, renewal.account_id, renewal.title) == ("renewal", "9002", "Bluebird renewal call")
        assert s.get(m.Meeting, "MTG-1").kind == "kickoff"
    # A bad event is reported on its own line of the .ics file; the store stays as it was.
    bad = ICS.replace("mailto:lee.chen@bluebird.example\r\nATTENDEE;CN=Omar", "mailto:lee.chen@@bluebird\r\nATTENDEE;CN=Omar")
    (folder / "dana-calendar.ics").write_text(bad, encoding="utf-8", newline="")
    line = bad.splitlines().index("BEGIN:VEVENT", 30) + 1
    issues = _reject(store, folder, "hubspot")
    assert any(i[:3] == ("dana-calendar.ics", line, "ATTENDEE") for i in issues), issues


# --- the round trip -------------------------------------------------------------------------------------------


def _sentiment(texts: list[str]) -> list[str]:
    neg = ("frustrat", "disappoint", "slow", "issue", "churn", "unhappy", "complain")
    return ["negative" if any(w in t.lower() for w in neg) else "positive" for t in texts]


def _engines(store: Store, truth: dict) -> dict:
    from warmintro.engines.personas import infer_personas
    from warmintro.engines.scan import scan
    from warmintro.engines.targets import find_targets
    from warmintro.engines.whoknows import who_knows

    with store.session() as s:
        result = scan(s, AS_OF, sentiment=_sentiment).to_json()
        emails = sorted(s.scalars(select(m.Contact.email)))
        personas = {e: p.to_json() for e, p in infer_personas(s, emails, AS_OF).items()}
        targets = {c: find_targets(s, c, 5, as_of=AS_OF).to_json() for c in sorted(truth["targets"])[:6]}
        paths = {q: who_knows(s, q, as_of=AS_OF).to_json() for q in sorted(truth["who_knows"])[:6]}
    return {"scan": result, "personas": personas, "targets": targets, "who_knows": paths}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> tuple[Path, dict, dict]:
    from warmintro.demo.generator import generate_workspace

    root = tmp_path_factory.mktemp("roundtrip")
    generate_workspace(root / "contract", accounts=40, seed=11, as_of=AS_OF, people=400, ties=1500, emails=300)
    truth = json.loads((root / "contract" / "ground_truth.json").read_text(encoding="utf-8"))
    (root / "contract" / "ground_truth.json").unlink()
    reference = Store.open(f"sqlite:///{root / 'reference.sqlite3'}")
    try:
        import_folder(reference, root / "contract")
        expected = _engines(reference, truth)
        tables = dump(reference)
    finally:
        reference.close()
    return root, truth, {"engines": expected, "tables": tables}


@pytest.mark.parametrize(("preset", "product_ids"), [("hubspot", False), ("salesforce", False), ("hubspot", True),
                                                     ("salesforce", True)])
def test_round_trip_same_store_as_contract(store, workspace, preset, product_ids):
    root, truth, expected = workspace
    out = root / f"{preset}{'-product-ids' if product_ids else ''}"
    folder = out if out.exists() else export_crm(root / "contract", out, preset, product_ids=product_ids)
    if product_ids:  # the record ids link; the property is the account id
        first = (root / "contract" / "accounts.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
        row = (folder / ("companies.csv" if preset == "hubspot" else "Account.csv")).read_text(
            encoding="utf-8-sig").splitlines()[1].split(",")
        assert first not in row[0] and f'"{first}"' in row or first in row
    assert not (folder / "accounts.csv").exists() and not (folder / "opportunities.csv").exists()
    result = import_folder(store, folder, preset=preset)
    assert not [w for w in result.warnings if "skipped" in w], result.warnings
    got = _engines(store, truth)
    assert got["scan"]["asks"] and got["scan"]["skipped"]
    assert got == expected["engines"]
    tables = dump(store)
    for name in ("accounts", "contacts", "team", "meetings", "meeting_attendees", "signals"):
        assert _norm(tables[name]) == _norm(expected["tables"][name]), name
    opps = [(*r[:6], r[6].date() if preset == "salesforce" and r[6] else r[6], *r[7:]) for r in _norm(expected["tables"]["opportunities"])]
    got_opps = [(*r[:6], r[6].date() if preset == "salesforce" and r[6] else r[6], *r[7:]) for r in _norm(tables["opportunities"])]
    assert sorted(got_opps, key=repr) == sorted(opps, key=repr)  # Salesforce's CloseDate is a date


def _norm(rows: list[tuple]) -> list[tuple]:
    """Rows comparable across SQLite and PostgreSQL: aware datetimes in UTC."""
    def fix(v: object) -> object:
        if isinstance(v, datetime):
            return v.astimezone(UTC) if v.tzinfo else v.replace(tzinfo=UTC)
        return v
    return sorted((tuple(fix(v) for v in r) for r in rows), key=repr)


# --- issue 21: the product's own account id in a custom property ---------------------------------------------

PRODUCT_IDS = FIXTURES / "crm_product_ids"  # written by hand: a contract folder and its HubSpot / Salesforce export
SHARED = ("usage.csv", "signals.csv", "meetings.csv", "people.csv", "employment.csv", "relationships.csv", "team.csv")
PRODUCT_TRUTH = {"targets": ["priya.natarajan@northwind.example"], "who_knows": ["harbor.example", "Tidewater Shipping"]}


@pytest.mark.parametrize("preset", ["hubspot", "salesforce"])
def test_a_product_account_id_property_gives_the_contract_folders_store(store, tmp_path, preset):
    """The CRM's record id links contacts and deals to their company; the mapped property is the account id that
    usage, signals and meetings name; a prospect without it stays a company (its deal is an opportunity)."""
    folder = tmp_path / preset
    shutil.copytree(PRODUCT_IDS / preset, folder)
    for name in SHARED:
        shutil.copy2(PRODUCT_IDS / "contract" / name, folder / name)
    reference = Store.open(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    try:
        import_folder(reference, PRODUCT_IDS / "contract")
        expected_engines, expected = _engines(reference, PRODUCT_TRUTH), dump(reference)
    finally:
        reference.close()
    result = import_folder(store, folder, preset=preset)
    assert result.imported["accounts"] == 2 and result.imported["contacts"] == 3 and result.imported["opportunities"] == 2
    assert not [w for w in result.warnings if "not mapped" in w], result.warnings  # the record id is used: linking
    got = dump(store)
    for name in ("accounts", "contacts", "usage_daily", "signals", "meetings", "meeting_attendees", "people",
                 "relationships", "employment", "team"):
        assert _norm(got[name]) == _norm(expected[name]), name
    assert _norm(got["opportunities"]) == _norm(expected["opportunities"])
    engines = _engines(store, PRODUCT_TRUTH)
    assert [a["contact_email"] for a in engines["scan"]["asks"]] == ["priya.natarajan@northwind.example",
                                                                     "lee.chen@bluebird.example"]
    assert engines["targets"]["priya.natarajan@northwind.example"]["targets"]
    assert engines["who_knows"]["harbor.example"]["paths"]
    assert engines == expected_engines


def test_a_customer_without_the_product_id_stays_a_company(store, tmp_path):
    folder = tmp_path / "hubspot"
    shutil.copytree(PRODUCT_IDS / "hubspot", folder)
    for name in SHARED:
        shutil.copy2(PRODUCT_IDS / "contract" / name, folder / name)
    _edit(folder / "companies.csv", '"acct_91c2"', '""')
    (folder / "usage.csv").write_text("\n".join(line for line in (PRODUCT_IDS / "contract" / "usage.csv")
                                                .read_text(encoding="utf-8").splitlines() if "acct_91c2" not in line) + "\n")
    (folder / "signals.csv").write_text("\n".join(line for line in (PRODUCT_IDS / "contract" / "signals.csv")
                                                  .read_text(encoding="utf-8").splitlines() if "acct_91c2" not in line) + "\n")
    result = import_folder(store, folder, preset="hubspot")
    assert result.imported["accounts"] == 1 and result.imported["contacts"] == 2
    assert any("1 customer company has no 'Product Account ID': kept as companies" in w for w in result.warnings)
    with store.session() as s:
        assert {a.account_id for a in s.scalars(select(m.Account))} == {"acct_7f3a"}


def test_a_deal_at_an_unknown_company_is_reported_on_its_line(store, tmp_path):
    folder = tmp_path / "hubspot"
    shutil.copytree(PRODUCT_IDS / "hubspot", folder)
    _edit(folder / "deals.csv", '"9003","Offline Sources"', '"9999","Offline Sources"')
    _edit(folder / "contacts.csv", '"Operations Analyst","9001"', '"Operations Analyst","acct_7f3a"')  # not a record id
    shutil.copy2(PRODUCT_IDS / "contract" / "team.csv", folder / "team.csv")
    issues = _reject(store, folder, "hubspot")
    assert issues == [
        ("contacts.csv", 3, "Associated Company IDs (Primary)", "unknown company acct_7f3a (not in companies.csv)"),
        ("deals.csv", 3, "Associated Company IDs (Primary)", "unknown company 9999 (not in companies.csv)"),
    ]
