"""Channels and messages API (API.md "Channels and messages"). Thin."""
from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required, cursor_arg, json_body, page_limit
from hub.channels import actions, messages, queries
from hub.channels.access import access_channel, access_message
from hub.channels.messages import Acknowledged, MessageDraft
from hub.channels.models import ChannelKind
from hub.channels.register_reads import access_register_channel
from hub.channels.serialize import channel_json, message_json
from hub.errors import InvalidInput, not_found
from hub.extensions import csrf, db
from hub.permissions import access_person
from hub.validation import clean_int

bp = Blueprint("channels_api", __name__)
csrf.exempt(bp)


@bp.get("/channels")
@api_login_required
def list_channels():
    """The caller's channels with unread counts, most recently active first."""
    channels = list(db.session.scalars(queries.readable_channels(current_user)))
    unread = queries.unread_counts(current_user, [c.id for c in channels])
    channels.sort(key=lambda c: (c.last_message_id or 0, c.id), reverse=True)
    return {"items": [channel_json(c, unread=unread.get(c.id, 0), viewer=current_user) for c in channels],
            "next": None}


@bp.post("/channels")
@api_login_required
def create_task_channel():
    channel = actions.create_task_channel(current_user, actions.TaskDraft.from_json(json_body()))
    return channel_json(channel, member_count=queries.member_count(channel)), 201


@bp.get("/channels/<int:channel_id>")
@api_login_required
def get_channel(channel_id: int):
    channel = access_channel(current_user, channel_id)
    unread = queries.unread_counts(current_user, [channel.id]).get(channel.id, 0)
    data = channel_json(channel, unread=unread, member_count=queries.member_count(channel),
                        viewer=current_user)
    data["can_post"] = queries.can_post(current_user, channel)
    data["topics"] = [{"topic": t, "count": n, "last_id": last} for t, n, last in queries.topics(channel)]
    return data


@bp.post("/channels/direct")
@api_login_required
def open_direct():
    other = access_person(current_user, clean_int(json_body().get("user_id"), "user_id", _("对方")))
    return channel_json(actions.direct_channel(current_user, other), viewer=current_user)


@bp.post("/units/<int:unit_id>/announcements")
@api_login_required
def open_announcements(unit_id: int):
    from hub.permissions import access_unit
    return channel_json(actions.announcement_channel(current_user, access_unit(current_user, unit_id)))


@bp.get("/channels/<int:channel_id>/messages")
@api_login_required
def list_messages(channel_id: int):
    """`after`: oldest first after that id (catching up); otherwise newest first
    before `before` (scrolling back). `topic` narrows to one topic."""
    channel = access_channel(current_user, channel_id)
    limit, topic = page_limit(), request.args.get("topic")
    after, before = cursor_arg("after"), cursor_arg("before")
    if after is not None:
        found = queries.messages_after(channel, after, limit + 1, topic=topic)
        more = len(found) > limit
        found = found[:limit]
        return {"items": [message_json(m) for m in found],
                "next": found[-1].id if more and found else None}
    found = queries.messages_before(channel, before, limit + 1, topic=topic)
    more = len(found) > limit
    found = found[:limit]
    return {"items": [message_json(m) for m in reversed(found)],
            "next": found[-1].id if more and found else None}


@bp.post("/channels/<int:channel_id>/messages")
@api_login_required
def post_message(channel_id: int):
    channel = access_channel(current_user, channel_id)
    result, created = messages.post_message(current_user, channel, MessageDraft.from_json(json_body()))
    if isinstance(result, Acknowledged):
        return {"acknowledged": result.message.id, "acks": result.message.ack_count}
    return message_json(result), 201 if created else 200


@bp.patch("/messages/<int:message_id>")
@api_login_required
def edit_message(message_id: int):
    message = access_message(current_user, message_id)
    data = json_body()
    if not isinstance(data.get("body"), str):
        raise InvalidInput(_("缺少消息内容"), field="body")
    return message_json(messages.edit_message(current_user, message, body=data["body"],
                                              html=data.get("html")))


