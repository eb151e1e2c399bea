"""Socket.IO: authenticated connect, unit rooms with ancestors, emit after commit."""
from __future__ import annotations

from hub.extensions import db, socketio
from hub.realtime import emit_on_commit, unit_room, user_room
from tests.factories import token_for


def test_connect_without_auth_is_refused(app):
    client = socketio.test_client(app)
    assert not client.is_connected()


def test_connect_with_a_bad_token_is_refused(app):
    client = socketio.test_client(app, auth={"token": "forged"})
    assert not client.is_connected()


def test_connect_with_a_session_cookie_works(app, client, login):
    login("kc_clerk")
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    sock.disconnect()


def test_emits_reach_the_units_rooms_with_ancestors_only_after_commit(app, ids):
    village_secretary = socketio.test_client(app, auth={"token": token_for(app, "mp_secretary")})
    other_county = socketio.test_client(app, auth={"token": token_for(app, "sf_member")})
    assert village_secretary.is_connected() and other_county.is_connected()
    with app.app_context():
        emit_on_commit("notice", {"id": 1}, to=unit_room(ids.unit("330802")))
        db.session.rollback()                    # dropped: never committed
        emit_on_commit("notice", {"id": 2}, to=unit_room(ids.unit("330802")))
        emit_on_commit("notice", {"id": 3}, to=user_room(ids.user("sf_member")))
        db.session.commit()
    received = [e["args"][0]["id"] for e in village_secretary.get_received() if e["name"] == "notice"]
    assert received == [2]
    assert [e["args"][0]["id"] for e in other_county.get_received()] == [3]
