"""Note sentiment predictions kept in the store (table `note_sentiments`, migration 0011).

The scan reads the sentiment of every unlabelled trigger note in its lookback (engines.scan). Classifying a
note (MiniLM embeddings + the shipped classifier, engines.sentiment) costs tens of milliseconds on a busy
machine, and the classifier's memory lasts one process, so every fresh process (the CLI, a restarted bot)
used to classify them all again. Here a prediction is kept per classifier fingerprint and hash of the note's
stripped text (what the classifier reads): looked up in bulk, and what had to be classified written back in
one insert-or-ignore, so concurrent scans writing the same notes both succeed. A new model (another
fingerprint) finds none of the old rows; an edited note hashes to a new key and is classified again.

Lookup order: the classifier's in-process memory, then the store, then the model. A note found in the store
is remembered in the process, so a later scan in the same process does not read it again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from warmintro.engines.sentiment import SentimentClassifier, SentimentPrediction
from warmintro.store import models as m

log = logging.getLogger(__name__)

LOOKUP_CHUNK = 2000  # hashes per IN (...) read


def text_key(text: str) -> str:
    """The store key of a note: sha256 of its stripped text (the classifier reads the text stripped, so this is
    exactly what its prediction depends on)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def stored_predictions(session: Session, fingerprint: str, keys: Iterable[str]) -> dict[str, SentimentPrediction]:
    """The predictions stored under this fingerprint for these text keys."""
    wanted = sorted(set(keys))
    out: dict[str, SentimentPrediction] = {}
    t = m.NoteSentiment
    for i in range(0, len(wanted), LOOKUP_CHUNK):
        for key, label, confidence, method in session.execute(
            select(t.text_hash, t.label, t.confidence, t.method)
            .where(t.fingerprint == fingerprint, t.text_hash.in_(wanted[i : i + LOOKUP_CHUNK]))
        ):
            out[key] = SentimentPrediction(label, confidence, method)
    return out


def save_predictions(session: Session, fingerprint: str, predictions: dict[str, SentimentPrediction]) -> int:
    """Store predictions (text key -> prediction) under this fingerprint, in the caller's transaction; a key
    already stored is left as it is (insert-or-ignore), so concurrent writers of the same notes both succeed.
    Keys are written in sorted order: two PostgreSQL transactions inserting overlapping keys then wait for
    each other in the same order and cannot deadlock."""
    from warmintro.store.upsert import upsert  # imports polars: only a scan that classified pays for it

    now = datetime.now(UTC)
    rows = [{"fingerprint": fingerprint, "text_hash": key, "label": p.label, "confidence": float(p.confidence),
             "method": p.method, "created_at": now} for key, p in sorted(predictions.items())]
    table = m.Base.metadata.tables[m.NoteSentiment.__tablename__]
    return upsert(session, table, rows, ("fingerprint", "text_hash"), update=())


def _save_apart(session: Session, fingerprint: str, predictions: dict[str, SentimentPrediction]) -> None:
    """Write in a short transaction of its own: the scan's session is a reader (on SQLite a reader that
    starts writing holds the write lock until its caller commits). The rows are a cache: a failed write is
    logged and the scan goes on (the next one classifies those notes again)."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    try:
        with Session(engine) as writer, writer.begin():
            save_predictions(writer, fingerprint, predictions)
    except SQLAlchemyError as exc:
        log.warning("could not store note sentiments", extra={"fields": {"notes": len(predictions),
                                                                         "error": type(exc).__name__}})


def classify_notes(session: Session, texts: Sequence[str], *, classifier: SentimentClassifier | None = None,
                   fingerprint: str | None = None) -> list[SentimentPrediction]:
    """One prediction per text, in order, identical to `classifier.classify(texts)`: from the process's memory,
    else the store, else the model (and then stored). Defaults: the shipped classifier and its fingerprint;
    a caller passing its own classifier passes its fingerprint too."""
    if classifier is None:
        from warmintro.engines.sentiment import default_classifier, default_fingerprint

        classifier, fingerprint = default_classifier(), default_fingerprint()
    elif fingerprint is None:
        raise ValueError("a classifier's predictions are stored under its fingerprint: pass fingerprint=")
    distinct = list(dict.fromkeys(t for t in texts if t and t.strip()))
    known = classifier.known(distinct)
    missing = [t for t in distinct if t not in known]
    if missing:
        keys = {t: text_key(t) for t in missing}
        stored = stored_predictions(session, fingerprint, keys.values())
        found = {t: stored[k] for t, k in keys.items() if k in stored}
        classifier.remember(found)
        known.update(found)
        todo = [t for t in missing if t not in found]
        if todo:
            fresh = dict(zip(todo, classifier.classify(todo), strict=True))
            known.update(fresh)
            _save_apart(session, fingerprint, {keys[t]: p for t, p in fresh.items()})
    return [known[t] if t in known else classifier.classify([t])[0] for t in texts]
