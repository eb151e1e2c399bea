"""attachments on notices

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice_attachments',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'],
                            name=op.f('fk_notice_attachments_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], ondelete='CASCADE',
                            name=op.f('fk_notice_attachments_notice_id_notices')),
    sa.PrimaryKeyConstraint('notice_id', 'attachment_id', name=op.f('pk_notice_attachments'))
    )
    op.create_index(op.f('ix_notice_attachments_attachment_id'), 'notice_attachments', ['attachment_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notice_attachments_attachment_id'), table_name='notice_attachments')
    op.drop_table('notice_attachments')
