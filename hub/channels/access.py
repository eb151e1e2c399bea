"""Fetch-with-permission helpers for channels and messages (404 outside your reach)."""
from __future__ import annotations


from hub.channels import queries
from hub.channels.models import Channel, Message
from hub.errors import not_found
from hub.extensions import db
from hub.org.models import User


def access_channel(user: User, channel_id: int) -> Channel:
    """A channel `user` can read; 404 otherwise, so ids reveal nothing."""
    channel = db.session.get(Channel, channel_id) if isinstance(channel_id, int) else None
    if channel is None or not queries.can_read(user, channel):
        raise not_found("channel")
    return channel


def access_message(user: User, message_id: int) -> Message:
    """A message in a channel `user` can read; 404 otherwise, with the same
    words whether the message does not exist or lies in a channel one cannot
    read (which would otherwise tell that the id exists)."""
    message = db.session.get(Message, message_id) if isinstance(message_id, int) else None
    if message is None or not queries.can_read(user, db.session.get(Channel, message.channel_id)):
        raise not_found("message")
    return message
