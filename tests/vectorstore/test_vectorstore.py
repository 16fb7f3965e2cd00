"""Offline MiniLM embeddings and the Chroma email index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from chromadb.api.types import DefaultEmbeddingFunction
from chromadb.utils.embedding_functions import config_to_embedding_function, known_embedding_functions
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

import vectorstore.client as vclient
from vectorstore.client import EmailIndex, Hit, index_record, make_chroma_client, open_chroma_client
from vectorstore.embeddings import EMBEDDING_DIM, MODEL_ID, MiniLMEmbeddingFunction
from warmintro.mail import EmailRecord

REPO = Path(__file__).resolve().parents[2]


class DefaultEmbeddingUsed(AssertionError):
    pass


def _refuse(self: object, input: object = None) -> None:  # chroma checks the (self, input) signature
    raise DefaultEmbeddingUsed("chromadb's default embedding function (a model download) was used")


@pytest.fixture(autouse=True)
def no_default_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any use of chromadb's own model fails the test instead of downloading it."""
    monkeypatch.setattr(DefaultEmbeddingFunction, "__call__", _refuse)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "__call__", _refuse)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "_download_model_if_not_exists", _refuse)


@pytest.fixture(scope="module")
def ef() -> MiniLMEmbeddingFunction:
    return MiniLMEmbeddingFunction(batch_size=16)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# ------------------------------------------------------------------ embeddings


def test_shape_dtype_and_unit_norm(ef: MiniLMEmbeddingFunction) -> None:
    out = ef(["The cat sits on the mat", "", "Quarterly revenue grew 12%"])
    assert len(out) == 3
    for vec in out:
        assert isinstance(vec, np.ndarray) and vec.dtype == np.float32 and vec.shape == (EMBEDDING_DIM,)
        assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-4
    assert ef.embed_array([]).shape == (0, EMBEDDING_DIM)


def test_similarity_matches_the_reference_model(ef: MiniLMEmbeddingFunction) -> None:
    cat, cat2, revenue = ef.embed_array(
        ["The cat sits on the mat", "A cat is sitting on a mat", "Quarterly revenue grew 12%"]
    )
    # fp32 all-MiniLM-L6-v2 (sentence-transformers recipe) gives 0.9726 and -0.0155 for these pairs;
    # a tokenizer, pooling or normalisation mistake moves them far more than int8 rounding does.
    assert _cos(cat, cat2) == pytest.approx(0.9726, abs=0.01)
    assert _cos(cat, revenue) == pytest.approx(-0.0155, abs=0.05)
    assert _cos(cat, cat2) - _cos(cat, revenue) > 0.8


def test_padding_batching_and_order_do_not_change_vectors(ef: MiniLMEmbeddingFunction) -> None:
    short = "Thanks, the rollout went well."
    long = " ".join(["We moved every regional team onto the new workflow last quarter."] * 12)
    alone = ef.embed_array([short])[0]
    mixed = ef.embed_array([long, short, "Hi"])  # sorted by length inside, returned in input order
    one_by_one = MiniLMEmbeddingFunction(batch_size=1).embed_array([long, short, "Hi"])
    assert np.allclose(mixed[1], alone, atol=1e-4)
    assert np.allclose(mixed, one_by_one, atol=1e-4)
    assert _cos(mixed[0], mixed[1]) < 0.99


def test_batches_are_length_sorted_and_bounded_by_count_and_padded_tokens() -> None:
    ef = MiniLMEmbeddingFunction(batch_size=4, batch_tokens=256)
    lengths = [200, 3, 50, 60, 7, 7, 64, 9, 120, 256, 5]
    batches = ef._batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths)
    for b in batches:
        assert len(b) <= 4 and len(b) * max(lengths[i] for i in b) <= 256
    assert [len(b) for b in batches] == [4, 4, 1, 1, 1]  # 4 x 64 = 256 padded tokens fit; 2 x 200 do not
    with pytest.raises(ValueError):
        MiniLMEmbeddingFunction(batch_tokens=100)


def test_truncates_to_256_tokens(ef: MiniLMEmbeddingFunction) -> None:
    prefix = "hello " * 150  # one word piece each
    a, b, c, d = ef.embed_array(
        [
            prefix + "quarterly revenue grew",
            prefix + "the cat sat down",
            prefix + "ok " * 120 + "quarterly revenue grew",
            prefix + "ok " * 120 + "the cat sat down",
        ]
    )
    assert not np.allclose(a, b, atol=1e-3)  # tokens 150-155 still count (not the file's 128) ...
    assert np.allclose(c, d, atol=1e-5)  # ... tokens past 256 do not


