"""The concrete problem a customer says we solved, read from the trigger's own words (an NPS comment,
QBR notes), for the ask's frame: "who in your network is still dealing with <problem>?".

Only the customer's own words are used; when they name no concrete outcome, the frame falls back to the
vendor's one-liner (which is also data), never to an invented claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+|\s+-\s+|\u2022")
_OUTCOME = re.compile(
    r"\b(cut|cuts|reduced|reduce|saved|saves|save|down|dropped|fewer|faster|automated|eliminated|no more|"
    r"went from|from \S+ to|halved|doubled|increased|improved|up \d|finally|instead of|in minutes|hours|days)\b",
    re.I,
)
_CUT_FROM_TO = re.compile(
    r"\b(?:cut|reduced|brought down|took|dropped)\s+(?:our |the |their )?(?P<what>[\w\s/-]{3,40}?)\s+from\s+"
    r"(?P<a>[\w\s.,%-]{1,20}?)\s+to\s+(?P<b>[\w\s.,%-]{1,20})",
    re.I,
)
_LEAD = re.compile(r"^(qbr|nps|note|notes|update)\s*[:\-]\s*", re.I)


@dataclass(frozen=True)
class Problem:
    solved: str  # the outcome in the customer's words
    dealing_with: str  # what peers are still struggling with, for the ask frame
    source: str  # "trigger_text" or "vendor_one_liner"


def _clean(sentence: str) -> str:
    s = _LEAD.sub("", sentence.strip().strip("\"'")).strip()
    s = re.sub(r"\s+", " ", s)
    return s.rstrip(".!;, ")


def extract_problem(text: str | None, vendor_one_liner: str | None = None) -> Problem | None:
    if text and text.strip():
        sentences = [_clean(s) for s in _SENTENCE.split(text) if s and len(s.strip()) > 3]
        sentences = [s for s in sentences if s]
        clauses = [_clean(c) for s in sentences for c in re.split(r"[,:]\s+", s)]
        outcome = next((s for s in sentences if _CUT_FROM_TO.search(s)), None) or next(
            (c for c in clauses if c and _OUTCOME.search(c)), None)
        if outcome:
            m = _CUT_FROM_TO.search(outcome)
            if m:
                what = m.group("what").strip()
                dealing = f"{what} that still takes {m.group('a').strip()}"
            else:
                dealing = _as_struggle(outcome)
            return Problem(outcome, dealing, "trigger_text")
    if vendor_one_liner:
        return Problem(vendor_one_liner, f"the problem we solve: {vendor_one_liner}", "vendor_one_liner")
    return None


def _as_struggle(outcome: str) -> str:
    """'routing errors down 40%' -> 'routing errors' ; otherwise the outcome itself, lower-cased start."""
    m = re.match(r"(?P<what>[\w\s/-]{3,50}?)\s+(?:down|dropped|fell|cut)\b", outcome, re.I)
    if m:
        return m.group("what").strip().lower()
    m = re.search(r"\bsav\w*\s+.+?\s+(?:on|in)\s+(?P<what>[\w\s/-]{3,40})$", outcome, re.I)
    if m:
        return m.group("what").strip().lower()
    return outcome[0].lower() + outcome[1:] if outcome else outcome
