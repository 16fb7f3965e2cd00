"""Drafting from chat for CSMs (offline router and a scripted model), the write confirmation that shows what
will be sent, the champion's own view in human terms, and Slack mrkdwn rendered for the terminal."""

from __future__ import annotations

import re

import pytest
from fakes import tool_call
from langchain_core.messages import AIMessage
from rich.console import Console
from test_agent import DANA, NOW, PRIYA, model_service

from agent.router import route
from agent.service import AgentService
from warmintro.champion_text import violations
from warmintro.commands.mrkdwn import to_terminal
from warmintro.importer.run import import_folder
from warmintro.settings import Settings

PRIYA_EMAIL = "priya.natarajan@northwind.example"


@pytest.fixture
def service(store, northwind, tmp_path):
    import_folder(store, northwind)
    return AgentService(Settings(home=tmp_path), store, clock=lambda: NOW)


@pytest.mark.parametrize(("text", "champion"), [
    ("draft the ask for priya.natarajan@northwind.example", PRIYA_EMAIL),
    ("<@U0BOT> Draft an ask to Priya Natarajan?", "Priya Natarajan"),
    ("please prepare the referral note for <mailto:tom.reyes@bluebird.example|tom.reyes@bluebird.example>",
     "tom.reyes@bluebird.example"),
])
def test_router_understands_drafting(text, champion):
    intent = route(text, "csm")
    assert intent is not None and (intent.tool, intent.args) == ("draft_ask", {"champion": champion})
    assert route(text, "ae").tool == "denied"  # drafting an ask is the CSM's job


@pytest.mark.store
def test_csm_drafts_the_ask_and_notes_offline(service):
    reply = service.respond(DANA, "D2:1.0", "draft the ask for Priya Natarajan")
    assert reply.intent == "draft_ask" and reply.mode == "offline"
    data = reply.tool_calls[0]["result"]
    assert data["champion"]["email"] == PRIYA_EMAIL and data["notes"]
    assert "who in your network" in data["ask"] and "Hi Priya," in data["ask"]
    for note in data["notes"]:
        assert note["mailto"].startswith("mailto:") and note["body"]
        assert "Dana Whitfield, our customer success manager" in note["body"] or \
            "Dana Whitfield (our customer success manager" in note["body"]
    assert "The ask to Priya Natarajan" in reply.text and "Open this note in their email" in reply.text
    # what the champion reads carries no count of their mail, score or internal note
    for text in [data["ask"], *(n["body"] for n in data["notes"])]:
        assert not [v for v in violations(text) if "count" in v or "score" in v], text


@pytest.mark.store
def test_an_unknown_champion_gets_a_clear_answer(service):
    reply = service.respond(DANA, "D2:2.0", "draft the ask for Nobody Atall")
    assert reply.intent == "draft_ask" and "can't find a customer contact called Nobody Atall" in reply.text


@pytest.mark.store
def test_a_champion_found_by_a_name_prefix_and_an_ambiguous_name_listed(service, store):
    from warmintro.store import models as m

    reply = service.respond(DANA, "D2:4.0", "draft the ask for Priya")  # a unique prefix, as the CLI takes
    assert reply.intent == "draft_ask" and "Hi Priya," in reply.text
    with store.session() as s:
        s.add(m.Contact(contact_id="C-99", account_id="ACC-1", name="Priya Shah", email="priya.shah@northwind.example"))
        s.commit()
    reply = service.respond(DANA, "D2:5.0", "draft the ask for Priya")
    assert "matches 2" in reply.text and "priya.shah@northwind.example" in reply.text
    assert PRIYA_EMAIL in reply.text and "Hi Priya," not in reply.text


@pytest.mark.store
def test_the_write_confirmation_shows_what_will_be_sent(service):
    reply = service.respond(DANA, "D2:3.0", f"send the ask to {PRIYA_EMAIL}")
    assert reply.pending is not None and reply.pending.preview
    assert "This is what they will read:" in reply.text
    assert "> Hi Priya," in reply.text and "who in your network" in reply.text


@pytest.mark.store
def test_a_model_can_draft_for_a_csm_through_the_same_tool(store, northwind, tmp_path):
    def answer(messages):
        assert '"ask"' in messages[-1].content and "Hi Priya" in messages[-1].content
        return AIMessage(content="Here is the ask to Priya Natarajan, with her notes.")

    svc, model = model_service(store, northwind, tmp_path, [tool_call("draft_ask", {"champion": PRIYA_EMAIL}), answer])
    reply = svc.respond(DANA, "D2:4.0", "can you write up the referral request for Priya?")
    assert reply.mode == "model" and "Priya Natarajan" in reply.text
    assert reply.tool_calls[0]["tool"] == "draft_ask" and reply.tool_calls[0]["result"]["notes"]
    assert "draft_ask" in model.bound_tools
    model.assert_used_up()


@pytest.mark.store
def test_the_champion_sees_reasons_in_human_terms(service, store):
    from datetime import timedelta

    from warmintro.store import models as m

    with store.session(write=True) as s:
        s.add(m.Ask(contact_email=PRIYA_EMAIL, account_id="ACC-1", asked_at=NOW - timedelta(days=1),
                    channel="slack", source="product", outcome="pending"))
    reply = service.respond(PRIYA, "P:1", "what was that ask about?")
    assert reply.intent == "my_open_ask"
    assert not re.search(r"\d+ (emails?|meetings?)", reply.text), reply.text
    assert "you " in reply.text


def render(text: str) -> str:
    console = Console(width=80, record=True, force_terminal=False)
    console.print(to_terminal(text))
    return console.export_text()


def test_mrkdwn_is_rendered_as_terminal_text():
    text = ("*The ask to Renée* _review it_\n> Hi Renée,\n>\n> • Grace &amp; Co &lt;VP&gt;\n"
            "<mailto:a@b.example?subject=x|Open this note> · <https://docs.example/a|the docs> · <@U0DANA>")
    out = render(text)
    assert "*" not in out and "_review" not in out and "&amp;" not in out
    assert "The ask to Renée review it" in out
    assert "  │ Hi Renée," in out and "  │ • Grace & Co <VP>" in out
    assert "Open this note · the docs (https://docs.example/a) · @U0DANA" in out
    assert "mailto:" not in out
