"""The results: JSON ({"size", "figures", "results", "machine", ...}) and a markdown table."""

from __future__ import annotations

import math
from typing import Any

FIGURE_UNITS = {
    "import": "rows/s", "import_usage": "s", "scan": "s", "targets": "ms", "who_knows": "ms", "retrieval": "ms", "embed": "emails/s",
    "draft_tokens": "tokens", "slack_ack": "ms",
}


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "-"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 10:
            return f"{x:.1f}"
        return f"{x:.3g}"
    return str(x)


def _ours(name: str, f: dict[str, Any]) -> str:
    if name == "targets":
        return f"p50 {_fmt(f.get('p50_ms'))} / p95 {_fmt(f.get('p95_ms'))} ms"
    if name == "retrieval":
        return f"p95 {_fmt(f.get('value'))} ms, recall@5 {_fmt(f.get('recall_at_5'))}"
    return f"{_fmt(f.get('value'))} {f.get('unit', '')}"


def markdown(doc: dict[str, Any]) -> str:
    on = " on PostgreSQL" if doc.get("database") == "postgresql" else ""
    lines = [f"### Benchmarks, size {doc['size']}{on}", "",
             "| figure | ours | baseline | baseline value | ratio | n | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for name, f in doc["figures"].items():
        if "error" in f:
            lines.append(f"| {name} | error: {f['error']} | | | | | |")
            continue
        lines.append(f"| {name} | {_ours(name, f)} | {f.get('baseline_name', '')} | {_fmt(f.get('baseline_value'))} | "
                     f"{_fmt(f.get('ratio'))}x | {_fmt(f.get('n'))} | {_fmt(f.get('peak_rss_mb'))} |")
    m = doc["machine"]
    lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python {m['python']}, "
                  f"SQLite {m['sqlite']}; load average at start {m['loadavg_at_start']}. "
                  f"Peak RSS of the run {_fmt(doc.get('peak_rss_mb'))} MB; wall time {_fmt(doc.get('seconds'))} s.", ""]
    return "\n".join(lines)
