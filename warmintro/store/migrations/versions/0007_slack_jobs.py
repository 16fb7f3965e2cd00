"""slack_jobs: durable work started by a click (crash-safe champion answers, issue 14)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:50:00.000000
"""
from alembic import op
import sqlalchemy as sa
import warmintro.store.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_jobs',
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', warmintro.store.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', warmintro.store.types.UTCDateTime(), nullable=False),
    sa.Column('done_at', warmintro.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_slack_jobs'))
    )
    with op.batch_alter_table('slack_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_jobs_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slack_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_jobs_key'))

    op.drop_table('slack_jobs')
