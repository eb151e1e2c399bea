"""Fetch-with-permission helpers for channels and messages (404 outside your reach)."""
from __future__ import annotations


from hub.channels import queries
from hub.channels.models import Channel, Message
from hub.errors import NotFound, not_found
from hub.extensions import db
from hub.files.models import Attachment
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


# ---- Files on messages (registered with hub.files.access) --------------------------------------

def messages_carrying(attachment_id: int) -> list[int]:
    """The message a file was sent with (its message_id), if sent."""
    attachment = db.session.get(Attachment, attachment_id)      # already loaded by the caller
    return [attachment.message_id] if attachment is not None and attachment.message_id is not None else []


def may_open_message(user: User, message_id: int) -> bool:
    """Whoever can read the message, until it is withdrawn."""
    try:
        message = access_message(user, message_id)
    except NotFound:
        return False
    return message.withdrawn_at is None
