"""Sockets end with what authenticated them, within a second: sign-out, token
revocation, disabling, password change or reset, second-factor reset, and the
session's idle and absolute limits. Real clients over WebSocket to the app
served on loopback (tests/auth/live.py); the cross-process case is in
test_socket_disconnect_cluster.py.

Each test is called right after the HTTP request that ends the session was
answered, and asserts the client's disconnect event came at most a second after
that answer; the figures printed (pytest -s) also count from sending it.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from hub.extensions import db, socketio
from hub.org.models import User
from tests.auth.live import open_socket, served
from tests.cast import PASSWORD

LIMIT = 1.0          # seconds


def within_a_second(sock, since: float, answered: float, what: str) -> None:
    """The socket closed at most a second after the hub answered the request that
    ended the session (the commit, and with it the close, comes before the
    answer). Timed from the answer, not from sending: on a loaded machine the
    request itself can take a while. Both figures are printed."""
    assert sock.closed.wait(5), f"{what}: still connected 5 s later"
    after_answer = sock.closed_at - answered
    print(f"\n{what}: socket closed {(sock.closed_at - since) * 1000:.0f} ms after the request "
          f"was sent, {after_answer * 1000:+.0f} ms from its answer")
    assert after_answer < LIMIT, f"{what}: {after_answer:.2f} s after the answer"


def still_open(*sockets) -> None:
    time.sleep(0.3)                      # a wrong close would have arrived by now
    assert all(sock.connected for sock in sockets)


def test_signing_out_closes_that_sessions_sockets_only(app):
    with served(app) as server:
        cookie = server.sign_in("kc_clerk")
        browser = open_socket(server, cookie=cookie)
        other_tab = open_socket(server, cookie=cookie)
        phone = open_socket(server, token=server.token("kc_clerk"))
        start = time.monotonic()
        assert server.request("POST", "/auth/logout", cookie=cookie).status == 302
        answered = time.monotonic()
        within_a_second(browser, start, answered, "sign-out")
        within_a_second(other_tab, start, answered, "sign-out")
        still_open(phone)                # another sign-in of the same person


def test_revoking_a_token_closes_its_sockets_only(app):
    with served(app) as server:
        token, kept = server.token("kc_clerk"), server.token("kc_clerk")
        sock = open_socket(server, token=token)
        other = open_socket(server, token=kept)
        start = time.monotonic()
        assert server.request("DELETE", "/api/v1/auth/token", token=token).status == 200
        within_a_second(sock, start, time.monotonic(), "token revoked")
        still_open(other)
        assert server.request("GET", "/api/v1/me", token=token).status == 401


def test_disabling_a_person_closes_all_their_sockets(app, ids):
    with served(app) as server:
        browser = open_socket(server, cookie=server.sign_in("mp_director"))
        phone = open_socket(server, token=server.token("mp_director"))
        bystander = open_socket(server, token=server.token("mp_secretary"))
        admin = server.token("kc_admin")
        start = time.monotonic()
        response = server.request("PATCH", f"/api/v1/people/{ids.user('mp_director')}", token=admin,
                                  json_body={"active": False})
        answered = time.monotonic()
        assert response.status == 200, response.body
        within_a_second(browser, start, answered, "person disabled")
        within_a_second(phone, start, answered, "person disabled")
        still_open(bystander)


def test_changing_ones_password_closes_all_ones_sockets(app):
    with served(app) as server:
        browser = open_socket(server, cookie=server.sign_in("kc_clerk"))
        token = server.token("kc_clerk")
        phone = open_socket(server, token=token)
        start = time.monotonic()
        response = server.request("POST", "/api/v1/me/password", token=token, json_body={
            "current_password": PASSWORD, "new_password": "Xin-mima-2026"})
        answered = time.monotonic()
        assert response.status == 200, response.body
        within_a_second(browser, start, answered, "password changed")
        within_a_second(phone, start, answered, "password changed")


def test_a_password_reset_by_an_admin_closes_the_persons_sockets(app, ids):
    with served(app) as server:
        browser = open_socket(server, cookie=server.sign_in("mp_director"))
        admin = server.token("kc_admin")
        start = time.monotonic()
        response = server.request("POST", f"/api/v1/people/{ids.user('mp_director')}/password",
                                  token=admin, json_body={"password": "Chong-zhi-2026"})
        answered = time.monotonic()
        assert response.status == 200, response.body
        within_a_second(browser, start, answered, "password reset")


def test_a_second_factor_reset_closes_the_persons_sockets(app):
    from hub.auth.second_factor import reset_second_factor
    with served(app) as server:
        phone = open_socket(server, token=server.token("kc_clerk"))
        with app.app_context():
            security = db.session.scalar(select(User).where(User.login == "sec_admin"))
            clerk = db.session.scalar(select(User).where(User.login == "kc_clerk"))
            start = time.monotonic()
            reset_second_factor(security, clerk)
        within_a_second(phone, start, time.monotonic(), "second factor reset")


@pytest.mark.parametrize("limit", ["PERMANENT_SESSION_LIFETIME", "SESSION_ABSOLUTE_LIFETIME"])
def test_a_socket_does_not_outlive_its_session(make_app, database_uri, limit):
    """Idle limit (no page request for that long) or absolute limit, both made
    two seconds here: the socket closes at the session's end, within a second."""
    app = make_app(database_uri, **{limit: timedelta(seconds=2)})
    with served(app) as server:
        signed_in = time.monotonic()
        cookie = server.sign_in("kc_clerk")
        sock = open_socket(server, cookie=cookie)
        phone = open_socket(server, token=server.token("kc_clerk"))     # a token lives 12 h
        assert sock.closed.wait(5), "still open 5 s after a 2-second session"
        late = sock.closed_at - (signed_in + 2)
        print(f"\n{limit}: socket closed {late * 1000:.0f} ms after the session's end")
        assert -0.1 < late < LIMIT
        assert phone.connected
        # And the ended session cannot open a new one.
        with pytest.raises(Exception):
            open_socket(server, cookie=cookie)


def test_an_ended_session_cannot_open_a_socket(make_app, database_uri):
    app = make_app(database_uri, SESSION_ABSOLUTE_LIFETIME=timedelta(seconds=-1))
    client = app.test_client()
    client.post("/auth/login", data={"login": "kc_clerk", "password": PASSWORD})
    assert not socketio.test_client(app, flask_test_client=client).is_connected()


def send(sock, channel_id: int = 1) -> dict:
    return sock.emit("send", {"channel_id": channel_id, "body": "值班表", "client_msg_id": "a1"},
                     callback=True)


def test_each_event_checks_the_session_version(app, client, login):
    """If the push that should close a socket was lost, its next event finds out."""
    login("kc_clerk")
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    with app.app_context():
        # Behind the hub's back: no action, no push.
        db.session.execute(text("UPDATE users SET session_version = session_version + 1 "
                                "WHERE login = 'kc_clerk'"))
        db.session.commit()
    answer = send(sock)
    assert answer["error"]["code"] == "not_authenticated"
    assert not sock.is_connected()


def test_each_event_checks_the_session_limits(app, client, login):
    login("kc_clerk")
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    app.config["SESSION_ABSOLUTE_LIFETIME"] = timedelta(seconds=-1)
    assert send(sock)["error"]["code"] == "not_authenticated"
    assert not sock.is_connected()
