"""Warm paths ("who knows whom"): for a company, a domain or a person, the best one- and two-hop paths
from the four connector pillars to the people there.

Pillars (one per connector, in this precedence): `customer` (a contact of a non-churned account who is
not do-not-contact), `employee` (team.csv member with a vendor role: csm, ae, sdr, revops, admin,
employee), `investor` / `advisor` (team.csv role, or a partners.csv contact of kind investor), `partner`
(partners.csv contact_email or team.csv role partner). A path's strength is the product of its ties'
strengths; for each connector and target only the strongest path is kept. The middle person of a
two-hop path is never a connector themselves (their own one-hop path is listed instead). Each path names the team
member who should route the ask: a customer contact's account CSM (else AE), an employee themselves,
an investor's, advisor's or partner's relationship owner — the vendor team member with the strongest
tie to them — or nobody when no team member knows them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from warmintro.engines.graph import (
    PILLAR_CODE,
    PILLARS,
    Evidence,
    GraphIndex,
    get_graph,
    normalise_company,
    normalise_domain,
)
from warmintro.errors import NotFoundError
from warmintro.store.db import driver_rows

MIN_HOP_STRENGTH = 0.05  # weaker ties are not worth a path
MAX_PATHS_PER_CONNECTOR = 2  # in one answer, while other connectors have paths
MAX_VIA_PER_TARGET = 200  # two-hop search looks through each target's strongest ties only
_DOMAIN_LIKE = re.compile(r"^(https?://)?(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)+(/.*)?$", re.I)


@dataclass
class WarmPath:
    connector_email: str
    connector_name: str
    pillar: str
    target_email: str
    target_name: str
    hops: int
    strength: float
    evidence: list[str]
    via_email: str | None = None
    via_name: str | None = None
    route_to: str | None = None
    route_reason: str | None = None
    strength_words: str = ""  # "strong: 30 emails, 3 meetings and 60 months together at Ironbridge"
    ask: str = ""  # who to ask, in words, read after "ask" (also when no team member owns the relationship)
    route_name: str | None = None
    route_slack_user_id: str | None = None  # for an @mention in Slack

    def to_json(self) -> dict[str, Any]:
        return {
            "connector_email": self.connector_email, "pillar": self.pillar, "target_email": self.target_email,
            "hops": self.hops, "strength": self.strength, "evidence": self.evidence, "via_email": self.via_email,
            "route_to": self.route_to, "route_reason": self.route_reason, "connector_name": self.connector_name,
            "target_name": self.target_name, "via_name": self.via_name, "strength_words": self.strength_words,
            "ask": self.ask, "route_name": self.route_name, "route_slack_user_id": self.route_slack_user_id,
        }


@dataclass
class WhoKnowsResult:
    target: str
    kind: str  # person, domain or company
    domains: list[str]
    people: int  # how many people at the target the data knows
    paths: list[WarmPath] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "resolved": {"kind": self.kind, "domains": self.domains, "people": self.people},
                "paths": [p.to_json() for p in self.paths]}


def resolve_target(graph: GraphIndex, query: str) -> tuple[str, list[str], np.ndarray]:
    """(kind, domains, people ids) for a person's email, a domain (or URL) or a company name."""
    q = query.strip()
    if not q:
        raise NotFoundError("who-knows needs a company name, a domain or a person's email")
    if "@" in q:
        pid = graph.id_of(q)
        if pid is None:
            raise NotFoundError(f"no one with email {q!r} in the imported people, contacts or relationships")
        dom = graph.org_domain[pid]
        return "person", [dom] if dom else [], np.array([pid], dtype=np.int64)
    if _DOMAIN_LIKE.match(q) and " " not in q:
        dom = normalise_domain(q) or q.lower()
        pids = graph.people_at(domains=[dom])
        if not len(pids):
            raise NotFoundError(f"no one at {dom} in the imported data (people.csv, employment.csv, contacts)")
        return "domain", [dom], pids
    name = normalise_company(q)
    domains = sorted(graph.name_domains.get(name or "", set()))
    pids = graph.people_at(domains=domains, companies=[name] if name else [])
    if not len(pids):
        raise NotFoundError(f"no one at a company called {q!r} in the imported data; try its domain")
    return "company", domains, pids


EvidenceOf = Callable[[int, int], list[Evidence]]


def _hop_text(graph: GraphIndex, a: int, b: int, evidence_of: EvidenceOf | None = None) -> str:
    ev = (evidence_of or graph.evidence)(a, b)
    return f"{graph.name_of(a)} and {graph.name_of(b)}: " + ("; ".join(e.text for e in ev) or "tied")


STRENGTH_LEVELS = ((0.7, "strong"), (0.4, "good"), (0.2, "fair"), (0.0, "weak"))


