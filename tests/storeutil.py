"""Helpers for store tests: a full logical dump of every table, for before/after equality."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from warmintro.store.db import Store
from warmintro.store.models import Base


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for name, table in sorted(Base.metadata.tables.items()):
            rows = conn.execute(select(table)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out
