"""Targets, who-knows and mobility on a hand-written workspace whose answers are known by construction.

tests/fixtures/network, as of 2026-11-25:
- Priya (VP Operations at Northwind, an economic buyer) knows, in ICP: Jordan (ex-colleague at Harbor for
  57 months and 14 emails), Ana (4 emails this autumn and LinkedIn), Carlos (two roundtables and
  LinkedIn), Mike (a shorter overlap at Harbor) and Nora (LinkedIn only). Top 3: Jordan, Ana, Carlos.
- Decoys, each strongly tied to Priya, one per exclusion reason: Li Wong (same_domain: Northwind, which is
  also a customer), Ben Carter (customer: Bluebird), Grace Liu (do_not_contact, at a churned account),
  Raj Patel (competitor: rival.example), Maria Gomez (recently_referred: a referral opportunity at her
  company in October), Zoe Park and Olaf Berg (outside_icp: industry/size/function; location). Kate Doyle
  is both a Bluebird person and do-not-contact: precedence says customer.
- Harbor Freight Lines (Jordan, Mike): Priya (customer) 1 hop to Jordan, 2 hops to Mike; Kim (partner) 1 hop
  to Mike, 2 to Jordan; Fiona (investor) 2 hops through Ana; Ray (advisor) 1 hop; Alex (employee, AE)
  2 old emails with Jordan.
- Tom Reyes left Bluebird for Gulf Cold Chain (in the ICP); Mei Chen left Bluebird for a competitor.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from warmintro.engines.graph import get_graph
from warmintro.engines.mobility import find_moves
from warmintro.engines.targets import (
    EXCLUSION_ORDER,
    FactColumns,
    PersonFacts,
    fact_columns,
    find_targets,
    icp_check,
    icp_columns,
    infer_function,
    infer_seniority,
    location_matches,
    persona_fit,
)
from warmintro.engines.whoknows import who_knows
from warmintro.errors import NotFoundError
from warmintro.importer.run import import_folder
from warmintro.program import ICP
from warmintro.store import models as m
from warmintro.store.db import Store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "network"
AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)
PRIYA = "priya.natarajan@northwind.example"


@pytest.fixture
def network(store: Store) -> Store:
    import_folder(store, FIXTURE)
    return store


# -- targets -------------------------------------------------------------------------------------------

def test_top_three_for_an_economic_buyer(network: Store) -> None:
    with network.session() as s:
        result = find_targets(s, PRIYA, limit=3, as_of=AS_OF)
    assert result.persona == "economic_buyer"
    assert [t.email for t in result.targets] == [
        "jordan.lee@harbor.example", "ana.silva@tidewater.example", "carlos.mendez@gulfcold.example"]
    jordan = result.targets[0]
    assert jordan.kind == "email" and jordan.company == "Harbor Freight Lines" and jordan.title == "VP Operations"
    assert "Worked together at Harbor Freight Lines, Apr 2017 - Dec 2021, 57 months" in jordan.reasons
    assert "14 emails, last in March 2026" in jordan.reasons
    assert any("fits the ICP" in r for r in jordan.reasons)
    assert any("executive peer (vp) at a similar-size company" in r.lower() for r in jordan.reasons)
    assert all(t.reasons for t in result.targets)
    scores = [t.score for t in result.targets]
    assert scores == sorted(scores, reverse=True)


def test_limit_and_ranking_beyond_the_top_three(network: Store) -> None:
    with network.session() as s:
        five = find_targets(s, PRIYA, limit=5, as_of=AS_OF)
        one = find_targets(s, PRIYA, limit=1, as_of=AS_OF)
    assert [t.email for t in five.targets][3:] == ["mike.ross@harbor.example", "nora.kim@summit.example"]
    assert [t.email for t in one.targets] == ["jordan.lee@harbor.example"]
    assert one.excluded == five.excluded


def test_each_decoy_is_excluded_for_the_right_reason(network: Store) -> None:
    with network.session() as s:
        result = find_targets(s, PRIYA, limit=5, as_of=AS_OF)
    reasons = {e.email: e.reason for e in result.excluded}
    assert reasons == {
        "li.wong@northwind.example": "same_domain",
        "sam.okafor@northwind.example": "same_domain",
        "lena.fischer@northwind.example": "same_domain",
        "ben.carter@bluebird.example": "customer",
        "kate.doyle@bluebird.example": "customer",
        "grace.liu@harvest.example": "do_not_contact",
        "raj.patel@rival.example": "competitor",
        "maria.gomez@coastal.example": "recently_referred",
        "zoe.park@brightpixel.example": "outside_icp",
        "olaf.berg@fjord.example": "outside_icp",
    }
    by_email = {e.email: e for e in result.excluded}
    # two reasons apply: the first in the contract's order wins, the other is kept in `also`
    assert by_email["kate.doyle@bluebird.example"].also == ["do_not_contact"]
    assert by_email["li.wong@northwind.example"].also == ["customer"]
    assert "location" in by_email["olaf.berg@fjord.example"].detail
    for e in result.excluded:
        assert EXCLUSION_ORDER.index(e.reason) < min((EXCLUSION_ORDER.index(a) for a in e.also), default=99)
    # the vendor's own team is neither a target nor an exclusion
    everyone = {t.email for t in result.targets} | set(reasons)
    assert not everyone & {"dana@vendor.example", "alex@vendor.example"}
    assert PRIYA not in everyone


def test_a_referral_in_the_last_90_days_excludes_the_referee(network: Store) -> None:
    nora = "nora.kim@summit.example"
    with network.session() as s:
        s.add(m.Referral(referral_id="R-1", referrer_email="tom.reyes@bluebird.example", referee_email=nora,
                         status="introduced", created_at=AS_OF - timedelta(days=20)))
    with network.session() as s:
        result = find_targets(s, PRIYA, limit=5, as_of=AS_OF)
        later = find_targets(s, PRIYA, limit=10, as_of=AS_OF + timedelta(days=90))
    assert {e.email: e.reason for e in result.excluded}[nora] == "recently_referred"
    assert nora not in {t.email for t in result.targets}
    assert nora in {t.email for t in later.targets}


def test_candidate_columns_answer_as_the_stored_facts(network: Store) -> None:
    """The index's column-wise facts against the row-wise queries they replace: the same facts for every
    person, and the same find_targets result (exclusions and reasons included) for every champion, also
    for a job that ends later on the query's own day (the index is built per day, the job is decided at
    the query's as_of)."""
    from dataclasses import replace

    from warmintro.engines.graph import get_graph, invalidate_graph
    from warmintro.engines.targets import column_facts, load_facts

    with network.session() as s:
        job = s.scalars(select(m.Employment).where(m.Employment.end.is_(None))).first()
        assert job is not None
        job.end = AS_OF + timedelta(hours=3)
        job.title = "Head of Test Operations"  # a title only this job gives its person
        s.add(m.Referral(referral_id="R-9", referrer_email="tom.reyes@bluebird.example",
                         referee_email="nora.kim@summit.example", status="introduced",
                         created_at=AS_OF - timedelta(days=5)))
    invalidate_graph()
    with network.session() as s:
        graph = get_graph(s, as_of=AS_OF)
        assert graph.candidates is not None
        rowwise = replace(graph, candidates=None)
        everyone = list(range(graph.size))
        for when in (AS_OF, AS_OF + timedelta(hours=4)):
            assert column_facts(graph, everyone, when) == load_facts(s, graph, everyone, when)
        champions = [e for e in graph.emails if graph.neighbors(graph.id_of(e) or 0)[0].size]
        assert len(champions) > 10
        for email in champions:
            ours = find_targets(s, email, limit=10, as_of=AS_OF, graph=graph)
            theirs = find_targets(s, email, limit=10, as_of=AS_OF, graph=rowwise)
            assert ours.to_json() == theirs.to_json(), email


