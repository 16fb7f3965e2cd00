"""Imported emails into the vector store, incrementally, and exemplar retrieval back out of it.

`index_emails` embeds the rows of the `emails` table whose `embedded` flag is false, in batches, and sets
the flag in the same transaction as each batch's upsert has succeeded; a second run embeds nothing. If
the vector store was emptied (a deleted chroma folder, a new server), every flag in scope is reset first,
so the index is rebuilt rather than silently missing emails. If the collection was embedded with another
model (an upgrade changed the index's model, or the settings did), every flag is reset and the collection
rebuilt for the current model, then filled incrementally like a first run; until then the stale
collection keeps answering with the model that made it (`vectorstore.client.EmailIndex`).

`retrieve_exemplars` asks the index for the champion's own emails most similar to the note being drafted
(author filter), falling back to their latest emails from the store when the index is not available.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from warmintro.store import models as m
from warmintro.voice.drafting import DraftFacts, Exemplar

if TYPE_CHECKING:
    from vectorstore.client import EmailIndex
    from warmintro.settings import Settings
    from warmintro.store.db import Store

__all__ = [
    "IndexResult",
    "email_collection_name",
    "exemplar_query",
    "index_emails",
    "open_email_index",
    "retrieve_exemplars",
    "store_exemplars",
]

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (embedded so far, to embed in this run)
BATCH = 256
#: From this many emails to embed, the model runs in a process of its own: starting it takes ~2 s.
PROCESS_MIN_EMAILS = 2_000


@dataclass(frozen=True)
class IndexResult:
    embedded: int  # emails embedded in this run
    already: int  # emails that were embedded before this run (skipped)
    total: int  # emails in scope
    reset: bool = False  # the vector store was empty, so every flag in scope was reset first

    def to_json(self) -> dict[str, Any]:
        return {"embedded": self.embedded, "already_embedded": self.already, "total": self.total,
                "reset": self.reset}


def open_email_index(settings: Settings) -> EmailIndex:
    """The email index the settings describe: a Chroma server when CHROMA_HOST is set, else the embedded
    store under WARMINTRO_HOME/chroma; with the offline MiniLM embeddings unless WARMINTRO_EMBEDDINGS chooses
    OpenAI's. Each embedding model has a collection of its own: switching models re-embeds into a fresh one
    (index_emails notices it is empty) instead of failing on, or mixing, vectors of another model."""
    from vectorstore.client import EmailIndex, open_chroma_client
    from vectorstore.embeddings import make_embedding_function

    ef = make_embedding_function(settings)
    return EmailIndex(open_chroma_client(settings), collection=email_collection_name(settings), embedding_function=ef)


def email_collection_name(settings: Settings) -> str:
    """The collection the settings' embedding model writes to (one per model)."""
    from vectorstore.client import EMAIL_COLLECTION

    if getattr(settings, "embeddings", "minilm") == "openai":
        return f"{EMAIL_COLLECTION}_openai_{re.sub(r'[^a-z0-9]+', '_', settings.embedding_model.lower())}"[:60]
    return EMAIL_COLLECTION


def _scope(stmt: Any, authors: Sequence[str] | None) -> Any:
    if authors is not None:
        stmt = stmt.where(m.EmailMessage.from_email.in_([a.strip().lower() for a in authors]))
    return stmt


def index_emails(store: Store, index: EmailIndex, *, authors: Sequence[str] | None = None,
                 batch_size: int = BATCH, progress: ProgressFn | None = None,
                 process_min: int = PROCESS_MIN_EMAILS) -> IndexResult:
    """Embed every stored email not embedded yet (only `authors`' when given); returns the counts. From
    `process_min` emails to embed, the offline model runs in a process of its own (`_embedder`)."""
    reset = False
    if index.stale:
        _reembed(store, index)
        reset = True
    with store.session() as s:
        total = s.scalar(_scope(select(func.count()).select_from(m.EmailMessage), authors)) or 0
        already = s.scalar(_scope(select(func.count()).select_from(m.EmailMessage)
                                  .where(m.EmailMessage.embedded.is_(True)), authors)) or 0
        if already and index.count() == 0:
            log.warning("the vector store is empty but %d emails are marked embedded: re-indexing them", already)
            s.execute(_scope(update(m.EmailMessage).where(m.EmailMessage.embedded.is_(True)), authors)
                      .values(embedded=False))
            already, reset = 0, True
    todo = total - already
    done = 0
    if progress is not None:
        progress(0, todo)
    # The next batch is embedded on a thread while this one is stored (Chroma's upsert and the flags): the
    # model's run lets go of the GIL, so the two share the cores instead of taking turns (issue 22).
    with _embedder(index, todo, process_min) as embed, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
        batch = _unembedded(store, authors, after=None, limit=batch_size)
        vectors = pool.submit(embed, [r["text"] for r in batch]) if batch else None
        while batch and vectors is not None:
            # Read past the batch in flight: it is flagged only once stored, so "not embedded" still has it.
            following = _unembedded(store, authors, after=batch[-1]["id"], limit=batch_size)
            ahead = pool.submit(embed, [r["text"] for r in following]) if following else None
            index.upsert(batch, embeddings=dict(zip([r["id"] for r in batch], vectors.result(), strict=True)))
            with store.session() as s:
                s.execute(update(m.EmailMessage).where(m.EmailMessage.message_id.in_([r["id"] for r in batch]))
                          .values(embedded=True))
            done += len(batch)
            if progress is not None:
                progress(done, todo)
            batch, vectors = following, ahead
    return IndexResult(done, already, total, reset)