def strength_level(strength: float) -> str:
    return next(word for floor, word in STRENGTH_LEVELS if strength >= floor)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _hop_words(graph: GraphIndex, a: int, b: int, evidence_of: EvidenceOf | None = None) -> str:
    briefs = [e.brief or e.text for e in (evidence_of or graph.evidence)(a, b)[:3]]
    return _and(briefs) if briefs else "tied"


def strength_words(graph: GraphIndex, c: int, t: int, via: int, strength: float,
                   evidence_of: EvidenceOf | None = None) -> str:
    """The path's strength in words, with the counts behind it (reps are internal users)."""
    if via < 0:
        return f"{strength_level(strength)}: {_hop_words(graph, c, t, evidence_of)}"
    return (f"{strength_level(strength)}, through {graph.name_of(via)}: {_hop_words(graph, c, via, evidence_of)} "
            f"with them; they have {_hop_words(graph, via, t, evidence_of)} with {graph.name_of(t)}")


def _ask_words(path: WarmPath, route_name: str | None) -> str:
    """Who to ask, in words, to follow "ask": the team member who owns the relationship, else the connector."""
    connector = f"{path.connector_name} ({path.connector_email})"
    if path.pillar == "employee":
        return f"{connector} directly: they are on the team"
    if path.route_to:
        who = f"{route_name} ({path.route_to})" if route_name else path.route_to
        return f"through {who}, who {path.route_reason or 'owns the relationship'}"
    if path.pillar == "customer":
        return f"{connector} directly: their account has no CSM or AE on record"
    return f"{connector} directly: no one on the team has a tie to them on record to route it through"


def _route(graph: GraphIndex, c: int) -> tuple[str | None, str | None]:
    pillar = graph.pillar_of(c)
    if pillar == "customer":
        owner = graph.route.get(c)
        account = graph.connector_account.get(c)
        return owner, (f"owns the {account} account" if owner and account else None)
    if pillar == "employee":
        return graph.emails[c], "is on the team"
    ids, w = graph.neighbors(c)
    mask = graph.vendor_team[ids]
    if mask.any():
        best = int(ids[mask][0])
        return graph.emails[best], f"knows {graph.name_of(c)} best on the team ({float(w[mask][0]):.2f})"
    return None, None


def who_knows(session: Session, query: str, limit: int = 10, *, as_of: datetime | None = None,
              graph: GraphIndex | None = None) -> WhoKnowsResult:
    """The strongest warm paths to the people at `query`, strongest first."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    graph = graph or get_graph(session, as_of=as_of)
    kind, domains, targets = resolve_target(graph, query)
    result = WhoKnowsResult(target=query.strip(), kind=kind, domains=domains, people=len(targets))
    a = graph.matrix
    is_connector = graph.pillar > 0

    # One hop: a connector tied directly to a target.
    row, v_all, w_all = _rows_of(a, targets)
    t_all = targets[row]
    strong = w_all >= MIN_HOP_STRENGTH
    t_all, v_all, w_all = t_all[strong], v_all[strong], w_all[strong]
    one = is_connector[v_all] & (v_all != t_all)
    cs = [v_all[one]]
    ts = [t_all[one]]
    ws = [w_all[one]]
    hs = [np.ones(int(one.sum()), dtype=np.int64)]
    vs = [np.full(int(one.sum()), -1, dtype=np.int64)]

    # Two hops: connector - via - target, through each target's strongest ties. The via is not itself a
    # connector: a connector's own direct path is listed, with the right person to route it.
    not_conn = ~is_connector[v_all]
    if not_conn.any():
        tv, vv, wv = t_all[not_conn], v_all[not_conn], w_all[not_conn]
        order = np.lexsort((-wv, tv))
        tv, vv, wv = tv[order], vv[order], wv[order]
        rank = np.arange(len(tv)) - np.searchsorted(tv, tv, side="left")
        top = rank < MAX_VIA_PER_TARGET
        tv, vv, wv = tv[top], vv[top], wv[top]
        vias = np.unique(vv)
        row2, c2, w2 = _rows_of(a, vias)
        v2 = vias[row2]
        k2 = is_connector[c2] & (w2 >= MIN_HOP_STRENGTH)
        v2, c2, w2 = v2[k2], c2[k2], w2[k2]
        if len(v2):
            # Join (t, v, w1) with (v, c, w2) on v, all at once.
            by_v = np.argsort(v2, kind="stable")
            v2, c2, w2 = v2[by_v], c2[by_v], w2[by_v]
            lo = np.searchsorted(v2, vv, side="left")
            row, j = _ranges(lo, np.searchsorted(v2, vv, side="right") - lo)
            c_, t_, v_ = c2[j], tv[row], vv[row]
            ok = (c_ != t_) & (c_ != v_)
            cs.append(c_[ok])
            ts.append(t_[ok])
            ws.append((wv[row] * w2[j])[ok])
            hs.append(np.full(int(ok.sum()), 2, dtype=np.int64))
            vs.append(v_[ok])

    c_all, t_all2 = np.concatenate(cs), np.concatenate(ts)
    w_fin, h_fin, v_fin = np.concatenate(ws), np.concatenate(hs), np.concatenate(vs)
    # Best path per (connector, target): strongest, then fewest hops.
    key = c_all * graph.size + t_all2
    order = np.lexsort((h_fin, -w_fin, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    best = order[first]
    # Strongest first (to 9 places), then fewest hops, then by connector's and target's email: person ids
    # are in email order, so the whole ranking is one lexsort over numbers.
    best = best[np.lexsort((t_all2[best], c_all[best], h_fin[best], -np.round(w_fin[best], 9)))]
    ranked = zip(c_all[best].tolist(), t_all2[best].tolist(), w_fin[best].tolist(), h_fin[best].tolist(),
                 v_fin[best].tolist(), strict=True)
    evidence_of = functools.cache(graph.evidence)  # each hop's evidence read once: for its texts and its words
    for c, t, strength, hops, via in _diverse(ranked, limit):
        evidence = ([_hop_text(graph, c, t, evidence_of)] if hops == 1
                    else [_hop_text(graph, c, via, evidence_of), _hop_text(graph, via, t, evidence_of)])
        route_to, route_reason = _route(graph, c)
        result.paths.append(WarmPath(
            connector_email=graph.emails[c], connector_name=graph.name_of(c), pillar=PILLARS[int(graph.pillar[c])],
            target_email=graph.emails[t], target_name=graph.name_of(t), hops=hops, strength=round(strength, 3),
            evidence=evidence, via_email=graph.emails[via] if hops == 2 else None,
            via_name=graph.name_of(via) if hops == 2 else None, route_to=route_to, route_reason=route_reason,
            strength_words=strength_words(graph, c, t, via if hops == 2 else -1, strength, evidence_of),
        ))
    _name_routes(session, result.paths)
    return result


def _rows_of(matrix: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position in `rows`, column, value) of every stored entry of those CSR rows, in row order: scipy's
    fancy row indexing, without its per-call checks and copies (two calls were ~1.4 ms of an answer)."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = matrix.indptr[rows].astype(np.int64)
    which, at = _ranges(starts, matrix.indptr[rows + 1].astype(np.int64) - starts)
    return which, matrix.indices[at].astype(np.int64), matrix.data[at].astype(np.float64)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranges [start, start + count) laid end to end: (which range, position) of each element."""
    which = np.repeat(np.arange(len(starts), dtype=np.int64), counts)
    at = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return which, at


