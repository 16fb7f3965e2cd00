"""The email index's embedding model against the reference MiniLM: speed and exemplar-search agreement.

`python -m evals.index_embeddings [--cap N] [--generated STORE.sqlite3] [--json]`

Real emails: whole authors of ../shared/data/email_voice (R-package-devel) up to `--cap` posts. For each
variant (reference / int8 arithmetic, 256 / 128 tokens): CPU ms per email, the cosine of its vectors to
the reference's at 256 tokens (the index before issue 22), and the overlap of the top 5 for 200 queries
(the first 30 words of a sampled email, that email excluded) among the author's other emails (what
`retrieve_exemplars` does) and among all. A ground truth on the real posts: how often same-thread posts
(normalised subject) come back. `--generated` adds the agreement on a benchmark store's emails.
Figures are in docs/voice.md ("The index's embedding model").
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from evals.voice_fidelity import DATA

VARIANTS = {"reference_256": ("ref", 256), "reference_128": ("ref", 128), "int8_256": ("int8", 256),
            "int8_128": ("int8", 128)}
K = 5


def _real(cap: int, rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    rows = [json.loads(line) for line in DATA.open(encoding="utf-8")]
    rows = [r for r in rows if (r.get("body_own_text") or "").strip()]
    by: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by.setdefault(r["author_key"], []).append(i)
    order = sorted(by)
    rng.shuffle(order)
    keep: list[int] = []
    for author in order:
        if len(keep) >= cap:
            break
        keep += by[author]
    sub = [rows[i] for i in keep]
    return [r["body_own_text"] for r in sub], [r["author_key"] for r in sub], [r.get("subject") or "" for r in sub]


def _generated(path: Path, cap: int, rng: random.Random) -> tuple[list[str], list[str]]:
    with sqlite3.connect(path) as con:
        got = con.execute("SELECT from_email, body FROM emails ORDER BY message_id").fetchall()
    by: dict[str, list[str]] = {}
    for author, body in got:
        by.setdefault(author, []).append(body or "")
    order = sorted(by)
    rng.shuffle(order)
    texts: list[str] = []
    authors: list[str] = []
    for author in order:
        if len(texts) >= cap:
            break
        texts += by[author]
        authors += [author] * len(by[author])
    return texts, authors


def _function(kind: str, max_length: int) -> Any:
    from vectorstore.embeddings import MODEL_ID, MODEL_ID_DYNAMIC, MiniLMEmbeddingFunction

    return MiniLMEmbeddingFunction(model_id=MODEL_ID_DYNAMIC if kind == "int8" else MODEL_ID, max_length=max_length)


def _top(vectors: np.ndarray, q: np.ndarray, mask: np.ndarray) -> set[int]:
    return set(mask[np.argsort(-(vectors[mask] @ q))[:K]].tolist())


def _lengths(texts: list[str]) -> dict[str, float]:
    from tokenizers import Tokenizer

    from vectorstore.embeddings import TOKENIZER_PATH

    tok = Tokenizer.from_str(TOKENIZER_PATH.read_text(encoding="utf-8"))
    tok.no_padding()
    tok.no_truncation()
    n = np.asarray([len(e.ids) for e in tok.encode_batch(texts)])
    return {"median": float(np.median(n)), "p75": float(np.percentile(n, 75)), "p90": float(np.percentile(n, 90)),
            "max": int(n.max()), "over_128": float(np.mean(n > 128)), "over_256": float(np.mean(n > 256))}


def compare(texts: list[str], authors: list[str], rng: random.Random,
            subjects: list[str] | None = None) -> dict[str, Any]:
    """Every variant against the reference at 256 tokens on one set of emails."""
    author_arr = np.asarray(authors)
    qi = rng.sample(range(len(texts)), min(200, len(texts)))
    queries = [" ".join(texts[i].split()[:30]) for i in qi]
    vecs: dict[str, np.ndarray] = {}
    qvecs: dict[str, np.ndarray] = {}
    out: dict[str, Any] = {"emails": len(texts), "authors": len(set(authors)), "tokens": _lengths(texts)}
    for name, (kind, length) in VARIANTS.items():
        fn = _function(kind, length)
        fn.embed_array(["warm-up"])
        t0 = time.process_time()
        vecs[name] = fn.embed_array(texts)
        out[name] = {"cpu_ms_per_email": 1000 * (time.process_time() - t0) / len(texts)}
        qvecs[name] = fn.embed_array(queries)
    ref, ref_q = vecs["reference_256"], qvecs["reference_256"]
    everyone = np.arange(len(texts))
    for name in VARIANTS:
        cos = np.sum(vecs[name] * ref, axis=1)
        by_author, by_all = [], []
        for j, i in enumerate(qi):
            for mask, acc in ((everyone[author_arr == author_arr[i]], by_author), (everyone, by_all)):
                mask = mask[mask != i]
                if len(mask) >= K:
                    a, b = _top(ref, ref_q[j], mask), _top(vecs[name], qvecs[name][j], mask)
                    acc.append(len(a & b) / K)
        out[name].update({"cosine_mean": float(cos.mean()), "cosine_min": float(cos.min()),
                          "top5_overlap_author": float(np.mean(by_author)), "top5_overlap_all": float(np.mean(by_all))})
    if subjects is not None:
        out["same_thread"] = _threads(vecs, subjects, authors, texts, rng)
    return out


def _threads(vecs: dict[str, np.ndarray], subjects: list[str], authors: list[str], texts: list[str],
             rng: random.Random) -> dict[str, Any]:
    def norm(s: str) -> str:
        return re.sub(r"^((re|fwd?|aw)\s*:\s*|\[[^\]]*\]\s*)+", "", s.strip().lower()).strip()

    subj = np.asarray([norm(s) for s in subjects])
    auth = np.asarray(authors)
    qs = [i for i in range(len(texts)) if subj[i] and (subj == subj[i]).sum() > 1]
    rng.shuffle(qs)
    qs = qs[:300]
    queries = [" ".join(texts[i].split()[:30]) for i in qs]
    out: dict[str, Any] = {"queries": len(qs)}
    for name, (kind, length) in VARIANTS.items():
        vectors, q = vecs[name], _function(kind, length).embed_array(queries)
        share, found = [], []
        for j, i in enumerate(qs):
            scores = vectors @ q[j]
            scores[i] = -9.0
            share.append(float(np.mean(subj[np.argsort(-scores)[:K]] == subj[i])))
            mask = np.flatnonzero(auth == auth[i])
            mask = mask[mask != i]
            if (subj[mask] == subj[i]).any():
                found.append(float((subj[list(_top(vectors, q[j], mask))] == subj[i]).any()))
        out[name] = {"same_thread_share_top5": float(np.mean(share)), "same_thread_in_author_top5": float(np.mean(found)),
                     "author_queries": len(found)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=int, default=800, help="real posts (whole authors) to embed")
    ap.add_argument("--generated", type=Path, help="a benchmark store (results/bench-work/work-S/store.sqlite3)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    texts, authors, subjects = _real(args.cap, random.Random(7))
    report: dict[str, Any] = {"real": compare(texts, authors, random.Random(7), subjects)}
    if args.generated:
        gtexts, gauthors = _generated(args.generated, 1000, random.Random(7))
        report["generated"] = compare(gtexts, gauthors, random.Random(7))
    print(json.dumps(report, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
