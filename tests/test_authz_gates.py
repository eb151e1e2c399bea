"""Rules over every route and socket event of the authorization matrix
(tests/test_authz_matrix.py MATRIX) that no single route's test would keep
(issue 13):

- a person whose password must be changed (issued by an admin, or too old) gets
  nothing but changing it: pages redirect to 修改密码, the API answers 403
  password_change_required, sockets do not connect, and a socket connected
  before the password aged is refused on its next event (finding 2);
- a redirect never leaves the site, whatever `next` or Referer says (finding 3);
- a role that requires a second factor, granted to someone without one, ends
  the sessions, tokens and sockets they held before the grant (finding 4).

The requests are built from MATRIX's rows, so a new route is swept as soon as
it has its row (test_authz_matrix fails until it has one). The gates act before
any view, so the rows' ids are the cast's where they name them, and 1 where the
matrix prepares a fresh object.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from hub.db import utcnow
from hub.extensions import db, socketio
from hub.org.models import Unit, User
from tests.auth.totp import code, enrol
from tests.cast import PASSWORD
from tests.test_authz_matrix import (COUNTY, MATRIX, OFFICE, TOWN, VILLAGE, Bearer, outcome,
                                     row_request)

# What a person whose password must be changed may still use (hub/auth/sessions.py).
PASSWORD_CHANGE_OPEN = {
    "GET /auth/password", "POST /auth/password", "POST /auth/logout",
    "GET /static/<path:filename>", "GET /sw.js", "GET /offline",
    "GET /api/v1/me", "POST /api/v1/me/password", "DELETE /api/v1/auth/token",
    "POST /api/v1/auth/token", "GET /api/v1/openapi.json",
}
HTTP_ROWS = [key for key in MATRIX if not key.startswith("SOCKET ")]
# Rows anonymous callers are refused ("L"): an ended sign-in must be refused there too.
SIGNED_IN_ROWS = [key for key in HTTP_ROWS if MATRIX[key].expect.split()[0] == "L"]


class CastIds(dict):
    """The ids a row's path names: the cast's objects, 1 for anything prepared."""

    def __missing__(self, key: str) -> int:
        return 1


def cast_ids(app) -> CastIds:
    with app.app_context():
        unit = {code: db.session.scalar(select(Unit.id).where(Unit.code == code))
                for code in (TOWN, VILLAGE, COUNTY, OFFICE)}
        person = db.session.scalar(select(User).where(User.login == "mp_director"))
        return CastIds(town=unit[TOWN], village=unit[VILLAGE], county=unit[COUNTY],
                       office=unit[OFFICE], person=person.id, membership=person.memberships[0].id)


class SignedIn:
    """One person's browser session and bearer token, and fresh ones on demand
    for the rows whose request ends the session (Row.fresh)."""

    def __init__(self, app, login: str) -> None:
        self.app, self.login = app, login
        self.web, self.api, self.token = self.fresh()

    def fresh(self):
        web = self.app.test_client()
        assert web.post("/auth/login", data={"login": self.login, "password": PASSWORD}).status_code == 302
        answer = self.app.test_client().post("/api/v1/auth/token",
                                             json={"login": self.login, "password": PASSWORD})
        assert answer.status_code == 200, answer.get_json()
        token = answer.get_json()["token"]
        return web, Bearer(self.app.test_client(), token), token

    def send(self, key: str, ids: CastIds):
        method, _ = key.split(" ", 1)
        row = MATRIX[key]
        path, kwargs = row_request(row, ids)
        web, api = (self.fresh()[:2]) if row.fresh else (self.web, self.api)
        client = api if path.startswith("/api/") else web
        return path, client.open(path, method=method, **kwargs)


def set_person(app, login: str, **values) -> None:
    with app.app_context():
        person = db.session.scalar(select(User).where(User.login == login))
        for name, value in values.items():
            setattr(person, name, value)
        db.session.commit()


# ---- Finding 2: a password that must be changed holds everything else --------------------------------

def _held(response) -> str:
    """How the password-change gate answered, or "" if it let the request through."""
    if response.status_code == 403 and (response.get_json(silent=True) or {}).get(
            "error", {}).get("code") == "password_change_required":
        return "403 password_change_required"
    if response.status_code in (301, 302, 303) and urlsplit(
            response.headers.get("Location", "")).path == "/auth/password":
        return "redirect to /auth/password"
    return ""


def sweep_password_gate(app, person: SignedIn) -> list[str]:
    ids, wrong = cast_ids(app), []
    for key in HTTP_ROWS:
        path, response = person.send(key, ids)
        held = _held(response)
        if key in PASSWORD_CHANGE_OPEN:
            expected = ""
        else:
            expected = "403 password_change_required" if path.startswith("/api/") \
                else "redirect to /auth/password"
        if held != expected:
            wrong.append(f"{key}: expected {expected or 'let through'}, got "
                         f"{response.status_code} {held or response.headers.get('Location', '')}")
    for key in (k for k in MATRIX if k.startswith("SOCKET ")):
        by_token = socketio.test_client(app, auth={"token": person.token})
        by_cookie = socketio.test_client(app, flask_test_client=person.web)
        for how, sock in (("token", by_token), ("session cookie", by_cookie)):
            if sock.is_connected():
                wrong.append(f"{key}: a socket connected with the {how}")
                sock.disconnect()
    return wrong


def test_a_password_issued_by_an_admin_must_be_changed_before_anything_else(app):
    set_person(app, "sl_leader", must_change_password=True)
    person = SignedIn(app, "sl_leader")
    assert person.api.get("/api/v1/me").get_json()["must_change_password"] is True
    assert sweep_password_gate(app, person) == []


def test_an_expired_password_must_be_changed_before_anything_else(app):
    days = app.config["PASSWORD_MAX_AGE_DAYS"]
    assert days > 0
    set_person(app, "sl_leader", password_changed_at=utcnow() - timedelta(days=days + 1))
    person = SignedIn(app, "sl_leader")
    assert person.api.get("/api/v1/me").get_json()["password_expired"] is True
    assert sweep_password_gate(app, person) == []


def test_a_socket_is_refused_on_its_next_event_once_the_password_has_aged(app):
    person = SignedIn(app, "sl_leader")
    sockets = [socketio.test_client(app, auth={"token": person.token}),
               socketio.test_client(app, flask_test_client=person.web)]
    assert all(sock.is_connected() for sock in sockets)
    days = app.config["PASSWORD_MAX_AGE_DAYS"]
    set_person(app, "sl_leader", password_changed_at=utcnow() - timedelta(days=days + 1))
    for sock in sockets:
        answer = sock.emit("send", {"channel_id": 1, "body": "收到", "client_msg_id": "aged"},
                           callback=True)
        assert answer["error"]["code"] == "not_authenticated"
        assert not sock.is_connected()


def test_changing_the_password_through_the_api_opens_it_again(app):
    set_person(app, "sl_leader", must_change_password=True)
    person = SignedIn(app, "sl_leader")
    assert person.api.get("/api/v1/inbox").status_code == 403
    changed = person.api.post("/api/v1/me/password",
                              json={"current_password": PASSWORD, "new_password": "Xin-mima-2026"})
    assert changed.status_code == 200
    token = app.test_client().post("/api/v1/auth/token", json={
        "login": "sl_leader", "password": "Xin-mima-2026"}).get_json()
    assert token["must_change_password"] is False
    assert Bearer(app.test_client(), token["token"]).get("/api/v1/inbox").status_code == 200


# ---- Finding 3: redirects stay on this site ----------------------------------------------------------

# Known ways to make a "local" target leave the site (or break the header).
BYPASSES = [
    "//evil.example", "/%09/evil.example", "/\t/evil.example", "/\r\n/evil.example",
    "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
    "/%5Cevil.example", "/%5C%5Cevil.example", "%2F%2Fevil.example", "/%2F%2Fevil.example",
    "/%2f/evil.example", "https://evil.example", "http:evil.example", "//evil.example@hub",
    "https://hub@evil.example", "@evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    " javascript:alert(1)", "\x00javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "/\uff0fevil.example", "/\u2215evil.example", "/\u2044evil.example", "\uff0f\uff0fevil.example",
    "/%EF%BC%8Fevil.example", "/%E2%88%95evil.example", "/\ufe68evil.example", "/\uff3cevil.example",
    "/\r\nSet-Cookie: hub=1", "/%0d%0aSet-Cookie:%20hub=1", "/x\nLocation: //evil.example",
    "\t//evil.example", "/\u3000/evil.example", "evil.example", "../evil.example",
]


def assert_local(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"
    location = response.headers.get("Location")
    if location is None:
        return
    assert "\r" not in location and "\n" not in location, what
    # As a browser reads it: tabs and newlines dropped, backslash is a slash.
    seen = location.replace("\t", "").replace("\\", "/")
    parts = urlsplit(seen)
    assert seen.startswith("/") and not seen.startswith("//"), f"{what}: Location {location!r}"
    assert not parts.scheme and not parts.netloc, f"{what}: Location {location!r}"


def refusing_form(app) -> str:
    """A form whose POST is refused with a 400 (InvalidInput), answered by
    hub.errors' handler: back to the page it came from (the Referer)."""
    from hub.errors import InvalidInput

    def refuse():
        raise InvalidInput("请填写", field="body")
    app.add_url_rule("/_refusing-form", "refusing_form", refuse, methods=["POST"])
    return "/_refusing-form"


