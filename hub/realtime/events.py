"""Socket.IO events: payloads within the same bounds as HTTP bodies
(SocketJSON, hub/validation.py), handlers registered through on_event, and
one answer for whatever a handler raises (answer_event_error): a HubError is
answered as the HTTP API would ({"error": {code, message, field?}}) after a
rollback, so handlers need no try/except of their own."""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import gettext as _

from hub.errors import HubError, InvalidInput, database_trouble
from hub.extensions import db, socketio
from hub.validation import load_json

log = logging.getLogger(__name__)


class RefusedPayload:
    """What a Socket.IO event's arguments become when they break the bounds
    of hub/validation.py load_json: handlers registered with on_event answer
    the 400 without being called."""

    def __init__(self, text: str) -> None:
        self.text = text

    def error(self) -> Any:
        """The InvalidInput, made again here, in the event's request context
        (the packet is decoded before there is one): in the reader's language."""
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


def answer_event_error(error: Exception) -> Any:
    """The answer to an event whose handler raised (Flask-SocketIO's default
    error handler). A HubError is the caller's to act on: rolled back and
    answered like the HTTP API. The database being unreachable or full is
    answered like the HTTP API too (503 / 507 codes) so the client knows nothing
    was stored and may retry with the same client_msg_id; anything else is
    logged and answered as an internal error, never left without an answer. A
    failed connect is refused."""
    event = (getattr(request, "event", None) or {}).get("message", "?")
    if isinstance(error, HubError):
        _rollback()
        return False if event == "connect" else error.to_json()
    trouble = database_trouble(error, f"socket event {event}")
    if trouble is None:
        log.exception("unhandled error in socket event %s", event, exc_info=error)
        _rollback()
        code, message = "internal_error", _("服务器内部错误")
    else:
        _status, code, message = trouble
    if event == "connect":
        return False
    return {"error": {"code": code, "message": message}}


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:            # noqa: BLE001 — the answer matters more than the rollback
        pass
