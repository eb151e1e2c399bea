"""Actions on roles and account locks: the security admin's duties (三员分立).

The security admin grants and revokes every role; a unit admin grants and
revokes clerk and leader inside their subtree; the system admin manages people
but grants nothing (hub.permissions.can_grant). Nobody changes their own
roles, and one person never holds duties of two kinds (admin or unit_admin,
security_admin, auditor). Each action is audited and commits once.
"""
from __future__ import annotations

from flask_babel import gettext as _

from hub.audit import record_audit
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.extensions import db
from hub.org.models import Role, RoleGrant, Unit, User
from hub.permissions import (GLOBAL_DUTIES, can_grant, can_manage_roles, duty_conflict,
                             in_roles_scope, require_security_admin)

# Roles held in one unit, which must name it.
UNIT_ROLES = frozenset({Role.UNIT_ADMIN, Role.CLERK, Role.LEADER})


def role_snapshot(person: User) -> dict:
    return {"login": person.login,
            "roles": [{"role": g.role, "unit_id": g.unit_id} for g in person.roles]}


def _require_not_self(actor: User, person: User) -> None:
    if actor is not None and actor.id == person.id:
        raise NotAllowed(_("不能给自己授予或撤销角色，请由安全管理员办理"))


def _require_whole_person(actor: User, person: User) -> None:
    """A unit admin changes the roles only of people all of whose units lie in
    their subtree (hub.permissions.in_roles_scope)."""
    if not in_roles_scope(actor, person):
        raise NotAllowed(_("该人员不在您的管理范围内"))


def add_grant(actor: User | None, person: User, role: str, unit: Unit | None) -> RoleGrant | None:
    """Add `role` (at `unit`) to `person` unless held; the caller audits and
    commits. `actor` None is the console, which may grant anything. Refuses an
    unknown role, a missing unit, a role outside the actor's reach, a grant to
    oneself and a second kind of duty (409)."""
    if role not in Role.__members__.values():
        raise InvalidInput(_("未知角色：%(role)s", role=role), field="role")
    if role == Role.MEMBER:
        return None                 # everyone is a member of their units
    if role in GLOBAL_DUTIES:
        unit = None
    elif unit is None:
        raise InvalidInput(_("请选择该角色所在的单位"), field="unit_id")
    if actor is not None:
        if not can_grant(actor, role, unit):
            raise NotAllowed(_("您不能授予该角色"))
        _require_not_self(actor, person)
        _require_whole_person(actor, person)
    if role in (Role.CLERK, Role.LEADER) and not any(m.unit_id == unit.id
                                                     for m in person.memberships):
        raise InvalidInput(_("文书、领导角色只能授予本单位的人员"), field="unit_id")
    unit_id = unit.id if unit else None
    for grant in person.roles:
        if grant.role == role and grant.unit_id == unit_id:
            return grant
    conflict = duty_conflict(role, {g.role for g in person.roles})
    if conflict:
        raise Conflict(conflict, field="role")
    grant = RoleGrant(role=role, unit=unit)
    person.roles.append(grant)
    return grant


def grant_role(actor: User, person: User, role: str, unit: Unit | None) -> RoleGrant | None:
    """授予角色 (see the module docstring for who may grant what). Idempotent."""
    if not can_manage_roles(actor):
        raise NotAllowed(_("只有安全管理员或单位管理员可以授予角色"))
    before = role_snapshot(person)
    grant = add_grant(actor, person, role, unit)
    db.session.flush()
    if role_snapshot(person) != before:
        record_audit(actor, "role.granted", person, before=before, after=role_snapshot(person))
    db.session.commit()
    return grant


def revoke_role(actor: User, grant: RoleGrant) -> None:
    """撤销角色: the same people as grant_role, and never one's own."""
    if not can_grant(actor, grant.role, grant.unit):
        raise NotAllowed(_("您不能撤销该角色"))
    person = grant.user
    _require_not_self(actor, person)
    _require_whole_person(actor, person)
    before = role_snapshot(person)
    person.roles.remove(grant)
    db.session.flush()
    record_audit(actor, "role.revoked", person, before=before, after=role_snapshot(person))
    db.session.commit()


def is_locked(person: User) -> bool:
    return person.locked_until is not None and person.locked_until > utcnow()


def unlock_account(actor: User, person: User) -> bool:
    """解除锁定 (security admin): the lock after repeated failed sign-ins ends
    and the failure count starts again. The password is untouched. Returns
    whether the account was locked; audited only then."""
    require_security_admin(actor)
    was_locked = is_locked(person)
    before = {"locked_until": person.locked_until.isoformat() if was_locked else None,
              "failed_logins": person.failed_logins or 0}
    person.locked_until = None
    person.failed_logins = 0
    person.first_failed_at = None
    if was_locked:
        record_audit(actor, "auth.unlocked", person, before=before, after={"locked_until": None})
    db.session.commit()
    return was_locked