@pytest.mark.parametrize("target", BYPASSES)
def test_next_never_leaves_the_site(app, target):
    form = refusing_form(app)
    anonymous, signed_in = app.test_client(), app.test_client()
    assert_local(anonymous.post("/auth/login", data={"login": "sl_clerk", "password": PASSWORD,
                                                     "next": target}), "POST /auth/login")
    assert signed_in.post("/auth/login", data={"login": "sl_clerk", "password": PASSWORD}).status_code == 302
    assert_local(signed_in.get("/auth/login", query_string={"next": target}), "GET /auth/login")
    assert_local(signed_in.post("/auth/language", data={"language": "zh", "next": target}),
                 "POST /auth/language")
    assert_local(signed_in.post("/channels/register/1/archive", data={"next": target}),
                 "POST /channels/register/<id>/archive")
    # A refused form goes back to the page it came from, only if that is ours
    # (a header cannot carry CR/LF/NUL at all).
    if not any(ch in target for ch in "\r\n\x00"):
        for referrer in (target, f"http://localhost{target}", f"http://evil.example/{target}"):
            assert_local(signed_in.post(form, headers={"Referer": referrer}),
                         f"a refused form (Referer {referrer!r})")


def test_next_keeps_a_local_page(app, client):
    form = refusing_form(app)
    answer = client.post("/auth/login", data={"login": "sl_clerk", "password": PASSWORD,
                                              "next": "/directory?q=石梁"})
    assert answer.headers["Location"] == "/directory?q=%E7%9F%B3%E6%A2%81"
    back = client.post(form, headers={"Referer": "http://localhost/suggestions?x=1"})
    assert back.headers["Location"] == "/suggestions?x=1"


