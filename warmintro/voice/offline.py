"""The offline composer: a note in the champion's voice with no model at all. Deterministic.

Built from the champion's own greeting, sign-off and phrasing (`VoiceProfile`) and the facts, nothing else:
- the greeting and sign-off are the forms they use most ("Hi {name}," -> "Hi Ana,"; a group greeting like
  "Dear all," becomes "Dear Ana,"; no greeting when they rarely use one, the target named inline instead);
  the sign-off name is how they sign ("- J", "Priya") when it is a form of their own name;
- the shape follows their register: a terse writer gets two short lines, a formal one full sentences in
  paragraphs with no contractions; contractions, lower-case sentence starts, exclamation marks and an emoji
  follow their measured habits;
- their own recurring opening and closing lines and their own hedge ("I think", "FWIW") are used where one
  fits a note; there is no stock phrase that is plainly not theirs ("I hope this email finds you well").

The connecting text is kept to the minimum a note needs, and it only carries facts: the shared history,
what the vendor did for the champion (the trigger's own words, else the vendor's one-liner) and who at
the vendor to talk to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from warmintro.voice._lexicon import COMMON_WORDS, GROUP_ADDRESSEES, HEDGES
from warmintro.voice.drafting import Draft, DraftFacts, Exemplar
from warmintro.voice.grounding import Grounding
from warmintro.voice.profile import FULL_NAME_SLOT, NAME_SLOT, VoiceProfile

__all__ = ["NoteText", "OfflineDrafter", "compose_ask", "compose_note", "finish_draft", "profile_summary"]

_CONTRACTIONS = (
    ("I am", "I'm"), ("I have", "I've"), ("I would", "I'd"), ("I will", "I'll"), ("we have", "we've"),
    ("we are", "we're"), ("you would", "you'd"), ("it is", "it's"), ("that is", "that's"), ("do not", "don't"),
    ("would not", "wouldn't"), ("let us", "let's"), ("you are", "you're"), ("it has", "it's"),
)  # fmt: skip
_PAST_VERBS = frozenset(
    ["cut", "cuts", "reduced", "saved", "halved", "doubled", "tripled", "automated", "eliminated", "removed", "fixed", "improved", "increased", "took", "brought", "got", "made", "helped", "gave", "freed", "sped", "replaced", "streamlined", "simplified", "lowered", "raised", "shortened", "dropped", "killed", "solved", "turned", "moved", "went"]
)
_FITTING_LINE = re.compile(
    r"\b(hope|happy|glad|let me know|feel free|cheers|good luck|best of luck|talk soon|all the best|thanks|"
    r"thank you|hth|enjoy|take care|speak soon|catch up|good to|great to|nice to|long time)\b",
    re.I,
)
_UNFITTING_LINE = re.compile(
    r"\b(in advance|ahead|for (your|the|any|all) (help|reply|replies|answer|answers|input|feedback|quick|"
    r"reminder|report|suggestion|pointer|time|patience|work|fix|explanation|clarification)|for looking|"
    r"any (help|advice|ideas|suggestions|pointers|thoughts)|for this|for that|for it|this helps|that helps|"
    r"it helps|sorry|error|bug|issue|problem|package|code|fix)\b",
    re.I,
)


@dataclass(frozen=True)
class NoteText:
    subject: str
    body: str
    greeting: str | None  # as written in the note
    signoff: str | None


@dataclass(frozen=True)
class _Style:
    register: str
    contractions: bool
    lower: bool
    exclaim: bool
    emoji: str | None
    hedge: str | None
    opener: str | None
    closer: str | None
    joiner: str  # between sentences: one space or two


def _style(profile: VoiceProfile, valediction: str | None) -> _Style:
    if profile.n_messages == 0:
        return _Style("neutral", False, False, False, None, None, None, None, " ")
    hedge = None
    for ph in profile.recurring_phrases:
        if ph.text in HEDGES:
            hedge = ph.text
            break
    val = (valediction or "").strip(" ,.!").lower()

    def fitting(line: str) -> bool:
        low = line.strip().lower()
        return bool(_FITTING_LINE.search(line)) and not _UNFITTING_LINE.search(line) and low.strip(" ,.!") != val

    opener = next((f.form for f in profile.opening_lines if fitting(f.form) and not f.form.endswith("?")), None)
    closer = next((f.form for f in profile.closing_lines if fitting(f.form) and not f.form.endswith("?")), None)
    return _Style(
        register=profile.register,
        contractions=profile.contraction_rate > 0.5,
        lower=profile.all_lowercase,
        exclaim=profile.exclamation_rate >= 0.12,
        emoji=profile.emojis[0] if profile.emoji_rate >= 0.2 and profile.emojis else None,
        hedge=hedge,
        opener=opener,
        closer=closer if closer != opener else None,
        joiner="  " if profile.double_space_rate >= 0.6 else " ",
    )


def _contract(text: str) -> str:
    for long, short in _CONTRACTIONS:
        text = re.sub(rf"\b{long}\b", short, text)
        text = re.sub(rf"\b{long[0].upper() + long[1:]}\b", short[0].upper() + short[1:], text)
    return text


def _cap(text: str, lower: bool) -> str:
    """Capitalise a sentence's first letter; a lower-case writer lower-cases it, unless it starts a name."""
    if not text:
        return text
    first_word = re.match(r"[\w'’]+", text)
    if lower:
        if first_word and first_word.group().lower() in COMMON_WORDS:
            return text[0].lower() + text[1:]
        return text
    return text[0].upper() + text[1:]