def test_lazy_session_and_config_roundtrip() -> None:
    fn = MiniLMEmbeddingFunction(batch_size=8, intra_op_threads=1)
    assert fn._session is None  # nothing loaded until the first call
    assert MiniLMEmbeddingFunction.name() in known_embedding_functions  # registered on import
    rebuilt = config_to_embedding_function({"name": fn.name(), "config": fn.get_config()})
    assert isinstance(rebuilt, MiniLMEmbeddingFunction)
    assert rebuilt.get_config() == {
        "model_id": MODEL_ID,
        "fingerprint": fn.fingerprint,
        "max_length": 256,
        "batch_size": 8,
        "intra_op_threads": 1,
    }
    assert not fn.is_legacy()
    with pytest.raises(ValueError):
        MiniLMEmbeddingFunction.build_from_config({"model_id": "text-embedding-3-small"})
    with pytest.raises(ValueError):
        fn.validate_config_update(fn.get_config(), {**fn.get_config(), "max_length": 128})
    fn.validate_config_update(fn.get_config(), {**fn.get_config(), "batch_size": 32})


# ------------------------------------------------------------------ index


def _records() -> list[dict]:
    return [
        {"id": "m1", "text": "The cat sits on the mat.", "metadata": {
            "author": "Jane@Acme.example", "recipients": ["bob@vendor.example"], "date_ts": 1_700_000_000,
            "subject": "cats"}},
        {"id": "m2", "text": "Quarterly revenue grew 12% after the rollout.", "metadata": {
            "author": "jane@acme.example", "recipients": [], "date_ts": 1_710_000_000, "subject": "numbers"}},
        {"id": "m3", "text": "My kitten naps on the rug all day.", "metadata": {
            "author": "omar@other.example", "recipients": ["jane@acme.example"],
            "date_ts": datetime(2024, 6, 1, tzinfo=UTC), "subject": "pets"}},
    ]  # fmt: skip


@pytest.fixture
def index(tmp_path: Path, ef: MiniLMEmbeddingFunction) -> EmailIndex:
    idx = EmailIndex(make_chroma_client(tmp_path / "chroma"), embedding_function=ef)
    assert idx.upsert(_records()) == 3
    return idx


def test_guard_catches_chromas_default(tmp_path: Path) -> None:
    # Guards the guard: a collection without our function must trip the autouse fixture.
    client = make_chroma_client(tmp_path / "plain")
    with pytest.raises(DefaultEmbeddingUsed):
        client.create_collection("uses_default").add(ids=["x"], documents=["hello"])


def test_query_ranks_and_filters(index: EmailIndex) -> None:
    hits = index.query("a cat lying on a mat", k=3)
    assert [h.id for h in hits][0] == "m1"
    assert isinstance(hits[0], Hit) and hits[0].score > hits[-1].score
    assert hits[0].text == "The cat sits on the mat."
    assert hits[0].metadata["author"] == "jane@acme.example"  # lower-cased on the way in
    assert hits[0].metadata["recipients"] == ["bob@vendor.example"]

    assert {h.id for h in index.query("a cat lying on a mat", k=5, author="JANE@acme.example")} == {
        "m1",
        "m2",
    }
    assert [h.id for h in index.query("cat", k=5, author="nobody@x.example")] == []
    assert {h.id for h in index.query("cat", k=5, since=1_705_000_000)} == {"m2", "m3"}
    assert [h.id for h in index.query("cat", k=5, since=datetime(2024, 1, 1), until=1_712_000_000)] == ["m2"]
    assert [h.id for h in index.query("cat", k=5, author="jane@acme.example", since=1_705_000_000)] == ["m2"]
    assert [h.id for h in index.query("cat on a mat", k=1, exclude_ids=["m1"])] in (["m3"], ["m2"])
    assert index.query("cat", k=0) == []


def test_upsert_is_idempotent_and_updates(index: EmailIndex) -> None:
    assert index.upsert(_records()) == 0  # unchanged: nothing re-embedded
    assert index.count() == 3
    changed = {**_records()[1], "text": "Our cat adores the mat by the door."}
    assert index.upsert([changed]) == 1
    assert index.count() == 3
    top = index.query("cat on a mat", k=2, author="jane@acme.example")
    assert {h.id for h in top} == {"m1", "m2"} and min(h.score for h in top) > 0.5
    dup = [{**changed, "text": "first"}, {**changed, "text": "last wins"}]
    assert index.upsert(dup) == 1
    assert index.collection.get(ids=["m2"])["documents"] == ["last wins"]
    index.delete(["m2"])
    assert index.count() == 2


