"""The App Home: what each person sees in the app's Home tab (a CSM's queue; help for reps; a polite text
for everyone else), published on app_home_opened and after a click changes it."""

from __future__ import annotations

from slack_sdk import WebClient

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from warmintro.flows.queue import csm_queue


def publish_home(deps: Deps, client: WebClient, user_id: str, who: Identity, *, notice: str | None = None,
                 unknown_text: str = b.REFUSAL_UNKNOWN) -> None:
    """Publish the App Home for `who`: a CSM's queue; help for reps; a polite text for everyone else."""
    now = deps.now()
    if who.role == "csm" and who.is_vendor and who.email:
        queue = csm_queue(deps, who.email, now, limit=deps.home_card_limit)
        view = b.home_view_csm(who.name or who.email, queue.cards, now, notice=notice, total=queue.total,
                               problem=queue.problem)
    elif who.role in ("ae", "sdr") and who.is_vendor:
        view = b.home_view_text("warmintro: warm paths to your accounts", b.help_text(who.role).split("\n"),
                                notice=notice)
    elif who.is_vendor:
        view = b.home_view_text("warmintro", [
            f"Hi {b.escape(who.name or 'there')}. The referral queue lives with the CSMs; you can still ask me "
            "who knows someone at a company.", b.help_text(who.role)], notice=notice)
    elif who.role == "champion":
        view = b.home_view_text("Thank you for being a customer", [
            f"Hi {b.escape((who.name or 'there').split(' ')[0])}. When your account team has a question for you, "
            "it arrives here in a DM with one-click answers. Nothing is ever sent on your behalf."], notice=notice)
    else:
        view = b.home_view_text("warmintro", [unknown_text], notice=notice)
    client.views_publish(user_id=user_id, view=view)
