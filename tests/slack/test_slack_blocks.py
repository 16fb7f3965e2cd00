"""Block Kit builders: pure functions, data in, dicts out; escaping and Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from slackapp import blocks as b

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def card(i: int = 0, **kw: object) -> b.Card:
    data: dict[str, object] = dict(
        contact_email=f"c{i}@x.example", contact_name="Sam <!channel> & <@U123>", account_id="A",
        account_name="Bluebird & Co <Foods>", persona="power_user", trigger_type="nps", signal_id=f"S{i}",
        occurred_at=NOW - timedelta(hours=18), expires_at=NOW + timedelta(hours=30),
        reasons=['NPS 10, 18 h ago: "<https://evil.example|click> me"', "power user"], priority=80.0,
        dealing_with="dispatch <b>planning</b>",
        targets=(b.TargetLine("Jo <!here>", "VP Ops at Acme", "worked together"),),
    )
    data.update(kw)
    return b.Card(**data)  # type: ignore[arg-type]


def all_text(obj: object) -> str:
    return json.dumps(obj)


def mrkdwn_texts(obj: object) -> list[str]:
    out: list[str] = []
    if isinstance(obj, dict):
        if obj.get("type") == "mrkdwn":
            out.append(obj["text"])
        for v in obj.values():
            out.extend(mrkdwn_texts(v))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(mrkdwn_texts(v))
    return out


def test_escape_handles_the_three_control_characters():
    assert b.escape("a & <b> <!channel>") == "a &amp; &lt;b&gt; &lt;!channel&gt;"
    assert b.escape(None) == ""


def test_defang_keeps_links_but_not_broadcasts():
    text = "See <https://x.example|this> <!channel> <!here|here> <!subteam^S1|@team>"
    out = b.defang(text)
    assert "<https://x.example|this>" in out
    assert "<!channel" not in out and "<!here" not in out and "<!subteam" not in out


def test_queue_card_escapes_every_echoed_field_and_carries_its_identity():
    blocks = b.queue_card_blocks(card(), NOW)
    for text in mrkdwn_texts(blocks):
        assert "<!" not in text and "<@" not in text and "<https" not in text, text
    text = all_text(blocks)
    assert "Bluebird &amp; Co &lt;Foods&gt;" in text
    assert "18 h ago" in text and "closes in 30 h" in text
    actions = blocks[-1]
    assert actions["type"] == "actions"
    send, edit, snooze, select = actions["elements"]
    assert send["action_id"] == b.SEND_ASK and snooze["action_id"] == b.SNOOZE and select["action_id"] == b.NOT_NOW
    assert edit["action_id"] == b.EDIT_ASK and edit["value"] == send["value"]
    assert b.decode_value(send["value"]) == {"e": "c0@x.example", "s": "S0", "a": "A", "p": "power_user"}
    assert b.parse_card_block_id(actions["block_id"]) == ("S0", "c0@x.example")
    assert all(len(o["value"]) <= 150 for o in select["options"])


def test_card_without_targets_says_so():
    text = all_text(b.queue_card_blocks(card(targets=(), targets_note=None), NOW))
    assert b.TARGETS_NOT_AVAILABLE in text


def test_home_view_stays_within_100_blocks_and_unique_block_ids():
    cards = [card(i) for i in range(60)]
    view = b.home_view_csm("Dana", cards, NOW)
    assert view["type"] == "home"
    assert len(view["blocks"]) <= b.VIEW_BLOCKS_MAX
    ids = [blk["block_id"] for blk in view["blocks"] if "block_id" in blk]
    assert len(ids) == len(set(ids))
    assert "more" in all_text(view["blocks"][-2])


def test_empty_home_and_problem_home():
    assert "Nothing due" in all_text(b.home_view_csm("Dana", [], NOW))
    assert "could not" in all_text(b.home_view_csm("Dana", [], NOW, problem="could not compute"))


def test_message_queue_stays_within_50_blocks():
    blocks = b.queue_message_blocks([card(i) for i in range(30)], NOW, title="Today")
    assert len(blocks) <= b.MESSAGE_BLOCKS_MAX
    assert b.queue_text([], NOW) == "Nothing due today."
    assert "&lt;!channel&gt;" in b.queue_text([card()], NOW)


def test_agent_reply_splits_long_text_and_adds_pending_buttons():
    text = ("line\n" * 1000) + "<!everyone>"
    blocks = b.agent_reply_blocks(text, pending_action_id="pa-1", pending_summary="Send <ask> to Priya",
                                  thread_id="C1:1.2", requester="U0DANA")
    sections = [blk for blk in blocks if blk["type"] == "section"]
    assert all(len(s["text"]["text"]) <= b.SECTION_TEXT_MAX for s in sections)
    assert "<!everyone>" not in all_text(blocks)
    buttons = blocks[-1]["elements"]
    assert [x["action_id"] for x in buttons] == ["agent_approve:pa-1", "agent_cancel:pa-1"]
    assert b.decode_value(buttons[0]["value"]) == {"t": "C1:1.2", "u": "U0DANA"}
    assert "Send &lt;ask&gt; to Priya" in all_text(blocks)


def test_decided_blocks_only_mention_a_real_user_id():
    assert "<@U0DANA>" in all_text(b.decided_blocks("Approved", "U0DANA", "ok"))
    assert "<@" not in all_text(b.decided_blocks("Approved", "<!channel>", "ok"))


def test_champion_ask_has_three_buttons_and_escaped_names():
    blocks = b.champion_ask_blocks(champion_name="Priya <!here>", csm_name="Dana", vendor="Relaydesk",
                                   dealing_with="dispatch <planning>", targets=[b.TargetLine("Jo & Co", "VP", "ties")],
                                   targets_note=None, ask_id=7)
    actions = blocks[-1]["elements"]
    assert [x["action_id"] for x in actions] == [b.CHAMPION_APPROVE, b.CHAMPION_NOT_A_FIT, b.CHAMPION_NOT_NOW]
    assert all(b.decode_value(x["value"]) == {"ask": 7} for x in actions)
    for text in mrkdwn_texts(blocks):
        assert "<!" not in text and "<planning>" not in text


def test_mailto_is_fully_encoded():
    url = b.mailto_url("jo@acme.example", "Intro | <Relaydesk>", "Hi Jo,\n\n<@U1> & more|x")
    assert "|" not in url and "<" not in url and ">" not in url and "\n" not in url
    parsed = urlparse(url)
    assert parsed.scheme == "mailto" and parsed.path == "jo@acme.example"
    q = parse_qs(parsed.query)
    assert q["subject"] == ["Intro | <Relaydesk>"] and q["body"] == ["Hi Jo,\n\n<@U1> & more|x"]


def test_approved_blocks_have_a_mailto_button_per_note():
    notes = [b.NoteDraft("jo@acme.example", "Jo Park", "Intro", "Hi Jo", "template")]
    blocks = b.approved_blocks(notes)
    urls = [e["url"] for blk in blocks if blk["type"] == "actions" for e in blk["elements"]]
    assert urls == [b.mailto_url("jo@acme.example", "Intro", "Hi Jo")]
    long = [b.NoteDraft("jo@acme.example", "Jo", "Intro", "x" * 5000, "drafter")]
    assert all(len(e["url"]) <= b.BUTTON_URL_MAX for blk in b.approved_blocks(long) if blk["type"] == "actions"
               for e in blk["elements"])


def test_builders_are_pure_and_json_serialisable():
    c = card()
    assert b.queue_card_blocks(c, NOW) == b.queue_card_blocks(c, NOW)
    json.dumps(b.home_view_csm("Dana", [c], NOW, notice="hi"))
    json.dumps(b.modal_view("A very long modal title that is too long", [b.section("x")]))
    assert len(b.modal_view("A very long modal title that is too long", [])["title"]["text"]) <= 24


def test_champion_ask_shows_reasons_in_human_terms_never_counts():
    line = b.TargetLine("Grace Rousseau", "VP Operations at Umberly", "30 emails, last in November 2026",
                        champion_reason="you worked together at Umberly Group")
    blocks = b.champion_ask_blocks(champion_name="Priya Natarajan", csm_name="Dana Whitfield", vendor="Relaydesk",
                                   dealing_with="a ticket backlog", targets=[line], targets_note=None, ask_id=3)
    text = all_text(blocks)
    assert "you worked together at Umberly Group" in text and "30 emails" not in text
    assert "who in your network is dealing with a ticket backlog?" in text
    bare = b.champion_ask_blocks(champion_name="Priya", csm_name="Dana", vendor="Relaydesk", dealing_with=None,
                                 targets=[b.TargetLine("Jo", "VP", "14 emails, last in May 2026")], targets_note=None,
                                 ask_id=4)
    assert "14 emails" not in all_text(bare) and "who in your network could use Relaydesk too?" in all_text(bare)


def test_draft_review_blocks_quote_the_ask_and_each_note():
    notes = [("jo@acme.example", "Intro <x>", "Hi Jo,\n\n<!channel> we worked together.\n\nPriya",
              b.mailto_url("jo@acme.example", "Intro", "Hi Jo"))]
    blocks = b.draft_review_blocks(champion_name="Priya Natarajan", ask_text="Hi Priya,\n\nwho <@U1>?", notes=notes)
    text = all_text(blocks)
    assert blocks[0]["type"] == "header" and "The ask to Priya Natarajan" in text
    assert "> Hi Priya," in text and "<@U1>" not in text and "<!channel>" not in text
    assert "Their note to jo@acme.example" in text and "<mailto:jo@acme.example?subject=Intro" in text
    assert len(blocks) <= b.MESSAGE_BLOCKS_MAX


def test_request_intro_offers_no_dead_end_button() -> None:
    """A path no one on the team can route in Slack gets whom to ask in words, not a button that dead-ends."""
    routed = b.IntroPath("priya@northwind.example", "Priya Natarajan", "customer", "jo@acme.example", "Jo Park",
                         "dana@vendor.example", "U0DANA", "through Dana Whitfield (dana@vendor.example), who owns ...")
    investor = b.IntroPath("iris@northpeak.vc", "Iris Lorenz", "investor", "naomi@stripe.example", "Naomi Petrov",
                           None, None, "Iris Lorenz (iris@northpeak.vc) directly: no one on the team has a tie to them")
    blocks = b.request_intro_blocks([routed, investor])
    buttons = [e for blk in blocks if blk["type"] == "actions" for e in blk["elements"]]
    assert [e["text"]["text"] for e in buttons] == ["Intro to Jo Park via Priya Natarajan"]
    words = json.dumps([blk for blk in blocks if blk["type"] == "context"])
    assert "Naomi Petrov via Iris Lorenz: ask Iris Lorenz (iris@northpeak.vc) directly" in words
    assert b.request_intro_blocks([investor])[0]["type"] == "context"  # nothing to press at all
    assert not any(blk["type"] == "actions" for blk in b.request_intro_blocks([investor]))


def test_the_channel_placeholder_says_what_the_agent_is_doing_for_the_role():
    assert b.agent_working_text("ae") == ":hourglass_flowing_sand: _Looking for warm paths…_"
    assert b.agent_working_text("csm") == ":hourglass_flowing_sand: _Checking today's happy moments…_"
    assert b.agent_working_text("champion") == ":hourglass_flowing_sand: _Finding your introduction request…_"
