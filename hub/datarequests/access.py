"""Who may do what with data requests and held values (docs/DATA.md "Who sees what").

- Composing: leaders and clerks for their (primary) unit, to its reach (a
  department asks for the unit above it), and the system admin — as notices.
- The requesting side of a request: its author and the requesting unit's clerks
  and leaders. They follow it up (status, export, reminders, closing) and read
  the values of its fields for its units.
- A held value: its own unit's clerks and leaders, and the clerks and leaders
  of every unit above it.
- Answering a unit's form: the unit's clerks, or its leaders if it has no clerk.

A request outside the caller's reach answers 404; one they see but may not act
on, 403.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from hub.datarequests.audience import audience_of, parts, reaches, touches_subtree
from hub.datarequests.models import DataField, DataRequest
from hub.errors import NotAllowed, not_found
from hub.extensions import db
from hub.notices.actions import publishing_unit, reach_root
from hub.org.models import Role, RoleGrant, Unit, User
from hub.validation import is_id


def role_units(user: User) -> list[Unit]:
    """The active units where `user` is a clerk or a leader."""
    return [g.unit for g in user.roles if g.role in (Role.CLERK, Role.LEADER)
            and g.unit is not None and g.unit.active]


def reading_paths(user: User) -> list[str]:
    """Subtrees whose held values `user` reads: where they are clerk or leader."""
    return sorted({unit.path for unit in role_units(user)})


def can_read_unit(user: User, unit: Unit) -> bool:
    """A held value of `unit`: its own clerks and leaders, and those of the units above it."""
    return any(unit.path.startswith(path) for path in reading_paths(user))


def is_own_unit(user: User, unit_id: int) -> bool:
    """Whether `unit_id` is one of the units the person is clerk or leader of
    (reading any other unit's values is audited)."""
    return any(unit.id == unit_id for unit in role_units(user))


def units_with_clerks(unit_ids: list[int]) -> set[int]:
    if not unit_ids:
        return set()
    return set(db.session.scalars(select(RoleGrant.unit_id).where(
        RoleGrant.role == Role.CLERK, RoleGrant.unit_id.in_(unit_ids))))


def answering_units(user: User) -> list[Unit]:
    """The units whose forms `user` answers: where they are clerk, and where they
    are leader of a unit that has no clerk."""
    clerk = [g.unit for g in user.roles if g.role == Role.CLERK and g.unit is not None and g.unit.active]
    leading = [g.unit for g in user.roles if g.role == Role.LEADER and g.unit is not None and g.unit.active]
    with_clerks = units_with_clerks([u.id for u in leading])
    units = {u.id: u for u in clerk}
    units.update({u.id: u for u in leading if u.id not in with_clerks})
    return sorted(units.values(), key=lambda u: u.path)


def answerers(unit_ids: list[int]) -> set[int]:
    """The people who answer the forms of these units: their clerks, and the
    leaders of those that have no clerk (a few thousand ids at a time)."""
    found: set[int] = set()
    for start in range(0, len(unit_ids), 5000):
        rows = db.session.execute(select(RoleGrant.user_id, RoleGrant.unit_id, RoleGrant.role).where(
            RoleGrant.role.in_((Role.CLERK, Role.LEADER)),
            RoleGrant.unit_id.in_(unit_ids[start:start + 5000])))
        rows = rows.all()
        with_clerks = {unit_id for _user, unit_id, role in rows if role == Role.CLERK}
        found |= {user_id for user_id, unit_id, role in rows
                  if role == Role.CLERK or unit_id not in with_clerks}
    return found


def can_answer(user: User, unit: Unit) -> bool:
    return any(u.id == unit.id for u in answering_units(user))


def is_requesting_side(user: User, request: DataRequest) -> bool:
    return request.author_id == user.id or any(
        g.role in (Role.CLERK, Role.LEADER) and g.unit_id == request.unit_id for g in user.roles)


def access_request(user: User, request_id: int) -> DataRequest:
    """A request the person may open: the requesting side, or a clerk or leader
    of a unit it asks or of a unit above one. 404 otherwise."""
    request = db.session.get(DataRequest, request_id) if is_id(request_id) else None
    if request is None:
        raise not_found("data_request")
    if is_requesting_side(user, request):
        return request
    audience = parts(audience_of(request.audience))
    if any(touches_subtree(audience, path) for path in reading_paths(user)):
        return request
    raise not_found("data_request")


def audience_reaches(request: DataRequest, unit: Unit) -> bool:
    """Whether the request asks `unit`."""
    return unit.active and reaches(parts(audience_of(request.audience)), unit.path)


def access_request_unit(user: User, request: DataRequest, unit_id: int) -> Unit:
    """A unit the request asks, whose form the person may read (requesting side,
    or its own and its ancestors' clerks and leaders). 404 otherwise."""
    unit = db.session.get(Unit, unit_id) if is_id(unit_id) else None
    if unit is None or not audience_reaches(request, unit):
        raise not_found("unit")
    if not (is_requesting_side(user, request) or can_read_unit(user, unit)):
        raise not_found("unit")
    return unit


def require_requesting_side(user: User, request: DataRequest) -> None:
    if not is_requesting_side(user, request):
        raise NotAllowed(_("只有发起单位的文书、领导和发起人可以进行该操作"))


def require_can_answer(user: User, unit: Unit) -> None:
    if not can_answer(user, unit):
        raise NotAllowed(_("只有本单位的文书（没有文书的单位由领导）可以填报"))


def composing_unit(user: User) -> Unit:
    """The unit a person asks for (their primary unit): leaders, clerks, the system admin. 403 otherwise."""
    unit = publishing_unit(user)
    if unit is None:
        raise NotAllowed(_("您没有所属单位，不能发起填报"))
    if not user.is_admin and not (user.has_role(Role.LEADER, unit.id) or user.has_role(Role.CLERK, unit.id)):
        raise NotAllowed(_("只有本单位的领导或文书可以发起填报或新增数据项"))
    return unit


def composing_root(user: User, unit: Unit) -> Unit | None:
    """The subtree a request of `user` may ask; None: anywhere (the system admin)."""
    return None if user.is_admin else reach_root(unit)


def access_field(field_id: int) -> DataField:
    """The catalogue is open to everyone signed in."""
    field = db.session.get(DataField, field_id) if is_id(field_id) else None
    if field is None:
        raise not_found("data_field")
    return field
