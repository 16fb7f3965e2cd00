"""The suite's markdown report and its PNG chart (matplotlib with the Agg backend, imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SECTIONS: list[tuple[str, list[str]]] = [
    ("Engines on the demo's planted truth", ["trigger_f1", "trigger_precision", "trigger_recall",
                                              "skip_reason_accuracy", "persona_accuracy", "targets_ndcg5",
                                              "decoy_exclusion_accuracy", "who_knows_recall",
                                              "demo_sentiment_accuracy", "demo_qbr_sentiment_accuracy"]),
    ("Personas on hand-specified edge cases (evals/tasks/persona_cases.json)",
     ["persona_edge_cases", "persona_edge_accuracy", "persona_edge_accuracy_by_group", "persona_edge_gate_accuracy"]),
    ("Agent", ["agent_tasks", "agent_pass1", "agent_pass4", "agent_pass1_by_role", "injection_tasks",
               "injection_followed", "injection_pass1", "injection_write_proposed", "injection_followed_by_vector",
               "errors"]),
    ("Drafting", ["grounding_violations", "drafts_with_violations", "drafts", "prompt_tokens_per_draft",
                  "prompt_tokens_max"]),
    ("Sentiment (cross-validated, labelled notes)", ["qbr_sentiment_accuracy", "qbr_sentiment_hard_accuracy",
                                                     "qbr_sentiment_macro_f1", "qbr_sentiment_baseline_accuracy",
                                                     "qbr_sentiment_notes"]),
    ("Voice attribution (real authors, time-split)", ["voice_authors", "voice_attribution_top1",
                                                      "voice_attribution_chance", "voice_baseline_top1",
                                                      "voice_attribution_top1_without_name",
                                                      "voice_named_baseline_top1", "voice_prompt_tokens_per_draft",
                                                      "voice_prompt_tokens_all_emails"]),
    ("Enron tie strength", ["enron_tie_strength_auc", "enron_message_count_auc"]),
]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return str(v)


def _bound(name: str, floors: dict[str, Any]) -> str:
    if name in floors.get("min", {}):
        return f">= {floors['min'][name]}"
    if name in floors.get("max", {}):
        return f"<= {floors['max'][name]}"
    return ""


def markdown(out: dict[str, Any], floors: dict[str, Any], problems: list[str], missing: list[str]) -> str:
    m = out["metrics"]
    lines = [f"# warmintro evals: {out['suite']} suite", "",
             f"model `{out['model']}`, k = {out['k']}, {out['timings'].get('total')} s "
             f"({', '.join(f'{k} {v}' for k, v in out['timings'].items() if k != 'total')})", ""]
    if problems:
        lines += ["**Below the floors:**", *[f"- {p}" for p in problems], ""]
    if missing:
        lines += [f"**Missing metrics:** {', '.join(missing)}", ""]
    shown: set[str] = set()
    for title, names in SECTIONS:
        rows = [n for n in names if n in m]
        if not rows:
            continue
        lines += [f"## {title}", "", "| metric | value | floor |", "|---|---|---|"]
        for n in rows:
            lines.append(f"| {n} | {_fmt(m[n])} | {_bound(n, floors)} |")
            shown.add(n)
        lines.append("")
    rest = [n for n in m if n not in shown]
    if rest:
        lines += ["## Other", "", "| metric | value |", "|---|---|", *[f"| {n} | {_fmt(m[n])} |" for n in rest], ""]
    d = out.get("details", {})
    failed = d.get("failed_tasks") or []
    lines += [f"## Failed tasks ({len(failed)})", "", ", ".join(f"`{t}`" for t in failed) or "none", ""]
    for key, title in (("scan_false_asks", "Scan asks not planted"), ("scan_missed_asks", "Planted asks the scan missed"),
                       ("skip_mismatches", "Skip reasons that differ"), ("decoy_mismatches", "Decoys not excluded as planted"),
                       ("who_knows_missed", "Connectors not found"), ("grounding_details", "Grounding violations"),
                       ("persona_edge_misses", "Persona edge cases missed")):
        if d.get(key):
            lines += [f"### {title}", "", *[f"- {_fmt(x)}" for x in d[key][:30]], ""]
    if out.get("runs_path"):
        lines += [f"Every task run: `{out['runs_path']}`.", ""]
    return "\n".join(lines)


CHART = ["trigger_f1", "skip_reason_accuracy", "persona_accuracy", "targets_ndcg5", "who_knows_recall",
         "qbr_sentiment_accuracy", "voice_attribution_top1", "voice_baseline_top1", "agent_pass1", "agent_pass4",
         "injection_followed"]


def write_chart(out: dict[str, Any], path: Path, floors: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = out["metrics"]
    names = [n for n in CHART if isinstance(m.get(n), int | float)]
    vals = [float(m[n]) for n in names]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.4))
    colors = ["#c0392b" if n == "injection_followed" else "#2e86c1" for n in names]
    ax.barh(names, vals, color=colors)
    for i, n in enumerate(names):
        f = floors.get("min", {}).get(n, floors.get("max", {}).get(n))
        if f is not None:
            ax.plot([f, f], [i - 0.4, i + 0.4], color="black", lw=2)
        ax.text(min(vals[i] + 0.01, 0.93), i, f"{vals[i]:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_title(f"warmintro evals — {out['suite']} suite, model {out['model']} (black: floor)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
