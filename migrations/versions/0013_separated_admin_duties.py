"""separated admin duties (三员分立): the security admin and auditor roles

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD = "role in ('admin','unit_admin','clerk','leader','member')"
NEW = "role in ('admin','security_admin','auditor','unit_admin','clerk','leader','member')"


def _known_roles(rule: str) -> None:
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_role_grants_known_role'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_role_grants_known_role'), rule)


def upgrade() -> None:
    _known_roles(NEW)


def downgrade() -> None:
    op.execute("DELETE FROM role_grants WHERE role IN ('security_admin', 'auditor')")
    _known_roles(OLD)
