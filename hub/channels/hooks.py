"""How channels follow the org tree: rooms for live sockets, merges, new units."""
from __future__ import annotations

from hub.channels import actions, queries
from hub.channels.models import Channel
from hub.extensions import db
from hub.org import actions as org_actions
from hub.realtime import channel_room, room_providers

_connected = False


def channel_rooms(user) -> list[str]:
    query = queries.readable_channels(user, include_archived=False).with_only_columns(Channel.id)
    return [channel_room(i) for i in db.session.scalars(query)]


def _on_units_merged(source, target) -> None:
    actions.follow_unit_merge(source, target)


def _on_units_created(sender) -> None:
    actions.ensure_unit_channels()


def connect_hooks() -> None:
    """Once per process (signals and providers are process-wide)."""
    global _connected
    if _connected:
        return
    _connected = True
    room_providers.append(channel_rooms)
    org_actions.units_merged.connect(_on_units_merged)
    org_actions.units_created.connect(_on_units_created)
