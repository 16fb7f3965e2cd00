"""The grounding validator: a draft may only name, number and address what the facts hold.

Checked in every text of a draft (the ask, the note's subject and body):
- person and company names: capitalised name-like spans ("Bob Smith", "Acme Corp", "IBM"). A span passes
  when it appears in the facts as written, or (one word) when that word is part of a fact name; a common
  English word opening a sentence or a line ("Hope", "Thanks") is not a name. The champion and the CSM may
  sign with a short form of their own name ("Alex" for "Alexandre", "JN" for "J C Nash").
- numbers: digits, percentages and money; the value must occur in the facts ("$1,200" = "1200").
- email addresses: must be one of the facts' addresses.

Limits, by design of a deterministic check: a name written all in lower case, or a common word used as a
name mid-sentence after another fact word, is not seen; number words ("five") are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from warmintro.voice._lexicon import (
    COMMON_WORDS,
    GENERIC_ACRONYMS,
    GREETING_WORDS,
    MONTHS_AND_DAYS,
    VALEDICTIONS,
    wordset,
)
from warmintro.voice.drafting import DraftFacts

__all__ = ["Grounding", "Violation", "validate"]

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<cur>[$€£])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<suf>\s?%|\s?percent\b|[kKmMbB]n?\b|x\b)?"
)
_CONNECTORS = r"(?:of|de|del|van|von|der|den|da|di|du|la|le|&)"
_ABBREVIATIONS = frozenset({"inc", "corp", "ltd", "co", "jr", "sr", "st", "dr", "mr", "mrs", "ms", "prof"})
_CAP_TOKEN = r"(?:[A-Z](?:[\w'’.&-]*[\w'’])?\.?|[A-Z]{2,}(?:[\w&-]*\w)?)"  # a trailing dash is punctuation ("Ana-")
_SPAN = re.compile(rf"(?<![\w@.'’-]){_CAP_TOKEN}(?:[ \t]+(?:{_CONNECTORS}[ \t]+)?{_CAP_TOKEN})*")
_WORDS = re.compile(r"[A-Za-z][\w'’-]*")
_COMPANY_SUFFIX = wordset("""
inc inc. llc ltd ltd. corp corp. corporation co co. company group labs lab systems technologies technology
solutions partners logistics foods health healthcare bank capital software gmbh ag sa plc holdings industries
analytics networks ventures media studios consulting services shipping freight lines airlines motors
""")
_SENTENCE_START = re.compile(r"(?:^\s*|[.!?:;]\s+|[•*\-–—/]\s*|[\"“(]\s*)$")
_ALWAYS_ORDINARY = frozenset({"i", "i'm", "i've", "i'll", "i'd", "i’m", "i’ve", "i’ll", "i’d", "ok", "mr", "mrs", "ms",
                              "dr", "prof", "ps", "p.s"})
_STARTER_WORDS = frozenset(w.split()[0] for w in (*GREETING_WORDS, *VALEDICTIONS))


@dataclass(frozen=True)
class Violation:
    kind: str  # "name", "company", "number", "email"
    text: str

    def __str__(self) -> str:
        return f"{self.kind} {self.text!r} is not in the facts"


def _norm_number(num: str, suffix: str | None) -> str:
    value = num.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


def _strip_possessive(token: str) -> str:
    return re.sub(r"['’]s$", "", token).rstrip(".")


class Grounding:
    """What a draft built from `facts` may mention. `vocabulary`: extra ordinary words (e.g. from the
    champion's own emails) that are not names when they open a sentence."""

    def __init__(self, facts: DraftFacts, vocabulary: Iterable[str] = ()) -> None:
        self.facts = facts
        texts = facts.texts()
        self._fact_lower = [t.lower() for t in texts]
        self._fact_blob = "\n".join(self._fact_lower)
        self._tokens = {_strip_possessive(w).lower() for t in texts for w in _WORDS.findall(t)}
        self._numbers = {
            _norm_number(m.group("num"), m.group("suf")) for t in texts for m in _NUMBER.finditer(t)
        }
        self._emails = {e.lower() for t in texts for e in _EMAIL.findall(t)}
        self._vocabulary = {w.lower() for w in vocabulary} | COMMON_WORDS
        self._self_forms: set[str] = set()
        self._initials: set[tuple[str, str]] = set()
        for person in (facts.champion, facts.csm):
            if person is not None and person.name:
                self._self_forms |= _name_forms(person.name)
                words = _WORDS.findall(person.name)
                if words:
                    self._initials.add((words[0][0].lower(), words[-1][0].lower()))

    # -------------------------------------------------------------------------------------------

    def check(self, text: str) -> list[Violation]:
        """Every name, company, number or email address in `text` that the facts do not hold."""
        out: list[Violation] = []
        seen: set[tuple[str, str]] = set()

        def add(kind: str, value: str) -> None:
            if (kind, value.lower()) not in seen:
                seen.add((kind, value.lower()))
                out.append(Violation(kind, value))

        for m in _EMAIL.finditer(text):
            if m.group().lower() not in self._emails:
                add("email", m.group())
        scrubbed = _EMAIL.sub(lambda m: " " * len(m.group()), text)
        for m in _NUMBER.finditer(scrubbed):
            if _norm_number(m.group("num"), m.group("suf")) not in self._numbers:
                add("number", m.group().strip())
        for line in scrubbed.split("\n"):
            title_case = _is_title_case(line)
            for m in _SPAN.finditer(line):
                self._check_span(line, m.start(), m.group(), title_case, add)
        return out

    def mentioned_names(self, text: str) -> list[str]:
        """The fact names (people, companies, the vendor) that `text` mentions."""
        low = text.lower()
        return [n for n in self.facts.names() if re.search(r"(?<!\w)" + re.escape(n.lower()) + r"(?!\w)", low)]

    # -------------------------------------------------------------------------------------------

    def _check_span(self, line: str, start: int, span: str, title_case: bool, add: Callable[[str, str], None]) -> None:
        at_start = bool(_SENTENCE_START.search(line[:start]))
        phrases: list[list[str]] = [[]]
        for tok in span.split():
            word = _strip_possessive(tok)
            low = word.lower()
            if re.fullmatch(_CONNECTORS, tok):
                if phrases[-1]:
                    phrases[-1].append(tok)
                continue
            ordinary = (
                low in _ALWAYS_ORDINARY
                or low in MONTHS_AND_DAYS
                or (word.isupper() and low in GENERIC_ACRONYMS)
                or ((title_case or at_start) and (low in self._vocabulary or low in _STARTER_WORDS))
            )
            # "IBM. Then" : a word ending a sentence ends the span; the next word opens a sentence.
            ends = tok.endswith(".") and len(tok) > 2 and low not in _ABBREVIATIONS and not word.isupper()
            ends = ends or (tok.endswith(".") and word.isupper() and len(word) > 1)
            at_start = ends
            if ordinary:
                phrases.append([])
                continue
            phrases[-1].append(word)
            if ends:
                phrases.append([])
        for kept in phrases:
            while kept and re.fullmatch(_CONNECTORS, kept[-1]):
                kept.pop()
            if kept and not self._grounded(kept):
                kind = "company" if self._looks_like_company(line, start, span, kept) else "name"
                add(kind, " ".join(kept))

    def _grounded(self, kept: list[str]) -> bool:
        phrase = " ".join(kept).lower()
        if re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", self._fact_blob):
            return True
        words = [t for t in kept if not re.fullmatch(_CONNECTORS, t)]
        if len(words) == 1 and (words[0].lower() in self._tokens):
            return True
        return all(self._is_self_form(w) for w in words)

    def _is_self_form(self, word: str) -> bool:
        low = word.lower().strip(".")
        if low in self._self_forms:
            return True
        # Initials with middle letters: "THK" for Tim Keitt; "J.N." for J C Nash.
        letters = low.replace(".", "")
        return word.replace(".", "").isupper() and 2 <= len(letters) <= 4 and any(
            letters[0] == f and letters[-1] == la for f, la in self._initials
        )

    @staticmethod
    def _looks_like_company(line: str, start: int, span: str, tokens: list[str]) -> bool:
        if any(t.lower().rstrip(",") in _COMPANY_SUFFIX for t in tokens[1:]):
            return True
        before = line[: start + span.find(tokens[0])].rstrip().lower()
        return bool(re.search(r"\b(at|from|joined|of)$", before)) or (len(tokens) == 1 and tokens[0].isupper())


def _is_title_case(line: str) -> bool:
    words = [w for w in _WORDS.findall(line) if len(w) > 3]
    if len(words) < 3:
        return False
    return sum(1 for w in words if w[:1].isupper()) >= 0.6 * len(words)


def _name_forms(name: str) -> set[str]:
    """Short forms a person may sign with: each name word, 3+ letter prefixes of the first name, the
    initials and the first initial (initials with middle letters are checked in `_is_self_form`)."""
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", name) if w]
    if not words:
        return set()
    forms = {w.lower() for w in words}
    first = words[0]
    forms |= {first[:k].lower() for k in range(3, len(first) + 1)}
    forms.add("".join(w[0] for w in words).lower())
    forms.add(first[0].lower())
    return forms


def validate(text: str, facts: DraftFacts, *, vocabulary: Iterable[str] = ()) -> list[Violation]:
    """The violations in `text`: each name, company, number or email address not from `facts`."""
    return Grounding(facts, vocabulary).check(text)