def test_equal_starts_pick_the_first_row_in_table_order(network: Store) -> None:
    """Two current jobs that started at the same time: the row-wise facts (through the unique index, in
    company order) and the column-wise ones (in table order) both take the earlier-written row."""
    from warmintro.engines.graph import get_graph, invalidate_graph
    from warmintro.engines.targets import column_facts, load_facts

    email, start = "ana.silva@tidewater.example", AS_OF - timedelta(days=10)
    with network.session() as s:  # Zeta written first: ids in the opposite of company order
        s.add(m.Employment(email=email, company="Zeta Ltd", domain="zeta.example", title="Zeta lead", start=start))
        s.flush()
        s.add(m.Employment(email=email, company="Acme Ltd", domain="acme.example", title="Acme lead", start=start))
    invalidate_graph()
    with network.session() as s:
        graph = get_graph(s, as_of=AS_OF)
        pid = graph.id_of(email)
        assert pid is not None
        rowwise, columnwise = load_facts(s, graph, [pid], AS_OF), column_facts(graph, [pid], AS_OF)
    assert rowwise == columnwise and rowwise[pid].company == "Zeta Ltd"


def test_persona_shapes_the_pick(network: Store) -> None:
    # Sam is a heavy product user in ops, tied equally (LinkedIn) to Ana (ops) and Quinn (revops)
    with network.session() as s:
        result = find_targets(s, "Sam.Okafor@northwind.example", as_of=AS_OF)
    assert result.champion == "sam.okafor@northwind.example"
    assert result.persona in ("product_user", "power_user")
    assert [t.email for t in result.targets] == ["ana.silva@tidewater.example", "quinn.baker@prairie.example"]
    assert any("practitioner in ops" in r.lower() for r in result.targets[0].reasons)
    assert result.targets[0].persona_fit > result.targets[1].persona_fit


