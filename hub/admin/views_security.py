"""The security admin's page (安全管理, 三员分立): find a person to grant or
revoke roles, the accounts locked now (with 解除锁定), and who holds the admin
duties. Reads only; the changes are the forms of the person page."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from hub.admin.views import SEARCH_LIMIT, bp, search_term
from hub.db import utcnow
from hub.extensions import db
from hub.org import queries
from hub.org.models import ROLE_LABELS, Role, RoleGrant, User
from hub.permissions import require_security_admin

DUTY_ROLES = (Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR, Role.UNIT_ADMIN)
LIST_MAX = 200


@bp.get("/security")
@login_required
def security():
    """安全管理: people search, locked accounts, holders of the admin duties."""
    require_security_admin(current_user)
    term = search_term()
    locked = list(db.session.scalars(select(User).where(User.locked_until > utcnow())
                                     .order_by(User.locked_until).limit(LIST_MAX)))
    holders = list(db.session.scalars(
        select(RoleGrant).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role.in_([r.value for r in DUTY_ROLES]))
        .order_by(RoleGrant.role, User.name, RoleGrant.id).limit(LIST_MAX)))
    order = {role.value: n for n, role in enumerate(DUTY_ROLES)}
    holders.sort(key=lambda g: order[g.role])
    return render_template(
        "admin/security.html", term=term, locked=locked, holders=holders,
        people=queries.search_people(term, limit=SEARCH_LIMIT) if term else [],
        duty_labels={role.value: _(ROLE_LABELS[role]) for role in DUTY_ROLES})
