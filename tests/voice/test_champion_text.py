"""The champion-facing boundary (warmintro.champion_text) and the problem phrase (warmintro.engines.problem):
one case per defect a champion must never read again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warmintro.champion_text import (
    ask_question,
    champion_reason,
    csm_intro,
    human_reason,
    repeated_question_words,
    strongest_history,
    violations,
)
from warmintro.demo.notes import NPS_PROMOTER, QBR_POSITIVE, STORIES
from warmintro.engines.problem import extract_problem

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
TAGLINE = ("Relaydesk routes every customer request to the right person, with SLAs, automations and reporting "
           "for operations and support teams")


# ---------------------------------------------------------------------------------------------------
# Reasons and shared history


def test_worked_together_beats_emails_even_when_emails_are_listed_first():
    evidence = ["30 emails, last in Nov 2026", "worked together at Umberly Group, Mar 2016 - Jun 2020, 51 months"]
    h = strongest_history(evidence)
    assert h is not None and h.kind == "coworker"
    assert h.clause() == "we worked together at Umberly Group for four years"
    assert human_reason(evidence, NOW) == "you worked together at Umberly Group"


@pytest.mark.parametrize(("evidence", "reason", "raw_is_a_count"), [
    ("30 emails, last in November 2026", "you have been in touch this year", True),
    ("3 emails, last in March 2025", "you were in touch last year", True),
    ("4 meetings together, last in June 2026 (QBR)", "you have met this year", True),
    ("connected on LinkedIn since May 2019", "you are connected on LinkedIn", False),
    ("worked together at Segment, Apr 2019 - present, 20 months", "you work together at Segment", False),
    ("advisor relationship (3 interactions, last in May 2026)", "you know each other through an advisor relationship",
     True),
])
def test_reasons_are_human_and_carry_no_counts(evidence, reason, raw_is_a_count):
    assert human_reason([evidence], NOW) == reason
    assert champion_reason(evidence, NOW) == reason
    assert violations(reason) == []
    assert bool(violations(evidence)) is raw_is_a_count  # the raw evidence itself would be caught


def test_a_reason_already_in_words_is_kept():
    assert champion_reason("you worked together at Umberly Group") == "you worked together at Umberly Group"


# ---------------------------------------------------------------------------------------------------
# The check, one defect at a time


QBR = 'Great QBR. Joy: "Relaydesk took our CSAT from 78 to 91." They want to roll it out to the finance team.'


def test_internal_notes_are_caught_even_in_part_and_own_words_are_not():
    leak = "Thank you for this: They want to roll it out to the finance team."
    assert any("internal" in v for v in violations(leak, internal=[QBR]))
    assert violations("Thanks for the kind words.", internal=[QBR]) == []
    own = "It took our CSAT from 78 to 91. Support is fast."
    # the champion's own NPS words may be repeated in their note, even when a QBR note quotes the same story
    assert violations("Relaydesk took our CSAT from 78 to 91.", internal=[QBR], own=[own], vendor="Relaydesk") == []


@pytest.mark.parametrize("text", [
    "Grace Rousseau, 30 emails, last in November 2026",
    "you met (4 meetings together)",
    "NPS 9, 2 days ago",
    "healthy account: health 99",
    "Grace fits the ICP",
    "priority 87",
])
def test_counts_and_scores_are_caught(text):
    assert any(v.startswith(("shows a count", "shows a score")) for v in violations(text))


def test_a_company_named_health_is_not_a_score():
    assert violations("Mei Chen, Head of RevOps at Kestrel Health: you have been in touch") == []


def test_the_tagline_is_caught_whole_or_in_part():
    assert violations(f"we use Relaydesk ({TAGLINE})", tagline=TAGLINE) == ["pastes the vendor's tagline"]
    assert violations("it routes every customer request to the right person", tagline=TAGLINE)
    assert violations("we use Relaydesk and it cleared our backlog", tagline=TAGLINE) == []


def test_repeated_words_in_the_question_are_caught():
    assert repeated_question_words("who in your network is still dealing with CSAT that still takes 78?") == ["still"]
    assert repeated_question_words("Who in your network is dealing with a ticket backlog?") == []
    assert ask_question("tickets and more tickets", "Relaydesk") == "who in your network could use Relaydesk too?"
    assert ask_question("a ticket backlog", "Relaydesk", capital=True) == \
        "Who in your network is dealing with a ticket backlog?"


def test_the_csm_is_named_in_full_before_a_first_name_alone():
    assert violations("Dana there can show you how.", csm_name="Dana Reyes")
    intro = csm_intro("Dana Reyes", "Relaydesk")
    assert intro == "Dana Reyes, our customer success manager at Relaydesk"
    assert violations(f"{intro}, can show you how. Dana is great.", csm_name="Dana Reyes") == []
    assert violations("Hi Ana,\n\nwho in your network could use Relaydesk too?\n\nDana", csm_name="Dana Reyes") == []


# ---------------------------------------------------------------------------------------------------
# The problem phrase


EXPECTED = {
    "cut our month-end close from 5 days to 2": "a slow month-end close",
    "took first-response time from 9 hours to 40 minutes": "slow first-response times",
    "cleared a 1,200-ticket backlog in two weeks": "a ticket backlog",
    "took our CSAT from 78 to 91": "low CSAT",
    "let us absorb 30% more volume without adding headcount": "growing volume without the headcount to match",
    "cut misrouted tickets by 70%": "misrouted tickets",
    "automated 80% of our order-change requests": "manual order-change requests",
    "stopped renewals from slipping through the cracks": "renewals slipping through the cracks",
}


@pytest.mark.parametrize(("story", "phrase"), sorted(EXPECTED.items()))
def test_problem_phrases_are_clean_noun_phrases(story, phrase):
    p = extract_problem(f"It {story}. Support is fast and actually knows the product.", TAGLINE)
    assert p is not None and p.dealing_with == phrase


@pytest.mark.parametrize("story", STORIES)
@pytest.mark.parametrize("template", NPS_PROMOTER + QBR_POSITIVE)
def test_no_story_gives_a_garbled_question(story, template):
    text = template.format(story=story, buyer="Joy Dekker", pct=80, drop=30)
    p = extract_problem(text, TAGLINE)
    question = ask_question(p.dealing_with if p else None, "Relaydesk")
    assert violations(question, tagline=TAGLINE) == [], question
    assert not any(ch.isdigit() for ch in question), question
    assert "Joy" not in question and len(question.split()) <= 16, question


def test_no_problem_in_the_words_means_no_tagline():
    assert extract_problem("Renewal signed early, no discount requested.", TAGLINE) is None
    assert extract_problem(None, TAGLINE) is None


def test_qbr_notes_give_the_topic_from_the_quote():
    p = extract_problem(QBR)
    assert p is not None and p.dealing_with == "low CSAT"
