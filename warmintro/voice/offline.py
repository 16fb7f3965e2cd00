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
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from warmintro.champion_text import ask_question, csm_intro
from warmintro.voice._lexicon import COMMON_WORDS, GROUP_ADDRESSEES, HEDGES
from warmintro.voice.drafting import Draft, DraftFacts, Exemplar
from warmintro.voice.grounding import Grounding
from warmintro.voice.profile import FULL_NAME_SLOT, NAME_SLOT, VoiceProfile

__all__ = ["NoteText", "expand_contractions", "OfflineDrafter", "compose_ask", "compose_note", "finish_draft", "profile_summary"]

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


def _pick(key: str, options: Sequence[str]) -> str:
    """A stable choice among equally fitting sentences, by the champion (two writers with the same habits
    do not get the same note; one writer always gets the same one)."""
    return options[zlib.crc32(key.encode()) % len(options)]


_EXPANSIONS = (("n't", " not"), ("'m", " am"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"))


def expand_contractions(text: str) -> str:
    """Their words for a writer who never contracts: "can't" -> "cannot", "it's" -> "it is"."""
    text = text.replace("’", "'")
    text = re.sub(r"\bcan't\b", "cannot", text)
    text = re.sub(r"\bwon't\b", "will not", text)
    text = re.sub(r"\b([Ii]t|[Tt]hat|[Tt]here|[Ww]hat)'s\b", r"\1 is", text)
    for short, long in _EXPANSIONS:
        text = re.sub(rf"(\w){re.escape(short)}\b", rf"\1{long}", text)
    return text


def _outcome_sentence(facts: DraftFacts) -> str | None:
    """What the vendor did for them, in their own words (their NPS comment), as a sentence of the note."""
    solved = (facts.problem_solved or "").strip().rstrip(".!;, ")
    if not solved:
        return None
    solved = re.sub(r",\s*(finally|too|already|at last|now|again|really)$", "", solved, flags=re.I)
    solved = re.sub(r"^(game changer|honestly|in short)\s*[:,]\s*", "", solved, flags=re.I)
    vendor = facts.vendor_name
    if solved.lower().startswith(vendor.lower() + " "):
        solved = "it" + solved[len(vendor):]
    first = solved.split()[0].lower().strip(",")
    if first in _PAST_VERBS:
        solved = f"it {_lc_first(solved)}"
    return solved


def _adv(adverb: str | None) -> str:
    """Their own intensifier where one fits ("it has really helped"); hedges go in a sentence of their own."""
    return f"{adverb} " if adverb and adverb not in ("perhaps", "maybe", "probably") else ""


def _merge(a: str, b: str, joiner: str, lower: bool) -> str:
    """Two sentences as one, the way a long-sentence writer joins them: "A; b." / "A — b." / "A, and b."."""
    head = a.rstrip()
    if head[-1:] not in ".!" or b[-1:] == "?":
        return f"{a} {b}"
    first = re.match(r"[\w'’]+", b)
    tail = b[0].lower() + b[1:] if first and first.group().lower() in COMMON_WORDS and first.group() != "I" else b
    return f"{head[:-1]}{joiner}{tail}"


def _shape(p1: list[str], p2: list[str], profile: VoiceProfile, lower: bool) -> tuple[list[str], list[str]]:
    """Sentence length and punctuation as they write: a long-sentence writer gets fewer, longer sentences
    (joined with their own semicolon or dash when they use one); an ellipsis writer trails off once."""
    punct = profile.punctuation or {}
    joiner = "; " if punct.get("semicolon", 0) >= 0.4 else " — " if punct.get("dash", 0) >= 0.5 else ", and "
    if profile.avg_sentence_words >= 17:
        if len(p2) >= 2:
            p2 = [_merge(p2[0], p2[1], joiner, lower), *p2[2:]]
        elif p1 and p2 and not p1[-1].endswith("?"):
            p1, p2 = p1[:-1], [_merge(p1[-1], p2[0], joiner, lower), *p2[1:]]
    if punct.get("ellipsis", 0) >= 0.4 and p1 and p1[-1].endswith("."):
        p1 = [*p1[:-1], p1[-1][:-1] + "..."]
    return p1, p2


def compose_note(facts: DraftFacts, profile: VoiceProfile, *, greeting_override: str | None = None,
                 signoff_override: str | None = None) -> NoteText:
    """The champion's forwardable note to the target, composed sentence by sentence from the facts and
    this writer's habits: the strongest shared history first, what the vendor did for them (their own
    words when they gave any, else the problem it solved), the CSM by full name and role, in their register,
    length, contractions, casing, exclamation marks and their own recurring lines. The overrides exist for
    the eval's generic baseline."""
    signoff, valediction = _signoff(profile, facts)
    if signoff_override is not None:
        signoff, valediction = signoff_override or None, signoff_override or None
    s = _style(profile, valediction)
    greeting = _greeting(profile, facts) if greeting_override is None else (greeting_override or None)
    key = facts.champion.email or facts.champion.name
    formal = s.register == "formal"

    def t(text: str) -> str:
        """A piece of connecting text in their register (contractions as they use them)."""
        if formal:
            return expand_contractions(text)
        return _contract(text) if s.contractions else text

    def sentence(text: str, end: str = ".") -> str:
        text = t(text).rstrip()
        if text[-1:] not in ".!?:":
            text += ("!" if s.exclaim and end == "." else end)
        return _cap(text, s.lower)

    target = facts.target
    vocative = "" if greeting else f"{target.first_name}, "
    vendor = facts.vendor_name
    company = facts.champion.company
    at_company = f" at {company}" if company else ""
    where = f" at {target.company}" if target.company else ""
    history = facts.history_clause()
    outcome = _outcome_sentence(facts)
    problem = (facts.dealing_with or "").strip() or None
    csm = csm_intro(facts.csm.name, vendor, facts.csm.title) if facts.csm else None
    punct = profile.punctuation or {}
    parens = punct.get("paren", 0) >= 0.8
    adverb = next((a for a in profile.adverbs if a not in ("just", "also")), None)

    if s.register == "terse":
        # a terse writer's note stays about as long as their own emails: the first of these that fits
        budget = max(35, 1.6 * (profile.median_message_words or 30))
        ask = (f"want an intro to {facts.csm.name}, our customer success manager there?" if facts.csm
               else "want an intro?")
        line2 = _cap(t(ask), s.lower)
        short_history = facts.history_clause(span=False)
        if outcome and len(outcome.split()) <= 14:
            # no "we use X" before it in a short note: the vendor is named where "it" would be
            what = re.sub(r"^(in [\w ]+?,\s*)?it\b", lambda m: (m.group(1) or "") + vendor, outcome, count=1,
                          flags=re.I)
        elif problem:
            # "deal with" reads right before every problem form: "a ticket backlog", "low CSAT", "renewals
            # slipping through the cracks" ("helped us with renewals slipping" read as if it made them slip)
            what = f"{vendor} helped us deal with {problem}"
        else:
            what = f"we use {vendor}{at_company}"
        options: list[list[str]] = []
        for hist in dict.fromkeys([history, short_history]):
            first = (_pick(key, (f"{hist}, so thought of you", f"thought of you, {hist}")) if hist else None)
            options.append([sentence(vocative + first), sentence(what)] if first else [sentence(vocative + what)])
        if problem and outcome:
            options.append([sentence(vocative + _pick(key, (f"{short_history}, so thought of you",
                                                            f"thought of you, {short_history}")))
                            if short_history else "", sentence(f"{vendor} helped us deal with {problem}")])
        options.append(options[-1][:1])
        bits = next((o for o in options if len(" ".join([*o, line2]).split()) <= budget), options[-1])
        bits = [b for b in bits if b]
        paragraphs = [s.joiner.join(bits), line2]
    else:
        p1: list[str] = []
        if s.opener:
            p1.append(s.opener)
        if history:
            opts = ((f"since {history}, I thought you might find this useful",
                     f"{history}, and you came to mind this week",
                     f"as {history}, I wanted to pass something on") if formal else
                    (f"{history}, so you came to mind",
                     f"you came to mind because {history}",
                     f"{history}, and I thought of you this week"))
            p1.append(sentence(vocative + _pick(key, opts)))
        elif not s.opener:
            p1.append(sentence(vocative + ("I wanted to pass on something that may be useful to you" if formal
                                           else "something I thought you might find useful")))
        vocative = ""
        if profile.i_share >= 0.75:  # a writer who says "I", not "we"
            use = _pick(key + "u", (f"I have been using {vendor}{at_company}", f"I use {vendor}{at_company}"))
        else:
            use = _pick(key + "u", (f"we use {vendor}{at_company}", f"we have been using {vendor}{at_company}",
                                    f"{'at ' + company + ' ' if company else ''}we rely on {vendor}".strip()))
        p2: list[str] = []
        if outcome:
            p2.append(sentence(use))
            p2.append(sentence(expand_contractions(outcome) if formal else outcome))
        elif problem:
            p2.append(sentence(f"{use}, and it has {_adv(adverb)}helped us deal with {problem}"))
        else:
            p2.append(sentence(f"{use}, and it has {_adv(adverb)}worked well for us"))
        if s.hedge:
            p2.append(sentence(_hedged(s.hedge, f"it could help{where} too")))
        elif adverb in ("perhaps", "maybe", "probably"):
            p2.append(sentence(f"{adverb} it could help{where} too"))
        if csm:
            offer = _pick(key + "c", (
                f"if it would be useful, I would be glad to introduce you to {csm}",
                f"{csm}, would be glad to show you how it works; shall I introduce you?",
            ) if formal else (
                f"would you like an introduction to {csm}?",
                f"{csm}, can show you how it works. Want me to introduce you?",
                f"happy to introduce you to {csm}, if you would like",
            ))
        else:
            offer = (f"if it would be useful, I would be glad to introduce you to the team at {vendor}" if formal
                     else f"would you like an introduction to someone at {vendor}?")
        if csm and parens and facts.csm:
            offer = offer.replace(csm + ",", f"{facts.csm.name} ({csm[len(facts.csm.name) + 2:]})").replace(
                csm, f"{facts.csm.name} ({csm[len(facts.csm.name) + 2:]})")
        p3 = [sentence(part) for part in re.split(r"(?<=[?.])\s+(?=[A-Z])", offer)]
        p1, p2 = _shape(p1, p2, profile, s.lower)
        if s.closer:
            p3.append(s.closer)
        if profile.n_messages and profile.avg_paragraphs <= 1.6:  # one block of text, as they write
            paragraphs = [s.joiner.join([*p1, *p2, *p3])]
        elif profile.n_messages and profile.avg_paragraphs <= 2.4:
            paragraphs = [s.joiner.join([*p1, *p2]), s.joiner.join(p3)]
        else:
            paragraphs = [s.joiner.join(p) for p in (p1, p2, p3) if p]
    if s.emoji:
        paragraphs = _with_emoji(paragraphs, s.emoji)
    parts = ([greeting] if greeting else []) + paragraphs + ([signoff] if signoff else [])
    body = "\n\n".join(parts)
    if s.register == "terse":
        subject = _pick(key, (f"{vendor} intro", f"intro: {vendor}", f"{target.first_name} / {vendor}"))
    elif formal:
        subject = _pick(key, (f"Introduction: {vendor}", f"An introduction to {vendor}"))
    else:
        subject = _pick(key, (f"Intro: {vendor}", f"Thought of you: {vendor}", f"{vendor} intro"))
    if s.lower:  # as their sentences: "intro: Relaydesk", but "Grace / Relaydesk" keeps the names' case
        subject = _cap(subject, lower=True)
    return NoteText(subject, body, greeting, signoff)


_THANKS = {
    "nps": "thank you for the kind words about {vendor}",
    "qbr": "thank you for the time at our review; it was great to hear how things are going",
    "renewal": "thank you for renewing with us",
    "expansion": "great to see {company} growing with us",
    "go_live": "congratulations on the go-live",
    "milestone": "congratulations on the milestone",
    "public_win": "thank you for sharing your story",
    "offboarding": "congratulations on the new role, and thank you for everything at {company}",
}


# A face or an emoticon reads as a smile after anything; 🎉, 🙌 or 👍 after a question read as if the ask
# itself were the good news ("shall I introduce you? 🎉"), so they go after the last statement instead.
_FACES = re.compile(r"^(?:[\U0001F600-\U0001F644\U0001F910-\U0001F917\U0001F920-\U0001F92F\U0001F970-\U0001F97A\u263A\uFE0F]+|"
                    r"[:;=8][-^']?[)(DPp3]|\^_?\^)$")
_STATEMENT_END = re.compile(r"[.!](?=\s|$)")


def _with_emoji(paragraphs: list[str], emoji: str) -> list[str]:
    """The paragraphs with their writer's emoji after the last sentence: after the last statement when that
    sentence is a question and the emoji is not a face."""
    out = list(paragraphs)
    if not out[-1].rstrip().endswith("?") or _FACES.match(emoji):
        out[-1] = f"{out[-1]} {emoji}"
        return out
    for i in range(len(out) - 1, -1, -1):
        ends = [m.end() for m in _STATEMENT_END.finditer(out[i])]
        if ends:
            at = ends[-1]
            out[i] = f"{out[i][:at]} {emoji}{out[i][at:]}"
            return out
    out[-1] = f"{out[-1]} {emoji}"
    return out


def compose_ask(facts: DraftFacts) -> str:
    """The CSM's ask to the champion: thanks for the moment in plain words (never their notes), the question
    about the problem solved for them, 3-5 named people with human reasons, a request for just one intro."""
    champion = facts.champion.first_name
    vendor = facts.vendor_name
    company = facts.champion.company or "your team"
    thanks = _THANKS.get(facts.trigger_type or "", "thank you for working with us").format(vendor=vendor,
                                                                                          company=company)
    lines = [f"Hi {champion},", "", f"{thanks[0].upper()}{thanks[1:]}. Quick one: "
             f"{ask_question(facts.dealing_with, vendor)}"]
    if facts.suggestions:
        lines += ["", "A few people you know who might fit:"]
        lines += [f"• {s.line()}" for s in facts.suggestions]
        lines += ["", "Would you introduce us to just one of them? I drafted a short note in your words that you "
                      "can edit and forward."]
    else:
        lines += ["", f"Would you introduce us to {facts.target.name}? I drafted a short note in your words that "
                      "you can edit and forward."]
    if facts.csm is not None:
        lines += ["", facts.csm.name + (f", {vendor}" if vendor else "")]
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
    violations += [f"ask {v}" for v in facts.champion_violations(ask_text)]
    violations += [f"note {v}" for v in facts.champion_violations(f"{note.subject}\n{note.body}")]
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
