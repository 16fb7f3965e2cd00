"""The relationship graph: strength functions, evidence, the index, its cache and its scale."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from warmintro.engines import graph as g
from warmintro.importer.run import import_folder
from warmintro.store.db import Store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "network"
AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)
PRIYA = "priya.natarajan@northwind.example"


# -- strength functions --------------------------------------------------------------------------------

def _increasing(x: np.ndarray) -> bool:
    return bool(np.all(np.diff(x) > 0))


def _decreasing(x: np.ndarray) -> bool:
    return bool(np.all(np.diff(x) < 0))


def test_email_strength_grows_with_count_and_fades_with_time() -> None:
    counts = np.arange(1, 200)
    assert _increasing(g.email_strength(counts, 30))
    days = np.arange(0, 3000, 10)
    assert _decreasing(g.email_strength(10, days))
    assert g.email_strength(10, 30, mutual=1.0) > g.email_strength(10, 30, mutual=0.0)
    s = g.email_strength(np.array([0, 1, 10_000]), np.array([0, 10_000, 0]))
    assert s[0] == 0 and 0 < s[1] < s[2] < 1


def test_coworker_strength_grows_with_overlap_recency_and_small_companies() -> None:
    assert _increasing(g.coworker_strength(np.arange(1, 240), 12, 500))
    assert _decreasing(g.coworker_strength(24, np.arange(0, 400, 3), 500))
    sizes = np.array([5, 20, 200, 2000, 20_000, 50_000])
    by_size = g.coworker_strength(24, 12, sizes)
    assert np.all(np.diff(by_size) <= 0) and by_size[1] > by_size[-1] * 2
    # an unknown size is treated as a mid-size company
    assert g.coworker_strength(24, 12, np.nan) == pytest.approx(g.coworker_strength(24, 12, g.COWORKER_DEFAULT_SIZE))


def test_meeting_and_role_strengths_are_monotonic_and_bounded() -> None:
    assert _increasing(g.meeting_strength(np.arange(1, 50), 10))
    assert _decreasing(g.meeting_strength(3, np.arange(0, 2000, 10)))
    for kind in ("investor", "advisor", "partner"):
        assert _increasing(g.role_strength(kind, np.arange(0, 30), 10))
        assert _decreasing(g.role_strength(kind, 3, np.arange(0, 3000, 30)))
    for fn in (g.email_strength(1e9, 0, 1), g.meeting_strength(1e9, 0), g.coworker_strength(1e4, 0, 1)):
        assert 0 <= float(fn) < 1


def test_noisy_or_combines_kinds() -> None:
    assert g.combine([0.5, 0.5]) == pytest.approx(0.75)
    assert g.combine([0.3]) == pytest.approx(0.3)
    assert g.combine([]) == 0
    assert g.combine([0.2, 0.6, 0.1]) > 0.6


def test_company_names_normalise_the_same_in_python_and_polars() -> None:
    names = ["Bluebird Foods, Inc.", "ACME Corp.", "Harbor Freight Lines", "Smith & Co", "Müller GmbH", "AT&T", "Inc"]
    frame = pl.DataFrame({"c": names}).with_columns(g.normalise_company_expr("c").alias("n"))
    assert frame["n"].to_list() == [g.normalise_company(n) for n in names]
    assert g.normalise_company("Bluebird Foods, Inc.") == "bluebird foods"


# -- the index, built from frames ----------------------------------------------------------------------

def _ts(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _id(idx: g.GraphIndex, email: str) -> int:
    pid = idx.id_of(email)
    assert pid is not None, email
    return pid


def test_sources_build_ties_and_skip_noise() -> None:
    big = [f"p{i}@big.example" for i in range(g.MAX_MEETING_SIZE + 5)]
    src = g.GraphSources(
        emails=pl.DataFrame({
            "from_email": ["a@x.example", "b@y.example", "a@x.example", "c@z.example", "a@x.example"],
            "to_emails": [["b@y.example"], ["a@x.example"], ["b@y.example"], ["a@x.example"],
                          [f"r{i}@list.example" for i in range(g.MAX_EMAIL_RECIPIENTS + 1)]],
            "cc_emails": [[], [], [], [], []],
            "sent_at": [_ts(2026, 1, 5), _ts(2026, 2, 5), _ts(2026, 3, 5), _ts(2027, 1, 1), _ts(2026, 1, 1)],
        }, schema=g.SCHEMAS["emails"]),
        meetings=pl.DataFrame({
            "meeting_id": ["all-hands"] * len(big) + ["m1", "m1"],
            "email": big + ["a@x.example", "d@w.example"],
            "occurred_at": [_ts(2026, 5, 1)] * (len(big) + 2),
            "title": ["All hands"] * len(big) + ["Pricing review"] * 2,
        }, schema=g.SCHEMAS["meetings"]),
    )
    idx = g.build_graph(src, as_of=AS_OF)
    a, b, c, d = (_id(idx, e) for e in ("a@x.example", "b@y.example", "c@z.example", "d@w.example"))
    assert [e.text for e in idx.evidence(a, b)] == ["3 emails, last in March 2026"]
    assert idx.strength(a, c) == 0  # mail dated after the as-of time does not count
    assert [e.text for e in idx.evidence(a, d)] == ["1 meeting together, last in May 2026 (Pricing review)"]
    # a 35-person meeting and a 51-recipient mail make no ties
    p0, p1 = _id(idx, big[0]), _id(idx, big[1])
    assert idx.strength(p0, p1) == 0
    assert idx.neighbors(p0)[0].size == 0
    assert idx.edge_count == 2


def test_coworker_overlap_from_employment_and_company_size() -> None:
    src = g.GraphSources(
        employment=pl.DataFrame({
            "email": ["a@s.example", "b@s.example", "c@s.example", "x@bigco.example", "y@bigco.example", "z@s.example"],
            "company": ["Segment", "Segment", "Segment", "BigCo", "BigCo", "Segment"],
            "domain": ["segment.example"] * 3 + ["bigco.example"] * 2 + ["segment.example"],
            "title": [None] * 6,
            "start": [_ts(2019, 4, 1), _ts(2018, 1, 1), _ts(2021, 8, 1), _ts(2019, 4, 1), _ts(2018, 1, 1),
                      _ts(2021, 6, 20)],
            "end": [_ts(2021, 6, 30), _ts(2021, 6, 1), None, _ts(2021, 6, 30), _ts(2021, 6, 1), None],
        }, schema=g.SCHEMAS["employment"]),
        people=pl.DataFrame({
            "email": ["x@bigco.example", "a@s.example"], "name": ["X", "Ann"], "company": ["BigCo", "Segment"],
            "domain": ["bigco.example", "segment.example"], "industry": [None, None],
            "company_employees": [50_000, 20],
        }, schema=g.SCHEMAS["people"]),
    )
    idx = g.build_graph(src, as_of=AS_OF)
    a, b, c, x, y, z = (_id(idx, e) for e in ("a@s.example", "b@s.example", "c@s.example", "x@bigco.example",
                                               "y@bigco.example", "z@s.example"))
    assert [e.text for e in idx.evidence(a, b)] == ["worked together at Segment, Apr 2019 - Jun 2021, 26 months"]
    assert idx.strength(a, c) == 0  # no overlap
    assert idx.strength(a, z) == 0  # ten days is not an overlap
    assert [e.text for e in idx.evidence(c, z)] == ["worked together at Segment, Aug 2021 - present, 64 months"]
    # same tenure, 20-person company vs 50,000-person company
    assert idx.strength(a, b) > 2 * idx.strength(x, y) > 0
    assert idx.org_domain[a] == "segment.example" and idx.name_of(a) == "Ann"


def test_big_companies_stay_linear() -> None:
    n = 500
    start = [_ts(2015, 1, 1) + timedelta(days=3 * i) for i in range(n)]
    src = g.GraphSources(employment=pl.DataFrame({
        "email": [f"e{i}@huge.example" for i in range(n)], "company": ["Huge"] * n, "domain": ["huge.example"] * n,
        "title": [None] * n, "start": start, "end": [None] * n,
    }, schema=g.SCHEMAS["employment"]))
    idx = g.build_graph(src, as_of=AS_OF)
    assert 0 < idx.edge_count <= n * g.COWORKER_NEIGHBOURS
    degrees = np.diff(idx.matrix.indptr)
    assert degrees.max() <= 2 * g.COWORKER_NEIGHBOURS


def test_200k_random_ties_build_and_answer_queries() -> None:
    rng = np.random.default_rng(7)
    people, ties = 50_000, 200_000
    a = rng.integers(0, people, ties)
    b = rng.integers(0, people, ties)
    keep = a != b
    kinds = np.array(["email", "meeting", "linkedin", "coworker", "investor", "advisor", "partner"])
    base = np.datetime64("2026-01-01T00:00:00", "us")
    last = pl.Series(base - rng.integers(0, 2000, int(keep.sum())).astype("timedelta64[D]")).dt.replace_time_zone("UTC")
    src = g.GraphSources(relationships=pl.DataFrame({
        "a_email": [f"p{i}@c{i % 997}.example" for i in a[keep]],
        "b_email": [f"p{i}@c{i % 997}.example" for i in b[keep]],
        "kind": kinds[rng.integers(0, len(kinds), int(keep.sum()))],
        "weight": rng.integers(1, 40, int(keep.sum())).astype(float),
        "first_at": [None] * int(keep.sum()),
        "last_at": last,
    }, schema=g.SCHEMAS["relationships"]))
    t0 = time.perf_counter()
    idx = g.build_graph(src, as_of=AS_OF)
    elapsed = time.perf_counter() - t0
    print(f"200k ties: built in {elapsed:.2f}s, {idx.size} people, {idx.edge_count} ties")
    assert idx.size <= people and idx.edge_count > 190_000 * 0.9
    assert np.all((idx.matrix.data > 0) & (idx.matrix.data < 1))
    assert (idx.matrix != idx.matrix.T).nnz == 0
    hub = int(np.argmax(np.diff(idx.matrix.indptr)))
    ids, w = idx.neighbors(hub)
    assert len(ids) > 0 and np.all(np.diff(w) <= 0)
    ev = idx.evidence(hub, int(ids[0]))
    assert ev and all(e.text for e in ev)
    assert idx.strength(hub, int(ids[0])) == pytest.approx(g.combine(
        max(e.strength for e in ev if e.kind == k) for k in {e.kind for e in ev}), abs=2e-3)
    assert len(idx.people_at(domains=["c5.example"])) > 0


# -- through the store ---------------------------------------------------------------------------------

@pytest.fixture
def network(store: Store) -> Store:
    import_folder(store, FIXTURE)
    return store


def test_evidence_reads_like_a_person_wrote_it(network: Store) -> None:
    with network.session() as s:
        idx = g.get_graph(s, as_of=AS_OF)
    p = _id(idx, PRIYA)

    def texts(email: str) -> list[str]:
        return [e.text for e in idx.evidence(p, _id(idx, email))]

    assert texts("jordan.lee@harbor.example") == [
        "14 emails, last in March 2026", "worked together at Harbor Freight Lines, Apr 2017 - Dec 2021, 57 months"]
    assert texts("ana.silva@tidewater.example") == ["4 emails, last in October 2026", "connected on LinkedIn"]
    assert texts("carlos.mendez@gulfcold.example") == [
        "2 meetings together, last in September 2026 (Cold chain roundtable follow-up)", "connected on LinkedIn"]
    assert "CSM for Northwind Logistics" in texts("dana@vendor.example")
    assert texts("li.wong@northwind.example")[0].startswith("worked together at Northwind Logistics, Jan 2022 - present")
    tie = idx.tie(p, _id(idx, "jordan.lee@harbor.example"))
    assert tie is not None and tie.kind == "email"
    assert tie.strength == pytest.approx(g.combine(e.strength for e in tie.evidence), abs=2e-3)
    assert idx.pillar_of(p) == "customer" and idx.route[p] == "dana@vendor.example"
    fiona, kim = _id(idx, "fiona@fund.example"), _id(idx, "kim@routewise.example")
    assert idx.pillar_of(fiona) == "investor" and idx.pillar_of(kim) == "partner"


def _import_a_new_tie(store: Store, tmp_path: Path) -> None:
    """Import a folder that adds one tie, Priya - new.person@fresh.example."""
    extra = tmp_path / "more"
    extra.mkdir()
    for name in ("accounts.csv", "contacts.csv", "program.toml"):
        (extra / name).write_bytes((FIXTURE / name).read_bytes())
    (extra / "relationships.csv").write_text(
        "a_email,b_email,kind,weight,first_at,last_at\n"
        f"{PRIYA},new.person@fresh.example,email,3,2026-01-01,2026-11-01\n")
    import_folder(store, extra)


def test_graph_is_cached_until_the_next_import(network: Store, tmp_path: Path) -> None:
    with network.session() as s:
        first = g.get_graph(s, as_of=AS_OF)
        assert g.get_graph(s, as_of=AS_OF) is first
        assert g.get_graph(s, as_of=AS_OF + timedelta(hours=6)) is first  # one build per UTC day
        assert g.get_graph(s, as_of=AS_OF + timedelta(days=1)) is not first
    _import_a_new_tie(network, tmp_path)
    with network.session() as s:
        second = g.get_graph(s, as_of=AS_OF)
    assert second is not first
    assert second.id_of("new.person@fresh.example") is not None
    g.invalidate_graph()
    with network.session() as s:
        assert g.get_graph(s, as_of=AS_OF) is not second


def test_yesterdays_graph_answers_while_todays_builds_after_the_day_rolls_over(
        network: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    g.invalidate_graph()
    today = AS_OF.date() + timedelta(days=1)
    monkeypatch.setattr(g, "_today", lambda: today)
    with network.session() as s:
        yesterday = g.get_graph(s, as_of=AS_OF)
        # the first question of the live day: answered at once by yesterday's graph, today's built aside
        assert g.get_graph(s, as_of=AS_OF + timedelta(days=1)) is yesterday
        assert g.wait_for_rollover(timeout=60)
        fresh = g.get_graph(s, as_of=AS_OF + timedelta(days=1))
        assert fresh is not yesterday and g.get_graph(s, as_of=AS_OF + timedelta(days=1)) is fresh
        p, j = _id(fresh, PRIYA), _id(fresh, "jordan.lee@harbor.example")
        assert fresh.strength(p, j) == pytest.approx(yesterday.strength(p, j), abs=0.01)  # a day of recency
        # not for a day that is not the live one, nor past more than one day: those are built as asked
        assert g.get_graph(s, as_of=AS_OF + timedelta(days=3)) is not fresh
    # nor after an import: the new ties are in the very next answer
    g.invalidate_graph()
    with network.session() as s:
        before = g.get_graph(s, as_of=AS_OF)
    _import_a_new_tie(network, tmp_path)
    with network.session() as s:
        after = g.get_graph(s, as_of=AS_OF + timedelta(days=1))
    assert after is not before and after.id_of("new.person@fresh.example") is not None
    assert g.wait_for_rollover(timeout=60)


def test_a_failed_rollover_build_is_logged_and_tried_again(network: Store, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    g.invalidate_graph()
    monkeypatch.setattr(g, "_today", lambda: AS_OF.date() + timedelta(days=1))
    real_build = g.build_graph
    with network.session() as s:
        yesterday = g.get_graph(s, as_of=AS_OF)

        def broken(*_a: object, **_k: object) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(g, "build_graph", broken)
        assert g.get_graph(s, as_of=AS_OF + timedelta(days=1)) is yesterday
        assert g.wait_for_rollover(timeout=60)
        assert "building the graph of" in caplog.text and "disk on fire" in caplog.text
        monkeypatch.setattr(g, "build_graph", real_build)
        assert g.get_graph(s, as_of=AS_OF + timedelta(days=1)) is yesterday  # tried again, aside
        assert g.wait_for_rollover(timeout=60)
        assert g.get_graph(s, as_of=AS_OF + timedelta(days=1)) is not yesterday


# -- reading the store in bulk ---------------------------------------------------------------------------

def _rowwise(session: object, columns: object, schema: dict[str, object], *, join: object = None,
             chunk: int = 0) -> pl.DataFrame:
    """The reference reader: the same SELECT through SQLAlchemy's own result rows and types, value by value."""
    from sqlalchemy import select

    cols = [c.label(n) for n, c in zip(schema, columns, strict=True)]  # type: ignore[call-overload]
    stmt = select(*cols)
    if join is not None:
        stmt = stmt.select_from(join)  # type: ignore[arg-type]
    rows = [tuple(r) for r in session.execute(stmt)]  # type: ignore[attr-defined]
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)  # type: ignore[arg-type]


