"""Reads across domains for the inbox. Each source (notices, documents,
mentions, direct messages) gives its newest items before the cursor; the page
is their merge."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from hub.channels import queries as channel_queries
from hub.channels.models import Channel, ChannelKind, ChannelRead, ChannelTarget, Mention, Message
from hub.datarequests import queries as data_request_queries
from hub.documents import page_reads as document_reads
from hub.documents import queries as document_queries
from hub.errors import InvalidInput
from hub.extensions import db
from hub.notices import queries as notice_queries
from hub.notices.serialize import inbox_item
from hub.notices.unread import unread_count
from hub.org.models import User

KINDS = ("notice", "document", "mention", "direct", "data_request")


ORDERS = ("newest", "unread_first")


def parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """A cursor is "<unix time>:<kind>:<id>" of the last item of a page."""
    if not cursor:
        return None
    try:
        stamp, _kind, item_id = cursor.split(":")
        return datetime.fromtimestamp(float(stamp), timezone.utc), int(item_id)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(_("before 游标无效"), field="before") from None


def cursor_of(item: dict[str, Any]) -> str:
    return f"{datetime.fromisoformat(item['at']).timestamp():.6f}:{item['kind']}:{item['id']}"


def _pointer(user: User):
    return func.coalesce(
        select(ChannelRead.last_read_id).where(ChannelRead.user_id == user.id,
                                               ChannelRead.channel_id == Message.channel_id)
        .correlate(Message).scalar_subquery(), 0)


def _message_items(user: User, kinds: list[str], limit: int, before,
                   read: bool | None) -> list[dict[str, Any]]:
    """Mentions and direct messages in one statement: a message in a direct
    channel is a direct message (mentioned in it or not), any other is a mention."""
    direct = _direct_condition(user)
    if kinds == ["direct"]:
        condition = direct
    elif kinds == ["mention"]:
        condition = and_(_mentions_condition(user), ~direct)
    else:
        condition = or_(_mentions_condition(user), direct)
    pointer = _pointer(user)
    query = (select(Message, Channel, pointer)
             .join(Channel, Channel.id == Message.channel_id)
             .where(condition, Message.withdrawn_at.is_(None), Message.author_id != user.id))
    if read is not None:
        query = query.where(Message.id <= pointer if read else Message.id > pointer)
    if before is not None:
        at, item_id = before
        query = query.where(or_(Message.created_at < at,
                                and_(Message.created_at == at, Message.id < item_id)))
    items = []
    for message, channel, last_read in db.session.execute(
            query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)):
        kind = "direct" if channel.kind == ChannelKind.DIRECT else "mention"
        title = (_("私信：%(name)s", name=message.author.name) if kind == "direct"
                 else _("%(channel)s 中提到了您", channel=channel.name))
        items.append({"kind": kind, "id": message.id, "channel_id": channel.id, "title": title,
                      "summary": message.body[:120],
                      "from": {"user_id": message.author_id, "name": message.author.name},
                      "at": message.created_at.isoformat(), "read": message.id <= last_read})
    return items


def _mentions_condition(user: User):
    """Mentions of the person or of a unit they hold a post in, in channels they
    can read now: someone who has left a channel (or joined a mentioned unit
    later without reading its channel) sees nothing of its messages."""
    unit_ids = [m.unit_id for m in user.memberships]
    readable = channel_queries.readable_channels(user).with_only_columns(Channel.id)
    return and_(Message.id.in_(select(Mention.message_id).where(
        or_(Mention.user_id == user.id, Mention.unit_id.in_(unit_ids)))),
        Message.channel_id.in_(readable))


def _direct_condition(user: User):
    return and_(Channel.kind == ChannelKind.DIRECT, Channel.id.in_(
        select(ChannelTarget.channel_id).where(ChannelTarget.user_id == user.id)))


@dataclass
class Sources:
    """Which sources can have anything for the person, found in one statement
    before the page: a village cadre with no post that handles documents, no
    direct channel and no mention skips those statements altogether."""
    documents: bool = True
    messages: bool = True


def sources_of(user: User) -> Sources:
    documents = document_queries.may_have_documents(user)
    messages = channel_queries.may_have_messages(user)
    if documents is True:
        return Sources(documents=True, messages=bool(db.session.scalar(select(messages))))
    row = db.session.execute(select(documents, messages)).one()
    return Sources(documents=bool(row[0]), messages=bool(row[1]))


@dataclass
class Filters:
    kind: str | None = None
    unit_id: int | None = None
    needs_ack: bool = False
    overdue: bool = False
    term: str | None = None


def _items(user: User, filters: Filters, sources: Sources, *, limit: int, before,
           read: bool | None) -> list[dict[str, Any]]:
    """Up to limit + 1 items newest first: the merge of each source's newest."""
    notice_only = filters.needs_ack or filters.overdue or filters.unit_id is not None
    items: list[dict[str, Any]] = []
    if filters.kind in (None, "notice"):
        notices = notice_queries.inbox_notices(user, limit=limit + 1, before=before, read=read,
                                               unit_id=filters.unit_id, needs_ack=filters.needs_ack,
                                               overdue=filters.overdue, term=filters.term)
        items += [inbox_item(notice, read=seen.read, acked=seen.acked,
                             corrected_after_read=seen.corrected_after_read) for notice, seen in notices]
    if filters.kind in (None, "document") and not notice_only and sources.documents:
        # A document is unread while it waits for the person (to sign for,
        # instruct, read, ...); the search term matches its title or number.
        documents = document_queries.inbox_documents(user, limit=limit + 1, before=before, read=read,
                                                     term=filters.term)
        items += document_reads.inbox_rows(user, documents)
    items += _data_request_items(user, filters, limit=limit, before=before, read=read,
                                 notice_only=notice_only)
    if not notice_only and not filters.term and sources.messages:
        kinds = [kind for kind in ("mention", "direct") if filters.kind in (None, kind)]
        if kinds:
            items += _message_items(user, kinds, limit + 1, before, read)
    items.sort(key=lambda i: (i["at"], i["id"]), reverse=True)
    return items[:limit + 1]


