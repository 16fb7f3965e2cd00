"""slack_oauth_installations and slack_oauth_states: the Slack OAuth install flow's tables (issue 15;
until now slackapp/oauth.py created them on first use)

A database where that create-on-first-use already made them keeps its tables and rows: each table is
created only when it is missing (its index too).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    existing = _tables()
    if 'slack_oauth_installations' not in existing:
        op.create_table('slack_oauth_installations',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('enterprise_id', sa.String(length=64), nullable=True),
        sa.Column('team_id', sa.String(length=64), nullable=True),
        sa.Column('user_id', sa.String(length=64), nullable=True),
        sa.Column('is_enterprise_install', sa.Boolean(), nullable=False),
        sa.Column('installed_at', sa.Float(), nullable=False),
        sa.Column('installation', sa.JSON(), nullable=True),
        sa.Column('bot', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_slack_oauth_installations'))
        )
    indexes = {ix['name'] for ix in sa.inspect(op.get_bind()).get_indexes('slack_oauth_installations')}
    if 'ix_slack_oauth_installations_team' not in indexes:
        with op.batch_alter_table('slack_oauth_installations', schema=None) as batch_op:
            batch_op.create_index('ix_slack_oauth_installations_team', ['client_id', 'enterprise_id', 'team_id'],
                                  unique=False)
    if 'slack_oauth_states' not in existing:
        op.create_table('slack_oauth_states',
        sa.Column('state', sa.String(length=128), nullable=False),
        sa.Column('expire_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('state', name=op.f('pk_slack_oauth_states'))
        )


def downgrade() -> None:
    op.drop_table('slack_oauth_states')
    with op.batch_alter_table('slack_oauth_installations', schema=None) as batch_op:
        batch_op.drop_index('ix_slack_oauth_installations_team')
    op.drop_table('slack_oauth_installations')
