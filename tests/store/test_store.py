"""The store on SQLite and PostgreSQL: migrations, the schema matching the models, transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from warmintro.errors import StoreError
from warmintro.store import models as m
from warmintro.store.db import Store, current_revision, head_revision

pytestmark = pytest.mark.store


def test_migrations_reach_head_and_match_the_models(store):
    assert current_revision(store.engine) == head_revision(store.engine)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), m.Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_open_is_idempotent(database_url):
    Store.open(database_url).close()
    s = Store.open(database_url)
    assert "accounts" in s.table_names()
    s.close()


def test_datetimes_round_trip_as_utc(store):
    when = datetime(2026, 11, 24, 17, 30, tzinfo=timezone(timedelta(hours=2)))
    with store.session() as s:
        s.add(m.AuditLog(at=when, action="test"))
    with store.session() as s:
        got = s.scalars(select(m.AuditLog.at)).one()
    assert got == when and got.tzinfo == UTC


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.session(write=True) as s:
        s.add(m.AuditLog(at=datetime.now(UTC), action="doomed"))
        s.flush()
        raise RuntimeError("boom")
    with store.session() as s:
        assert s.scalars(select(m.AuditLog)).all() == []


def test_plain_sql_reads_keep_question_marks_and_percent_signs_in_literals(store):
    from warmintro.store.db import driver_rows

    with store.session() as s:
        # a placeholder in the query, and a '?' and a '%' inside literals, which are text, not placeholders
        rows = driver_rows(s, "SELECT ?, 'why?', 'it''s ?', 'a%b' WHERE 'ab' LIKE 'a%' AND 1 = ?", ["x", 1])
        assert rows == [("x", "why?", "it's ?", "a%b")]
        assert driver_rows(s, "SELECT '100%'") == [("100%",)]


def test_unreachable_database_is_a_store_error():
    with pytest.raises(StoreError):
        Store.open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def _raw_rows(store, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    cols = ", ".join(f'"{c}"' for c in columns)
    with store.engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(text(f'SELECT {cols} FROM "{table}"'))), key=repr)


def test_bulk_upsert_stores_exactly_what_upsert_stores(database_url, tmp_path, monkeypatch):
    """The importer's bulk path (executemany / COPY + staging) against the row-wise upsert: the same raw
    values in the database, tricky text included, on insert and on conflict; on SQLite with the plain
    indexes dropped and rebuilt around the load (as for a big import), which leaves them as they were."""
    import polars as pl

    from warmintro.store import upsert as upsert_module
    from warmintro.store.upsert import bulk_upsert, upsert

    monkeypatch.setattr(upsert_module, "REINDEX_ROWS", 1)

    texts = ["plain", "", "\\N", 'quote " and, comma', "line\nbreak", "ünïcode ✓", None]
    first = [{"message_id": f"m{i}", "from_email": f"a{i}@x.example", "to_emails": [f"b{i}@y.example"] if i % 2 else [],
              "cc_emails": [], "sent_at": datetime(2026, 1, 2, 3, 4, 5, i * 1000), "subject": t or "",
              "body": t if t is not None else "x"} for i, t in enumerate(texts)]
    second = [{**r, "subject": r["subject"] + "!", "sent_at": r["sent_at"] + timedelta(days=1)} for r in first[:3]]
    second.append({**first[0], "message_id": "new"})
    contacts = [{"contact_id": "c1", "account_id": "a1", "name": "N", "email": "n@x.example", "title": None,
                 "crm_role": None, "do_not_contact": True, "slack_user_id": "\\N"}]
    schema = {"message_id": pl.String, "from_email": pl.String, "to_emails": pl.List(pl.String),
              "cc_emails": pl.List(pl.String), "sent_at": pl.Datetime("us"), "subject": pl.String, "body": pl.String}
    stores = {}
    for mode in ("rows", "bulk"):
        s = store_for(database_url, tmp_path, mode)
        stores[mode] = s
        tables = m.Base.metadata.tables
        with s.session() as session:
            for rows in (first, second):
                if mode == "rows":
                    upsert(session, tables["emails"], rows, ("message_id",),
                           update=("from_email", "to_emails", "cc_emails", "sent_at", "subject", "body"))
                else:
                    bulk_upsert(session, tables["emails"], pl.DataFrame(rows, schema=schema), ("message_id",),
                                update=("from_email", "to_emails", "cc_emails", "sent_at", "subject", "body"))
            upsert(session, tables["accounts"], [{"account_id": "a1", "name": "A", "domain": "x.example"}],
                   ("account_id",))
            if mode == "rows":
                upsert(session, tables["contacts"], contacts, ("contact_id",))
            else:
                bulk_upsert(session, tables["contacts"], pl.DataFrame(contacts), ("contact_id",))
    for table in ("emails", "contacts"):
        columns = [c.name for c in m.Base.metadata.tables[table].columns]
        assert _raw_rows(stores["bulk"], table, columns) == _raw_rows(stores["rows"], table, columns)
    if database_url.startswith("sqlite"):
        from sqlalchemy import text

        def indexes(store):
            with store.engine.connect() as conn:
                return sorted(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())

        assert indexes(stores["bulk"]) == indexes(stores["rows"])
        assert any(name == "ix_emails_from_email" for name, _sql in indexes(stores["bulk"]))
    assert len(_raw_rows(stores["bulk"], "emails", ["message_id"])) == len(texts) + 1
    for s in stores.values():
        s.close()
        _drop_schema(database_url, s)


def store_for(database_url: str, tmp_path, mode: str) -> Store:
    """A second, separate store beside the fixture's: another SQLite file, or another PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        return Store.open(f"sqlite:///{tmp_path / f'{mode}.sqlite3'}")
    import uuid

    from sqlalchemy import create_engine, text

    base, _, _opts = database_url.partition("?options=")
    schema = f"t_{mode}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    store = Store.open(f"{base}?options=-csearch_path%3D{schema}")
    store.schema = schema  # type: ignore[attr-defined]
    return store


