"""Real time: rooms, emits after commit, and the authenticated connect.

The database is the record; an emit is only a push. Emits queued during a
transaction go out after it commits, and are dropped if it rolls back.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy.orm import Session

from hub.extensions import db, socketio


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def unit_room(unit_id: int) -> str:
    return f"unit:{unit_id}"


def emit_on_commit(event: str, payload: dict[str, Any], *, to: str) -> None:
    """Queue a Socket.IO emit that goes out only if the current transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()             # so that a rollback, even before any SQL, drops it
    session.info.setdefault("pending_emits", []).append((event, payload, to))


@sa.event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for event, payload, room in session.info.pop("pending_emits", []):
        socketio.emit(event, payload, to=room)


@sa.event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    # Every rollback of the outermost transaction, including one that never
    # reached the database (after_rollback only fires for real DBAPI rollbacks).
    if previous_transaction.parent is None:
        session.info.pop("pending_emits", None)


def rooms_for(user) -> list[str]:
    """The user's own room and a room for every unit they belong to and its ancestors."""
    rooms = {user_room(user.id)}
    for membership in user.memberships:
        for unit_id in membership.unit.path_ids:
            rooms.add(unit_room(unit_id))
    return sorted(rooms)


def register(app: Flask) -> None:
    @socketio.on("connect")
    def on_connect(auth: dict | None = None):
        user = current_user if current_user.is_authenticated else None
        token = (auth or {}).get("token") if isinstance(auth, dict) else None
        if token:
            from hub.auth.actions import user_for_token
            user = user_for_token(str(token))
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        for room in rooms_for(user):
            join_room(room)
        return True
