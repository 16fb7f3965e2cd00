"""Engine factory and schema migration for the store (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from warmintro.errors import StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def driver_rows(session: Session, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a small, hot read written in plain SQL (`?` placeholders), run on the DBAPI cursor of the
    session's connection, inside its transaction: SQLAlchemy's execution path (context, parameter and
    result processing) costs several times such a query (~45 us against ~10 us on SQLite). Values are
    bound and returned as the driver has them: convert through the column types' processors
    (`TypeEngine.bind_processor` / `result_processor`) where they differ from Python's. Flushes first."""
    if session.autoflush:
        session.flush()
    connection = session.connection()
    if connection.dialect.paramstyle != "qmark":  # psycopg: format / pyformat
        sql = format_placeholders(sql)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def format_placeholders(sql: str) -> str:
    """`?` placeholders as psycopg's `%s`: a `?` inside a quoted literal or identifier stays as it is, and
    every `%` is doubled (psycopg reads a lone `%` as the start of a placeholder, quoted or not)."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if ch == "%":
            out.append("%%")
            continue
        if quote is None and ch == "?":
            out.append("%s")
            continue
        if ch in "'\"":
            # a doubled quote inside a literal closes and reopens it, which leaves the state right
            quote = None if quote == ch else (ch if quote is None else quote)
        out.append(ch)
    return "".join(out)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer and a killed import leaves the main file intact.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`. SQLite files get their directory created and WAL mode."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN past DDL; issue BEGIN ourselves so a
        # transaction is one atomic unit, and BEGIN IMMEDIATE for writers that check-then-write
        # (cadence), so the write lock is taken before the check rather than failing after it.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`. Safe to call on every start; an upgrade never needs a wipe."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), revision)
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database: {exc.orig}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


class Store:
    """The database handle every engine receives: an engine plus a session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        # Writers that read-check-write: on SQLite take the write lock at BEGIN; on PostgreSQL the
        # code locks rows (SELECT ... FOR UPDATE) itself.
        self.write_sessions = sessionmaker(engine.execution_options(sqlite_immediate=True), expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        engine = make_engine(url)
        try:
            if upgrade:
                migrate(engine)
            elif current_revision(engine) != head_revision(engine):
                raise StoreError("the database schema is not at the current version: run `warmintro migrate`")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {engine.url.render_as_string(hide_password=True)}: {exc}") from exc
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error.
        `write=True` for transactions that check then write and must not interleave with another."""
        factory = self.write_sessions if write else self.sessions
        with factory() as session, session.begin():
            yield session

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    def close(self) -> None:
        self.engine.dispose()
