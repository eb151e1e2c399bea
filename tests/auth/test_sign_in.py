"""Sign-in: sessions, tokens, lockout, password changes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.audit import AuditEntry
from hub.db import utcnow
from hub.extensions import db
from tests.cast import PASSWORD


def test_login_page_is_chinese(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "登录" in page and 'lang="zh-CN"' in page


def test_browser_sign_in_and_out_is_audited(app, client, login):
    login("kc_clerk")
    assert "吴文书" in client.get("/").get_data(as_text=True)
    client.post("/auth/logout")
    assert client.get("/").status_code == 302
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["auth.login", "auth.logout"]


def test_wrong_password_and_unknown_login_get_the_same_answer(client):
    wrong = client.post("/auth/login", data={"login": "kc_clerk", "password": "nope"})
    unknown = client.post("/auth/login", data={"login": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "账号或密码错误" in wrong.get_data(as_text=True)
    assert "账号或密码错误" in unknown.get_data(as_text=True)


def test_five_failures_lock_the_account_even_for_the_right_password(app, api):
    anonymous = api(None)
    for _ in range(5):
        response = anonymous.post("/api/v1/auth/token", json={"login": "sl_clerk", "password": "bad"})
        assert response.status_code == 401
    locked = anonymous.post("/api/v1/auth/token", json={"login": "sl_clerk", "password": PASSWORD})
    assert locked.status_code == 401
    assert locked.get_json()["error"]["code"] == "invalid_credentials"
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.locked"))


def test_lock_ends_after_the_lock_duration(app, api, cast):
    from hub.org.models import User
    user = cast.user("sl_clerk")
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api(None).post("/api/v1/auth/token",
                          json={"login": "sl_clerk", "password": PASSWORD}).status_code == 200
    assert db.session.get(User, user.id) is not None


def test_failures_outside_the_window_do_not_add_up(app, api, cast):
    user = cast.user("sl_clerk")
    user.failed_logins = 4
    user.first_failed_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    anonymous = api(None)
    anonymous.post("/api/v1/auth/token", json={"login": "sl_clerk", "password": "bad"})
    assert anonymous.post("/api/v1/auth/token",
                          json={"login": "sl_clerk", "password": PASSWORD}).status_code == 200


def test_bearer_token_reaches_the_api_and_bad_tokens_do_not(api):
    me = api("kc_leader").get("/api/v1/me")
    assert me.status_code == 200 and me.get_json()["login"] == "kc_leader"
    anonymous = api(None)
    assert anonymous.get("/api/v1/me").status_code == 401
    response = anonymous.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "not_authenticated"


def test_token_request_names_the_missing_field(api):
    response = api(None).post("/api/v1/auth/token", json={"login": "kc_clerk"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "password"


def test_changing_password_ends_old_tokens(api):
    clerk = api("kc_clerk")
    response = clerk.post("/api/v1/me/password",
                          json={"current_password": PASSWORD, "new_password": "Xin-mima-2026"})
    assert response.status_code == 200
    assert clerk.get("/api/v1/me").status_code == 401
    fresh = api(None).post("/api/v1/auth/token",
                           json={"login": "kc_clerk", "password": "Xin-mima-2026"})
    assert fresh.status_code == 200


def test_weak_new_password_is_refused_with_the_field(api):
    response = api("kc_clerk").post("/api/v1/me/password",
                                    json={"current_password": PASSWORD, "new_password": "abc"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "new_password"


def test_idle_session_expires(app, client, login):
    login("kc_clerk")
    app.permanent_session_lifetime = timedelta(seconds=-1)
    assert client.get("/").status_code == 302


def test_reset_password_forces_a_change_at_next_sign_in(app, api, ids, client):
    admin = api("kc_admin")
    response = admin.post(f"/api/v1/people/{ids.user('mp_director')}/password",
                          json={"password": "Chong-zhi-2026"})
    assert response.status_code == 200
    client.post("/auth/login", data={"login": "mp_director", "password": "Chong-zhi-2026"})
    assert client.get("/").headers["Location"].endswith("/auth/password")


def test_absolute_session_limit_ends_even_an_active_session(app, client, login):
    login("kc_clerk")
    assert client.get("/").status_code == 200
    app.config["SESSION_ABSOLUTE_LIFETIME"] = timedelta(seconds=-1)
    assert client.get("/").status_code == 302


def test_password_change_elsewhere_ends_the_browser_session(client, login, api):
    login("kc_clerk")
    api("kc_clerk").post("/api/v1/me/password",
                         json={"current_password": PASSWORD, "new_password": "Xin-mima-2026"})
    assert client.get("/").status_code == 302


def test_disabling_a_person_ends_their_browser_session(client, login, api, ids):
    login("mp_director")
    assert client.get("/").status_code == 200
    api("kc_admin").patch(f"/api/v1/people/{ids.user('mp_director')}", json={"active": False})
    assert client.get("/").status_code == 302


def test_password_form_explains_a_mismatch(client, login):
    login("kc_clerk")
    response = client.post("/auth/password", data={"current_password": PASSWORD,
                                                   "new_password": "Xin-mima-2026",
                                                   "confirm_password": "Xin-mima-2027"})
    assert response.status_code == 400 and "不一致" in response.get_data(as_text=True)


def test_password_form_changes_the_password_and_asks_to_sign_in_again(client, login):
    login("kc_clerk")
    response = client.post("/auth/password", data={"current_password": PASSWORD,
                                                   "new_password": "Xin-mima-2026",
                                                   "confirm_password": "Xin-mima-2026"})
    assert response.headers["Location"].endswith("/auth/login")
    again = client.post("/auth/login", data={"login": "kc_clerk", "password": "Xin-mima-2026"})
    assert again.status_code == 302


def test_login_redirect_only_follows_local_paths(client):
    response = client.post("/auth/login", data={"login": "kc_clerk", "password": PASSWORD,
                                                 "next": "//evil.example/"})
    assert response.headers["Location"] == "/"
