"""Issue 13, finding 5: every enrolment attempt gets a fresh TOTP secret and
discards the pending one, so whoever saw a pending secret (say, signing in with
the initial password an admin issued) cannot keep it for the owner to confirm."""
from __future__ import annotations

import pyotp
import pytest

from hub.auth import second_factor
from tests.auth.totp import code, person
from tests.cast import PASSWORD


@pytest.fixture
def app(make_app, database_uri):
    return make_app(database_uri, TOTP_REQUIRED="admins")


def enrolment_page(app, login: str = "kc_admin"):
    """A browser that signed in with the password and must now enrol; the
    secret it is shown."""
    browser = app.test_client()
    answer = browser.post("/auth/login", data={"login": login, "password": PASSWORD})
    assert answer.headers["Location"].endswith("/auth/second-factor")
    page = browser.get("/auth/second-factor")
    secret = person(app, login).totp_secret
    assert page.status_code == 200 and secret[:4] in page.get_data(as_text=True)
    return browser, secret


def test_each_sign_in_that_must_enrol_gets_a_fresh_secret(app):
    snooper, seen = enrolment_page(app)
    assert snooper.get("/auth/second-factor").status_code == 200
    assert person(app, "kc_admin").totp_secret == seen            # a reload keeps it
    owner, secret = enrolment_page(app)
    assert secret != seen                                         # the earlier one is gone
    # The secret the snooper saw confirms nothing, now or after the owner enrols.
    refused = snooper.post("/auth/second-factor", data={"totp": code(pyotp.TOTP(seen))})
    assert refused.status_code == 409
    assert not second_factor.is_enrolled(person(app, "kc_admin"))
    assert owner.post("/auth/second-factor", data={"totp": code(pyotp.TOTP(secret))}).status_code == 302
    assert person(app, "kc_admin").totp_secret == secret != seen


def test_a_signed_in_persons_enrolment_in_another_browser_starts_over(app, make_app):
    app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], TOTP_REQUIRED="off")
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        signed_in = browser.post("/auth/login", data={"login": "kc_clerk", "password": PASSWORD})
        assert signed_in.status_code == 302
    first.get("/auth/second-factor")
    earlier = person(app, "kc_clerk").totp_secret
    second.get("/auth/second-factor")
    later = person(app, "kc_clerk").totp_secret
    assert later != earlier
    assert first.post("/auth/second-factor", data={"totp": code(pyotp.TOTP(earlier))}).status_code == 409
    assert second.post("/auth/second-factor", data={"totp": code(pyotp.TOTP(later))}).status_code == 302
    assert second_factor.is_enrolled(person(app, "kc_clerk"))
