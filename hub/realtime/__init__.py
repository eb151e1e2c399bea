"""Real time over Socket.IO, part of the shared core (it imports no domain):

- rooms.py: room names, which rooms a person's sockets are in, moving and
  closing this process's sockets;
- outbox.py: emits, room moves and closings queued in a transaction and sent
  only after it commits (dropped on rollback);
- cluster.py: the Redis message queue between processes, with Hub's two
  internal messages (move rooms, close rooms);
- expiry.py: sockets closed when their session or token would end;
- events.py: bounded payloads, on_event, and the one answer to a handler's error.

Who a socket is — connecting and socket_user() — belongs to hub.auth
(hub/auth/sockets.py), which registers the connect handler. The names below
are the ones the domains use.
"""
from __future__ import annotations

from flask import Flask

from hub.extensions import socketio
from hub.realtime.cluster import listen_to_message_queue, message_queue
from hub.realtime.events import SocketJSON, answer_event_error, on_event
from hub.realtime.expiry import end_socket_at
from hub.realtime.outbox import disconnect_on_commit, emit_on_commit, resync_rooms_on_commit
from hub.realtime.rooms import (channel_room, member_room, person_loader, room_providers, rooms_for,
                                sign_in_room, token_room, unit_room, user_room)

__all__ = ["SocketJSON", "channel_room", "disconnect_on_commit", "emit_on_commit", "end_socket_at",
           "listen_to_message_queue", "member_room", "message_queue", "on_event", "person_loader",
           "register", "resync_rooms_on_commit", "room_providers", "rooms_for", "sign_in_room",
           "token_room", "unit_room", "user_room"]


def register(app: Flask) -> None:
    """Every event's errors get one answer (events.answer_event_error)."""
    socketio.on_error_default(answer_event_error)
