"""`embed`, `retrieval` and `draft_tokens`: the voice engine's vector store and prompts.

embed: emails/s through `warmintro.voice.index.index_emails` (store -> the index's int8 MiniLM ONNX ->
Chroma), against the reference MiniLM (the model the index used before, and the sentiment classifier's)
embedding one email per call; CPU seconds per email beside, since wall clock on a shared machine is noisy. retrieval: Chroma's HNSW top-5 against exact numpy search over
the very same vectors (read back from the collection): latency and recall@5. draft_tokens: the LLM
drafter's note prompt (3 retrieved exemplars, trimmed to its 1,200-token budget) against the same prompt
with all of the champion's emails in it, counted by tiktoken (o200k_base).
"""

from __future__ import annotations

import random
import shutil
import time
from typing import Any

import numpy as np

from benchmarks.util import log, ms_samples, pct
from benchmarks.workspace import Workspace


def _champions(ws: Workspace) -> list[str]:
    out = list(ws.truth.get("targets", {}))
    out += [a["contact_email"] for a in ws.truth.get("asks", [])]
    return list(dict.fromkeys(out))


def index_of(ws: Workspace) -> Any:
    return ws.cache.get("index")


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its children that ended (index_emails' model process)."""
    import resource

    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def run_embed(ws: Workspace) -> dict[str, Any]:
    from sqlalchemy import func, select, update

    from vectorstore.client import EmailIndex, make_chroma_client
    from vectorstore.embeddings import MiniLMEmbeddingFunction, index_embedding_function
    from warmintro.store import models as m
    from warmintro.voice.index import index_emails

    cap = ws.size.index_emails
    champs = set(_champions(ws))
    with ws.store.session() as s:
        rows = s.execute(select(m.EmailMessage.from_email, func.count()).group_by(m.EmailMessage.from_email)).all()
        total = sum(n for _, n in rows)
        # Whole authors (champions first) up to the cap: index_emails is scoped by author.
        authors: list[str] = []
        n_keep = 0
        for author, n in sorted(rows, key=lambda r: (r[0] not in champs, r[0])):
            if cap is not None and n_keep >= cap:
                break
            authors.append(author)
            n_keep += n
        s.execute(update(m.EmailMessage).values(embedded=False))
        ids = list(s.scalars(select(m.EmailMessage.message_id).where(m.EmailMessage.from_email.in_(authors[:2000]))
                             .order_by(m.EmailMessage.message_id).limit(64)))
    path = ws.dir / "chroma"
    shutil.rmtree(path, ignore_errors=True)
    ef = index_embedding_function()
    index = EmailIndex(make_chroma_client(path), embedding_function=ef)
    ef.embed_array(["warm-up"])
    log(f"embedding {n_keep} of {total} emails into Chroma")
    t0, c0 = time.perf_counter(), _cpu_with_children()
    res = index_emails(ws.store, index, authors=None if cap is None else authors)
    secs, cpu = time.perf_counter() - t0, _cpu_with_children() - c0  # the model runs in a child process
    ws.cache["index"] = index
    ours = res.embedded / secs
    # Baseline: the reference model, one email per call, on a sample; then the models alone on it.
    with ws.store.session() as s:
        bodies = [b or "" for b in s.scalars(select(m.EmailMessage.body).where(
            m.EmailMessage.message_id.in_(ids)))]
    ref = MiniLMEmbeddingFunction()
    ref.embed_array(["warm-up"])

    def rate(fn: Any) -> tuple[float, float]:
        w, c = time.perf_counter(), time.process_time()
        fn()
        return len(bodies) / (time.perf_counter() - w), (time.process_time() - c) / max(1, len(bodies))

    one_rate, one_cpu = rate(lambda: [ref.embed_array([b]) for b in bodies])
    ref_batch_rate, ref_batch_cpu = rate(lambda: ref.embed_array(bodies))
    int8_rate, int8_cpu = rate(lambda: ef.embed_array(bodies))
    return {"value": ours, "unit": "emails/s", "baseline_value": one_rate,
            "baseline_name": f"the reference MiniLM (fp32 arithmetic), one email per call ({len(bodies)} emails, "
                             "model only)",
            "ratio": ours / one_rate, "ratio_meaning": "ours / baseline emails/s", "n": res.embedded,
            "seconds": secs, "cpu_ms_per_email": 1000 * cpu / max(1, res.embedded),
            "baseline_cpu_ms_per_email": 1000 * one_cpu, "emails_in_store": total,
            "subset": None if cap is None else f"{res.total} of {total} emails indexed (whole authors, champions first)",
            "model": ef.fingerprint,
            "model_only_int8_emails_s": int8_rate, "model_only_int8_cpu_ms_per_email": 1000 * int8_cpu,
            "model_only_reference_batched_emails_s": ref_batch_rate,
            "model_only_reference_batched_cpu_ms_per_email": 1000 * ref_batch_cpu,
            "target": ">= 150 emails/s"}


def _all_vectors(index: Any) -> tuple[list[str], np.ndarray, list[str]]:
    col = index.collection
    ids: list[str] = []
    vecs: list[Any] = []
    authors: list[str] = []
    n = col.count()
    for off in range(0, n, 5000):
        got = col.get(include=["embeddings", "metadatas"], limit=5000, offset=off)
        ids += got["ids"]
        vecs.append(np.asarray(got["embeddings"], dtype=np.float32))
        authors += [str((md or {}).get("author", "")) for md in got["metadatas"]]
    return ids, np.vstack(vecs) if vecs else np.zeros((0, 384), np.float32), authors


def run_retrieval(ws: Workspace) -> dict[str, Any]:
    index = index_of(ws)
    if index is None:
        raise RuntimeError("retrieval needs the embed figure's index (run it with embed)")
    ids, E, authors = _all_vectors(index)
    col = index.collection
    rng = random.Random(9)
    docs = col.get(ids=rng.sample(ids, min(ws.size.retrieval_queries, len(ids))), include=["documents", "metadatas"])
    texts = [" ".join((d or "x").split()[:30]) for d in docs["documents"]]
    q_authors = [str((md or {}).get("author", "")) for md in docs["metadatas"]]
    Q = index._ef.embed_array(texts)
    k = 5
    col.query(query_embeddings=[Q[0].tolist()], n_results=k, include=["distances"])  # warm-up

    def hnsw(i: int) -> list[str]:
        return col.query(query_embeddings=[Q[i].tolist()], n_results=k, include=["distances"])["ids"][0]

    def exact(i: int) -> list[str]:
        scores = E @ Q[i]
        top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
        return [ids[j] for j in top[np.argsort(-scores[top])]]

    qi = list(range(len(texts)))
    ours_ms, ours = ms_samples(hnsw, qi)
    exact_ms, truth = ms_samples(exact, qi)
    recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ours, truth, strict=True)]))
    # The product's call: the query text embedded, then searched (no filter / the author filter).
    total_ms, _ = ms_samples(lambda i: index.query(texts[i], k=k), qi)
    author_arr = np.asarray(authors)

    def exact_author(i: int) -> list[str]:
        mask = np.flatnonzero(author_arr == q_authors[i])
        scores = E[mask] @ Q[i]
        top = np.argsort(-scores)[:3]
        return [ids[mask[j]] for j in top]

    filt_ms, filt = ms_samples(lambda i: [h.id for h in index.query(texts[i], k=3, author=q_authors[i])], qi)
    filt_truth = [exact_author(i) for i in qi]
    filt_recall = float(np.mean([len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(filt, filt_truth, strict=True)]))
    return {"value": pct(ours_ms, 95), "unit": "ms (p95)", "p50_ms": pct(ours_ms, 50), "recall_at_5": recall,
            "baseline_value": pct(exact_ms, 95), "baseline_name": "exact numpy search (E @ q, top 5) over the same vectors",
            "ratio": pct(exact_ms, 95) / pct(ours_ms, 95), "ratio_meaning": "baseline p95 / ours p95",
            "n": len(qi), "vectors": len(ids),
            "with_query_embedding_p95_ms": pct(total_ms, 95),
            "author_filtered": {"what": "retrieve_exemplars' query: the author's own top 3, query text embedded",
                                "p95_ms": pct(filt_ms, 95), "recall_at_3": filt_recall},
            "target": "p95 < 15 ms, recall@5 >= 0.95 at 100k emails"}


