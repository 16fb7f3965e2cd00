"""Block Kit builders: PURE functions, data in, dicts out (no store, no client, no clock).

Every piece of text that came from a user, a champion, a CRM note or an email is passed through
`escape()` before it lands in a mrkdwn field, so nothing echoed can ping a channel (`<!channel>`), mention
someone (`<@U…>`) or smuggle a link (`<https://…|…>`). plain_text fields are never parsed by Slack and
are only truncated to Slack's limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from warmintro.champion_text import ask_question
from warmintro.engines.place import place_for_card, place_line
from warmintro.engines.timeutil import time_left
from warmintro.flows.approval import NoteDraft
from warmintro.flows.queue import TARGETS_NOT_AVAILABLE, Card, TargetLine

Block = dict[str, Any]

# Slack limits (https://docs.slack.dev/reference/block-kit/)
SECTION_TEXT_MAX = 3000
PLAIN_BUTTON_MAX = 75
OPTION_TEXT_MAX = 75
HEADER_MAX = 150
CONTEXT_TEXT_MAX = 2000
BUTTON_VALUE_MAX = 2000
BUTTON_URL_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
FALLBACK_TEXT_MAX = 3000

# Action ids (the listeners match on these).
SEND_ASK = "home_send_ask"
SNOOZE = "home_snooze"
NOT_NOW = "home_not_now"
CHAMPION_APPROVE = "champion_approve"
CHAMPION_NOT_A_FIT = "champion_not_a_fit"
CHAMPION_NOT_NOW = "champion_not_now"
AGENT_APPROVE_PREFIX = "agent_approve:"
AGENT_CANCEL_PREFIX = "agent_cancel:"
HOME_REFRESH = "home_refresh"
EDIT_ASK = "home_edit_ask"
EDIT_ASK_MODAL = "csm_edit_ask"
CHAMPION_USE_NOTE = "champion_use_note"
NOTE_MODAL = "champion_note"
REQUEST_INTRO = "rep_request_intro"
PAYOUT_MARK_PAID = "payout_mark_paid"
AGENT_FEEDBACK = "agent_feedback"
FEEDBACK_VOTES = ("up", "down")
ASK_TEXT_BLOCK, ASK_TEXT_INPUT = "ask_text", "ask_text_input"
NOTE_SUBJECT_BLOCK, NOTE_SUBJECT_INPUT = "note_subject", "note_subject_input"
NOTE_BODY_BLOCK, NOTE_BODY_INPUT = "note_body", "note_body_input"
INPUT_MAX = 3000  # plain_text_input initial_value and max_length
SHORTCUT_CALLBACK = "warmintro_queue"

NOT_NOW_REASONS: tuple[tuple[str, str], ...] = (
    ("timing", "Bad timing"),
    ("relationship", "Relationship not ready"),
    ("asked_offline", "Already asked offline"),
    ("not_champion", "Not the right person"),
    ("other", "Other"),
)

PERSONA_LABEL = {
    "economic_buyer": "economic buyer", "product_user": "product user", "power_user": "power user",
    "administrator": "administrator",
}
TRIGGER_LABEL = {
    "nps": "NPS", "qbr": "positive QBR", "go_live": "go-live", "expansion": "expansion", "renewal": "renewal",
    "public_win": "public win", "milestone": "product milestone", "offboarding": "offboarding",
}

_BROADCAST = re.compile(r"<!(channel|here|everyone|subteam\^[^>]*)(\|[^>]*)?>", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------------
# Text helpers


def escape(text: object) -> str:
    """Escape user/champion-provided text for mrkdwn: `&`, `<`, `>` (Slack's three control characters)."""
    s = "" if text is None else str(text)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def defang(text: str) -> str:
    """For text that is already mrkdwn (the agent's replies): keep links, drop broadcast pings."""
    return _BROADCAST.sub(lambda m: "&lt;!" + escape(m.group(0)[2:]), text)


def truncate(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def plain(text: str, limit: int = PLAIN_BUTTON_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text or " ", limit), "emoji": True}


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text or " ", SECTION_TEXT_MAX)}


