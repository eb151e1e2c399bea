"""Actions on channels: unit and announcement channels, task channels (专项工作群)
with approval and archiving, direct channels, merging."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, insert, select, update

from hub.audit import record_audit
from hub.channels import queries
from hub.channels.models import CHANNEL_NAME_MAX, Channel, ChannelKind, ChannelState, ChannelTarget
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.extensions import db
from hub.org.models import Membership, Role, Unit, User
from hub.permissions import can_admin_unit, unit_admin_paths
from hub.realtime import resync_rooms_on_commit
from hub.validation import clean_id_list, clean_text


def ensure_unit_channels() -> int:
    """Give every active unit its channel (one set-based INSERT; idempotent).
    Called after units are created or imported. Returns how many were made."""
    missing = select(Unit.id, Unit.name).where(
        Unit.active.is_(True),
        ~exists().where(and_(Channel.kind == ChannelKind.UNIT, Channel.unit_id == Unit.id)))
    rows = [{"kind": ChannelKind.UNIT, "unit_id": unit_id, "name": name[:CHANNEL_NAME_MAX],
             "state": ChannelState.ACTIVE, "created_at": utcnow()}
            for unit_id, name in db.session.execute(missing)]
    if rows:
        db.session.execute(insert(Channel), rows)
    return len(rows)


def announcement_channel(leader: User, unit: Unit) -> Channel:
    """The unit's announcement channel (whole subtree reads, its leaders post);
    made on first use by one of its leaders."""
    if not leader.has_role(Role.LEADER, unit.id):
        raise NotAllowed(_("只有本单位领导可以开设公告频道"))
    channel = db.session.scalar(select(Channel).where(Channel.kind == ChannelKind.ANNOUNCE,
                                                      Channel.unit_id == unit.id))
    if channel is None:
        channel = Channel(kind=ChannelKind.ANNOUNCE, unit_id=unit.id,
                          name=f"{unit.name}公告"[:CHANNEL_NAME_MAX], owner_id=leader.id)
        db.session.add(channel)
        db.session.flush()
        resync_rooms_on_commit(queries.member_ids(channel))
        record_audit(leader, "channel.created", channel, after={"kind": "announce"})
        db.session.commit()
    return channel


def direct_channel(user: User, other: User) -> Channel:
    """The one direct channel between two people (made on first use)."""
    channel = open_direct_channel(user, other)
    db.session.commit()
    return channel


def open_direct_channel(user: User, other: User) -> Channel:
    """The direct channel between two people, made (flushed, not committed) on
    first use: for actions that go on to write in it and commit once
    (reply_privately). It must be the transaction's first write: a concurrent
    creation of the same pair rolls the transaction back and uses that one."""
    if other.id == user.id:
        raise InvalidInput(_("不能给自己发私信"), field="user_id")
    if not other.active:
        raise InvalidInput(_("该人员已停用"), field="user_id")
    key = f"{min(user.id, other.id)}:{max(user.id, other.id)}"
    channel = db.session.scalar(select(Channel).where(Channel.direct_key == key))
    if channel is not None:
        return channel
    channel = Channel(kind=ChannelKind.DIRECT, direct_key=key, name="私信",
                      targets=[ChannelTarget(user_id=user.id), ChannelTarget(user_id=other.id)])
    db.session.add(channel)
    try:
        db.session.flush()
    except Exception:                 # the same pair created concurrently: use that one
        db.session.rollback()
        return db.session.scalar(select(Channel).where(Channel.direct_key == key))
    resync_rooms_on_commit([user.id, other.id])
    return channel


@dataclass
class TaskDraft:
    """A task channel as requested: purpose, end date and who it reaches."""

    name: str
    purpose: str
    ends_on: date
    unit_ids: list[int] = field(default_factory=list)       # the units' own people
    subtree_ids: list[int] = field(default_factory=list)    # units and everything below
    user_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> TaskDraft:
        if not isinstance(data, dict):
            raise InvalidInput(_("请求体必须是 JSON 对象"), field="body")
        name = clean_text(data.get("name"), "name", _("频道名称"), max_length=CHANNEL_NAME_MAX)
        purpose = clean_text(data.get("purpose"), "purpose", _("工作目的"), max_length=500)
        ends_on = _date(data.get("ends_on"))
        lists = {key: clean_id_list(data.get(key), key, limit=500)
                 for key in ("unit_ids", "subtree_ids", "user_ids")}
        return cls(name=name, purpose=purpose, ends_on=ends_on, **lists)


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise InvalidInput(_("请填写结束日期（YYYY-MM-DD）"), field="ends_on")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("结束日期格式应为 YYYY-MM-DD"), field="ends_on") from None


def create_task_channel(creator: User, draft: TaskDraft) -> Channel:
    """建专项工作群 with a purpose, an owner (the creator) and an end date. One that
    reaches beyond the creator's own units waits for approval by an admin of the
    creator's unit (TASK_CHANNEL_APPROVAL, default on), unless it stays inside
    the creator's own admin scope (a unit admin's subtree; the system admin's
    everywhere)."""
    if draft.ends_on < date.today():
        raise InvalidInput(_("结束日期不能早于今天"), field="ends_on")
    units = {u.id: u for u in db.session.scalars(
        select(Unit).where(Unit.id.in_(draft.unit_ids + draft.subtree_ids), Unit.active.is_(True)))}
    for key, ids in (("unit_ids", draft.unit_ids), ("subtree_ids", draft.subtree_ids)):
        if any(i not in units for i in ids):
            raise InvalidInput(_("所选单位不存在或已撤销"), field=key)
    people = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(draft.user_ids), User.active.is_(True)))}
    if len(people) != len(draft.user_ids):
        raise InvalidInput(_("所选人员不存在或已停用"), field="user_ids")
    targets = ([ChannelTarget(unit_id=i) for i in draft.unit_ids]
               + [ChannelTarget(unit_id=i, subtree=True) for i in draft.subtree_ids]
               + [ChannelTarget(user_id=i) for i in draft.user_ids if i != creator.id]
               + [ChannelTarget(user_id=creator.id)])
    own = {m.unit_id for m in creator.memberships}
    beyond = (draft.subtree_ids or any(i not in own for i in draft.unit_ids)
              or any(not own & {m.unit_id for m in people[i].memberships} for i in draft.user_ids))
    channel = Channel(kind=ChannelKind.TASK, name=draft.name, purpose=draft.purpose,
                      ends_on=draft.ends_on, owner_id=creator.id, targets=targets)
    needs_approval = beyond and current_app.config.get("TASK_CHANNEL_APPROVAL", True) \
        and not _covers_reach(creator, channel)
    channel.state = ChannelState.PENDING if needs_approval else ChannelState.ACTIVE
    db.session.add(channel)
    db.session.flush()
    if channel.state == ChannelState.ACTIVE:
        resync_rooms_on_commit(queries.member_ids(channel))
    record_audit(creator, "channel.created", channel,
                 after={"kind": "task", "state": channel.state, "ends_on": draft.ends_on,
                        "units": draft.unit_ids, "subtrees": draft.subtree_ids,
                        "people": draft.user_ids})
    db.session.commit()
    return channel


def _covers_reach(admin: User, channel: Channel) -> bool:
    """Whether `channel`'s reach lies in `admin`'s own admin scope, so that they
    may open it without approval: the system admin everywhere; a
    unit admin when every unit it names lies in their subtree and every person
    it names (its owner aside) belongs to a unit there. Anyone else: nowhere."""
    if admin.is_admin:
        return True
    if not unit_admin_paths(admin):
        return False
    for target in channel.targets:
        if target.unit_id is not None:
            unit = db.session.get(Unit, target.unit_id)
            if unit is None or not can_admin_unit(admin, unit):
                return False
        elif target.user_id is not None and target.user_id != channel.owner_id:
            person = db.session.get(User, target.user_id)
            if person is None or not any(can_admin_unit(admin, m.unit) for m in person.memberships):
                return False
    return True


def _can_approve(approver: User, creator: User) -> bool:
    unit = creator.primary_unit
    return approver.is_admin or (unit is not None and any(
        g.role == Role.UNIT_ADMIN for g in approver.roles) and can_admin_unit(approver, unit))


def decide_task_channel(approver: User, channel: Channel, *, approve: bool) -> Channel:
    """审批: an admin of the creator's unit approves or rejects a pending task
    channel; never its creator (a unit admin's own request waits for another
    admin of their unit: one above them, or the system admin). Approving needs an
    admin whose own scope covers the channel's whole reach: a village's admin
    cannot open a member's province-wide channel, the system admin can."""
    if channel.kind != ChannelKind.TASK or channel.state != ChannelState.PENDING:
        raise Conflict(_("该频道不在待审批状态"))
    if channel.owner_id == approver.id:
        raise NotAllowed(_("不能审批自己发起的申请，请由上级管理员审批"))
    if not _can_approve(approver, db.session.get(User, channel.owner_id)):
        raise NotAllowed(_("只有发起人所在单位的管理员可以审批"))
    if approve and not _covers_reach(approver, channel):
        # Approving opens the channel to its whole reach: only an admin whose own
        # scope covers it (as for opening one without approval). Rejecting may be
        # done by any admin of the creator's unit.
        raise NotAllowed(_("该频道的范围超出您的管理范围，请由上级管理员审批"))
    channel.state = ChannelState.ACTIVE if approve else ChannelState.REJECTED
    channel.approved_by_id = approver.id
    db.session.flush()
    if approve:
        resync_rooms_on_commit(queries.member_ids(channel))
    record_audit(approver, "channel.approved" if approve else "channel.rejected", channel)
    db.session.commit()
    return channel


