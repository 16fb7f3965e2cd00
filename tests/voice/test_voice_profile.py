"""Voice profiles: two champions with opposite styles measured from their own emails, Unicode names, and
recurring phrases that describe how someone writes (never their own name or their sign-off)."""

from __future__ import annotations

import pytest

from warmintro.voice.drafting import DraftFacts, PersonRef, Suggestion
from warmintro.voice.profile import PhraseBackground, _tokens, build_profile, parse_message

CASUAL_NAME = "Renée Okonkwo"
FORMAL_NAME = "Margaret Ellison"
_PEOPLE = [("sam", "Patel", "Mr."), ("lucas", "Moreau", "Mr."), ("alicia", "Grant", "Ms."), ("dev", "Shah", "Mr."),
           ("nora", "Quinn", "Ms."), ("omar", "Haddad", "Mr.")]
_THINGS = ["capacity model", "carrier scorecard", "sla report", "routing rules doc", "renewal forecast",
           "weekly ops review"]
_DAYS = ["friday", "monday", "thursday", "next week"]


def casual_bodies() -> list[str]:
    """Short, lower-case, contractions, 'hey sam —' and 'cheers'/'ttyl' over 'renée' (the demo's casual voice)."""
    out = []
    lines = [
        "quick one: can you send me the {thing} before {day}? want to sanity check the numbers first.",
        "the {thing} looks good, i'll turn it around quickly. no rush on your side tbh",
        "can we push our 1:1 to {day}? something came up. sorry for the shuffle!",
        "thanks for jumping on the {thing} yesterday, super helpful. owe you a coffee",
        "we're hiring another ops lead, know anyone good? remote is fine. no rush",
        "fwiw the {thing} went live this morning and nothing's on fire. lmk what you think",
    ]
    for i in range(18):
        first = _PEOPLE[i % len(_PEOPLE)][0]
        text = lines[i % len(lines)].format(thing=_THINGS[i % len(_THINGS)], day=_DAYS[i % len(_DAYS)])
        signoff = ("cheers", "ttyl")[i % 2]
        greeting = ("hey {f} —", "hey {f},")[i % 3 == 0].format(f=first)
        out.append(f"{greeting}\n\n{text}\n\n{signoff}\nrenée")
    return out


def formal_bodies() -> list[str]:
    """Long, formal, no contractions, 'Dear Mr. Patel,' and 'Kind regards,' over a full name and title."""
    out = []
    paras = [
        "I hope this message finds you well. I am pleased to confirm that the {thing} was completed this "
        "morning, and I would like to thank your team for their careful work throughout the process.",
        "We will monitor the results closely over the coming days and report back at the end of the week. "
        "Should any questions arise in the meantime, please do not hesitate to contact me directly.",
        "I would also be grateful if you could share the latest version of the {thing} before our next "
        "meeting, so that I may review the figures in advance and prepare my comments accordingly.",
        "Thank you once again for your continued support. I remain confident that we will achieve our "
        "objectives for the quarter.",
    ]
    for i in range(14):
        _, last, hon = _PEOPLE[i % len(_PEOPLE)]
        thing = _THINGS[i % len(_THINGS)]
        body = "\n\n".join(p.format(thing=thing) for p in paras[: 3 + i % 2])
        out.append(f"Dear {hon} {last},\n\n{body}\n\nKind regards,\nMargaret Ellison\n"
                   "Director of Operations, Harbor Freight Lines")
    return out


def facts(champion_name: str, champion_email: str, company: str = "Northwind Logistics") -> DraftFacts:
    target = PersonRef("Jordan Lee", "jordan.lee@harbor.example", "Harbor Freight Lines", "VP Operations")
    return DraftFacts(
        champion=PersonRef(champion_name, champion_email, company, "VP Operations"),
        target=target,
        vendor_name="Relaydesk",
        vendor_one_liner="routing and dispatch software for mid-size logistics teams",
        shared_history=("worked together at Harbor Freight Lines, Apr 2017 - Dec 2021, 56 months",),
        trigger_text="Cut our month-end close from 5 days to 2, finally.",
        trigger_type="nps",
        problem_solved="Cut our month-end close from 5 days to 2, finally",
        dealing_with="a slow month-end close",
        csm=PersonRef("Dana Whitfield", "dana@vendor.example", "Relaydesk", "customer success manager"),
        suggestions=(
            Suggestion("Jordan Lee", "jordan.lee@harbor.example", "Harbor Freight Lines", "VP Operations",
                       "worked together at Harbor Freight Lines, Apr 2017 - Dec 2021"),
            Suggestion("Ana Silva", "ana.silva@tidewater.example", "Tidewater Shipping", "Director of Operations",
                       "connected on LinkedIn"),
            Suggestion("Mei Chen", "mei.chen@kestrel.example", "Kestrel Health", "Head of RevOps",
                       "14 emails, last in Mar 2026"),
        ),
    )