@bp.post("/messages/<int:message_id>/withdraw")
@api_login_required
def withdraw_message(message_id: int):
    return message_json(messages.withdraw_message(current_user, access_message(current_user, message_id)))


@bp.post("/messages/<int:message_id>/ack")
@api_login_required
def acknowledge(message_id: int):
    message = messages.acknowledge(current_user, access_message(current_user, message_id))
    return {"acknowledged": message.id, "acks": message.ack_count}


@bp.post("/channels/<int:channel_id>/read")
@api_login_required
def mark_read(channel_id: int):
    channel = access_channel(current_user, channel_id)
    up_to = clean_int(json_body().get("up_to"), "up_to", _("已读位置"))
    return {"last_read_id": messages.mark_read(current_user, channel, up_to)}


@bp.post("/channels/<int:channel_id>/archive")
@api_login_required
def archive(channel_id: int):
    return channel_json(actions.archive_channel(current_user, access_channel(current_user, channel_id)))


@bp.post("/channels/<int:channel_id>/decision")
@api_login_required
def decide(channel_id: int):
    """Approve or reject a pending task channel (its creator's unit admins):
    403 for someone who administers nothing, 404 outside the admin's scope."""
    channel = access_register_channel(current_user, channel_id)
    if channel.kind != ChannelKind.TASK:
        raise not_found("channel")
    approve = json_body().get("approve")
    if not isinstance(approve, bool):
        raise InvalidInput(_("approve 须为 true 或 false"), field="approve")
    return channel_json(actions.decide_task_channel(current_user, channel, approve=approve))


@bp.post("/channels/<int:channel_id>/merge")
@api_login_required
def merge(channel_id: int):
    source = access_channel(current_user, channel_id)
    target = access_channel(current_user, clean_int(json_body().get("target_id"), "target_id", _("目标频道")))
    return channel_json(actions.merge_task_channels(current_user, source, target))


@bp.post("/messages/<int:message_id>/reply-privately")
@api_login_required
def reply_privately(message_id: int):
    """Answer a message (typically an announcement) in a direct channel with its author."""
    message = access_message(current_user, message_id)
    result, created = messages.reply_privately(current_user, message, MessageDraft.from_json(json_body()))
    if isinstance(result, Acknowledged):
        return {"acknowledged": result.message.id, "acks": result.message.ack_count}
    return message_json(result), 201 if created else 200


@bp.get("/search")
@api_login_required
def search_messages():
    """Messages containing q in the channels the caller reads, newest first;
    filters channel_id, author_id, since, until; before=ID pages back."""
    # Imported here so that this route stays one self-contained addition.
    from hub.api import parse_time
    from hub.api import page
    from hub.auth.throttle import check_search
    from hub.channels.search import MessageSearch, clean_query, search_page
    check_search(current_user.id)                        # 429 over the per-person limit
    text, limit, channel_id = clean_query(request.args.get("q")), page_limit(), cursor_arg("channel_id")
    if channel_id is not None:
        access_channel(current_user, channel_id)         # not readable: 404, as everywhere
    result = search_page(current_user, MessageSearch(
        text, channel_id=channel_id, author_id=cursor_arg("author_id"),
        since=parse_time(request.args.get("since"), "since"),
        until=parse_time(request.args.get("until"), "until"),
        before=cursor_arg("before"), limit=limit + 1))
    answer = page([{**message_json(m), "channel_name": name} for m, name in result.found], limit,
                  lambda item: item["id"])
    # A short query that read only the newest messages: `partial`, and when the
    # page is not full, `next` goes on with the older ones.
    answer["partial"] = result.scanned_from is not None
    if answer["partial"] and answer["next"] is None:
        answer["next"] = result.scanned_from
    return answer
