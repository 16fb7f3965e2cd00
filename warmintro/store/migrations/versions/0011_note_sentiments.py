"""note_sentiments: note sentiment predictions kept per classifier fingerprint and text hash (issue 22), so a
fresh process's first scan does not classify every trigger note again

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import warmintro.store.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('note_sentiments',
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('created_at', warmintro.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('fingerprint', 'text_hash', name=op.f('pk_note_sentiments'))
    )


def downgrade() -> None:
    op.drop_table('note_sentiments')
