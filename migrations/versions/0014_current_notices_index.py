"""current notices: a partial covering index for the unread count

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

CURRENT = sa.text("superseded_by_id IS NULL AND revoked_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_current', ['id', 'publish_at'], unique=False,
                              postgresql_where=CURRENT, sqlite_where=CURRENT)


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_current', postgresql_where=CURRENT, sqlite_where=CURRENT)
