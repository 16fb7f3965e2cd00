"""The engines scored on the demo generator's planted truth (the clean eval workspace).

- trigger_f1: F1 of the scan's asks against the planted asks, over (contact, trigger type) pairs.
- skip_reason_accuracy: share of planted skips the scan skips with THE reason (precedence order).
- persona_accuracy: inferred persona = planted persona, over every contact.
- persona_edge_accuracy / persona_edge_gate_accuracy: on hand-specified edge cases (evals/tasks/persona_cases.json:
  lapsed practitioners, light-usage executives, buyers with no title...), not the generator's: the persona, and
  whether the scan asks or skips them with the expected reason (the activity gate holds lapsed practitioners).
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
import json
import math
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
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


PERSONA_CASES = Path(__file__).resolve().parent / "tasks" / "persona_cases.json"


def write_persona_case_folder(folder: Path, cases: list[dict[str, Any]], as_of: datetime) -> None:
    """A contract folder with one healthy account per case: the case's contact (title, CRM role, usage, renewal
    calls and QBRs as specified) with an NPS 10 two hours before as_of, and a colleague active every day."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[list[str]]] = {
        "accounts.csv": [["account_id", "name", "domain", "nrr", "health_score", "lifecycle_stage", "customer_since"]],
        "contacts.csv": [["contact_id", "account_id", "name", "email", "title", "crm_role"]],
        "usage.csv": [["account_id", "contact_email", "event", "occurred_at", "count"]],
        "signals.csv": [["signal_id", "account_id", "contact_email", "type", "occurred_at", "score"]],
        "meetings.csv": [["meeting_id", "account_id", "title", "kind", "occurred_at", "attendees"]],
    }

    def at(days: float) -> str:
        return (as_of - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    for n, case in enumerate(cases, start=1):
        acc, domain = f"PC-{n:03d}", f"case{n:03d}.example"
        email, busy = f"contact@{domain}", f"colleague@{domain}"
        files["accounts.csv"].append([acc, f"Case {n}", domain, "110", "80", "active", "2024-01-15"])
        files["contacts.csv"].append([f"{acc}-1", acc, f"Case Contact {n}", email, case["title"], case["crm_role"]])
        files["contacts.csv"].append([f"{acc}-2", acc, f"Case Colleague {n}", busy, "Dispatcher", "product_user"])
        for day in range(1, 29):
            files["usage.csv"].append([acc, busy, "feature_used", at(day), "3"])
        usage = case["usage"]
        for k in range(usage["active_days"]):
            files["usage.csv"].append([acc, email, "login", at(usage["last_days_ago"] + 7 * k), "1"])
        files["signals.csv"].append([f"{acc}-NPS", acc, email, "nps", at(2 / 24), "10"])
        for kind in ("renewal", "qbr"):
            for k in range(case["meetings"][kind]):
                files["meetings.csv"].append([f"{acc}-{kind}-{k}", acc, f"Case {n} {kind}", kind, at(40 + 60 * k),
                                              f"{email};csm@vendor.example"])
    for name, rows in files.items():
        with (folder / name).open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    (folder / "program.toml").write_text('[vendor]\nname = "Relaydesk"\ndomain = "vendor.example"\n',
                                         encoding="utf-8")


def persona_case_metrics(ws: Workspace | None = None, path: Path = PERSONA_CASES) -> dict[str, Any]:
    """Persona accuracy and the activity gate on the hand-specified edge cases, reported apart from the demo's."""
    from warmintro.engines.personas import infer_personas
    from warmintro.engines.scan import scan
    from warmintro.importer.run import import_folder
    from warmintro.store.db import Store

    data = json.loads(path.read_text(encoding="utf-8"))
    cases = data["cases"]
    as_of = datetime.fromisoformat(data["as_of"].replace("Z", "+00:00"))
    emails = [f"contact@case{n:03d}.example" for n in range(1, len(cases) + 1)]
    with tempfile.TemporaryDirectory(prefix="warmintro-persona-cases-") as tmp:
        write_persona_case_folder(Path(tmp) / "folder", cases, as_of)
        store = Store.open(f"sqlite:///{Path(tmp) / 'cases.sqlite3'}")
        try:
            import_folder(store, Path(tmp) / "folder")
            with store.session() as s:
                got = infer_personas(s, emails, as_of)
                result = scan(s, as_of, sentiment=lambda texts: ["positive"] * len(texts))
        finally:
            store.close()
    verdict = {a.contact_email: "ask" for a in result.asks} | {k.contact_email: k.reason for k in result.skipped}
    persona_ok: dict[str, list[int]] = {}
    gate_ok: list[int] = []
    misses: list[dict[str, Any]] = []
    for case, email in zip(cases, emails, strict=True):
        persona = got[email].persona if email in got else None
        ok_p, ok_g = persona == case["expect"]["persona"], verdict.get(email) == case["expect"]["scan"]
        persona_ok.setdefault(case["group"], []).append(int(ok_p))
        gate_ok.append(int(ok_g))
        if not (ok_p and ok_g):
            misses.append({"case": case["id"], "want": case["expect"], "got": {"persona": persona,
                           "scan": verdict.get(email)}, "evidence": got[email].evidence if email in got else []})
    every = [v for vs in persona_ok.values() for v in vs]
    return {"persona_edge_accuracy": round(sum(every) / len(every), 4) if every else 0.0,
            "persona_edge_gate_accuracy": round(sum(gate_ok) / len(gate_ok), 4) if gate_ok else 0.0,
            "persona_edge_cases": len(cases),
            "persona_edge_accuracy_by_group": {g: round(sum(v) / len(v), 4) for g, v in sorted(persona_ok.items())},
            "_persona_edge_misses": misses}


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
