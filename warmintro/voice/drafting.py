"""The drafter interface and the data it drafts from.

One interface, two implementations (`warmintro.voice.offline.OfflineDrafter`, `warmintro.voice.llm.LLMDrafter`):

    drafter.draft(facts: DraftFacts, profile: VoiceProfile, exemplars: Sequence[Exemplar]) -> Draft

`DraftFacts` holds only data from the store (never text a model wrote): the champion, the target, their
shared history, the vendor, the trigger and the problem it solved, the CSM, and the 3-5 suggested names
with one-line reasons. Everything a draft may name or number must come from these facts
(`warmintro.voice.grounding`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from warmintro.champion_text import champion_reason, strongest_history, violations

if TYPE_CHECKING:
    from warmintro.voice.profile import VoiceProfile

__all__ = [
    "Draft",
    "DraftFacts",
    "Drafter",
    "Exemplar",
    "PersonRef",
    "Suggestion",
    "mailto_link",
]


@dataclass(frozen=True)
class PersonRef:
    name: str
    email: str | None = None
    company: str | None = None
    title: str | None = None

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return parts[0] if parts else self.name


@dataclass(frozen=True)
class Suggestion:
    """One pre-loaded name for the ask, with a one-line reason."""

    name: str
    email: str | None = None
    company: str | None = None
    title: str | None = None
    reason: str | None = None

    def line(self) -> str:
        role = f"{self.title} at {self.company}" if self.title and self.company else (self.title or self.company)
        head = f"{self.name}, {role}" if role else self.name
        reason = champion_reason(self.reason)  # shown to the champion: never counts of their mail
        return f"{head}: {reason}" if reason else head


@dataclass(frozen=True)
class DraftFacts:
    champion: PersonRef
    target: PersonRef
    vendor_name: str
    vendor_one_liner: str | None = None
    shared_history: tuple[str, ...] = ()
    trigger_text: str | None = None  # the customer's own words (NPS comment, QBR notes)
    trigger_type: str | None = None
    problem_solved: str | None = None  # the outcome, in their words (warmintro.engines.problem)
    dealing_with: str | None = None  # what peers still struggle with, for the ask's frame
    csm: PersonRef | None = None
    suggestions: tuple[Suggestion, ...] = ()
    internal_notes: tuple[str, ...] = ()  # CSM notes and others' comments: grounding only, never shown

    def champion_internal(self) -> tuple[str, ...]:
        """Texts a champion must never see quoted (`warmintro.champion_text.violations`): the trigger's notes
        unless they are the champion's own NPS words, and every internal note."""
        own = self.trigger_type == "nps" and self.problem_solved is not None
        out = list(self.internal_notes)
        if self.trigger_text and not own:
            out.append(self.trigger_text)
        return tuple(out)

    def champion_violations(self, text: str) -> list[str]:
        """What in `text` must not reach the champion (`warmintro.champion_text.violations`): internal notes,
        counts and scores, the tagline, a repeated-word question, the CSM named by first name only."""
        return violations(text, internal=self.champion_internal(), own=self.champion_own(),
                          tagline=self.vendor_one_liner, csm_name=self.csm.name if self.csm else None,
                          vendor=self.vendor_name, others=[p.name for p in self.people()])

    def champion_own(self) -> tuple[str, ...]:
        """The champion's own words among the facts (their NPS comment), which their texts may repeat."""
        own = self.trigger_type == "nps" and self.problem_solved is not None
        return (self.trigger_text,) if own and self.trigger_text else ()

    def history_clause(self, *, span: bool = True) -> str | None:
        """The strongest shared history in the champion's first person ("we worked together at X for four
        years"; `span=False`: without how long), or None."""
        h = strongest_history(self.shared_history)
        return h.clause(span=span) if h is not None else None

    def people(self) -> list[PersonRef | Suggestion]:
        out: list[PersonRef | Suggestion] = [self.champion, self.target]
        if self.csm is not None:
            out.append(self.csm)
        out.extend(self.suggestions)
        return out

    def names(self) -> list[str]:
        """Every person and company name in the facts, in order, without repeats."""
        seen: dict[str, None] = {}
        for p in self.people():
            for value in (p.name, p.company):
                if value and value.strip():
                    seen.setdefault(value.strip(), None)
        seen.setdefault(self.vendor_name, None)
        return list(seen)

    def emails(self) -> list[str]:
        return [p.email.lower() for p in self.people() if p.email]

    def statements(self) -> list[str]:
        """The facts as labelled lines, in the words a champion may see: what the LLM prompt shows. Internal
        notes, counts and the tagline are not among them (`warmintro.champion_text`)."""
        out = [f"champion: {_person(self.champion)}", f"target: {_person(self.target)}"]
        clause = self.history_clause()
        if clause:
            out.append(f"shared history (the strongest; name it): {clause}")
        out.append(f"vendor: {self.vendor_name}")
        if self.trigger_type:
            out.append(f"moment: {self.trigger_type.replace('_', ' ')}")
        if self.problem_solved:
            out.append(f"what it did for them, in their own words: {self.problem_solved}")
        if self.dealing_with:
            out.append(f"the problem peers may have (the question's topic): {self.dealing_with}")
        if self.csm is not None:
            out.append(f"CSM (name in full with their role): {_person(self.csm)}")
        out += [f"suggested: {s.line()}" for s in self.suggestions]
        return out

    def texts(self) -> list[str]:
        """Every string in the facts (for the grounding check)."""
        out: list[str] = [self.vendor_name]
        for p in self.people():
            out += [x for x in (p.name, p.email, p.company, p.title) if x]
            if isinstance(p, Suggestion) and p.reason:
                out.append(p.reason)
        out += list(self.shared_history)
        out += [x for x in (self.vendor_one_liner, self.trigger_text, self.problem_solved, self.dealing_with) if x]
        out += list(self.internal_notes)
        return out

    def to_json(self) -> dict[str, Any]:
        def person(p: PersonRef | None) -> dict[str, Any] | None:
            return None if p is None else {"name": p.name, "email": p.email, "company": p.company, "title": p.title}

        return {
            "champion": person(self.champion),
            "target": person(self.target),
            "vendor": {"name": self.vendor_name, "one_liner": self.vendor_one_liner},
            "shared_history": list(self.shared_history),
            "trigger": {"type": self.trigger_type, "text": self.trigger_text},
            "problem_solved": self.problem_solved,
            "dealing_with": self.dealing_with,
            "csm": person(self.csm),
            "suggestions": [{"name": s.name, "email": s.email, "company": s.company, "title": s.title,
                             "reason": s.reason} for s in self.suggestions],
        }


