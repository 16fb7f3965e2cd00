"""`python -m benchmarks [--size XS|S|M|L] [--quick] [--json] [--out DIR] [--only NAME ...]`.

Builds (or reuses) the size's workspace, runs each figure with its baseline in the same process, writes
results/bench-<size>.json and .md, and prints the markdown table (or the JSON with --json).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.sizes import SIZE_NAMES, get_size
from benchmarks.util import clean, log, machine, peak_memory

FIGURES: tuple[str, ...] = ("import", "import_usage", "scan", "targets", "who_knows", "embed", "retrieval", "draft_tokens", "slack_ack",
                             "cold_home", "cold_hook", "cold_scan", "slack_load")
NEEDS = {"retrieval": ("embed",)}  # retrieval searches the index the embed figure builds


def _runner(name: str, profile_dir: Path | None) -> Callable[[Any], dict[str, Any]]:
    from benchmarks import fig_coldstart, fig_graph, fig_import, fig_scan, fig_slack, fig_voice

    table: dict[str, Callable[[Any], dict[str, Any]]] = {
        "import": fig_import.run,
        "import_usage": fig_import.run_usage,
        "scan": lambda ws: fig_scan.run(ws, profile_dir),
        "targets": fig_graph.run_targets,
        "who_knows": fig_graph.run_who_knows,
        "embed": fig_voice.run_embed,
        "retrieval": fig_voice.run_retrieval,
        "draft_tokens": fig_voice.run_draft_tokens,
        "slack_ack": fig_slack.run,
        "cold_home": fig_coldstart.run_home,
        "cold_hook": fig_coldstart.run_hook,
        "cold_scan": fig_coldstart.run_scan,
        "slack_load": fig_coldstart.run_load,
    }
    return table[name]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--size", default="M", type=str.upper, choices=SIZE_NAMES, help="workspace size (default M)")
    p.add_argument("--quick", action="store_true", help="the same as --size S")
    p.add_argument("--json", action="store_true", help="print the JSON instead of the markdown table")
    p.add_argument("--out", type=Path, default=Path("results"), help="results folder (default ./results)")
    p.add_argument("--work", type=Path, default=None,
                   help="where workspaces are generated and imported (default OUT/bench-work)")
    p.add_argument("--only", nargs="+", choices=FIGURES, metavar="NAME", help=f"figures to run: {', '.join(FIGURES)}")
    p.add_argument("--profile", action="store_true", help="write a cProfile of the scan into OUT")
    p.add_argument("--database-url", default=None,
                   help="import into this PostgreSQL database instead of SQLite (emptied first; e.g. "
                        "postgresql://postgres@127.0.0.1:5432/bench): the store figures then measure PostgreSQL")
    p.add_argument("--index-emails", type=int, default=None, help="override how many emails embed/retrieval index")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    size = get_size("S" if args.quick else args.size)
    if args.index_emails is not None:
        from dataclasses import replace

        size = replace(size, index_emails=args.index_emails)
    wanted = list(args.only or FIGURES)
    for name in list(wanted):
        for dep in NEEDS.get(name, ()):
            if dep not in wanted:
                wanted.insert(wanted.index(name), dep)
    order = [f for f in FIGURES if f in wanted]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    work = args.work or out / "bench-work"
    started = time.perf_counter()
    info = machine()
    from benchmarks.workspace import prepare

    ws = prepare(size, work, fresh_import="import" in order, database_url=args.database_url)
    figures: dict[str, dict[str, Any]] = {}
    try:
        for name in order:
            log(f"figure {name}")
            t0 = time.perf_counter()
            try:
                with peak_memory() as mem:
                    fig = _runner(name, out if args.profile else None)(ws)
            except Exception as exc:  # one failing figure must not lose the others
                traceback.print_exc(file=sys.stderr)
                fig = {"error": f"{type(exc).__name__}: {exc}"}
            fig.update(mem)
            fig["seconds"] = time.perf_counter() - t0
            fig["name"] = name
            fig["size"] = size.name
            fig.setdefault("baseline", fig.get("baseline_value"))
            figures[name] = fig
            log(f"{name}: {fig.get('value')} {fig.get('unit', '')} (ratio {fig.get('ratio')}) in {fig['seconds']:.1f} s")
    finally:
        ws.close()
    doc = clean({
        "size": size.name,
        "database": "postgresql" if args.database_url else "sqlite",
        "workspace": {"generator": size.generator, "counts": ws.truth.get("counts", {}), "as_of": ws.as_of.isoformat()},
        "figures": figures,
        "results": [{"name": k, **{f: v.get(f) for f in ("value", "unit", "baseline_value", "ratio", "n", "size")}}
                    for k, v in figures.items()],
        "machine": info,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "seconds": time.perf_counter() - started,
    })
    from benchmarks.report import markdown

    text = markdown(doc)
    (out / f"bench-{size.name}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    (out / f"bench-{size.name}.md").write_text(text, encoding="utf-8")
    print(json.dumps(doc, indent=1) if args.json else text)
    return 1 if any("error" in f for f in figures.values()) else 0