def test_persona_fit_rules() -> None:
    champ = PersonFacts(email="c@x.example", name="Cleo Cole", function="ops", seniority="vp", employees=1000)
    vp_peer = PersonFacts(email="a@y.example", seniority="vp", function="finance", employees=1100)
    vp_huge = PersonFacts(email="b@z.example", seniority="vp", function="finance", employees=200_000)
    analyst = PersonFacts(email="d@w.example", seniority="ic", function="ops", employees=1000)
    admin = PersonFacts(email="e@v.example", seniority="manager", function="it", title="Salesforce Administrator")
    buyer = [persona_fit("economic_buyer", champ, p)[0] for p in (vp_peer, vp_huge, analyst)]
    assert buyer[0] > buyer[1] > buyer[2]
    user = [persona_fit("power_user", champ, p)[0] for p in (vp_peer, analyst)]
    assert user[1] > user[0]
    assert persona_fit("administrator", champ, admin)[0] > persona_fit("administrator", champ, vp_peer)[0]
    assert persona_fit(None, champ, admin) == (0.5, None)


def test_icp_check_and_title_reading() -> None:
    icp = ICP(industries=["Logistics"], employees_min=200, employees_max=5000, functions=["ops"],
              seniorities=["vp", "director"], title_keywords=["operations"], locations=["TX", "CO"])
    good = PersonFacts(email="a@x.example", title="VP Operations", seniority="vp", function="ops",
                       industry="logistics", employees=900, location="Austin, TX")
    r = icp_check(icp, good)
    assert r.passes and r.fit == 1 and r.title_keyword == "operations"
    unknown = icp_check(icp, PersonFacts(email="b@x.example"))
    assert not unknown.passes and "industry unknown" in unknown.failed
    assert location_matches(["CO"], "Denver, CO") and not location_matches(["CO"], "Chicago, IL")
    assert icp_check(ICP(), PersonFacts(email="c@x.example")).passes
    assert infer_seniority("Chief Operating Officer") == "cxo"
    assert infer_seniority("Head of RevOps") == "vp"
    assert infer_seniority("Operations Analyst") == "ic"
    assert infer_function("Director, Supply Chain") == "ops"
    assert infer_function("Head of Revenue Operations") == "revops"
    assert infer_function("IT Administrator") == "it"


