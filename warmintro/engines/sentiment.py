"""Offline sentiment of QBR notes, NPS comments and CSM notes: positive, negative or neutral.

A positive QBR opens an ask window only when its notes read as a genuinely happy moment, so when a signal
arrives without an explicit `sentiment` this module reads it from the free text. It runs offline on the
all-MiniLM-L6-v2 sentence embeddings of `vectorstore.embeddings` and a hand-labelled set of notes
(`data/sentiment_notes.jsonl`); nothing is downloaded and nothing happens at import time.

Why it is not one classifier over the note's embedding: MiniLM vectors are dominated by *topic*. "Exports
keep failing" sits next to "exports run reliably now", and a logistic regression over the raw 384-d vector
of ~480 notes learns a lot of topic. The model is therefore stacked, with every level a small L2-regularised
softmax regression (fitted with scipy's L-BFGS):

1. **topic-aware 3-class model** over the standardised note embedding (what the notes usually talk about);
2. **polarity model**: positive vs negative over the same embedding, trained on the positive and negative
   notes plus `POLARITY_PAIRS`, minimal pairs that differ only in sentiment ("Tickets went down." /
   "Tickets went up."), which push its weights toward the sentiment directions and away from topic;
3. **clause features**: the note is split at punctuation and contrast words ("but", "however", "though",
   ...) and each clause is scored by the polarity model. Max, min, last clause and spread tell a mixed note
   ("great people but exports keep failing" = neutral) from a uniformly happy one;
4. a **stacking model** over those nine numbers gives the calibrated probabilities. It is trained on
   out-of-fold outputs of levels 1-2 (5-fold cross-fitting), so it learns how far to trust them on notes
   they have not seen.

Cross-validated accuracy and the comparison with a keyword baseline are in `docs/sentiment.md`
(`python -m evals.sentiment_eval`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = range(3)
DATA_PATH = Path(__file__).parent / "data" / "sentiment_notes.jsonl"
# The default classifier fitted once and shipped (`python -m warmintro.engines.sentiment` rewrites it): a process
# loads it in milliseconds instead of embedding ~500 notes and fitting for 10-30 s on first use.
MODEL_PATH = Path(__file__).parent / "data" / "sentiment_model.npz"
MODEL_FORMAT = 1
METHOD = "minilm-stacked-logreg"
MEMO_MAX = 200_000  # remembered predictions per classifier
EMPTY_METHOD = "empty"

log = logging.getLogger(__name__)

#: Minimal pairs (positive, negative) that differ only in sentiment; extra training rows for the polarity
#: model so that it keys on sentiment rather than on what a note is about. Hand-written and generic: no
#: text here is in the labelled set.
POLARITY_PAIRS: tuple[tuple[str, str], ...] = (
    ("The rollout went really well.", "The rollout went really badly."),
    ("We are very happy with the product.", "We are very unhappy with the product."),
    ("Support was fast and helpful.", "Support was slow and unhelpful."),
    ("The team loves using it every day.", "The team hates using it every day."),
    ("It saved us a lot of time.", "It wasted a lot of our time."),
    ("The numbers improved this quarter.", "The numbers got worse this quarter."),
    ("Everything works reliably.", "Nothing works reliably."),
    ("The migration was smooth.", "The migration was a disaster."),
    ("We would gladly recommend you.", "We would never recommend you."),
    ("The sponsor is delighted.", "The sponsor is frustrated."),
    ("Great experience overall.", "Terrible experience overall."),
    ("The new release fixed our problems.", "The new release caused new problems."),
    ("Costs went down.", "Costs went up."),
    ("Errors dropped sharply.", "Errors increased sharply."),
    ("Adoption is growing.", "Adoption is shrinking."),
    ("They want to expand the contract.", "They want to cancel the contract."),
    ("The reports are fast and accurate.", "The reports are slow and wrong."),
    ("Onboarding was quick and painless.", "Onboarding was long and painful."),
    ("We trust the data.", "We do not trust the data."),
    ("It exceeded our expectations.", "It fell short of our expectations."),
    ("I'm impressed.", "I'm disappointed."),
    ("The integration just works.", "The integration keeps breaking."),
    ("They answered within the hour.", "Nobody answered for days."),
    ("Best vendor we have.", "Worst vendor we have."),
    ("The customer is thrilled with the results.", "The customer is angry about the results."),
    ("Renewal is a formality, they love it.", "Renewal is at risk, they are unhappy."),
    ("Fewer tickets than ever.", "More tickets than ever."),
    ("A big win for the team.", "A big setback for the team."),
    ("The app is easy to use.", "The app is confusing to use."),
    ("Thank you, this is excellent.", "Frankly, this is unacceptable."),
    ("Our users are satisfied.", "Our users are complaining."),
    ("Performance is excellent.", "Performance is awful."),
    ("We hit every target.", "We missed every target."),
    ("No problems at all.", "Problem after problem."),
    ("They praised the implementation.", "They criticised the implementation."),
    ("It was worth every penny.", "It was a waste of money."),
    ("Uptime has been perfect.", "Outages keep happening."),
    ("The champion is enthusiastic.", "The champion has gone quiet and is looking at competitors."),
    ("We finished ahead of schedule.", "We are months behind schedule."),
    ("Love it.", "Hate it."),
)

# Clause boundaries: sentence/clause punctuation (not a decimal point), a spaced dash, and contrast words.
_CLAUSE_SPLIT = re.compile(
    r"(?<!\d)[.](?!\d)|[;:!?()\n\u2014]|,|\s[-\u2013]\s"
    r"|\b(?:but|however|though|although|yet|while|whereas|except)\b",
    re.IGNORECASE,
)


# Idioms MiniLM reads backwards. Sentence embeddings carry negation weakly: "zero missed SLAs" sits next to
# "we missed three SLAs", "couldn't be happier" next to "unhappy", and "cut resolution time in half" next to
# complaints about resolution time, so happy notes written this way came out negative or neutral and opened
# no ask window. Before a note is embedded (for fitting and for predicting alike), each such phrase is read
# as what it says plainly; the rest of the note, and so a mixed note's other clause, is left as written.
_BAD_THINGS = (r"(?:sla\s+)?(?:breach|miss|incident|outage|escalation|error|failure|complaint|defect|bug|finding|"
               r"delay|dispute|crash|churn|ticket|p[0-4]s?|sev[- ]?[0-4]s?)(?:e?s)?|downtime|"
               r"(?:missed|failed|lost|dropped|late|broken|unplanned|crashed|stuck)\s+[\w-]+")
_BAD_MEASURES = (r"(?:(?:handle|handling|resolution|response|wait|waiting|turnaround|close|closing|onboarding|"
                 r"processing|review|cycle|lead|ramp)\s+)?times?|backlogs?|disputes?|errors?|costs?|churn|tickets?|"
                 r"escalations?|incidents?|delays?|downtime|close|workload|manual work|rework|spend|no-shows?|"
                 r"chargebacks?|write-offs?|overtime")
# "no escalation path", "zero incident reports": the bad word names something else, whose absence is bad news
_COMPOUND_HEADS = (r"(?:path|process|plan|policy|owner|contact|team|manager|queue|workflow|procedure|channel|"
                   r"reports?|dashboard|data|rate|budget|visibility|tracking|alerts?)\b")
PLAIN_READINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:can'?t|cannot)\s+complain\b", re.IGNORECASE), "are happy"),
    # "couldn't be happier", "could not be more pleased", "can't ask for a better partner"
    (re.compile(r"\b(?:couldn'?t|could\s+not|can'?t|cannot)\s+(?:be\s+(?:any\s+)?(?:happier|more\s+(?:pleased|"
                r"satisfied|delighted|impressed|thrilled))|ask\s+for\s+(?:a\s+|an\s+)?better(?:\s+[\w-]+)?)",
                re.IGNORECASE), "are delighted"),
    # the absence of a bad thing: "zero missed SLAs", "not a single failed sync", "no P1 incidents"
    (re.compile(rf"\b(?:zero|no|not\s+(?:a\s+single|one)|without\s+(?:a\s+single|any))\s+(?:(?!(?:and|but|or)\b)[\w-]+\s+){{0,2}}"
                rf"(?:{_BAD_THINGS})\b(?!\s+{_COMPOUND_HEADS})", re.IGNORECASE), "a flawless record"),
    # doing more without paying for it: "without adding headcount", "without hiring anyone"
    (re.compile(r"\bwithout\s+(?:adding|hiring|extra|more|new|any\s+(?:more|extra|new))\s+(?:[\w-]+\s+){0,2}?"
                r"(?:headcount|staff|people|hires|agents|anyone|cost|budget)\b", re.IGNORECASE), "at no extra cost"),
    # a bad measure made smaller: "cut invoice disputes resolution time in half", "reduced churn by 30%"
    (re.compile(rf"\b(?:cut|cuts|halved|halves|reduced|reduces|slashed|slashes|lowered|lowers|shrank|shrunk|"
                rf"decreased|decreases)\s+(?:(?!(?:and|but|or)\b)[\w'-]+\s+){{0,4}}(?:{_BAD_MEASURES})\b"
                r"(?:\s+(?:in\s+half|by\s+(?:half|a\s+third|\d+(?:\.\d+)?\s*%)|from\s+[^,;.!?]+?\s+to\s+[\w.]+))?",
                re.IGNORECASE), "made a big improvement"),
    # ... and a bad measure falling: "errors dropped sharply", "resolution time fell by half"
    (re.compile(rf"\b(?:{_BAD_MEASURES})\s+(?:dropped|fell|went\s+down|halved|decreased|shrank)\b", re.IGNORECASE),
     "things improved"),
)


def plain_reading(text: str) -> str:
    """`text` with each idiom of PLAIN_READINGS said plainly (what the classifier embeds)."""
    for pattern, plain in PLAIN_READINGS:
        text = pattern.sub(plain, text)
    return text


class Embedder(Protocol):
    """Anything with MiniLMEmbeddingFunction's `embed_array` (unit-length rows, one per text)."""

    def embed_array(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class SentimentPrediction:
    label: str  # "positive" | "negative" | "neutral"
    confidence: float  # probability of `label` under the model, 0..1 (0 for empty text)
    method: str  # METHOD, or EMPTY_METHOD for empty text


@dataclass(frozen=True)
class LabelledNote:
    text: str
    label: str
    kind: str = "other"
    hard: bool = False


def load_examples(path: Path = DATA_PATH) -> list[LabelledNote]:
    """The labelled notes (see data/README.md)."""
    notes: list[LabelledNote] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["label"] not in LABELS:
                raise ValueError(f"{path}:{line_no}: unknown label {row['label']!r}")
            notes.append(LabelledNote(row["text"], row["label"], row.get("kind", "other"), bool(row.get("hard"))))
    return notes


def split_clauses(text: str) -> list[str]:
    """Clauses of a note (at least one: the note itself when nothing splits it)."""
    parts = [p.strip(" \t-'\"") for p in _CLAUSE_SPLIT.split(text)]
    clauses = [p for p in parts if len(p) > 1]
    return clauses or [text.strip()]


def _multi_clauses(text: str) -> list[str]:
    """The clauses of a note that has more than one; [] otherwise."""
    clauses = split_clauses(text)
    return clauses if len(clauses) > 1 else []


def stratified_folds(labels: Sequence[int] | np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold number per item; each class is shuffled (fixed seed) and dealt round-robin across folds."""
    y = np.asarray(labels)
    folds = np.zeros(len(y), dtype=np.int64)
    rng = np.random.default_rng(seed)
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        folds[idx] = np.arange(len(idx)) % n_folds
    return folds


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True)
class SoftmaxRegression:
    """A fitted multinomial logistic regression over standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (n_features, n_classes)
    bias: np.ndarray  # (n_classes,)

    def logits(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return out

    def proba(self, x: np.ndarray) -> np.ndarray:
        return _softmax(self.logits(x))


def fit_softmax(x: np.ndarray, y: np.ndarray, n_classes: int, l2: float) -> SoftmaxRegression:
    """Minimise mean cross-entropy + l2/2 * ||W||^2 (bias not penalised) on standardised features."""
    from scipy.optimize import minimize

    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    xs = (x - mean) / scale
    n, d = xs.shape
    onehot = np.eye(n_classes)[y]

    def loss_and_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        weights = w[: d * n_classes].reshape(d, n_classes)
        bias = w[d * n_classes :]
        p = _softmax(xs @ weights + bias)
        loss = -float(np.sum(onehot * np.log(p + 1e-12))) / n + 0.5 * l2 * float(np.sum(weights * weights))
        g = (p - onehot) / n
        grad = np.concatenate([(xs.T @ g + l2 * weights).ravel(), g.sum(axis=0)])
        return loss, grad

    result = minimize(
        loss_and_grad, np.zeros(d * n_classes + n_classes), jac=True, method="L-BFGS-B",
        options={"maxiter": 1000},
    )
    w = result.x
    return SoftmaxRegression(mean, scale, w[: d * n_classes].reshape(d, n_classes), w[d * n_classes :])


@dataclass(frozen=True)
class _BaseModels:
    topic: SoftmaxRegression  # 3-class over the note embedding
    polarity: SoftmaxRegression  # negative (0) vs positive (1)


@dataclass(frozen=True)
class _Fitted:
    base: _BaseModels
    stack: SoftmaxRegression


class SentimentClassifier:
    """Stacked softmax regressions over MiniLM embeddings; fitted once, lazily, on first use.

    `examples` are (text, label) pairs, by default the shipped labelled notes. `k` is the number of
    cross-fitting folds used to produce the out-of-fold features the stacking model is trained on.
    `clause_features=False` and `polarity_pairs=False` switch those parts off (for the evaluation's
    ablations).
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        examples: list[tuple[str, str]] | None = None,
        k: int = 5,
        *,
        l2_topic: float = 3.0,
        l2_polarity: float = 10.0,
        l2_stack: float = 0.01,
        clause_features: bool = True,
        polarity_pairs: bool = True,
        seed: int = 0,
    ) -> None:
        if k < 2:
            raise ValueError("k must be >= 2")
        self._embedder = embedder
        self._examples = list(examples) if examples is not None else None
        self.k = k
        self.l2_topic = l2_topic
        self.l2_polarity = l2_polarity
        self.l2_stack = l2_stack
        self.clause_features = clause_features
        self.polarity_pairs = polarity_pairs
        self.seed = seed
        self._lock = threading.Lock()
        self._fitted: _Fitted | None = None
        self._memo: dict[str, SentimentPrediction] = {}
        self._memo_lock = threading.Lock()

    # -- public API ------------------------------------------------------------------------------

    def classify(self, texts: list[str]) -> list[SentimentPrediction]:
        """One prediction per text, in order. Empty or whitespace-only text is neutral with confidence 0.

        Predictions are remembered per text (the model is fixed once fitted), so a scan that runs every few
        minutes embeds only the notes it has not seen before."""
        with self._memo_lock:
            known = {t: self._memo[t] for t in texts if t in self._memo}
        todo = list(dict.fromkeys(t for t in texts if (t or "").strip() and t not in known))
        if todo:
            fresh = {}
            for text, p in zip(todo, self.predict_proba(todo), strict=True):
                best = int(np.argmax(p))
                fresh[text] = SentimentPrediction(LABELS[best], round(float(p[best]), 4), METHOD)
            known.update(fresh)
            self.remember(fresh)  # bounded: a long-lived process with endless new notes starts over
        empty = SentimentPrediction(LABELS[NEUTRAL], 0.0, EMPTY_METHOD)
        return [known[t] if (t or "").strip() else empty for t in texts]

    def classify_one(self, text: str) -> SentimentPrediction:
        return self.classify([text])[0]

    def known(self, texts: Sequence[str]) -> dict[str, SentimentPrediction]:
        """The predictions this classifier already holds in memory for these texts (no model call)."""
        with self._memo_lock:
            return {t: self._memo[t] for t in texts if t in self._memo}

    def forget(self) -> None:
        """Drop the remembered predictions (the state of a fresh process; benchmarks and tests)."""
        with self._memo_lock:
            self._memo.clear()

    def remember(self, predictions: dict[str, SentimentPrediction]) -> None:
        """Adopt predictions made by this same fitted model elsewhere (the store's, engines.note_sentiment),
        so `classify` answers them from memory."""
        with self._memo_lock:
            if len(self._memo) + len(predictions) > MEMO_MAX:
                self._memo.clear()
            self._memo.update(predictions)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 3) probabilities in LABELS order; empty texts get a uniform row."""
        probs = np.full((len(texts), len(LABELS)), 1.0 / len(LABELS))
        idx = [i for i, t in enumerate(texts) if (t or "").strip()]
        if not idx:
            return probs
        fitted = self.fit()
        clean = [plain_reading(texts[i].strip()) for i in idx]
        clauses = [c for t in clean for c in _multi_clauses(t)] if self.clause_features else []
        unique = list(dict.fromkeys([*clean, *clauses]))
        vectors = dict(zip(unique, self._embed(unique), strict=True))  # one embedding call
        x = np.stack([vectors[t] for t in clean])
        features = self._stack_features(fitted.base, clean, x, {c: vectors[c] for c in clauses})
        probs[idx] = fitted.stack.proba(features)
        return probs

    def fit(self) -> _Fitted:
        """Fit (once; later calls return the cached models). Thread-safe."""
        if self._fitted is not None:
            return self._fitted
        with self._lock:
            if self._fitted is None:
                self._fitted = self._fit()
            return self._fitted

    def fingerprint(self, embedder_id: str) -> str:
        """What the fitted models depend on: training notes, polarity pairs, options and the embedding model.
        A saved model whose fingerprint differs is stale and is not loaded."""
        h = hashlib.sha256()
        h.update(f"{MODEL_FORMAT}|{embedder_id}|{self.k}|{self.l2_topic}|{self.l2_polarity}|{self.l2_stack}|"
                 f"{self.clause_features}|{self.polarity_pairs}|{self.seed}".encode())
        h.update(DATA_PATH.read_bytes() if self._examples is None else json.dumps(self._examples).encode())
        h.update(json.dumps(POLARITY_PAIRS).encode())
        h.update(json.dumps([[p.pattern, plain] for p, plain in PLAIN_READINGS]).encode())
        return h.hexdigest()

    def save(self, path: Path, embedder_id: str) -> None:
        """Write the fitted models (fitting first if needed) with their fingerprint."""
        fitted = self.fit()
        arrays: dict[str, np.ndarray] = {"fingerprint": np.asarray(self.fingerprint(embedder_id))}
        for name, model in (("topic", fitted.base.topic), ("polarity", fitted.base.polarity), ("stack", fitted.stack)):
            for part in ("mean", "scale", "weights", "bias"):
                arrays[f"{name}.{part}"] = getattr(model, part)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub wants positional arrays

    def load(self, path: Path, embedder_id: str) -> bool:
        """Adopt the models saved at `path` when they were fitted on exactly this configuration; False (and
        nothing changes) when the file is missing, unreadable or stale."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["fingerprint"]) != self.fingerprint(embedder_id):
                    return False
                models = {name: SoftmaxRegression(*(np.asarray(data[f"{name}.{part}"], dtype=np.float64)
                                                    for part in ("mean", "scale", "weights", "bias")))
                          for name in ("topic", "polarity", "stack")}
        except (OSError, KeyError, ValueError):
            return False
        with self._lock:
            self._fitted = _Fitted(_BaseModels(models["topic"], models["polarity"]), models["stack"])
        return True

    # -- internals -------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from vectorstore.embeddings import MiniLMEmbeddingFunction

            self._embedder = MiniLMEmbeddingFunction()
        return self._embedder

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float64)
        return np.asarray(self.embedder.embed_array(list(texts)), dtype=np.float64)

    def _training_set(self) -> tuple[list[str], np.ndarray]:
        pairs = [(n.text, n.label) for n in load_examples()] if self._examples is None else self._examples
        texts: list[str] = []
        labels: list[int] = []
        for text, label in pairs:
            if label not in LABELS:
                raise ValueError(f"unknown label {label!r}")
            if text and text.strip():
                texts.append(plain_reading(text.strip()))
                labels.append(LABELS.index(label))
        y = np.asarray(labels, dtype=np.int64)
        if len(texts) < 2 * self.k or any(int(np.sum(y == c)) < self.k for c in range(len(LABELS))):
            raise ValueError(f"need at least k={self.k} examples of each label to fit")
        return texts, y

    def _fit(self) -> _Fitted:
        texts, y = self._training_set()
        # One embedding call for the notes, the clauses of multi-clause notes and the polarity pairs (one
        # onnxruntime warm-up instead of three); the clause vectors serve every cross-fitting round.
        pair_texts = [p for p, _ in POLARITY_PAIRS] + [n for _, n in POLARITY_PAIRS] if self.polarity_pairs else []
        clauses = [c for t in texts for c in _multi_clauses(t)] if self.clause_features else []
        unique = list(dict.fromkeys([*texts, *clauses, *pair_texts]))
        vectors = dict(zip(unique, self._embed(unique), strict=True))
        x = np.stack([vectors[t] for t in texts])
        clause_cache = {c: vectors[c] for c in clauses}
        if pair_texts:
            n_pairs = len(POLARITY_PAIRS)
            anchors = (np.stack([vectors[t] for t in pair_texts]), np.r_[np.ones(n_pairs), np.zeros(n_pairs)].astype(np.int64))
        else:
            anchors = (np.zeros((0, x.shape[1])), np.zeros(0, dtype=np.int64))

        # Out-of-fold level-1 outputs: the stacking model must see how the base models do on unseen notes.
        folds = stratified_folds(y, self.k, self.seed)
        oof: np.ndarray | None = None
        for f in range(self.k):
            train, held = folds != f, folds == f
            base = self._fit_base(x[train], y[train], anchors)
            held_texts = [t for t, h in zip(texts, held, strict=True) if h]
            feats = self._stack_features(base, held_texts, x[held], clause_cache)
            if oof is None:
                oof = np.zeros((len(texts), feats.shape[1]))
            oof[held] = feats
        assert oof is not None
        stack = fit_softmax(oof, y, len(LABELS), self.l2_stack)
        return _Fitted(self._fit_base(x, y, anchors), stack)

    def _fit_base(self, x: np.ndarray, y: np.ndarray, anchors: tuple[np.ndarray, np.ndarray]) -> _BaseModels:
        topic = fit_softmax(x, y, len(LABELS), self.l2_topic)
        polar = y != NEUTRAL
        px = np.vstack([x[polar], anchors[0]])
        py = np.r_[(y[polar] == POSITIVE).astype(np.int64), anchors[1]]
        return _BaseModels(topic, fit_softmax(px, py, 2, self.l2_polarity))

    def _stack_features(
        self, base: _BaseModels, texts: list[str], x: np.ndarray, clause_cache: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Per note: centred 3-class logits (3), polarity of the whole note, and, with clause features,
        polarity of the most positive, most negative and last clause, their spread and a multi-clause flag."""
        topic = base.topic.logits(x)
        topic -= topic.mean(axis=1, keepdims=True)
        polarity = _polarity(base.polarity, x)
        if not self.clause_features:
            return np.column_stack([topic, polarity])
        per_note = [_multi_clauses(t) for t in texts]
        cache = clause_cache if clause_cache is not None else {}
        missing = list(dict.fromkeys(c for cs in per_note for c in cs if c not in cache))
        if missing:
            cache = {**cache, **dict(zip(missing, self._embed(missing), strict=True))}
        rows = []
        for clauses, whole in zip(per_note, polarity, strict=True):
            if not clauses:  # a single clause: the note itself
                rows.append([whole, whole, whole, 0.0, 0.0])
                continue
            c = _polarity(base.polarity, np.stack([cache[c] for c in clauses]))
            rows.append([float(c.max()), float(c.min()), float(c[-1]), float(c.max() - c.min()), 1.0])
        return np.column_stack([topic, polarity, np.asarray(rows, dtype=np.float64).reshape(len(texts), 5)])


def _polarity(model: SoftmaxRegression, x: np.ndarray) -> np.ndarray:
    """Log-odds of positive vs negative."""
    z = model.logits(x)
    out: np.ndarray = z[:, 1] - z[:, 0]
    return out


@functools.cache
def default_classifier() -> SentimentClassifier:
    """The process-wide classifier over the shipped labelled notes: the shipped fitted model when it matches
    the notes and options (see MODEL_PATH), else fitted on first use (and a warning says the file is stale)."""
    from vectorstore.model_id import MODEL_ID

    classifier = SentimentClassifier()
    if not classifier.load(MODEL_PATH, MODEL_ID):
        log.warning("the shipped sentiment model is missing or stale: fitting in this process "
                    "(run `python -m warmintro.engines.sentiment` to rewrite it)")
    return classifier


@functools.cache
def default_fingerprint() -> str:
    """The default classifier's fingerprint (what its stored predictions are keyed by), computed once."""
    from vectorstore.model_id import MODEL_ID

    return default_classifier().fingerprint(MODEL_ID)


def classify_one(text: str) -> SentimentPrediction:
    """Sentiment of one note with the default classifier."""
    return default_classifier().classify_one(text)


def write_shipped_model(path: Path = MODEL_PATH) -> Path:
    """Fit the default classifier and write it where `default_classifier` loads it from."""
    from vectorstore.model_id import MODEL_ID

    SentimentClassifier().save(path, MODEL_ID)
    return path


if __name__ == "__main__":
    print(f"wrote {write_shipped_model()}")
