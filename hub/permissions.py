"""Who may do what, in one place. Access helpers fetch with permission.

Duties are separated (三员分立, docs/SECURITY.md "Roles and duties"):
- the system admin (`admin`, everywhere) and unit admins (`unit_admin`, the
  subtree of their unit) manage the org tree and people — a unit admin only
  people all of whose units lie in that subtree (holds_whole_person), and
  not a unit's kind;
- the security admin (`security_admin`) grants and revokes roles and unlocks
  accounts; a unit admin also grants clerk and leader inside their subtree;
- the auditor (`auditor`) reads the audit log, and nobody else does.

Objects outside the caller's reach answer 404 (not 403) so that ids reveal
nothing; a caller who holds no role at all for an action gets 403.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hub.errors import NotAllowed, not_found
from hub.extensions import db
from hub.org.models import ROLE_LABELS, Role, Unit, User
from hub.validation import is_id

# The three global duties: each held by a different person.
GLOBAL_DUTIES = frozenset({Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
# Which kind of duty a role is: one person holds duties of one kind only, so the
# security admin and the auditor never also manage people (as a unit admin).
DUTY_KINDS = {Role.ADMIN: "system", Role.UNIT_ADMIN: "system",
              Role.SECURITY_ADMIN: "security", Role.AUDITOR: "audit"}
# The working roles a unit admin may grant inside their subtree.
DELEGATED_ROLES = frozenset({Role.CLERK, Role.LEADER})
# Accounts only the console manages (password, state, units): the people who
# check on the administrators must not be at an administrator's mercy.
CONSOLE_MANAGED = frozenset({Role.SECURITY_ADMIN, Role.AUDITOR})


def _covers(paths: list[str], unit: Any) -> bool:
    return any(unit.path.startswith(path) for path in paths)


def holds_whole_person(scope: list[str] | None, person: User) -> bool:
    """Whether every membership of `person` lies in `scope` (None: everywhere).
    A person of no unit is only in the everywhere scope. A unit admin acts on a
    person — account, memberships, roles — only then: a county cadre with a
    secondary post in a village (包村干部) is not at that village's admin's mercy."""
    if scope is None:
        return True
    return bool(person.memberships) and all(_covers(scope, m.unit) for m in person.memberships)


# ---- Managing the org tree and people (system admin, unit admins) ---------------------------

def admin_scope(user: User) -> list[str] | None:
    """Paths of the subtrees `user` administers; None means everywhere (admin)."""
    if user.is_admin:
        return None
    return unit_admin_paths(user)


def unit_admin_paths(user: User) -> list[str]:
    """Paths of the active units `user` holds a unit_admin grant in."""
    return [grant.unit.path for grant in user.roles
            if grant.role == Role.UNIT_ADMIN and grant.unit is not None and grant.unit.active]


def is_any_admin(user: User) -> bool:
    """True for whoever manages part of the org tree and its people."""
    scope = admin_scope(user)
    return scope is None or bool(scope)


def require_any_admin(user: User) -> None:
    if not is_any_admin(user):
        raise NotAllowed(_("需要管理员权限"))


def can_admin_unit(user: User, unit: Unit) -> bool:
    """True for a system admin, or a unit admin whose subtree holds `unit`."""
    scope = admin_scope(user)
    return scope is None or _covers(scope, unit)


def account_manageable(user: User, roles_held: set[str] | frozenset[str]) -> bool:
    """Whether `user` may manage the account of someone holding `roles_held`:
    never the security admin's or the auditor's (the console issues and resets
    those), and a system admin's only as a system admin."""
    if roles_held & CONSOLE_MANAGED:
        return False
    return Role.ADMIN not in roles_held or user.is_admin


def can_admin_person(user: User, person: User) -> bool:
    """True if `user` administers every unit `person` belongs to (system admins:
    everyone), and the account is not one only the console manages."""
    if not account_manageable(user, {g.role for g in person.roles}):
        return False
    return holds_whole_person(admin_scope(user), person)


# ---- Granting roles and unlocking (security admin; unit admins for clerk and leader) -------

def roles_scope(user: User) -> list[str] | None:
    """Where `user` grants roles: None everywhere (security admin), else the
    subtrees of their unit_admin grants (empty: nowhere)."""
    return None if user.is_security_admin else unit_admin_paths(user)


def can_manage_roles(user: User) -> bool:
    return user.is_security_admin or bool(unit_admin_paths(user))


def can_grant(user: User, role: str, unit: Any | None) -> bool:
    """三员分立: the security admin grants and revokes every role; a unit admin
    the working roles (clerk, leader) in units of their subtree; nobody else —
    the system admin manages people, not their rights. `unit` is anything with
    a `path` (a Unit, or a row read with Core)."""
    if user.is_security_admin:
        return True
    return role in DELEGATED_ROLES and unit is not None and _covers(unit_admin_paths(user), unit)


