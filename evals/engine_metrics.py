"""The engines scored on the demo generator's planted truth (the clean eval workspace).

- trigger_f1: F1 of the scan's asks against the planted asks, over (contact, trigger type) pairs.
- skip_reason_accuracy: share of planted skips the scan skips with THE reason (precedence order).
- persona_accuracy: inferred persona = planted persona, over every contact.
- targets_ndcg5: nDCG@5 of each champion's ranked targets (relevant = a planted good target), mean.
- decoy_exclusion_accuracy: planted decoys excluded with their planted reason (and never ranked).
- who_knows_recall: planted one-hop connectors found among the warm paths to each domain (limit 20).
- demo_sentiment_accuracy: the shipped note classifier on the demo's notes with an empty sentiment column.
- grounding_violations / prompt_tokens_per_draft: drafts for champion x good target (the selected drafter:
  offline composer, or the LLM drafter for a model); violations left in the final text, summed; and the
  LLM note prompt's tokens (3 exemplars, 1,200-token budget) per draft, mean. No vector store: exemplars
  are the champion's latest emails (the product's own fallback).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from typing import Any

from evals.workspace import Workspace


def _f1(pred: set[Any], gold: set[Any]) -> dict[str, float]:
    tp = len(pred & gold)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def scan_metrics(ws: Workspace) -> dict[str, Any]:
    from warmintro.engines.scan import scan

    with ws.clean.session() as s:
        result = scan(s, ws.as_of)
    pred = {(a.contact_email, a.trigger.type) for a in result.asks}
    gold = {(a["contact_email"], a["trigger_type"]) for a in ws.truth.asks}
    f = _f1(pred, gold)
    skips = {k.contact_email: k.reason for k in result.skipped}
    right = [s for s in ws.truth.skipped if skips.get(s["contact_email"]) == s["reason"]]
    wrong = [{"contact_email": s["contact_email"], "want": s["reason"], "got": skips.get(s["contact_email"]),
              "scenario": s["scenario"]} for s in ws.truth.skipped if skips.get(s["contact_email"]) != s["reason"]]
    return {
        "trigger_f1": f["f1"], "trigger_precision": f["precision"], "trigger_recall": f["recall"],
        "skip_reason_accuracy": round(len(right) / len(ws.truth.skipped), 4) if ws.truth.skipped else 0.0,
        "_scan_false_asks": sorted(f"{e} ({t})" for e, t in pred - gold),
        "_scan_missed_asks": sorted(f"{e} ({t})" for e, t in gold - pred),
        "_skip_mismatches": wrong,
    }


def persona_metrics(ws: Workspace) -> dict[str, Any]:
    from warmintro.engines.personas import infer_personas

    truth = ws.truth.personas
    with ws.clean.session() as s:
        got = infer_personas(s, list(truth), ws.as_of)
    right = sum(1 for e, p in truth.items() if e in got and got[e].persona == p)
    per: dict[str, list[int]] = {}
    for e, p in truth.items():
        per.setdefault(p, []).append(int(e in got and got[e].persona == p))
    return {"persona_accuracy": round(right / len(truth), 4) if truth else 0.0,
            "_persona_accuracy_by_persona": {p: round(sum(v) / len(v), 4) for p, v in sorted(per.items())}}


def _ndcg(ranked: list[str], good: set[str], k: int = 5) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, e in enumerate(ranked[:k]) if e in good)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(good))))
    return dcg / ideal if ideal else 0.0


def targets_metrics(ws: Workspace) -> dict[str, Any]:
    from warmintro.engines.targets import find_targets
    from warmintro.engines.whoknows import who_knows

    ndcgs: list[float] = []
    decoys_ok = decoys = 0
    bad: list[dict[str, Any]] = []
    with ws.clean.session() as s:
        for champ, info in sorted(ws.truth.targets.items()):
            res = find_targets(s, champ, limit=5, as_of=ws.as_of)
            ranked = [t.email for t in res.targets]
            ndcgs.append(_ndcg(ranked, set(info["good"])))
            excluded = {x.email: x.reason for x in res.excluded}
            for email, reason in info["excluded"].items():
                decoys += 1
                if excluded.get(email) == reason and email not in ranked:
                    decoys_ok += 1
                else:
                    bad.append({"champion": champ, "decoy": email, "want": reason, "got": excluded.get(email)})
        found = total = 0
        missed: list[str] = []
        for domain, connectors in sorted(ws.truth.who_knows.items()):
            paths = who_knows(s, domain, limit=20, as_of=ws.as_of).paths
            have = {p.connector_email for p in paths}
            for c in connectors:
                total += 1
                if c in have:
                    found += 1
                else:
                    missed.append(f"{c} -> {domain}")
    return {
        "targets_ndcg5": round(sum(ndcgs) / len(ndcgs), 4) if ndcgs else 0.0,
        "decoy_exclusion_accuracy": round(decoys_ok / decoys, 4) if decoys else 0.0,
        "who_knows_recall": round(found / total, 4) if total else 0.0,
        "_decoy_mismatches": bad, "_who_knows_missed": missed,
    }


def sentiment_on_demo(ws: Workspace) -> dict[str, Any]:
    from warmintro.engines.sentiment import default_classifier

    with (ws.folder / "signals.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["signal_id"] in ws.truth.sentiment and r["notes"].strip()]
    if not rows:
        return {"demo_sentiment_accuracy": 0.0}
    preds = [p.label for p in default_classifier().classify([r["notes"] for r in rows])]
    right = sum(p == ws.truth.sentiment[r["signal_id"]] for p, r in zip(preds, rows, strict=True))
    qbr = [(p, r) for p, r in zip(preds, rows, strict=True) if r["type"] == "qbr"]
    return {"demo_sentiment_accuracy": round(right / len(rows), 4),
            "demo_qbr_sentiment_accuracy": round(sum(p == ws.truth.sentiment[r["signal_id"]] for p, r in qbr)
                                                 / len(qbr), 4) if qbr else 0.0,
            "_demo_sentiment_notes": len(rows)}


def drafting_metrics(ws: Workspace, *, model: Any = None, settings: Any = None, pairs: int = 2,
                     log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    from evals.champion_facing import check_draft, summarise
    from warmintro.voice.index import store_exemplars
    from warmintro.voice.llm import build_note_prompt
    from warmintro.voice.service import build_facts, make_drafter, profile_for

    drafter = make_drafter(settings, model=model, offline=model is None)
    defects: list[tuple[str, str]] = []
    tokens: list[int] = []
    violations: list[dict[str, Any]] = []
    n = 0
    with ws.clean.session() as s:
        for champ, info in sorted(ws.truth.targets.items()):
            for target in info["good"][:pairs]:
                facts = build_facts(s, champ, target, now=ws.as_of)
                profile = profile_for(s, champ)
                exemplars = store_exemplars(s, champ, 3)
                tokens.append(build_note_prompt(facts, profile, exemplars).tokens)
                draft = drafter.draft(facts, profile, exemplars)
                defects += [(k, f"{champ} -> {target}: {v}") for k, v in check_draft(facts, profile, draft)]
                n += 1
                if draft.violations:
                    violations.append({"champion": champ, "target": target, "violations": draft.violations})
    log(f"drafted {n} notes")
    return {
        "grounding_violations": sum(len(v["violations"]) for v in violations),
        "drafts_with_violations": len(violations), "drafts": n,
        "prompt_tokens_per_draft": round(sum(tokens) / len(tokens), 1) if tokens else 0.0,
        "prompt_tokens_max": max(tokens) if tokens else 0,
        "_grounding_details": violations[:20],
        **summarise(defects, 4 * n),
    }
