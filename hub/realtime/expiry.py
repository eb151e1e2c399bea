"""Sockets end when their session or token would: each process closes its own
sockets at their deadline (the idle or absolute limit of the session, a token's
expiry), checked four times a second by one background task."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from hub.extensions import socketio
from hub.realtime.rooms import NAMESPACE

log = logging.getLogger(__name__)

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