def grantable_roles(user: User) -> list[Role]:
    """The roles `user` may grant somewhere (can_grant): all but the console's
    for the security admin, the working roles for a unit admin, none for others
    (the system admin included, 三员分立)."""
    if user.is_security_admin:
        return [role for role in Role if role not in CONSOLE_MANAGED]
    if unit_admin_paths(user):
        return [role for role in Role if role in DELEGATED_ROLES]
    return []


def duty_conflict(role: str, roles_held: set[str] | frozenset[str]) -> str | None:
    """Why a person holding `roles_held` may not also hold `role` (三员分立), or None."""
    kind = DUTY_KINDS.get(role)
    if kind is None:
        return None
    other = next((held for held in sorted(roles_held)
                  if held in DUTY_KINDS and DUTY_KINDS[held] != kind), None)
    if other is None:
        return None
    return _("三员分立：该人员已担任%(held)s，不能同时担任%(role)s",
             held=_(ROLE_LABELS[Role(other)]), role=_(ROLE_LABELS[Role(role)]))


def in_roles_scope(user: User, person: User) -> bool:
    """The security admin grants to everyone; a unit admin only to people all
    of whose units lie in their subtree (as for managing the account)."""
    return holds_whole_person(roles_scope(user), person)


def require_security_admin(user: User) -> None:
    if not user.is_security_admin:
        raise NotAllowed(_("只有安全管理员可以进行该操作"))


def require_auditor(user: User) -> None:
    """The audit log is read by the auditor (安全审计员) and nobody else."""
    if not user.is_auditor:
        raise NotAllowed(_("只有安全审计员可以查看审计日志"))


def can_view_account(user: User, person: User) -> bool:
    """Login, roles and account state: the person themself, their admins and
    whoever grants their roles."""
    return person.id == user.id or can_admin_person(user, person) or (
        can_manage_roles(user) and in_roles_scope(user, person))


# ---- Access helpers ---------------------------------------------------------------------------

def _unit(unit_id: int) -> Unit | None:
    return db.session.get(Unit, unit_id) if is_id(unit_id) else None


def _person(person_id: int) -> User | None:
    return db.session.get(User, person_id) if is_id(person_id) else None


def access_unit(user: User, unit_id: int) -> Unit:
    """Any signed-in person may read the org tree (it is the directory)."""
    unit = _unit(unit_id)
    if unit is None:
        raise not_found("unit")
    return unit


def access_unit_for_admin(user: User, unit_id: int) -> Unit:
    """A unit `user` manages (403 without any admin role, 404 outside the scope)."""
    require_any_admin(user)
    unit = _unit(unit_id)
    if unit is None or not can_admin_unit(user, unit):
        raise not_found("unit")
    return unit


def access_unit_for_roles(user: User, unit_id: int) -> Unit:
    """A unit `user` may grant roles in (403 for whoever grants none, 404 outside)."""
    if not can_manage_roles(user):
        raise NotAllowed(_("需要安全管理员或单位管理员权限"))
    unit = _unit(unit_id)
    scope = roles_scope(user)
    if unit is None or (scope is not None and not _covers(scope, unit)):
        raise not_found("unit")
    return unit


def access_person(user: User, person_id: int) -> User:
    """Anyone in the directory (names and positions are for every signed-in person)."""
    person = _person(person_id)
    if person is None:
        raise not_found("person")
    return person


def access_person_for_admin(user: User, person_id: int) -> User:
    """A person whose account `user` manages (403 without any admin role, 404 otherwise)."""
    require_any_admin(user)
    person = _person(person_id)
    if person is None or not can_admin_person(user, person):
        raise not_found("person")
    return person


def access_person_for_roles(user: User, person_id: int) -> User:
    """A person whose roles `user` grants or revokes, or whose account the
    security admin unlocks (403 for whoever grants no roles, 404 outside)."""
    if not can_manage_roles(user):
        raise NotAllowed(_("需要安全管理员或单位管理员权限"))
    person = _person(person_id)
    if person is None or not in_roles_scope(user, person):
        raise not_found("person")
    return person


def access_person_page(user: User, person_id: int) -> User:
    """The admin page of a person: for whoever manages their account or their
    roles (403 for someone with neither duty, 404 outside both reaches)."""
    if not (is_any_admin(user) or can_manage_roles(user)):
        raise NotAllowed(_("需要管理员权限"))
    person = _person(person_id)
    if person is None or not (can_admin_person(user, person)
                              or (can_manage_roles(user) and in_roles_scope(user, person))):
        raise not_found("person")
    return person


def units_by_ids(ids: list[int]) -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids))))
