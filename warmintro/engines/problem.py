"""The concrete problem a customer says we solved, read from their own words (an NPS comment; QBR and
other CSM notes only as a source of the topic, never quoted), for the ask's frame: "who in your network
is dealing with <problem>?".

The problem is a short noun phrase made of the customer's own words, turned from the outcome they
describe into the struggle a peer still has:

    "took our CSAT from 78 to 91"                        -> "low CSAT"
    "took first-response time from 9 hours to 40 minutes" -> "slow first-response times"
    "cleared a 1,200-ticket backlog in two weeks"         -> "a ticket backlog"
    "let us absorb 30% more volume without adding headcount" -> "growing volume without the headcount to match"
    "any ops team drowning in email"                      -> "an ops team drowning in email"

A phrase with a number, a name, the same word twice or more than eight words is not used. When the words
name no concrete problem, there is none (the question then asks plainly who could use the vendor): never
the vendor's tagline, never an invented claim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["Problem", "extract_problem", "problem_phrase"]

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+|\s+[-–—]\s+|\u2022")
_LEAD = re.compile(r"^(qbr|nps|note|notes|update)\s*[:\-]\s*", re.I)
_NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "dozen", "hundred", "thousand", "half", "about", "around", "nearly", "almost", "over"]
_TIME_UNITS = {"minute": 1, "minutes": 1, "min": 1, "mins": 1, "hour": 60, "hours": 60, "hrs": 60, "day": 1440,
               "days": 1440, "week": 10080, "weeks": 10080, "month": 43200, "months": 43200}
_TIME_WORDS = re.compile(r"\b(time|times|close|cycle|wait|turnaround|resolution|onboarding|planning|response)\b", re.I)


@dataclass(frozen=True)
class Problem:
    solved: str  # the outcome, as the customer put it (a clause of their text)
    dealing_with: str  # the problem peers still have: a short, clean noun phrase
    source: str  # "trigger_text"


def _clean(sentence: str) -> str:
    s = _LEAD.sub("", sentence.strip().strip("\"'“”")).strip()
    s = re.sub(r"\s+", " ", s)
    return s.rstrip(".!;, \"'”")


def _amount(num: str, unit: str | None) -> tuple[float, str | None] | None:
    num = num.strip().lower()
    value = 1.0 if num in ("a", "an", "one") else None
    if value is None:
        try:
            value = float(num.replace(",", ""))
        except ValueError:
            return None
    u = (unit or "").strip().lower() or None
    return value, u


def _in_minutes(amount: tuple[float, str | None], fallback_unit: str | None) -> float:
    value, unit = amount
    return value * _TIME_UNITS.get(unit or fallback_unit or "", 1)


def _strip_numbers(phrase: str) -> str:
    words = [w for w in phrase.split() if not re.search(r"\d", w) and w.lower() not in _NUMBER_WORDS]
    return " ".join(words)


def _plural(noun: str) -> str:
    if noun.endswith("s"):
        return noun
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


def _a(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


_DET = r"(?:(?:our|the|their|its|your|a|an)\s+)?"
_VALUE = r"(?P<{n}>[\d.,]+|an?|one)\s*(?P<{u}>%|[a-z]+)?"

# (pattern, turn the match into the struggle), most specific first.
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]] = []


def _rule(pattern: str) -> Callable[[Callable[[re.Match[str]], str | None]], Callable[[re.Match[str]], str | None]]:
    def register(fn: Callable[[re.Match[str]], str | None]) -> Callable[[re.Match[str]], str | None]:
        _RULES.append((re.compile(pattern, re.I), fn))
        return fn
    return register


@_rule(r"\b(?:cleared|killed|cleared out|worked through|burned through)\s+" + _DET
       + r"(?:[\d,.]+[- ]?)?(?P<what>[a-z]+)?[- ]?backlog")
def _backlog(m: re.Match[str]) -> str | None:
    what = m.group("what")
    return _a(f"{what} backlog") if what and what.lower() not in ("a", "an", "the", "our") else "a backlog"


@_rule(r"\b(?:took|cut|reduced|brought|got|moved|dropped|taken|lifted|raised|pushed)\s+(?:down\s+)?" + _DET
       + r"(?P<what>[a-z][\w\s/-]{1,40}?)\s+(?:down\s+|up\s+)?from\s+" + _VALUE.format(n="a", u="ua")
       + r"\s+to\s+" + _VALUE.format(n="b", u="ub"))
def _from_to(m: re.Match[str]) -> str | None:
    a, b = _amount(m.group("a"), m.group("ua")), _amount(m.group("b"), m.group("ub"))
    what = m.group("what").strip()
    if a is None or b is None:
        return None
    unit = m.group("ua") or m.group("ub")
    timed = (unit or "").lower() in _TIME_UNITS or bool(_TIME_WORDS.search(what))
    lower = _in_minutes(b, m.group("ua")) < _in_minutes(a, m.group("ub"))
    if timed and lower:
        noun = _plural(what) if re.search(r"\btime$", what, re.I) else what
        countable = noun.split()[-1].lower() in ("close", "cycle", "process", "turnaround")
        return _a(f"slow {noun}") if countable else f"slow {noun}"
    return f"high {what}" if lower else f"low {what}"


@_rule(r"\bgot\s+(?P<what>[a-z][\w\s-]{2,40}?)\s+to\s+(?P<dest>the right [a-z]+)\s+in\s+[a-z]+\s+instead of\s+"
       r"(?P<slow>[a-z]+)")
def _routed(m: re.Match[str]) -> str | None:
    return f"{m.group('what')} slow to reach {m.group('dest')}"


@_rule(r"\babsorb\s+(?:[\d.,]+%?\s+)?more\s+(?P<what>volume|requests|tickets|work)\s+without\s+(?:adding\s+|more\s+)?"
       r"(?P<h>headcount|hiring|people|staff)")
def _volume(m: re.Match[str]) -> str | None:
    return f"growing {m.group('what')} without the {m.group('h')} to match"


@_rule(r"\b(?P<who>(?:[a-z]+\s)?(?:team|teams|ops|department|people))\s+drowning\s+in\s+(?P<what>[a-z][\w\s-]{1,30})")
def _drowning(m: re.Match[str]) -> str | None:
    who = re.sub(r"^(any|every|an?|the)\s+", "", m.group("who").strip(), flags=re.I)
    return _a(f"{who} drowning in {m.group('what').strip()}")


@_rule(r"\bsaved\s+(?:each|every|our|the)?\s*(?P<who>[a-z][a-z ]{1,30}?)\s+(?:about\s+|around\s+|nearly\s+)?"
       r"(?:[\d.]+|[a-z]+)\s+hours?\s+(?:a|per|every)\s+(?P<per>week|day|month)")
def _saved_hours(m: re.Match[str]) -> str | None:
    return f"{_plural(m.group('who').strip())} losing hours every {m.group('per')}"


@_rule(r"\bgave\s+(?:us|[a-z]+ and [a-z]+|the team)\s+one\s+(?P<thing>queue|view|place|inbox|dashboard)\s+(?:for|of)\s+"
       r"(?:every|all|each)\s+(?P<what>[a-z][a-z -]{2,30}?)(?:\s+across\s+(?P<across>[\w ]{2,30}))?$")
def _one_view(m: re.Match[str]) -> str | None:
    what = _plural(m.group("what").strip())
    if m.group("across"):
        return f"{what} spread across {_strip_numbers(m.group('across'))}"
    return f"{what} with no single {m.group('thing')}"


@_rule(r"\bmade\s+" + _DET + r"(?P<what>[A-Za-z][\w\s-]{2,30}?)\s+an?\s+[\w\s-]{2,20}?\s+instead of\s+"
       r"(?P<slow>an?\s+[\w\s]{2,30})")
def _instead_made(m: re.Match[str]) -> str | None:
    return f"{m.group('what')} that takes {m.group('slow')}"


@_rule(r"\bstopped\s+(?P<what>[a-z][\w\s-]{2,30}?)\s+from\s+(?P<ing>[a-z]+ing\b[\w\s]{0,30})")
def _stopped(m: re.Match[str]) -> str | None:
    return f"{m.group('what')} {m.group('ing')}"


@_rule(r"\b(?:retired|replaced|got rid of|ditched|eliminated|killed off)\s+(?P<what>[a-z][\w\s,-]{2,50})")
def _retired(m: re.Match[str]) -> str | None:
    what = re.sub(r"^(our|the|their)\s+", "", _strip_numbers(m.group("what")), flags=re.I)
    return what


@_rule(r"\b(?:old\s+)?(?P<what>shared inbox(?:es)?|spreadsheets?)\s+(?:switched off|retired|gone|turned off)")
def _switched_off(m: re.Match[str]) -> str | None:
    what = m.group("what").lower()
    return what if what.endswith("s") and not what.endswith("inboxes") else _a(what)


@_rule(r"\bcut\s+" + _DET + r"(?P<what>[a-z][\w\s/-]{2,40}?)\s+(?:in half|by\s+(?:half|[\d.]+\s*%))")
def _cut(m: re.Match[str]) -> str | None:
    what = m.group("what").strip()
    if _TIME_WORDS.search(what):
        return f"slow {_plural(what) if what.endswith('time') else what}"
    return what


@_rule(r"\b(?:automating\s+|automated\s+(?:[\d.]+%\s+of\s+)?(?:our|the|their)\s+)(?P<what>[a-z][\w\s/-]{2,30})")
def _automated(m: re.Match[str]) -> str | None:
    return f"manual {m.group('what').strip()}"


@_rule(r"(?:^|\.\s|,\s)(?P<what>[A-Za-z][\w\s/-]{2,30}?)\s+(?:down|dropped|fell)\s+(?:by\s+)?\d")
def _down(m: re.Match[str]) -> str | None:
    return m.group("what")


@_rule(r"\b(?:zero|no more|fewer)\s+(?P<what>[a-z][\w\s-]{2,30}?)(?:\s+(?:on|in|for|across|at)\s|$)")
def _zero(m: re.Match[str]) -> str | None:
    return m.group("what")


def _acceptable(phrase: str) -> str | None:
    """The phrase as the question will carry it, or None when it would read badly."""
    p = re.sub(r"\s+", " ", phrase or "").strip(" ,.;:!?\"'“”")
    p = re.sub(r"^(our|their)\s+", "", p, flags=re.I)
    words = p.split()
    if not words or len(words) > 9 or re.search(r"\d", p):
        return None
    # lower-case everything but acronyms (CSAT, SLA) and days (Friday); any other capitalised word may be a
    # name, which a question to a champion must not carry
    out = []
    for w in words:
        core = w.strip(",")
        if (core.isupper() or core[:-1].isupper() and core.endswith("s")) and len(core) > 1:
            out.append(w)
        elif core[:1].isupper():
            if core.lower() in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
                out.append(w)
            elif w is words[0]:
                out.append(w.lower())
            else:
                return None
        else:
            out.append(w)
    content = [w.lower().strip(",") for w in out if len(w) > 3]
    if len(content) != len(set(content)):
        return None
    return " ".join(out)


def problem_phrase(text: str | None) -> Problem | None:
    """The first outcome in `text` that turns into a clean problem phrase."""
    if not text or not text.strip():
        return None
    sentences = [c for c in (_clean(s) for s in _SENTENCE.split(text) if s) if c]
    for sentence in sentences:
        # a quoted outcome inside CSM notes ('Joy: "Relaydesk took our CSAT ..."') is read on its own
        parts = [sentence] + [q for q in re.findall(r"[\"“]([^\"”]{6,})[\"”]", sentence)]
        for part in parts:
            for pattern, turn in _RULES:
                m = pattern.search(part)
                if m is None:
                    continue
                phrase = _acceptable(turn(m) or "")
                if phrase:
                    return Problem(_clean(part), phrase, "trigger_text")
    return None


def extract_problem(text: str | None, vendor_one_liner: str | None = None,
                    also: Iterable[str | None] = ()) -> Problem | None:
    """The problem in the trigger's words, else in the other texts given (the champion's earlier NPS
    comments, their account's QBR notes); None when none names one. `vendor_one_liner` is accepted for
    callers' convenience and never used as a problem: a tagline is not what a champion would say."""
    for candidate in (text, *also):
        found = problem_phrase(candidate)
        if found is not None:
            return found
    return None
