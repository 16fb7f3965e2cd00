"""What a champion reads: the one line between champion-facing and internal text.

Every surface a champion sees (the ask, the forwardable note and its mailto link, the Slack DM, the
approval page, in-product and talk-track texts) builds its reasons and its question here and is checked
here. Internal material never crosses this line:
- the CSM's notes (QBR notes, other people's NPS comments) are never quoted, not even in part;
- counts of emails, meetings or interactions, scores (NPS, health, priority, ICP fit, confidence) never
  appear: a relationship is told in human terms ("you worked together at Umberly Group", "you have been
  in touch this year");
- the vendor's tagline is never pasted;
- the question "who in your network is dealing with <problem>?" carries a short noun phrase, never the
  same word twice;
- the CSM is named in full with their role before a first name is used alone.

    strongest_history(evidence) -> History | None    # graph evidence texts, strongest kind first
    human_reason(evidence, as_of) -> str | None       # "you worked together at Umberly Group"
    ask_question(problem, vendor) -> str              # "who in your network is dealing with ...?"
    violations(text, ...) -> list[str]                # what in `text` must not reach a champion

Pure functions over strings; nothing here reads the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "History",
    "ask_question",
    "champion_reason",
    "csm_intro",
    "human_reason",
    "number_words",
    "parse_history",
    "repeated_question_words",
    "strongest_history",
    "violations",
]

_COWORKER = re.compile(
    r"^worked together(?: at (?P<co>.+?))?(?:, (?:[A-Z][a-z]{2} )?(?P<y1>\d{4}) - (?:(?:[A-Z][a-z]{2} )?"
    r"(?P<y2>\d{4})|(?P<present>present)))?(?:, (?P<months>\d+) months?)?$", re.I)
_EMAIL = re.compile(r"^\d[\d,]* emails?(?:, last in (?:[A-Z][a-z]+ )?(?P<year>\d{4}))?", re.I)
_MEETING = re.compile(r"^\d[\d,]* meetings? together(?:, last in (?:[A-Z][a-z]+ )?(?P<year>\d{4}))?", re.I)
_LINKEDIN = re.compile(r"^connected on linkedin(?: since (?:[A-Z][a-z]+ )?(?P<year>\d{4}))?", re.I)
_ROLE = re.compile(r"^(?P<kind>investor|advisor|partner) relationship", re.I)

# Strongest first: what a person would mention first when saying why they thought of someone.
_KIND_RANK = {"coworker": 0, "advisor": 1, "investor": 1, "partner": 2, "meeting": 3, "email": 4, "linkedin": 5,
              "account_team": 6}


@dataclass(frozen=True)
class History:
    """One piece of shared history between the champion and a target, read from the graph's evidence."""

    kind: str  # coworker, meeting, email, linkedin, investor, advisor, partner, account_team
    company: str | None = None
    months: int | None = None  # coworker: how long they overlapped
    since_year: int | None = None
    until_year: int | None = None
    current: bool = False  # coworker: still together
    last_year: int | None = None  # meeting/email: the latest one
    label: str | None = None

    def years_phrase(self) -> str | None:
        """'for four years', 'for over a year', 'for a few months' (words, never a count a reader checks)."""
        if self.months is None:
            return None
        if self.months >= 24:
            return f"for {number_words(self.months // 12)} years"
        if self.months >= 12:
            return "for over a year" if self.months > 14 else "for a year"
        return "for a few months" if self.months >= 3 else None

    def reason(self, as_of: datetime | None = None) -> str:
        """Why this name fits, told to the champion: second person, human terms, no counts."""
        year = as_of.year if as_of else None
        if self.kind == "coworker":
            where = f" at {self.company}" if self.company else ""
            if self.current:
                return f"you work together{where}"
            return f"you worked together{where}"
        if self.kind == "meeting":
            return "you have met this year" if year and self.last_year == year else "you have met before"
        if self.kind == "email":
            if year and self.last_year == year:
                return "you have been in touch this year"
            if year and self.last_year == year - 1:
                return "you were in touch last year"
            return "you have been in touch"
        if self.kind == "linkedin":
            return "you are connected on LinkedIn"
        if self.kind in ("investor", "advisor", "partner"):
            return f"you know each other through {'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind} relationship"
        return "you have worked with them before"

    def clause(self, *, span: bool = True) -> str:
        """The same history in the champion's own first person, for the note: 'we worked together at X for
        four years' (`span=False`: without how long, for a short note)."""
        if self.kind == "coworker":
            where = f" at {self.company}" if self.company else ""
            if self.current:
                return f"we work together{where}"
            how_long = self.years_phrase() if span else None
            return f"we worked together{where}" + (f" {how_long}" if how_long else "")
        if self.kind == "meeting":
            return "we have met a few times"
        if self.kind == "email":
            return "we have been in touch"
        if self.kind == "linkedin":
            return "we are connected on LinkedIn"
        if self.kind in ("investor", "advisor", "partner"):
            return f"we know each other through {'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind} relationship"
        return "we have worked on the same account"


