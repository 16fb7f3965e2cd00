"""payouts: which computed payouts were marked paid (issue 13)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import warmintro.store.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payouts',
    sa.Column('payout_id', sa.String(length=32), nullable=False),
    sa.Column('referral_id', sa.String(length=64), nullable=True),
    sa.Column('opportunity_id', sa.String(length=128), nullable=False),
    sa.Column('recipient_email', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('due_at', warmintro.store.types.UTCDateTime(), nullable=True),
    sa.Column('paid_at', warmintro.store.types.UTCDateTime(), nullable=False),
    sa.Column('paid_by', sa.String(length=320), nullable=False),
    sa.Column('reference', sa.String(length=256), nullable=True),
    sa.PrimaryKeyConstraint('payout_id', name=op.f('pk_payouts'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_referral_id'), ['referral_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_referral_id'))

    op.drop_table('payouts')