def run_draft_tokens(ws: Workspace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from warmintro.engines.targets import find_targets
    from warmintro.store import models as m
    from warmintro.voice.drafting import Exemplar
    from warmintro.voice.index import exemplar_query, retrieve_exemplars, store_exemplars
    from warmintro.voice.llm import build_ask_prompt, build_note_prompt
    from warmintro.voice.service import build_facts, profile_for

    index = index_of(ws)
    graph = ws.cache.get("graph")
    note_t: list[int] = []
    ask_t: list[int] = []
    base_t: list[int] = []
    n_emails: list[int] = []
    trimmed = 0
    with ws.store.session() as s:
        for champ in _champions(ws):
            if len(note_t) >= ws.size.drafts:
                break
            count = s.scalar(select(func.count()).select_from(m.EmailMessage).where(m.EmailMessage.from_email == champ))
            if not count:
                continue
            found = find_targets(s, champ, 1, as_of=ws.as_of, graph=graph)
            if not found.targets:
                continue
            facts = build_facts(s, champ, found.targets[0].email, now=ws.as_of)
            profile = profile_for(s, champ)
            ex = retrieve_exemplars(index, champ, exemplar_query(facts), k=3, until=ws.as_of) if index is not None else []
            ex = ex or store_exemplars(s, champ, 3)
            note = build_note_prompt(facts, profile, ex)
            ask = build_ask_prompt(facts)
            every = [Exemplar(r.message_id, r.body, r.subject or "") for r in s.scalars(
                select(m.EmailMessage).where(m.EmailMessage.from_email == champ).order_by(m.EmailMessage.sent_at.desc()))
                if (r.body or "").strip()]
            full = build_note_prompt(facts, profile, every, max_tokens=10**9)
            note_t.append(note.tokens)
            ask_t.append(ask.tokens)
            base_t.append(full.tokens)
            n_emails.append(len(every))
            trimmed += int(note.truncated)
    if not note_t:
        raise RuntimeError("no champion with emails and a target to draft for")
    mean = float(np.mean(note_t))
    base = float(np.mean(base_t))
    return {"value": mean, "unit": "tokens (note prompt, mean)", "max": max(note_t), "p95": pct(note_t, 95),
            "ask_prompt_mean": float(np.mean(ask_t)), "ask_prompt_max": max(ask_t),
            "per_draft_mean": mean + float(np.mean(ask_t)),
            "baseline_value": base, "baseline_name": "the same note prompt with all of the champion's emails",
            "ratio": base / mean, "ratio_meaning": "baseline tokens / ours", "n": len(note_t),
            "champion_emails_mean": float(np.mean(n_emails)), "exemplars_trimmed": trimmed,
            "exemplar_source": "vector store" if index is not None else "latest emails (no index in this run)",
            "target": "< 1,200 tokens and >= 5x fewer than all emails"}
