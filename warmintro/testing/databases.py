"""A fresh PostgreSQL schema per use, dropped afterwards: the tests', the Slack harness's and the fault suite's
way to run the same code on PostgreSQL without sharing state."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from sqlalchemy import create_engine, text


@contextmanager
def postgres_schema(base_url: str, prefix: str = "t") -> Iterator[str]:
    """Yields `base_url` with its search_path set to a new schema `{prefix}_{random}`; drops it at the end."""
    base = base_url.replace("postgresql+psycopg://", "postgresql://", 1)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _with_search_path(url: str, schema: str) -> str:
    """`url` with its search_path set to `schema`, replacing a search_path it already sets (a URL that is
    itself one of these schemas): libpq refuses an `options` parameter given twice."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))
