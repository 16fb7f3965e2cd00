"""slack_jobs.errors: runs that raised, counted apart from leases (a process killed mid-answer is not a
failure of the answer, so it no longer uses up the answer's tries)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('errors', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('slack_jobs', schema=None) as batch_op:
        batch_op.drop_column('errors')
