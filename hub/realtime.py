"""Real time: rooms, emits after commit, and the authenticated connect.

The database is the record; an emit is only a push. Emits queued during a
transaction go out after it commits, and are dropped if it rolls back; the same
event queued for several rooms reaches each socket once.

Rooms: `user:<id>` for each person; `unit:<id>` for each unit a person belongs to
*and its ancestors* (so a notice to a subtree is one emit to its root's room);
`channel:<id>` for each channel they read. When memberships change, the live
sockets of the people concerned move rooms without reconnecting.

Sockets end with what authenticated them (docs/SECURITY.md, "Signing in"): each
socket is also in `signin:<id>` (the browser session it came with) or
`token:<id>` (its API token), and disconnect_on_commit closes a room's sockets
on every process once a sign-out, token revocation or password change commits.
A socket is closed at the latest when its session or token would expire.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from flask_babel import gettext as _
from flask_socketio import disconnect, join_room
from socketio import RedisManager
from sqlalchemy.orm import Session, joinedload

from hub.errors import NotAuthenticated
from hub.extensions import db, socketio

log = logging.getLogger(__name__)

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


def sign_in_room(sign_in_id: str) -> str:
    """The sockets opened with one browser session (one sign-in)."""
    return f"signin:{sign_in_id}"


def token_room(token_id: int) -> str:
    """The sockets opened with one API token."""
    return f"token:{token_id}"


def emit_on_commit(event: str, payload: dict[str, Any], *, to: str) -> None:
    """Queue a Socket.IO emit that goes out only if the current transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()             # so that a rollback, even before any SQL, drops it
    session.info.setdefault("pending_emits", []).append((event, payload, to))


def disconnect_on_commit(room: str, session: Session | None = None) -> None:
    """Close every socket in `room`, on every process, once the current
    transaction commits (dropped if it rolls back)."""
    session = session if session is not None else db.session()
    if not session.in_transaction():
        session.begin()
    session.info.setdefault("pending_disconnects", set()).add(room)


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
    for sid, _eio_sid in list(manager.get_participants(NAMESPACE, user_room(user_id))):
        current = {r for r in manager.get_rooms(sid, NAMESPACE) if r.startswith(_MANAGED)}
        for room in current - rooms:
            manager.leave_room(sid, NAMESPACE, room)
        for room in rooms - current:
            manager.enter_room(sid, NAMESPACE, room)


def _disconnect_rooms(rooms: Iterable[str]) -> None:
    """Close this process's sockets in `rooms`."""
    server = getattr(socketio, "server", None)
    if server is None:
        return
    sids = {sid for room in rooms for sid, _ in server.manager.get_participants(NAMESPACE, room)}
    for sid in sids:
        server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    queue = _queue()
    ended = session.info.pop("pending_disconnects", None)
    if ended:
        _disconnect_rooms(ended)
        if queue is not None:
            queue.publish_disconnect(ended)
    plans = session.info.pop("pending_rooms", {})
    for user_id, rooms in plans.items():
        _move_sockets(user_id, rooms)
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
        session.info.pop("pending_disconnects", None)


ROOMS_EVENT = "__hub_rooms__"      # internal: never sent to a client
DISCONNECT_EVENT = "__hub_disconnect__"     # internal too


class HubRedisManager(RedisManager):
    """python-socketio's Redis manager, plus two internal messages: "move this
    person's sockets to these rooms" and "close the sockets in these rooms". A
    membership change or a sign-out on one process reaches the person's sockets
    on every other process (each acts on the sockets it holds), through the same
    channel as the emits, so in order with them."""

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
                _move_sockets(int(user_id), set(rooms))
        elif event == DISCONNECT_EVENT:
            _disconnect_rooms(message.get("data") or [])
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


# Sockets to close when their session or token runs out: sid -> (server, UNIX
# time). One background task per process checks them every WATCH_INTERVAL, so a
# socket ends within that of its deadline; entries of sockets that closed by
# themselves are dropped every PRUNE_EVERY rounds.
WATCH_INTERVAL = 0.25
PRUNE_EVERY = 40
_ending: dict[str, tuple[Any, float]] = {}
_ending_lock = threading.Lock()
_watching = False


def end_socket_at(sid: str, deadline: float) -> None:
    """Close socket `sid` of this process at `deadline` (UNIX time) if still open."""
    global _watching
    with _ending_lock:
        _ending[sid] = (socketio.server, deadline)
        start = not _watching
        _watching = True
    if start:
        socketio.start_background_task(_watch)


def _watch() -> None:
    rounds = 0
    while True:
        socketio.sleep(WATCH_INTERVAL)
        rounds += 1
        try:
            _close_expired(prune=rounds % PRUNE_EVERY == 0)
        except Exception:                    # keep watching whatever one round met
            log.exception("closing expired sockets")


