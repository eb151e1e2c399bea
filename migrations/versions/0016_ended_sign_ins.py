"""ended sign-ins: a signed-out session cookie is refused even if copied

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ended_sign_ins',
        sa.Column('sign_in_id', sa.String(length=32), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sign_in_id', name=op.f('pk_ended_sign_ins')),
    )
    with op.batch_alter_table('ended_sign_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ended_sign_ins_ended_at'), ['ended_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ended_sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ended_sign_ins_ended_at'))
    op.drop_table('ended_sign_ins')
