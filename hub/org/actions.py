"""Actions on the org tree: create, rename, move a subtree, merge, retire.

Every write to units goes through here. Each public action checks the actor's
scope, writes, records the audit entry and commits once.
"""
from __future__ import annotations

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.orm import selectinload

from hub.audit import record_audit
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.extensions import db
from hub.org.models import UNIT_CODE_MAX, UNIT_NAME_MAX, Membership, RoleGrant, Unit, UnitKind, User
from hub.org.queries import people_under, subtree_clause
from hub.realtime import resync_rooms_on_commit
from hub.permissions import can_admin_person, can_admin_unit, require_any_admin
from hub.validation import clean_code, clean_int, clean_text

signals = Namespace()
# Sent inside the transaction, before commit, so other domains (channels) can
# follow a merge or a move in the same unit of work: (sender=source, target=...).
units_merged = signals.signal("units-merged")
unit_moved = signals.signal("unit-moved")
# Sent before commit whenever units were added (one by one, by import, by the demo).
units_created = signals.signal("units-created")


def unit_snapshot(unit: Unit) -> dict:
    """A unit for the audit log: the parent by id and, for the reader, by its
    name at the time (names change and units merge; the id stays)."""
    return {"code": unit.code, "name": unit.name, "kind": unit.kind,
            "parent_id": unit.parent_id, "parent": unit.parent.name if unit.parent else None,
            "sort_order": unit.sort_order, "active": unit.active}


def kind_is_system_admins() -> str:
    """The refusal of a kind change by a unit admin (also an import row's error)."""
    return _("只有系统管理员可以修改单位类型")


def clean_kind(kind: str | None) -> str:
    if kind in (None, ""):
        return UnitKind.OTHER
    if kind not in UnitKind.__members__.values():
        allowed = ", ".join(k.value for k in UnitKind)
        raise InvalidInput(_("单位类型无效，可选：%(choices)s", choices=allowed), field="kind")
    return kind


def _require_admin_of(actor: User, unit: Unit | None) -> None:
    require_any_admin(actor)
    if unit is None:
        if not actor.is_admin:
            raise NotAllowed(_("只有系统管理员可以新建顶级单位"))
    elif not can_admin_unit(actor, unit):
        raise NotAllowed(_("该单位不在您的管理范围内"))


def _place(unit: Unit, parent: Unit | None) -> None:
    """Set path and depth of a freshly flushed unit under `parent`."""
    unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    unit.depth = parent.depth + 1 if parent else 0


def create_unit(actor: User, *, code: str, name: str, parent: Unit | None,
                kind: str | None = None, sort_order: int | None = None) -> Unit:
    """新建单位 under `parent` (None: a root, system admins only)."""
    _require_admin_of(actor, parent)
    code = clean_code(code, max_length=UNIT_CODE_MAX)
    name = clean_text(name, "name", _("单位名称"), max_length=UNIT_NAME_MAX)
    kind = clean_kind(kind)
    if parent is not None and not parent.active:
        raise Conflict(_("上级单位已撤销"), field="parent_id")
    if db.session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise Conflict(_("单位编码 %(code)s 已存在", code=code), field="code")
    if sort_order is None:
        sort_order = (db.session.scalar(select(func.max(Unit.sort_order)).where(
            Unit.parent_id == (parent.id if parent else None))) or 0) + 1
    unit = Unit(code=code, name=name, kind=kind, parent=parent, sort_order=sort_order)
    db.session.add(unit)
    db.session.flush()
    _place(unit, parent)
    units_created.send(None)
    record_audit(actor, "unit.created", unit, after=unit_snapshot(unit))
    db.session.commit()
    return unit


def update_unit(actor: User, unit: Unit, *, name: str | None = None, kind: str | None = None,
                sort_order: int | None = None) -> Unit:
    """改名 / change kind or sort order. Moving is move_unit(). Only the system
    admin changes a kind: a department publishes for the unit above it, so a
    unit admin making their own unit a department would reach beyond their subtree."""
    _require_admin_of(actor, unit)
    before = unit_snapshot(unit)
    if name is not None:
        unit.name = clean_text(name, "name", _("单位名称"), max_length=UNIT_NAME_MAX)
    if kind is not None:
        kind = clean_kind(kind)
        if kind != unit.kind and not actor.is_admin:
            raise NotAllowed(kind_is_system_admins(), field="kind")
        unit.kind = kind
    if sort_order is not None:
        unit.sort_order = clean_int(sort_order, "sort_order", _("排序"))
    after = unit_snapshot(unit)
    if after != before:
        action = "unit.renamed" if before["name"] != after["name"] else "unit.updated"
        record_audit(actor, action, unit, before=before, after=after)
    db.session.commit()
    return unit


def _reparent(unit: Unit, new_parent: Unit) -> None:
    """Move `unit` and its subtree under `new_parent` with one UPDATE."""
    old_path = unit.path
    new_path = new_parent.path + f"{unit.id}/"
    depth_delta = new_parent.depth + 1 - unit.depth
    unit.parent_id = new_parent.id
    db.session.flush()
    db.session.execute(
        update(Unit).where(subtree_clause(old_path))
        .values(path=literal(new_path) + func.substr(Unit.path, len(old_path) + 1),
                depth=Unit.depth + depth_delta)
        .execution_options(synchronize_session=False))
    db.session.expire_all()


