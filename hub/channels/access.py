"""Fetch-with-permission helpers for channels and messages (404 outside your reach)."""
from __future__ import annotations

from flask_babel import gettext as _

from hub.channels import queries
from hub.channels.models import Channel, Message
from hub.errors import NotFound
from hub.extensions import db
from hub.org.models import User


def access_channel(user: User, channel_id: int) -> Channel:
    """A channel `user` can read; 404 otherwise, so ids reveal nothing."""
    channel = db.session.get(Channel, channel_id) if isinstance(channel_id, int) else None
    if channel is None or not queries.can_read(user, channel):
        raise NotFound(_("频道不存在"))
    return channel


def access_message(user: User, message_id: int) -> Message:
    message = db.session.get(Message, message_id) if isinstance(message_id, int) else None
    if message is None:
        raise NotFound(_("消息不存在"))
    access_channel(user, message.channel_id)
    return message
