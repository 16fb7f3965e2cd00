"""Dialect-aware bulk upsert (INSERT ... ON CONFLICT DO UPDATE) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 10_000


def upsert(session: Session, table: Table, rows: Iterable[dict[str, Any]], key: Sequence[str],
           *, update: Sequence[str] | None = None) -> int:
    """Insert rows, updating the non-key columns of rows whose `key` already exists. Returns rows sent."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    update_cols = list(update) if update is not None else [
        c.name for c in table.columns if c.name not in key and c.autoincrement is not True and c.name != "id"
    ]
    if update_cols:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in update_cols}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    sent = 0
    it = iter(rows)
    while chunk := list(islice(it, CHUNK)):
        session.execute(stmt, chunk)
        sent += len(chunk)
    return sent
