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


def test_unreachable_database_is_a_store_error():
    with pytest.raises(StoreError):
        Store.open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
