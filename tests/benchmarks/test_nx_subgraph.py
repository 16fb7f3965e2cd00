"""The networkx baseline over only the ties the sampled queries read answers as networkx over the whole
graph: the same find_targets results and the same warm paths (so the L baseline, which cannot hold the
whole graph, is a fair one)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.nxgraph import NxIndex, build_nx, edge_arrays, nx_who_knows, subgraph_edges, touched_nodes
from warmintro.engines.graph import get_graph, invalidate_graph
from warmintro.engines.targets import find_targets
from warmintro.importer.run import import_folder
from warmintro.store.db import Store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "network"


@pytest.mark.parametrize("workspace", ["network", "demo"])
def test_the_touched_subgraph_answers_as_the_whole_graph(store: Store, workspace: str, tmp_path: Path) -> None:
    if workspace == "network":
        folder, as_of = FIXTURE, datetime(2026, 11, 25, 12, tzinfo=UTC)
    else:
        from warmintro.demo.generator import generate_workspace

        as_of = datetime(2026, 3, 10, 9, tzinfo=UTC)
        folder = tmp_path / "demo"
        generate_workspace(folder, accounts=45, seed=11, as_of=as_of, people=600, ties=2500)
    import_folder(store, folder)
    invalidate_graph()
    with store.session() as s:
        g = get_graph(s, as_of=as_of)
        tied = [e for e in g.emails if g.neighbors(g.id_of(e) or 0)[0].size]
        champions = tied[:: max(1, len(tied) // 25)]
        domains = sorted(d for d, members in g.domain_members.items() if len(members) >= 2)
        queries = domains[:: max(1, len(domains) // 10)][:10]
        assert len(champions) >= 5 and len(queries) >= 3
        nodes = touched_nodes(g, [g.id_of(e) for e in champions], queries)
        a, b, w = subgraph_edges(g, nodes)
        assert 0 < len(a) <= g.edge_count
        assert workspace == "network" or len(a) < g.edge_count  # the demo's is a part of the graph
        whole = NxIndex(g, build_nx(g.size, *edge_arrays(g))[1])
        part = NxIndex(g, build_nx(g.size, a, b, w, nodes=nodes)[1])
        for email in champions:
            mine = find_targets(s, email, 5, as_of=as_of, graph=part)  # type: ignore[arg-type]
            theirs = find_targets(s, email, 5, as_of=as_of, graph=whole)  # type: ignore[arg-type]
            assert mine.to_json() == theirs.to_json(), email
        for q in queries:
            assert nx_who_knows(part, q, 10) == nx_who_knows(whole, q, 10), q
