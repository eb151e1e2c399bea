"""Who may do what, in one place. Access helpers fetch with permission.

Objects outside the caller's reach answer 404 (not 403) so that ids reveal
nothing; a caller without any admin role at all gets 403 for admin actions.
"""
from __future__ import annotations

from sqlalchemy import select

from hub.errors import NotAllowed, NotFound
from hub.extensions import db
from hub.org.models import Role, Unit, User


def admin_scope(user: User) -> list[str] | None:
    """Paths of the subtrees `user` administers; None means everywhere (admin)."""
    if user.is_admin:
        return None
    return [grant.unit.path for grant in user.roles
            if grant.role == Role.UNIT_ADMIN and grant.unit is not None and grant.unit.active]


def is_any_admin(user: User) -> bool:
    scope = admin_scope(user)
    return scope is None or bool(scope)


def require_any_admin(user: User) -> None:
    if not is_any_admin(user):
        raise NotAllowed("需要管理员权限")


def require_auditor(user: User) -> None:
    """The audit log is read by the auditor (安全审计员) and nobody else."""
    if not user.is_auditor:
        raise NotAllowed("只有安全审计员可以查看审计日志")


def can_admin_unit(user: User, unit: Unit) -> bool:
    """True for a system admin, or a unit admin whose subtree holds `unit`."""
    scope = admin_scope(user)
    return scope is None or any(unit.path.startswith(path) for path in scope)


def can_admin_person(user: User, person: User) -> bool:
    """True if `user` administers a unit `person` belongs to. People without
    any unit can only be managed by system admins."""
    scope = admin_scope(user)
    if scope is None:
        return True
    return any(unit_path.startswith(path) for unit_path in
               (m.unit.path for m in person.memberships) for path in scope)


def access_unit(user: User, unit_id: int) -> Unit:
    """Any signed-in person may read the org tree (it is the directory)."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("单位不存在")
    return unit


def access_unit_for_admin(user: User, unit_id: int) -> Unit:
    require_any_admin(user)
    unit = db.session.get(Unit, unit_id)
    if unit is None or not can_admin_unit(user, unit):
        raise NotFound("单位不存在或不在您的管理范围内")
    return unit


def access_person(user: User, person_id: int) -> User:
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFound("人员不存在")
    return person


def access_person_for_admin(user: User, person_id: int) -> User:
    require_any_admin(user)
    person = db.session.get(User, person_id)
    if person is None or not can_admin_person(user, person):
        raise NotFound("人员不存在或不在您的管理范围内")
    return person


def can_grant(user: User, role: str, unit: Unit | None) -> bool:
    """Only a system admin grants `admin`; a unit admin grants the unit roles
    inside their own subtree."""
    if role == Role.ADMIN:
        return user.is_admin
    return unit is not None and can_admin_unit(user, unit)


def units_by_ids(ids: list[int]) -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids))))