def section(text: str, **extra: Any) -> Block:
    block: Block = {"type": "section", "text": md(text)}
    block.update(extra)
    return block


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text or " ", CONTEXT_TEXT_MAX)}]}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str | None = None, *, style: str | None = None,
           url: str | None = None, confirm: dict[str, Any] | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": plain(text), "action_id": action_id}
    if value is not None:
        if len(value) > BUTTON_VALUE_MAX:
            raise ValueError(f"button value longer than {BUTTON_VALUE_MAX} characters")
        b["value"] = value
    if style:
        b["style"] = style
    if url:
        b["url"] = url
    if confirm:
        b["confirm"] = confirm
    return b


def split_text(text: str, limit: int = SECTION_TEXT_MAX) -> list[str]:
    """Split text into chunks of at most `limit` characters, on line breaks where possible."""
    text = text or ""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text or not chunks:
        chunks.append(text)
    return chunks


def age(then: datetime, now: datetime) -> str:
    seconds = (now - then).total_seconds()
    if seconds < 0:
        return "just now"
    hours = seconds / 3600
    if hours < 1:
        return f"{max(1, int(seconds // 60))} min ago"
    if hours < 48:
        return f"{int(hours)} h ago"
    return f"{int(hours // 24)} d ago"


def closes_in(expires_at: datetime, now: datetime) -> str:
    left = time_left(expires_at, now)
    return f"closes in {left}" if left else "window closed"


def encode_value(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def decode_value(value: str | None) -> dict[str, Any]:
    """Parse a button value written by `encode_value`; anything else gives {}."""
    if not value:
        return {}
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------------------------------------------
# Data the builders take


def card_send_value(card: Card) -> str:
    return encode_value({"e": card.contact_email, "s": card.signal_id, "a": card.account_id, "p": card.persona})


def card_block_id(card: Card) -> str:
    # carries which card a static_select belongs to (option values are capped at 150 characters)
    return truncate(f"ask|{card.signal_id}|{card.contact_email}", 255)


def parse_card_block_id(block_id: str | None) -> tuple[str, str] | None:
    """(signal_id, contact_email) from a card's block_id, or None."""
    if not block_id or not block_id.startswith("ask|"):
        return None
    parts = block_id.split("|", 2)
    if len(parts) != 3 or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


# ---------------------------------------------------------------------------------------------------
# Queue cards (App Home, /referrals today, the digest)


def _targets_text(card: Card) -> str:
    if card.targets:
        lines = [f"• *{escape(t.name)}*" + (f", {escape(t.detail)}" if t.detail else "")
                 + (f" — {escape(t.reason)}" if t.reason else "") for t in card.targets]
        return "*Pre-loaded names*\n" + "\n".join(lines)
    return f"_Pre-loaded names: {escape(card.targets_note or TARGETS_NOT_AVAILABLE)}_"


def queue_card_blocks(card: Card, now: datetime, *, actions: bool = True) -> list[Block]:
    trigger = TRIGGER_LABEL.get(card.trigger_type, card.trigger_type.replace("_", " "))
    persona = PERSONA_LABEL.get(card.persona, card.persona.replace("_", " "))
    top = (f"*{escape(card.contact_name)}* · {escape(card.account_name)}\n"
           f"{escape(persona)} · {escape(trigger)} {age(card.occurred_at, now)} · "
           f"{closes_in(card.expires_at, now)}")
    blocks: list[Block] = [section(top, block_id=truncate(f"card|{card.signal_id}|{card.contact_email}", 255))]
    why = [f"• {escape(r)}" for r in list(card.reasons)[:4]]
    if card.dealing_with:
        why.append(f"• Ask: _{escape(ask_question(card.dealing_with))}_")
    if why:
        blocks.append(section("\n".join(why)))
    blocks.append(section(_targets_text(card)))
    blocks.append(context(escape(place_line(place_for_card(card)))))
    if actions:
        blocks.append({
            "type": "actions",
            "block_id": card_block_id(card),
            "elements": [
                button("Send ask", SEND_ASK, card_send_value(card), style="primary"),
                button("Edit", EDIT_ASK, card_send_value(card)),
                button("Snooze", SNOOZE, card_send_value(card)),
                {
                    "type": "static_select",
                    "action_id": NOT_NOW,
                    "placeholder": plain("Not now…"),
                    "options": [{"text": plain(label, OPTION_TEXT_MAX), "value": code}
                                for code, label in NOT_NOW_REASONS],
                },
            ],
        })
    return blocks


def _cards_blocks(cards: Sequence[Card], now: datetime, *, budget: int, actions: bool) -> list[Block]:
    blocks: list[Block] = []
    shown = 0
    for card in cards:
        part = [divider(), *queue_card_blocks(card, now, actions=actions)]
        if len(blocks) + len(part) > budget - 1:
            break
        blocks.extend(part)
        shown += 1
    if shown < len(cards):
        blocks.append(context(f"…and {len(cards) - shown} more. `/referrals today` lists them all as text."))
    return blocks


def home_view_csm(name: str, cards: Sequence[Card], now: datetime, *, notice: str | None = None,
                  total: int | None = None, problem: str | None = None) -> dict[str, Any]:
    """The CSM's App Home: today's queue, one card per ask, with Send ask / Snooze / Not now."""
    blocks: list[Block] = [header("Referral asks due today")]
    if notice:
        blocks.append(section(notice))
    n = total if total is not None else len(cards)
    if problem:
        blocks.append(section(f":warning: {escape(problem)}"))
    elif not cards:
        blocks.append(section(f"Nothing due for you, {escape(name)}. I'll DM you when a customer has a "
                              "positive moment worth asking about."))
    else:
        blocks.append(context(f"{n} ask{'s' if n != 1 else ''} for {escape(name)}, highest priority first · "
                              f"as of {now:%a %d %b %H:%M} UTC"))
    budget = VIEW_BLOCKS_MAX - len(blocks) - 2
    blocks.extend(_cards_blocks(cards, now, budget=budget, actions=True))
    blocks.append({"type": "actions", "block_id": "home_footer",
                   "elements": [button("Refresh", HOME_REFRESH, "refresh")]})
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_MAX]}


