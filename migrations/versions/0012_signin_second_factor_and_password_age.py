"""sign-in second factor and password age

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22

The TOTP secret, when it was confirmed, and the last time step accepted (no
code is accepted twice). `password_changed_at` exists since 0001 but was only
set by a password change: accounts whose password was set at creation (admin
form, import, demo) get their creation time, so the password age counts from
there.
"""
from alembic import op
import sqlalchemy as sa
import hub.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', hub.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.execute("UPDATE users SET password_changed_at = created_at "
               "WHERE password_changed_at IS NULL AND password_hash IS NOT NULL")


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): recreating `users` would trip
    # the foreign keys that point at it.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
