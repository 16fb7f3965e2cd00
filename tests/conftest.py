"""Shared fixtures. Store tests run on SQLite always and on PostgreSQL when
WARMINTRO_TEST_DATABASE_URL is set (CI sets it to the machine's server); each PostgreSQL test gets its
own schema, dropped afterwards."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from warmintro.store.db import Store
from warmintro.testing.databases import postgres_schema

pytest_plugins = ["slackfixtures"]  # the Slack app harness fixtures, for tests/slack, tests/web and the rest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _pg_url() -> str | None:
    return os.environ.get("WARMINTRO_TEST_DATABASE_URL")


def backends() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
        not _pg_url(), reason="WARMINTRO_TEST_DATABASE_URL not set")))
    return params


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    base = _pg_url()
    assert base
    with postgres_schema(base) as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store.open(database_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def northwind(tmp_path: Path) -> Path:
    """A hand-written contract folder (a copy, so tests may edit it)."""
    dest = tmp_path / "northwind"
    shutil.copytree(FIXTURES / "northwind", dest)
    return dest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Any test that uses the store runs once per backend.
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", backends(), indirect=True)
