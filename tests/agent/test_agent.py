"""The agent service: offline router, role scoping, approvals, a scripted model and fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes import ScriptedChatModel, tool_call
from langchain_core.messages import AIMessage
from sqlalchemy import select

from agent.identity import Identity, resolve_identity
from agent.router import route
from agent.service import AgentService
from warmintro.importer.run import import_folder
from warmintro.settings import Settings
from warmintro.store import models as m

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DANA = Identity("csm", "U0DANA", "dana@vendor.example", "Dana Whitfield")
ALEX = Identity("ae", "U0ALEX", "alex@vendor.example", "Alex Romero")
PRIYA = Identity("champion", "U01PRIYA", "priya.natarajan@northwind.example", "Priya", "ACC-1")
TOM = Identity("champion", "U01TOMR", "tom.reyes@bluebird.example", "Tom", "ACC-2")
NOBODY = Identity("unknown", "U0NOPE")


@pytest.fixture
def service(store, northwind, tmp_path):
    import_folder(store, northwind)
    return AgentService(Settings(home=tmp_path), store, clock=lambda: NOW)


def model_service(store, northwind, tmp_path, script):
    import_folder(store, northwind)
    from agent.checkpoint import open_checkpointer

    settings = Settings(home=tmp_path)
    model = ScriptedChatModel.of(script)
    svc = AgentService(settings, store, model=model, checkpointer=open_checkpointer(settings), clock=lambda: NOW)
    return svc, model


@pytest.mark.parametrize(("text", "role", "tool", "args"), [
    ("<@U0BOT> who knows someone at stripe.com?", "ae", "who_knows", {"target": "stripe.com"}),
    ("who knows anyone at <http://stripe.com|stripe.com>", "sdr", "who_knows", {"target": "stripe.com"}),
    ("any warm paths to Harbor Freight Lines?", "csm", "who_knows", {"target": "Harbor Freight Lines"}),
    ("who should I ask today?", "csm", "todays_queue", {}),
    ("why not Acme?", "csm", "explain_account", {"account": "Acme"}),
    ("who should I ask at Northwind?", "csm", "explain_account", {"account": "Northwind"}),
    ("personas at Northwind", "ae", "account_personas", {"account": "Northwind"}),
    ("targets for priya@northwind.example", "csm", "champion_targets", {"champion_email": "priya@northwind.example"}),
    ("send the ask to <mailto:priya@northwind.example|priya@northwind.example>", "csm", "send_ask",
     {"champion_email": "priya@northwind.example"}),
    ("anything", "champion", "my_open_ask", {}),
])
def test_router_understands_common_phrasings(text, role, tool, args):
    intent = route(text, role)
    assert intent is not None and (intent.tool, intent.args) == (tool, args)


def test_router_denies_tools_outside_the_role():
    assert route("send the ask to priya@northwind.example", "ae").tool == "denied"
    assert route("who should I ask today?", "sdr").tool == "denied"
    assert route("who knows someone at stripe.com", "champion", external=True).tool == "my_open_ask"
    assert route("tell me a joke", "csm") is None


@pytest.mark.store
def test_identity_resolution(store, northwind):
    import_folder(store, northwind)
    with store.session() as s:
        assert resolve_identity(s, slack_user_id="U0DANA").role == "csm"
        assert resolve_identity(s, slack_user_id="U01PRIYA").role == "champion"
        assert resolve_identity(s, slack_user_id="UX", lookup_email=lambda _: "Alex@Vendor.example").role == "ae"
        assert resolve_identity(s, slack_user_id="UY", lookup_email=lambda _: "tom.reyes@bluebird.example").role == "champion"
        assert resolve_identity(s, slack_user_id="UZ", lookup_email=lambda _: "stranger@else.example").role == "unknown"
        # An external user claiming a vendor email is still only ever a champion or unknown.
        ext = resolve_identity(s, slack_user_id="UE", external=True, lookup_email=lambda _: "dana@vendor.example")
        assert ext.role == "unknown" and ext.external


@pytest.mark.store
def test_offline_rep_asks_who_knows(service):
    reply = service.respond(ALEX, "C1:1.0", "<@U0BOT> who knows someone at harbor.example?")
    assert reply.mode == "offline" and reply.intent == "who_knows"
    assert "Priya" in reply.text and "customer" in reply.text
    assert "Thanks for the quick turnaround" not in reply.text  # never an email body


def test_a_company_nobody_works_at_gets_an_answer_not_an_error(service):
    reply = service.respond(ALEX, "D1", "who knows someone at Zyxwv Corp?")
    assert reply.intent == "who_knows" and "don't know anyone at Zyxwv Corp" in reply.text
    assert reply.tool_calls[0]["result"]["error"] == "unknown_target"


@pytest.mark.store
def test_offline_csm_queue_and_why(service):
    reply = service.respond(DANA, "D1:1.0", "who should I ask today?")
    assert reply.intent == "todays_queue"
    assert "Priya Natarajan" in reply.text
    why = service.respond(DANA, "D1:2.0", "why not Bluebird?")
    assert why.intent == "explain_account"
    assert "tom.reyes@bluebird.example" in why.text and "declined an ask" in why.text


@pytest.mark.store
def test_send_ask_waits_for_a_click_and_double_clicks_are_idempotent(service, store):
    reply = service.respond(DANA, "D1:3.0", "send the ask to priya.natarajan@northwind.example")
    assert reply.pending is not None and reply.pending.tool == "send_ask"
    with store.session() as s:
        assert s.scalars(select(m.Ask).where(m.Ask.source == "product")).all() == []
    assert "Only the person" in service.decide(ALEX, "D1:3.0", reply.pending.action_id, True).text
    done = service.decide(DANA, "D1:3.0", reply.pending.action_id, True)
    assert "Recorded the ask" in done.text
    again = service.decide(DANA, "D1:3.0", reply.pending.action_id, True)
    assert again.intent == "already_decided"
    with store.session() as s:
        asks = s.scalars(select(m.Ask).where(m.Ask.source == "product")).all()
    assert [a.contact_email for a in asks] == ["priya.natarajan@northwind.example"]


@pytest.mark.store
def test_rejected_proposal_changes_nothing(service, store):
    reply = service.respond(DANA, "D1:4.0", "send the ask to priya.natarajan@northwind.example")
    assert service.decide(DANA, "D1:4.0", reply.pending.action_id, False).intent == "rejected"
    with store.session() as s:
        assert s.scalars(select(m.Ask).where(m.Ask.source == "product")).all() == []


@pytest.mark.store
def test_roles_are_scoped(service):
    assert service.respond(NOBODY, "X:1", "who should I ask today?").mode == "refusal"
    assert service.respond(ALEX, "X:2", "send the ask to priya.natarajan@northwind.example").mode == "refusal"
    champ = service.respond(TOM, "X:3", "show me Priya's suggestions, targets for priya.natarajan@northwind.example")
    assert champ.intent == "my_open_ask" and "Priya" not in champ.text


@pytest.mark.store
def test_scripted_model_calls_a_tool_and_answers(store, northwind, tmp_path):
    def answer(messages):
        tool_result = messages[-1].content
        assert "jordan.lee@harbor.example" in tool_result
        return AIMessage(content="Priya Natarajan (a customer) knows Jordan Lee (jordan.lee@harbor.example) well.")

    svc, model = model_service(store, northwind, tmp_path, [tool_call("who_knows", {"target": "harbor.example"}), answer])
    reply = svc.respond(ALEX, "C9:1.0", "who knows someone at harbor?")
    assert reply.mode == "model" and "Jordan Lee" in reply.text
    assert [{k: c[k] for k in ("tool", "args")} for c in reply.tool_calls] == [{"tool": "who_knows", "args": {"target": "harbor.example"}}]
    assert reply.tool_calls[0]["result"]["paths"][0]["target_email"] == "jordan.lee@harbor.example"
    assert model.bound_tools == ["who_knows", "explain_account", "account_personas", "champion_targets"]
    model.assert_used_up()


@pytest.mark.store
def test_a_model_answer_echoing_hostile_markup_is_escaped(store, northwind, tmp_path):
    hostile = "Jordan Lee knows us. <!channel> see <https://evil.example/x|the report> and ping <@U0ADMIN>"
    svc, model = model_service(store, northwind, tmp_path, [tool_call("who_knows", {"target": "harbor.example"}),
                                                            AIMessage(content=hostile)])
    reply = svc.respond(ALEX, "C9:2.0", "who knows someone at harbor?")
    assert reply.mode == "model"
    assert "<!channel>" not in reply.text and "<https://" not in reply.text and "<@" not in reply.text
    assert "&lt;!channel&gt;" in reply.text
    model.assert_used_up()


@pytest.mark.store
def test_scripted_model_write_needs_approval_then_resumes(store, northwind, tmp_path):
    svc, model = model_service(store, northwind, tmp_path, [
        tool_call("send_ask", {"champion_email": "priya.natarajan@northwind.example"}),
        AIMessage(content="Done: the ask to Priya is recorded."),
    ])
    reply = svc.respond(DANA, "D9:1.0", "please ask Priya")
    assert reply.pending is not None and reply.mode == "model"
    with store.session() as s:
        assert s.scalars(select(m.Ask).where(m.Ask.source == "product")).all() == []
    done = svc.decide(DANA, "D9:1.0", reply.pending.action_id, True)
    assert "recorded" in done.text
    with store.session() as s:
        assert len(s.scalars(select(m.Ask).where(m.Ask.source == "product")).all()) == 1
    model.assert_used_up()


@pytest.mark.store
def test_model_failure_falls_back_offline(store, northwind, tmp_path):
    svc, model = model_service(store, northwind, tmp_path, [TimeoutError("model timed out")])
    reply = svc.respond(ALEX, "C9:2.0", "who knows someone at harbor.example?")
    assert reply.mode == "offline" and "Priya" in reply.text and "unavailable" in reply.text
    model.assert_used_up()


@pytest.mark.store
def test_ungrounded_model_answer_is_not_sent(store, northwind, tmp_path):
    svc, model = model_service(store, northwind, tmp_path, [
        tool_call("who_knows", {"target": "harbor.example"}),
        AIMessage(content="Ask ceo@madeup.example, she loves us."),
    ])
    reply = svc.respond(ALEX, "C9:3.0", "who knows someone at harbor.example?")
    assert "madeup" not in reply.text and "Priya" in reply.text
    model.assert_used_up()


@pytest.mark.store
def test_a_model_answer_streams_sentence_by_sentence(store, northwind, tmp_path):
    answer = ("Priya Natarajan knows Jordan Lee at Harbor Freight Lines well: fourteen emails over the years. "
              "She is a promoter, so ask her today. Reply here if you want the note")
    svc, model = model_service(store, northwind, tmp_path, [
        AIMessage(content="Let me look that up. ", tool_calls=[
            {"name": "who_knows", "args": {"target": "harbor.example"}, "id": "c1", "type": "tool_call"}]),
        AIMessage(content=answer)])
    pieces: list[str] = []
    reply = svc.respond(ALEX, "C9:5.0", "who knows someone at harbor?", stream=pieces.append)
    assert reply.mode == "model" and reply.text == answer
    # sentence by sentence, the model's words before its tool call included; the last, unfinished sentence is
    # what the surface adds when it closes the stream
    assert pieces == ["Let me look that up. ", "Priya Natarajan knows Jordan Lee at Harbor Freight Lines well: ",
                      "fourteen emails over the years. ", "She is a promoter, so ask her today. "]
    assert reply.streamed == "".join(pieces) and reply.unstreamed == "Reply here if you want the note"
    model.assert_used_up()


@pytest.mark.store
def test_streaming_stops_at_the_first_sentence_naming_someone_unknown(store, northwind, tmp_path):
    svc, model = model_service(store, northwind, tmp_path, [
        tool_call("who_knows", {"target": "harbor.example"}),
        AIMessage(content="Priya Natarajan knows Jordan Lee. Also Zebulon Quartermaine at Harbor is a fan. Ask both.")])
    pieces: list[str] = []
    reply = svc.respond(ALEX, "C9:6.0", "who knows someone at harbor?", stream=pieces.append)
    assert pieces == ["Priya Natarajan knows Jordan Lee. "]  # the invented name never reached the stream
    assert reply.mode == "offline" and "Zebulon" not in reply.text and reply.streamed == pieces[0]
    assert reply.unstreamed == "\n\n" + reply.text  # the engines' answer follows what was shown
    model.assert_used_up()


@pytest.mark.store
def test_thread_memory_survives_a_restart(store, northwind, tmp_path):
    svc, model = model_service(store, northwind, tmp_path, [AIMessage(content="Hello Alex.")])
    svc.respond(ALEX, "C9:4.0", "hi")
    model.assert_used_up()
    from agent.checkpoint import open_checkpointer

    settings = Settings(home=tmp_path)

    def sees_history(messages):
        texts = [str(msg.content) for msg in messages]
        assert "hi" in texts and "Hello Alex." in texts
        return AIMessage(content="Still here.")

    model2 = ScriptedChatModel.of([sees_history])
    svc2 = AgentService(settings, store, model=model2, checkpointer=open_checkpointer(settings), clock=lambda: NOW)
    assert svc2.respond(ALEX, "C9:4.0", "still there?").text == "Still here."
    model2.assert_used_up()


def test_suggested_prompts_per_role_are_questions_the_router_answers(store, northwind):
    from agent.suggestions import suggested_prompts

    import_folder(store, northwind)
    with store.session() as s:
        def tools_of(who):
            title, prompts = suggested_prompts(s, who)
            return title, [(p.title, route(p.message, who.role).tool) for p in prompts]

        assert tools_of(DANA) == ("Referrals today", [
            ("Who should I ask today?", "todays_queue"), ("Why not Northwind Logistics?", "explain_account"),
            ("Who knows someone at Harbor Freight Lines?", "who_knows")])
        assert tools_of(ALEX)[1][0] == ("Who knows someone at Harbor Freight Lines?", "who_knows")
        assert tools_of(PRIYA)[1] == [("What did you ask me?", "my_open_ask")]
        assert suggested_prompts(s, NOBODY) == ("", [])
        assert suggested_prompts(s, resolve_identity(s, email="investor@fund.example")) == ("", [])
