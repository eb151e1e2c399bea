"""Socket.IO and sign-in: who a socket is, and when it must end.

A socket authenticates once, at connect, with an API token or the browser
session cookie. It then lives no longer than what authenticated it:
- it is closed within a second when the person signs out (that session's
  sockets), revokes the token (that token's sockets), changes or is reset a
  password, is disabled, or has the second factor reset (all their sockets: the
  session version changes, see _end_sockets_of_ended_sessions);
- it is closed at the latest when the session or token would expire (the idle
  limit counted from the last page request before it connected, or the absolute
  limit), by hub.realtime's watcher, and refused on its next event if that was
  missed.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import request
from flask import session as flask_session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, join_room
from sqlalchemy.orm import Session, joinedload

from hub.auth import sessions
from hub.auth.actions import valid_token
from hub.auth.models import ApiToken
from hub.errors import NotAuthenticated
from hub.extensions import db, socketio
from hub.org.models import User
from hub.realtime import (disconnect_on_commit, end_socket_at, person_loader, rooms_for, sign_in_room,
                          token_room, user_room)


@dataclass
class SocketAuth:
    """What authenticated a socket: the person, how, and until when."""

    user: User
    kind: str                       # "session" or "token"
    deadline: float                 # UNIX time
    rooms: set[str] = field(default_factory=set)

    def remember(self) -> dict[str, Any]:
        """What the socket's copy of the session keeps for socket_still_valid."""
        return {"socket_user_id": self.user.id, "socket_version": self.user.session_version,
                "socket_auth": self.kind, "socket_deadline": self.deadline}


def authenticate_socket(auth: Any) -> SocketAuth:
    """At connect: a token in `auth`, or else the session cookie. Refused when
    neither is valid, or the session is past its limits."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        record = valid_token(str(token))
        if record is None:
            raise ConnectionRefusedError("unauthorized")
        if sessions.password_change_required(record.user):
            raise ConnectionRefusedError("password_change_required")
        return SocketAuth(record.user, "token", record.expires_at.timestamp(),
                          {token_room(record.id)})
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("unauthorized")
    if sessions.password_change_required(current_user):
        raise ConnectionRefusedError("password_change_required")
    ends = sessions.deadline(flask_session)
    if ends is None or ends <= time.time() or sessions.signed_out(flask_session):
        raise ConnectionRefusedError("session expired")
    sign_in_id = flask_session.get("sign_in_id")
    return SocketAuth(current_user._get_current_object(), "session", ends,
                      {sign_in_room(sign_in_id)} if sign_in_id else set())


def socket_still_valid(user: User, data: Mapping[str, Any]) -> bool:
    """On every event: the person is still active, no password change or reset
    happened since connect, the password has not since become one that must be
    changed (it aged past the maximum), and the session or token has not run
    out (a session's limits are read again, so a shortened limit applies at once)."""
    if not user.active or user.session_version != data.get("socket_version"):
        return False
    if sessions.password_change_required(user):
        return False
    ends = data.get("socket_deadline") or 0
    if data.get("socket_auth") == "session":
        ends = min(ends, sessions.deadline(data) or 0)
    return time.time() < ends


@sa.event.listens_for(Session, "after_flush")
def _end_sockets_of_ended_sessions(session: Session, flush_context) -> None:
    """Whatever bumps a person's session version (User.end_sessions: a password
    change or reset, disabling the account, resetting the second factor, a grant
    that needs a second factor) also deletes their API tokens, in the same
    transaction, and closes their sockets once it commits."""
    ended = [obj.id for obj in session.dirty
             if isinstance(obj, User) and sa.inspect(obj).attrs.session_version.history.has_changes()]
    if not ended:
        return
    session.connection().execute(sa.delete(ApiToken).where(ApiToken.user_id.in_(ended)))
    for user_id in ended:
        disconnect_on_commit(user_room(user_id), session)


def on_connect(auth: dict | None = None) -> bool:
    """A socket connects with a token or the session cookie (authenticate_socket
    refuses otherwise), joins its person's rooms and those of what authenticated
    it, and is set to end when that would."""
    who = authenticate_socket(auth)          # refuses with ConnectionRefusedError
    # Flask-SocketIO keeps a per-connection copy of the session: remember who
    # this socket is and until when, whichever way it authenticated.
    flask_session.update(who.remember())
    for room in sorted(rooms_for(who.user) | who.rooms):
        join_room(room)
    end_socket_at(request.sid, who.deadline)
    return True


def register_connect() -> None:
    """Attach the connect handler to the current Socket.IO server (each
    create_app makes a new one), and teach the rooms how to load a person."""
    socketio.on_event("connect", on_connect)
    if not person_loader:
        person_loader.append(lambda user_id: db.session.get(User, user_id))


def socket_user():
    """The person behind the current Socket.IO event (set at connect). A socket
    whose session or token has ended meanwhile is closed here, and the event
    refused, even if the push that should have closed it was lost."""
    user_id = flask_session.get("socket_user_id")
    # With the memberships in the same query: every handler checks access with
    # them (see docs/PERFORMANCE.md "Real time").
    user = db.session.get(User, user_id, options=[joinedload(User.memberships)]) \
        if user_id else None
    if user is None or not socket_still_valid(user, flask_session):
        disconnect()
        raise NotAuthenticated(_("登录已失效，请重新登录"))
    return user
