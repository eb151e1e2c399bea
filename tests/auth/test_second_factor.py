"""The TOTP second factor: enrolment, the second sign-in step, lockout, replay,
the admins-by-default policy, the token endpoint and the security admin's reset."""
from __future__ import annotations

import re
import time

import pyotp
import segno
import pytest
from sqlalchemy import select

from hub.audit import AuditEntry
from hub.auth import second_factor
from hub.extensions import db
from hub.org.models import Role, RoleGrant, User
from tests.auth.totp import code, enrol, person
from tests.cast import PASSWORD


@pytest.fixture
def app(make_app, database_uri):
    """The production default: a second factor is required for admin roles."""
    return make_app(database_uri, TOTP_REQUIRED="admins")


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def password_step(client, login: str, password: str = PASSWORD):
    return client.post("/auth/login", data={"login": login, "password": password})


def sign_in_with_code(client, login: str, authenticator: pyotp.TOTP) -> None:
    assert password_step(client, login).headers["Location"].endswith("/auth/verify")
    assert client.post("/auth/verify", data={"totp": code(authenticator)}).status_code == 302


def wrong_code(authenticator: pyotp.TOTP) -> str:
    return authenticator.at(time.time() - 3600)        # an hour old: never accepted


def test_enrolment_shows_the_secret_and_switches_on_only_with_a_right_code(app, client, login):
    login("kc_clerk")
    page = client.get("/auth/second-factor").get_data(as_text=True)
    secret = person(app, "kc_clerk").totp_secret
    assert secret and "otpauth://totp/" in page and secret[:4] in page
    # A QR code to scan, of the URI that names the login and carries this secret;
    # the secret to type by hand in groups of four.
    uri = pyotp.TOTP(secret).provisioning_uri(name="kc_clerk", issuer_name=app.config["TOTP_ISSUER"])
    expected = re.findall(r' d="([^"]+)"', segno.make(uri, error="m").svg_inline())[-1]
    shown = re.search(r'<svg [^>]*class="totp-qr".*?</svg>', page, re.S).group(0)
    assert re.findall(r' d="([^"]+)"', shown)[-1] == expected
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page
    assert client.get("/auth/second-factor").status_code == 200
    assert person(app, "kc_clerk").totp_secret == secret        # a reload shows the same one
    authenticator = pyotp.TOTP(secret)

    refused = client.post("/auth/second-factor", data={"totp": wrong_code(authenticator)})
    assert refused.status_code == 400 and "动态验证码不正确" in refused.get_data(as_text=True)
    assert not second_factor.is_enrolled(person(app, "kc_clerk"))

    assert client.post("/auth/second-factor", data={"totp": code(authenticator)}).status_code == 302
    assert second_factor.is_enrolled(person(app, "kc_clerk"))
    assert "两步验证已启用" in client.get("/auth/second-factor").get_data(as_text=True)
    assert audit_actions(app)[-1] == "auth.second_factor_enabled"


