"""Warm-up: build, once per process and before the first request, what every request shares.

A long-running process (the Slack bot, the web server) calls `Warmup.start()` when it starts; its readiness
check (`/readyz`) reports "warming up" until `done`. Everything warmed here is also built lazily on first use,
so the CLI and a request that arrives during warm-up work the same, only slower:

- the sentiment classifier (the shipped fitted model, `engines.sentiment.default_classifier`) and the MiniLM
  ONNX session and tokenizer every embedding function of that variant shares
  (`vectorstore.embeddings._shared_model`);
- the email index's int8 MiniLM session (built once per machine from the bundled model and cached), so the
  first draft does not pay for it;
- one scan as of now, which reads the sentiment of every note in the trigger lookback from the store (and
  classifies and stores the ones not there yet, engines.note_sentiment), remembers it in the process, and
  loads the engines' modules;
- the relationship graph index (`engines.graph.get_graph`), cached per database until an import runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warmintro.store.db import Store

log = logging.getLogger(__name__)


def warm_sentiment() -> None:
    from warmintro.engines.sentiment import default_classifier

    default_classifier().classify(["The rollout went well and the team is happy."])  # loads the ONNX session


def warm_index_model() -> None:
    from vectorstore.embeddings import index_embedding_function

    index_embedding_function().embed_array(["Happy to introduce you to our CSM."])


def warm_scan(store: Store, now: datetime) -> None:
    from warmintro.engines.scan import scan

    with store.session() as s:
        scan(s, now)


def warm_graph(store: Store, now: datetime) -> None:
    from warmintro.engines.graph import get_graph

    with store.session() as s:
        get_graph(s, as_of=now)


@dataclass
class Warmup:
    """The warm-up of one process: steps run in order in a background thread; a failing step is logged and
    the rest still run (the lazy path builds it on first use instead)."""

    store: Store
    clock: Callable[[], datetime]
    extra: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    _done: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        now = self.clock()
        return [
            ("sentiment", warm_sentiment),
            ("index_model", warm_index_model),
            ("scan", lambda: warm_scan(self.store, now)),
            ("graph", lambda: warm_graph(self.store, now)),
            *self.extra,
        ]

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def run(self) -> None:
        """All steps, in this thread."""
        started = time.perf_counter()
        try:
            for name, step in self.steps():
                t0 = time.perf_counter()
                try:
                    step()
                except Exception as exc:
                    self.failed[name] = type(exc).__name__
                    log.warning("warm-up step failed (built on first use instead)",
                                extra={"fields": {"step": name, "error": type(exc).__name__}})
                self.seconds[name] = round(time.perf_counter() - t0, 3)
        finally:
            self.seconds["total"] = round(time.perf_counter() - started, 3)
            self._done.set()
            log.info("warm-up done", extra={"fields": {**self.seconds, **({"failed": self.failed} if self.failed else {})}})

    def start(self) -> Warmup:
        """Run the steps in a daemon thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="warmup", daemon=True)
            self._thread.start()
        return self

    def status(self) -> str | None:
        """None when warm, else why not yet (a readiness check's answer)."""
        return None if self.done else "warming up"
