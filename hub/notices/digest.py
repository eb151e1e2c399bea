"""日报摘要: one screen per person and working day (DESIGN.md principles 5 and 6).

The digest of a working day covers what arrived from the end of the previous
working day to the end of this one, so whatever was sent after hours (and was
delivered quietly) shows up in the next digest. It lists the notices received,
by sending unit in tree order; what still needs an acknowledgement or has a
deadline near (as of now); and the new activity per channel. It is a page the
person opens, never a push: nothing here emits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select

from hub.channels.models import Channel, ChannelKind, Message
from hub.channels.queries import readable_channels, unread_counts
from hub.channels.serialize import channel_name
from hub.db import utcnow
from hub.errors import InvalidInput
from hub.extensions import db
from hub.notices.models import Notice, Receipt
from hub.notices.queries import seen_by, visible_notices
from hub.org.models import User
from hub.org.schedule import Schedule, schedule_for
from hub.times import TZ

DEADLINE_DAYS = 7          # deadlines this close (ahead, or just passed) are listed
NOTICES_MAX = 200          # notices received in one day, shown at most
PENDING_MAX = 100
KIND_ORDER = {ChannelKind.UNIT: 0, ChannelKind.ANNOUNCE: 1, ChannelKind.TASK: 2, ChannelKind.DIRECT: 3}


def previous_working_day(schedule: Schedule, day: date) -> date:
    """The last working day before `day` (a month back at most, then simply the day before)."""
    for back in range(1, 32):
        candidate = day - timedelta(days=back)
        if schedule.is_working_day(candidate):
            return candidate
    return day - timedelta(days=1)


def _day_end(schedule: Schedule, day: date) -> datetime:
    return datetime.combine(day, schedule.end, TZ)


def default_day(schedule: Schedule, now: datetime) -> date:
    """Today once today's working day has ended; before that (and on days off),
    the previous working day."""
    today = now.astimezone(TZ).date()
    if schedule.is_working_day(today) and now >= _day_end(schedule, today):
        return today
    return previous_working_day(schedule, today)


@dataclass
class NoticeGroup:
    unit_id: int
    unit_name: str
    notices: list[Notice]


@dataclass
class ChannelActivity:
    channel: Channel
    name: str
    new: int                  # messages by others during the day
    unread: int               # unread now
    topics: list[str]         # topics of the day's messages


@dataclass
class Digest:
    day: date
    start: datetime           # the previous working day's end
    end: datetime             # this working day's end
    groups: list[NoticeGroup] = field(default_factory=list)
    more_notices: bool = False
    pending: list[Notice] = field(default_factory=list)
    channels: list[ChannelActivity] = field(default_factory=list)
    seen: dict = field(default_factory=dict)          # notice id -> queries.Seen
    now: datetime | None = None

    def passed(self, notice: Notice) -> bool:
        return notice.deadline is not None and notice.deadline < self.now


def parse_day(value: Any) -> date | None:
    """?day=YYYY-MM-DD, or None when absent."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and len(value) == 10 and value.isascii():
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(_("日期格式应为 YYYY-MM-DD"), field="day")


def digest_for(user: User, day: date | None = None, *, now: datetime | None = None) -> Digest:
    """The digest of `user` for working day `day` (default: see default_day)."""
    now = now or utcnow()
    schedule = schedule_for(user, around=day or now.astimezone(TZ).date())
    if day is None:
        day = default_day(schedule, now)
    elif day > now.astimezone(TZ).date():
        raise InvalidInput(_("不能查看未来日期的摘要"), field="day")
    digest = Digest(day=day, start=_day_end(schedule, previous_working_day(schedule, day)),
                    end=_day_end(schedule, day), now=now)
    received = _received(user, digest.start, digest.end)
    digest.more_notices = len(received) > NOTICES_MAX
    received = received[:NOTICES_MAX]
    digest.groups = _by_sending_unit(received)
    digest.pending = _pending(user, now)
    digest.seen = seen_by(user, received + [n for n in digest.pending if n not in received])
    digest.channels = _channel_activity(user, digest.start, digest.end)
    return digest


def _received(user: User, start: datetime, end: datetime) -> list[Notice]:
    query = visible_notices(user).where(Notice.superseded_by_id.is_(None),
                                        Notice.publish_at > start, Notice.publish_at <= end)
    return list(db.session.scalars(query.order_by(Notice.publish_at, Notice.id).limit(NOTICES_MAX + 1)))


