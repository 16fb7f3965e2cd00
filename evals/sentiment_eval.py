"""Cross-validated evaluation of the note sentiment classifier (warmintro/engines/sentiment.py).

    python -m evals.sentiment_eval            # report
    python -m evals.sentiment_eval --json     # the figures as JSON

Stratified 5-fold cross-validation (fixed seed) over the labelled notes: every note is predicted by a
classifier that never saw it. Reported overall and on the "hard" subset (negation, mixed, sarcasm,
understatement, numbers, very short, typos), with per-class precision/recall, a confusion matrix,
calibration (expected calibration error), and the same for a keyword baseline (a plain positive/negative
word list). Ablations: a single softmax regression over the raw embedding, and the model without the
clause features or without the polarity pairs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from warmintro.engines.sentiment import (
    LABELS,
    NEUTRAL,
    LabelledNote,
    SentimentClassifier,
    fit_softmax,
    load_examples,
    stratified_folds,
)

N_FOLDS = 5
SEED = 20240611
REPRODUCE = "python -m evals.sentiment_eval"

# The baseline: a plain word list, +1 per positive word, -1 per negative word, sign decides.
_POSITIVE_WORDS = frozenset(
    ["good", "great", "excellent", "happy", "love", "loving", "loved", "awesome", "amazing", "fantastic", "best", "thrilled", "delighted", "pleased", "impressed", "smooth", "easy", "fast", "reliable", "recommend", "thanks", "thank", "win", "saved", "glowing", "superb", "outstanding", "solid", "grateful", "flawless", "exceptional", "phenomenal", "nice", "helpful", "perfect", "brilliant", "wonderful", "enjoy", "enjoying", "improved", "praise", "👍"]
)
_NEGATIVE_WORDS = frozenset(
    ["bad", "poor", "terrible", "awful", "worst", "hate", "slow", "broken", "breaks", "broke", "fail", "failed", "failing", "fails", "failure", "bug", "bugs", "buggy", "crash", "crashes", "crashed", "outage", "outages", "frustrated", "frustrating", "disappointed", "disappointing", "unhappy", "angry", "furious", "late", "missed", "unacceptable", "expensive", "confusing", "clunky", "issue", "issues", "problem", "problems", "complaint", "complaints", "complain", "risk", "churn", "churned", "cancel", "cancelling", "escalated", "escalation", "mess", "painful", "useless", "regret", "chaos", "disaster", "👎"]
)
_WORD = re.compile(r"[a-z']+|👍|👎")


def keyword_sentiment(text: str) -> str:
    words = _WORD.findall(text.lower())
    score = sum(w in _POSITIVE_WORDS for w in words) - sum(w in _NEGATIVE_WORDS for w in words)
    return LABELS[2] if score > 0 else LABELS[0] if score < 0 else LABELS[1]


class CachingEmbedder:
    """Embeds each distinct text once, so the cross-validation rounds share the vectors."""

    def __init__(self, inner: Any | None = None) -> None:
        if inner is None:
            from vectorstore.embeddings import MiniLMEmbeddingFunction

            inner = MiniLMEmbeddingFunction()
        self.inner = inner
        self._cache: dict[str, np.ndarray] = {}

    def embed_array(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, np.asarray(self.inner.embed_array(missing)), strict=True))
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


def _metrics(gold: Sequence[str], pred: Sequence[str], hard: Sequence[bool]) -> dict[str, Any]:
    g, p, h = np.asarray(gold), np.asarray(pred), np.asarray(hard, dtype=bool)
    confusion = {a: {b: int(np.sum((g == a) & (p == b))) for b in LABELS} for a in LABELS}
    per_class = {}
    for c in LABELS:
        tp = int(np.sum((g == c) & (p == c)))
        predicted, actual = int(np.sum(p == c)), int(np.sum(g == c))
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "n": actual}
    return {
        "accuracy": round(float(np.mean(g == p)), 3),
        "hard_accuracy": round(float(np.mean((g == p)[h])), 3) if h.any() else None,
        "easy_accuracy": round(float(np.mean((g == p)[~h])), 3) if (~h).any() else None,
        "macro_f1": round(float(np.mean([v["f1"] for v in per_class.values()])), 3),
        "per_class": per_class,
        "confusion": confusion,  # confusion[gold][predicted]
    }


def _calibration(gold_idx: np.ndarray, probs: np.ndarray, bins: int = 10) -> dict[str, float]:
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == gold_idx
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    nll = -np.mean(np.log(np.clip(probs[np.arange(len(gold_idx)), gold_idx], 1e-12, 1.0)))
    return {"ece": round(float(ece), 3), "log_loss": round(float(nll), 3), "mean_confidence": round(float(conf.mean()), 3)}


def _positive_gate(gold: Sequence[str], probs: np.ndarray, threshold: float) -> dict[str, Any]:
    """The product's decision: open an ask window only when P(positive) >= threshold."""
    g = np.asarray(gold)
    fire = probs[:, 2] >= threshold
    tp = int(np.sum(fire & (g == LABELS[2])))
    return {
        "threshold": threshold,
        "fired": int(fire.sum()),
        "precision": round(tp / int(fire.sum()), 3) if fire.any() else None,
        "recall": round(tp / int(np.sum(g == LABELS[2])), 3),
    }


