"""Note sentiment predictions kept in the store (engines.note_sentiment): the scan decides exactly as it does
with the classifier alone, a new classifier fingerprint ignores old rows, an edited note is classified again,
and concurrent writers of the same predictions both succeed (both databases)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, update

from vectorstore.model_id import MODEL_ID
from warmintro.engines import sentiment as sentiment_module
from warmintro.engines.note_sentiment import classify_notes, save_predictions, stored_predictions, text_key
from warmintro.engines.scan import scan
from warmintro.engines.sentiment import LABELS, MODEL_PATH, SentimentClassifier, SentimentPrediction
from warmintro.importer.run import import_folder
from warmintro.store import models as m
from warmintro.testing.workspace import T, Workspace

pytestmark = pytest.mark.store

AS_OF = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


class KeywordClassifier(SentimentClassifier):
    """The real classifier's memory and `classify`, with a keyword model behind it (no embeddings) that counts
    the texts it is asked to read; `flip` reads every note the other way (another model)."""

    def __init__(self, *, flip: bool = False, barrier: threading.Barrier | None = None) -> None:
        super().__init__()
        self.flip = flip
        self.barrier = barrier
        self.read: list[str] = []

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if self.barrier is not None:
            self.barrier.wait(timeout=30)  # every writer has classified before any of them stores
        self.read.extend(texts)
        out = np.zeros((len(texts), len(LABELS)))
        for i, t in enumerate(texts):
            bad = any(w in t.lower() for w in ("bad", "fail", "slow"))
            out[i, LABELS.index("negative" if bad != self.flip else "positive")] = 0.9
            out[i, LABELS.index("neutral")] = 0.1
        return out


def _rows(store: Any, fingerprint: str | None = None) -> int:
    with store.session() as s:
        q = select(func.count()).select_from(m.NoteSentiment)
        if fingerprint is not None:
            q = q.where(m.NoteSentiment.fingerprint == fingerprint)
        return int(s.scalar(q) or 0)


def _use(monkeypatch: pytest.MonkeyPatch, classifier: SentimentClassifier, fingerprint: str) -> None:
    """Make `classifier` the process's default (what the scan uses when it is given no sentiment function)."""
    monkeypatch.setattr(sentiment_module, "default_classifier", lambda: classifier)
    monkeypatch.setattr(sentiment_module, "default_fingerprint", lambda: fingerprint)


def _shipped() -> SentimentClassifier:
    """A new instance of the shipped classifier: its own (empty) memory, as in a fresh process."""
    c = SentimentClassifier()
    assert c.load(MODEL_PATH, MODEL_ID)
    return c


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from warmintro.demo.generator import generate_workspace

    out = tmp_path_factory.mktemp("note-sentiment") / "contract"
    generate_workspace(out, accounts=30, seed=5, as_of=AS_OF, people=300, ties=900, emails=60)
    return out


def test_scan_decides_the_same_with_and_without_stored_predictions(store, folder, monkeypatch):
    """The shipped classifier: its labels alone (no store) against a cold scan that classifies and stores, then
    a fresh process's scan that finds every prediction stored and never calls the model."""
    import_folder(store, folder)
    alone = _shipped()
    with store.session() as s:
        reference = scan(s, AS_OF, sentiment=lambda texts: [p.label for p in alone.classify(texts)]).to_json()
    inferred = [a for a in reference["asks"] if "read as positive" in " ".join(a["reasons"])]
    assert reference["asks"] and reference["skipped"] and inferred  # the classifier's labels decide something here

    cold = _shipped()
    _use(monkeypatch, cold, "shipped")
    with store.session() as s:
        assert scan(s, AS_OF).to_json() == reference
    assert _rows(store, "shipped") == len({t.strip() for t in cold._memo}) > 0

    warm = _shipped()
    calls: list[list[str]] = []
    real = warm.predict_proba
    monkeypatch.setattr(warm, "predict_proba", lambda texts: calls.append(texts) or real(texts))
    _use(monkeypatch, warm, "shipped")
    with store.session() as s:
        assert scan(s, AS_OF).to_json() == reference
        assert calls == []  # every note was read from the store
        # the stored labels are the classifier's own, note by note
        notes = [n for n in s.scalars(select(m.Signal.notes).where(m.Signal.notes.is_not(None))) if n.strip()]
        stored = stored_predictions(s, "shipped", [text_key(n) for n in notes])
    assert stored
    by_key = {text_key(n): n for n in notes}
    for key, p in stored.items():
        assert alone.classify_one(by_key[key]) == p


