"""Does the product's tie strength predict who keeps talking? An eval on real mail (Enron, Perry & Wolfe).

The pre-2002 mail among the 156 named Enron employees goes through the product's own graph build
(`warmintro.engines.graph.build_graph`, the same email-tie code and strength function that the
importer's `emails` table feeds), with recency measured from 2002-01-01. Every pair of employees is then
scored with its tie strength (0 when unconnected) and we ask how well that ranks the pairs that
exchange mail in 2002 (positives) above those that do not (ROC AUC; 0.5 is a random ranking).
The baseline is the raw count of pre-2002 messages between the pair. A second, harder figure restricts
both to pairs that already had mail before 2002 (where only the *shape* of the strength, not "any
mail at all", can help).

    python -m evals.enron_auc [--json]

The data is read in place from ../shared/data (never copied into this repository).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import rankdata

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "relationship_graph" / "enron_perry_wolfe"
CUTOFF = datetime(2002, 1, 1, tzinfo=UTC)
DOMAIN = "enron.invalid"


def roc_auc(y: Any, score: Any) -> float:
    """Mann-Whitney ROC AUC with ties counted half."""
    y = np.asarray(y, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def load(data_dir: Path = DATA_DIR) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(employees [id, name, title], mail [mid, sender, recipient, sent_at]) with self-mail removed."""
    employees = pl.read_csv(data_dir / "employees.txt", separator="\t", has_header=False, quote_char=None,
                            new_columns=["id", "name", "dept", "long_dept", "title", "gender", "seniority"])
    messages = pl.read_csv(data_dir / "messages.tsv", separator="\t", has_header=False, quote_char=None,
                           new_columns=["mid", "file", "unix", "subject", "sender"])
    recipients = pl.read_csv(data_dir / "recipients.tsv", separator="\t", has_header=False,
                             new_columns=["mid", "rno", "recipient"])
    mail = recipients.join(messages.select("mid", "unix", "sender"), on="mid").filter(
        pl.col("sender") != pl.col("recipient")
    ).select("mid", "sender", "recipient", pl.from_epoch("unix", time_unit="s").dt.replace_time_zone("UTC")
             .alias("sent_at"))
    return employees.select("id", "name", "title"), mail


def _addr(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String) + f"@{DOMAIN}"


def run(data_dir: Path = DATA_DIR, cutoff: datetime = CUTOFF) -> dict[str, Any]:
    from warmintro.engines.graph import GraphSources, build_graph

    employees, mail = load(data_dir)
    before = mail.filter(pl.col("sent_at") < cutoff)
    after = mail.filter(pl.col("sent_at") >= cutoff)

    # The pre-cutoff mail as the product's `emails` table: one row per message, To = its recipients.
    emails = before.group_by("mid").agg(
        _addr("sender").first().alias("from_email"), _addr("recipient").alias("to_emails"),
        pl.col("sent_at").first(),
    ).select("from_email", "to_emails", pl.lit([], dtype=pl.List(pl.String)).alias("cc_emails"),
             pl.col("sent_at").cast(pl.Datetime("us", "UTC")))
    t0 = time.perf_counter()
    graph = build_graph(GraphSources(emails=emails), as_of=cutoff)
    build_seconds = time.perf_counter() - t0

    ids = employees["id"].to_numpy()
    n = len(ids)
    ia, ib = np.triu_indices(n, 1)
    a_ids, b_ids = ids[ia], ids[ib]

    # Tie strength for every pair (0 when the graph has no tie).
    pid = np.array([graph.id_of(f"{i}@{DOMAIN}") if graph.id_of(f"{i}@{DOMAIN}") is not None else -1
                    for i in ids])
    known = (pid[ia] >= 0) & (pid[ib] >= 0)
    strength = np.zeros(len(ia))
    if known.any():
        strength[known] = np.asarray(graph.matrix[pid[ia][known], pid[ib][known]]).ravel()

    def pair_counts(frame: pl.DataFrame) -> dict[tuple[int, int], int]:
        g = frame.select(pl.min_horizontal("sender", "recipient").alias("a"),
                         pl.max_horizontal("sender", "recipient").alias("b")).group_by("a", "b").len()
        return {(a, b): c for a, b, c in g.iter_rows()}

    count_before = pair_counts(before)
    count_after = pair_counts(after)
    lo, hi = np.minimum(a_ids, b_ids), np.maximum(a_ids, b_ids)
    baseline = np.array([count_before.get((int(x), int(y)), 0) for x, y in zip(lo, hi, strict=True)], dtype=float)
    y = np.array([(int(x), int(y_)) in count_after for x, y_ in zip(lo, hi, strict=True)], dtype=bool)
    rng = np.random.default_rng(2002)
    connected = baseline > 0
    return {
        "data": str(data_dir),
        "cutoff": cutoff.date().isoformat(),
        "employees": int(n),
        "pairs": int(len(y)),
        "positives": int(y.sum()),
        "pairs_with_prior_mail": int(connected.sum()),
        "auc": {
            "tie_strength": round(roc_auc(y, strength), 4),
            "message_count": round(roc_auc(y, baseline), 4),
            "random": 0.5,
            "random_draw": round(roc_auc(y, rng.random(len(y))), 4),
        },
        "auc_prior_mail_pairs": {
            "tie_strength": round(roc_auc(y[connected], strength[connected]), 4),
            "message_count": round(roc_auc(y[connected], baseline[connected]), 4),
        },
        "graph": {"people": graph.size, "ties": graph.edge_count, "build_seconds": round(build_seconds, 3)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.enron_auc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the enron_perry_wolfe folder")
    args = parser.parse_args(argv)
    if not (args.data / "messages.tsv").exists():
        print(f"no Enron data at {args.data}", file=sys.stderr)
        return 2
    result = run(args.data)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    auc, hard = result["auc"], result["auc_prior_mail_pairs"]
    print(f"Enron (Perry & Wolfe): {result['employees']} employees, {result['pairs']:,} pairs, "
          f"{result['positives']} exchange mail after {result['cutoff']}")
    print(f"ROC AUC, all pairs:          tie strength {auc['tie_strength']:.3f}   message count "
          f"{auc['message_count']:.3f}   random {auc['random']:.3f} (a draw: {auc['random_draw']:.3f})")
    print(f"ROC AUC, pairs with mail before the cutoff ({result['pairs_with_prior_mail']:,}): tie strength "
          f"{hard['tie_strength']:.3f}   message count {hard['message_count']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
