"""Reads for the channel register (频道台账): which channels exist in an admin's
scope, how much they are used, and which look idle or duplicated, so that admins can merge
or archive them (DESIGN.md principle 2). Reads only; the changes go through
hub.channels.actions.

Direct channels never appear here: who writes to whom is nobody's business.
(Not named register.py: hub.channels.register is the package's register(app).)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from hub.channels import queries
from hub.channels.models import Channel, ChannelKind, ChannelState, Message
from hub.db import utcnow
from hub.errors import not_found
from hub.extensions import db
from hub.org.models import Membership, Unit, User
from hub.org.queries import in_any_subtree
from hub.permissions import admin_scope, require_any_admin

IDLE_DAYS = 30            # 闲置: no message for this long
OVERLAP = 0.8             # 重叠: |A∩B| / |A∪B| at least this
WEEKS = 4                 # messages per week are averaged over this many weeks
REGISTER_KINDS = (ChannelKind.TASK, ChannelKind.ANNOUNCE, ChannelKind.UNIT)


def register_channels(scope: list[str] | None, *, kinds=REGISTER_KINDS,
                      states=(ChannelState.ACTIVE, ChannelState.ARCHIVED)) -> Select:
    """Channels of `kinds` and `states` in an admin's scope (`scope` as from
    hub.permissions.admin_scope: None = everywhere): those whose unit lies in a
    scope subtree or whose owner belongs to a unit there."""
    query = select(Channel).where(Channel.kind.in_([k for k in kinds if k != ChannelKind.DIRECT]),
                                  Channel.state.in_(list(states)))
    if scope is not None:
        units = select(Unit.id).where(in_any_subtree(scope))
        owners = (select(Membership.user_id).join(Unit, Unit.id == Membership.unit_id)
                  .where(in_any_subtree(scope)))
        query = query.where(or_(Channel.unit_id.in_(units), Channel.owner_id.in_(owners)))
    return query.options(selectinload(Channel.owner))


def pending_channels(scope: list[str] | None) -> list[Channel]:
    """Task channels waiting for approval (待审批) in the scope, oldest first."""
    query = register_channels(scope, kinds=(ChannelKind.TASK,), states=(ChannelState.PENDING,))
    return list(db.session.scalars(query.order_by(Channel.id)))


def access_register_channel(user: User, channel_id: int) -> Channel:
    """A channel (not a direct one) in `user`'s admin scope, in any state; 403
    for someone who administers nothing, 404 outside the scope."""
    require_any_admin(user)
    query = register_channels(admin_scope(user), states=tuple(ChannelState)).where(
        Channel.id == channel_id)
    channel = db.session.scalar(query)
    if channel is None:
        raise not_found("channel")
    return channel


def weekly_counts(channel_ids: list[int] | None = None, *, now: datetime | None = None,
                  weeks: int = WEEKS) -> dict[int, float]:
    """Messages per week, averaged over the last `weeks` weeks, per channel, in
    one GROUP BY (all channels when `channel_ids` is None). Withdrawn messages
    don't count; channels without messages are absent (read them as 0)."""
    since = (now or utcnow()) - timedelta(weeks=weeks)
    query = (select(Message.channel_id, func.count())
             .where(Message.created_at >= since, Message.withdrawn_at.is_(None))
             .group_by(Message.channel_id))
    if channel_ids is not None:
        if not channel_ids:
            return {}
        query = query.where(Message.channel_id.in_(channel_ids))
    return {channel_id: count / weeks for channel_id, count in db.session.execute(query)}


def is_idle(channel: Channel, *, now: datetime | None = None, days: int = IDLE_DAYS) -> bool:
    """闲置: nothing posted for `days` days (counted from its creation when it
    never had a message, so a new channel is not idle)."""
    last = channel.last_message_at or channel.created_at
    return last < (now or utcnow()) - timedelta(days=days)


def similarity(a: set[int], b: set[int]) -> float:
    """|A∩B| / |A∪B| (Jaccard); two empty sets are not alike."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def overlap_pairs(member_sets: dict[int, set[int]], *,
                  threshold: float = OVERLAP) -> list[tuple[int, int, float]]:
    """Pairs (a, b, similarity) of channels whose member sets are at least
    `threshold` alike, a < b, most alike first."""
    pairs = [(a, b, similarity(member_sets[a], member_sets[b]))
             for a, b in combinations(sorted(member_sets), 2)]
    return sorted((p for p in pairs if p[2] >= threshold), key=lambda p: (-p[2], p[0], p[1]))


@dataclass
class RegisterRow:
    """One line of the register."""

    channel: Channel
    member_count: int
    per_week: float
    idle: bool
    overlaps: list[Channel] = field(default_factory=list)    # 重叠 with these


def register_rows(channels: list[Channel], *, now: datetime | None = None) -> list[RegisterRow]:
    """The register lines for `channels`: members, messages per week (one GROUP
    BY for all), 闲置, and 重叠 between the active task channels among them
    (member sets resolved through the tree, compared in Python)."""
    now = now or utcnow()
    per_week = weekly_counts([c.id for c in channels], now=now)
    tasks = {c.id: queries.member_ids(c) for c in channels
             if c.kind == ChannelKind.TASK and c.state == ChannelState.ACTIVE}
    by_id = {c.id: c for c in channels}
    alike: dict[int, list[Channel]] = {}
    for a, b, _shared in overlap_pairs(tasks):
        alike.setdefault(a, []).append(by_id[b])
        alike.setdefault(b, []).append(by_id[a])
    return [RegisterRow(channel=c,
                        member_count=len(tasks[c.id]) if c.id in tasks else queries.member_count(c),
                        per_week=per_week.get(c.id, 0.0), idle=is_idle(c, now=now),
                        overlaps=alike.get(c.id, []))
            for c in channels]