def _require_manage(actor: User, channel: Channel) -> None:
    if channel.owner_id == actor.id or actor.is_admin:
        return
    owner = db.session.get(User, channel.owner_id) if channel.owner_id else None
    if owner is not None and owner.primary_unit and can_admin_unit(actor, owner.primary_unit) \
            and any(g.role == Role.UNIT_ADMIN for g in actor.roles):
        return
    raise NotAllowed(_("只有群主或管理员可以归档、合并该频道"))


def archive_channel(actor: User, channel: Channel) -> Channel:
    """归档 a task channel: read-only, still searchable."""
    if channel.kind != ChannelKind.TASK:
        raise Conflict(_("只有专项工作群可以归档"))
    _require_manage(actor, channel)
    _archive(channel)
    record_audit(actor, "channel.archived", channel)
    db.session.commit()
    return channel


def _archive(channel: Channel) -> None:
    if channel.state != ChannelState.ARCHIVED:
        channel.state = ChannelState.ARCHIVED
        channel.archived_at = utcnow()


def archive_ended_channels(today: date) -> int:
    """Archive every active task channel whose end date has passed (run by the
    background jobs). One conditional UPDATE claims the channels, so of two
    processes running this at once each channel is archived, and audited, once."""
    claimed = db.session.scalars(
        update(Channel).where(Channel.kind == ChannelKind.TASK, Channel.state == ChannelState.ACTIVE,
                              Channel.ends_on < today)
        .values(state=ChannelState.ARCHIVED, archived_at=utcnow()).returning(Channel.id)).all()
    archived = select(Channel).where(Channel.id.in_(claimed)).order_by(Channel.id)
    if claimed:
        for channel in db.session.scalars(archived):
            record_audit(None, "channel.archived", channel, actor_login="(schedule)",
                         after={"reason": "ended", "ends_on": channel.ends_on})
    db.session.commit()
    return len(claimed)