HOME_LOADING_TEXT = "Working on today's queue… it appears here in a moment."
WORKING_TEXT = "Working on it…"


def home_view_loading(name: str) -> dict[str, Any]:
    """The App Home shown while a CSM's queue takes longer than a moment; replaced by the queue."""
    return home_view_text(f"Referral queue for {name}", [HOME_LOADING_TEXT])


def home_view_text(title: str, lines: Sequence[str], *, notice: str | None = None) -> dict[str, Any]:
    """A plain App Home (reps, champions, people we do not know). `lines` are mrkdwn written by us."""
    blocks: list[Block] = [header(title)]
    if notice:
        blocks.append(section(notice))
    blocks.extend(section(line) for line in lines)
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_MAX]}


def queue_message_blocks(cards: Sequence[Card], now: datetime, *, title: str, actions: bool = True,
                         empty_text: str = "Nothing due today.") -> list[Block]:
    """Queue as a message (`/referrals today`, the daily digest)."""
    blocks: list[Block] = [header(title)]
    if not cards:
        blocks.append(section(escape(empty_text)))
        return blocks
    blocks.extend(_cards_blocks(cards, now, budget=MESSAGE_BLOCKS_MAX - 1, actions=actions))
    return blocks[:MESSAGE_BLOCKS_MAX]


def queue_text(cards: Sequence[Card], now: datetime) -> str:
    """One line per ask: the fallback text of a queue message (notifications, screen readers)."""
    if not cards:
        return "Nothing due today."
    lines = []
    for i, c in enumerate(cards, 1):
        trigger = TRIGGER_LABEL.get(c.trigger_type, c.trigger_type)
        lines.append(f"{i}. {escape(c.contact_name)} ({escape(c.account_name)}): {trigger} "
                     f"{age(c.occurred_at, now)}, {closes_in(c.expires_at, now)}")
    return truncate("\n".join(lines), FALLBACK_TEXT_MAX)


# ---------------------------------------------------------------------------------------------------
# The agent's replies


def agent_reply_blocks(text: str, *, pending_action_id: str | None = None, pending_summary: str | None = None,
                       thread_id: str = "", requester: str | None = None,
                       blocks: Sequence[Block] | None = None) -> list[Block]:
    """A reply in a thread. `text` is the agent's mrkdwn (already escaped by the agent); broadcast pings
    are defanged anyway. With a pending action, Approve / Cancel buttons carry its action_id."""
    out: list[Block] = list(blocks) if blocks else [section(defang(chunk)) for chunk in split_text(text)]
    if pending_action_id:
        out.extend(pending_blocks(pending_action_id, pending_summary or "", thread_id=thread_id, requester=requester))
    return out[:MESSAGE_BLOCKS_MAX]


