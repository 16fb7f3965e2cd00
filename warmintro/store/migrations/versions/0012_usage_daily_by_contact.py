"""usage_daily keyed by (contact_email, day, event, account_id), WITHOUT ROWID on SQLite; usage_account_days (issue 22)

The persona and recency reads filter on (contact_email, day): a key in that order serves them, so its own
index goes, and on SQLite the rows are stored in the key's b-tree. The active-weeks reads (account, day)
read a new table of usage_daily's distinct (account_id, day) instead of an index as big as usage_daily. An
import then writes one b-tree per usage row instead of the rowid table, the key's index and two indexes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = "account_id, contact_email, event, day, count"


def _rebuild_sqlite(key: list[str], with_rowid: bool) -> None:
    """SQLite cannot change a table's key in place: copy the rows into a table with the new key, in its order."""
    op.create_table('usage_daily_new',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*key, name='pk_usage_daily'),
    sqlite_with_rowid=with_rowid,
    )
    op.execute(f"INSERT INTO usage_daily_new ({COLUMNS}) SELECT {COLUMNS} FROM usage_daily ORDER BY {', '.join(key)}")
    op.drop_table('usage_daily')
    op.rename_table('usage_daily_new', 'usage_daily')


def upgrade() -> None:
    op.create_table('usage_account_days',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'day', name=op.f('pk_usage_account_days')),
    sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO usage_account_days (account_id, day) "
               "SELECT DISTINCT account_id, day FROM usage_daily ORDER BY account_id, day")
    key = ['contact_email', 'day', 'event', 'account_id']
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_sqlite(key, with_rowid=False)  # drops the old table's indexes with it
        return
    op.drop_index('ix_usage_daily_contact_day', table_name='usage_daily')
    op.drop_index('ix_usage_daily_account_day', table_name='usage_daily')
    op.drop_constraint('pk_usage_daily', 'usage_daily', type_='primary')
    op.create_primary_key('pk_usage_daily', 'usage_daily', key)


def downgrade() -> None:
    key = ['account_id', 'contact_email', 'event', 'day']
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_sqlite(key, with_rowid=True)
    else:
        op.drop_constraint('pk_usage_daily', 'usage_daily', type_='primary')
        op.create_primary_key('pk_usage_daily', 'usage_daily', key)
    op.create_index('ix_usage_daily_account_day', 'usage_daily', ['account_id', 'day'], unique=False)
    op.create_index('ix_usage_daily_contact_day', 'usage_daily', ['contact_email', 'day'], unique=False)
    op.drop_table('usage_account_days')
