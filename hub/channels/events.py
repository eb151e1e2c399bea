"""Socket.IO handlers for channels: thin — parse, access, one action, answer.
A HubError raised here is answered {"error": {...}} by hub.realtime's error
handler, after a rollback."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import inspect

from hub.auth.sockets import socket_user
from hub.channels import messages
from hub.channels.access import access_channel
from hub.channels.messages import Acknowledged, MessageDraft
from hub.errors import InvalidInput
from hub.realtime import on_event


def on_send(data: Any) -> dict[str, Any]:
    """Post a message. The answer carries the id only after the commit."""
    user = socket_user()
    if not isinstance(data, dict) or not isinstance(data.get("channel_id"), int):
        raise InvalidInput(_("缺少 channel_id"), field="channel_id")
    channel = access_channel(user, data["channel_id"])
    draft = MessageDraft.from_json(data)
    result, _posted = messages.post_message(user, channel, draft)
    if isinstance(result, Acknowledged):
        return {"acknowledged": result.message.id}
    # post_message committed, which expired `result`: its id needs no reload.
    return {"id": inspect(result).identity[0], "client_msg_id": draft.client_msg_id}


def register_events() -> None:
    """Attach the handlers to the current Socket.IO server (each create_app makes
    a new one, so decorating at import time would bind only the first). Through
    on_event: a payload beyond hub/validation.py's bounds is answered 400."""
    on_event("send", on_send)