@pytest.mark.parametrize("workspace", ["network", "demo"])
def test_bulk_read_gives_the_rows_and_graph_of_a_rowwise_read(store: Store, workspace: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """read_sources (COPY on PostgreSQL, chunked polars frames on SQLite) against SQLAlchemy's row-by-row
    results: the same frames, hence the same CSR arrays, parts and candidate columns."""
    from dataclasses import fields

    if workspace == "network":
        folder, as_of = FIXTURE, AS_OF
    else:
        from warmintro.demo.generator import generate_workspace

        as_of = datetime(2026, 3, 10, 9, tzinfo=UTC)
        folder = tmp_path / "demo"
        generate_workspace(folder, accounts=45, seed=11, as_of=as_of, people=600, ties=2500)
    import_folder(store, folder)
    with store.session() as s:
        bulk = g.read_sources(s)
        with monkeypatch.context() as mp:
            mp.setattr(g, "_read", _rowwise)
            reference = g.read_sources(s)
    for f in fields(g.GraphSources):
        if f.name != "complete":
            mine, theirs = getattr(bulk, f.name), getattr(reference, f.name)
            assert mine.schema == theirs.schema, f.name
            assert mine.equals(theirs), f.name
    assert bulk.employment.height and bulk.relationships.height and bulk.people.height
    a, b = g.build_graph(bulk, as_of), g.build_graph(reference, as_of)
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a.matrix, name), getattr(b.matrix, name)), name
    assert a.parts.equals(b.parts) and np.array_equal(a.part_keys, b.part_keys)
    assert a.emails == b.emails and a.org_domain == b.org_domain and a.candidates is not None
    assert b.candidates is not None and np.array_equal(a.candidates.job_start, b.candidates.job_start)