def test_a_new_fingerprint_ignores_old_rows(store):
    notes = ["Great quarter, routing errors down", "Exports keep failing", "  Great quarter, routing errors down \n"]
    first = KeywordClassifier()
    with store.session() as s:
        before = classify_notes(s, notes, classifier=first, fingerprint="v1")
    assert [p.label for p in before] == ["positive", "negative", "positive"]
    assert first.read == notes
    assert _rows(store, "v1") == 2  # the stripped text is the key: the padded note is the same note

    again = KeywordClassifier()
    with store.session() as s:
        assert classify_notes(s, notes, classifier=again, fingerprint="v1") == before
    assert again.read == []

    other = KeywordClassifier(flip=True)  # another model: the old rows must not answer for it
    with store.session() as s:
        after = classify_notes(s, notes, classifier=other, fingerprint="v2")
    assert [p.label for p in after] == ["negative", "positive", "negative"]
    assert other.read == notes
    assert _rows(store, "v1") == 2 and _rows(store, "v2") == 2


def test_empty_notes_are_neither_classified_nor_stored(store):
    c = KeywordClassifier()
    with store.session() as s:
        out = classify_notes(s, ["", "   ", "fine"], classifier=c, fingerprint="v1")
    assert [p.method for p in out[:2]] == ["empty", "empty"] and c.read == ["fine"]
    assert _rows(store) == 1
    with pytest.raises(ValueError), store.session() as s:
        classify_notes(s, ["fine"], classifier=c)


def _one_qbr(notes: str) -> Workspace:
    ws = Workspace().account("A")
    ws.contact("champ@a.example", "A", title="Operations Analyst")
    ws.daily_usage("A", "champ@a.example")
    ws.signal("Q1", "A", "qbr", T - 5 * H, contact_email="champ@a.example", notes=notes)
    return ws


def test_an_edited_note_is_classified_again(store, tmp_path, monkeypatch):
    _one_qbr("Great quarter, routing errors down 40%").load(store, tmp_path / "ws")
    first = KeywordClassifier()
    _use(monkeypatch, first, "v1")
    with store.session() as s:
        assert [a.contact_email for a in scan(s, T).asks] == ["champ@a.example"]
    assert first.read == ["Great quarter, routing errors down 40%"]

    with store.session() as s:
        s.execute(update(m.Signal).where(m.Signal.signal_id == "Q1").values(notes="Exports keep failing, bad quarter"))
    fresh = KeywordClassifier()  # a new process: nothing in memory
    _use(monkeypatch, fresh, "v1")
    with store.session() as s:
        result = scan(s, T)
    assert result.asks == [] and result.skipped == []  # a QBR read as negative opens no window
    assert fresh.read == ["Exports keep failing, bad quarter"]  # the stored reading of the old text is not used
    assert _rows(store, "v1") == 2


def test_concurrent_writers_of_the_same_predictions_both_succeed(store):
    """Overlapping keys written by several transactions at once, in different orders (PostgreSQL: no unique
    violation, no deadlock)."""
    p = SentimentPrediction("positive", 0.9, "test")
    keys = [text_key(f"note {i}") for i in range(300)]
    sets = [keys, keys[::-1], keys[100:], keys[:200][::-1]]
    barrier = threading.Barrier(len(sets))
    errors: list[BaseException] = []

    def write(chosen: list[str]) -> None:
        try:
            with store.session() as s:
                barrier.wait(timeout=30)
                save_predictions(s, "v1", {k: p for k in chosen})
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(chosen,)) for chosen in sets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert _rows(store, "v1") == len(keys)
    with store.session() as s:  # and once more, sequentially: still nothing raised, nothing duplicated
        save_predictions(s, "v1", {k: p for k in keys})
    assert _rows(store, "v1") == len(keys)


def test_concurrent_scans_classifying_the_same_notes_store_them_once(store, tmp_path, caplog):
    notes = [f"Routing errors down {i}%, great quarter" for i in range(40)] + ["Exports keep failing"]
    barrier = threading.Barrier(3)
    classifiers = [KeywordClassifier(barrier=barrier) for _ in range(3)]
    results: list[list[SentimentPrediction]] = []
    errors: list[BaseException] = []

    def run(c: KeywordClassifier) -> None:
        try:
            with store.session() as s:
                results.append(classify_notes(s, notes, classifier=c, fingerprint="v1"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    with caplog.at_level(logging.WARNING, logger="warmintro.engines.note_sentiment"):
        threads = [threading.Thread(target=run, args=(c,)) for c in classifiers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == [] and len(results) == 3
    assert all(c.read == notes for c in classifiers)  # each one missed the store and wrote
    assert not [r for r in caplog.records if "could not store" in r.getMessage()]
    assert results[0] == results[1] == results[2]
    assert _rows(store, "v1") == len(notes)