def _data_request_items(user: User, filters: Filters, *, limit: int, before, read: bool | None,
                        notice_only: bool) -> list[dict[str, Any]]:
    """Data requests (填报) for the units whose forms the person answers: unread
    while such a unit is pending; a unit that holds every field already is complete
    and shows nothing (hub.datarequests.queries)."""
    if filters.kind not in (None, "data_request") or notice_only:
        return []
    return data_request_queries.inbox_data_requests(user, limit=limit + 1, before=before, read=read,
                                                    term=filters.term)


def inbox_page(user: User, *, limit: int, before: str | None = None, kind: str | None = None,
               unread_only: bool = False, unit_id: int | None = None, needs_ack: bool = False,
               overdue: bool = False, term: str | None = None, order: str = "newest") -> dict[str, Any]:
    """One page of the inbox with `next` and the unread count: newest first, or
    (order="unread_first") everything unread newest first, then the rest."""
    if kind is not None and kind not in KINDS:
        raise InvalidInput(_("kind 应为 %(choices)s 之一", choices="、".join(KINDS)), field="kind")
    if order not in ORDERS:
        raise InvalidInput(_("order 应为 %(choices)s 之一", choices="、".join(ORDERS)), field="order")
    filters = Filters(kind=kind, unit_id=unit_id, needs_ack=needs_ack, overdue=overdue, term=term)
    sources = sources_of(user)
    if order == "newest" or unread_only:
        items = _items(user, filters, sources, limit=limit, before=parse_cursor(before),
                       read=False if unread_only else None)
        page, more = items[:limit], len(items) > limit
        next_cursor = cursor_of(page[-1]) if more and page else None
    else:
        page, next_cursor = _unread_first(user, filters, sources, limit=limit, before=before)
    waiting = document_queries.waiting_count(user) if sources.documents else 0
    data_waiting = data_request_queries.pending_count(user)
    return {"items": page, "next": next_cursor,
            "unread": unread_count(user) + waiting + data_waiting,
            "documents_waiting": waiting, "data_requests_waiting": data_waiting}


def _unread_first(user: User, filters: Filters, sources: Sources, *, limit: int,
                  before: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Two runs, each newest first: the unread, then the read. The cursor says
    which run it is in ("u…" / "r…")."""
    phase, cursor = (before[0], before[1:]) if before else ("u", None)
    if phase not in ("u", "r"):
        raise InvalidInput(_("before 游标无效"), field="before")
    page: list[dict[str, Any]] = []
    if phase == "u":
        unread = _items(user, filters, sources, limit=limit, before=parse_cursor(cursor), read=False)
        page = unread[:limit]
        if len(unread) > limit:
            return page, "u" + cursor_of(page[-1])
        cursor = None                         # the unread are done: the read from the top
    room = limit - len(page)
    if room == 0:
        # A full page of the last unread: the read ones start on the next page.
        return page, "r" if _items(user, filters, sources, limit=0, before=None, read=True) else None
    read = _items(user, filters, sources, limit=room, before=parse_cursor(cursor), read=True)
    page += read[:room]
    return page, "r" + cursor_of(page[-1]) if len(read) > room else None