def move_unit(actor: User, unit: Unit, new_parent: Unit) -> Unit:
    """移动单位: the whole subtree follows. Refused (409) under its own subtree.

    The actor must administer both the unit and its new parent.
    """
    _require_admin_of(actor, unit)
    _require_admin_of(actor, new_parent)
    if new_parent.path.startswith(unit.path):
        raise Conflict(_("不能把单位移动到它自己或它的下级单位之下"), field="parent_id")
    if not new_parent.active:
        raise Conflict(_("目标上级单位已撤销"), field="parent_id")
    if unit.parent_id == new_parent.id:
        return unit
    before = unit_snapshot(unit)
    old_parent_id = unit.parent_id
    _reparent(unit, new_parent)
    unit_moved.send(unit, old_parent_id=old_parent_id, new_parent_id=new_parent.id)
    # Everyone below now sits under other ancestors: their live sockets move rooms.
    resync_rooms_on_commit(db.session.scalars(people_under(unit).with_only_columns(User.id)))
    record_audit(actor, "unit.moved", unit, before=before, after=unit_snapshot(unit))
    db.session.commit()
    return unit


def merge_units(actor: User, source: Unit, target: Unit) -> Unit:
    """合并单位: `source`'s people and sub-units move to `target`, then `source`
    is retired with a pointer to `target`. Roles held in `source` end (and are
    listed in the audit entry). Channels follow through the units_merged signal.
    Refused (409, naming them) while someone whose account `actor` may not
    manage belongs to `source`: a merge moves memberships, as no page may do
    for them (docs/SECURITY.md "Merging units")."""
    _require_admin_of(actor, source)
    _require_admin_of(actor, target)
    if source.id == target.id or target.path.startswith(source.path):
        raise Conflict(_("不能把单位合并到它自己或它的下级单位"), field="target_id")
    if not source.active or not target.active:
        raise Conflict(_("已撤销的单位不能合并"), field="target_id")
    _require_manageable_members(actor, source)
    before = {"source": unit_snapshot(source), "target": unit_snapshot(target)}
    moved_people = _move_memberships(source, target)
    # Roles held *in* the source end with it rather than widen silently to the
    # target (a unit admin of a small unit must not become admin of a larger one).
    dropped_roles = [{"user_id": g.user_id, "role": g.role} for g in db.session.scalars(
        select(RoleGrant).where(RoleGrant.unit_id == source.id))]
    db.session.execute(delete(RoleGrant).where(RoleGrant.unit_id == source.id))
    child_ids = list(db.session.scalars(select(Unit.id).where(Unit.parent_id == source.id)))
    for child_id in child_ids:
        _reparent(db.session.get(Unit, child_id), db.session.get(Unit, target.id))
    source = db.session.get(Unit, source.id)
    target = db.session.get(Unit, target.id)
    source.active = False
    source.retired_at = utcnow()
    source.merged_into_id = target.id
    units_merged.send(source, target=target)
    resync_rooms_on_commit(db.session.scalars(people_under(target).with_only_columns(User.id)))
    record_audit(actor, "unit.merged", source, before=before,
                 after={"merged_into": target.id, "target_name": target.name,
                        "people_moved": moved_people, "children_moved": len(child_ids),
                        "roles_dropped": dropped_roles})
    db.session.commit()
    return target


MERGE_NAMES_SHOWN = 10


def _require_manageable_members(actor: User, source: Unit) -> None:
    """409 naming the people of `source` whose accounts `actor` may not manage
    (hub.permissions.can_admin_person): the security admin and the auditor
    (the console's), a system admin (for a unit admin), and, for a unit admin,
    whoever also belongs to a unit outside their subtree."""
    members = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == source.id).order_by(User.id)
        .options(selectinload(User.memberships).selectinload(Membership.unit),
                 selectinload(User.roles)))
    kept_out = [person for person in members if not can_admin_person(actor, person)]
    if not kept_out:
        return
    names = "、".join(f"{p.name}（{p.login}）" for p in kept_out[:MERGE_NAMES_SHOWN])
    if len(kept_out) > MERGE_NAMES_SHOWN:
        names = _("%(names)s等 %(count)s 人", names=names, count=len(kept_out))
    raise Conflict(_("不能合并：%(people)s在该单位任职，但其账号不在您的管理范围内（三员的账号，"
                     "或在您的管理范围外另有任职），合并会改动其任职。请先由能管理其账号的管理员"
                     "调整其任职，再合并", people=names), field="target_id")


def _move_memberships(source: Unit, target: Unit) -> int:
    moved = 0
    for membership in list(db.session.scalars(
            select(Membership).where(Membership.unit_id == source.id))):
        existing = db.session.scalar(select(Membership).where(
            Membership.user_id == membership.user_id, Membership.unit_id == target.id))
        if existing is not None:
            existing.is_primary = existing.is_primary or membership.is_primary
            db.session.delete(membership)
        else:
            membership.unit_id = target.id
        moved += 1
    db.session.flush()
    return moved


def retire_unit(actor: User, unit: Unit) -> Unit:
    """撤销单位. Refused while it still has active sub-units or members: move or
    merge them first, so nobody is left without a unit by accident."""
    _require_admin_of(actor, unit)
    if not unit.active:
        return unit
    if db.session.scalar(select(func.count()).select_from(Unit).where(
            Unit.parent_id == unit.id, Unit.active.is_(True))):
        raise Conflict(_("该单位还有下级单位，请先移动、合并或撤销下级单位"))
    if db.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.unit_id == unit.id)):
        raise Conflict(_("该单位还有人员，请先调整人员或合并到其他单位"))
    before = unit_snapshot(unit)
    unit.active = False
    unit.retired_at = utcnow()
    record_audit(actor, "unit.retired", unit, before=before, after=unit_snapshot(unit))
    db.session.commit()
    return unit
