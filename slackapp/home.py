"""The App Home: what each person sees in the app's Home tab (a CSM's queue; help for reps; a polite text
for everyone else), published on app_home_opened and after a click changes it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slack_sdk import WebClient

from agent.identity import Identity
from slackapp import blocks as b
from slackapp.deps import Deps
from warmintro.flows.queue import csm_queue

log = logging.getLogger(__name__)


class _Placeholder:
    """Publishes a "working on it" view if the real one is not ready within `after_s`, and never after it: the
    real publish takes the lock, so a late placeholder cannot overwrite the queue."""

    def __init__(self, publish: Callable[[], object], after_s: float) -> None:
        self._publish = publish
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(after_s, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            try:
                self._publish()
            except Exception:
                log.warning("could not publish the App Home placeholder", exc_info=True)

    def finish(self) -> threading.Lock:
        """Stop the placeholder; hold the returned lock while publishing the real view."""
        self._timer.cancel()
        with self._lock:
            self._done = True
        return self._lock


def publish_home(deps: Deps, client: WebClient, user_id: str, who: Identity, *, notice: str | None = None,
                 unknown_text: str = b.REFUSAL_UNKNOWN) -> None:
    """Publish the App Home for `who`: a CSM's queue; help for reps; a polite text for everyone else. A CSM
    whose queue takes longer than `Deps.home_placeholder_s` sees a "working on it" view first, replaced by it."""
    now = deps.now()
    if who.role == "csm" and who.is_vendor and who.email:
        name = who.name or who.email
        placeholder = _Placeholder(lambda: client.views_publish(user_id=user_id, view=b.home_view_loading(name)),
                                   deps.home_placeholder_s)
        try:
            queue = csm_queue(deps, who.email, now, limit=deps.home_card_limit)
        finally:
            lock = placeholder.finish()
        view = b.home_view_csm(name, queue.cards, now, notice=notice, total=queue.total, problem=queue.problem)
        with lock:
            client.views_publish(user_id=user_id, view=view)
        return
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
