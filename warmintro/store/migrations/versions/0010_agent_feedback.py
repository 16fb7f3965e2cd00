"""agent_feedback: thumbs up or down on the agent's answers in Slack (issue 23)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
import warmintro.store.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_feedback',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('answer_id', sa.String(length=256), nullable=False),
    sa.Column('thread_id', sa.String(length=256), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('vote', sa.String(length=8), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=True),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('at', warmintro.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_feedback')),
    sa.UniqueConstraint('answer_id', 'user_id', name=op.f('uq_agent_feedback_answer_id_user_id'))
    )
    with op.batch_alter_table('agent_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_feedback_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agent_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_feedback_at'))

    op.drop_table('agent_feedback')
