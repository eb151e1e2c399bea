"""document_news_reads: the sender hears back — replies and completions since the issuing office last looked

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa
import hub.db


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document_news_reads',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('read_at', hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_document_news_reads_document_id_documents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_document_news_reads_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('document_id', 'user_id', name=op.f('pk_document_news_reads')),
    )
    with op.batch_alter_table('document_news_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_news_reads_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document_news_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_news_reads_user_id'))
    op.drop_table('document_news_reads')
