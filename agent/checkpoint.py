"""Thread memory that survives a restart: a LangGraph checkpointer on the product's own database."""

from __future__ import annotations

import sqlite3
from typing import Any

from warmintro.settings import Settings


def open_checkpointer(settings: Settings) -> Any:
    """SQLite file beside the embedded store, or the PostgreSQL database when the store is PostgreSQL."""
    url = settings.resolved_database_url
    if url.startswith("postgresql"):
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver

        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=0)
        saver = PostgresSaver(conn)  # type: ignore[arg-type]
        saver.setup()
        return saver
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = settings.home_dir / "checkpoints.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    lite = sqlite3.connect(str(path), check_same_thread=False)
    lite.execute("PRAGMA journal_mode=WAL")
    lite_saver = SqliteSaver(lite)
    lite_saver.setup()
    return lite_saver
