"""Where to make an ask (the "place" lever): in the QBR itself, as a reply in the go-live or win thread, as
an in-product prompt right after the NPS answer, or by DM, each with text ready for that place.

Pure and deterministic: the place follows the trigger type and says why. The text uses only what the ask
already carries (the champion's name, the account, "who is dealing with ..."), never an invented fact; the
question comes from `warmintro.champion_text`.
`../shared/design/contract.md`: every ask in `scan --json` and in a hook's `asks_opened` carries
`"place": {"kind", "text", "why"}`; an in-product place adds a `payload` the vendor's product can render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warmintro.champion_text import ask_question
from warmintro.engines.timeutil import iso

KINDS = ("qbr_talk_track", "thread_reply", "in_product", "dm")

LABEL = {
    "qbr_talk_track": "in the QBR itself (talk track)",
    "thread_reply": "as a reply in the thread",
    "in_product": "in the product, right after the NPS answer",
    "dm": "by DM",
}

_THREAD_MOMENT = {"go_live": "go-live", "public_win": "win"}
_DM_OPENER = {
    "expansion": "great to see {account} growing with us",
    "renewal": "thank you for renewing",
    "milestone": "congratulations on the milestone",
    "offboarding": "congratulations on the new role, and thank you for everything at {account}",
}
_DM_WHY = {
    "offboarding": "A happy user is leaving for role reasons: ask personally, by DM, before they go; their new "
                   "team and their old peers are both fair game.",
}


@dataclass(frozen=True)
class Place:
    kind: str
    text: str
    why: str
    payload: dict[str, Any] | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text, "why": self.why}
        if self.payload is not None:
            out["payload"] = self.payload
        return out


def first_name(name: str | None) -> str:
    parts = (name or "").split()
    return parts[0] if parts else "there"


def _ask_line(dealing_with: str | None) -> str:
    return ask_question(dealing_with)


def choose_place(trigger_type: str, *, contact_name: str | None, account_name: str | None = None,
                 dealing_with: str | None = None, signal_id: str | None = None, contact_email: str | None = None,
                 account_id: str | None = None, expires_at: datetime | None = None) -> Place:
    """The default place for an ask opened by a `trigger_type` moment, with ready text and the reason."""
    first = first_name(contact_name)
    account = (account_name or "").strip() or "your team"
    ask = _ask_line(dealing_with)
    if trigger_type == "qbr":
        return Place(
            "qbr_talk_track",
            f"Before we wrap up, {first}: it's been great to hear how this is going. One ask: {ask} "
            "If one or two names come to mind, I'll draft a short note you can forward, and you approve it "
            "before anything goes out.",
            "The trigger is a positive QBR: make the ask in the meeting itself, before it ends, while the "
            "result is on the table and the champion is in the room.",
        )
    if trigger_type in _THREAD_MOMENT:
        moment = _THREAD_MOMENT[trigger_type]
        return Place(
            "thread_reply",
            f"Congratulations on the {moment}, {first}, and thank you to everyone at {account}! Now that it's "
            f"{'live' if trigger_type == 'go_live' else 'out there'}: {ask} Happy to draft a short intro you "
            "can forward.",
            f"The moment is a {moment} announced in a thread: reply there (the Slack Connect channel when there "
            "is one), so the ask sits next to the result instead of in a separate email.",
        )
    if trigger_type == "nps":
        text = (f"Thanks for the score, {first}! {ask_question(dealing_with, capital=True)} Name a colleague and "
                "we'll draft an intro you approve before it's sent.")
        payload: dict[str, Any] = {
            "type": "referral_prompt",
            "trigger": "nps",
            "signal_id": signal_id,
            "contact_email": contact_email,
            "account_id": account_id,
            "title": "Know someone who'd get the same result?",
            "body": text,
            "cta": {"label": "Suggest a name", "action": "open_referral_form"},
            "dismiss": {"label": "Not now"},
            "expires_at": iso(expires_at),
        }
        return Place(
            "in_product", text,
            "The trigger is an NPS answer: show the ask in the product right after the answer (the payload "
            "is for the vendor's product to render), at the moment the champion said they are happy.",
            payload,
        )
    opener = _DM_OPENER.get(trigger_type, "thanks for the great feedback").format(account=account)
    why = _DM_WHY.get(trigger_type, "There is no meeting or thread to attach the ask to for this moment: a short "
                                    "direct message from the CSM, within the ask window.")
    return Place("dm", f"Hi {first}, {opener}! Quick one: {ask} If a name or two comes to mind, I'll draft a "
                       "short note you can forward.", why)


def place_for_ask(ask: Any) -> Place:
    """The place for a `warmintro.engines.scan.Ask` (or anything with the same attributes)."""
    trigger = getattr(ask, "trigger", None)
    return choose_place(
        getattr(trigger, "type", "") if trigger is not None else "",
        contact_name=getattr(ask, "contact_name", None), account_name=getattr(ask, "account_name", None),
        dealing_with=getattr(ask, "dealing_with", None),
        signal_id=getattr(trigger, "signal_id", None) if trigger is not None else None,
        contact_email=getattr(ask, "contact_email", None), account_id=getattr(ask, "account_id", None),
        expires_at=getattr(ask, "expires_at", None),
    )


def place_for_card(card: Any) -> Place:
    """The place for a Slack queue card (`slackapp.blocks.Card`): the same choice as for its ask."""
    return choose_place(card.trigger_type, contact_name=card.contact_name, account_name=card.account_name,
                        dealing_with=card.dealing_with, signal_id=card.signal_id,
                        contact_email=card.contact_email, account_id=card.account_id, expires_at=card.expires_at)


def place_line(place: Place, limit: int = 300) -> str:
    """One plain line for a card: where, then the start of the ready text (the caller escapes it)."""
    text = " ".join(place.text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"Where: {LABEL.get(place.kind, place.kind)}: \u201c{text}\u201d"
