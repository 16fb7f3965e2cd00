"""Scheduler election: of all the replicas sharing one store, exactly one runs the scheduler.

On PostgreSQL the leader holds a session-level advisory lock (`pg_try_advisory_lock`) on a dedicated
connection, outside the pool: the lock lives exactly as long as that connection, so a replica that dies
(or loses its connection) frees it, and another replica takes over on its next try. On SQLite (one
machine, one process by design) there is nothing to elect: the process always leads.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

DEFAULT_NAME = "warmintro.scheduler"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leader:
    """`try_lead()` returns whether this process leads now; call it before each scheduler run."""

    def __init__(self, engine: Engine, name: str = DEFAULT_NAME) -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self._conn: Connection | None = None
        self._postgres = engine.dialect.name == "postgresql"

    @property
    def leading(self) -> bool:
        return not self._postgres or self._conn is not None

    def try_lead(self) -> bool:
        if not self._postgres:
            return True
        if self._conn is not None:
            if self._alive(self._conn):
                return True
            log.warning("scheduler leadership lost (connection closed)")
            self._drop()
        conn: Connection | None = None
        try:
            conn = self.engine.connect()
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            conn.commit()  # leave no transaction open: the lock is session-level, it survives
        except Exception:
            log.exception("scheduler election failed")
            if conn is not None:
                conn.close()
            return False
        if got:
            self._conn = conn
            log.info("this process leads the scheduler", extra={"fields": {"lock": self.name}})
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._conn.commit()
        except Exception:  # the connection is gone: so is the lock
            log.debug("advisory unlock failed", exc_info=True)
        self._drop()

    def _alive(self, conn: Connection) -> bool:
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
            return True
        except Exception:
            return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never hand a lock-holding connection back to the pool
                conn.close()
            except Exception:
                log.debug("closing the leader connection failed", exc_info=True)

    def __enter__(self) -> Leader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