def _name_routes(session: Session, paths: list[WarmPath]) -> None:
    """Each path's router by name and Slack id (team.csv), and who to ask in words."""
    emails = sorted({p.route_to for p in paths if p.route_to} | {p.connector_email for p in paths})
    # Plain SQL for three columns: this runs on every answer, and SQLAlchemy's statement path cost more
    # than the query (~1.8 of ~7 ms a call at L).
    marks = ", ".join("?" * len(emails))
    team = {email: (name, slack_id) for email, name, slack_id in driver_rows(
        session, f"SELECT email, name, slack_user_id FROM team WHERE email IN ({marks})", emails)} if emails else {}
    for p in paths:
        member = team.get(p.route_to or "") or (team.get(p.connector_email) if p.pillar == "employee" else None)
        p.route_name = member[0] if member is not None else None
        p.route_slack_user_id = (member[1] or None) if member is not None else None
        p.ask = _ask_words(p, p.route_name)


def _diverse(ranked: Iterable[tuple[int, int, float, int, int]], limit: int) -> list[tuple[int, int, float, int, int]]:
    """The strongest `limit` paths, while other paths remain at most MAX_PATHS_PER_CONNECTOR per connector and
    one per intermediary and target: one well-connected champion, or one intermediary everybody knows, must
    not push every other connector off the list. `ranked` is read only as far as the answer needs."""
    picked: list[tuple[int, tuple[int, int, float, int, int]]] = []  # (rank, path)
    spare: list[tuple[int, tuple[int, int, float, int, int]]] = []
    per: dict[int, int] = {}
    via_seen: set[tuple[int, int]] = set()
    for rank, r in enumerate(ranked):
        if len(picked) >= limit:
            break
        c, t, _strength, hops, via = r
        if per.get(c, 0) < MAX_PATHS_PER_CONNECTOR and (hops == 1 or (via, t) not in via_seen):
            picked.append((rank, r))
            per[c] = per.get(c, 0) + 1
            if hops == 2:
                via_seen.add((via, t))
        else:
            spare.append((rank, r))
    if len(picked) < limit:
        picked.extend(spare[: limit - len(picked)])
    return [r for _, r in sorted(picked)]


__all__ = ["PILLAR_CODE", "WarmPath", "WhoKnowsResult", "resolve_target", "who_knows"]
