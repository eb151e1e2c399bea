"""Several hub processes: the Redis message queue carries every emit, and two
internal messages of Hub's own — "move this person's sockets to these rooms"
and "close the sockets in these rooms" — so that a membership change or a
sign-out on one process reaches the person's sockets on every other process
(each acts on the sockets it holds), in order with the emits."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from socketio import PubSubManager, RedisManager

from hub.extensions import socketio
from hub.realtime.rooms import NAMESPACE, disconnect_rooms, move_sockets

ROOMS_EVENT = "__hub_rooms__"      # internal: never sent to a client
DISCONNECT_EVENT = "__hub_disconnect__"     # internal too


class HubRedisManager(RedisManager):
    """python-socketio's Redis manager, plus the two internal messages."""

    def _publish_internal(self, event: str, data: Any) -> None:
        self._publish({"method": "emit", "event": event, "namespace": NAMESPACE, "room": None,
                       "skip_sid": None, "callback": None, "host_id": self.host_id, "data": data})

    def publish_rooms(self, plans: dict[int, set[str]]) -> None:
        self._publish_internal(ROOMS_EVENT, {str(user_id): sorted(rooms)
                                             for user_id, rooms in plans.items()})

    def publish_disconnect(self, rooms: Iterable[str]) -> None:
        self._publish_internal(DISCONNECT_EVENT, sorted(rooms))

    def _handle_emit(self, message):
        event = message.get("event")
        if event == ROOMS_EVENT:
            for user_id, rooms in (message.get("data") or {}).items():
                move_sockets(int(user_id), set(rooms))
        elif event == DISCONNECT_EVENT:
            disconnect_rooms(message.get("data") or [])
        else:
            return super()._handle_emit(message)
        return None


def message_queue(url: str | None) -> dict[str, Any]:
    """socketio.init_app's arguments for the message queue at `url` (Redis), if any."""
    if not url:
        return {}
    if url.startswith(("redis://", "rediss://")):
        return {"client_manager": HubRedisManager(url, channel="flask-socketio")}
    return {"message_queue": url}


def queue() -> HubRedisManager | None:
    """This process's message queue, when there is one."""
    server = getattr(socketio, "server", None)
    manager = getattr(server, "manager", None)
    return manager if isinstance(manager, HubRedisManager) else None


def listen_to_message_queue() -> None:
    """Subscribe this process to the message queue (HUB_REDIS_URL) now.

    python-socketio subscribes a process on its first Socket.IO connection, in
    the background: what other processes emit before that subscription is made
    never reaches that first client. A server process calls this once at start
    (gunicorn.conf.py, post_worker_init) so that it listens before it serves.
    Without a queue, or when already listening, it does nothing."""
    server = getattr(socketio, "server", None)
    if server is None or server.manager_initialized \
            or not isinstance(server.manager, PubSubManager):
        return
    server.manager_initialized = True      # what the first connection would set
    server.manager.initialize()
