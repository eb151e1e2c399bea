"""Reads over channels: who is in a channel, which channels a person reads,
unread counts and pages of messages. Membership is resolved through the tree
each time, so moving a person moves their channels with no extra writes."""
from __future__ import annotations

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from hub.channels.models import (Channel, ChannelKind, ChannelRead, ChannelState, ChannelTarget,
                                 Mention, Message)
from hub.extensions import db
from hub.org.models import Membership, Role, Unit, User
from hub.org.queries import subtree_clause


def _unit_ids(user: User) -> list[int]:
    return [m.unit_id for m in user.memberships if m.unit.active]


def _reach_ids(user: User) -> list[int]:
    """The user's units and all their ancestors (for subtree targets and
    announcement channels of the units above)."""
    ids: set[int] = set()
    for membership in user.memberships:
        ids.update(membership.unit.path_ids)
    return sorted(ids)


def _targets_matching(user: User):
    """ChannelTarget rows that include `user`."""
    return or_(ChannelTarget.user_id == user.id,
               and_(ChannelTarget.subtree.is_(False), ChannelTarget.unit_id.in_(_unit_ids(user))),
               and_(ChannelTarget.subtree.is_(True), ChannelTarget.unit_id.in_(_reach_ids(user))))


def readable_channels(user: User, *, include_archived: bool = True) -> Select:
    """Every channel `user` may read: their units' channels, the announcement
    channels of their units and those above, task channels that reach them,
    their direct channels."""
    targeted = select(ChannelTarget.channel_id).where(_targets_matching(user))
    states = [ChannelState.ACTIVE] + ([ChannelState.ARCHIVED] if include_archived else [])
    return select(Channel).where(
        Channel.state.in_(states),
        or_(and_(Channel.kind == ChannelKind.UNIT, Channel.unit_id.in_(_unit_ids(user))),
            and_(Channel.kind == ChannelKind.ANNOUNCE, Channel.unit_id.in_(_reach_ids(user))),
            and_(Channel.kind.in_([ChannelKind.TASK, ChannelKind.DIRECT]),
                 Channel.id.in_(targeted))))


def can_read(user: User, channel: Channel) -> bool:
    """The rule of readable_channels() for one channel. Checked on every message
    sent and every page read, so unit and announcement channels are decided from
    the memberships already loaded, and task and direct channels with one small
    query, rather than by building and running readable_channels() each time."""
    if channel.state not in (ChannelState.ACTIVE, ChannelState.ARCHIVED):
        return False
    if channel.kind == ChannelKind.UNIT:
        return channel.unit_id in _unit_ids(user)
    if channel.kind == ChannelKind.ANNOUNCE:
        return channel.unit_id in _reach_ids(user)
    return db.session.scalar(select(ChannelTarget.id).where(
        ChannelTarget.channel_id == channel.id, _targets_matching(user)).limit(1)) is not None


def can_post(user: User, channel: Channel) -> bool:
    """Members post in unit, task and direct channels; only the unit's leaders
    post in its announcement channel."""
    if channel.state != ChannelState.ACTIVE:
        return False
    if channel.kind == ChannelKind.ANNOUNCE:
        return user.has_role(Role.LEADER, channel.unit_id)
    return can_read(user, channel)


def members(channel: Channel) -> Select:
    """The active people of a channel, as a query (resolved through the tree)."""
    if channel.kind == ChannelKind.UNIT:
        condition = User.id.in_(select(Membership.user_id).where(Membership.unit_id == channel.unit_id))
    elif channel.kind == ChannelKind.ANNOUNCE:
        unit = db.session.get(Unit, channel.unit_id)
        condition = User.id.in_(select(Membership.user_id).join(Unit, Unit.id == Membership.unit_id)
                                .where(subtree_clause(unit.path)))
    else:
        condition = User.id.in_(_target_members(channel.id))
    return select(User).where(condition, User.active.is_(True))


