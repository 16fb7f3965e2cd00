"""relationships WITHOUT ROWID on SQLite; employment without its email index (issue 22)

On SQLite a rowid table with a composite key is three b-trees per row to write at import (the rowid
table, the key's automatic index, b_email's index); stored in the key's b-tree it is two. Rows are copied
in key order, the order a fresh import's rowids had, so a full scan reads them as before. PostgreSQL has
no such storage choice: its relationships table is unchanged.

employment's email index repeats the prefix of its unique (email, company, start) index, which serves the
same lookups: dropped on both databases.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

import warmintro.store.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COLUMNS = "a_email, b_email, kind, weight, first_at, last_at"


def _rebuild_relationships_sqlite(with_rowid: bool) -> None:
    """SQLite cannot change a table's storage in place: copy the rows into a new table, in key order."""
    op.create_table('relationships_new',
    sa.Column('a_email', sa.String(length=320), nullable=False),
    sa.Column('b_email', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('first_at', warmintro.store.types.UTCDateTime(), nullable=True),
    sa.Column('last_at', warmintro.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('a_email', 'b_email', 'kind', name='pk_relationships'),
    sqlite_with_rowid=with_rowid,
    )
    op.execute(f"INSERT INTO relationships_new ({COLUMNS}) SELECT {COLUMNS} FROM relationships "
               "ORDER BY a_email, b_email, kind")
    op.drop_table('relationships')  # and its indexes
    op.rename_table('relationships_new', 'relationships')
    op.create_index('ix_relationships_b_email', 'relationships', ['b_email'], unique=False)


def upgrade() -> None:
    op.drop_index('ix_employment_email', table_name='employment')
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_relationships_sqlite(with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_relationships_sqlite(with_rowid=True)
    op.create_index('ix_employment_email', 'employment', ['email'], unique=False)
