"""Session fixation, the framework defaults Hub overrides, and the password rules
the existing sign-in tests do not reach (tests/auth/test_sign_in.py has lockout,
idle and absolute limits and the session version; tests/test_app.py the
HttpOnly and SameSite flags)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.extensions import db
from hub.org.models import User
from tests.cast import PASSWORD


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("hub_session")
    return cookie.value if cookie else None


def test_sign_in_rotates_the_session(app, client):
    # An attacker plants a session of their own in the victim's browser ...
    with client.session_transaction() as planted:
        planted["planted"] = "by the attacker"
    before = session_cookie(client)
    assert before
    response = client.post("/auth/login", data={"login": "kc_clerk", "password": PASSWORD})
    assert response.status_code == 302
    after = session_cookie(client)
    assert after and after != before
    with client.session_transaction() as state:
        assert "planted" not in state and state["sign_in_id"]
    # ... and the cookie they know does not open the victim's pages.
    attacker = app.test_client()
    attacker.set_cookie("hub_session", before)
    assert attacker.get("/").status_code == 302
    assert attacker.get("/api/v1/me").status_code == 401


def test_each_sign_in_is_a_new_session(client, login):
    login("kc_clerk")
    with client.session_transaction() as state:
        first = state["sign_in_id"]
    client.post("/auth/logout")
    login("kc_clerk")
    with client.session_transaction() as state:
        assert state["sign_in_id"] != first


def test_no_remember_me_cookie_and_a_30_minute_session(app, client, login):
    response = login("kc_clerk")
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token") for c in cookies)
    assert app.permanent_session_lifetime == timedelta(minutes=30)     # not Flask's 31 days
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(0)      # not Flask-Login's 365


def test_secure_cookies_behind_https(make_app, database_uri):
    app = make_app(database_uri, SESSION_COOKIE_SECURE=True)
    response = app.test_client().post("/auth/login", data={"login": "kc_clerk", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_config_defaults_fix_the_framework_defaults():
    from config import Config
    assert Config.SESSION_COOKIE_HTTPONLY is True and Config.SESSION_COOKIE_SAMESITE == "Lax"
    assert Config.PERMANENT_SESSION_LIFETIME == timedelta(minutes=30)
    assert Config.SESSION_ABSOLUTE_LIFETIME == timedelta(hours=12)
    assert Config.MAX_CONTENT_LENGTH == 20 * 1024 * 1024


def test_request_bodies_have_a_limit(make_app, database_uri):
    app = make_app(database_uri, MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/api/v1/auth/token",
                                      json={"login": "kc_clerk", "password": "x" * 2048})
    assert response.status_code == 413


def test_passwords_are_stored_as_argon2id(app, api):
    api("kc_clerk").post("/api/v1/me/password",
                         json={"current_password": PASSWORD, "new_password": "Xin-mima-2026"})
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.login == "kc_clerk"))
    assert stored.startswith("$argon2id$") and "Xin-mima" not in stored


def test_password_needs_three_character_classes(api):
    clerk = api("kc_clerk")
    two = clerk.post("/api/v1/me/password",
                     json={"current_password": PASSWORD, "new_password": "abcdefgh12"})
    assert two.status_code == 400 and two.get_json()["error"]["field"] == "new_password"
    assert "3 类" in two.get_json()["error"]["message"]
    three = clerk.post("/api/v1/me/password",
                       json={"current_password": PASSWORD, "new_password": "abcdefG12"})
    assert three.status_code == 200


def test_policy_is_configurable(make_app, database_uri, password_hash):
    app = make_app(database_uri, PASSWORD_MIN_LENGTH=12, PASSWORD_MIN_CLASSES=4)
    client = app.test_client()
    token = client.post("/api/v1/auth/token",
                        json={"login": "kc_clerk", "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    short = client.post("/api/v1/me/password", headers=headers,
                        json={"current_password": PASSWORD, "new_password": "Abc-12345"})
    assert short.status_code == 400 and "12 位" in short.get_json()["error"]["message"]
    assert client.post("/api/v1/me/password", headers=headers,
                       json={"current_password": PASSWORD,
                             "new_password": "Abcdef-12345"}).status_code == 200


def test_session_expiry_is_checked_by_the_server_too(app, client, login):
    """The idle limit is in the cookie's signature and in the session itself."""
    login("kc_clerk")
    with client.session_transaction() as state:
        state["seen_at"] -= 31 * 60
    assert client.get("/").status_code == 302


def test_a_copy_of_the_cookie_is_refused_after_sign_out(app, client, login):
    """Someone copied the cookie (a shared office PC, a proxy log) before the
    owner signed out: the copy opens nothing afterwards, pages, API or socket."""
    from hub.extensions import socketio
    login("kc_clerk")
    copied = session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("hub_session", copied)
    assert thief.get("/api/v1/me").status_code == 200          # the copy works while signed in
    assert client.post("/auth/logout").status_code == 302
    assert thief.get("/api/v1/me").status_code == 401
    assert thief.get("/").status_code == 302
    thief.set_cookie("hub_session", copied)                    # the refused request cleared it
    assert not socketio.test_client(app, flask_test_client=thief).is_connected()
    # Signing in again is a new sign-in, not hit by the old one's record.
    login("kc_clerk")
    assert client.get("/api/v1/me").status_code == 200


def test_sign_out_records_are_forgotten_after_the_absolute_limit(app, client, login):
    from hub.auth.actions import forget_ended_sign_ins
    from hub.auth.models import EndedSignIn
    login("kc_clerk")
    client.post("/auth/logout")
    login("kc_clerk")
    client.post("/auth/logout")
    with app.app_context():
        assert len(db.session.scalars(select(EndedSignIn)).all()) == 2
        oldest = db.session.scalars(select(EndedSignIn)).first()
        oldest.ended_at -= app.config["SESSION_ABSOLUTE_LIFETIME"] + timedelta(minutes=1)
        db.session.commit()
        assert forget_ended_sign_ins() == 1
        assert len(db.session.scalars(select(EndedSignIn)).all()) == 1