def test_a_store_migrated_to_0013_reads_as_a_fresh_import(database_url: str, tmp_path: Path) -> None:
    """A store filled at 0012 (on SQLite relationships imported in two parts, so its rowids are not in key
    order) and migrated in place: the same source frames, CSR arrays, parts and candidate columns as a fresh import of
    the same folder, and the same targets and who-knows answers."""
    import shutil
    from contextlib import ExitStack
    from dataclasses import fields

    from warmintro.demo.generator import generate_workspace
    from warmintro.engines.targets import find_targets
    from warmintro.engines.whoknows import who_knows
    from warmintro.store.db import make_engine, migrate
    from warmintro.testing.databases import postgres_schema

    as_of = datetime(2026, 3, 10, 9, tzinfo=UTC)
    folder = tmp_path / "demo"
    generate_workspace(folder, accounts=45, seed=11, as_of=as_of, people=600, ties=2500)
    first = tmp_path / "first"  # the second half of relationships.csv, imported before the whole folder
    shutil.copytree(folder, first)
    rels = pl.read_csv(folder / "relationships.csv", infer_schema=False)
    rels.slice(rels.height // 2).write_csv(first / "relationships.csv")

    with ExitStack() as stack:
        engine = make_engine(database_url)
        stack.callback(engine.dispose)
        migrate(engine, "0012")
        old = Store(engine)
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # (on PostgreSQL a re-import rewrites every row at the heap's end: an order 0013 keeps as is)
            import_folder(old, first)
        import_folder(old, folder)
        if sqlite:
            with old.session() as s:
                keys = g.read_sources(s).relationships.select("a_email", "b_email", "kind")
            assert not keys.equals(keys.sort(keys.columns)), "the rowids should not be in key order"
        migrate(engine, "head")
        if sqlite:
            fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        else:
            fresh_url = stack.enter_context(postgres_schema(database_url.partition("?")[0]))
        fresh = Store.open(fresh_url)
        stack.callback(fresh.close)
        import_folder(fresh, folder)

        with old.session() as so, fresh.session() as sf:
            src_old, src_fresh = g.read_sources(so), g.read_sources(sf)
            for f in fields(g.GraphSources):
                if f.name != "complete":
                    assert getattr(src_old, f.name).equals(getattr(src_fresh, f.name)), f.name
            a, b = g.build_graph(src_old, as_of), g.build_graph(src_fresh, as_of)
            for name in ("indptr", "indices", "data"):
                assert np.array_equal(getattr(a.matrix, name), getattr(b.matrix, name)), name
            assert a.parts.equals(b.parts) and np.array_equal(a.part_keys, b.part_keys)
            assert a.candidates is not None and b.candidates is not None
            for f in fields(a.candidates):
                x, y = getattr(a.candidates, f.name), getattr(b.candidates, f.name)
                same = (np.array_equal(x, y, equal_nan=x.dtype.kind == "f") if isinstance(x, np.ndarray)
                        else repr(x) == repr(y))
                assert same, f.name
            champions = [e for e in a.emails if a.neighbors(a.id_of(e) or 0)[0].size][:40]
            assert len(champions) > 10
            for email in champions:
                assert (find_targets(so, email, limit=10, as_of=as_of, graph=a).to_json()
                        == find_targets(sf, email, limit=10, as_of=as_of, graph=b).to_json()), email
            domains = sorted(a.domain_members)[:20]
            assert domains
            for query in domains + champions[:10]:
                assert (who_knows(so, query, as_of=as_of, graph=a).to_json()
                        == who_knows(sf, query, as_of=as_of, graph=b).to_json()), query