def merge_task_channels(actor: User, source: Channel, target: Channel) -> Channel:
    """合并: `target` takes over `source`'s members; `source` is archived pointing
    to `target` (its messages stay readable there)."""
    if ChannelKind.TASK != source.kind or ChannelKind.TASK != target.kind or source.id == target.id:
        raise Conflict(_("只能合并两个不同的专项工作群"))
    if target.state != ChannelState.ACTIVE:
        raise Conflict(_("目标频道不在使用中"))
    _require_manage(actor, source)
    _require_manage(actor, target)
    have = {(t.user_id, t.unit_id, t.subtree) for t in target.targets}
    for t in source.targets:
        if (t.user_id, t.unit_id, t.subtree) not in have:
            target.targets.append(ChannelTarget(user_id=t.user_id, unit_id=t.unit_id, subtree=t.subtree))
    _archive(source)
    source.merged_into_id = target.id
    db.session.flush()
    resync_rooms_on_commit(queries.member_ids(target))
    record_audit(actor, "channel.merged", source, after={"merged_into": target.id})
    db.session.commit()
    return target


def follow_unit_merge(source: Unit, target: Unit) -> None:
    """When units merge, the source's unit channel is archived and points to the
    target's; task channels that named the source now name the target."""
    old = queries.unit_channel(source.id)
    new = queries.unit_channel(target.id)
    if old is not None:
        _archive(old)
        old.merged_into_id = new.id if new else None
    for t in db.session.scalars(select(ChannelTarget).where(ChannelTarget.unit_id == source.id)):
        t.unit_id = target.id
    people = db.session.scalars(select(Membership.user_id).where(Membership.unit_id == target.id))
    resync_rooms_on_commit(list(people))
