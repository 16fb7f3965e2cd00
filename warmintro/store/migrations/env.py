"""Alembic environment: the engine is handed in by warmintro.store.db.migrate (no alembic.ini)."""

from alembic import context

from warmintro.store.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