def _drop_schema(database_url: str, store: Store) -> None:
    schema = getattr(store, "schema", None)
    if schema is None:
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(database_url.partition("?options=")[0].replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_usage_key_migration_moves_the_rows_both_ways(database_url):
    """0012 re-keys usage_daily (contact first, WITHOUT ROWID on SQLite) and fills usage_account_days from it;
    its downgrade gives the old table back with the same rows."""
    from alembic import command
    from sqlalchemy import text

    from warmintro.store.db import _alembic_config, make_engine, migrate

    engine = make_engine(database_url)
    migrate(engine, "0011")
    rows = [("A1", "x@a.example", "login", "2026-11-20", 3), ("A1", "y@a.example", "login", "2026-11-20", 1),
            ("A1", "x@a.example", "report_shared", "2026-11-21", 2), ("B2", "z@b.example", "login", "2026-10-01", 7)]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO usage_daily (account_id, contact_email, event, day, count) "
                          "VALUES (:a, :e, :v, :d, :n)"), [dict(zip("aevdn", r, strict=True)) for r in rows])

    def usage() -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            return sorted((a, e, v, str(d), n) for a, e, v, d, n in conn.execute(
                text("SELECT account_id, contact_email, event, day, count FROM usage_daily")))

    migrate(engine, "head")
    assert usage() == sorted(rows)
    with engine.connect() as conn:
        days = sorted((a, str(d)) for a, d in conn.execute(text("SELECT account_id, day FROM usage_account_days")))
    assert days == [("A1", "2026-11-20"), ("A1", "2026-11-21"), ("B2", "2026-10-01")]
    with Store(engine).session(write=True) as s:  # the new key still takes an upsert on the same columns
        from warmintro.store.upsert import upsert

        upsert(s, m.UsageDaily.__table__, [{"account_id": "A1", "contact_email": "x@a.example", "event": "login",
                                            "day": datetime(2026, 11, 20).date(), "count": 9}],
               ("account_id", "contact_email", "event", "day"))
    assert ("A1", "x@a.example", "login", "2026-11-20", 9) in usage()
    command.downgrade(_alembic_config(engine), "0011")
    assert len(usage()) == len(rows)
    with engine.connect() as conn:
        assert "usage_account_days" not in {r[0] for r in conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if engine.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))}
    migrate(engine, "head")
    assert len(usage()) == len(rows)
    engine.dispose()