def number_words(n: int) -> str:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
             "twelve"]
    return words[n] if 0 <= n < len(words) else str(n)


def parse_history(text: str) -> History | None:
    """One evidence line of the graph (`warmintro.engines.graph`) as a History; None when unreadable."""
    t = (text or "").strip()
    m = _COWORKER.match(t)
    if m:
        months = int(m.group("months")) if m.group("months") else None
        y1 = int(m.group("y1")) if m.group("y1") else None
        y2 = int(m.group("y2")) if m.group("y2") else None
        if months is None and y1 and y2:
            months = (y2 - y1) * 12
        return History("coworker", company=m.group("co"), months=months, since_year=y1, until_year=y2,
                       current=bool(m.group("present")))
    for kind, pattern in (("email", _EMAIL), ("meeting", _MEETING)):
        m = pattern.match(t)
        if m:
            return History(kind, last_year=int(m.group("year")) if m.group("year") else None)
    m = _LINKEDIN.match(t)
    if m:
        return History("linkedin", since_year=int(m.group("year")) if m.group("year") else None)
    m = _ROLE.match(t)
    if m:
        return History(m.group("kind").lower())
    if t and not re.search(r"\d", t):
        return History("account_team", label=t)
    return None


def strongest_history(evidence: Iterable[str]) -> History | None:
    """The history a person would name first: having worked together (longest first) beats an advisor or
    partner tie, which beats meetings, which beat email, which beats a LinkedIn connection."""
    found = [h for h in (parse_history(e) for e in evidence) if h is not None]
    if not found:
        return None
    return min(found, key=lambda h: (_KIND_RANK.get(h.kind, 9), -(h.months or 0)))


def champion_reason(reason: str | None, as_of: datetime | None = None) -> str | None:
    """A reason about to be shown to a champion: graph evidence ("14 emails, last in Mar 2026") becomes
    its human form ("you have been in touch"); anything else is kept as written."""
    if not reason:
        return reason
    h = parse_history(reason)
    return h.reason(as_of) if h is not None and h.kind != "account_team" else reason


def human_reason(evidence: Iterable[str], as_of: datetime | None = None) -> str | None:
    """The one-line reason shown to a champion for a name: the strongest shared history, in human terms."""
    h = strongest_history(evidence)
    return h.reason(as_of) if h is not None else None


# ---------------------------------------------------------------------------------------------------
# The question

