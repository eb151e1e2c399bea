"""Reads across domains for the inbox. Each source gives its newest items
before the cursor; the page is their merge."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, func, or_, select

from hub.channels.models import Channel, ChannelKind, ChannelRead, ChannelTarget, Mention, Message
from hub.errors import InvalidInput
from hub.extensions import db
from hub.notices import queries as notice_queries
from hub.notices.serialize import inbox_item
from hub.org.models import User

KINDS = ("notice", "mention", "direct")


def parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """A cursor is "<unix time>:<kind>:<id>" of the last item of a page."""
    if not cursor:
        return None
    try:
        stamp, _, item_id = cursor.split(":")
        return datetime.fromtimestamp(float(stamp), timezone.utc), int(item_id)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput("before 游标无效", field="before") from None


def cursor_of(item: dict[str, Any]) -> str:
    return f"{datetime.fromisoformat(item['at']).timestamp():.6f}:{item['kind']}:{item['id']}"


def _pointer(user: User):
    return (select(ChannelRead.last_read_id).where(ChannelRead.user_id == user.id,
                                                   ChannelRead.channel_id == Message.channel_id)
            .correlate(Message).scalar_subquery())


def _message_items(user: User, kind: str, condition, limit: int, before) -> list[dict[str, Any]]:
    query = (select(Message, Channel, func.coalesce(_pointer(user), 0))
             .join(Channel, Channel.id == Message.channel_id)
             .where(condition, Message.withdrawn_at.is_(None), Message.author_id != user.id))
    if before is not None:
        at, item_id = before
        query = query.where(or_(Message.created_at < at, and_(Message.created_at == at, Message.id < item_id)))
    items = []
    for message, channel, pointer in db.session.execute(
            query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)):
        title = f"私信：{message.author.name}" if kind == "direct" else f"{channel.name} 中提到了您"
        items.append({"kind": kind, "id": message.id, "channel_id": channel.id, "title": title,
                      "summary": message.body[:120],
                      "from": {"user_id": message.author_id, "name": message.author.name},
                      "at": message.created_at.isoformat(), "read": message.id <= pointer})
    return items


def _mentions_condition(user: User):
    unit_ids = [m.unit_id for m in user.memberships]
    return Message.id.in_(select(Mention.message_id).where(
        or_(Mention.user_id == user.id, Mention.unit_id.in_(unit_ids))))


def _direct_condition(user: User):
    return and_(Channel.kind == ChannelKind.DIRECT, Channel.id.in_(
        select(ChannelTarget.channel_id).where(ChannelTarget.user_id == user.id)))


def inbox_page(user: User, *, limit: int, before: str | None = None, kind: str | None = None,
               unread_only: bool = False, unit_id: int | None = None, needs_ack: bool = False,
               overdue: bool = False, term: str | None = None) -> dict[str, Any]:
    """One page of the inbox, newest first, with `next` and the unread count."""
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"kind 应为 {'、'.join(KINDS)} 之一", field="kind")
    position = parse_cursor(before)
    notice_only = needs_ack or overdue or unit_id is not None
    items: list[dict[str, Any]] = []
    if kind in (None, "notice"):
        notices = notice_queries.inbox_notices(user, limit=limit + 1, before=position,
                                               unread_only=unread_only, unit_id=unit_id,
                                               needs_ack=needs_ack, overdue=overdue, term=term)
        seen = notice_queries.seen_by(user, notices)
        items += [inbox_item(n, read=seen[n.id].read, acked=seen[n.id].acked,
                             corrected_after_read=seen[n.id].corrected_after_read) for n in notices]
    if not notice_only and not term:
        if kind in (None, "mention"):
            items += _message_items(user, "mention", _mentions_condition(user), limit + 1, position)
        if kind in (None, "direct"):
            items += _message_items(user, "direct", _direct_condition(user), limit + 1, position)
        if unread_only:
            items = [i for i in items if not i["read"]]
    items.sort(key=lambda i: (i["at"], i["id"]), reverse=True)
    page, more = items[:limit], len(items) > limit
    return {"items": page, "next": cursor_of(page[-1]) if more and page else None,
            "unread": notice_queries.unread_count(user)}
