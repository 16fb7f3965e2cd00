"""A style distance that does not come from the signature or the topic.

Authorship by TF-IDF n-grams (evals.voice_fidelity) mostly recognises a note by its sign-off name: without
it, the composer's note is near chance. This measure looks only at how a person writes, not what about or
how they sign:

- the greeting line and the sign-off (valediction, name, signature block) are removed first
  (`warmintro.voice.profile.parse_message`), and so are quoted lines;
- function words only (a fixed list of ~120 pronouns, articles, auxiliaries, prepositions, conjunctions,
  hedges): their relative frequencies; every other word, so every topic word, is ignored;
- sentence length (mean and spread, in words), words per paragraph;
- punctuation habits per 100 words: commas, semicolons, colons, dashes, parentheses, exclamation and
  question marks, ellipses, double spaces after a full stop;
- casing habits: sentences that start in lower case, "i" written lower case, words in capitals;
- the contraction rate (contractions per 100 words).

Each feature is standardised over the authors' reference texts (z-scores), grouped (function words,
sentence shape, punctuation, casing, contractions), and the distance is the mean over groups of the
Euclidean distance divided by the square root of the group's size, so no group outweighs the others by
its number of features.

`closest(draft_vectors, author_vectors)` tells, per draft, the rank of its own author by distance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from warmintro.voice.profile import parse_message

__all__ = ["FUNCTION_WORDS", "GROUPS", "StyleSpace", "features", "strip_frame"]

_FUNCTION_WORDS_TEXT = """
a about above after again against all also although am an and any are as at be because been before being
below between both but by can could did do does doing down during each either else even ever every few for
from further had has have having he her here hers herself him himself his how however i if in indeed into
is it its itself just least less may maybe me might more most much must my myself neither no nor not now of
off on once only or other others otherwise our ours ourselves out over own perhaps please quite rather
really same shall she should since so some such than that the their theirs them themselves then there
therefore these they this those though through thus to too under until up upon us very was we were what
when where whether which while who whom whose why will with within without would yet you your yours
yourself yourselves actually anyway basically certainly probably possibly simply surely think guess
"""
FUNCTION_WORDS: tuple[str, ...] = tuple(_FUNCTION_WORDS_TEXT.split())
_FW_INDEX = {w: i for i, w in enumerate(FUNCTION_WORDS)}
_SHAPE = ("sentence_mean", "sentence_spread", "paragraph_words")
_PUNCT = ("comma", "semicolon", "colon", "dash", "paren", "exclaim", "question", "ellipsis", "double_space")
_CASING = ("lower_start", "lower_i", "caps_words")
_CONTRACT = ("contractions",)
GROUPS: tuple[tuple[str, int], ...] = (
    ("function_words", len(FUNCTION_WORDS)), ("shape", len(_SHAPE)), ("punctuation", len(_PUNCT)),
    ("casing", len(_CASING)), ("contractions", len(_CONTRACT)),
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_SENT = re.compile(r"(?<=[.!?])\s+|\n{2,}")
_CONTRACTION = re.compile(r"\b\w+(?:n't|'m|'re|'ve|'ll|'d|'s)\b|\b\w+(?:n’t|’m|’re|’ve|’ll|’d|’s)\b", re.I)


def strip_frame(body: str) -> str:
    """The text between the greeting and the sign-off, without quoted lines."""
    parsed = parse_message(body)
    lines = [ln for ln in parsed.body_lines if not ln.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def features(texts: Sequence[str]) -> np.ndarray:
    """One style vector for a set of texts by one writer (already stripped of greeting and sign-off)."""
    fw = np.zeros(len(FUNCTION_WORDS))
    words_total = 0
    sentence_lengths: list[int] = []
    paragraph_words: list[int] = []
    counts = dict.fromkeys(_PUNCT + _CASING + _CONTRACT, 0.0)
    sentences_total = 0
    i_total = 0
    for text in texts:
        words = _WORD.findall(text)
        words_total += len(words)
        for w in words:
            j = _FW_INDEX.get(w.lower().replace("’", "'"))
            if j is not None:
                fw[j] += 1
            if w.lower() == "i":
                i_total += 1
                counts["lower_i"] += w == "i"
            if len(w) > 1 and w.isupper() and w != "I":
                counts["caps_words"] += 1
        for para in re.split(r"\n\s*\n", text):
            n = len(_WORD.findall(para))
            if n:
                paragraph_words.append(n)
        for sent in _SENT.split(text):
            ws = _WORD.findall(sent)
            if not ws:
                continue
            sentences_total += 1
            sentence_lengths.append(len(ws))
            first = sent.lstrip(" \"'(*-•")[:1]
            counts["lower_start"] += first.isalpha() and first.islower()
        counts["comma"] += text.count(",")
        counts["semicolon"] += text.count(";")
        counts["colon"] += len(re.findall(r":(?!//)", text))
        counts["dash"] += len(re.findall(r"\s[-–—]\s|—|–", text))
        counts["paren"] += text.count("(")
        counts["exclaim"] += text.count("!")
        counts["question"] += text.count("?")
        counts["ellipsis"] += text.count("...") + text.count("…")
        counts["double_space"] += len(re.findall(r"[.!?]  (?=\S)", text))
        counts["contractions"] += len(_CONTRACTION.findall(text))
    per100 = 100.0 / max(1, words_total)
    fw_rel = fw / max(1, words_total)
    shape = [float(np.mean(sentence_lengths)) if sentence_lengths else 0.0,
             float(np.std(sentence_lengths)) if sentence_lengths else 0.0,
             float(np.mean(paragraph_words)) if paragraph_words else 0.0]
    punct = [counts[k] * per100 for k in _PUNCT]
    casing = [counts["lower_start"] / max(1, sentences_total), counts["lower_i"] / max(1, i_total),
              counts["caps_words"] * per100]
    contract = [counts["contractions"] * per100]
    return np.concatenate([fw_rel, shape, punct, casing, contract])


class StyleSpace:
    """Standardisation and the grouped distance, fitted on the authors' reference vectors."""

    def __init__(self, reference: np.ndarray) -> None:
        self.mean = reference.mean(axis=0)
        self.scale = reference.std(axis=0)
        self.scale[self.scale < 1e-9] = 1.0
        bounds = np.cumsum([0] + [n for _, n in GROUPS])
        self.slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def z(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale

    def distances(self, drafts: np.ndarray, authors: np.ndarray) -> np.ndarray:
        """[len(drafts), len(authors)] grouped distances."""
        a, b = self.z(np.atleast_2d(drafts)), self.z(np.atleast_2d(authors))
        total = np.zeros((a.shape[0], b.shape[0]))
        for s in self.slices:
            diff = a[:, None, s] - b[None, :, s]
            total += np.sqrt((diff ** 2).sum(axis=2)) / np.sqrt(s.stop - s.start)
        return total / len(self.slices)

    def ranks(self, drafts: np.ndarray, authors: np.ndarray) -> list[int]:
        """Per draft i (written for author i), the rank of author i among all authors by distance (1 = closest)."""
        d = self.distances(drafts, authors)
        return [int((row < row[i]).sum()) + 1 for i, row in enumerate(d)]