def test_icp_check_reads_words_as_one_pattern_per_word_would() -> None:
    """_check searches the ICP's locations / title keywords with one alternation: the same answers as a
    whole-word search per word (`location_matches`, the first keyword in the ICP's order)."""
    words = ["TX", "co", " United States ", "", "C++", "R&D", "ops", "operations", "St. Louis"]
    icp = ICP(locations=words, title_keywords=words)
    texts = ["Austin, TX", "Chicago, IL", "Denver, CO", "Remote - United States", "TXS", "c++ lead", "C++",
             "Head of R&D", "DevOps", "Ops & operations", "St. Louis, MO", "St Louis", "co-founder", "", "x"]
    for text in texts:
        r = icp_check(icp, PersonFacts(email="a@x.example", title=text, location=text or None))
        assert ("location" not in " ".join(r.failed)) == location_matches(words, text or None), text
        title = text.strip().lower()
        first = next((w for w in words if w.strip() and re.search(
            r"(?<!\w)" + re.escape(w.strip()) + r"(?!\w)", title, re.I)), None)
        assert r.title_keyword == first, text


EDGE_ICPS = [
    ICP(industries=["Logistics", " Software "], employees_min=200, employees_max=5000, functions=["ops", "it"],
        seniorities=["vp", "director"], title_keywords=["operations", "", "C++", "ops"], locations=["TX", "Canada"]),
    ICP(),  # no facets: everyone passes with fit 1
    ICP(title_keywords=["support"]),  # keywords only: they add to the fit, never fail
    ICP(title_keywords=["", " "], locations=[" "]),  # blank words: no keyword facet match, no location facet
    ICP(employees_min=1000),  # open-ended sizes
    ICP(employees_max=50, industries=["Retail"]),
]
EDGE_PEOPLE = [
    PersonFacts(email="a@x.example", title="VP Operations", seniority="vp", function="ops", industry="logistics",
                employees=900, location="Austin, TX"),
    PersonFacts(email="b@x.example"),  # nothing known
    PersonFacts(email="c@x.example", industry="", employees=float("nan"), location="", title=""),
    PersonFacts(email="d@x.example", industry="Software", employees=200, location="Toronto, Canada",
                title="C++ lead, DevOps", seniority="director", function="it"),
    PersonFacts(email="e@x.example", industry="Retail", employees=5000.0, location="Chicago, IL",
                title="Head of Support", seniority="ic", function="Ops"),
    PersonFacts(email="f@x.example", industry="Mining", employees=12, location="TXS", title="ops & operations",
                seniority="cxo", function="finance"),
    PersonFacts(email="g@x.example", industry="Logistics", employees=5001, location="Denver, CO", title=None,
                seniority="manager", function=""),
    PersonFacts(email="h@x.example", industry="Logistics", employees=0.0, location="Remote (TX)",
                title="Customer Support Operations", seniority="vp", function="ops"),
]


def _same_icp_answers(icp: ICP, facts: list[PersonFacts], columns: FactColumns,
                      cache: dict[Any, Any] | None) -> None:
    fit = icp_columns(icp, columns, cache)
    for i, person in enumerate(facts):
        row = icp_check(icp, person)
        assert fit.result(i) == row, (icp, person)
        assert bool(fit.passes[i]) == row.passes and float(fit.fit[i]) == row.fit
        assert fit.failed_text(i) == "; ".join(row.failed)


def test_icp_columns_answer_as_icp_check_on_edge_cases() -> None:
    """The column-wise ICP check gives, per person, the `IcpResult` of the row-wise one: unknown and blank
    industry, size (None, NaN, the bounds) and location, title keywords, case, ICPs with no facets."""
    columns = FactColumns.of(EDGE_PEOPLE)
    for icp in EDGE_ICPS:
        cache: dict[Any, Any] = {}
        for _ in range(2):  # judged, then read back from the cache
            _same_icp_answers(icp, EDGE_PEOPLE, columns, cache)
        _same_icp_answers(icp, EDGE_PEOPLE, columns, None)
    assert len(FactColumns.of([])) == 0 and len(icp_columns(EDGE_ICPS[0], FactColumns.of([])).passes) == 0


