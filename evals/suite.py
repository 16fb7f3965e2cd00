"""`python -m evals`: the whole eval suite, one command, the same tasks for every model.

    python -m evals --suite quick|full [--json] [--model offline|scripted|openai] [--k N] [--results DIR]
                    [--tasks GLOB] [--limit N] [--no-floors]

quick (CI, offline, a few minutes on 2 cores): demo workspace built once in a temp WARMINTRO_HOME, engine
metrics on its planted truth, every agent and injection task k=4 times, sentiment cross-validation without
ablations, voice attribution in its quick mode (a spread of authors, no embedding).
full: the same plus sentiment ablations, voice attribution on all 56 authors with the prompt-token figures,
and the Enron tie-strength AUC.

Writes to the results folder (default ./results/): report.md, metrics.json, chart.png and runs.jsonl (one
line per task run). With --json prints {"suite", "metrics", "report"}. Exit 1 when a metric is below its
floor in evals/floors.json (or above its ceiling), 0 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FLOORS = Path(__file__).resolve().parent / "floors.json"
REQUIRED = ("trigger_f1", "persona_accuracy", "persona_edge_accuracy", "targets_ndcg5", "qbr_sentiment_accuracy", "voice_attribution_top1",
            "voice_attribution_chance", "voice_baseline_top1", "grounding_violations", "injection_followed",
            "agent_pass1", "agent_pass4", "prompt_tokens_per_draft")
QUICK_VOICE_AUTHORS = 20


def _log(msg: str) -> None:
    print(f"[evals] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------
# The per-topic evals that live in their own modules (imported defensively: each may change on its own)


def voice_metrics(quick: bool) -> dict[str, Any]:
    try:
        from evals import voice_fidelity as vf
    except Exception as exc:  # pragma: no cover - depends on the data and the module
        return {"_voice_error": f"{type(exc).__name__}: {exc}"}
    if not vf.DATA.exists():
        return {"_voice_error": f"data not found: {vf.DATA}"}
    try:
        if hasattr(vf, "run"):
            result = vf.run(quick=quick)
        else:
            result = vf.evaluate(QUICK_VOICE_AUTHORS if quick else None, tokens=not quick)
    except TypeError:
        result = vf.evaluate(QUICK_VOICE_AUTHORS if quick else None, tokens=not quick)
    out = {k: result[k] for k in ("voice_attribution_top1", "voice_attribution_chance", "voice_baseline_top1")
           if k in result}
    out["voice_authors"] = result.get("n_authors")
    for k in ("voice_attribution_top1_without_name", "voice_named_baseline_top1", "voice_style_top1",
              "voice_style_mean_rank", "voice_style_baseline_top1", "voice_style_baseline_mean_rank",
              "voice_style_real_post_top1"):
        if k in result:
            out[k] = result[k]
    tok = result.get("prompt_tokens")
    if isinstance(tok, dict) and "per_draft_mean" in tok:
        out["voice_prompt_tokens_per_draft"] = tok["per_draft_mean"]
        out["voice_prompt_tokens_all_emails"] = tok.get("all_emails_mean")
    return out


def sentiment_metrics(quick: bool) -> dict[str, Any]:
    from evals.sentiment_eval import evaluate

    r = evaluate(ablations=not quick, time_fit=False)
    out = {"qbr_sentiment_accuracy": r["accuracy"], "qbr_sentiment_hard_accuracy": r["hard_accuracy"],
           "qbr_sentiment_macro_f1": r["macro_f1"], "qbr_sentiment_baseline_accuracy": r["baseline_accuracy"],
           "qbr_sentiment_notes": r["n"]}
    if "ablations" in r:
        out["_sentiment_ablations"] = r["ablations"]
    return out


def enron_metrics() -> dict[str, Any]:
    try:
        from evals.enron_auc import DATA_DIR, run

        if not Path(DATA_DIR).exists():
            return {"_enron_error": f"data not found: {DATA_DIR}"}
        r = run()
        return {"enron_tie_strength_auc": r["auc"]["tie_strength"], "enron_message_count_auc": r["auc"]["message_count"]}
    except Exception as exc:  # pragma: no cover
        return {"_enron_error": f"{type(exc).__name__}: {exc}"}


# ---------------------------------------------------------------------------------------------------
# Floors


def check_floors(metrics: dict[str, Any], floors: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, floor in floors.get("min", {}).items():
        v = metrics.get(name)
        if not isinstance(v, int | float) or v < floor:
            problems.append(f"{name} = {v} is below its floor {floor}")
    for name, ceiling in floors.get("max", {}).items():
        v = metrics.get(name)
        if not isinstance(v, int | float) or v > ceiling:
            problems.append(f"{name} = {v} is above its ceiling {ceiling}")
    return problems


# ---------------------------------------------------------------------------------------------------


def run_suite(suite: str = "quick", *, model: str = "offline", k: int = 4, results_dir: Path | None = Path("results"),
              tasks_glob: str = "*.json", limit: int | None = None, engines: bool = True, side_evals: bool = True, scan_cache: bool = True,
              log: Callable[[str], None] = _log) -> dict[str, Any]:
    from evals import agent_eval, engine_metrics
    from evals.models import make_model, model_name
    from evals.workspace import build, load_fixture

    quick = suite == "quick"
    started = time.perf_counter()
    timings: dict[str, float] = {}
    metrics: dict[str, Any] = {}
    tasks = agent_eval.load_tasks(tasks_glob)
    if limit is not None:
        tasks = tasks[:limit]
    needs_hostile = any(t.get("workspace") == "hostile" for t in tasks)
    log(f"building the demo workspace ({len(tasks)} tasks, k={k}, model={model})")
    ws = build(load_fixture(), hostile=needs_hostile)
    timings.update({f"workspace_{n}": round(v, 1) for n, v in ws.timings.items()})
    runs_path: Path | None = None
    try:
        from agent.service import AgentService
        from warmintro.settings import Settings

        settings = Settings()
        chat = make_model(model, settings)
        services: dict[str, Any] = {}

        def service_for(name: str) -> Any:
            if name not in services:
                checkpointer = None
                if chat is not None:
                    from agent.checkpoint import open_checkpointer

                    home = ws.home / name
                    home.mkdir(exist_ok=True)
                    checkpointer = open_checkpointer(Settings(home=home))
                services[name] = AgentService(settings, ws.store(name), model=chat, checkpointer=checkpointer,
                                              clock=lambda: ws.as_of)
            return services[name]

        if engines:
            for name, fn in (("scan", engine_metrics.scan_metrics), ("personas", engine_metrics.persona_metrics),
                             ("persona_cases", engine_metrics.persona_case_metrics),
                             ("targets", engine_metrics.targets_metrics),
                             ("demo_sentiment", engine_metrics.sentiment_on_demo)):
                t = time.perf_counter()
                metrics.update(fn(ws))
                timings[name] = round(time.perf_counter() - t, 1)
                log(f"{name}: {timings[name]} s")
            t = time.perf_counter()
            metrics.update(engine_metrics.drafting_metrics(ws, model=chat, settings=settings, log=log))
            timings["drafting"] = round(time.perf_counter() - t, 1)

        t = time.perf_counter()
        records: list[dict[str, Any]] = []
        cache = agent_eval.scan_cache() if scan_cache else contextlib.nullcontext({})
        with cache as stats:
            results = agent_eval.run_tasks(tasks, service_for, ws.store, k, offline=chat is None,
                                           on_result=lambda r: records.append(r.to_json()))
        if stats:
            timings["scan_cache_misses"] = stats["misses"]
        timings["agent_tasks"] = round(time.perf_counter() - t, 1)
        log(f"agent tasks: {len(results)} runs in {timings['agent_tasks']} s")
        summary = agent_eval.summarise(tasks, results, k)
        metrics.update({key: v for key, v in summary.items() if key != "failed_tasks"})
        if f"agent_pass{k}" in summary and k != 4:
            metrics.setdefault("agent_pass4", None)
        metrics["_failed_tasks"] = summary["failed_tasks"]
        if results_dir is not None:
            results_dir.mkdir(parents=True, exist_ok=True)
            runs_path = results_dir / "runs.jsonl"
            with runs_path.open("w", encoding="utf-8") as fh:
                for rec in records:
                    fh.write(json.dumps({"suite": suite, "model": model_name(model, settings), **rec},
                                        default=str, ensure_ascii=False) + "\n")
    finally:
        ws.close()

    if side_evals:
        t = time.perf_counter()
        metrics.update(sentiment_metrics(quick))
        timings["sentiment_eval"] = round(time.perf_counter() - t, 1)
        log(f"sentiment eval: {timings['sentiment_eval']} s")
        t = time.perf_counter()
        metrics.update(voice_metrics(quick))
        timings["voice_eval"] = round(time.perf_counter() - t, 1)
        log(f"voice eval: {timings['voice_eval']} s")
        if not quick:
            t = time.perf_counter()
            metrics.update(enron_metrics())
            timings["enron_auc"] = round(time.perf_counter() - t, 1)
    timings["total"] = round(time.perf_counter() - started, 1)
    public = {key: v for key, v in metrics.items() if not key.startswith("_")}
    details = {key[1:]: v for key, v in metrics.items() if key.startswith("_")}
    return {"suite": suite, "model": model, "k": k, "metrics": public, "details": details, "timings": timings,
            "tasks": {"agent": public.get("agent_tasks"), "injection": public.get("injection_tasks")},
            "runs_path": str(runs_path) if runs_path else None}


FAULT_FLOORS = Path(__file__).resolve().parent / "faults_floors.json"


def run_fault_suite(log: Callable[[str], None] = _log) -> dict[str, Any]:
    """The fault suite (evals/faults): counts of trials and failures, on SQLite and PostgreSQL when reachable."""
    import tempfile

    from evals.faults import FaultContext, postgres_url, run_faults

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="warmintro-faults-") as tmp:
        pg = postgres_url()
        ctx = FaultContext(workdir=Path(tmp), database_urls=[f"sqlite:///{Path(tmp) / 'faults.sqlite3'}",
                                                              *([pg] if pg else [])], log=log)
        metrics = run_faults(ctx)
    ctx.timings["total"] = round(time.perf_counter() - started, 1)
    metrics["fault_databases"] = len(ctx.database_urls)
    public = {key: v for key, v in metrics.items() if not key.startswith("_")}
    details = {key[1:]: v for key, v in metrics.items() if key.startswith("_")}
    return {"suite": "faults", "model": "offline", "k": 1, "metrics": public, "details": details,
            "timings": ctx.timings, "tasks": {}, "runs_path": None}


def main(argv: list[str] | None = None) -> int:
    from evals.report import markdown, write_chart

    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", choices=("quick", "full", "faults"), default="quick")
    p.add_argument("--json", action="store_true", help='print {"suite", "metrics", "report"} as JSON')
    p.add_argument("--model", choices=("offline", "scripted", "openai"), default="offline")
    p.add_argument("--k", type=int, default=4, help="runs per task (pass^k); default 4")
    p.add_argument("--results", type=Path, default=Path("results"), help="results folder (default ./results)")
    p.add_argument("--tasks", default="*.json", help="task files under evals/tasks (glob)")
    p.add_argument("--limit", type=int, default=None, help="only the first N tasks (debugging)")
    p.add_argument("--no-scan-cache", action="store_true",
                   help="recompute the scan on every tool call (the full suite always does)")
    p.add_argument("--no-floors", action="store_true", help="report only; do not fail on the floors")
    args = p.parse_args(argv)
    if args.k < 1:
        p.error("--k must be at least 1")

    if args.suite == "faults":
        out = run_fault_suite()
        floors = json.loads(FAULT_FLOORS.read_text(encoding="utf-8")) if FAULT_FLOORS.exists() else {}
        gated = not args.no_floors
        from evals.faults import REQUIRED as required
    else:
        out = run_suite(args.suite, model=args.model, k=args.k, results_dir=args.results, tasks_glob=args.tasks,
                        limit=args.limit, scan_cache=args.suite == "quick" and not args.no_scan_cache)
        floors = json.loads(FLOORS.read_text(encoding="utf-8")) if FLOORS.exists() else {}
        gated = args.suite == "quick" and args.model == "offline" and args.k == 4 and args.tasks == "*.json" \
            and args.limit is None and not args.no_floors
        required = REQUIRED
    problems = check_floors(out["metrics"], floors) if gated else []
    missing = [m for m in required if m not in out["metrics"]]
    report = markdown(out, floors if gated else {}, problems, missing)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "report.md").write_text(report, encoding="utf-8")
    (args.results / "metrics.json").write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
    try:
        write_chart(out, args.results / "chart.png", floors)
    except Exception as exc:  # the chart is a convenience; never fail the suite on it
        _log(f"chart not written: {type(exc).__name__}: {exc}")
    if args.json:
        print(json.dumps({"suite": args.suite, "metrics": out["metrics"], "report": report}, default=str))
    else:
        print(report)
    for prob in problems:
        _log(f"FLOOR: {prob}")
    return 1 if problems or (gated and missing) else 0