def test_sign_in_asks_for_the_code_after_the_password(app, client):
    authenticator = enrol(app, "kc_clerk")
    assert password_step(client, "kc_clerk").headers["Location"].endswith("/auth/verify")
    assert client.get("/").status_code == 302                  # not signed in yet
    assert client.get("/api/v1/me").status_code == 401
    assert "动态验证码" in client.get("/auth/verify").get_data(as_text=True)
    response = client.post("/auth/verify", data={"totp": code(authenticator)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert audit_actions(app) == ["auth.login"]


def test_wrong_codes_count_toward_the_same_lockout(app, client):
    authenticator = enrol(app, "kc_clerk")
    for _ in range(2):
        assert password_step(client, "kc_clerk", "wrong").status_code == 401
    # The right password does not clear the failures: the code is still to come.
    assert password_step(client, "kc_clerk").status_code == 302
    for _ in range(2):
        response = client.post("/auth/verify", data={"totp": wrong_code(authenticator)})
        assert response.status_code == 401 and "动态验证码错误" in response.get_data(as_text=True)
    locked = client.post("/auth/verify", data={"totp": wrong_code(authenticator)})
    assert locked.status_code == 401                           # the fifth failure locks
    # Locked now: the right password and the right code both get the one message.
    again = password_step(client, "kc_clerk")
    assert again.status_code == 401 and "账号或密码错误" in again.get_data(as_text=True)
    assert person(app, "kc_clerk").locked_until is not None
    actions = audit_actions(app)
    assert actions.count("auth.second_factor_failed") == 3 and "auth.locked" in actions
    assert "auth.login" not in actions


def test_locking_while_at_the_code_step_sends_back_to_the_login_page(app, client):
    authenticator = enrol(app, "kc_clerk")
    assert password_step(client, "kc_clerk").status_code == 302
    with app.app_context():
        from hub.auth.actions import count_failure
        user = db.session.scalar(select(User).where(User.login == "kc_clerk"))
        for _ in range(5):
            count_failure(user)
        db.session.commit()
    response = client.post("/auth/verify", data={"totp": code(authenticator)})
    assert response.status_code == 401 and "账号或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_code_is_accepted_once(app, client):
    authenticator = enrol(app, "kc_clerk")
    used = code(authenticator)
    password_step(client, "kc_clerk")
    assert client.post("/auth/verify", data={"totp": used}).status_code == 302
    client.post("/auth/logout")
    password_step(client, "kc_clerk")
    replayed = client.post("/auth/verify", data={"totp": used})
    assert replayed.status_code == 401
    assert client.post("/auth/verify", data={"totp": code(authenticator, 1)}).status_code == 302


def test_the_code_step_expires(app, client):
    authenticator = enrol(app, "kc_clerk")
    password_step(client, "kc_clerk")
    with client.session_transaction() as state:
        pending = state["pending_sign_in"]
        state["pending_sign_in"] = {**pending, "at": pending["at"] - 6 * 60}
    response = client.post("/auth/verify", data={"totp": code(authenticator)})
    assert response.headers["Location"].endswith("/auth/login")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("login", ["admin", "kc_admin"])
def test_admins_must_enrol_right_after_the_password(app, client, login):
    response = password_step(client, login)
    assert response.headers["Location"].endswith("/auth/second-factor")
    assert client.get("/").status_code == 302                  # not signed in meanwhile
    page = client.get("/auth/second-factor").get_data(as_text=True)
    assert "须启用两步验证" in page
    authenticator = pyotp.TOTP(person(app, login).totp_secret)
    assert client.post("/auth/second-factor",
                       data={"totp": wrong_code(authenticator)}).status_code == 401
    done = client.post("/auth/second-factor", data={"totp": code(authenticator)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert second_factor.is_enrolled(person(app, login))
    assert audit_actions(app)[-3:] == ["auth.second_factor_failed", "auth.second_factor_enabled",
                                       "auth.login"]


def test_admin_roles_are_the_four_of_the_issue(app):
    with app.app_context():
        for role in Role:
            someone = User(login="x", name="x", roles=[RoleGrant(role=role)])
            assert second_factor.is_required(someone) == (role in {
                Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR, Role.UNIT_ADMIN}), role
        assert not second_factor.is_required(User(login="y", name="y"))


def test_everyone_or_no_one_by_configuration(make_app, database_uri):
    everyone = make_app(database_uri, TOTP_REQUIRED="everyone").test_client()
    assert password_step(everyone, "mp_director").headers["Location"].endswith("/auth/second-factor")
    nobody = make_app(database_uri, TOTP_REQUIRED="off").test_client()
    assert password_step(nobody, "admin").headers["Location"] == "/"


def test_a_misspelt_policy_stops_the_app(make_app, database_uri):
    with pytest.raises(RuntimeError, match="HUB_TOTP_REQUIRED"):
        make_app(database_uri, TOTP_REQUIRED="admin")


def test_pages_of_the_second_step_need_the_password_first(client):
    assert client.get("/auth/verify").headers["Location"].endswith("/auth/login")
    assert client.get("/auth/second-factor").headers["Location"].endswith("/auth/login")
    assert client.post("/auth/second-factor", data={"totp": "123456"}).status_code == 302


# ---- POST /api/v1/auth/token ----------------------------------------------------------------

def token_request(client, login: str, **extra):
    return client.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD, **extra})


def test_token_needs_the_code_of_an_enrolled_person(app, client):
    authenticator = enrol(app, "kc_clerk")
    missing = token_request(client, "kc_clerk")
    assert missing.status_code == 401
    assert missing.get_json()["error"] == {"code": "second_factor_required", "field": "totp",
                                           "message": missing.get_json()["error"]["message"]}
    wrong = token_request(client, "kc_clerk", totp=wrong_code(authenticator))
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["code"] == "invalid_second_factor"
    assert wrong.get_json()["error"]["field"] == "totp"
    not_text = token_request(client, "kc_clerk", totp=123456)
    assert not_text.status_code == 400 and not_text.get_json()["error"]["field"] == "totp"
    right = token_request(client, "kc_clerk", totp=code(authenticator))
    assert right.status_code == 200 and right.get_json()["token"]
    assert token_request(client, "kc_clerk", totp=code(authenticator)).status_code == 401   # replay


def test_token_for_an_admin_without_a_second_factor_is_refused(client):
    response = token_request(client, "kc_admin")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "second_factor_setup_required"
    assert response.get_json()["error"]["field"] == "totp"


def test_a_wrong_password_is_refused_before_any_code_is_asked(app, client):
    enrol(app, "kc_clerk")
    response = client.post("/api/v1/auth/token", json={"login": "kc_clerk", "password": "bad"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_wrong_api_codes_lock_the_account(app, client):
    authenticator = enrol(app, "kc_clerk")
    for _ in range(5):
        assert token_request(client, "kc_clerk", totp=wrong_code(authenticator)).status_code == 401
    locked = token_request(client, "kc_clerk", totp=code(authenticator))
    assert locked.status_code == 401 and locked.get_json()["error"]["code"] == "invalid_credentials"


# ---- the security admin's reset --------------------------------------------------------------

def test_security_admin_resets_a_second_factor(app, client, ids):
    clerk = app.test_client()
    sign_in_with_code(clerk, "kc_clerk", enrol(app, "kc_clerk"))
    assert clerk.get("/").status_code == 200
    sign_in_with_code(client, "sec_admin", enrol(app, "sec_admin"))
    response = client.post(f"/admin/people/{ids.user('kc_clerk')}/second-factor/reset")
    assert response.status_code == 302
    assert not second_factor.is_enrolled(person(app, "kc_clerk"))
    assert clerk.get("/").status_code == 302                   # their session ended
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "auth.second_factor_reset"))
        assert entry.actor_login == "sec_admin" and entry.target_id == ids.user("kc_clerk")
    # Not enrolled and not required: the next sign-in is by password alone.
    assert password_step(app.test_client(), "kc_clerk").headers["Location"] == "/"


@pytest.mark.parametrize("login", ["admin", "kc_admin"])
def test_only_a_security_admin_may_reset(app, client, ids, login):
    enrol(app, "kc_clerk")
    sign_in_with_code(client, login, enrol(app, login))
    response = client.post(f"/admin/people/{ids.user('kc_clerk')}/second-factor/reset")
    assert response.status_code == 403
    assert second_factor.is_enrolled(person(app, "kc_clerk"))