def _person(p: PersonRef) -> str:
    bits = [p.name]
    role = " at ".join(x for x in (p.title, p.company) if x)
    if role:
        bits.append(role)
    if p.email:
        bits.append(f"<{p.email}>")
    return ", ".join(bits[:2]) + (f" {bits[2]}" if len(bits) > 2 else "")


@dataclass(frozen=True)
class Exemplar:
    """One of the champion's past emails, retrieved as an example of their voice."""

    id: str
    text: str
    subject: str = ""
    score: float = 0.0


def mailto_link(to: str | None, subject: str, body: str) -> str:
    """A `mailto:` link that opens the note ready to send; every part percent-encoded."""
    return f"mailto:{quote(to or '', safe='@')}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


@dataclass
class Draft:
    """The ask to the champion and the champion's forwardable note to one target."""

    ask_text: str
    subject: str
    body: str
    model: str  # "offline" or the model's name: what wrote the note
    to_email: str | None = None
    greeting: str | None = None  # as used in the note, e.g. "Hi Ana,"
    signoff: str | None = None  # as used in the note, e.g. "Best regards,\nPriya"
    exemplar_ids: list[str] = field(default_factory=list)
    grounding_names: list[str] = field(default_factory=list)
    grounding_facts: list[str] = field(default_factory=list)
    ask_model: str = "offline"
    violations: list[str] = field(default_factory=list)  # left in the final text (empty when grounded)
    notes: list[str] = field(default_factory=list)  # what happened: retries, fallbacks
    profile_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def mailto(self) -> str:
        return mailto_link(self.to_email, self.subject, self.body)

    def to_json(self) -> dict[str, Any]:
        """The contract's `draft --json` shape, plus a few extra keys."""
        return {
            "ask": {"text": self.ask_text, "model": self.ask_model},
            "note": {"subject": self.subject, "body": self.body, "to": self.to_email, "mailto": self.mailto},
            "voice": {"greeting": self.greeting, "signoff": self.signoff, "exemplar_ids": list(self.exemplar_ids),
                      **({"profile": self.profile_summary} if self.profile_summary else {})},
            "grounding": {"names": list(self.grounding_names), "facts": list(self.grounding_facts),
                          "violations": list(self.violations)},
            "model": self.model,
            "notes": list(self.notes),
        }


class Drafter(Protocol):
    """What the Slack app, the agent and the CLI call; `name` is what `Draft.model` reports."""

    name: str

    def draft(self, facts: DraftFacts, profile: VoiceProfile, exemplars: Sequence[Exemplar]) -> Draft: ...
