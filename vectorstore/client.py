"""The Chroma client and the email index the voice engine retrieves exemplars from.

Embedded `PersistentClient` under WARMINTRO_HOME by default, a Chroma server when a host is configured.
Every collection is opened with `MiniLMEmbeddingFunction`, never chromadb's default (which would
download a model), and telemetry is off.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError as ChromaNotFoundError

from vectorstore.embeddings import (
    MiniLMEmbeddingFunction,
    OpenAIEmbeddingFunction,
    index_embedding_function,
)
from warmintro.errors import StaleIndexError

if TYPE_CHECKING:
    from warmintro.mail import EmailRecord
    from warmintro.settings import Settings

log = logging.getLogger(__name__)

EMAIL_COLLECTION = "warmintro_emails"
#: Collection metadata keys recording the embedding model that made the vectors.
MODEL_KEY = "embedding_model"
FINGERPRINT_KEY = "embedding_fingerprint"
#: Upper bound per upsert call: keeps memory flat and progress visible; the server's limit may be lower.
UPSERT_BATCH = 512


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False)


def make_chroma_client(
    path: Path | None = None, host: str | None = None, port: int | None = None, ssl: bool = False
) -> ClientAPI:
    """A Chroma server client when `host` is set, else an embedded store at `path`."""
    if host:
        return chromadb.HttpClient(host=host, port=port or 8000, ssl=ssl, settings=_chroma_settings())
    if path is None:
        raise ValueError("either a path for the embedded store or a Chroma host is required")
    path = Path(path).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    with _EMBEDDED_OPEN:
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


# chromadb builds one shared System per path and its creation is not thread-safe: two threads opening the
# same store at once (two champions approving together) fail with "Could not connect to tenant
# default_tenant", KeyError(path) or a half-built Rust binding. Opening is rare and quick, so serialise it.
_EMBEDDED_OPEN = threading.Lock()


def open_chroma_client(settings: Settings) -> ClientAPI:
    """The client the product's settings describe (CHROMA_HOST/PORT/SSL, else WARMINTRO_HOME/chroma)."""
    return make_chroma_client(
        settings.chroma_path, settings.chroma_host, settings.chroma_port, settings.chroma_ssl
    )


@dataclass(frozen=True)
class Hit:
    id: str
    score: float  # cosine similarity, 1.0 = same direction
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def _timestamp(value: datetime | float | int) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # the contract: no zone means UTC
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    return int(value)


def _clean_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Chroma takes str/int/float/bool and non-empty lists of those; normalise our known keys."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if value is None:
            continue
        if key == "author":
            out[key] = str(value).strip().lower()
        elif key == "recipients":
            items = [value] if isinstance(value, str) else list(value)
            recipients = sorted({str(r).strip().lower() for r in items if str(r).strip()})
            if recipients:  # chroma rejects empty lists
                out[key] = recipients
        elif key == "date_ts" or isinstance(value, datetime):
            out[key] = _timestamp(value)
        elif isinstance(value, (list, tuple)):
            if value:
                out[key] = [v if isinstance(v, (str, int, float, bool)) else str(v) for v in value]
        elif isinstance(value, (str, int, float, bool)):
            out[key] = value
        else:
            out[key] = str(value)
    return out


def index_record(email: EmailRecord) -> dict[str, Any]:
    """The index record for a parsed email: its cleaned body is what exemplar retrieval compares."""
    return {
        "id": email.message_id,
        "text": email.body,
        "metadata": {
            "author": email.from_email,
            "recipients": [*email.to, *email.cc],
            "date_ts": email.date,
            "subject": email.subject,
        },
    }


def fingerprint_of(ef: EmbeddingFunction[Documents]) -> str:
    """What identifies an embedding function's vectors (equal fingerprints, interchangeable vectors)."""
    fp = getattr(ef, "fingerprint", None)
    if isinstance(fp, str):
        return fp
    config = ef.get_config() if hasattr(ef, "get_config") else {}
    return "|".join(str(x) for x in (ef.name(), config.get("model_id"), config.get("dimensions")) if x)