# ---------------------------------------------------------------------------------------------------


def test_casual_champion_profile():
    p = build_profile(casual_bodies(), own_name=CASUAL_NAME)
    assert p.n_messages == 18
    assert p.greeting == "hey {name} —"  # the spaced dash is theirs, kept
    assert {f.form for f in p.greetings} == {"hey {name} —", "hey {name},"}
    assert p.signoff == "cheers" and {f.form for f in p.valedictions} == {"cheers", "ttyl"}
    assert p.signoff_name == "renée" and p.signoff_template == "cheers\n{signoff_name}"
    assert p.register == "terse" and p.formality < 0.3
    assert p.all_lowercase and p.contraction_rate > 0.9
    assert p.median_message_words < 25
    assert "no rush" in {ph.text for ph in p.recurring_phrases}


def test_formal_champion_profile():
    p = build_profile(formal_bodies(), own_name=FORMAL_NAME)
    assert p.greeting == "Dear {full_name},"  # "Dear Mr. Patel," generalised
    assert p.signoff == "Kind regards," and p.signoff_name == "Margaret Ellison"
    assert p.signoff_template == "Kind regards,\n{signoff_name}"
    assert p.signature_lines == ["Director of Operations, Harbor Freight Lines"]
    assert p.register == "formal" and p.formality > 0.7
    assert not p.all_lowercase and p.contraction_rate < 0.1
    assert p.median_message_words > 80 and p.avg_sentence_words > 15
    assert p.opening_lines[0].form == "I hope this message finds you well."


def test_the_two_profiles_are_opposite():
    casual = build_profile(casual_bodies(), own_name=CASUAL_NAME)
    formal = build_profile(formal_bodies(), own_name=FORMAL_NAME)
    assert casual.formality + 0.4 < formal.formality
    assert casual.median_message_words * 4 < formal.median_message_words
    assert casual.exclamation_rate > formal.exclamation_rate == 0


def test_tokens_keep_accented_words_whole():
    assert _tokens("Renée and Jürgen's café, naïve") == ["renée", "and", "jürgen's", "café", "naïve"]


@pytest.mark.parametrize("signoff", ["cheers\nrenée", "ttyl\nrenée", "cheers ren", "ttyl, ren", "Renée",
                                     "Cheers,\nRenée Okonkwo"])
def test_recurring_phrases_never_hold_their_own_name_or_sign_off(signoff):
    # The demo bug: "ren e", "ttyl ren", "cheers ren" came out as phrases of renee.okonkwo.
    bodies = [b.rsplit("\n\n", 1)[0] + "\n\n" + signoff for b in casual_bodies()]
    p = build_profile(bodies, own_name=CASUAL_NAME)
    assert p.recurring_phrases, "the corpus has real recurring phrases"
    banned = {"ren", "renée", "renee", "e", "okonkwo", "cheers", "ttyl"}
    for ph in p.recurring_phrases:
        assert not set(ph.text.split()) & banned, ph.text
    assert p.signoff_name is not None and p.signoff_name.lower().startswith("ren")


def test_lowercase_accented_signature_is_parsed_as_the_name():
    msg = parse_message("hey sam,\n\nall good here.\n\ncheers\nrenée")
    assert (msg.greeting, msg.valediction, msg.name, msg.layout) == ("hey {name},", "cheers", "renée", "lines")
    assert msg.body_lines == ["", "all good here.", ""]


def test_accented_bare_name_greeting_and_name_line():
    msg = parse_message("Élodie,\n\nThe report is attached.\n\nBest regards,\nJürgen Weiß")
    assert msg.greeting == "{name},"
    assert (msg.valediction, msg.name) == ("Best regards,", "Jürgen Weiß")


def test_phrases_are_measured_against_other_writers():
    # Against a background where everyone says "no rush", it is no longer theirs; "owe you a coffee" still is.
    others = [f"Hi,\n\nno rush on this one, item {i}.\n\nBest,\nAl" for i in range(40)]
    p = build_profile(casual_bodies(), background=PhraseBackground.from_bodies(others), own_name=CASUAL_NAME)
    texts = {ph.text for ph in p.recurring_phrases}
    assert "no rush" not in texts
    assert any("coffee" in t for t in texts)
    assert all(ph.lift >= 3.0 for ph in p.recurring_phrases)


def test_empty_profile():
    p = build_profile(["", "   "])
    assert p.n_messages == 0 and p.register == "neutral" and p.greeting is None
    assert p.to_json()["recurring_phrases"] == []