def feedback_block(mode: str, intent: str | None) -> Block:
    """Thumbs up / down under one of the agent's answers (Slack's feedback buttons). Each button's value says
    the vote and how the answer was made ("up|model|who_knows"), so the click alone is enough to record it."""
    how = f"{mode}|{intent or ''}"[:200]
    return {"type": "context_actions", "block_id": AGENT_FEEDBACK, "elements": [{
        "type": "feedback_buttons", "action_id": AGENT_FEEDBACK,
        "positive_button": {"text": plain("Good answer"), "value": f"up|{how}",
                            "accessibility_label": "This answer helped"},
        "negative_button": {"text": plain("Not helpful"), "value": f"down|{how}",
                            "accessibility_label": "This answer did not help"},
    }]}


def parse_feedback(value: str | None) -> tuple[str, str | None, str | None] | None:
    """(vote, mode, intent) from a feedback button's value; None when it is not one of ours."""
    parts = (value or "").split("|")
    if len(parts) != 3 or parts[0] not in FEEDBACK_VOTES:
        return None
    return parts[0], parts[1] or None, parts[2] or None


# What the person sees while the agent works (assistant.threads.setStatus): a status line and a few loading
# messages Slack rotates through, worded for what that role usually asks.
_LOADING = {
    "csm": ["Checking today's happy moments…", "Reading the ask cadence…", "Looking through your champions' networks…"],
    "rep": ["Looking for warm paths…", "Checking who knows whom…", "Weighing how strong each tie is…"],
    "champion": ["Finding your introduction request…"],
}


def agent_status(role: str) -> tuple[str, list[str]]:
    key = "csm" if role in ("csm", "admin", "revops") else "champion" if role == "champion" else "rep"
    return "is looking into it…", list(_LOADING[key])


def agent_working_text(role: str) -> str:
    """The placeholder reply posted in a channel thread at once (a channel has no thread status); the answer
    replaces it (chat.update)."""
    return f":hourglass_flowing_sand: _{agent_status(role)[1][0]}_"


def pending_blocks(action_id: str, summary: str, *, thread_id: str, requester: str | None) -> list[Block]:
    value = encode_value({"t": thread_id, "u": requester or ""})
    return [
        section(f":raised_hand: *Needs your OK:* {escape(summary)}", block_id=truncate(f"pending|{action_id}", 255)),
        {"type": "actions", "block_id": truncate(f"pending_actions|{action_id}", 255), "elements": [
            button("Approve", AGENT_APPROVE_PREFIX + action_id, value, style="primary"),
            button("Cancel", AGENT_CANCEL_PREFIX + action_id, value),
        ]},
    ]


def in_progress_blocks(blocks: Sequence[Block], block_id: str | None, text: str) -> list[Block] | None:
    """`blocks` (a message's or the App Home's) with the clicked buttons' block replaced by what is happening
    ("Sending the ask…"), shown while the click's work runs; None when that block is not among them."""
    if not block_id or not any(blk.get("block_id") == block_id for blk in blocks):
        return None
    line = context(f":hourglass_flowing_sand: _{escape(text)}_")
    return [line if blk.get("block_id") == block_id else dict(blk) for blk in blocks]


def decided_blocks(decision: str, actor_user_id: str | None, result_text: str) -> list[Block]:
    """Appended to a pending-action message once someone clicked Approve or Cancel (buttons removed)."""
    who = f" by <@{actor_user_id}>" if actor_user_id and re.fullmatch(r"[UW][A-Z0-9]+", actor_user_id) else ""
    blocks: list[Block] = [context(f"*{escape(decision)}*{who}")]
    blocks.extend(section(defang(chunk)) for chunk in split_text(result_text) if chunk.strip())
    return blocks[:MESSAGE_BLOCKS_MAX]


# ---------------------------------------------------------------------------------------------------
# Champion-facing messages