def test_no_route_redirects_off_the_site(app):
    """Every row of the matrix, with `next` and the Referer set to a bypass."""
    person, ids, wrong = SignedIn(app, "kc_admin"), cast_ids(app), []
    for key in HTTP_ROWS:
        method, _ = key.split(" ", 1)
        for target in ("/%09/evil.example", "/\\evil.example", "/\r\n/evil.example"):
            path, kwargs = row_request(MATRIX[key], ids)
            if isinstance(kwargs.get("data"), dict):
                kwargs["data"] = {**kwargs["data"], "next": target}
            web = person.fresh()[0] if MATRIX[key].fresh else person.web
            client = person.api if path.startswith("/api/") else web
            joined = f"{path}{'&' if '?' in path else '?'}{urlencode({'next': target})}"
            response = client.open(joined, method=method, headers={"Referer": "http://evil.example/"},
                                   **kwargs)
            try:
                assert_local(response, f"{key} next={target!r}")
            except AssertionError as problem:
                wrong.append(str(problem))
    assert wrong == []


# ---- Finding 4: granting a role that needs a second factor ends what was signed in before ------------

@pytest.fixture
def totp_app(make_app, database_uri):
    """The production default: a second factor is required for admin roles."""
    return make_app(database_uri, TOTP_REQUIRED="admins")


def security_admin(app) -> Bearer:
    authenticator = enrol(app, "sec_admin")
    answer = app.test_client().post("/api/v1/auth/token", json={
        "login": "sec_admin", "password": PASSWORD, "totp": code(authenticator)})
    assert answer.status_code == 200, answer.get_json()
    return Bearer(app.test_client(), answer.get_json()["token"])


def grant_unit_admin_by_api(app, login: str) -> None:
    person_id = user_id(app, login)
    town = cast_ids(app)["town"]
    answer = security_admin(app).open(f"/api/v1/people/{person_id}/roles", method="POST",
                                      json={"role": "unit_admin", "unit_id": town})
    assert answer.status_code in (200, 201), answer.get_json()


def user_id(app, login: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.login == login))


