"""Emits after commit. The database is the record; an emit is only a push.
Emits queued during a transaction go out after it commits, and are dropped if
it rolls back; the same event queued for several rooms reaches each socket once.
Room moves (memberships changed) and closings (a sign-out, a revoked token, a
password change) are queued the same way."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.extensions import db, socketio
from hub.realtime.cluster import queue
from hub.realtime.rooms import (connected_user_ids, disconnect_rooms, load_person, move_sockets, rooms_for,
                                user_room)


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


def resync_rooms_on_commit(user_ids: Iterable[int]) -> None:
    """Call after flush, before commit: work out the rooms of the people concerned
    who have live sockets here — or anywhere, with a message queue — and move
    those sockets once the commit succeeds."""
    session = db.session()
    wanted = set(user_ids) if queue() is not None else set(user_ids) & connected_user_ids()
    if not wanted:
        return
    if not session.in_transaction():
        session.begin()
    plans = session.info.setdefault("pending_rooms", {})
    for user_id in wanted:
        user = load_person(user_id)
        plans[user_id] = rooms_for(user) if user is not None and user.active else {user_room(user_id)}


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    hub_queue = queue()
    ended = session.info.pop("pending_disconnects", None)
    if ended:
        disconnect_rooms(ended)
        if hub_queue is not None:
            hub_queue.publish_disconnect(ended)
    plans = session.info.pop("pending_rooms", {})
    for user_id, rooms in plans.items():
        move_sockets(user_id, rooms)
    if plans and hub_queue is not None:
        hub_queue.publish_rooms(plans)
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