def _lc_first(text: str) -> str:
    """'Cut our close' -> 'cut our close' (a fact used inside a sentence); names and acronyms keep case."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        word = re.match(r"[\w'’]+", text)
        if word and word.group().lower() in COMMON_WORDS | _PAST_VERBS:
            return text[0].lower() + text[1:]
    return text


def _history_clause(history: Sequence[str]) -> tuple[str, str] | None:
    """('we worked together at Harbor Freight Lines', '(Apr 2017 - Dec 2021)') from the targets engine's
    evidence; None when the history is nothing a person would mention."""
    for h in history:
        text = h.strip()
        m = re.match(r"^worked together(?: at (?P<co>.+?))?(?:, (?P<span>[A-Z][a-z]{2} \d{4} - (?:[A-Z][a-z]{2} \d{4}|"
                     r"present)))?(?:, \d+ months?)?$", text, re.I)
        if m:
            where = f" at {m.group('co')}" if m.group("co") else ""
            span = f"({m.group('span')})" if m.group("span") else ""
            return f"we worked together{where}", span
        if re.match(r"^\d+ meetings? together", text):
            return "we have met a few times", ""
        if re.match(r"^\d+ emails?\b", text):
            return "we have been in touch", ""
        if re.match(r"^connected on linkedin", text, re.I):
            return "we are connected on LinkedIn", ""
    return None


def _problem_sentence(facts: DraftFacts) -> str:
    """What the vendor did for the champion, from the trigger's own words, else the vendor's one-liner."""
    vendor = facts.vendor_name
    company = facts.champion.company
    solved = (facts.problem_solved or "").strip().rstrip(".!;, ")
    solved = re.sub(r",\s*(finally|too|already|at last|now|again|really)$", "", solved, flags=re.I)
    if solved:
        first = solved.split()[0].lower().strip(",")
        if first in _PAST_VERBS:
            return f"{vendor} {_lc_first(solved)}"
        where = f" at {company}" if company else ""
        return f"we use {vendor}{where}: {_lc_first(solved)}"
    where = f" at {company}" if company else ""
    if facts.vendor_one_liner:
        return f"we use {vendor} ({facts.vendor_one_liner.strip().rstrip('.')}){where}"
    return f"we use {vendor}{where}"


def _hedged(hedge: str | None, clause: str) -> str:
    """Their own hedge in front of a clause: "I think it could help", "FWIW, it could help"."""
    if not hedge:
        return clause
    if hedge in ("fwiw", "imho", "imo", "afaik", "tbh", "iirc"):
        return f"{hedge.upper()}, {clause}"
    if hedge.startswith("i "):
        return f"I{hedge[1:]} {clause}"
    return f"{hedge}, {clause}"


def _greeting(profile: VoiceProfile, facts: DraftFacts) -> str | None:
    form = profile.greeting if profile.n_messages else f"Hi {NAME_SLOT},"
    if form is None:
        return None
    first, full = facts.target.first_name, facts.target.name
    if NAME_SLOT in form or FULL_NAME_SLOT in form:
        return form.replace(FULL_NAME_SLOT, full).replace(NAME_SLOT, first)
    # A group greeting ("Dear all,", "All:") addresses the one person instead.
    words = form.rstrip(",:;!.—–- ").split()
    if words and words[-1].lower() in GROUP_ADDRESSEES:
        punct = form[len(form.rstrip(",:;!.—–- ")):]
        head = " ".join(words[:-1])
        return f"{head} {first}{punct}".strip() if head else f"{first}{punct}"
    if words and words[-1].lower() == "there":
        return form
    # "Hi," / "Hello:" -> "Hi Ana," keeps their word and punctuation.
    punct = form[len(form.rstrip(",:;!.—–- ")):]
    return f"{form.rstrip(',:;!.—–- ')} {first}{punct}"


def _signoff(profile: VoiceProfile, facts: DraftFacts) -> tuple[str | None, str | None]:
    """(the sign-off block, the valediction in it)."""
    champion = facts.champion
    if profile.n_messages == 0:
        return f"Best,\n{champion.first_name}", "Best,"
    template = profile.signoff_template
    if not template:
        return None, None
    name = profile.signoff_name
    if name is None or Grounding(facts).check(name):
        name = champion.first_name  # only a form of their own name, never another one
    block = template.replace("{signoff_name}", name)
    valediction = template.split("{signoff_name}")[0].strip() or None
    return block.strip(), valediction


def compose_note(facts: DraftFacts, profile: VoiceProfile, *, greeting_override: str | None = None,
                 signoff_override: str | None = None) -> NoteText:
    """The champion's forwardable note to the target. The overrides exist for the eval's generic baseline."""
    signoff, valediction = _signoff(profile, facts)
    if signoff_override is not None:
        signoff, valediction = signoff_override or None, signoff_override or None
    s = _style(profile, valediction)
    greeting = _greeting(profile, facts) if greeting_override is None else (greeting_override or None)

    def t(text: str) -> str:
        """A piece of connecting text in their register (contractions as they use them)."""
        return _contract(text) if s.contractions else text

    target = facts.target
    vocative = "" if greeting else f"{target.first_name}, "
    hist = _history_clause(facts.shared_history)
    problem = _problem_sentence(facts)
    csm = facts.csm.name if facts.csm else None
    vendor = facts.vendor_name
    end = "!" if s.exclaim else "."
    where = f" at {target.company}" if target.company else ""

    sentences: list[list[str]] = []  # paragraphs of sentences
    if s.register == "terse":
        if hist:
            line1 = _cap(vocative + t(f"thought of you since {hist[0]}: "), s.lower) + t(problem) + end
        else:
            line1 = _cap(vocative + t(problem), s.lower) + end
        who = facts.csm.first_name if facts.csm else None
        line2 = t(f"{who} there can show you how, want an intro?") if who else t("want an intro?")
        sentences = [[line1], [_cap(line2, s.lower)]]
    elif s.register == "formal":
        p1: list[str] = []
        if s.opener:
            p1.append(s.opener)
        if hist:
            span = f" {hist[1]}" if hist[1] else ""
            p1.append(_cap(vocative + t(f"I am writing because {hist[0]}{span}, and I thought of you."), s.lower))
        else:
            p1.append(_cap(vocative + t("I am writing because I thought of you."), s.lower))
        p2 = [_cap(t(problem), s.lower) + end]
        if facts.problem_solved and facts.vendor_one_liner:
            p2.append(_cap(t(f"{vendor} is {facts.vendor_one_liner.strip().rstrip('.')}."), s.lower))
        p2.append(_cap(t(_hedged(s.hedge, f"it may be of use{where} as well.")), s.lower))
        offer = (f"If it would be useful, I would be glad to introduce you to {csm}, our contact at {vendor}."
                 if csm else f"If it would be useful, I would be glad to introduce you to the team at {vendor}.")
        p3 = [_cap(t(offer), s.lower)]
        if s.closer:
            p3.append(s.closer)
        sentences = [p1, p2, p3]
    else:
        p1 = []
        if s.opener:
            p1.append(s.opener)
        if hist:
            p1.append(_cap(vocative + t(f"{hist[0]}, so I thought of you."), s.lower))
            vocative = ""
        p2 = [_cap(vocative + t(problem), s.lower) + end]
        if s.hedge:
            p2.append(_cap(t(_hedged(s.hedge, f"it could help{where} too.")), s.lower))
        offer = (f"Would you like an introduction to {csm}, our contact at {vendor}?" if csm
                 else f"Would you like an introduction to someone at {vendor}?")
        p3 = [_cap(t(offer), s.lower)]
        if s.closer:
            p3.append(s.closer)
        sentences = [p for p in (p1, p2, p3) if p]
    paragraphs = [s.joiner.join(p) for p in sentences if p]
    if s.emoji:
        paragraphs[-1] = f"{paragraphs[-1]} {s.emoji}"
    parts = ([greeting] if greeting else []) + paragraphs + ([signoff] if signoff else [])
    body = "\n\n".join(parts)
    if s.register == "terse":
        subject = f"{vendor} intro"
    elif s.register == "formal":
        subject = f"Introduction: {vendor}"
    else:
        subject = f"Intro: {vendor}"
    if s.lower:
        subject = subject[0].lower() + subject[1:]
    return NoteText(subject, body, greeting, signoff)


def compose_ask(facts: DraftFacts) -> str:
    """The CSM's ask to the champion: framed on the problem solved, 3-5 named people with one-line reasons,
    and a request for just one intro."""
    champion = facts.champion.first_name
    vendor = facts.vendor_name
    lines = [f"Hi {champion},", ""]
    if facts.trigger_text:
        quote = " ".join(facts.trigger_text.split())
        lines.append(f"Thank you for this: \"{quote}\"")
        lines.append("")
    if facts.dealing_with and not facts.dealing_with.startswith("the problem we solve"):
        frame = f"Who in your network is still dealing with {facts.dealing_with}?"
    elif facts.vendor_one_liner:
        frame = f"Who in your network could use what {vendor} does for you ({facts.vendor_one_liner.rstrip('.')})?"
    else:
        frame = f"Who in your network could use {vendor} too?"
    lines.append(frame)
    if facts.suggestions:
        lines.append("")
        lines.append("A few people from your own network who might fit:")
        lines += [f"• {s.line()}" for s in facts.suggestions]
        lines.append("")
        lines.append("Would you introduce us to just one of them? I drafted a short note in your words that you "
                     "can edit and forward.")
    else:
        lines.append("")
        lines.append(f"Would you introduce us to {facts.target.name}? I drafted a short note in your words that "
                     "you can edit and forward.")
    if facts.csm is not None:
        lines += ["", facts.csm.first_name]
    return "\n".join(lines)


def profile_summary(profile: VoiceProfile) -> dict[str, object]:
    return {
        "greeting": profile.greeting,
        "signoff": profile.signoff,
        "signoff_name": profile.signoff_name,
        "register": profile.register,
        "formality": round(profile.formality, 2),
        "n_messages": profile.n_messages,
    }


def finish_draft(facts: DraftFacts, profile: VoiceProfile, exemplars: Sequence[Exemplar], *, ask_text: str,
                 note: NoteText, model: str, ask_model: str, notes: Sequence[str] = (),
                 vocabulary: Iterable[str] = ()) -> Draft:
    """A Draft with its grounding: the fact names it mentions, the facts it had, any violation left."""
    g = Grounding(facts, vocabulary)
    texts = f"{ask_text}\n{note.subject}\n{note.body}"
    violations = [str(v) for v in g.check(ask_text) + g.check(note.subject) + g.check(note.body)]
    return Draft(
        ask_text=ask_text,
        subject=note.subject,
        body=note.body,
        model=model,
        to_email=facts.target.email,
        greeting=note.greeting,
        signoff=note.signoff,
        exemplar_ids=[e.id for e in exemplars],
        grounding_names=g.mentioned_names(texts),
        grounding_facts=facts.statements(),
        ask_model=ask_model,
        violations=list(dict.fromkeys(violations)),
        notes=list(notes),
        profile_summary=profile_summary(profile),
    )


class OfflineDrafter:
    """The deterministic drafter: always available, never calls anything."""

    name = "offline"

    def draft(self, facts: DraftFacts, profile: VoiceProfile, exemplars: Sequence[Exemplar] = ()) -> Draft:
        note = compose_note(facts, profile)
        return finish_draft(facts, profile, exemplars, ask_text=compose_ask(facts), note=note, model=self.name,
                            ask_model=self.name)