def champion_ask_blocks(*, champion_name: str, csm_name: str, vendor: str, dealing_with: str | None,
                        targets: Sequence[TargetLine], targets_note: str | None, ask_id: int,
                        intro: str | None = None) -> list[Block]:
    """The ask in the champion's DM. `intro`: the CSM's own (edited) words, shown instead of the stock opener;
    each name gets a "Use this note" button that opens the drafted note for it, editable."""
    first = (champion_name or "there").split()[0]
    question = escape(ask_question(dealing_with, vendor))
    opener = (escape(truncate(intro, SECTION_TEXT_MAX)) if intro and intro.strip() else
              f"Hi {escape(first)} :wave: {escape(csm_name)} from {escape(vendor)} here. Thank you for working "
              f"with us. A quick one: {question}")
    blocks: list[Block] = [section(opener)]
    if targets:
        blocks.append(section("A few people from your own network who might fit:"))
        for i, t in enumerate(targets[:8]):
            # the champion sees why a name fits in human terms only (warmintro.champion_text), never counts
            line = f"• *{escape(t.name)}*" + (f", {escape(t.detail)}" if t.detail else "") \
                + (f" — {escape(t.champion_reason)}" if t.champion_reason else "")
            blocks.append(section(line, accessory=button("Use this note", CHAMPION_USE_NOTE,
                                                         encode_value({"ask": ask_id, "i": i}))))
    else:
        blocks.append(context(escape(targets_note or TARGETS_NOT_AVAILABLE)))
    value = encode_value({"ask": ask_id})
    blocks.append(context("Approve and I'll draft a short note in your words that you can forward; nothing is "
                          "sent on your behalf."))
    blocks.append({"type": "actions", "block_id": f"champion|{ask_id}", "elements": [
        button("Approve", CHAMPION_APPROVE, value, style="primary"),
        button("Not a fit", CHAMPION_NOT_A_FIT, value),
        button("Not now", CHAMPION_NOT_NOW, value),
    ]})
    return blocks


def _quoted(text: str) -> str:
    return "\n".join(f"> {escape(ln)}" if ln.strip() else ">" for ln in text.split("\n"))