def test_upsert_batches(tmp_path: Path, ef: MiniLMEmbeddingFunction, monkeypatch) -> None:
    monkeypatch.setattr(vclient, "UPSERT_BATCH", 2)
    idx = EmailIndex(make_chroma_client(tmp_path / "b"), collection="batched", embedding_function=ef)
    calls: list[int] = []
    real = idx.collection.upsert
    monkeypatch.setattr(idx.collection, "upsert", lambda **kw: (calls.append(len(kw["ids"])), real(**kw))[1])
    recs = [
        {"id": f"e{i}", "text": f"email number {i}", "metadata": {"author": "a@b.example"}} for i in range(5)
    ]
    assert idx.upsert(recs) == 5
    assert calls == [2, 2, 1]
    assert idx.count() == 5


def test_index_record_from_email_record() -> None:
    rec = EmailRecord(
        message_id="x1@acme.example", from_email="jane@acme.example", from_name="Jane",
        to=("bob@vendor.example",), cc=("dan@vendor.example",), date=datetime(2024, 3, 5, tzinfo=UTC),
        subject="Hi", body="Body text", in_reply_to=None,
    )  # fmt: skip
    out = index_record(rec)
    assert out["id"] == "x1@acme.example" and out["text"] == "Body text"
    assert out["metadata"]["recipients"] == ["bob@vendor.example", "dan@vendor.example"]
    assert vclient._clean_metadata(out["metadata"])["date_ts"] == 1_709_596_800


_REOPEN = textwrap.dedent(
    """
    import json, sys
    import chromadb
    from chromadb.api.types import DefaultEmbeddingFunction
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    def refuse(self, input=None):
        raise SystemExit("chromadb default embedding function used")

    DefaultEmbeddingFunction.__call__ = refuse
    ONNXMiniLM_L6_V2.__call__ = refuse
    ONNXMiniLM_L6_V2._download_model_if_not_exists = refuse
    if sys.argv[2] == "register":
        import vectorstore.embeddings  # noqa: F401  (registers the function, nothing else)
    client = chromadb.PersistentClient(sys.argv[1], settings=chromadb.Settings(anonymized_telemetry=False))
    col = client.get_collection("warmintro_emails")  # no embedding function passed
    try:
        res = col.query(query_texts=["a kitten sleeping on a carpet"], n_results=1)
    except ValueError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(json.dumps({"ids": res["ids"][0]}))
    """
)


def _reopen(path: Path, mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", _REOPEN, str(path), mode], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_collection_reopens_in_a_new_process(tmp_path: Path, index: EmailIndex) -> None:
    path = tmp_path / "chroma"
    assert _reopen(path, "register") == {"ids": ["m3"]}
    # Without the registration chroma refuses (rather than silently using its default model).
    unregistered = _reopen(path, "plain")
    assert "warmintro_minilm_l6_v2_int8" in unregistered.get("error", ""), unregistered


def test_client_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    persistent = make_chroma_client(tmp_path / "p")
    assert persistent.get_settings().anonymized_telemetry is False
    assert (tmp_path / "p").is_dir()
    with pytest.raises(ValueError):
        make_chroma_client(None)

    seen: dict = {}
    monkeypatch.setattr(vclient.chromadb, "HttpClient", lambda **kw: seen.update(kw) or "http-client")
    assert (
        make_chroma_client(tmp_path / "ignored", host="chroma.internal", port=8443, ssl=True) == "http-client"
    )
    assert (seen["host"], seen["port"], seen["ssl"]) == ("chroma.internal", 8443, True)
    assert seen["settings"].anonymized_telemetry is False

    from warmintro.settings import Settings

    assert (
        open_chroma_client(Settings(home=tmp_path / "home", chroma_host="h", chroma_port=9000))
        == "http-client"
    )
    assert (seen["host"], seen["port"], seen["ssl"]) == ("h", 9000, False)
    local = open_chroma_client(Settings(home=tmp_path / "home"))
    assert local.get_settings().persist_directory == str(tmp_path / "home" / "chroma")


def test_threads_opening_one_embedded_store_at_once_all_get_it(tmp_path):
    # Unserialised, chromadb's shared-system creation races: "Could not connect to tenant default_tenant",
    # KeyError(path), a half-built binding (seen in the crash fault suite: two approvals drafting together).
    import threading

    from vectorstore.client import make_chroma_client

    errors: list[str] = []
    for trial in range(4):
        path = tmp_path / f"store{trial}"
        start = threading.Barrier(4)

        def open_and_list(path=path, start=start) -> None:
            start.wait()
            try:
                make_chroma_client(path).list_collections()
            except Exception as exc:  # collected: the assertion names it
                errors.append(repr(exc))

        threads = [threading.Thread(target=open_and_list) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