def cross_validate(
    notes: list[LabelledNote], make: Callable[[list[tuple[str, str]]], Callable[[list[str]], np.ndarray]],
    n_folds: int = N_FOLDS, seed: int = SEED,
) -> np.ndarray:
    """Out-of-fold probabilities (len(notes), 3). `make(train_pairs)` returns a predict_proba function."""
    y = [LABELS.index(n.label) for n in notes]
    folds = stratified_folds(y, n_folds, seed)
    probs = np.zeros((len(notes), len(LABELS)))
    for f in range(n_folds):
        train = [(n.text, n.label) for n, fold in zip(notes, folds, strict=True) if fold != f]
        held = np.flatnonzero(folds == f)
        predict = make(train)
        probs[held] = predict([notes[i].text for i in held])
    return probs


def _classifier_factory(embedder: CachingEmbedder, **options: Any) -> Callable[..., Callable[[list[str]], np.ndarray]]:
    def make(train: list[tuple[str, str]]) -> Callable[[list[str]], np.ndarray]:
        clf = SentimentClassifier(embedder=embedder, examples=train, **options)
        return clf.predict_proba

    return make


def _embedding_only_factory(embedder: CachingEmbedder) -> Callable[..., Callable[[list[str]], np.ndarray]]:
    """Ablation: one 3-class softmax regression over the raw note embedding."""

    def make(train: list[tuple[str, str]]) -> Callable[[list[str]], np.ndarray]:
        x = np.asarray(embedder.embed_array([t for t, _ in train]), dtype=np.float64)
        model = fit_softmax(x, np.asarray([LABELS.index(lbl) for _, lbl in train]), len(LABELS), 3.0)
        return lambda texts: model.proba(np.asarray(embedder.embed_array(texts), dtype=np.float64))

    return make