def draft_review_blocks(*, champion_name: str, ask_text: str,
                        notes: Sequence[tuple[str, str, str, str]]) -> list[Block]:
    """`/referrals draft EMAIL` for a CSM: the ask as the champion will read it, then each forwardable note
    (to, subject, body, mailto link), quoted so nothing in them forms markup or pings anyone."""
    blocks: list[Block] = [header(truncate(f"The ask to {champion_name}", HEADER_MAX)),
                           *(section(chunk) for chunk in split_text(_quoted(ask_text)))]
    for to, subject, body, mailto in notes[: (MESSAGE_BLOCKS_MAX - 3) // 4]:
        blocks.append(divider())
        blocks.append(section(f"*Their note to {escape(to)}* — _{escape(truncate(subject, 200))}_"))
        blocks += [section(chunk) for chunk in split_text(_quoted(body))][:2]
        if len(mailto) <= BUTTON_URL_MAX:
            blocks.append(context(f"<{mailto}|Open this note in an email>"))
    blocks.append(context("Nothing is sent from here: send the ask from their card, or share their approval page."))
    return blocks[:MESSAGE_BLOCKS_MAX]


def draft_review_text(champion_name: str, ask_text: str) -> str:
    return truncate(f"The ask to {escape(champion_name)}:\n{_quoted(ask_text)}", FALLBACK_TEXT_MAX)


def champion_ask_text(champion_name: str, csm_name: str, vendor: str) -> str:
    first = (champion_name or "there").split()[0]
    return truncate(f"Hi {escape(first)}, {escape(csm_name)} from {escape(vendor)} has a quick question for you.",
                    FALLBACK_TEXT_MAX)


def mailto_url(to: str, subject: str, body: str) -> str:
    """A mailto: link; every part percent-encoded, so `|`, `<`, `>` cannot break out of a Slack link."""
    return f"mailto:{quote(to, safe='@')}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def approved_blocks(notes: Sequence[NoteDraft], *, thanks: str = "Thank you! Here is a note you can forward.") -> list[Block]:
    """The champion's Approve answer: each note as text plus a button that opens it in their email client."""
    blocks: list[Block] = [section(f":tada: {escape(thanks)}")]
    for note in notes[:8]:
        url = mailto_url(note.to_email, note.subject, note.body)
        body = truncate(note.body, 2500)
        blocks.append(section(f"*To {escape(note.to_name)}* · _{escape(note.subject)}_\n```{escape(body)}```"))
        if len(url) <= BUTTON_URL_MAX:
            blocks.append({"type": "actions", "elements": [
                button(f"Open in email: {note.to_name}", "champion_open_mailto", "open", url=url)]})
        else:
            short = mailto_url(note.to_email, note.subject, "")
            blocks.append({"type": "actions", "elements": [
                button(f"Open in email: {note.to_name}", "champion_open_mailto", "open", url=short)]})
            blocks.append(context("The note is long: paste it from above into the email."))
        if note.source == "template":
            blocks.append(context("Plain draft (the voice drafter is not available yet): edit it freely."))
    if not notes:
        blocks.append(section("There were no names to write to; your CSM will follow up."))
    return blocks[:MESSAGE_BLOCKS_MAX]


def answered_blocks(text: str) -> list[Block]:
    return [section(escape(text))]


# ---------------------------------------------------------------------------------------------------
# Help and refusals

HELP_LINES: dict[str, list[str]] = {
    "csm": [
        "*Your queue* is in this app's *Home* tab and in a DM each morning.",
        "`/referrals today` — today's asks · `/referrals why ACCOUNT` — why an account is in or out",
        "`/referrals who-knows COMPANY` — warm paths · `/referrals draft EMAIL` — draft an ask",
        "`/referrals report` — the program report · mention me or DM me to ask anything else",
    ],
    "rep": [
        "`/referrals who-knows COMPANY` — who can introduce you (warm paths with the evidence)",
        "`/referrals report` — the program report · mention me in a thread or DM me with a question",
    ],
    "other": [
        "`/referrals who-knows COMPANY`, `/referrals report`, or mention me with a question.",
    ],
}


def help_text(role: str) -> str:
    key = "csm" if role == "csm" else "rep" if role in ("ae", "sdr") else "other"
    return "\n".join(HELP_LINES[key])


REFUSAL_UNKNOWN = ("Sorry, I don't know you yet, so I can't help here. If you work with us, ask your admin to add "
                   "your Slack user to the team list.")
REFUSAL_LOOKUP_FAILED = "Sorry, I couldn't check who you are just now (Slack is busy). Please try again in a minute."
REFUSAL_NOT_ALLOWED = "Sorry, that isn't something I can do for you."
ERROR_TEXT = "Something went wrong on my side; nothing was changed. Please try again in a minute."


def modal_view(title: str, body_blocks: Sequence[Block]) -> dict[str, Any]:
    """A read-only modal (the global shortcut). Titles are at most 24 characters."""
    return {"type": "modal", "callback_id": SHORTCUT_CALLBACK + "_view", "title": plain(title, 24),
            "close": plain("Close", 24), "blocks": list(body_blocks)[:VIEW_BLOCKS_MAX]}


# ---------------------------------------------------------------------------------------------------
# Modals: the champion's editable note, the CSM's editable ask


def loading_modal(title: str, text: str = "Drafting… one moment.") -> dict[str, Any]:
    return modal_view(title, [section(f":hourglass_flowing_sand: {escape(text)}")])


def _text_input(block_id: str, action_id: str, label: str, value: str, *, multiline: bool) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline,
                               "max_length": INPUT_MAX}
    if value:
        element["initial_value"] = value[:INPUT_MAX]
    return {"type": "input", "block_id": block_id, "label": plain(label), "element": element}


def note_modal_view(*, ask_id: int, to_email: str, to_name: str, subject: str, body: str, source: str,
                    channel: str | None) -> dict[str, Any]:
    """The champion's note to one name, editable; submitting approves the intro to that name."""
    blocks: list[Block] = [
        section(f"Your note to *{escape(to_name)}*. Edit anything: it goes out from your own email, nothing is "
                "sent on your behalf."),
        _text_input(NOTE_SUBJECT_BLOCK, NOTE_SUBJECT_INPUT, "Subject", subject, multiline=False),
        _text_input(NOTE_BODY_BLOCK, NOTE_BODY_INPUT, "Note", body, multiline=True),
    ]
    if source == "template":
        blocks.append(context("Plain draft built from the facts we have: edit it freely."))
    return {
        "type": "modal", "callback_id": NOTE_MODAL,
        "title": plain("Your note", 24), "submit": plain("Approve", 24), "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"ask": ask_id, "t": to_email, "c": channel or ""})[:3000],
        "blocks": blocks,
    }