def _by_sending_unit(notices: list[Notice]) -> list[NoticeGroup]:
    """Grouped by sending unit, the groups in tree order (units.path)."""
    groups: dict[int, NoticeGroup] = {}
    for notice in notices:
        group = groups.setdefault(notice.unit_id, NoticeGroup(notice.unit_id, notice.unit.name, []))
        group.notices.append(notice)
    paths = {n.unit_id: n.unit.path for n in notices}
    return sorted(groups.values(), key=lambda g: paths[g.unit_id])


def _pending(user: User, now: datetime) -> list[Notice]:
    """As of now: notices still to acknowledge (签收), and deadlines within the
    next week or passed in the last one; nearest deadline first."""
    acked = exists().where(Receipt.notice_id == Notice.id, Receipt.user_id == user.id,
                           Receipt.acked_at.is_not(None))
    window = DEADLINE_DAYS * timedelta(days=1)
    query = visible_notices(user).where(
        Notice.superseded_by_id.is_(None), Notice.revoked_at.is_(None),
        or_(and_(Notice.requires_ack.is_(True), ~acked),
            Notice.deadline.between(now - window, now + window)))
    return list(db.session.scalars(query.order_by(Notice.deadline.is_(None), Notice.deadline,
                                                  Notice.publish_at).limit(PENDING_MAX)))


def _channel_activity(user: User, start: datetime, end: datetime) -> list[ChannelActivity]:
    """Per readable channel: messages by others during the day, unread now and
    the day's topics — only channels with something new or unread."""
    channel_ids = list(db.session.scalars(readable_channels(user).with_only_columns(Channel.id)))
    if not channel_ids:
        return []
    of_the_day = (Message.channel_id.in_(channel_ids), Message.author_id != user.id,
                  Message.withdrawn_at.is_(None), Message.created_at > start, Message.created_at <= end)
    new = dict(db.session.execute(select(Message.channel_id, func.count())
                                  .where(*of_the_day).group_by(Message.channel_id)).all())
    topics: dict[int, list[str]] = {}
    for channel_id, topic in db.session.execute(
            select(Message.channel_id, Message.topic).where(*of_the_day).distinct()
            .order_by(Message.channel_id, Message.topic)):
        topics.setdefault(channel_id, []).append(topic)
    unread = unread_counts(user, channel_ids)
    active = set(new) | {i for i, n in unread.items() if n}
    channels = list(db.session.scalars(select(Channel).where(Channel.id.in_(active)))) if active else []
    rows = [ChannelActivity(channel=c, name=channel_name(c, user), new=new.get(c.id, 0),
                            unread=unread.get(c.id, 0), topics=topics.get(c.id, []))
            for c in channels]
    # By kind, then name: a digest lists, it does not rank channels by traffic.
    return sorted(rows, key=lambda r: (KIND_ORDER.get(r.channel.kind, 9), r.name, r.channel.id))


def digest_json(digest: Digest) -> dict[str, Any]:
    def item(notice: Notice) -> dict[str, Any]:
        seen = digest.seen.get(notice.id)
        return {"id": notice.id, "title": notice.title, "summary": notice.summary,
                "at": notice.publish_at.isoformat(), "urgent": notice.is_urgent,
                "requires_ack": notice.requires_ack, "read": bool(seen and seen.read),
                "acked": bool(seen and seen.acked), "revoked": notice.revoked_at is not None,
                "deadline": notice.deadline.isoformat() if notice.deadline else None}

    return {
        "day": digest.day.isoformat(), "from": digest.start.isoformat(), "until": digest.end.isoformat(),
        "notices": [{"unit_id": g.unit_id, "unit_name": g.unit_name, "items": [item(n) for n in g.notices]}
                    for g in digest.groups],
        "more_notices": digest.more_notices,
        "pending": [{**item(n), "unit_name": n.unit.name, "passed": digest.passed(n)}
                    for n in digest.pending],
        "channels": [{"id": a.channel.id, "kind": a.channel.kind, "name": a.name,
                      "new_messages": a.new, "unread": a.unread, "topics": a.topics}
                     for a in digest.channels],
    }


def working_days_around(user: User, day: date) -> tuple[date, date | None]:
    """(previous working day, next working day up to today or None) for paging
    the digest page."""
    schedule = schedule_for(user, around=day)
    today = datetime.now(TZ).date()
    after = None
    for ahead in range(1, 32):
        candidate = day + timedelta(days=ahead)
        if candidate > today:
            break
        if schedule.is_working_day(candidate):
            after = candidate
            break
    return previous_working_day(schedule, day), after