def maker_of(collection: Collection) -> tuple[str | None, EmbeddingFunction[Documents] | None]:
    """The fingerprint of the model that filled `collection` (its metadata, else, for a collection made
    before the metadata existed, its persisted embedding-function config) and that model, if this code
    can compute it."""
    meta = dict(collection.metadata or {})
    ef_conf = (collection.configuration_json or {}).get("embedding_function") or {}
    name, config = ef_conf.get("name"), dict(ef_conf.get("config") or {})
    recorded = meta.get(FINGERPRINT_KEY)
    maker: EmbeddingFunction[Documents] | None = None
    try:
        if name == MiniLMEmbeddingFunction.name():
            maker = MiniLMEmbeddingFunction.build_from_config(config)
        elif name == OpenAIEmbeddingFunction.name():
            maker = OpenAIEmbeddingFunction.build_from_config(config)
    except ValueError:  # a variant this code does not know
        maker = None
    if recorded is None and maker is not None:
        recorded = fingerprint_of(maker)
    if maker is not None and recorded != fingerprint_of(maker):
        maker = None  # same variant name, other weights or recipe: those vectors cannot be reproduced
    return (str(recorded) if recorded is not None else None), maker


class EmailIndex:
    """Past emails, embedded, filterable by author and date; upsert by id is idempotent.

    The collection records the embedding model that made its vectors (metadata `embedding_model` and
    `embedding_fingerprint`). Opened with another model, it is `stale`: queries and upserts keep using
    the model that made it when this code can compute it (so vectors are never mixed), until
    `rebuild()` (which `warmintro.voice.index.index_emails` calls, re-embedding every email) empties
    it for `embedding_function`. A stale collection whose model cannot be computed here answers no
    queries and takes no upserts before it is rebuilt (StaleIndexError).
    """

    def __init__(
        self,
        client: ClientAPI,
        collection: str = EMAIL_COLLECTION,
        embedding_function: EmbeddingFunction[Documents] | None = None,
    ) -> None:
        self._client = client
        self._name = collection
        self._ef: EmbeddingFunction[Documents] = embedding_function or index_embedding_function()
        self.fingerprint = fingerprint_of(self._ef)
        self._collection: Collection = self._get_or_create(self._ef)
        recorded, maker = maker_of(self._collection)
        #: The fingerprint of the model that made the stored vectors (None: not known).
        self.embedded_with: str | None = recorded
        self.stale = recorded != self.fingerprint
        self._maker = maker if self.stale else self._ef
        if self.stale and self._collection.count() == 0:
            self.rebuild()  # nothing to keep: take it over
        elif self.stale:
            if self._maker is not None:
                self._collection = self._client.get_collection(name=collection,
                                                               embedding_function=self._maker)  # type: ignore[arg-type]
            log.info("collection %r was embedded with %s, not %s: it keeps that model until re-indexed",
                     collection, recorded, self.fingerprint)
        self._max_batch = max(1, min(UPSERT_BATCH, client.get_max_batch_size()))

    def _get_or_create(self, ef: EmbeddingFunction[Documents]) -> Collection:
        # A new collection gets the metadata; get_or_create leaves an existing one's untouched, and chroma
        # checks only the function's name, not its model, which maker_of does.
        return self._client.get_or_create_collection(
            name=self._name,
            embedding_function=ef,  # type: ignore[arg-type]  # chroma's Embeddable union
            configuration={"hnsw": {"space": "cosine"}},
            metadata={MODEL_KEY: str(ef.get_config().get("model_id") or ef.name()),
                      FINGERPRINT_KEY: fingerprint_of(ef)},
        )

    def rebuild(self) -> None:
        """Drop the collection and create it empty for this index's embedding function."""
        with contextlib.suppress(ChromaNotFoundError):  # another process rebuilt it first
            self._client.delete_collection(self._name)
        self._collection = self._get_or_create(self._ef)
        self.embedded_with, self.stale, self._maker = self.fingerprint, False, self._ef

    def _check_usable(self) -> None:
        if self._maker is None:
            raise StaleIndexError(f"collection {self._name!r} was embedded with {self.embedded_with}, which this "
                                  f"code cannot compute; re-index it (`warmintro index-emails`)")

    @property
    def collection(self) -> Collection:
        return self._collection

    def count(self) -> int:
        return self._collection.count()

    @property
    def model(self) -> EmbeddingFunction[Documents]:
        """The function the collection is written with: the one `embed` and `upsert` use."""
        self._check_usable()
        assert self._maker is not None
        return self._maker

    def embed(self, texts: Sequence[str]) -> list[Any]:
        """The vectors `upsert` would compute for these texts (the model the collection is written with), to
        be handed to it: a caller can embed the next batch while this one is stored."""
        return list(self.model(list(texts)))

    def upsert(self, records: Iterable[Mapping[str, Any]], *, embeddings: Mapping[str, Any] | None = None) -> int:
        """Add or replace records {id, text, metadata}; returns how many were (re)embedded.

        Records whose text and metadata are already stored unchanged are skipped, so re-importing the
        same folder costs no embedding time. A repeated id within one call keeps its last occurrence.
        `embeddings` (id -> vector from `embed` of the record's text) are used instead of embedding here.
        """
        self._check_usable()
        latest: dict[str, tuple[str, dict[str, Any]]] = {}
        for rec in records:
            rid = str(rec["id"])
            if not rid:
                raise ValueError("record without an id")
            latest[rid] = (str(rec.get("text") or ""), _clean_metadata(rec.get("metadata") or {}))
        ids = list(latest)
        written = 0
        for start in range(0, len(ids), self._max_batch):
            batch = ids[start : start + self._max_batch]
            stored = self._collection.get(ids=batch, include=["documents", "metadatas"])
            unchanged = {
                sid
                for sid, doc, meta in zip(
                    stored["ids"], stored["documents"] or [], stored["metadatas"] or [], strict=False
                )
                if (doc, dict(meta or {})) == latest[sid]
            }
            todo = [rid for rid in batch if rid not in unchanged]
            if not todo:
                continue
            self._collection.upsert(
                ids=todo,
                documents=[latest[rid][0] for rid in todo],
                metadatas=[latest[rid][1] or None for rid in todo],  # type: ignore[misc]
                **({"embeddings": [embeddings[rid] for rid in todo]} if embeddings is not None else {}),
            )
            written += len(todo)
        return written

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._collection.delete(ids=list(ids))

    def query(
        self,
        text: str,
        k: int = 5,
        author: str | None = None,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        exclude_ids: Sequence[str] = (),
    ) -> list[Hit]:
        """The `k` stored emails most similar to `text`, optionally by one author and in [since, until]."""
        if k <= 0:
            return []
        self._check_usable()
        clauses: list[dict[str, Any]] = []
        if author:
            clauses.append({"author": {"$eq": author.strip().lower()}})
        if since is not None:
            clauses.append({"date_ts": {"$gte": _timestamp(since)}})
        if until is not None:
            clauses.append({"date_ts": {"$lte": _timestamp(until)}})
        # Chroma has no id-exclusion filter in query(); over-fetch and drop them below.
        k_fetch = k + len(exclude_ids)
        where: dict[str, Any] | None
        if not clauses:
            where = None
        elif len(clauses) == 1:
            where = clauses[0]
        else:
            where = {"$and": clauses}
        result = self._collection.query(
            query_texts=[text],
            n_results=k_fetch,
            where=where,  # type: ignore[arg-type]
            include=["documents", "metadatas", "distances"],
        )
        excluded = set(exclude_ids)
        hits: list[Hit] = []
        ids = result["ids"][0] if result["ids"] else []
        docs = (result.get("documents") or [[]])[0]
        metas = (result.get("metadatas") or [[]])[0]
        dists = (result.get("distances") or [[]])[0]
        for rid, doc, meta, dist in zip(ids, docs, metas, dists, strict=False):
            if rid in excluded:
                continue
            score = 1.0 - float(dist)  # cosine distance -> similarity
            hits.append(Hit(rid, score if math.isfinite(score) else 0.0, doc or "", dict(meta or {})))
            if len(hits) == k:
                break
        return hits