def _target_members(channel_id: int) -> Select:
    people = select(ChannelTarget.user_id.label("user_id")).where(
        ChannelTarget.channel_id == channel_id, ChannelTarget.user_id.is_not(None))
    units = (select(Membership.user_id).join(ChannelTarget, ChannelTarget.unit_id == Membership.unit_id)
             .where(ChannelTarget.channel_id == channel_id, ChannelTarget.subtree.is_(False)))
    target_unit = Unit.__table__.alias("target_unit")
    member_unit = Unit.__table__.alias("member_unit")
    subtrees = (select(Membership.user_id)
                .join(member_unit, member_unit.c.id == Membership.unit_id)
                .join(target_unit, and_(member_unit.c.path >= target_unit.c.path,
                                        member_unit.c.path < func.substr(
                                            target_unit.c.path, 1,
                                            func.length(target_unit.c.path) - 1) + "0"))
                .join(ChannelTarget, ChannelTarget.unit_id == target_unit.c.id)
                .where(ChannelTarget.channel_id == channel_id, ChannelTarget.subtree.is_(True)))
    return people.union(units, subtrees)


def member_count(channel: Channel) -> int:
    return db.session.scalar(select(func.count()).select_from(members(channel).subquery())) or 0


def member_ids(channel: Channel) -> set[int]:
    return set(db.session.scalars(members(channel).with_only_columns(User.id)))


def unread_counts(user: User, channel_ids: list[int]) -> dict[int, int]:
    """Messages by others after the person's last-read pointer, per channel (one query)."""
    if not channel_ids:
        return {}
    pointer = (select(ChannelRead.last_read_id).where(ChannelRead.user_id == user.id,
                                                      ChannelRead.channel_id == Message.channel_id)
               .scalar_subquery())
    rows = db.session.execute(
        select(Message.channel_id, func.count())
        .where(Message.channel_id.in_(channel_ids), Message.author_id != user.id,
               Message.withdrawn_at.is_(None), Message.id > func.coalesce(pointer, 0))
        .group_by(Message.channel_id))
    return {channel_id: count for channel_id, count in rows}


# A page's attachments in one query instead of one per message (message_json
# reads them; see docs/PERFORMANCE.md "Real time").
_PAGE_LOADS = selectinload(Message.attachments)


MENTIONABLE_SHOWN = 8
QUOTE_CHARS = 60


def quoted(channel: Channel, message_ids: list[int]) -> dict[int, dict]:
    """What a reply shows of the message it answers: its author and the start of
    its text (nothing of a withdrawn one), for messages of this channel only."""
    if not message_ids:
        return {}
    rows = db.session.execute(
        select(Message.id, User.name, Message.body, Message.withdrawn_at)
        .join(User, User.id == Message.author_id)
        .where(Message.id.in_(set(message_ids)), Message.channel_id == channel.id))
    return {message_id: {"author": name, "text": None if withdrawn else body[:QUOTE_CHARS],
                         "more": withdrawn is None and len(body) > QUOTE_CHARS}
            for message_id, name, body, withdrawn in rows}


def mentionable_units(channel: Channel) -> list[Unit]:
    """Units that may be @-mentioned in a channel: every person of theirs reads
    it — a unit channel's own unit, a task or work channel's target units."""
    if channel.kind == ChannelKind.UNIT:
        ids = [channel.unit_id]
    elif channel.kind == ChannelKind.ANNOUNCE:
        return []
    else:
        ids = list(db.session.scalars(select(ChannelTarget.unit_id).where(
            ChannelTarget.channel_id == channel.id, ChannelTarget.unit_id.is_not(None))))
    if not ids:
        return []
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids), Unit.active.is_(True))
                                   .order_by(Unit.path)))