@contextlib.contextmanager
def _embedder(index: EmailIndex, todo: int, process_min: int) -> Iterator[Callable[[list[str]], list[Any]]]:
    """What embeds a batch: for a long run of the offline model, that model in a child process
    (`vectorstore.embed_process`: Chroma's upsert holds the GIL, which idled the model here); else the
    index's own `embed` (an OpenAI endpoint waits on the network, not on the GIL)."""
    from vectorstore.embed_process import EmbeddingProcess
    from vectorstore.embeddings import MiniLMEmbeddingFunction

    model = index.model if todo >= process_min else None
    if not isinstance(model, MiniLMEmbeddingFunction):
        yield index.embed
        return
    with EmbeddingProcess(model) as child:
        yield lambda texts: list(child.embed(texts))


def _unembedded(store: Store, authors: Sequence[str] | None, *, after: str | None, limit: int) -> list[dict[str, Any]]:
    """The next `limit` emails not embedded yet, in message_id order after `after`, as index records."""
    stmt = _scope(select(m.EmailMessage).where(m.EmailMessage.embedded.is_(False)), authors)
    if after is not None:
        stmt = stmt.where(m.EmailMessage.message_id > after)
    with store.session() as s:
        return [_record(r) for r in s.scalars(stmt.order_by(m.EmailMessage.message_id).limit(limit))]


def _reembed(store: Store, index: EmailIndex) -> None:
    # Flags first, in their own committed transaction, then the collection: a crash in between leaves a
    # stale collection and unset flags, which the next run redoes.
    with store.session() as s:
        n = s.scalar(select(func.count()).select_from(m.EmailMessage).where(m.EmailMessage.embedded.is_(True))) or 0
        s.execute(update(m.EmailMessage).where(m.EmailMessage.embedded.is_(True)).values(embedded=False))
    log.warning("the email index was embedded with %s; re-embedding all %d emails with %s",
                index.embedded_with or "an unknown model", n, index.fingerprint)
    index.rebuild()


def _record(row: m.EmailMessage) -> dict[str, Any]:
    return {
        "id": row.message_id,
        "text": row.body or "",
        "metadata": {
            "author": row.from_email,
            "recipients": [*(row.to_emails or []), *(row.cc_emails or [])],
            "date_ts": row.sent_at,
            "subject": row.subject or "",
        },
    }


def exemplar_query(facts: DraftFacts) -> str:
    """The text exemplars are retrieved for: what the note will be about, in plain words."""
    bits = [f"Hi {facts.target.first_name}, a quick introduction."]
    if facts.shared_history:
        bits.append(facts.shared_history[0])
    what = facts.problem_solved or facts.vendor_one_liner
    bits.append(f"We use {facts.vendor_name}" + (f": {what}." if what else "."))
    if facts.csm is not None:
        bits.append(f"Happy to introduce you to {facts.csm.name}.")
    return " ".join(bits)


def retrieve_exemplars(index: EmailIndex, author: str, query: str, k: int = 3, *,
                       until: datetime | None = None) -> list[Exemplar]:
    """The author's own `k` emails most similar to `query` (optionally sent no later than `until`)."""
    hits = index.query(query, k=k, author=author, until=until)
    return [Exemplar(h.id, h.text, str(h.metadata.get("subject") or ""), round(h.score, 4)) for h in hits
            if h.text.strip()]


def store_exemplars(session: Session, author: str, k: int = 3) -> list[Exemplar]:
    """The author's `k` latest non-empty emails from the store: exemplars when the index is unavailable."""
    rows = session.scalars(
        select(m.EmailMessage).where(m.EmailMessage.from_email == author.strip().lower())
        .order_by(m.EmailMessage.sent_at.desc()).limit(max(k * 4, 12))
    ).all()
    return [Exemplar(r.message_id, r.body, r.subject or "") for r in rows if (r.body or "").strip()][:k]