def test_a_grant_that_needs_a_second_factor_ends_every_earlier_sign_in(totp_app):
    app = totp_app
    person = SignedIn(app, "sl_clerk")           # no second factor: not required for a clerk
    sockets = [socketio.test_client(app, auth={"token": person.token}),
               socketio.test_client(app, flask_test_client=person.web)]
    assert all(sock.is_connected() for sock in sockets)
    assert person.api.get("/api/v1/me").status_code == 200

    grant_unit_admin_by_api(app, "sl_clerk")

    ids, wrong = cast_ids(app), []
    for key in SIGNED_IN_ROWS:
        row = MATRIX[key]
        method, _ = key.split(" ", 1)
        path, kwargs = row_request(row, ids)
        for how, client in (("session", person.web), ("token", person.api)):
            api = path.startswith("/api/")
            if how == "session" and api or how == "token" and not api:
                continue
            response = client.open(path, method=method, **kwargs)
            if outcome(response) != "L":
                wrong.append(f"{key} by the earlier {how}: {response.status_code} "
                             f"{response.headers.get('Location', '')}")
    for sock in sockets:
        if sock.is_connected():
            answer = sock.emit("send", {"channel_id": 1, "body": "收到", "client_msg_id": "g1"},
                               callback=True)
            if "error" not in answer or sock.is_connected():
                wrong.append(f"SOCKET send on a socket from before the grant: {answer}")
    if socketio.test_client(app, auth={"token": person.token}).is_connected():
        wrong.append("SOCKET connect with the token from before the grant")
    assert wrong == []
    # Signing in again now asks for enrolment first.
    again = app.test_client().post("/auth/login", data={"login": "sl_clerk", "password": PASSWORD})
    assert again.headers["Location"].endswith("/auth/second-factor")


def _grant_on_the_page(app, login):
    authenticator = enrol(app, "sec_admin")
    web = app.test_client()
    assert web.post("/auth/login", data={"login": "sec_admin", "password": PASSWORD}).status_code == 302
    assert web.post("/auth/verify", data={"totp": code(authenticator)}).status_code == 302
    answer = web.post(f"/admin/people/{user_id(app, login)}/roles",
                      data={"role": "unit_admin", "unit_id": str(cast_ids(app)["town"])})
    assert answer.status_code == 302


def _grant_by_console_import(app, login):
    from hub.org.imports_people import import_people
    with app.app_context():
        report = import_people(None, "people.csv",
                               f"login,name,unit_code,position,roles\n{login},石梁镇文书,{TOWN},文书,"
                               f"unit_admin;clerk\n".encode())
        assert not getattr(report, "errors", None), report


def _grant_by_console_action(app, login):
    """The console's path (no actor): hub.org.roles.add_grant, then commit."""
    from hub.org.roles import add_grant
    with app.app_context():
        person = db.session.scalar(select(User).where(User.login == login))
        add_grant(None, person, "unit_admin", db.session.get(Unit, cast_ids(app)["town"]))
        db.session.commit()


@pytest.mark.parametrize("grant", [grant_unit_admin_by_api, _grant_on_the_page, _grant_by_console_import,
                                   _grant_by_console_action])
def test_every_grant_path_ends_the_earlier_sign_ins(totp_app, grant):
    app = totp_app
    person = SignedIn(app, "sl_clerk")
    grant(app, "sl_clerk")
    assert person.api.get("/api/v1/me").status_code == 401
    assert outcome(person.web.get("/")) == "L"


def test_a_grant_to_someone_with_a_second_factor_ends_nothing(totp_app):
    app = totp_app
    authenticator = enrol(app, "sl_clerk")
    answer = app.test_client().post("/api/v1/auth/token", json={
        "login": "sl_clerk", "password": PASSWORD, "totp": code(authenticator)})
    token = Bearer(app.test_client(), answer.get_json()["token"])
    grant_unit_admin_by_api(app, "sl_clerk")
    assert token.get("/api/v1/me").status_code == 200


def test_a_role_that_needs_no_second_factor_ends_nothing(totp_app):
    app = totp_app
    person = SignedIn(app, "mp_director")
    answer = security_admin(app).open(f"/api/v1/people/{user_id(app, 'mp_director')}/roles",
                                      method="POST", json={"role": "clerk",
                                                           "unit_id": cast_ids(app)["village"]})
    assert answer.status_code in (200, 201), answer.get_json()
    assert person.api.get("/api/v1/me").status_code == 200


