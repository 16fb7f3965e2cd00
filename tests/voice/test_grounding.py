"""The grounding validator: every person, company, number and email address in a draft must come from the
facts it was drafted from."""

from __future__ import annotations

import pytest
from test_voice_profile import facts

from warmintro.voice.grounding import Grounding, validate

FACTS = facts("Priya Natarajan", "priya.natarajan@northwind.example")


def kinds(text: str) -> list[tuple[str, str]]:
    return [(v.kind, v.text) for v in validate(text, FACTS)]


def test_a_grounded_note_passes():
    text = ("Hi Jordan,\n\nWe worked together at Harbor Freight Lines, so I thought of you. Relaydesk cut our "
            "month-end close from 5 days to 2 at Northwind Logistics. Would you like an intro to Dana Whitfield? "
            "Her email is dana@vendor.example.\n\nBest regards,\nPriya")
    assert validate(text, FACTS) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Hi Jordan, you should meet Carlos Mendes, he runs this.", ("name", "Carlos Mendes")),
    ("Hi Jordan, Relaydesk cut our close by 70%.", ("number", "70%")),
    ("Hi Jordan, it saved us $250,000 last year.", ("number", "$250,000")),
    ("Hi Jordan, it cut our close from 5 days to 3.", ("number", "3")),
    ("Hi Jordan, they also work with Globex Corp on this.", ("company", "Globex Corp")),
    ("Hi Jordan, my friend at Initech swears by it.", ("company", "Initech")),
    ("Hi Jordan, IBM uses it too.", ("company", "IBM")),
    ("Hi Jordan, write to sales@relaydesk.example for a demo.", ("email", "sales@relaydesk.example")),
])
def test_invented_facts_are_caught(text, expected):
    assert expected in kinds(text)


def test_numbers_compare_by_value():
    # "5 days to 2" is in the facts; "2026" (the suggestions' "Mar 2026") and "56" (the history) are too.
    assert kinds("From 5 days to 2 since Mar 2026, after 56 months together.") == []
    assert kinds("That was 2025.") == [("number", "2025")]


def test_sentence_openers_months_and_acronyms_are_not_names():
    assert kinds("Thanks again. Hope all is well! Honestly, our QBR in March went great. FYI the CRM is fine.") == []


def test_the_champion_may_sign_with_a_short_form_of_their_own_name():
    g = Grounding(FACTS)
    assert g.check("Cheers,\nPri") == []
    assert g.check("- PN") == []
    assert [v.text for v in g.check("Cheers,\nPeter")] == ["Peter"]


def test_a_part_of_a_fact_name_is_grounded_but_a_new_surname_is_not():
    assert kinds("Jordan, Harbor folks will love it.") == []
    assert ("name", "Jordan Smith") in kinds("Say hi to Jordan Smith.")


def test_mentioned_names_lists_what_the_text_grounded_on():
    g = Grounding(FACTS)
    assert g.mentioned_names("Jordan Lee, meet Dana Whitfield of Relaydesk.") == [
        "Jordan Lee", "Dana Whitfield", "Relaydesk"]


def test_the_champions_own_vocabulary_is_not_a_name_at_a_sentence_start():
    text = "Owe you one. Swears by it."
    assert {v.text for v in validate(text, FACTS)} >= {"Owe", "Swears"}
    assert validate(text, FACTS, vocabulary={"owe", "swears"}) == []


def test_a_dash_after_a_name_is_punctuation_not_part_of_the_name():
    # "Jordan- thought of you" (a greeting written with a dash) must not read as a new name "Jordan-".
    assert kinds("Jordan- thought of you for this. Priya") == []
    assert ("name", "Carlos") in kinds("Carlos- meet Jordan.")
