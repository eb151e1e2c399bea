"""Issue 13, findings 9 and 14: sign-in and search rate limits (429 with
Retry-After), the device cookie that lets an earlier-successful client through
the account lock, and the cap on concurrent password hashing. The suite turns
the limits off (tests/conftest.py); these tests turn them on."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub import passwords
from hub.db import utcnow
from hub.extensions import db
from hub.org.models import User
from tests.auth.totp import enrol
from tests.cast import PASSWORD


def sign_in(client, login: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    return client.post("/auth/login", data={"login": login, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def token(client, login: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    return client.post("/api/v1/auth/token", json={"login": login, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def assert_limited(response, *, json: bool = False) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)[:200]
    assert int(response.headers["Retry-After"]) >= 1
    if json:
        assert response.get_json()["error"]["code"] == "too_many_requests"
        assert "秒后再试" in response.get_json()["error"]["message"]
    else:
        assert "秒后再试" in response.get_data(as_text=True)


def locked(app, login: str) -> bool:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        return user.locked_until is not None and user.locked_until > utcnow()


# ---- Rate limits -------------------------------------------------------------------------------------

def test_guesses_across_logins_from_one_address_get_429(make_app, database_uri):
    app = make_app(database_uri, SIGN_IN_LIMIT_PER_ADDRESS="6 per minute")
    client = app.test_client()
    logins = ["kc_clerk", "sl_clerk", "sl_leader", "mp_secretary"]
    for number in range(6):
        answer = (sign_in if number % 2 else token)(client, logins[number % 4], "wrong")
        assert answer.status_code == 401
    assert_limited(sign_in(client, "kc_admin", "wrong"))
    assert_limited(token(client, "kc_admin"), json=True)     # the right password waits too
    assert sign_in(client, "kc_admin", address="10.1.2.3").status_code == 302   # another address


def test_guesses_at_one_login_from_many_addresses_get_429(make_app, database_uri):
    app = make_app(database_uri, SIGN_IN_LIMIT_PER_LOGIN="3 per minute")
    client = app.test_client()
    for number in range(3):
        assert sign_in(client, "sl_leader", "wrong", address=f"10.0.0.{number}").status_code == 401
    assert_limited(sign_in(client, "SL_leader ", "wrong", address="10.0.0.9"))    # same login
    assert_limited(token(client, "sl_leader", address="10.0.0.10"), json=True)
    assert sign_in(client, "sl_clerk").status_code == 302


def test_the_code_step_counts_toward_the_same_limits(make_app, database_uri):
    app = make_app(database_uri, SIGN_IN_LIMIT_PER_LOGIN="3 per minute", TOTP_REQUIRED="admins")
    enrol(app, "kc_clerk")
    client = app.test_client()
    assert sign_in(client, "kc_clerk").headers["Location"].endswith("/auth/verify")
    assert client.post("/auth/verify", data={"totp": "000000"}).status_code == 401
    assert sign_in(client, "kc_clerk").headers["Location"].endswith("/auth/verify")   # the 3rd
    assert_limited(client.post("/auth/verify", data={"totp": "000000"}))


def test_search_is_limited_per_person(make_app, database_uri):
    app = make_app(database_uri, SEARCH_LIMIT_PER_PERSON="3 per minute")
    people = {}
    for login in ("sl_clerk", "sl_leader"):
        answer = app.test_client().post("/api/v1/auth/token", json={"login": login, "password": PASSWORD})
        people[login] = answer.get_json()["token"]
    client = app.test_client()

    def search(login):
        return client.get("/api/v1/search?q=汛", headers={"Authorization": f"Bearer {people[login]}"})
    for _ in range(3):
        assert search("sl_clerk").status_code == 200
    assert_limited(search("sl_clerk"), json=True)
    assert search("sl_leader").status_code == 200


# ---- The device cookie -------------------------------------------------------------------------------

def test_a_guesser_over_the_limits_does_not_keep_the_owners_browser_out(make_app, database_uri):
    """The limits count clients without a device cookie for the login: the
    owner's own browser signs in while a guesser on the same address (an office
    NAT) and at the same login is held at 429."""
    app = make_app(database_uri, SIGN_IN_LIMIT_PER_ADDRESS="3 per minute",
                   SIGN_IN_LIMIT_PER_LOGIN="3 per minute")
    owner, guesser = app.test_client(), app.test_client()
    assert sign_in(owner, "sl_leader").status_code == 302           # leaves the device cookie
    owner.post("/auth/logout")
    for _ in range(3):
        guesser_answer = sign_in(guesser, "sl_leader", "guess")
    assert_limited(sign_in(guesser, "sl_leader", "guess"))
    assert_limited(sign_in(app.test_client(), "sl_leader"))        # a new browser waits too
    assert sign_in(owner, "sl_leader").status_code == 302           # the owner's does not
    assert guesser_answer.status_code in (401, 429)


def test_an_account_locked_by_someone_else_still_lets_its_owners_browser_in(app):
    owner, attacker = app.test_client(), app.test_client()
    assert sign_in(owner, "sl_leader").status_code == 302          # leaves the device cookie
    owner.post("/auth/logout")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert sign_in(attacker, "sl_leader", "guess", address="10.9.9.9").status_code == 401
    assert locked(app, "sl_leader")
    assert sign_in(attacker, "sl_leader", address="10.9.9.9").status_code == 401   # held by the lock
    assert token(app.test_client(), "sl_leader").status_code == 401               # any other client too
    assert sign_in(owner, "sl_leader").status_code == 302                        # the owner is not


def test_failures_with_a_device_cookie_lock_that_cookie_only(app):
    owner, elsewhere = app.test_client(), app.test_client()
    assert sign_in(owner, "sl_leader").status_code == 302
    owner.post("/auth/logout")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert sign_in(owner, "sl_leader", "typo").status_code == 401
    assert not locked(app, "sl_leader")                              # the account is not locked
    assert sign_in(owner, "sl_leader").status_code == 401            # this cookie is
    assert sign_in(elsewhere, "sl_leader").status_code == 302


def test_a_device_cookie_counts_for_its_own_login_and_only_if_genuine(app):
    browser = app.test_client()
    assert sign_in(browser, "sl_clerk").status_code == 302           # a cookie for sl_clerk only
    browser.post("/auth/logout")
    with app.app_context():
        person = db.session.scalar(select(User).where(User.login == "sl_leader"))
        person.locked_until = utcnow() + timedelta(minutes=30)
        db.session.commit()
    assert sign_in(browser, "sl_leader").status_code == 401
    forged = app.test_client()
    with app.test_request_context():
        from hub.auth.throttle import device_cookie_name
        name = device_cookie_name("sl_leader")
    forged.set_cookie(name, "eyJsb2dpbiI6InNsX2xlYWRlciIsIm5vbmNlIjoieCJ9.forged.sig")
    assert sign_in(forged, "sl_leader").status_code == 401


def test_the_api_leaves_a_device_cookie_too(app):
    client = app.test_client()
    assert token(client, "sl_leader").status_code == 200
    with app.app_context():
        person = db.session.scalar(select(User).where(User.login == "sl_leader"))
        person.locked_until = utcnow() + timedelta(minutes=30)
        db.session.commit()
    assert token(client, "sl_leader").status_code == 200
    assert token(app.test_client(), "sl_leader").status_code == 401


# ---- The hashing cap ---------------------------------------------------------------------------------

@pytest.fixture
def capped(make_app, database_uri):
    return make_app(database_uri, PASSWORD_HASH_CONCURRENCY=2, PASSWORD_HASH_WAIT_SECONDS=0.05)


def test_a_sign_in_finding_every_hashing_slot_taken_is_told_to_retry(capped):
    """While N hashes are inside (held here through the same slots), the
    (N+1)th sign-in waits briefly and is answered 503 稍后再试, not queued."""
    app = capped
    with app.app_context(), passwords.hashing_slot(), passwords.hashing_slot():
        page = sign_in(app.test_client(), "sl_leader")
        assert page.status_code == 503 and "稍后再试" in page.get_data(as_text=True)
        assert page.headers["Retry-After"]
        answer = token(app.test_client(), "sl_leader")
        assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "server_busy"
    assert not locked(app, "sl_leader")                   # a busy answer is no failed sign-in
    assert sign_in(app.test_client(), "sl_leader").status_code == 302


def test_concurrent_sign_ins_never_hash_more_than_the_cap_at_once(make_app, database_uri):
    """Real threads, real argon2 with a cost that takes a while: all sign in
    (the wait is generous), and no more than the cap ever hashed at once."""
    heavy = {"time_cost": 2, "memory_cost": 16384, "parallelism": 1}
    app = make_app(database_uri, PASSWORD_HASH_CONCURRENCY=2, PASSWORD_HASH_WAIT_SECONDS=60,
                   PASSWORD_HASH_PARAMS=heavy)
    logins = ["kc_clerk", "kc_leader", "sl_clerk", "sl_leader", "mp_secretary", "mp_director"]
    with app.app_context():
        from argon2 import PasswordHasher
        slow = PasswordHasher(**heavy).hash(PASSWORD)
        for person in db.session.scalars(select(User).where(User.login.in_(logins))):
            person.password_hash = slow
        db.session.commit()
    passwords.hashing_peak(reset=True)
    start, results = threading.Barrier(len(logins)), {}

    def attempt(login):
        client = app.test_client()
        start.wait()
        results[login] = sign_in(client, login).status_code
    threads = [threading.Thread(target=attempt, args=(login,)) for login in logins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results == {login: 302 for login in logins}
    assert 1 <= passwords.hashing_peak() <= 2