def _index_names(engine, table: str) -> set[str]:
    from sqlalchemy import inspect

    return {ix["name"] for ix in inspect(engine).get_indexes(table)}


def _sqlite_without_rowid(engine, table: str) -> bool:
    from sqlalchemy import text

    with engine.connect() as conn:
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}).scalar()
    return "WITHOUT ROWID" in ddl.upper()


def test_relationships_key_migration_moves_the_rows_both_ways(database_url):
    """0013 stores relationships in its key's b-tree on SQLite (rows copied in key order) and drops
    employment's email index; its downgrade gives the rowid table and the index back with the same rows."""
    from alembic import command
    from sqlalchemy import text

    from warmintro.store.db import _alembic_config, make_engine, migrate

    engine = make_engine(database_url)
    migrate(engine, "0012")
    rels = [("z@c.example", "a@b.example", "email", 3.0, "2026-01-02 03:04:05.000006", None),
            ("a@b.example", "z@c.example", "linkedin", None, None, None),
            ("a@b.example", "m@c.example", "coworker", 12.0, "2024-05-01 00:00:00.000000", "2026-05-01 00:00:00.000000"),
            ("a@b.example", "m@c.example", "email", 1.0, None, "2026-10-01 00:00:00.000000")]
    jobs = [("a@b.example", "Beta", "b.example", "CTO", "2024-01-01 00:00:00.000000", None),
            ("a@b.example", "Acme", None, None, "2020-01-01 00:00:00.000000", "2023-12-31 00:00:00.000000")]
    rel_cols, job_cols = "a_email, b_email, kind, weight, first_at, last_at", 'email, company, domain, title, start, "end"'
    with engine.begin() as conn:  # out of key order: the rowids are not the key's order
        conn.execute(text(f"INSERT INTO relationships ({rel_cols}) VALUES (:a, :b, :k, :w, :f, :l)"),
                     [dict(zip("abkwfl", r, strict=True)) for r in rels])
        conn.execute(text(f"INSERT INTO employment ({job_cols}) VALUES (:e, :c, :d, :t, :s, :n)"),
                     [dict(zip("ecdtsn", r, strict=True)) for r in jobs])

    def value(v: object) -> object:  # SQLite gives datetimes as the text stored, PostgreSQL as datetimes
        return v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v

    def rows(sql: str) -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            return [tuple(value(v) for v in r) for r in conn.execute(text(sql))]

    rel_sql = f"SELECT {rel_cols} FROM relationships"
    job_sql = f"SELECT id, {job_cols} FROM employment ORDER BY id"
    before_jobs = rows(job_sql)
    sqlite = engine.dialect.name == "sqlite"

    migrate(engine, "head")
    assert sorted(rows(rel_sql)) == sorted(rels) and rows(job_sql) == before_jobs
    if sqlite:  # a full scan reads the key's order, as a fresh import's rowids gave it
        assert rows(rel_sql) == sorted(rels) and _sqlite_without_rowid(engine, "relationships")
    assert "ix_relationships_b_email" in _index_names(engine, "relationships")
    assert "ix_employment_email" not in _index_names(engine, "employment")
    with Store(engine).session(write=True) as s:  # the upserts the importer and the hooks write still apply
        from warmintro.store.upsert import upsert

        upsert(s, m.Relationship.__table__, [{"a_email": "a@b.example", "b_email": "z@c.example", "kind": "linkedin",
                                              "weight": 2.0, "first_at": None, "last_at": None}],
               ("a_email", "b_email", "kind"))
        assert s.scalar(select(m.Relationship.weight).where(m.Relationship.kind == "linkedin")) == 2.0
        assert [j.company for j in s.scalars(select(m.Employment).where(m.Employment.email == "a@b.example")
                                             .order_by(m.Employment.start))] == ["Acme", "Beta"]

    command.downgrade(_alembic_config(engine), "0012")
    assert len(rows(rel_sql)) == len(rels) and rows(job_sql) == before_jobs
    assert "ix_employment_email" in _index_names(engine, "employment")
    assert "ix_relationships_b_email" in _index_names(engine, "relationships")
    if sqlite:
        assert not _sqlite_without_rowid(engine, "relationships")
    migrate(engine, "head")
    assert len(rows(rel_sql)) == len(rels)
    engine.dispose()