def test_icp_columns_answer_as_icp_check_on_the_demo_workspace(store: Store, tmp_path: Path) -> None:
    """Every person of a generated demo workspace, their facts gathered from the index's columns: the
    column-wise ICP check (over the index's value lists, cached as find_targets does, and over per-batch
    codes) gives the row-wise `IcpResult`, for the workspace's ICP and the edge-case ones."""
    from warmintro.demo.generator import generate_workspace
    from warmintro.engines.graph import invalidate_graph
    from warmintro.program import load_program

    as_of = datetime(2026, 3, 10, 9, tzinfo=UTC)
    generate_workspace(tmp_path / "demo", accounts=45, seed=11, as_of=as_of, people=600, ties=2500)
    import_folder(store, tmp_path / "demo")
    invalidate_graph()
    with store.session() as s:
        graph = get_graph(s, as_of=as_of)
        program_icp = load_program(s).icp
    assert program_icp.industries and program_icp.locations and program_icp.title_keywords
    everyone = list(range(graph.size))
    columns = fact_columns(graph, everyone, as_of)
    facts = [columns.facts(i) for i in everyone]
    assert sum(icp_check(program_icp, f).passes for f in facts) > 10  # some pass, most do not
    for icp in [program_icp, *EDGE_ICPS]:
        cache: dict[Any, Any] = {}
        _same_icp_answers(icp, facts, columns, cache)
        _same_icp_answers(icp, facts, columns, cache)
        _same_icp_answers(icp, facts, FactColumns.of(facts), None)


def test_unknown_champion_is_a_clear_error(network: Store) -> None:
    with network.session() as s, pytest.raises(NotFoundError, match="nobody@nowhere.example"):
        find_targets(s, "nobody@nowhere.example", as_of=AS_OF)


# -- who knows -----------------------------------------------------------------------------------------

EXPECTED_HARBOR = [
    # connector, pillar, target, hops, via
    (PRIYA, "customer", "jordan.lee@harbor.example", 1, None),
    ("kim@routewise.example", "partner", "mike.ross@harbor.example", 1, None),
    (PRIYA, "customer", "mike.ross@harbor.example", 2, "jordan.lee@harbor.example"),
    ("kim@routewise.example", "partner", "jordan.lee@harbor.example", 2, "mike.ross@harbor.example"),
    ("ray@advise.example", "advisor", "jordan.lee@harbor.example", 1, None),
    ("fiona@fund.example", "investor", "jordan.lee@harbor.example", 2, "ana.silva@tidewater.example"),
    ("ray@advise.example", "advisor", "mike.ross@harbor.example", 2, "jordan.lee@harbor.example"),
    ("fiona@fund.example", "investor", "mike.ross@harbor.example", 2, "ana.silva@tidewater.example"),
    ("alex@vendor.example", "employee", "jordan.lee@harbor.example", 1, None),
]


def test_who_knows_a_company_strongest_paths_first(network: Store) -> None:
    with network.session() as s:
        result = who_knows(s, "Harbor Freight Lines", limit=9, as_of=AS_OF)
    got = [(p.connector_email, p.pillar, p.target_email, p.hops, p.via_email) for p in result.paths]
    assert got == EXPECTED_HARBOR
    strengths = [p.strength for p in result.paths]
    assert strengths == sorted(strengths, reverse=True)
    first, second, third = result.paths[:3]
    assert first.route_to == "dana@vendor.example"  # Northwind's CSM routes Priya's intro
    assert second.route_to == "omar@vendor.example"  # the team member who knows Kim best
    assert third.strength == pytest.approx(first.strength * 0.62, abs=0.02)
    assert third.evidence[0].startswith("Priya Natarajan and Jordan Lee: 14 emails")
    assert third.evidence[1].startswith("Jordan Lee and Mike Ross: worked together at Harbor Freight Lines")
    by_connector = {p.connector_email: p for p in result.paths}
    assert by_connector["fiona@fund.example"].route_to == "alex@vendor.example"
    assert by_connector["ray@advise.example"].route_to is None  # nobody on the team knows Ray
    assert by_connector["alex@vendor.example"].route_to == "alex@vendor.example"
    assert result.kind == "company" and result.domains == ["harbor.example"] and result.people == 2
    # in words: how strong (with the counts behind it) and whom to ask, also when nobody on the team can route it
    assert first.strength_words == "good: 14 emails and 57 months together at Harbor Freight Lines"
    assert third.strength_words.startswith(("fair, through Jordan Lee: 14 emails", "good, through Jordan Lee: 14 emails"))
    assert first.ask == "through Dana Whitfield (dana@vendor.example), who owns the Northwind Logistics account"
    assert (first.route_name, first.route_slack_user_id) == ("Dana Whitfield", "U0DANA")
    ray = by_connector["ray@advise.example"]
    assert ray.ask.startswith("Ray Ortiz (ray@advise.example) directly: no one on the team has a tie")
    assert ray.route_slack_user_id is None and "-" not in ray.ask.split(":")[0]
    assert by_connector["alex@vendor.example"].ask.endswith("directly: they are on the team")