def edit_ask_modal_view(*, value: str, champion_name: str, text: str) -> dict[str, Any]:
    """The CSM's ask to the champion, editable before it is sent; submitting sends it."""
    return {
        "type": "modal", "callback_id": EDIT_ASK_MODAL,
        "title": plain("Edit the ask", 24), "submit": plain("Send ask", 24), "close": plain("Cancel", 24),
        "private_metadata": value[:3000],
        "blocks": [
            section(f"What *{escape(champion_name)}* will read first (the names and their notes follow)."),
            _text_input(ASK_TEXT_BLOCK, ASK_TEXT_INPUT, "Your message", text, multiline=True),
        ],
    }


def view_input(view: dict[str, Any], block_id: str, action_id: str) -> str:
    """A submitted plain_text_input's value ('' when empty or missing)."""
    state = ((view.get("state") or {}).get("values") or {}).get(block_id) or {}
    return str((state.get(action_id) or {}).get("value") or "")


# ---------------------------------------------------------------------------------------------------
# Reps: ask for an intro along a warm path


@dataclass(frozen=True)
class IntroPath:
    connector_email: str
    connector_name: str
    pillar: str
    target_email: str
    target_name: str
    route_to: str | None
    route_slack_user_id: str | None = None  # the router in Slack: only then can a button reach anyone
    ask: str = ""  # who to ask, in words (warmintro.engines.whoknows)


def request_intro_blocks(paths: Sequence[IntroPath], *, limit: int = 5) -> list[Block]:
    """One "Request intro" button per warm path someone on the team can route in Slack (the owning CSM or team
    member is asked, not the connector). A path nobody on the team can route gets no button, which would only
    dead-end: it says in words whom to ask instead."""
    shown = list(paths[:limit])
    routable = [(i, p) for i, p in enumerate(shown) if p.route_slack_user_id]
    direct = [p for p in shown if not p.route_slack_user_id]
    blocks: list[Block] = []
    if routable:
        elements = [button(truncate(f"Intro to {p.target_name} via {p.connector_name}", PLAIN_BUTTON_MAX),
                           f"{REQUEST_INTRO}:{i}",
                           encode_value({"c": p.connector_email, "t": p.target_email, "p": p.pillar, "r": p.route_to or ""}))
                    for i, p in routable]
        blocks += [context("Want one of these? I'll ask the person who owns the relationship; nothing goes to the "
                           "connector without them."),
                   {"type": "actions", "block_id": "request_intro", "elements": elements}]
    if direct:
        lines = [f"• {escape(p.target_name)} via {escape(p.connector_name)}: ask {escape(p.ask or p.connector_email)}"
                 for p in direct]
        blocks.append(context("No one on the team can route these in Slack, so there is no button:\n" + "\n".join(lines)))
    return blocks


# ---------------------------------------------------------------------------------------------------
# Payouts due (admin / RevOps)


def payouts_due_blocks(rows: Sequence[dict[str, Any]], *, total: int) -> list[Block]:
    """The payouts due, each with a Mark paid button (its value is the payout's stable id)."""
    if not rows:
        return [section("Nothing is due right now.")]
    blocks: list[Block] = [section(f"*Payouts due* ({total}, oldest first)" + (f"; showing {len(rows)}" if total > len(rows) else ""))]
    for r in rows:
        due = str(r.get("due_at") or "")[:10]
        who = r.get("recipient_email") or r.get("referrer_email")
        line = (f"*{float(r.get('amount') or 0):,.2f}* to {escape(who)} · {escape(r.get('program'))} "
                f"{escape(str(r.get('kind')).replace('_', ' '))} · opportunity {escape(r.get('opportunity_id'))} · due {escape(due)}")
        blocks.append(section(line, accessory=button("Mark paid", PAYOUT_MARK_PAID, encode_value({"id": r["payout_id"]}),
                                                     confirm={"title": plain("Mark as paid?"), "text": plain(line[:300]),
                                                              "confirm": plain("Mark paid"), "deny": plain("Cancel")})))
    return blocks[:MESSAGE_BLOCKS_MAX]