def _close_expired(*, prune: bool) -> None:
    now = time.time()
    with _ending_lock:
        due = [(sid, server) for sid, (server, deadline) in _ending.items() if deadline <= now]
        for sid, _server in due:
            del _ending[sid]
        if prune:
            for sid in [sid for sid, (server, _) in _ending.items()
                        if not server.manager.is_connected(sid, NAMESPACE)]:
                del _ending[sid]
    for sid, server in due:
        if server.manager.is_connected(sid, NAMESPACE):
            server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)


def socket_user():
    """The person behind the current Socket.IO event (set at connect). A socket
    whose session or token has ended meanwhile is closed here, and the event
    refused, even if the push that should have closed it was lost."""
    from flask import session as flask_session

    from hub.auth.sockets import socket_still_valid
    from hub.org.models import User
    user_id = flask_session.get("socket_user_id")
    # With the memberships in the same query: every handler checks access with
    # them (see docs/PERFORMANCE.md "Real time").
    user = db.session.get(User, user_id, options=[joinedload(User.memberships)]) \
        if user_id else None
    if user is None or not socket_still_valid(user, flask_session):
        disconnect()
        raise NotAuthenticated(_("登录已失效，请重新登录"))
    return user


class RefusedPayload:
    """What a Socket.IO event's arguments become when they break the bounds
    of hub/validation.py load_json: handlers registered with on_event answer
    the 400 without being called."""

    def __init__(self, text: str) -> None:
        self.text = text

    def error(self) -> Any:
        """The InvalidInput, made again here, in the event's request context
        (the packet is decoded before there is one): in the reader's language."""
        from hub.errors import InvalidInput
        from hub.validation import load_json
        try:
            load_json(self.text)
        except InvalidInput as problem:
            return problem
        return InvalidInput(_("请求体必须是 JSON 对象"), field="body")


class SocketJSON:
    """The JSON of Socket.IO packets (socketio.init_app(json=...)): the same
    bounds as HTTP bodies. An event packet beyond them keeps its event name, its
    arguments replaced by a RefusedPayload, so that the client's acknowledgement
    carries the 400; anything else beyond them is not a packet (ValueError)."""

    @staticmethod
    def dumps(*args: Any, **kwargs: Any) -> str:
        return json.dumps(*args, **kwargs)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        from hub.errors import InvalidInput
        from hub.validation import load_json
        if isinstance(text, (bytes, bytearray)):
            text = text.decode("utf-8", "surrogatepass")
        if not text.lstrip().startswith(("[", "{")):
            return json.loads(text, **kwargs)        # Engine.IO tries every packet; cheap refusal
        try:
            return load_json(text, **kwargs)
        except InvalidInput as problem:
            event = _event_name(text)
            if event is None:
                raise ValueError(problem.message) from None
            return [event, RefusedPayload(text)]


def _event_name(text: str) -> str | None:
    """The event name that opens an event packet's JSON array, if it does."""
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        return None
    decoder = json.JSONDecoder()
    position = start + 1
    while position < len(text) and text[position].isspace():
        position += 1
    try:
        name, _end = decoder.raw_decode(text, position)
    except ValueError:
        return None
    return name if isinstance(name, str) else None


def on_event(name: str, handler: Callable[..., Any]) -> None:
    """Register a Socket.IO event handler that answers a payload beyond the
    bounds (RefusedPayload) with its 400 instead of being called."""
    @functools.wraps(handler)
    def checked(*args: Any) -> Any:
        for arg in args:
            if isinstance(arg, RefusedPayload):
                return arg.error().to_json()
        return handler(*args)
    socketio.on_event(name, checked)


def register(app: Flask) -> None:
    @socketio.on("connect")
    def on_connect(auth: dict | None = None):
        from flask import session as flask_session

        from hub.auth.sockets import authenticate_socket
        who = authenticate_socket(auth)          # refuses with ConnectionRefusedError
        # Flask-SocketIO keeps a per-connection copy of the session: remember who
        # this socket is and until when, whichever way it authenticated.
        flask_session.update(who.remember())
        for room in sorted(rooms_for(who.user) | who.rooms):
            join_room(room)
        end_socket_at(request.sid, who.deadline)
        return True

    socketio.on_error_default(answer_event_error)


def answer_event_error(error: Exception) -> Any:
    """An event's handler failed with something it does not answer itself (it
    answers HubErrors). The database being unreachable or full is answered like
    the HTTP API (503 / 507 codes) so the client knows nothing was stored and may
    retry with the same client_msg_id; anything else is logged and answered as an
    internal error, never left without an answer. A failed connect is refused."""
    from hub.errors import database_trouble
    event = (getattr(request, "event", None) or {}).get("message", "?")
    trouble = database_trouble(error, f"socket event {event}")
    if trouble is None:
        log.exception("unhandled error in socket event %s", event, exc_info=error)
        try:
            db.session.rollback()
        except Exception:            # noqa: BLE001 — the answer matters more than the rollback
            pass
        from flask_babel import gettext as _
        code, message = "internal_error", _("服务器内部错误")
    else:
        _status, code, message = trouble
    if event == "connect":
        return False
    return {"error": {"code": code, "message": message}}
