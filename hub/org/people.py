"""Actions on people: accounts, memberships (with positions), passwords.

Roles are granted in hub.org.roles (the security admin's duty, 三员分立).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from hub.audit import record_audit
from hub.passwords import apply_new_password, check_password_policy, hash_password
from hub.errors import Conflict, NotAllowed
from hub.extensions import db
from hub.org.models import Membership, Role, Unit, User
from hub.org.roles import add_grant
from hub.realtime import resync_rooms_on_commit
from hub.permissions import can_admin_person, can_admin_unit, require_any_admin
from hub.validation import clean_login, clean_text

NAME_MAX = 64
POSITION_MAX = 64


def person_snapshot(person: User) -> dict:
    return {
        "login": person.login, "name": person.name, "active": person.active,
        "memberships": [{"unit_id": m.unit_id, "position": m.position, "primary": m.is_primary}
                        for m in person.memberships],
        "roles": [{"role": g.role, "unit_id": g.unit_id} for g in person.roles],
    }


def _require_admin_of_person(actor: User, person: User) -> None:
    require_any_admin(actor)
    if not can_admin_person(actor, person):
        raise NotAllowed(_("该人员不在您的管理范围内"))


def _require_admin_of_unit(actor: User, unit: Unit) -> None:
    require_any_admin(actor)
    if not can_admin_unit(actor, unit):
        raise NotAllowed(_("该单位不在您的管理范围内"), field="unit_id")


def create_person(actor: User, *, login: str, name: str, unit: Unit, position: str = "",
                  password: str | None = None, roles: tuple[str, ...] = ()) -> User:
    """新建人员 in `unit` (their primary unit). Without a password the account
    cannot sign in until an admin sets one; a set password must be changed at
    first sign-in."""
    _require_admin_of_unit(actor, unit)
    login = clean_login(login)
    name = clean_text(name, "name", _("姓名"), max_length=NAME_MAX)
    position = clean_text(position, "position", _("职务"), max_length=POSITION_MAX, required=False)
    if not unit.active:
        raise Conflict(_("该单位已撤销"), field="unit_id")
    if db.session.scalar(select(User.id).where(User.login == login)) is not None:
        raise Conflict(_("账号 %(login)s 已存在", login=login), field="login")
    person = User(login=login, name=name)
    if password:
        check_password_policy(password)
        person.password_hash = hash_password(password)
        person.must_change_password = True
    person.memberships.append(Membership(unit=unit, position=position, is_primary=True))
    db.session.add(person)
    db.session.flush()
    for role in roles:
        add_grant(actor, person, role, unit)
    record_audit(actor, "person.created", person, after=person_snapshot(person))
    db.session.commit()
    return person


def update_person(actor: User, person: User, *, name: str | None = None,
                  active: bool | None = None) -> User:
    """修改人员: the name, or disable / enable the account (disabling ends its sessions)."""
    _require_admin_of_person(actor, person)
    before = person_snapshot(person)
    if name is not None:
        person.name = clean_text(name, "name", _("姓名"), max_length=NAME_MAX)
    action = "person.updated"
    if active is not None and active != person.active:
        if person.id == actor.id and not active:
            raise Conflict(_("不能停用自己的账号"), field="active")
        person.active = active
        person.end_sessions()
        resync_rooms_on_commit([person.id])
        action = "person.enabled" if active else "person.disabled"
    if person_snapshot(person) != before:
        record_audit(actor, action, person, before=before, after=person_snapshot(person))
    db.session.commit()
    return person


def add_membership(actor: User, person: User, unit: Unit, *, position: str = "",
                   primary: bool = False) -> Membership:
    """加入单位: `person` also belongs to `unit` (兼职), or moves there as primary."""
    _require_admin_of_person(actor, person)
    _require_admin_of_unit(actor, unit)
    membership = _add_membership(actor, person, unit, position=position, primary=primary)
    db.session.commit()
    return membership


def _add_membership(actor: User, person: User, unit: Unit, *, position: str,
                    primary: bool) -> Membership:
    """The new membership, audited (not committed; the caller has checked the actor's reach)."""
    position = clean_text(position, "position", _("职务"), max_length=POSITION_MAX, required=False)
    if not unit.active:
        raise Conflict(_("该单位已撤销"), field="unit_id")
    if any(m.unit_id == unit.id for m in person.memberships):
        raise Conflict(_("该人员已在此单位"), field="unit_id")
    before = person_snapshot(person)
    membership = Membership(unit=unit, position=position,
                            is_primary=primary or not person.memberships)
    if membership.is_primary:
        for other in person.memberships:
            other.is_primary = False
    person.memberships.append(membership)
    db.session.flush()
    resync_rooms_on_commit([person.id])
    record_audit(actor, "membership.added", person, before=before, after=person_snapshot(person))
    return membership


def update_membership(actor: User, membership: Membership, *, position: str | None = None,
                      primary: bool | None = None) -> Membership:
    """修改任职: the position held, or make this the primary unit."""
    person = membership.user
    _require_admin_of_person(actor, person)
    _require_admin_of_unit(actor, membership.unit)
    before = person_snapshot(person)
    if position is not None:
        membership.position = clean_text(position, "position", _("职务"),
                                         max_length=POSITION_MAX, required=False)
    if primary:
        for other in person.memberships:
            other.is_primary = other.id == membership.id
    if person_snapshot(person) != before:
        record_audit(actor, "membership.updated", person, before=before,
                     after=person_snapshot(person))
    db.session.commit()
    return membership


def remove_membership(actor: User, membership: Membership) -> None:
    """离开单位. The last membership cannot be removed (move the person instead);
    roles held in that unit end with it."""
    person = membership.user
    _require_admin_of_person(actor, person)
    _require_admin_of_unit(actor, membership.unit)
    if len(person.memberships) == 1:
        raise Conflict(_("这是该人员唯一的单位，请改为调动到其他单位"))
    before = person_snapshot(person)
    for grant in list(person.roles):
        if grant.unit_id == membership.unit_id and grant.role != Role.UNIT_ADMIN:
            person.roles.remove(grant)
    was_primary = membership.is_primary
    person.memberships.remove(membership)
    if was_primary:
        person.memberships[0].is_primary = True
    db.session.flush()
    resync_rooms_on_commit([person.id])
    record_audit(actor, "membership.removed", person, before=before, after=person_snapshot(person))
    db.session.commit()


def transfer_person(actor: User, person: User, unit: Unit, *, position: str = "") -> User:
    """调动: the primary membership moves to `unit`; roles held in the old unit end."""
    _require_admin_of_person(actor, person)
    _require_admin_of_unit(actor, unit)
    if not unit.active:
        raise Conflict(_("该单位已撤销"), field="unit_id")
    current = person.primary_membership
    if current is None:
        _add_membership(actor, person, unit, position=position, primary=True)
        db.session.commit()
        return person
    position = clean_text(position, "position", _("职务"), max_length=POSITION_MAX, required=False)
    before = person_snapshot(person)
    if current.unit_id != unit.id:
        for grant in list(person.roles):
            if grant.unit_id == current.unit_id and grant.role != Role.UNIT_ADMIN:
                person.roles.remove(grant)
        existing = next((m for m in person.memberships if m.unit_id == unit.id), None)
        if existing is not None:
            person.memberships.remove(current)
            existing.is_primary = True
            current = existing
        else:
            current.unit = unit
    current.position = position
    db.session.flush()
    resync_rooms_on_commit([person.id])
    record_audit(actor, "membership.updated", person, before=before, after=person_snapshot(person))
    db.session.commit()
    return person


def reset_password(actor: User, person: User, new_password: str) -> None:
    """重置密码 by an admin: the person must change it at next sign-in; their
    sessions and tokens end."""
    _require_admin_of_person(actor, person)
    check_password_policy(new_password, field="password")
    apply_new_password(person, new_password, must_change=person.id != actor.id)
    record_audit(actor, "auth.password_reset", person)
    db.session.commit()
