"""kept unread counts: the inbox's number without counting 10,000 notices

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'unread_counts',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('unread', sa.Integer(), nullable=False),
        sa.Column('horizon', sa.DateTime(timezone=True), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_unread_counts_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_unread_counts')),
    )
    op.create_table(
        'unread_generation',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unread_generation')),
    )


def downgrade() -> None:
    op.drop_table('unread_generation')
    op.drop_table('unread_counts')
