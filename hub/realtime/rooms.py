"""Socket.IO rooms: their names, which rooms a person's sockets belong in, and
moving or closing this process's sockets.

`user:<id>` for each person; `unit:<id>` for each unit a person belongs to *and
its ancestors* (so a notice to a subtree is one emit to its root's room);
`member:<id>` for the people of one unit itself; `channel:<id>` for each channel
they read (added by the channels domain through `room_providers`); `signin:<id>`
and `token:<id>` for what authenticated the socket (hub/auth/sockets.py).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hub.extensions import socketio

NAMESPACE = "/"
# Domains add the rooms a person belongs to (channels adds channel rooms).
room_providers: list[Callable[[Any], Iterable[str]]] = []
# Loads a person by id for resync_rooms_on_commit (set by hub.auth, which knows
# the model): the core imports no domain.
person_loader: list[Callable[[int], Any]] = []
# The rooms that follow memberships and are moved when they change.
MANAGED = ("unit:", "member:", "channel:")


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


def load_person(user_id: int) -> Any:
    return person_loader[0](user_id) if person_loader else None


def connected_user_ids() -> set[int]:
    """People with a live socket on this process."""
    server = getattr(socketio, "server", None)
    if server is None:
        return set()
    rooms = server.manager.rooms.get(NAMESPACE, {})
    return {int(room[5:]) for room, sids in rooms.items()
            if isinstance(room, str) and room.startswith("user:") and sids}


def move_sockets(user_id: int, rooms: set[str]) -> None:
    """This process's sockets of the person leave and join rooms to be in `rooms`."""
    manager = socketio.server.manager
    for sid, _eio_sid in list(manager.get_participants(NAMESPACE, user_room(user_id))):
        current = {r for r in manager.get_rooms(sid, NAMESPACE) if r.startswith(MANAGED)}
        for room in current - rooms:
            manager.leave_room(sid, NAMESPACE, room)
        for room in rooms - current:
            manager.enter_room(sid, NAMESPACE, room)


def disconnect_rooms(rooms: Iterable[str]) -> None:
    """Close this process's sockets in `rooms`."""
    server = getattr(socketio, "server", None)
    if server is None:
        return
    sids = {sid for room in rooms for sid, _ in server.manager.get_participants(NAMESPACE, room)}
    for sid in sids:
        server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
