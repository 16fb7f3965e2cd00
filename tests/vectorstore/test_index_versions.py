"""Which model made a collection's vectors: recorded, checked on open, never mixed; the int8 model's cache."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import vectorstore.embeddings as emb
from vectorstore.client import FINGERPRINT_KEY, MODEL_KEY, EmailIndex, make_chroma_client
from vectorstore.embeddings import (
    MODEL_ID,
    MODEL_ID_DYNAMIC,
    MiniLMEmbeddingFunction,
    index_embedding_function,
)
from warmintro.errors import StaleIndexError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "northwind"
TEXTS = {
    "m1": "The cat sits on the mat.",
    "m2": "Quarterly revenue grew 12% after the rollout.",
    "m3": "My kitten naps on the rug all day.",
    "m4": "We moved every regional team onto the new routing workflow last quarter.",
}


@pytest.fixture(scope="module")
def ref() -> MiniLMEmbeddingFunction:
    return MiniLMEmbeddingFunction()


@pytest.fixture(scope="module")
def new() -> MiniLMEmbeddingFunction:
    return index_embedding_function()


def _records(ids: list[str]) -> list[dict]:
    return [{"id": i, "text": TEXTS[i], "metadata": {"author": "jane@acme.example"}} for i in ids]


def _legacy_collection(path: Path, ref: MiniLMEmbeddingFunction) -> None:
    """What the code before the model was recorded made: the reference model, no metadata."""
    col = make_chroma_client(path).get_or_create_collection(
        "warmintro_emails", embedding_function=ref, configuration={"hnsw": {"space": "cosine"}})  # type: ignore[arg-type]
    col.upsert(ids=["m1", "m2", "m3"], documents=[TEXTS[i] for i in ("m1", "m2", "m3")])


def _stored(index: EmailIndex, rid: str) -> np.ndarray:
    got = index.collection.get(ids=[rid], include=["embeddings"])
    return np.asarray(got["embeddings"][0], dtype=np.float32)


def test_the_two_variants_give_close_but_different_vectors(ref, new) -> None:
    texts = list(TEXTS.values())
    a, b = ref.embed_array(texts), new.embed_array(texts)
    cos = np.sum(a * b, axis=1)
    assert np.all(cos > 0.975), cos  # the same model (per-tensor weight scales gave 0.95-0.96) ...
    assert not np.allclose(a, b, atol=1e-3)  # ... but not the same vectors: a collection must say which
    assert ref.fingerprint != new.fingerprint
    assert new.get_config()["model_id"] == MODEL_ID_DYNAMIC and new.max_length == 128
    # The new vectors still rank like the reference ones.
    assert np.argmax(b[2] @ b[[0, 1, 3]].T) == np.argmax(a[2] @ a[[0, 1, 3]].T) == 0


def test_int8_vectors_do_not_depend_on_batch_mates(new) -> None:
    # Activations are quantised per call with one scale: batched, a text's vector would move with its
    # batch-mates (cosine 0.97-0.99); one text per call keeps it a function of the text.
    texts = list(TEXTS.values())
    alone = np.vstack([new.embed_array([t]) for t in texts])
    assert np.allclose(new.embed_array(texts), alone, atol=1e-6)
    assert np.allclose(new.embed_array(texts[::-1]), alone[::-1], atol=1e-6)


def test_int8_texts_run_side_by_side_give_the_vectors_of_one_at_a_time(monkeypatch) -> None:
    # The int8 variant runs texts on parallel single-core lanes (issue 22): the same session, one text per
    # call, so each vector must be bit-for-bit what the text alone gives on one lane.
    texts = [*TEXTS.values(), "", "ok", "hello " * 300, "Grüße aus Köln — 日本語も"] * 3
    seen: set[str] = set()
    real = MiniLMEmbeddingFunction._embed_into

    def spy(self, *args):
        seen.add(threading.current_thread().name)
        return real(self, *args)

    monkeypatch.setattr(MiniLMEmbeddingFunction, "_embed_into", spy)
    one_lane = index_embedding_function(intra_op_threads=1)
    alone = np.vstack([one_lane.embed_array([t]) for t in texts])
    assert seen == {threading.current_thread().name}  # one lane: the caller's own thread
    seen.clear()
    side_by_side = index_embedding_function(intra_op_threads=3).embed_array(texts)
    assert seen and all(name.startswith("minilm") for name in seen)  # the lanes, not the caller
    assert np.array_equal(side_by_side, alone)


def test_a_new_collection_records_its_model(tmp_path, new) -> None:
    index = EmailIndex(make_chroma_client(tmp_path / "c"), embedding_function=new)
    assert index.collection.metadata[FINGERPRINT_KEY] == new.fingerprint
    assert index.collection.metadata[MODEL_KEY] == MODEL_ID_DYNAMIC
    assert not index.stale
    index.upsert(_records(["m1", "m2"]))
    again = EmailIndex(make_chroma_client(tmp_path / "c"), embedding_function=index_embedding_function())
    assert not again.stale and again.count() == 2
    assert np.allclose(_stored(again, "m1"), new.embed_array([TEXTS["m1"]])[0], atol=1e-5)


def test_an_old_collection_keeps_its_model_until_reindexed(tmp_path, ref, new) -> None:
    _legacy_collection(tmp_path / "c", ref)
    index = EmailIndex(make_chroma_client(tmp_path / "c"), embedding_function=new)
    assert index.stale and index.embedded_with == ref.fingerprint and index.fingerprint == new.fingerprint
    # Reads and writes use the model that made it: an email added now is a reference vector, not a mix.
    assert index.upsert(_records(["m4"])) == 1
    assert np.allclose(_stored(index, "m4"), ref.embed_array([TEXTS["m4"]])[0], atol=1e-5)
    assert [h.id for h in index.query("a kitten on a rug", k=1)] == ["m3"]
    top = index.query("a kitten on a rug", k=1)[0]
    assert top.score == pytest.approx(float(ref.embed_array(["a kitten on a rug"])[0] @ ref.embed_array([TEXTS["m3"]])[0]),
                                      abs=1e-4)
    index.rebuild()
    assert not index.stale and index.count() == 0
    assert index.collection.metadata[FINGERPRINT_KEY] == new.fingerprint
    index.upsert(_records(["m4"]))
    assert np.allclose(_stored(index, "m4"), new.embed_array([TEXTS["m4"]])[0], atol=1e-5)


def test_a_new_collection_opened_with_the_reference_model_is_stale_too(tmp_path, ref, new) -> None:
    EmailIndex(make_chroma_client(tmp_path / "c"), embedding_function=new).upsert(_records(["m1", "m3"]))
    index = EmailIndex(make_chroma_client(tmp_path / "c"), embedding_function=ref)
    assert index.stale and index.embedded_with == new.fingerprint
    index.upsert(_records(["m2"]))
    assert np.allclose(_stored(index, "m2"), new.embed_array([TEXTS["m2"]])[0], atol=1e-5)


def test_an_empty_collection_of_another_model_is_taken_over(tmp_path, ref, new) -> None:
    EmailIndex(make_chroma_client(tmp_path / "c"), embedding_function=ref)
    index = EmailIndex(make_chroma_client(tmp_path / "c"), embedding_function=new)
    assert not index.stale and index.collection.metadata[FINGERPRINT_KEY] == new.fingerprint
    make_chroma_client(tmp_path / "c").delete_collection("warmintro_emails")  # another process rebuilding
    index.rebuild()
    assert index.count() == 0 and index.collection.metadata[FINGERPRINT_KEY] == new.fingerprint


def test_a_collection_of_a_model_this_code_cannot_compute_is_refused_until_rebuilt(tmp_path, new) -> None:
    client = make_chroma_client(tmp_path / "c")
    index = EmailIndex(client, embedding_function=new)
    index.upsert(_records(["m1"]))
    other = f"{MODEL_ID_DYNAMIC}|0000000000000000|r0|128"  # an older recipe's vectors
    index.collection.modify(metadata={MODEL_KEY: MODEL_ID_DYNAMIC, FINGERPRINT_KEY: other})
    stale = EmailIndex(client, embedding_function=new)
    assert stale.stale and stale.embedded_with == other
    with pytest.raises(StaleIndexError):
        stale.query("cats", k=1)
    with pytest.raises(StaleIndexError):
        stale.upsert(_records(["m2"]))


# ------------------------------------------------------------------ index_emails migrates


@pytest.fixture
def store(tmp_path):
    from warmintro.importer.run import import_folder
    from warmintro.store.db import Store

    folder = tmp_path / "folder"
    shutil.copytree(FIXTURES, folder)
    with (folder / "emails" / "emails.jsonl").open("a", encoding="utf-8") as fh:
        for k in range(3):
            fh.write(json.dumps({"message_id": f"<s{k}@northwind.example>", "from": "sam.okafor@northwind.example",
                                 "to": ["dana@vendor.example"], "cc": [], "date": f"2026-10-1{k}T09:00:00Z",
                                 "subject": "routes", "body": f"Hi Dana, route plan {k} is attached. Sam"}) + "\n")
    st = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    import_folder(st, folder)
    yield st
    st.close()


def _bodies(store) -> dict[str, str]:
    from sqlalchemy import select

    from warmintro.store import models as m

    with store.session() as s:
        return {r.message_id: r.body or "" for r in s.scalars(select(m.EmailMessage))}


@pytest.mark.parametrize("direction", ["upgrade", "downgrade"])
def test_index_emails_reembeds_a_collection_of_another_model(tmp_path, store, ref, new, caplog, direction) -> None:
    from warmintro.voice.index import index_emails

    old, cur = (ref, new) if direction == "upgrade" else (new, ref)
    path = tmp_path / "chroma"
    first = index_emails(store, EmailIndex(make_chroma_client(path), embedding_function=old))
    bodies = _bodies(store)
    assert first.embedded == len(bodies) >= 3
    index = EmailIndex(make_chroma_client(path), embedding_function=cur)
    assert index.stale
    with caplog.at_level(logging.WARNING, logger="warmintro.voice.index"):
        second = index_emails(store, index)
    assert "re-embedding all" in caplog.text and old.fingerprint in caplog.text
    assert second.embedded == len(bodies) and second.reset
    assert not index.stale and index.collection.metadata[FINGERPRINT_KEY] == cur.fingerprint
    got = index.collection.get(include=["embeddings", "documents"])
    vecs = dict(zip(got["ids"], got["embeddings"], strict=True))
    assert set(vecs) == set(bodies)
    ids = sorted(bodies)
    want = cur.embed_array([bodies[i] for i in ids])
    assert np.allclose(np.asarray([vecs[i] for i in ids], dtype=np.float32), want, atol=1e-5)
    assert index_emails(store, EmailIndex(make_chroma_client(path), embedding_function=cur)).embedded == 0


def test_an_interrupted_reembedding_resumes(tmp_path, store, ref, new, monkeypatch) -> None:
    from warmintro.voice import index as vindex

    path = tmp_path / "chroma"
    vindex.index_emails(store, EmailIndex(make_chroma_client(path), embedding_function=ref))
    n = len(_bodies(store))
    index = EmailIndex(make_chroma_client(path), embedding_function=new)
    real_upsert = EmailIndex.upsert
    calls = {"n": 0}

    def failing(self, records, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real_upsert(self, records, **kwargs)

    monkeypatch.setattr(EmailIndex, "upsert", failing)
    with pytest.raises(RuntimeError):
        vindex.index_emails(store, index, batch_size=2)
    monkeypatch.setattr(EmailIndex, "upsert", real_upsert)
    again = EmailIndex(make_chroma_client(path), embedding_function=new)
    assert not again.stale and again.count() == 2  # the new model's first batch, nothing of the old one
    res = vindex.index_emails(store, again)
    assert (res.embedded, res.already, again.count()) == (n - 2, 2, n)


@pytest.mark.parametrize("process_min", [1, 10**9], ids=["model in a child process", "model in this process"])
def test_embedding_the_next_batch_ahead_stores_what_chroma_would_have_computed(tmp_path, store, new, process_min,
                                                                              monkeypatch) -> None:
    """index_emails embeds batch k+1 while batch k is stored: every email is indexed once, flagged, and with the
    vector Chroma computes itself from the same text, whether the model runs in a child process or here."""
    from sqlalchemy import select

    from vectorstore import embed_process
    from warmintro.store import models as m
    from warmintro.voice import index as vindex

    children: list[embed_process.EmbeddingProcess] = []
    real_init = embed_process.EmbeddingProcess.__init__

    def tracked(self, function):
        real_init(self, function)
        children.append(self)

    monkeypatch.setattr(embed_process.EmbeddingProcess, "__init__", tracked)
    index = EmailIndex(make_chroma_client(tmp_path / "ahead"), embedding_function=new)
    res = vindex.index_emails(store, index, batch_size=2, process_min=process_min)
    assert len(children) == (process_min == 1)
    assert all(c._child is None for c in children)  # stopped when the run ends
    bodies = _bodies(store)
    assert res.embedded == len(bodies) == index.count() >= 5
    with store.session() as s:
        assert all(s.scalars(select(m.EmailMessage.embedded)))
    plain = EmailIndex(make_chroma_client(tmp_path / "plain"), embedding_function=new)
    plain.upsert({"id": i, "text": t, "metadata": {}} for i, t in bodies.items())
    for rid in bodies:
        assert np.allclose(_stored(index, rid), _stored(plain, rid), atol=1e-6), rid
    assert vindex.index_emails(store, index).embedded == 0  # nothing left behind unflagged


def test_the_model_process_answers_with_this_process_vectors_and_a_failed_one_loses_nothing(new, caplog) -> None:
    from vectorstore.embed_process import EmbeddingProcess

    texts = [*TEXTS.values(), "", "hello " * 300]
    here = new.embed_array(texts)
    with EmbeddingProcess(new) as child:
        assert child.in_child
        assert np.array_equal(child.embed(texts), here)  # bit for bit: the same function, rebuilt from its config
        assert child.embed([]).shape == (0, here.shape[1])
        assert child._child is not None
        child._child.kill()  # dies between two batches ...
        child._child.wait()
        with caplog.at_level(logging.WARNING, logger="vectorstore.embed_process"):
            again = child.embed(texts)
        assert np.array_equal(again, here) and not child.in_child  # ... the batch is embedded here instead
        assert "failed: it stopped" in caplog.text
    # a child that cannot build the model (a config this code does not know) fails its first batch
    caplog.clear()
    broken = index_embedding_function()
    broken.get_config = lambda: {"model_id": "not-a-minilm"}  # type: ignore[method-assign]
    with EmbeddingProcess(broken) as child, caplog.at_level(logging.WARNING, logger="vectorstore.embed_process"):
        assert np.array_equal(child.embed(texts), here) and not child.in_child
    assert "the model's process failed" in caplog.text


# ------------------------------------------------------------------ the int8 model's cache


def test_the_int8_model_is_built_once_keyed_by_the_source_and_rebuilt_when_corrupt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WARMINTRO_MODEL_CACHE", str(tmp_path / "cache"))
    built = []
    real = emb._quantize
    monkeypatch.setattr(emb, "_quantize", lambda src, dst: built.append(dst) or real(src, dst))
    path = Path(emb._dynamic_model_path())
    assert path.parent == tmp_path / "cache" and emb._source_sha256()[:16] in path.name
    assert f"r{emb.QUANT_RECIPE}" in path.name
    assert Path(emb._dynamic_model_path()) == path and len(built) == 1  # cached
    path.write_bytes(path.read_bytes()[:1000])  # a truncated file
    assert Path(emb._dynamic_model_path()) == path and len(built) == 2
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ops = {n.op_type for n in __import__("onnx").load(str(path)).graph.node}
    assert "MatMulInteger" in ops and {i.name for i in session.get_inputs()} >= {"input_ids", "attention_mask"}


def test_an_unwritable_cache_falls_back_to_the_temp_dir(tmp_path, monkeypatch) -> None:
    import tempfile

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("WARMINTRO_MODEL_CACHE", str(blocker / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = Path(emb._dynamic_model_path())
    assert path.parent == tmp_path / "tmp" / "warmintro-models"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)  # readable by an image's runtime user


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError):
        MiniLMEmbeddingFunction(model_id="all-MiniLM-L6-v2-fp16")
    assert MiniLMEmbeddingFunction.build_from_config({"model_id": MODEL_ID}).model_id == MODEL_ID


def test_the_sentiment_classifier_keeps_the_reference_vectors_it_was_fitted_on() -> None:
    from warmintro.engines.sentiment import SentimentClassifier

    embedder = SentimentClassifier().embedder
    assert isinstance(embedder, MiniLMEmbeddingFunction)
    assert embedder.fingerprint == MiniLMEmbeddingFunction().fingerprint == emb.model_fingerprint(MODEL_ID, 256)
    assert embedder.fingerprint != index_embedding_function().fingerprint


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real Chroma server (the chromadb wheel's `chroma run`) on a free port."""
    import socket
    import subprocess
    import sys
    import time

    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.skip("no chroma CLI beside this interpreter")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([str(exe), "run", "--path", str(tmp_path_factory.mktemp("server")), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                make_chroma_client(host="localhost", port=port).heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.skip("the chroma server did not start")
                time.sleep(0.5)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_chroma_server_collection_is_versioned_alike(chroma_server, ref, new) -> None:
    def client():
        return make_chroma_client(host="localhost", port=chroma_server)

    col = client().get_or_create_collection("warmintro_emails", embedding_function=ref,  # type: ignore[arg-type]
                                            configuration={"hnsw": {"space": "cosine"}})
    col.upsert(ids=["m1", "m3"], documents=[TEXTS["m1"], TEXTS["m3"]])  # the old code's collection
    index = EmailIndex(client(), embedding_function=new)
    assert index.stale and index.embedded_with == ref.fingerprint
    index.upsert(_records(["m2"]))
    assert np.allclose(_stored(index, "m2"), ref.embed_array([TEXTS["m2"]])[0], atol=1e-5)
    index.rebuild()
    index.upsert(_records(["m1", "m3"]))
    again = EmailIndex(client(), embedding_function=index_embedding_function())
    assert not again.stale and again.collection.metadata[FINGERPRINT_KEY] == new.fingerprint
    assert [h.id for h in again.query("a kitten on a rug", k=1)] == ["m3"]
    assert np.allclose(_stored(again, "m1"), new.embed_array([TEXTS["m1"]])[0], atol=1e-5)
