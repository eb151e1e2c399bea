"""covering indexes for the notices reaching a person (the inbox)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notice_audience', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_audience_unit_id')
        batch_op.drop_index('ix_notice_audience_user_id')
        batch_op.create_index('ix_notice_audience_unit_reach', ['unit_id', 'subtree', 'position', 'notice_id'],
                              unique=False)
        batch_op.create_index('ix_notice_audience_user_reach', ['user_id', 'notice_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notice_audience', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_audience_user_reach')
        batch_op.drop_index('ix_notice_audience_unit_reach')
        batch_op.create_index('ix_notice_audience_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_notice_audience_unit_id', ['unit_id'], unique=False)