def mention_suggestions(channel: Channel, term: str) -> list[dict]:
    """What typing "@" + term offers in the composer: the channel's people whose
    name holds the term, then its mentionable units, a few of each."""
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    people = db.session.scalars(members(channel).where(User.name.like(pattern, escape="\\"))
                                .order_by(User.name, User.id).limit(MENTIONABLE_SHOWN))
    found = [{"kind": "user", "id": u.id, "name": u.name} for u in people]
    units = [{"kind": "unit", "id": u.id, "name": u.name}
             for u in mentionable_units(channel) if term in u.name]
    return found + units[:MENTIONABLE_SHOWN]


def named_in(channel: Channel, body: str) -> tuple[list[int], list[int]]:
    """The people and units "@name" in `body` names among those who may be
    mentioned in the channel (a mention typed on the page without picking it):
    at each "@", the longest name that follows. Two people of one name are both
    meant."""
    if "@" not in body and "＠" not in body:
        return [], []
    text = body.replace("＠", "@")
    people: dict[str, list[int]] = {}
    for user_id, name in db.session.execute(members(channel).with_only_columns(User.id, User.name)):
        people.setdefault(name, []).append(user_id)
    units = {u.name: u.id for u in mentionable_units(channel)}
    names = sorted({*people, *units}, key=len, reverse=True)
    user_ids: list[int] = []
    unit_ids: list[int] = []
    for start in (i + 1 for i, char in enumerate(text) if char == "@"):
        name = next((n for n in names if n and text.startswith(n, start)), None)
        if name in units:
            unit_ids.append(units[name])
        elif name is not None:
            user_ids += people[name]
    return list(dict.fromkeys(user_ids)), list(dict.fromkeys(unit_ids))


def may_have_messages(user: User):
    """A condition true when the inbox can have a mention or a direct message for
    the person: a mention of them or of a unit they hold a post in, or a channel
    that targets them by name (every direct channel does). Cheap index lookups,
    evaluated with the inbox's other sources in one statement."""
    units = [m.unit_id for m in user.memberships]
    return or_(exists().where(ChannelTarget.user_id == user.id),
               exists().where(or_(Mention.user_id == user.id, Mention.unit_id.in_(units))))


def messages_after(channel: Channel, after: int, limit: int, *, topic: str | None = None) -> list[Message]:
    """Oldest first after `after` (API.md: how a reconnecting client catches up)."""
    query = select(Message).options(_PAGE_LOADS).where(Message.channel_id == channel.id,
                                                       Message.id > after)
    if topic is not None:
        query = query.where(Message.topic == topic)
    return list(db.session.scalars(query.order_by(Message.id).limit(limit)))


def messages_before(channel: Channel, before: int | None, limit: int, *,
                    topic: str | None = None) -> list[Message]:
    """Newest first before `before`: scrolling back."""
    query = select(Message).options(_PAGE_LOADS).where(Message.channel_id == channel.id)
    if before is not None:
        query = query.where(Message.id < before)
    if topic is not None:
        query = query.where(Message.topic == topic)
    return list(db.session.scalars(query.order_by(Message.id.desc()).limit(limit)))


def topics(channel: Channel, limit: int = 50) -> list[tuple[str, int, int]]:
    """(topic, message count, last message id), most recently active first."""
    rows = db.session.execute(
        select(Message.topic, func.count(), func.max(Message.id))
        .where(Message.channel_id == channel.id, Message.withdrawn_at.is_(None))
        .group_by(Message.topic).order_by(func.max(Message.id).desc()).limit(limit))
    return [(topic, count, last) for topic, count, last in rows]


def latest_by_others(channel: Channel, user: User) -> Message | None:
    return db.session.scalar(
        select(Message).where(Message.channel_id == channel.id, Message.author_id != user.id,
                              Message.withdrawn_at.is_(None))
        .order_by(Message.id.desc()).limit(1))


def unit_channel(unit_id: int) -> Channel | None:
    return db.session.scalar(select(Channel).where(Channel.kind == ChannelKind.UNIT,
                                                   Channel.unit_id == unit_id))


