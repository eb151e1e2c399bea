"""Bounds at the edge, as a rule over every route and event (issue 13, finding 10).

For every row of the authorization matrix that sends a JSON body — the anonymous
token endpoint among them — and for every Socket.IO event, the row's request is
sent by the first persona the matrix lets through, with:

(a) a body nested 1,000 levels deep (a RecursionError, once);
(b) the row's body with every integer replaced by 2**31, 2**63 and 2**64 (a
    driver overflow, once; PostgreSQL's integer ends at 2**31 - 1);
(c) the row's body with every list replaced by a list of 10,000 items (a SQL
    condition SQLite refuses, once).

Each must answer 400 naming a field: never 500, nor 503 database_unavailable.
The rows come from MATRIX, so a new route or event is covered once it has its row.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from hub.extensions import socketio
from tests.test_authz_matrix import (LOGINS, MATRIX, PERSONAS, Row, _fill, counted, sign_in,  # noqa: F401
                                     world)

DEEP = 1000
HUGE_INTEGERS = (2**31, 2**63, 2**64)
LONG_LIST = 10_000

# The arguments each Socket.IO event is sent with (the matrix's rows for events
# carry none): a new event fails test_every_event_has_a_body until it has one.
SOCKET_BODIES: dict[str, dict[str, Any]] = {
    "send": {"channel_id": "{channel}", "body": "水位正常", "client_msg_id": "limits-1",
             "attachment_ids": [], "mention_user_ids": ["{person}"]},
}

JSON_ROWS = [key for key, row in MATRIX.items() if row.json is not None]
EVENTS = [key.split(" ", 1)[1] for key in MATRIX if key.startswith("SOCKET ") and key != "SOCKET connect"]


def first_allowed(row: Row) -> str:
    """The first persona the matrix lets through this row's access check."""
    return next(persona for persona, cell in zip(PERSONAS, row.expect.split()) if cell == "ok")


def with_integers(value: Any, number: int) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return number
    if isinstance(value, list):
        return [with_integers(item, number) for item in value]
    if isinstance(value, dict):
        return {key: with_integers(item, number) for key, item in value.items()}
    return value


def with_long_lists(value: Any) -> Any:
    if isinstance(value, list):
        return [with_long_lists(value[0]) if value else 1] * LONG_LIST
    if isinstance(value, dict):
        return {key: with_long_lists(item) for key, item in value.items()}
    return value


def has(value: Any, kind: type) -> bool:
    if isinstance(value, kind) and not isinstance(value, bool):
        return True
    if isinstance(value, list):
        return any(has(item, kind) for item in value)
    if isinstance(value, dict):
        return any(has(item, kind) for item in value.values())
    return False


def deep_text(body: Any) -> str:
    """The body with its first field's value (or a field "x") nested DEEP levels;
    written as text, since json.dumps itself would recurse too deeply."""
    key = next(iter(body), "x") if isinstance(body, dict) else "x"
    return "{" + json.dumps(key) + ": " + "[" * DEEP + "]" * DEEP + "}"


def variants(body: Any) -> list[tuple[str, str]]:
    """(what, JSON text) for the bodies a row is sent with."""
    sent = [("nested 1,000 deep", deep_text(body))]
    if has(body, int):
        sent += [(f"integers {number}", json.dumps(with_integers(body, number))) for number in HUGE_INTEGERS]
    if has(body, list):
        sent.append(("lists of 10,000", json.dumps(with_long_lists(body))))
    return sent


def refused_naming_a_field(status: int, answer: Any, what: str, where: str) -> str | None:
    """Why the answer is not a 400 naming a field, or None."""
    error = (answer or {}).get("error") if isinstance(answer, dict) else None
    if status == 400 and error and error.get("code") == "invalid_input" and error.get("field"):
        return None
    return f"{where} with {what}: {status} {answer}"


@pytest.mark.parametrize("key", JSON_ROWS)
def test_every_json_route_refuses_bodies_beyond_the_bounds(world, key):  # noqa: F811
    row = MATRIX[key]
    method, _route = key.split(" ", 1)
    persona = first_allowed(row)
    wrong = []
    for number in range(len(variants(_fill(row.json, world.ids)))):
        ids = dict(world.ids)
        if row.prepare is not None:
            ids.update(row.prepare(world))          # fresh objects, as the matrix makes them
        what, text = variants(_fill(row.json, ids))[number]
        client = sign_in(world.app, LOGINS[persona])[1] if row.fresh else world.api[persona]
        path = row.path.format(**ids)
        response = client.open(path, method=method, data=text, content_type="application/json")
        problem = refused_naming_a_field(response.status_code, response.get_json(silent=True), what,
                                         f"{persona} {method} {path}")
        if problem:
            wrong.append(problem)
    assert wrong == [], "\n".join(wrong)


def test_the_anonymous_token_endpoint_is_among_them():
    assert "POST /api/v1/auth/token" in JSON_ROWS
    assert first_allowed(MATRIX["POST /api/v1/auth/token"]) == "anon"


def test_every_event_has_a_body():
    assert sorted(EVENTS) == sorted(SOCKET_BODIES)


def emit_text(client, event: str, arguments_text: str) -> Any:
    """Emit an event whose arguments are given as JSON text (a body nested
    1,000 deep cannot be encoded by json.dumps), the way the test client does."""
    client.callback_counter += 1
    packet = f'2{client.callback_counter}[{json.dumps(event)},{arguments_text}]'
    socketio.server._handle_eio_message(client.eio_sid, packet)
    ack, client.acks = client.acks, None
    assert ack is not None, f"no answer to {event}"
    return ack["args"][0] if len(ack["args"]) == 1 else ack["args"]


@pytest.mark.parametrize("event", EVENTS)
def test_every_event_refuses_payloads_beyond_the_bounds(world, event):  # noqa: F811
    persona = first_allowed(MATRIX[f"SOCKET {event}"])
    client = socketio.test_client(world.app, auth={"token": world.tokens[persona]})
    wrong = []
    try:
        assert client.is_connected()
        for what, text in variants(_fill(SOCKET_BODIES[event], world.ids)):
            answer = emit_text(client, event, text)
            problem = refused_naming_a_field(400 if "error" in (answer or {}) else 200, answer, what,
                                             f"{persona} SOCKET {event}")
            if problem:
                wrong.append(problem)
        # Still connected, and a sound payload still goes through.
        good = emit_text(client, event, json.dumps(_fill(SOCKET_BODIES[event], world.ids)))
        assert "error" not in good, good
    finally:
        if client.is_connected():
            client.disconnect()
    assert wrong == [], "\n".join(wrong)



def test_an_audience_of_a_thousand_positions_is_a_400_not_a_database_error(app, api, ids):
    """Within the edge's bound on lists, yet one SQL condition too many for SQLite
    ("expression tree is too large", answered 503 once): refused by the audience's own bound."""
    town = ids.unit("330802100")
    positions = [{"unit_id": town, "position": f"网格员{i}"} for i in range(1000)]
    leader = api("sl_leader")
    for path in ("/api/v1/notices/preview", "/api/v1/notices"):
        response = leader.post(path, json={"title": "关于防汛值班的通知", "summary": "今晚起值班",
                                           "audience": {"positions": positions}})
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["error"]["field"] == "audience.positions"
    fits = leader.post("/api/v1/notices/preview", json={"audience": {"positions": positions[:300]}})
    assert fits.status_code == 200, fits.get_json()