_STOP = frozenset(["a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "with", "who", "whom", "your", "you", "our", "their", "is", "are", "be", "been", "being", "that", "this", "those", "these", "at", "by", "from", "as", "it", "its", "they", "them", "we", "us", "what", "which", "any", "some", "more", "most"])


def ask_question(problem: str | None, vendor: str | None = None, *, capital: bool = False) -> str:
    """'who in your network is dealing with a ticket backlog?'; without a clean problem phrase, a plain
    question about the vendor (never its tagline)."""
    phrase = (problem or "").strip().rstrip("?.!")
    if phrase and not repeated_question_words(f"who in your network is dealing with {phrase}?"):
        q = f"who in your network is dealing with {phrase}?"
    elif vendor:
        q = f"who in your network could use {vendor} too?"
    else:
        q = "who in your network could use the same help?"
    return q[0].upper() + q[1:] if capital else q


def repeated_question_words(text: str) -> list[str]:
    """Content words said twice in a "who in your network ..." question ("still dealing with CSAT that
    still takes 78")."""
    out: list[str] = []
    for m in re.finditer(r"who (?:in|else in|do you know in) your network[^?]*\?", text, re.I):
        words = [w.lower() for w in re.findall(r"[A-Za-z][\w'-]*", m.group())]
        seen: set[str] = set()
        for w in words:
            if w in _STOP:
                continue
            if w in seen and w not in out:
                out.append(w)
            seen.add(w)
    return out


def csm_intro(name: str, vendor: str, role: str | None = "customer success manager") -> str:
    """'Dana Reyes, our customer success manager at Relaydesk' — how a note first names the CSM."""
    role = (role or "").strip() or "contact"
    return f"{name}, our {role} at {vendor}"


# ---------------------------------------------------------------------------------------------------
# The check

_COUNT = re.compile(
    r"\b\d[\d,]*\s+(?:e-?mails?|messages?|meetings?|calls?|interactions?|threads?|replies|touchpoints?)\b", re.I)
_SCORE = re.compile(
    r"\b(?:(?i:NPS)(?:\s+(?:score|of))?\s*:?\s*\d+|(?i:ICP)\b|(?i:fits the ICP)|"
    r"(?:[Hh]ealth(?: score)?|[Pp]riority|[Cc]onfidence|[Ss]trength|fit score|score)\s*(?:of\s*)?[:(]?\s*\d|"
    r"\d+(?:\.\d+)?\s*/\s*10\b)")
_WORD = re.compile(r"[\w'’-]+")


def _word_runs(text: str, n: int, vendor: str | None = None) -> set[tuple[str, ...]]:
    v = (vendor or "").lower()
    words = ["it" if w.lower() == v else w.lower() for w in _WORD.findall(text)]
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def violations(text: str, *, internal: Sequence[str] = (), own: Sequence[str] = (), tagline: str | None = None,
               csm_name: str | None = None, vendor: str | None = None, others: Sequence[str] = (),
               run: int = 5) -> list[str]:
    """Everything in `text` that must not reach a champion, in words. `internal`: texts the champion must
    never see quoted (CSM notes, NPS comments, trigger notes): any run of `run` words from one of them is
    a leak, unless the champion said the same words themselves (`own`: their own comment). `tagline`: the
    vendor's one-liner. `vendor`: its name, read as "it" when comparing with notes. `csm_name`: the CSM's full name, required before their
    first name is used alone."""
    out: list[str] = []
    mine = _word_runs(text, run, vendor)
    for said in own:
        mine -= _word_runs(said, run, vendor)
    for note in internal:
        if note and mine & _word_runs(note, run, vendor):
            out.append(f"quotes internal text: {note[:60]!r}")
    for m in _COUNT.finditer(text):
        out.append(f"shows a count: {m.group()!r}")
    for m in _SCORE.finditer(text):
        out.append(f"shows a score or internal measure: {m.group()!r}")
    if tagline:
        t_runs = _word_runs(tagline, 4)
        if tagline.strip().rstrip(".").lower() in text.lower() or _word_runs(text, 4) & t_runs:
            out.append("pastes the vendor's tagline")
    for w in repeated_question_words(text):
        out.append(f"the question repeats {w!r}")
    if csm_name and len(csm_name.split()) > 1:
        first = csm_name.split()[0]
        shared = any(o.split()[:1] == [first] for o in others if o and o != csm_name)
        if not shared and re.search(rf"\b{re.escape(first)}\b", text) and csm_name not in text:
            lines = [ln for ln in text.strip().splitlines() if ln.strip()]
            # a sign-off with their own first name is how a CSM signs an ask, not an unnamed CSM
            signed = len(lines) > 1 and lines[-1].strip().startswith(first) and len(lines[-1].split()) <= 4
            body = "\n".join(lines[:-1]) if signed else text
            if re.search(rf"\b{re.escape(first)}\b", body):
                out.append(f"names the CSM as {first!r} without their full name and role")
    return list(dict.fromkeys(out))

