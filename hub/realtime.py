"""Real time: rooms, emits after commit, and the authenticated connect.

The database is the record; an emit is only a push. Emits queued during a
transaction go out after it commits, and are dropped if it rolls back; the same
event queued for several rooms reaches each socket once.

Rooms: `user:<id>` for each person; `unit:<id>` for each unit a person belongs to
*and its ancestors* (so a notice to a subtree is one emit to its root's room);
`channel:<id>` for each channel they read. When memberships change, the live
sockets of the people concerned move rooms without reconnecting.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from socketio import RedisManager
from sqlalchemy.orm import Session, joinedload

from hub.extensions import db, socketio

NAMESPACE = "/"
# Domains add the rooms a person belongs to (channels adds channel rooms).
room_providers: list[Callable[[Any], Iterable[str]]] = []
_MANAGED = ("unit:", "member:", "channel:")


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def unit_room(unit_id: int) -> str:
    return f"unit:{unit_id}"


def member_room(unit_id: int) -> str:
    """The people of one unit itself (not of the units below it)."""
    return f"member:{unit_id}"


def channel_room(channel_id: int) -> str:
    return f"channel:{channel_id}"


def emit_on_commit(event: str, payload: dict[str, Any], *, to: str) -> None:
    """Queue a Socket.IO emit that goes out only if the current transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()             # so that a rollback, even before any SQL, drops it
    session.info.setdefault("pending_emits", []).append((event, payload, to))


def rooms_for(user) -> set[str]:
    """Every room a person's sockets belong in."""
    rooms = {user_room(user.id)}
    for membership in user.memberships:
        if membership.unit.active:
            rooms.update(unit_room(unit_id) for unit_id in membership.unit.path_ids)
            rooms.add(member_room(membership.unit_id))
    for provider in room_providers:
        rooms.update(provider(user))
    return rooms


def connected_user_ids() -> set[int]:
    """People with a live socket on this process."""
    server = getattr(socketio, "server", None)
    if server is None:
        return set()
    rooms = server.manager.rooms.get(NAMESPACE, {})
    return {int(room[5:]) for room, sids in rooms.items()
            if isinstance(room, str) and room.startswith("user:") and sids}


def resync_rooms_on_commit(user_ids: Iterable[int]) -> None:
    """Call after flush, before commit: work out the rooms of the people concerned
    who have live sockets here — or anywhere, with a message queue — and move
    those sockets once the commit succeeds."""
    from hub.org.models import User
    session = db.session()
    wanted = set(user_ids) if _queue() is not None else set(user_ids) & connected_user_ids()
    if not wanted:
        return
    if not session.in_transaction():
        session.begin()
    plans = session.info.setdefault("pending_rooms", {})
    for user_id in wanted:
        user = session.get(User, user_id)
        plans[user_id] = rooms_for(user) if user is not None and user.active else {user_room(user_id)}


def _move_sockets(user_id: int, rooms: set[str]) -> None:
    manager = socketio.server.manager
    for sid, _ in list(manager.get_participants(NAMESPACE, user_room(user_id))):
        current = {r for r in manager.get_rooms(sid, NAMESPACE) if r.startswith(_MANAGED)}
        for room in current - rooms:
            manager.leave_room(sid, NAMESPACE, room)
        for room in rooms - current:
            manager.enter_room(sid, NAMESPACE, room)


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    plans = session.info.pop("pending_rooms", {})
    for user_id, rooms in plans.items():
        _move_sockets(user_id, rooms)
    queue = _queue()
    if plans and queue is not None:
        queue.publish_rooms(plans)
    for event, payload, rooms in _coalesce(session.info.pop("pending_emits", [])):
        socketio.emit(event, payload, to=rooms[0] if len(rooms) == 1 else rooms)


def _coalesce(pending: list[tuple[str, Any, str]]) -> list[tuple[str, Any, list[str]]]:
    """One emit per event and payload, to all of its rooms at once, in the order
    first queued. python-socketio sends one emit to a list of rooms once to each
    socket, however many of those rooms it is in (on every process: each one
    delivers to its own sockets). So a notice to a subtree and to a person inside
    it arrives once, where one emit per room delivered it twice."""
    grouped: dict[tuple[str, str], tuple[str, Any, list[str]]] = {}
    for event, payload, room in pending:
        try:
            key = (event, json.dumps(payload, sort_keys=True, default=str))
        except (TypeError, ValueError):
            key = (event, f"object:{id(payload)}")
        rooms = grouped.setdefault(key, (event, payload, []))[2]
        if room not in rooms:
            rooms.append(room)
    return list(grouped.values())


@sa.event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    # Every rollback of the outermost transaction, including one that never
    # reached the database (after_rollback only fires for real DBAPI rollbacks).
    if previous_transaction.parent is None:
        session.info.pop("pending_emits", None)
        session.info.pop("pending_rooms", None)


ROOMS_EVENT = "__hub_rooms__"      # internal: never sent to a client


class HubRedisManager(RedisManager):
    """python-socketio's Redis manager, plus one internal message: "move this
    person's sockets to these rooms". A membership change on one process reaches
    the person's sockets on every other process (each moves the sockets it
    holds), through the same channel as the emits, so in order with them."""

    def publish_rooms(self, plans: dict[int, set[str]]) -> None:
        self._publish({"method": "emit", "event": ROOMS_EVENT, "namespace": NAMESPACE, "room": None,
                       "skip_sid": None, "callback": None, "host_id": self.host_id,
                       "data": {str(user_id): sorted(rooms) for user_id, rooms in plans.items()}})

    def _handle_emit(self, message):
        if message.get("event") != ROOMS_EVENT:
            return super()._handle_emit(message)
        for user_id, rooms in (message.get("data") or {}).items():
            _move_sockets(int(user_id), set(rooms))
        return None


def message_queue(url: str | None) -> dict[str, Any]:
    """socketio.init_app's arguments for the message queue at `url` (Redis), if any."""
    if not url:
        return {}
    if url.startswith(("redis://", "rediss://")):
        return {"client_manager": HubRedisManager(url, channel="flask-socketio")}
    return {"message_queue": url}


def _queue() -> HubRedisManager | None:
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
    from socketio import PubSubManager
    server = getattr(socketio, "server", None)
    if server is None or server.manager_initialized \
            or not isinstance(server.manager, PubSubManager):
        return
    server.manager_initialized = True      # what the first connection would set
    server.manager.initialize()


def socket_user():
    """The person behind the current Socket.IO event (set at connect)."""
    from flask import session as flask_session

    from hub.org.models import User
    user_id = flask_session.get("socket_user_id")
    # With the memberships in the same query: every handler checks access with
    # them (see docs/PERFORMANCE.md "Real time").
    user = db.session.get(User, user_id, options=[joinedload(User.memberships)]) \
        if user_id else None
    if user is None or not user.active:
        raise ConnectionRefusedError("unauthorized")
    return user


def register(app: Flask) -> None:
    @socketio.on("connect")
    def on_connect(auth: dict | None = None):
        from flask import session as flask_session
        user = current_user if current_user.is_authenticated else None
        token = auth.get("token") if isinstance(auth, dict) else None
        if token:
            from hub.auth.actions import user_for_token
            user = user_for_token(str(token))
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        # Flask-SocketIO keeps a per-connection copy of the session: remember who
        # this socket is, whichever way it authenticated.
        flask_session["socket_user_id"] = user.id
        for room in sorted(rooms_for(user)):
            join_room(room)
        return True
