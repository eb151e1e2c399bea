"""JSON shapes of channels and messages (API.md "Channels and messages")."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from hub.channels.models import Channel, Message
from hub.extensions import db
from hub.org.models import User


def message_json(message: Message) -> dict[str, Any]:
    withdrawn = message.withdrawn_at is not None
    return {
        "id": message.id, "channel_id": message.channel_id,
        "author": {"id": message.author_id, "name": message.author.name if message.author else None},
        "body": _("此消息已撤回") if withdrawn else message.body,
        "html": None if withdrawn else message.html,
        "topic": message.topic, "client_msg_id": message.client_msg_id,
        "reply_to": message.reply_to_id,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "withdrawn": withdrawn,
        "acks": message.ack_count,
        "attachments": [] if withdrawn else [
            {"id": a.id, "filename": a.filename, "size": a.size, "content_type": a.content_type}
            for a in message.attachments],
    }


def channel_name(channel: Channel, viewer=None) -> str:
    """Unit channels are named after their unit (and follow a rename); a direct
    channel is named after the other person."""
    if channel.kind == "unit" and channel.unit is not None:
        return channel.unit.name
    if channel.kind == "announce" and channel.unit is not None:
        return _("%(unit)s公告", unit=channel.unit.name)
    if channel.kind == "direct" and viewer is not None:
        other = next((t.user_id for t in channel.targets if t.user_id != viewer.id), None)
        if other is not None:
            person = db.session.get(User, other)
            return person.name if person else channel.name
    return channel.name


def channel_json(channel: Channel, *, unread: int | None = None, member_count: int | None = None,
                 viewer=None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": channel.id, "kind": channel.kind, "name": channel_name(channel, viewer),
        "state": channel.state,
        "unit_id": channel.unit_id, "purpose": channel.purpose, "owner_id": channel.owner_id,
        "ends_on": channel.ends_on.isoformat() if channel.ends_on else None,
        "last_message_id": channel.last_message_id,
        "last_message_at": channel.last_message_at.isoformat() if channel.last_message_at else None,
    }
    if unread is not None:
        data["unread"] = unread
    if member_count is not None:
        data["member_count"] = member_count
    return data
