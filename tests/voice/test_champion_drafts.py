"""Drafts read as the champion: the strongest shared history named, the CSM by full name and role, no stock
opener a writer never uses, no contractions from a formal writer, a short note from a terse one, no tagline;
and the LLM drafter held to the same rules, falling back to the offline note when a model breaks them."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from test_drafting import llm
from test_voice_profile import CASUAL_NAME, FORMAL_NAME, casual_bodies, facts, formal_bodies

from warmintro.voice import OfflineDrafter, build_profile

EMAILS_FIRST = ("30 emails, last in Nov 2026", "worked together at Harbor Freight Lines, Apr 2017 - Dec 2021, 56 months")


@pytest.fixture(autouse=True)
def _offline_tiktoken(tmp_path_factory, monkeypatch):
    from warmintro.tokens import ensure_tiktoken_cache

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tiktoken"))
    ensure_tiktoken_cache(tmp_path_factory.getbasetemp() / "tiktoken")


def formal_without_stock_opener() -> list[str]:
    return [b.replace("I hope this message finds you well. ", "") for b in formal_bodies()]


CASES = {
    "casual": (facts(CASUAL_NAME, "renee@kiln.example", "Kilnworth Software"), casual_bodies()),
    "formal": (facts(FORMAL_NAME, "margaret@northwind.example"), formal_bodies()),
    "formal_plain": (facts(FORMAL_NAME, "margaret@northwind.example"), formal_without_stock_opener()),
}


def draft(case: str, **changes):
    fx, bodies = CASES[case]
    fx = replace(fx, **changes)
    return fx, build_profile(bodies, own_name=fx.champion.name), OfflineDrafter().draft(fx, build_profile(
        bodies, own_name=fx.champion.name), [])


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_note_names_the_strongest_history_and_the_csm_in_full(case):
    fx, _profile, d = draft(case, shared_history=EMAILS_FIRST)
    assert "we worked together at harbor freight lines" in d.body.lower()
    assert "in touch" not in d.body and "30 emails" not in d.body + d.ask_text
    assert "Dana Whitfield" in d.body and "customer success manager" in d.body
    assert not re.search(r"\bDana\b(?! Whitfield)", d.body)
    assert fx.vendor_one_liner not in d.body and fx.vendor_one_liner not in d.ask_text
    assert d.violations == []


def test_a_formal_writer_who_never_writes_the_stock_opener_does_not_get_it():
    _fx, profile, d = draft("formal_plain")
    assert profile.register == "formal"
    assert "finds you well" not in d.body and "I am writing because" not in d.body
    assert not re.search(r"\b\w+'(m|re|ve|ll|d|t|s)\b", d.body)
    own = draft("formal")[2]
    assert "I hope this message finds you well." in own.body  # their own line, when it is theirs


def test_a_formal_writer_gets_no_contractions_even_from_their_own_words():
    _fx, _profile, d = draft("formal", problem_solved="It's cut our month-end close from 5 days to 2, we can't complain")
    assert not re.search(r"\b\w+'(m|re|ve|ll|d|t|s)\b", d.body), d.body


def test_a_terse_writer_stays_about_as_short_as_their_emails():
    _fx, profile, d = draft("casual")
    core = d.body.replace(d.greeting or "", "").replace(d.signoff or "", "")
    assert profile.register == "terse"
    assert len(core.split()) <= max(35, 1.6 * profile.median_message_words)


def test_two_writers_with_the_same_habits_do_not_get_the_same_sentences():
    bodies = casual_bodies()
    notes = set()
    for name, email in (("Renée Okonkwo", "renee@kiln.example"), ("Ana Ruiz", "ana@kiln.example"),
                        ("Bo Lind", "bo@kiln.example"), ("Dee Park", "dee@kiln.example")):
        fx = replace(facts(name, email, "Kilnworth Software"))
        body = OfflineDrafter().draft(fx, build_profile(bodies, own_name=name), []).body
        notes.add(body)
    assert len(notes) > 1


# ---------------------------------------------------------------------------------------------------
# The LLM drafter, held to the same rules


GOOD = ("Subject: Relaydesk intro\n\nDear Jordan Lee,\n\nWe worked together at Harbor Freight Lines for four "
        "years, and I thought of you. Relaydesk cut our month-end close from 5 days to 2. Dana Whitfield, our "
        "customer success manager at Relaydesk, would be glad to show you how it works.\n\nKind regards,\n"
        "Margaret Ellison")
COUNTS = GOOD.replace("We worked together at Harbor Freight Lines for four years", "We exchanged 30 emails")
TAGLINE = GOOD.replace("Relaydesk cut our", "Relaydesk (routing and dispatch software for mid-size logistics "
                                             "teams) cut our")
FIRST_NAME_CSM = GOOD.replace("Dana Whitfield, our customer success manager at Relaydesk,", "Dana there")
CONTRACTED = GOOD.replace("and I thought of you", "and I've thought of you")
NO_HISTORY = GOOD.replace("We worked together at Harbor Freight Lines for four years, and I", "I")
ASK_WITH_COUNT = ("Hi Margaret,\n\nThank you for this: Cut our month-end close from 5 days to 2, finally.\n"
                  "• Mei Chen: 14 emails, last in Mar 2026\n\nDana")


@pytest.mark.parametrize(("bad", "named"), [
    (COUNTS, "shows a count"), (TAGLINE, "tagline"), (FIRST_NAME_CSM, "without their full name"),
    (CONTRACTED, "contractions"), (NO_HISTORY, "worked together at Harbor Freight Lines"),
])
def test_a_model_note_breaking_a_champion_rule_is_retried_then_replaced(bad, named):
    fx, bodies = CASES["formal"]
    profile = build_profile(bodies, own_name=fx.champion.name)
    fx = replace(fx, shared_history=EMAILS_FIRST)
    model, drafter = llm([bad, bad])
    d = drafter.draft(fx, profile, [])
    model.assert_used_up()
    assert named in model.calls[1][1].content  # the retry names the broken rule
    assert d.model == "offline" and d.body == OfflineDrafter().draft(fx, profile, []).body
    assert d.violations == []


def test_a_model_note_that_keeps_the_rules_is_used_and_a_bad_ask_is_replaced():
    fx, bodies = CASES["formal"]
    profile = build_profile(bodies, own_name=fx.champion.name)
    model, drafter = llm([GOOD, ASK_WITH_COUNT, ASK_WITH_COUNT])
    d = drafter.draft(fx, profile, [])
    model.assert_used_up()
    assert d.model == "scripted" and d.body.startswith("Dear Jordan Lee,")
    assert d.ask_model == "offline" and "14 emails" not in d.ask_text and "Thank you for this" not in d.ask_text
    prompt = model.calls[0][1].content
    assert "shared history (the strongest; name it): we worked together at Harbor Freight Lines" in prompt
    assert "Cut our month-end close from 5 days to 2, finally." not in prompt.split("EXAMPLES")[0].replace(
        "what it did for them, in their own words: Cut our month-end close from 5 days to 2, finally", "")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("problem", ["renewals slipping through the cracks", "an ops team drowning in email"])
def test_a_problem_with_no_outcome_reads_as_what_the_vendor_helped_with(case, problem):
    _fx, _profile, d = draft(case, problem_solved=None, dealing_with=problem)
    flat = " ".join(d.body.split())
    assert f"helped us deal with {problem}" in flat, d.body
    assert f"sorted {problem}" not in flat and f"helped us with {problem}" not in flat


@pytest.mark.parametrize("emoji, after_question", [("🎉", False), ("🙌", False), ("🙂", True), (":)", True)])
def test_a_writers_emoji_follows_their_good_news_not_the_ask(emoji, after_question):
    fx, bodies = CASES["casual"]
    profile = build_profile([f"{b} {emoji}" for b in bodies], own_name=fx.champion.name)
    assert profile.emojis[:1] == [emoji] and profile.register == "terse"
    d = OfflineDrafter().draft(fx, profile, [])
    assert d.body.count(emoji) == 1 and d.violations == []
    ask = next(line for line in d.body.split("\n") if line.rstrip().endswith(("?", f"? {emoji}")))
    if after_question:
        assert ask.rstrip().endswith(f"? {emoji}"), d.body
    else:
        assert emoji not in ask, d.body
        assert re.search(rf"[.!] {re.escape(emoji)}", d.body), d.body
