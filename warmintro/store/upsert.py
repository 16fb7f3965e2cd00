"""Dialect-aware upserts (INSERT ... ON CONFLICT DO UPDATE) for SQLite and PostgreSQL.

`upsert` takes Python rows (a few at a time: settings, ledger rows). `bulk_upsert` takes a polars frame and
is what the importer writes with: on SQLite one `executemany` of plain tuples on the session's own
connection (no ORM, no per-row type processing), on PostgreSQL a `COPY` of the frame as CSV into a
temporary staging table and one `INSERT ... SELECT ... ON CONFLICT` from it. Both run inside the caller's
transaction, so an import stays all-or-nothing, and both store exactly what `upsert` would store.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from itertools import count, islice
from typing import Any

import polars as pl
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 10_000
BULK_SLICE = 200_000  # rows per executemany call / COPY buffer: bounds the Python objects alive at once
REINDEX_ROWS = 100_000  # SQLite: loads at least this big into a smaller table rebuild its plain indexes after
_stage_names = count()


def _update_columns(table: Table, key: Sequence[str], update: Sequence[str] | None) -> list[str]:
    if update is not None:
        return list(update)
    return [c.name for c in table.columns if c.name not in key and c.autoincrement is not True and c.name != "id"]


def upsert(session: Session, table: Table, rows: Iterable[dict[str, Any]], key: Sequence[str],
           *, update: Sequence[str] | None = None) -> int:
    """Insert rows, updating the non-key columns of rows whose `key` already exists. Returns rows sent."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    update_cols = _update_columns(table, key, update)
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


def _complete(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every insertable column of `table`, in table order: a column the frame lacks gets its
    scalar Python default or NULL, as an ORM-less `upsert` of the same rows would write (and, on conflict,
    overwrite) it."""
    exprs: list[pl.Expr] = []
    for c in table.columns:
        if c.autoincrement is True or (c.name == "id" and c.primary_key):
            continue
        if c.name in frame.columns:
            exprs.append(pl.col(c.name))
            continue
        default = c.default.arg if c.default is not None and c.default.is_scalar else None  # type: ignore[attr-defined]
        exprs.append(pl.lit(default).alias(c.name))
    return frame.select(exprs)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _on_conflict(table: Table, columns: Sequence[str], key: Sequence[str], update: Sequence[str] | None) -> str:
    update_cols = [c for c in _update_columns(table, key, update) if c in columns]
    target = ", ".join(_quote(k) for k in key)
    if not update_cols:
        return f"ON CONFLICT ({target}) DO NOTHING"
    sets = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in update_cols)
    return f"ON CONFLICT ({target}) DO UPDATE SET {sets}"


def _json_text(frame: pl.DataFrame) -> pl.DataFrame:
    """List/struct columns (the JSON columns) as the JSON text SQLAlchemy's JSON type writes."""
    nested = [c for c, t in frame.schema.items() if isinstance(t, pl.List | pl.Struct | pl.Object)]
    if not nested:
        return frame
    return frame.with_columns(
        pl.Series(c, [None if v is None else json.dumps(v) for v in frame[c].to_list()], dtype=pl.String)
        for c in nested
    )


def bulk_upsert(session: Session, table: Table, frame: pl.DataFrame, key: Sequence[str],
                *, update: Sequence[str] | None = None, ordered: bool = False) -> int:
    """Upsert every row of `frame` (columns named as in `table`; datetimes naive UTC) in the session's
    transaction. Keys must be unique within the frame (the importer rejects duplicates before this).
    `ordered`: the caller has already sorted the frame by `key`. Returns the rows sent."""
    if frame.height == 0:
        return 0
    # In key order: SQLite appends to its b-trees instead of inserting at random places (2x at 1M rows).
    frame = _json_text(_complete(table, frame))
    if not ordered:
        frame = frame.sort(list(key), nulls_last=True)
    columns = frame.columns
    cols_sql = ", ".join(_quote(c) for c in columns)
    conflict = _on_conflict(table, columns, key, update)
    conn = session.connection()
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        _copy_upsert(raw, table.name, frame, cols_sql, conflict)
    else:
        _sqlite_upsert(raw, table.name, frame, cols_sql, conflict)
    return frame.height


def _sqlite_upsert(raw: Any, table: str, frame: pl.DataFrame, cols_sql: str, conflict: str) -> None:
    # The store's own text forms (SQLAlchemy's SQLite DATETIME/DATE storage), so that SQL comparisons
    # against bound datetimes keep working: 'YYYY-MM-DD HH:MM:SS.ffffff' and 'YYYY-MM-DD'.
    fixes = []
    for c, t in frame.schema.items():
        if isinstance(t, pl.Datetime):
            fixes.append(pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
        elif t == pl.Date:
            fixes.append(pl.col(c).dt.strftime("%Y-%m-%d"))
        elif t == pl.Boolean:
            fixes.append(pl.col(c).cast(pl.Int8))
    if fixes:
        frame = frame.with_columns(fixes)
    marks = ", ".join("?" for _ in frame.columns)
    sql = f"INSERT INTO {_quote(table)} ({cols_sql}) VALUES ({marks}) {conflict}"
    cursor = raw.cursor()
    try:
        # A big load into a table that holds fewer rows: its plain (non-unique) indexes are dropped and
        # built again after the rows are in, inside the same transaction (SQLite DDL is transactional, so
        # a kill leaves the old indexes), which sorts once instead of inserting into each b-tree row by row.
        rebuild: list[str] = []
        if frame.height >= REINDEX_ROWS:
            # Rows already there, counted no further than the load's size (a WITHOUT ROWID table has no max(rowid)).
            held = cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {_quote(table)} LIMIT ?)",
                                  (frame.height,)).fetchone()[0]
            if held < frame.height:
                rebuild = [sql_ for (sql_,) in cursor.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
                    "AND upper(sql) NOT LIKE 'CREATE UNIQUE%'", (table,))]
                for name in [n for (n,) in cursor.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
                        "AND upper(sql) NOT LIKE 'CREATE UNIQUE%'", (table,))]:
                    cursor.execute(f"DROP INDEX {_quote(name)}")
        for part in frame.iter_slices(BULK_SLICE):
            cursor.executemany(sql, part.iter_rows())
        for ddl in rebuild:
            cursor.execute(ddl)
    finally:
        cursor.close()


def _copy_upsert(raw: Any, table: str, frame: pl.DataFrame, cols_sql: str, conflict: str) -> None:
    stage = _quote(f"warmintro_stage_{table}_{next(_stage_names)}")
    with raw.cursor() as cursor:
        # Same column types as the target, no constraints or defaults (an id sequence is not touched).
        cursor.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS "
                       f"SELECT {cols_sql} FROM {_quote(table)} WITH NO DATA")
        # CSV with every text value quoted and NULL as an unquoted \N: an empty string stays empty and a
        # value that reads '\N' stays text.
        copy_sql = f"COPY {stage} ({cols_sql}) FROM STDIN (FORMAT csv, NULL '\\N')"
        with cursor.copy(copy_sql) as copy:
            for part in frame.iter_slices(BULK_SLICE):
                buf = io.BytesIO()
                part.write_csv(buf, include_header=False, null_value="\\N", quote_style="non_numeric",
                               datetime_format="%Y-%m-%d %H:%M:%S%.6f", date_format="%Y-%m-%d")
                copy.write(buf.getvalue())
        cursor.execute(f"INSERT INTO {_quote(table)} ({cols_sql}) SELECT {cols_sql} FROM {stage} {conflict}")
        cursor.execute(f"DROP TABLE {stage}")
