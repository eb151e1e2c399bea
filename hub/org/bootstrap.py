"""Issuing the first administrators from the console, outside any actor's permission.

Accounts are issued, never self-registered: the console issues the three
global duties (三员分立) — system admin, security admin, auditor — and from
then on the security admin grants roles and the system admin issues accounts.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from hub.audit import record_audit
from hub.passwords import apply_new_password, check_password_policy
from hub.errors import Conflict, InvalidInput
from hub.extensions import db
from hub.org.models import ROLE_LABELS, Role, RoleGrant, User
from hub.permissions import GLOBAL_DUTIES, duty_conflict
from hub.validation import clean_login, clean_text


def create_admin(login: str, password: str, *, name: str | None = None,
                 role: str = Role.ADMIN) -> tuple[User, bool]:
    """Create a holder of one global duty (`admin`, `security_admin` or
    `auditor`), or reset the password of an existing account and make sure it
    holds that duty. Refused (409) when the account holds a duty of another
    kind. Audited with no actor (the console)."""
    if role not in GLOBAL_DUTIES:
        raise InvalidInput(_("角色须为 admin、security_admin 或 auditor"), field="role")
    login = clean_login(login)
    name = clean_text(name or ROLE_LABELS[Role(role)], "name", _("姓名"), max_length=64)
    check_password_policy(password)
    user = db.session.scalar(select(User).where(User.login == login))
    created = user is None
    if created:
        user = User(login=login, name=name)
        db.session.add(user)
    elif not user.has_role(role):
        conflict = duty_conflict(role, {g.role for g in user.roles})
        if conflict:
            raise Conflict(conflict, field="role")
    user.active = True
    apply_new_password(user, password, must_change=False)
    if not user.has_role(role):
        user.roles.append(RoleGrant(role=role))
    db.session.flush()
    record_audit(None, "person.created" if created else "auth.password_reset", user,
                 actor_login="(console)", after={"role": str(role)})
    db.session.commit()
    return user, created
