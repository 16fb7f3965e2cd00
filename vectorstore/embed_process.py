"""The offline MiniLM model in a child process, for long embedding runs (`warmintro.voice.index.index_emails`).

Why a process: chromadb's upsert holds the GIL for its whole call (about 0.37 s per 256 emails on a 2-core
host), and while it does, the model's lanes in this process cannot start their next email, so a fifth of
a long run had the model waiting on the store. In a process of its own the model keeps the cores busy while
this one stores the previous batch (issue 22: 165 -> 186 emails/s through `index_emails` at L).

The child is `python -m vectorstore.embed_process CONFIG` (not multiprocessing, whose spawn re-imports the
caller's main script), reading pickled lists of texts on stdin and answering pickled arrays on stdout. It
builds the same embedding function from its config (`MiniLMEmbeddingFunction.get_config()`), so its vectors
are bit-for-bit the ones this process would compute. If the child cannot start, fails or dies, the run goes
on in this process with the same function: slower, never lost.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from vectorstore.embeddings import MiniLMEmbeddingFunction

log = logging.getLogger(__name__)


class EmbeddingProcess:
    """`embed(texts)` computed by `function`'s model in a child process; a context manager that stops it."""

    def __init__(self, function: MiniLMEmbeddingFunction) -> None:
        self._function = function
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        env = dict(os.environ)
        # The child imports this package from where this process did, installed or not.
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "vectorstore.embed_process", json.dumps(function.get_config())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        except OSError as exc:
            log.warning("embedding in this process: the model's process did not start (%s)", exc)

    @property
    def in_child(self) -> bool:
        """Whether the next batch goes to the child (False once it failed: the rest stays here)."""
        return self._child is not None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            child = self._child
            if child is not None:
                assert child.stdin is not None and child.stdout is not None
                try:
                    pickle.dump(list(texts), child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    child.stdin.flush()
                    answer = pickle.load(child.stdout)
                except (OSError, EOFError, pickle.UnpicklingError) as exc:
                    answer = f"it stopped ({type(exc).__name__}, exit code {child.poll()})"
                if isinstance(answer, np.ndarray) and answer.shape[0] == len(texts):
                    return answer
                log.warning("embedding in this process from now on: the model's process failed: %s", answer)
                self._stop()
        return self._function.embed_array(list(texts))

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        for stream in (child.stdin, child.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            child.wait(timeout=10)  # end of input: it exits
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __enter__(self) -> EmbeddingProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(config: dict[str, Any], requests: IO[bytes], answers: IO[bytes]) -> None:
    """The child's loop: a pickled list of texts in, its (n, 384) array out (or a message why not)."""
    function = MiniLMEmbeddingFunction.build_from_config(config)
    while True:
        try:
            texts = pickle.load(requests)
        except EOFError:
            return
        try:
            answer: Any = function.embed_array([str(t) for t in texts])
        except Exception as exc:  # noqa: BLE001  # reported to the parent, which embeds the batch itself
            answer = f"{type(exc).__name__}: {exc}"
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


if __name__ == "__main__":
    # Answers get a private copy of stdout; anything else printing to fd 1 (a library, onnxruntime) goes
    # to stderr instead of corrupting the stream.
    private = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(json.loads(sys.argv[1]), sys.stdin.buffer, private)
