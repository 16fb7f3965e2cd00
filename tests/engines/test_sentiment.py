"""The offline note sentiment classifier (warmintro/engines/sentiment.py) and its evaluation.

One embedder with a cache is shared by the module's tests, so the labelled notes are embedded once for the
shipped-model fit and the cross-validation alike.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evals.sentiment_eval import CachingEmbedder, evaluate, keyword_sentiment
from warmintro.engines.sentiment import (
    EMPTY_METHOD,
    LABELS,
    METHOD,
    SentimentClassifier,
    SentimentPrediction,
    classify_one,
    default_classifier,
    load_examples,
    plain_reading,
    split_clauses,
)

ROOT = Path(__file__).resolve().parents[2]

# Measured with `python -m evals.sentiment_eval` (see docs/sentiment.md): accuracy 0.645, hard 0.589,
# keyword baseline 0.487 / 0.408. The floors leave ~0.05 for numeric drift across machines.
ACCURACY_FLOOR = 0.60
HARD_ACCURACY_FLOOR = 0.57


@pytest.fixture(scope="module")
def embedder() -> CachingEmbedder:
    return CachingEmbedder()


@pytest.fixture(scope="module")
def classifier(embedder: CachingEmbedder) -> SentimentClassifier:
    clf = SentimentClassifier(embedder=embedder)
    clf.fit()
    return clf


@pytest.fixture(scope="module")
def report(embedder: CachingEmbedder) -> dict[str, Any]:
    return evaluate(ablations=False, embedder=embedder, time_fit=False)


def test_clear_cases(classifier: SentimentClassifier) -> None:
    happy, unhappy, mixed = classifier.classify([
        "Couldn't be happier, the rollout saved us 10 hours a week",
        "not great, onboarding dragged and nobody followed up",
        "great people but exports keep failing",
    ])
    assert happy.label == "positive" and happy.method == METHOD
    assert unhappy.label == "negative"
    assert mixed.label != "positive"
    assert 0.0 < happy.confidence <= 1.0


def test_more_clear_cases(classifier: SentimentClassifier) -> None:
    preds = classifier.classify([
        "Exec sponsor loved the QBR and offered to introduce us to two peers.",
        "The outage cost us a full day of orders and the customer is furious.",
    ])
    assert [p.label for p in preds] == ["positive", "negative"]


@pytest.mark.parametrize("note, plain", [
    ("One year of zero missed SLAs on the priority queue.", "One year of a flawless record on the priority queue."),
    ("Zero P1 incidents in 6 months.", "a flawless record in 6 months."),
    ("Not a single failed sync since the upgrade.", "a flawless record since the upgrade."),
    ("Couldn't be happier with the routing rules", "are delighted with the routing rules"),
    ("it cut invoice disputes resolution time in half, finally", "it made a big improvement, finally"),
    ("Reduced churn by 30% this quarter.", "made a big improvement this quarter."),
    ("30% more volume without adding headcount", "30% more volume at no extra cost"),
    # left as written: the absence of something good, a bad word naming something else, a cut that hurts
    ("Zero adoption in marketing.", None),
    ("Routine QBR. No major issues raised.", None),
    ("No escalation path exists, they are furious.", None),
    ("They cut the budget for next year.", None),
    ("No fix yet for the failed syncs.", None),
])
def test_idioms_the_embedding_reads_backwards_are_said_plainly(note: str, plain: str | None) -> None:
    assert plain_reading(note) == (plain if plain is not None else note)


def test_happy_notes_written_as_litotes_read_as_positive_and_a_mixed_one_stays_mixed(
        classifier: SentimentClassifier) -> None:
    zero, happier, mixed, flat = classifier.classify([
        "One year of zero missed SLAs on the priority queue.",
        'Couldn\'t be happier with the routing rules, they said; "it cut invoice disputes resolution time in half".',
        "Zero missed SLAs, but the exports keep failing.",
        "Zero adoption in marketing.",
    ])
    assert zero.label == "positive" and happier.label == "positive"
    assert mixed.label != "positive" and flat.label == "negative"


def test_empty_text_is_neutral_with_zero_confidence(classifier: SentimentClassifier) -> None:
    preds = classifier.classify(["", "   \n\t", "Renewal signed early with two new business units."])
    assert preds[0] == SentimentPrediction("neutral", 0.0, EMPTY_METHOD)
    assert preds[1] == SentimentPrediction("neutral", 0.0, EMPTY_METHOD)
    assert preds[2].method == METHOD
    assert classifier.classify([]) == []
    assert np.allclose(classifier.predict_proba([""]), 1 / 3)


def test_probabilities_and_confidence(classifier: SentimentClassifier) -> None:
    texts = ["Great quarter, sponsor delighted.", "Exports failed again.", "QBR moved to Thursday."]
    probs = classifier.predict_proba(texts)
    assert probs.shape == (3, 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    for p, pred in zip(probs, classifier.classify(texts), strict=True):
        assert pred.label == LABELS[int(np.argmax(p))]
        assert pred.confidence == pytest.approx(float(p.max()), abs=1e-4)


def test_deterministic(embedder: CachingEmbedder, classifier: SentimentClassifier) -> None:
    texts = ["Solid quarter. No open issues.", "meh", "Tickets up 40% since the release."]
    first = classifier.classify(texts)
    assert classifier.classify(texts) == first
    assert [classifier.classify_one(t) for t in texts] == first
    refit = SentimentClassifier(embedder=embedder)  # same data, same seed: same model
    assert refit.classify(texts) == first


def test_custom_examples_and_validation(embedder: CachingEmbedder) -> None:
    examples = [(n.text, n.label) for n in load_examples()[::4]]
    clf = SentimentClassifier(embedder=embedder, examples=examples, k=3)
    assert clf.classify_one("Thrilled with the launch, the team loves it.").label == "positive"
    with pytest.raises(ValueError, match="unknown label"):
        SentimentClassifier(embedder=embedder, examples=[("fine", "happy")]).fit()
    with pytest.raises(ValueError, match="at least"):
        SentimentClassifier(embedder=embedder, examples=[("good", "positive"), ("bad", "negative")]).fit()
    with pytest.raises(ValueError):
        SentimentClassifier(k=1)


def test_cross_validated_accuracy_floor_and_baseline(report: dict[str, Any]) -> None:
    assert report["n"] >= 240
    assert report["accuracy"] >= ACCURACY_FLOOR
    assert report["hard_accuracy"] >= HARD_ACCURACY_FLOOR
    assert report["hard_accuracy"] > report["baseline_hard_accuracy"] + 0.1
    assert report["accuracy"] > report["baseline_accuracy"] + 0.1
    assert set(report["per_class"]) == set(LABELS)
    assert sum(sum(row.values()) for row in report["confusion"].values()) == report["n"]
    assert report["calibration"]["ece"] < 0.1


def test_labelled_set_shape() -> None:
    notes = load_examples()
    assert len(notes) >= 240
    counts = {c: sum(n.label == c for n in notes) for c in LABELS}
    assert min(counts.values()) >= 0.28 * len(notes)
    assert {n.kind for n in notes} == {"qbr", "nps", "support", "other"}
    assert sum(n.hard for n in notes) >= 0.3 * len(notes)
    assert len({n.text for n in notes}) == len(notes)


def test_clauses_and_baseline() -> None:
    assert split_clauses("great people but exports keep failing") == ["great people", "exports keep failing"]
    assert split_clauses("CSAT went from 3.4 to 4.6") == ["CSAT went from 3.4 to 4.6"]
    assert keyword_sentiment("great support") == "positive"
    assert keyword_sentiment("not great") == "positive"  # why the baseline loses on negation


def test_default_classifier_is_cached_and_import_is_lazy() -> None:
    assert default_classifier() is default_classifier()
    assert callable(classify_one)
    code = (
        "import sys, warmintro.engines.sentiment as s; "
        "print(any(m in sys.modules for m in ('vectorstore.embeddings', 'onnxruntime', 'scipy.optimize')), "
        "s.default_classifier.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0"]


def test_predictions_are_remembered_so_a_repeated_scan_embeds_nothing_new(classifier: SentimentClassifier,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    notes = ["The rollout went smoothly and the team loves the new routing.", "Exports keep failing every week."]
    first = classifier.classify(notes)
    calls: list[list[str]] = []
    real = classifier._embed
    monkeypatch.setattr(classifier, "_embed", lambda texts: calls.append(list(texts)) or real(texts))
    again = classifier.classify([notes[1], "", notes[0]])
    assert calls == []  # nothing re-embedded
    assert [p.label for p in again] == [first[1].label, "neutral", first[0].label]
    assert again[1].method == "empty"
    classifier.classify(["A note it has never seen, about invoices."])
    assert len(calls) == 1


def test_shipped_model_is_current_and_predicts_like_a_fresh_fit(classifier: SentimentClassifier) -> None:
    from vectorstore.embeddings import MODEL_ID
    from warmintro.engines.sentiment import MODEL_PATH

    shipped = SentimentClassifier(embedder=classifier.embedder)
    # Fails when the labelled notes, the pairs or an option change without `python -m warmintro.engines.sentiment`.
    assert shipped.load(MODEL_PATH, MODEL_ID), "stale shipped model: run python -m warmintro.engines.sentiment"
    texts = [n.text for n in load_examples()[:60]] + ["Great quarter, but exports keep failing.", "Love it."]
    fresh = classifier.predict_proba(texts)
    loaded = shipped.predict_proba(texts)
    assert np.allclose(fresh, loaded, atol=0.02)
    assert [p.label for p in shipped.classify(texts)] == [p.label for p in classifier.classify(texts)]


def test_saved_model_round_trips_and_a_stale_one_is_refused(classifier: SentimentClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    classifier.save(path, "embedder-a")
    again = SentimentClassifier(embedder=classifier.embedder)
    assert again.load(path, "embedder-a")
    texts = ["The rollout went smoothly.", "Exports keep failing."]
    assert np.array_equal(again.predict_proba(texts), classifier.predict_proba(texts))
    assert not SentimentClassifier(embedder=classifier.embedder).load(path, "embedder-b")  # other embedding model
    other = SentimentClassifier(embedder=classifier.embedder, k=4)  # other options
    assert not other.load(path, "embedder-a") and other._fitted is None
    assert not again.load(tmp_path / "missing.npz", "embedder-a")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert not again.load(tmp_path / "junk.npz", "embedder-a")


def test_default_classifier_loads_the_shipped_model_without_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    code = (
        "import warmintro.engines.sentiment as s\n"
        "s.SentimentClassifier._fit = lambda self: (_ for _ in ()).throw(AssertionError('refitted'))\n"
        "print(s.default_classifier()._fitted is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True"]
