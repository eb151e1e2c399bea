"""Periodic password change: every 90 days by default (the 等保 reading), off with 0
(the OWASP ASVS 5 reading)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.db import utcnow
from hub.extensions import db
from hub.org.models import User
from tests.cast import PASSWORD


def age_password(app, login: str, days: int, *, column: str = "password_changed_at") -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        setattr(user, column, utcnow() - timedelta(days=days))
        db.session.commit()


def test_a_password_older_than_90_days_must_be_changed_first(app, client, login):
    age_password(app, "kc_clerk", 91)
    login("kc_clerk")
    assert client.get("/").headers["Location"].endswith("/auth/password")
    assert client.get("/channels/").headers["Location"].endswith("/auth/password")
    page = client.get("/auth/password").get_data(as_text=True)
    assert "超过 90 天" in page
    client.post("/auth/password", data={"current_password": PASSWORD, "new_password": "Xin-mima-2026",
                                        "confirm_password": "Xin-mima-2026"})
    login("kc_clerk", "Xin-mima-2026")
    assert client.get("/").status_code == 200


def test_a_password_of_89_days_is_still_fine(app, client, login):
    age_password(app, "kc_clerk", 89)
    login("kc_clerk")
    assert client.get("/").status_code == 200


def test_age_counts_from_the_account_creation_when_never_changed(app, client, login):
    age_password(app, "kc_clerk", 120, column="created_at")
    login("kc_clerk")
    assert client.get("/").headers["Location"].endswith("/auth/password")


def test_the_token_answer_says_the_password_expired(app, api):
    anonymous = api(None)
    body = {"login": "kc_clerk", "password": PASSWORD}
    assert anonymous.post("/api/v1/auth/token", json=body).get_json()["password_expired"] is False
    age_password(app, "kc_clerk", 91)
    answer = anonymous.post("/api/v1/auth/token", json=body).get_json()
    assert answer["password_expired"] is True and answer["must_change_password"] is False


def test_zero_turns_periodic_change_off(make_app, database_uri):
    app = make_app(database_uri, PASSWORD_MAX_AGE_DAYS=0)
    age_password(app, "kc_clerk", 400)
    client = app.test_client()
    client.post("/auth/login", data={"login": "kc_clerk", "password": PASSWORD})
    assert client.get("/").status_code == 200


def test_the_default_is_the_dengbao_reading():
    from config import Config
    assert Config.PASSWORD_MAX_AGE_DAYS == 90
    assert Config.PASSWORD_MIN_LENGTH == 8 and Config.PASSWORD_MIN_CLASSES == 3
    assert Config.TOTP_REQUIRED == "admins"