def test_who_knows_cli_at_80_columns_says_whom_to_ask(network: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from warmintro.commands import common

    url = network.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("WARMINTRO_DATABASE_URL", url)
    buf = io.StringIO()
    monkeypatch.setattr(common, "out", Console(file=buf, width=80, highlight=False, soft_wrap=True))
    from warmintro import cli

    monkeypatch.setattr("warmintro.commands.network.out", common.out, raising=False)
    assert cli.main(["who-knows", "Harbor Freight Lines", "--as-of", AS_OF.isoformat()]) == 0
    text = buf.getvalue()
    assert "ask: Ray Ortiz (ray@advise.example) directly" in text and " -\n" not in text and "…" not in text
    assert "strength: " in text and "14 emails" in " ".join(text.split())


def test_who_knows_by_domain_and_by_person(network: Store) -> None:
    with network.session() as s:
        by_domain = who_knows(s, "https://www.harbor.example/", limit=9, as_of=AS_OF)
        by_person = who_knows(s, "Mike.Ross@harbor.example", as_of=AS_OF)
    assert [(p.connector_email, p.target_email, p.hops) for p in by_domain.paths] == [
        (c, t, h) for c, _, t, h, _ in EXPECTED_HARBOR]
    assert {p.target_email for p in by_person.paths} == {"mike.ross@harbor.example"}
    assert [p.connector_email for p in by_person.paths][:2] == ["kim@routewise.example", PRIYA]


def test_who_knows_unknown_company(network: Store) -> None:
    with network.session() as s, pytest.raises(NotFoundError):
        who_knows(s, "Globex Corporation", as_of=AS_OF)
    with network.session() as s, pytest.raises(NotFoundError):
        who_knows(s, "ghost@nowhere.example", as_of=AS_OF)


# -- mobility ------------------------------------------------------------------------------------------

def test_mobility_finds_champions_who_moved(network: Store) -> None:
    with network.session() as s:
        result = find_moves(s, as_of=AS_OF)
        before = find_moves(s, as_of=datetime(2026, 5, 1, tzinfo=UTC))
    moves = {mv.email: mv for mv in result.moves}
    assert set(moves) == {"tom.reyes@bluebird.example", "mei.chen@bluebird.example"}
    tom = moves["tom.reyes@bluebird.example"]
    assert (tom.from_account_id, tom.from_company, tom.to_company, tom.to_domain) == (
        "ACC-2", "Bluebird Foods", "Gulf Cold Chain", "gulfcold.example")
    assert tom.since == datetime(2026, 7, 15, tzinfo=UTC)
    assert tom.icp_fit and any("fits the ICP" in r for r in tom.reasons)
    mei = moves["mei.chen@bluebird.example"]
    assert not mei.icp_fit and any("competitor" in r for r in mei.reasons)
    assert [mv.email for mv in result.moves] == ["tom.reyes@bluebird.example", "mei.chen@bluebird.example"]
    assert [mv.email for mv in before.moves] == ["mei.chen@bluebird.example"]


# -- CLI -----------------------------------------------------------------------------------------------

def _cli(database_url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, object]:
    from warmintro.commands.network import register

    app = typer.Typer()
    register(app)
    monkeypatch.setenv("WARMINTRO_DATABASE_URL", database_url)
    res = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    data: dict[str, object] = json.loads(res.stdout)
    return data


def test_cli_json_shapes(network: Store, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    when = "--as-of=2026-11-25T12:00:00Z"
    t = _cli(database_url, monkeypatch, "targets", PRIYA, "--limit", "3", "--json", when)
    assert {"champion", "targets", "excluded"} <= set(t)
    targets = t["targets"]
    assert isinstance(targets, list) and len(targets) == 3
    for item in targets:
        assert {"email", "name", "company", "title", "score", "reasons", "relationship"} <= set(item)
        assert {"kind", "strength"} <= set(item["relationship"])
    excluded = t["excluded"]
    assert isinstance(excluded, list) and all({"email", "reason"} <= set(e) for e in excluded)

    w = _cli(database_url, monkeypatch, "who-knows", "harbor.example", "--json", when)
    assert {"target", "paths"} <= set(w) and w["target"] == "harbor.example"
    paths = w["paths"]
    assert isinstance(paths, list) and paths
    for p in paths:
        assert {"connector_email", "pillar", "target_email", "hops", "strength", "evidence"} <= set(p)
        assert p["pillar"] in ("customer", "employee", "investor", "advisor", "partner")

    mv = _cli(database_url, monkeypatch, "mobility", "--json", when)
    moves = mv["moves"]
    assert isinstance(moves, list) and len(moves) == 2
    for item in moves:
        assert {"email", "name", "from_account_id", "from_company", "to_company", "to_domain", "since", "icp_fit",
                "reasons"} <= set(item)
    assert moves[0]["since"] == "2026-07-15T00:00:00Z"


def test_cli_tables(network: Store, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from warmintro.commands.network import register

    app = typer.Typer()
    register(app)
    monkeypatch.setenv("WARMINTRO_DATABASE_URL", database_url)
    runner = CliRunner()
    for args in (["targets", PRIYA, "--excluded"], ["who-knows", "Harbor Freight Lines"], ["mobility"]):
        res = runner.invoke(app, [*args, "--as-of", "2026-11-25T12:00:00Z"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["targets", "nobody@nowhere.example"])
    assert isinstance(res.exception, NotFoundError)


def test_graph_is_shared_between_queries(network: Store) -> None:
    with network.session() as s:
        graph = get_graph(s, as_of=AS_OF)
        a = find_targets(s, PRIYA, as_of=AS_OF)
        b = find_targets(s, PRIYA, as_of=AS_OF, graph=graph)
    assert [t.email for t in a.targets] == [t.email for t in b.targets]


def test_one_connector_does_not_crowd_out_the_others() -> None:
    from warmintro.engines.whoknows import _diverse

    # (connector, target, strength, hops, via): connector 1 has four strong paths, connector 2 one weaker
    ranked = [(1, 10, 0.9, 1, 0), (1, 11, 0.8, 2, 5), (1, 12, 0.7, 2, 5), (1, 13, 0.6, 2, 5), (2, 10, 0.5, 1, 0)]
    assert [(c, t) for c, t, *_ in _diverse(ranked, 3)] == [(1, 10), (1, 11), (2, 10)]
    # three customers who all reach the target through the same intermediary: one of them is enough
    shared_via = [(3, 20, 0.3, 2, 7), (4, 20, 0.29, 2, 7), (5, 20, 0.28, 2, 7), (6, 20, 0.2, 1, 0)]
    assert [(c, t) for c, t, *_ in _diverse(shared_via, 2)] == [(3, 20), (6, 20)]
    # with nobody else left, the same connector fills the list
    assert [(c, t) for c, t, *_ in _diverse(ranked[:4], 3)] == [(1, 10), (1, 11), (1, 12)]
    # the ranking is read only as far as the answer needs (a big company has thousands of paths)
    read: list[tuple] = []
    lazily = (read.append(r) or r for r in ranked)
    assert [(c, t) for c, t, *_ in _diverse(lazily, 1)] == [(1, 10)] and len(read) <= 2


# -- the champion's reads, kept with the index ------------------------------------------------------------

QBR_PLUS_400 = datetime(2026, 11, 20, 14, tzinfo=UTC) + timedelta(days=400)  # M-1 leaves the QBR window


def _same_as_uncached(s: object, graph: object, when: datetime, emails: list[str]) -> list[dict[str, object]]:
    """find_targets with the graph's memo, and with none (every champion read from the store): identical."""
    from dataclasses import replace

    uncached = replace(graph, memo=None)  # type: ignore[type-var]
    out = []
    for email in emails:
        ours = find_targets(s, email, limit=10, as_of=when, graph=graph).to_json()  # type: ignore[arg-type]
        theirs = find_targets(s, email, limit=10, as_of=when, graph=uncached).to_json()  # type: ignore[arg-type]
        assert ours == theirs, (email, when)
        out.append(ours)
    return out


def test_champion_reads_are_cached_per_day_and_answer_as_the_store(network: Store) -> None:
    """The program, the champion's rows and persona come from the index's memo after the first call, and
    every answer equals the uncached path's: through the day (the QBR of 2026-11-20 drops out of the
    400-day meeting window at 14:00 on the day tested, inside one cached day), and for a champion who is
    no contact."""
    from warmintro.engines.graph import invalidate_graph
    from warmintro.engines.personas import infer_persona_cached, infer_personas

    invalidate_graph()
    with network.session() as s:
        contacts = sorted(s.scalars(select(m.Contact.email)))
        others = [e for e in sorted(s.scalars(select(m.Person.email))) if e not in contacts][:5]
        for day in (AS_OF, QBR_PLUS_400):
            graph = get_graph(s, as_of=day)
            for when in (day.replace(hour=0), day - timedelta(hours=1), day + timedelta(hours=1),
                         day.replace(hour=23, minute=59)):
                _same_as_uncached(s, graph, when, contacts + others)
            assert graph.memo is not None and ("champion", PRIYA) in graph.memo and "program" in graph.memo
        before = infer_persona_cached(s, PRIYA, QBR_PLUS_400 - timedelta(hours=1), {})
        after = infer_persona_cached(s, PRIYA, QBR_PLUS_400 + timedelta(hours=1), {})
        assert before is not None and after is not None
        assert before.evidence != after.evidence  # the QBR counted, then not: the window is exact
        for when in (QBR_PLUS_400 - timedelta(hours=1), QBR_PLUS_400 + timedelta(hours=1)):
            memo: dict[object, object] = {}
            infer_persona_cached(s, PRIYA, QBR_PLUS_400.replace(hour=0), memo)
            assert infer_persona_cached(s, PRIYA, when, memo) == infer_personas(s, [PRIYA], when)[PRIYA]


def test_champion_cache_follows_hook_usage_and_imports(network: Store, tmp_path: Path) -> None:
    """A usage hook between imports makes the cached persona stale (it is re-read), and an import
    (a new program, a new title) gives a new index with an empty memo: answers stay the uncached ones."""
    import shutil

    import polars as pl

    from warmintro.engines.graph import invalidate_graph
    from warmintro.flows.signal_intake import store_usage
    from warmintro.importer.validate import ROW

    sam = "sam.okafor@northwind.example"
    invalidate_graph()
    with network.session() as s:
        graph = get_graph(s, as_of=AS_OF)
        first = _same_as_uncached(s, graph, AS_OF, [sam, PRIYA])
    days = [AS_OF - timedelta(days=d) for d in range(1, 41)]
    store_usage(network, pl.DataFrame({
        ROW: list(range(len(days))), "account_id": ["ACC-1"] * len(days), "contact_email": [sam] * len(days),
        "event": ["integration_configured"] * len(days), "occurred_at": days, "count": [25] * len(days),
    }), source="test", at=AS_OF)
    with network.session() as s:
        assert get_graph(s, as_of=AS_OF) is graph  # no import ran: the same index and memo
        hooked = _same_as_uncached(s, graph, AS_OF, [sam, PRIYA])
    assert first[0]["persona"] == "product_user" and hooked[0]["persona"] == "power_user"

    folder = tmp_path / "network"
    shutil.copytree(FIXTURE, folder)
    program = (folder / "program.toml").read_text()
    (folder / "program.toml").write_text(program.replace('locations = ["TX", "GA", "CO", "IL"]', ""))
    contacts = (folder / "contacts.csv").read_text()
    (folder / "contacts.csv").write_text(contacts.replace("Operations Analyst", "Director of Operations"))
    import_folder(network, folder)
    with network.session() as s:
        fresh = get_graph(s, as_of=AS_OF)
        assert fresh is not graph
        imported = _same_as_uncached(s, fresh, AS_OF, [sam, PRIYA])
    assert imported != hooked
