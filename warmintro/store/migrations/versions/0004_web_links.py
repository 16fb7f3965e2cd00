"""web links: referrers' tracking codes and the clicks on them

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 19:50:00.000000
"""
from alembic import op
import sqlalchemy as sa
import warmintro.store.types


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral_codes',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('referrer_email', sa.String(length=320), nullable=False),
    sa.Column('created_at', warmintro.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_referral_codes')),
    sa.UniqueConstraint('referrer_email', name=op.f('uq_referral_codes_referrer_email'))
    )
    op.create_table('link_clicks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('referrer_email', sa.String(length=320), nullable=False),
    sa.Column('at', warmintro.store.types.UTCDateTime(), nullable=False),
    sa.Column('ip_hash', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=256), nullable=True),
    sa.Column('referer', sa.String(length=512), nullable=True),
    sa.ForeignKeyConstraint(['code'], ['referral_codes.code'], name=op.f('fk_link_clicks_code_referral_codes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_clicks'))
    )
    with op.batch_alter_table('link_clicks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_clicks_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_clicks_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_clicks_referrer_email'), ['referrer_email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('link_clicks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_clicks_referrer_email'))
        batch_op.drop_index(batch_op.f('ix_link_clicks_code'))
        batch_op.drop_index(batch_op.f('ix_link_clicks_at'))

    op.drop_table('link_clicks')
    op.drop_table('referral_codes')
