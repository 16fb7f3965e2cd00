"""The networkx baseline: the same ties (the edge list of our CSR index, strengths combined already) in an
`nx.Graph`, answering the same queries.

`NxIndex` stands in for `GraphIndex` in `find_targets`: its neighbour lookups go through networkx; node
attributes (ids, names, organisations) and the tie evidence text are shared with our index, so the
difference measured is the graph structure itself. `nx_who_knows` is the warm-path search written the
natural networkx way (Python loops over adjacency dicts), with the same rules as
`warmintro.engines.whoknows.who_knows`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def edge_arrays(graph: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, w) with a < b: every tie once."""
    import scipy.sparse as sp

    upper = sp.triu(graph.matrix, k=1).tocoo()
    return upper.row.astype(np.int64), upper.col.astype(np.int64), upper.data.astype(np.float64)


def touched_nodes(graph: Any, champions: Any, queries: Any) -> np.ndarray:
    """The people whose ties the sampled queries read: each champion (find_targets reads its neighbours),
    and each who-knows query's target people and their neighbours (the search reads the ties of both).
    Every tie touching one of them is all that networkx needs to answer those queries exactly."""
    from warmintro.engines.whoknows import resolve_target

    seeds = [np.asarray(champions, dtype=np.int64)]
    for q in queries:
        seeds.append(resolve_target(graph, q)[2])
    targets = np.unique(np.concatenate(seeds[1:])) if len(seeds) > 1 else np.zeros(0, dtype=np.int64)
    m = graph.matrix
    hop = np.unique(np.concatenate([m.indices[m.indptr[t]:m.indptr[t + 1]] for t in targets.tolist()]
                                   or [np.zeros(0, dtype=np.int64)]))
    return np.unique(np.concatenate([seeds[0], targets, hop.astype(np.int64)]))


def subgraph_edges(graph: Any, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, w) with a < b: every tie with at least one end in `nodes`, each once."""
    m = graph.matrix
    lo, hi = m.indptr[nodes], m.indptr[nodes + 1]
    owner = np.repeat(nodes, hi - lo)
    idx = np.concatenate([np.arange(x, y) for x, y in zip(lo.tolist(), hi.tolist(), strict=True)]
                         or [np.zeros(0, dtype=np.int64)]).astype(np.int64)
    other = m.indices[idx].astype(np.int64)
    a, b = np.minimum(owner, other), np.maximum(owner, other)
    key, first = np.unique(a * graph.size + b, return_index=True)  # a tie between two of them: once
    a, b = np.divmod(key, graph.size)
    return a, b, m.data[idx][first].astype(np.float64)


def csr_from_edges(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[float, Any]:
    """Our structure built from the same edge list (symmetric CSR), timed."""
    import scipy.sparse as sp

    t0 = time.perf_counter()
    m = sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    m.sort_indices()
    return time.perf_counter() - t0, m


def build_nx(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray, nodes: Any = None) -> tuple[float, Any]:
    """networkx over the edges (a, b, w), with nodes 0..n-1, or only `nodes` (a subgraph's) and the edges' ends."""
    import networkx as nx

    t0 = time.perf_counter()
    g = nx.Graph()
    g.add_nodes_from(range(n) if nodes is None else np.asarray(nodes).tolist())
    g.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    return time.perf_counter() - t0, g


class NxIndex:
    """A GraphIndex whose neighbour lookups are answered by networkx. By default it also hides the index's
    column-wise candidate facts, so `find_targets` loads each candidate's facts and exclusions from the
    store, row by row (the engine before they existed): networkx holds the graph, the database holds the
    node data. `columns=True` keeps them (isolates the graph structure alone)."""

    def __init__(self, base: Any, g: Any, *, columns: bool = False) -> None:
        self._base = base
        self.g = g
        self.candidates = base.candidates if columns else None
        self.memo = base.memo if columns else None  # rows: the champion too is read per call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)

    def neighbors(self, pid: int) -> tuple[np.ndarray, np.ndarray]:
        items = sorted(((v, d["weight"]) for v, d in self.g.adj[pid].items()), key=lambda x: (-x[1], x[0]))
        ids = np.fromiter((v for v, _ in items), dtype=np.int64, count=len(items))
        ws = np.fromiter((x for _, x in items), dtype=np.float64, count=len(items))
        return ids, ws

    def strength(self, a: int, b: int) -> float:
        d = self.g.adj[a].get(b)
        return float(d["weight"]) if d else 0.0


def nx_who_knows(index: NxIndex, query: str, limit: int = 10) -> list[tuple[str, str, int, float]]:
    """Warm paths by the rules of `who_knows`, over networkx adjacency: [(connector, target, hops, strength)]."""
    from warmintro.engines.whoknows import (
        MAX_VIA_PER_TARGET,
        MIN_HOP_STRENGTH,
        _hop_text,
        _route,
        resolve_target,
    )

    graph: Any = index  # stands in for the GraphIndex the helpers expect
    _kind, _domains, targets = resolve_target(graph, query)
    adj = index.g.adj
    is_conn = index.pillar > 0
    best: dict[tuple[int, int], tuple[float, int, int]] = {}

    def offer(c: int, t: int, w: float, hops: int, via: int) -> None:
        old = best.get((c, t))
        if old is None or w > old[0] or (w == old[0] and hops < old[1]):
            best[(c, t)] = (w, hops, via)

    for t in targets.tolist():
        vias = []
        for v, d in adj[t].items():
            w = d["weight"]
            if w < MIN_HOP_STRENGTH or v == t:
                continue
            if is_conn[v]:
                offer(v, t, w, 1, -1)
            else:
                vias.append((v, w))
        vias.sort(key=lambda x: (-x[1], x[0]))
        for v, w1 in vias[:MAX_VIA_PER_TARGET]:
            for c, d in adj[v].items():
                w2 = d["weight"]
                if w2 >= MIN_HOP_STRENGTH and is_conn[c] and c != t and c != v:
                    offer(c, t, w1 * w2, 2, v)
    emails = index.emails
    ranked = sorted(((c, t, w, h, via) for (c, t), (w, h, via) in best.items()),
                    key=lambda r: (-round(r[2], 9), r[3], emails[r[0]], emails[r[1]]))[:limit]
    out = []
    for c, t, w, h, via in ranked:
        # the same evidence and routing work as the engine does for the paths it returns
        if h == 1:
            _hop_text(graph, c, t)
        else:
            _hop_text(graph, c, via)
            _hop_text(graph, via, t)
        _route(graph, c)
        out.append((emails[c], emails[t], h, round(w, 3)))
    return out
