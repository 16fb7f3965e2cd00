"""pytest fixtures over the shared Slack app harness (warmintro.testing.slack_harness), registered for the whole
suite from tests/conftest.py: a mock Slack Web API, the small workspace imported once per backend, and the
served app. tests/slack and tests/web also fail a test on any error the app logged (`no_listener_errors`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from warmintro.store.db import Store
from warmintro.testing.mock_slack_api import MockSlackAPI
from warmintro.testing.slack_harness import (
    ALEX,
    DANA,
    OMAR,
    PRIYA,
    Harness,
    reset,
    slack_database,
    start_harness,
    stop_harness,
)

APP_LOGGERS = ("slackapp", "web.", "warmintro.flows", "slack_bolt")


@pytest.fixture
def mock_slack() -> Iterator[MockSlackAPI]:
    mock = MockSlackAPI().start()
    for uid, email in ((DANA, "dana@vendor.example"), (OMAR, "omar@vendor.example"), (ALEX, "alex@vendor.example"),
                       (PRIYA, "priya@northwind.example")):
        mock.add_user(uid, email)
    try:
        yield mock
    finally:
        mock.stop()


def _backends() -> list[Any]:
    return [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
                not os.environ.get("WARMINTRO_TEST_DATABASE_URL"), reason="WARMINTRO_TEST_DATABASE_URL not set"))]


@pytest.fixture(scope="session", params=_backends())
def slack_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    """The small workspace imported once per backend (SQLite file; PostgreSQL: its own schema, dropped at
    the end), shared by the Slack tests; `workspace_store` puts it back after each test."""
    with slack_database(request.param, tmp_path_factory.mktemp("slack-db"),
                        os.environ.get("WARMINTRO_TEST_DATABASE_URL")) as db:
        yield db


@pytest.fixture
def workspace_store(slack_db: tuple[str, Store]) -> Iterator[Store]:
    _url, store = slack_db
    reset(store)
    try:
        yield store
    finally:
        reset(store)


@pytest.fixture
def database_url_of(slack_db: tuple[str, Store]) -> str:
    return slack_db[0]


@pytest.fixture
def slack(workspace_store: Store, mock_slack: MockSlackAPI, tmp_path: Path) -> Iterator[Harness]:
    h = start_harness(workspace_store, mock_slack, tmp_path)
    try:
        yield h
    finally:
        stop_harness(h)


@pytest.fixture
def no_listener_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every handler catches and logs its exceptions; a logged error from the app fails the test."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith(APP_LOGGERS)]
    assert not errors, [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in errors]
