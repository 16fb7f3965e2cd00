"""The demo generator: contract-shaped, deterministic, importable, and its planted truth is what the
engines find (scan asks and skip reasons exactly, personas mostly, targets and who-knows exactly)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warmintro.demo.generator import SIZES, GroundTruth, generate_workspace
from warmintro.demo.model import SKIP_REASONS, TARGET_EXCLUSIONS
from warmintro.engines.mobility import find_moves
from warmintro.engines.personas import infer_personas
from warmintro.engines.scan import scan
from warmintro.engines.targets import find_targets
from warmintro.engines.whoknows import who_knows
from warmintro.importer.run import ImportResult, import_folder
from warmintro.importer.schema import FILES
from warmintro.mail import EmailParseError, iter_emails
from warmintro.store.db import Store

AS_OF = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SMALL = {"accounts": 45, "seed": 11, "as_of": AS_OF, "people": 600, "ties": 2500}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("demo") / "workspace"
    truth = generate_workspace(out, **SMALL)
    return out, truth


@pytest.fixture(scope="module")
def imported(demo: tuple[Path, GroundTruth], tmp_path_factory: pytest.TempPathFactory) \
        -> Iterator[tuple[Store, ImportResult]]:
    folder, _ = demo
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.sqlite3'}")
    try:
        yield store, import_folder(store, folder)
    finally:
        store.close()


def truth_sentiment(folder: Path, truth: GroundTruth) -> Callable[[list[str]], list[str]]:
    """A classifier that knows the answers: the planted label of each note."""
    labels: dict[str, str] = {}
    with (folder / "signals.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["signal_id"] in truth.sentiment:
                labels[row["notes"]] = truth.sentiment[row["signal_id"]]
    return lambda texts: [labels.get(t, "neutral") for t in texts]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------------------------------
# Shape

def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    kw = {"accounts": 30, "seed": 3, "as_of": AS_OF, "people": 300, "ties": 1200}
    generate_workspace(tmp_path / "a", **kw)
    generate_workspace(tmp_path / "b", **kw)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 15  # 12 CSVs, program.toml, emails.jsonl, ground_truth.json
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    generate_workspace(tmp_path / "c", **{**kw, "seed": 4})
    assert (tmp_path / "a" / "contacts.csv").read_bytes() != (tmp_path / "c" / "contacts.csv").read_bytes()


def test_every_file_has_the_contract_header(demo: tuple[Path, GroundTruth]) -> None:
    folder, _ = demo
    for name, spec in FILES.items():
        with (folder / name).open(encoding="utf-8", newline="") as fh:
            assert tuple(next(csv.reader(fh))) == spec.column_names, name
    program = (folder / "program.toml").read_text(encoding="utf-8")
    assert "[vendor]" in program and "[icp]" in program and "exclude_domains" in program
    for line in (folder / "emails" / "emails.jsonl").read_text(encoding="utf-8").splitlines()[:50]:
        assert set(json.loads(line)) == {"message_id", "from", "to", "cc", "date", "subject", "body"}


def test_the_folder_imports_without_errors(demo: tuple[Path, GroundTruth],
                                           imported: tuple[Store, ImportResult]) -> None:
    _, truth = demo
    _, result = imported
    for table in ("accounts", "contacts", "signals", "meetings", "usage", "people", "relationships",
                  "opportunities", "asks", "partners", "team", "emails"):
        assert result.imported[table] == truth.counts[table], table


def test_realistic_accounts_and_contacts(demo: tuple[Path, GroundTruth]) -> None:
    folder, truth = demo
    accounts = read_rows(folder / "accounts.csv")
    contacts = read_rows(folder / "contacts.csv")
    team = {r["email"]: r["role"] for r in read_rows(folder / "team.csv")}
    nrr = [float(a["nrr"]) for a in accounts if a["nrr"]]
    assert min(nrr) < 100 < max(nrr)
    assert {a["lifecycle_stage"] for a in accounts} >= {"active", "onboarding", "churned"}
    assert all(team[a["csm_email"]] == "csm" and team[a["ae_email"]] == "ae" for a in accounts)
    per_account = Counter(c["account_id"] for c in contacts)
    assert min(per_account.values()) >= 4
    for a in accounts:  # every account covers the four personas
        emails = [c["email"] for c in contacts if c["account_id"] == a["account_id"]]
        assert {truth.personas[e] for e in emails} >= {"economic_buyer", "product_user", "power_user",
                                                       "administrator"}
    filled = [c for c in contacts if c["crm_role"]]
    assert 0.45 < len(filled) / len(contacts) < 0.75
    wrong = [c for c in filled if c["crm_role"] != truth.personas[c["email"]]]
    assert 0 < len(wrong) < 0.25 * len(filled)
    assert any(c["do_not_contact"] == "true" for c in contacts)
    assert 0.3 < sum(1 for c in contacts if c["slack_user_id"]) / len(contacts) < 0.7
    roles = Counter(team.values())
    assert roles["csm"] >= 6 and roles["ae"] >= 5 and roles["investor"] and roles["advisor"] and roles["partner"]


def test_account_level_qbrs_have_a_meeting_the_same_day(demo: tuple[Path, GroundTruth]) -> None:
    folder, _ = demo
    meetings = {(m["account_id"], m["occurred_at"][:10]) for m in read_rows(folder / "meetings.csv")
                if m["kind"] == "qbr"}
    qbrs = [s for s in read_rows(folder / "signals.csv") if s["type"] == "qbr" and not s["contact_email"]]
    assert qbrs
    assert all((s["account_id"], s["occurred_at"][:10]) in meetings for s in qbrs)
    assert sum(1 for s in qbrs if not s["sentiment"]) > 0.7 * len(qbrs)


def test_sentiment_truth_covers_every_empty_sentiment(demo: tuple[Path, GroundTruth]) -> None:
    folder, truth = demo
    rows = read_rows(folder / "signals.csv")
    empty = {r["signal_id"] for r in rows if not r["sentiment"]}
    assert empty == set(truth.sentiment)
    labels: dict[str, set[str]] = {}
    for r in rows:
        if r["signal_id"] in truth.sentiment and r["notes"]:
            labels.setdefault(r["notes"], set()).add(truth.sentiment[r["signal_id"]])
    assert all(len(v) == 1 for v in labels.values())  # a note never means two things
    assert set(truth.sentiment.values()) == {"positive", "neutral", "negative"}


# ---------------------------------------------------------------------------------------------------
# The planted truth, as the engines see it

def test_scan_reproduces_the_planted_asks_and_skips(demo: tuple[Path, GroundTruth],
                                                     imported: tuple[Store, ImportResult]) -> None:
    folder, truth = demo
    store, _ = imported
    with store.session() as s:
        result = scan(s, truth.as_of_datetime, sentiment=truth_sentiment(folder, truth))
    got = sorted((a.contact_email, a.trigger.signal_id) for a in result.asks)
    assert got == sorted((a["contact_email"], a["signal_id"]) for a in truth.asks)
    got_skips = sorted((x.contact_email, x.reason, tuple(x.also)) for x in result.skipped)
    assert got_skips == sorted((x["contact_email"], x["reason"], tuple(x["also"])) for x in truth.skipped)
    personas = {a.contact_email: a.persona for a in result.asks}
    assert all(personas[a["contact_email"]] == a["persona"] for a in truth.asks)


def test_every_skip_reason_is_planted_twice(demo: tuple[Path, GroundTruth]) -> None:
    _, truth = demo
    reasons = Counter(x["reason"] for x in truth.skipped)
    assert all(reasons[r] >= 2 for r in SKIP_REASONS), reasons
    assert sum(1 for x in truth.skipped if x["also"]) >= 8  # precedence cases
    assert len(truth.asks) >= 15
    assert {a["trigger_type"] for a in truth.asks} >= {"nps", "qbr", "go_live", "expansion", "renewal",
                                                       "public_win", "milestone", "offboarding"}


def test_default_size_plants_at_least_25_asks(tmp_path: Path) -> None:
    truth = generate_workspace(tmp_path / "d", as_of=AS_OF, people=300, ties=2000, emails=500)
    assert len(truth.asks) >= 25
    assert all(Counter(x["reason"] for x in truth.skipped)[r] >= 2 for r in SKIP_REASONS)
    assert len(truth.targets) == 20


def test_personas_are_recoverable_from_behaviour(demo: tuple[Path, GroundTruth],
                                                 imported: tuple[Store, ImportResult]) -> None:
    _, truth = demo
    store, _ = imported
    with store.session() as s:
        inferred = infer_personas(s, list(truth.personas), truth.as_of_datetime)
    hits = sum(inferred[e].persona == p for e, p in truth.personas.items())
    rate = hits / len(truth.personas)
    print(f"persona recovery: {hits}/{len(truth.personas)} = {rate:.1%}")
    assert rate >= 0.85


def test_targets_are_the_planted_good_ones_in_order(demo: tuple[Path, GroundTruth],
                                                    imported: tuple[Store, ImportResult]) -> None:
    _, truth = demo
    store, _ = imported
    assert len(truth.targets) >= 12
    with store.session() as s:
        for champion, planted in truth.targets.items():
            assert 3 <= len(planted["good"]) <= 5
            assert sorted(planted["excluded"].values()) == sorted(TARGET_EXCLUSIONS)
            result = find_targets(s, champion, limit=5, as_of=truth.as_of_datetime)
            assert [t.email for t in result.targets] == planted["good"], champion
            excluded = {e.email: e.reason for e in result.excluded}
            assert {e: excluded.get(e) for e in planted["excluded"]} == planted["excluded"], champion


def test_who_knows_finds_the_planted_connectors(demo: tuple[Path, GroundTruth],
                                                imported: tuple[Store, ImportResult]) -> None:
    _, truth = demo
    store, _ = imported
    assert len(truth.who_knows) >= 5
    with store.session() as s:
        for domain, connectors in truth.who_knows.items():
            paths = who_knows(s, domain, limit=50, as_of=truth.as_of_datetime).paths
            assert {p.connector_email for p in paths if p.hops == 1} == set(connectors), domain


# ---------------------------------------------------------------------------------------------------
# Emails and voices

def test_stripe_is_a_demo_prospect_with_a_warm_path(demo: tuple[Path, GroundTruth],
                                                   imported: tuple[Store, ImportResult]) -> None:
    _, truth = demo
    store, _ = imported
    assert "stripe.com" in truth.who_knows
    with store.session() as s:
        paths = who_knows(s, "stripe.com", limit=10, as_of=truth.as_of_datetime).paths
    assert paths and paths[0].target_email.endswith("@stripe.com")


def test_mobility_reports_exactly_the_planted_moves(demo: tuple[Path, GroundTruth],
                                                    imported: tuple[Store, ImportResult]) -> None:
    _, truth = demo
    store, _ = imported
    assert len(truth.moves) == 3
    with store.session() as s:
        moves = find_moves(s, as_of=truth.as_of_datetime).moves
    found = {mv.email: (mv.from_account_id, mv.to_domain, mv.icp_fit) for mv in moves}
    assert found == {e: (x["from_account_id"], x["to_domain"], x["icp_fit"]) for e, x in truth.moves.items()}


def test_emails_parse_and_are_written_by_contacts(demo: tuple[Path, GroundTruth]) -> None:
    folder, truth = demo
    records = list(iter_emails(folder / "emails"))
    assert not [r for r in records if isinstance(r, EmailParseError)]
    assert len(records) == truth.counts["emails"]
    per_writer = Counter(r.from_email for r in records if not isinstance(r, EmailParseError))
    assert set(per_writer) == set(truth.voices)
    assert set(per_writer) <= set(truth.personas)
    assert min(per_writer.values()) >= 10 and max(per_writer.values()) <= 40
    assert {a["contact_email"] for a in truth.asks} <= set(per_writer)
    assert all(r.date < truth.as_of_datetime for r in records if not isinstance(r, EmailParseError))


def test_formal_and_casual_champions_write_differently(demo: tuple[Path, GroundTruth]) -> None:
    folder, truth = demo
    by_style: dict[str, list[str]] = {}
    for email, voice in truth.voices.items():
        by_style.setdefault(voice["style"], []).append(email)
    assert set(by_style) == {"casual", "formal", "enthusiastic", "terse"}
    formal_greetings = {g for e in by_style["formal"] for g in truth.voices[e]["greetings"]}
    casual_greetings = {g for e in by_style["casual"] for g in truth.voices[e]["greetings"]}
    assert not formal_greetings & casual_greetings
    bodies: dict[str, list[str]] = {}
    for r in iter_emails(folder / "emails"):
        assert not isinstance(r, EmailParseError)
        bodies.setdefault(r.from_email, []).append(r.body)
    formal, casual = by_style["formal"][0], by_style["casual"][0]
    assert all(b.startswith(("Dear ", "Good morning")) for b in bodies[formal])
    assert any(s in b for b in bodies[formal] for s in ("regards", "Sincerely"))
    assert all(b.split("\n")[0].startswith(("hey ", "hi ", "yo ")) for b in bodies[casual])
    assert sum(len(b) for b in bodies[formal]) / len(bodies[formal]) > \
        sum(len(b) for b in bodies[casual]) / len(bodies[casual])


# ---------------------------------------------------------------------------------------------------
# Scale knobs

def test_usage_rows_are_streamed_to_the_exact_count(tmp_path: Path) -> None:
    truth = generate_workspace(tmp_path / "u", accounts=30, seed=5, as_of=AS_OF, people=200, ties=800, emails=300,
                               usage_rows=200_000)
    with (tmp_path / "u" / "usage.csv").open("rb") as fh:
        lines = sum(1 for _ in fh)
    assert lines == 200_001 == truth.counts["usage"] + 1
    assert truth.counts["emails"] == 300 and truth.counts["relationships"] == 800
    with pytest.raises(ValueError, match="usage_rows"):
        generate_workspace(tmp_path / "v", accounts=30, seed=5, as_of=AS_OF, people=200, usage_rows=1000)


def test_sizes_and_limits(tmp_path: Path) -> None:
    assert SIZES["L"]["accounts"] == 5000 and SIZES["L"]["usage_rows"] == 10_000_000
    assert SIZES["L"]["people"] == 1_000_000 and SIZES["L"]["ties"] == 5_000_000
    with pytest.raises(ValueError, match="at least 30"):
        generate_workspace(tmp_path / "x", accounts=10, as_of=AS_OF)


def test_no_background_moment_in_the_lookback(demo: tuple[Path, GroundTruth]) -> None:
    """Every positive signal of the last 30 days is a planted one (or a planted control)."""
    folder, truth = demo
    since = truth.as_of_datetime - timedelta(days=30)
    planted = {x["signal_id"] for x in [*truth.asks, *truth.skipped]}
    in_scan = {x["contact_email"] for x in [*truth.asks, *truth.skipped]}
    seen = 0
    for r in read_rows(folder / "signals.csv"):
        at = datetime.fromisoformat(r["occurred_at"].replace("Z", "+00:00"))
        if at <= since or r["type"] in ("support_escalation", "churn_risk", "contract_negotiation", "downgrade"):
            continue
        label = r["sentiment"] or truth.sentiment.get(r["signal_id"])
        positive = float(r["score"]) >= 9 if r["type"] == "nps" else (
            label == "positive" if r["type"] == "qbr" else label != "negative")
        if positive:
            seen += 1
            # the trigger itself, or an older moment of a contact the scan reports anyway
            assert r["signal_id"] in planted or r["contact_email"] in in_scan, r
    assert seen >= len(planted)


# ---------------------------------------------------------------------------------------------------
# The three programs (issue 13)

def test_partner_and_employee_referrals_are_in_the_crm_export(demo: tuple[Path, GroundTruth]) -> None:
    folder, truth = demo
    opps = read_rows(folder / "opportunities.csv")
    team = {r["email"]: r["role"] for r in read_rows(folder / "team.csv")}
    partners = {r["contact_email"] for r in read_rows(folder / "partners.csv")}
    contacts = {r["email"] for r in read_rows(folder / "contacts.csv")}
    by_source: dict[str, list[dict[str, str]]] = {}
    for o in opps:
        by_source.setdefault(o["source"], []).append(o)
    assert all(o["referrer_email"] in partners for o in by_source["partner"])
    assert all(team.get(o["referrer_email"]) in ("csm", "ae", "sdr", "employee") for o in by_source["employee"])
    assert all(o["referrer_email"] in contacts for o in by_source["referral"] if o["referrer_email"])
    employee_stages = Counter(o["stage"] for o in by_source["employee"])
    assert employee_stages["won"] >= 2 and employee_stages["lost"] >= 1 and sum(employee_stages.values()) >= 4
    for program in ("customer", "partner", "employee"):
        t = truth.programs[program]
        assert t["opportunities"] and t["won"] >= 2, program
        assert t["retention"]["accounts"] >= 1, program
    # the open and lost employee deals are older than the targets' 90-day "recently referred" window
    recent = truth.as_of_datetime - timedelta(days=90)
    assert all(datetime.fromisoformat(o["created_at"].replace("Z", "+00:00")) < recent
               for o in by_source["employee"] if o["stage"] != "won")


def test_the_report_economics_per_program_match_the_planted_truth(demo: tuple[Path, GroundTruth],
                                                                  imported: tuple[Store, ImportResult]) -> None:
    from warmintro.engines.attribution import attribution
    from warmintro.engines.report import program_report
    from warmintro.engines.rewards import payouts

    _, truth = demo
    store, _ = imported
    with store.session() as s:
        economics = program_report(s, truth.as_of_datetime)["economics"]
        credits = attribution(s, truth.as_of_datetime)
        rows = payouts(s, truth.as_of_datetime, credits=credits)
    sourced: dict[str, list[str]] = {}
    for c in credits:
        if c.credit == "sourced":
            sourced.setdefault(c.program or "customer", []).append(c.opportunity_id)
    for program, t in truth.programs.items():
        got = economics["programs"][program]
        assert sorted(sourced.get(program, [])) == t["opportunities"], program
        assert (got["opportunities"], got["won"], got["won_customers"], got["pipeline"], got["won_revenue"]) == (
            len(t["opportunities"]), t["won"], t["won_customers"], t["pipeline"], t["won_revenue"]), program
        ret = economics["retention"][program]
        assert (ret["accounts"], ret["retained"], ret["avg_nrr"]) == (
            t["retention"]["accounts"], t["retention"]["retained"], t["retention"]["avg_nrr"]), program
        if t["payouts_at_close"] is not None:  # partner and employee
            at_close = round(sum(p.amount for p in rows if p.program == program and p.number == 0
                                 and p.status in ("due", "paid")), 2)
            assert at_close == t["payouts_at_close"], program
            assert got["payouts_pending"] == t["payouts_pending"], program
            assert got["payouts"] >= at_close > 0, program  # plus the partners' anniversaries
            assert got["cac"] is not None and got["cac"] > 0, program
    assert economics["programs"]["employee"]["payouts"] == truth.programs["employee"]["payouts_at_close"]


def test_the_programs_truth_is_in_ground_truth_json(demo: tuple[Path, GroundTruth]) -> None:
    folder, truth = demo
    saved = GroundTruth.load(folder / "ground_truth.json")
    assert saved.programs == truth.programs and set(saved.programs) == {"customer", "partner", "employee"}