def evaluate(
    ablations: bool = True,
    notes: list[LabelledNote] | None = None,
    embedder: CachingEmbedder | None = None,
    time_fit: bool = True,
) -> dict[str, Any]:
    """Cross-validated figures for the classifier and the keyword baseline (see the module docstring).

    `embedder` lets a caller share cached vectors (the tests do); `time_fit` also fits the shipped model
    from scratch, with a fresh embedder, to report the fit time (`fit_seconds`, None when skipped).
    """
    notes = notes if notes is not None else load_examples()
    gold = [n.label for n in notes]
    gold_idx = np.asarray([LABELS.index(g) for g in gold])
    hard = [n.hard for n in notes]
    embedder = embedder if embedder is not None else CachingEmbedder()

    started = time.perf_counter()
    probs = cross_validate(notes, _classifier_factory(embedder))
    cv_seconds = time.perf_counter() - started
    model = _metrics(gold, [LABELS[i] for i in probs.argmax(axis=1)], hard)
    baseline = _metrics(gold, [keyword_sentiment(n.text) for n in notes], hard)

    # Fit time of the shipped model from scratch: loading the ONNX model, embedding the notes, their
    # clauses and the polarity pairs, and the 13 regressions. CPU time counts every onnxruntime thread.
    fit_seconds: float | None = None
    fit_cpu_seconds: float | None = None
    if time_fit:
        fresh = SentimentClassifier()
        started, cpu_started = time.perf_counter(), time.process_time()
        fresh.fit()
        fit_seconds = round(time.perf_counter() - started, 2)
        fit_cpu_seconds = round(time.process_time() - cpu_started, 2)

    result: dict[str, Any] = {
        "n": len(notes),
        "n_hard": int(sum(hard)),
        "labels": {c: gold.count(c) for c in LABELS},
        "folds": N_FOLDS,
        "seed": SEED,
        "accuracy": model["accuracy"],
        "hard_accuracy": model["hard_accuracy"],
        "easy_accuracy": model["easy_accuracy"],
        "macro_f1": model["macro_f1"],
        "per_class": model["per_class"],
        "confusion": model["confusion"],
        "calibration": _calibration(gold_idx, probs),
        "positive_gate": [_positive_gate(gold, probs, t) for t in (0.5, 0.6, 0.7)],
        "mixed_not_positive": round(
            float(np.mean(probs.argmax(axis=1)[(gold_idx == NEUTRAL) & np.asarray(hard)] != 2)), 3
        ),
        "baseline_accuracy": baseline["accuracy"],
        "baseline_hard_accuracy": baseline["hard_accuracy"],
        "baseline": baseline,
        "fit_seconds": fit_seconds,
        "fit_cpu_seconds": fit_cpu_seconds,
        "cv_seconds": round(cv_seconds, 2),
        "command": REPRODUCE,
    }
    if ablations:
        variants: dict[str, Callable[..., Callable[[list[str]], np.ndarray]]] = {
            "embedding_logreg_only": _embedding_only_factory(embedder),
            "without_clause_features": _classifier_factory(embedder, clause_features=False),
            "without_polarity_pairs": _classifier_factory(embedder, polarity_pairs=False),
        }
        result["ablations"] = {}
        for name, make in variants.items():
            p = cross_validate(notes, make)
            m = _metrics(gold, [LABELS[i] for i in p.argmax(axis=1)], hard)
            result["ablations"][name] = {
                "accuracy": m["accuracy"], "hard_accuracy": m["hard_accuracy"], "macro_f1": m["macro_f1"]
            }
    return result


def _print_report(r: dict[str, Any]) -> None:
    print(f"Sentiment classifier, stratified {r['folds']}-fold CV (seed {r['seed']}), n={r['n']} "
          f"({r['n_hard']} hard), labels {r['labels']}")
    print(f"  model    accuracy {r['accuracy']:.3f}  hard {r['hard_accuracy']:.3f}  easy {r['easy_accuracy']:.3f}  "
          f"macro-F1 {r['macro_f1']:.3f}")
    b = r["baseline"]
    print(f"  keywords accuracy {b['accuracy']:.3f}  hard {b['hard_accuracy']:.3f}  easy {b['easy_accuracy']:.3f}  "
          f"macro-F1 {b['macro_f1']:.3f}")
    for name, m in r.get("ablations", {}).items():
        print(f"  {name:24s} accuracy {m['accuracy']:.3f}  hard {m['hard_accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}")
    print("\n  per class (model):            precision  recall    f1")
    for c, m in r["per_class"].items():
        kw = b["per_class"][c]
        print(f"    {c:9s} model {m['precision']:.3f}  {m['recall']:.3f}  {m['f1']:.3f}   "
              f"keywords {kw['precision']:.3f}  {kw['recall']:.3f}  {kw['f1']:.3f}")
    for title, cm in (("model", r["confusion"]), ("keywords", b["confusion"])):
        print(f"\n  confusion ({title}; rows gold, columns predicted)")
        print("    " + " " * 10 + "".join(f"{c:>10s}" for c in LABELS))
        for g in LABELS:
            print(f"    {g:10s}" + "".join(f"{cm[g][p]:10d}" for p in LABELS))
    cal = r["calibration"]
    print(f"\n  calibration: ECE {cal['ece']:.3f}, log loss {cal['log_loss']:.3f}, mean confidence "
          f"{cal['mean_confidence']:.3f}")
    print(f"  mixed/hard neutral notes not called positive: {r['mixed_not_positive']:.3f}")
    for gate in r["positive_gate"]:
        print(f"  ask-window gate P(positive) >= {gate['threshold']}: fires {gate['fired']}, precision "
              f"{gate['precision']}, recall {gate['recall']}")
    if r["fit_seconds"] is not None:
        print(f"\n  fit (shipped model, from scratch): {r['fit_seconds']:.2f} s wall, {r['fit_cpu_seconds']:.2f} s CPU; "
              f"cross-validation {r['cv_seconds']:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.sentiment_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-ablations", action="store_true", help="skip the ablation runs")
    args = parser.parse_args(argv)
    result = evaluate(ablations=not args.no_ablations)
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
