"""Fixtures: every test runs on a real SQLite file and on a real PostgreSQL.

PostgreSQL is started by the suite itself on loopback (tests/pg.py). Set
HUB_TEST_BACKENDS=sqlite for a quick local run; CI sets HUB_REQUIRE_POSTGRES=1
so that a missing PostgreSQL fails the run instead of skipping.
"""
from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import select, text

from hub import create_app
from hub.extensions import db
from hub.org.models import Unit, User
from tests.cast import HASH_PARAMS, PASSWORD, seed_cast
from tests.pg import running_postgres

# Property tests (Hypothesis) are derandomized in CI, so that a green run does not
# depend on which examples a random seed happened to draw; locally they explore at
# random. HUB_HYPOTHESIS_PROFILE=ci gives the CI behaviour (.ci/run sets it).
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("dev", database=None)
settings.load_profile(os.environ.get("HUB_HYPOTHESIS_PROFILE", "dev"))

BACKENDS = [b for b in os.environ.get("HUB_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
_ran = {"postgresql": 0, "sqlite": 0}


def base_config(tmp_path, uri: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": uri,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "DEMO": False,
        "REDIS_URL": None,
        "PASSWORD_HASH_PARAMS": HASH_PARAMS,
        # The cast's admins sign in without a second factor; tests/auth turns the
        # default ("admins") back on where it is what is tested.
        "TOTP_REQUIRED": "off",
        # The suite signs in hundreds of times from 127.0.0.1: rate limits off;
        # tests/auth/test_throttle.py turns them on where they are what is tested.
        "SIGN_IN_LIMIT_PER_ADDRESS": "off",
        "SIGN_IN_LIMIT_PER_LOGIN": "off",
        "SEARCH_LIMIT_PER_PERSON": "off",
        # Uploads keep a 1 GiB floor of free space in production; a test machine
        # may have less. tests/channels/test_upload_limits.py sets it where tested.
        "STORAGE_MIN_FREE_BYTES": 16 * 1024 * 1024,
    }


@pytest.fixture(scope="session")
def password_hash(tmp_path_factory) -> str:
    app = create_app(base_config(tmp_path_factory.mktemp("hash"), "sqlite://"))
    with app.app_context():
        from hub.passwords import hash_password
        return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def pg_server():
    with running_postgres() as server:
        yield server


def _migrate(tmp_path, uri: str) -> None:
    from hub.migrate import upgrade
    app = create_app(base_config(tmp_path, uri))
    upgrade(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for every test (faster than migrating each time)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.db"
    _migrate(folder, f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url(pg_server, tmp_path_factory):
    url = pg_server.create_database("hub_test")
    _migrate(tmp_path_factory.mktemp("pg-migrate"), url)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_uri(backend, tmp_path, request) -> str:
    if backend == "sqlite":
        path = tmp_path / "hub.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        _ran["sqlite"] += 1
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    import psycopg
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    _ran["postgresql"] += 1
    return url


@pytest.fixture
def make_app(tmp_path, password_hash):
    """Build an app on the test's database; the first call seeds the cast."""
    apps = []

    def build(uri: str, **overrides: Any):
        app = create_app({**base_config(tmp_path, uri), **overrides})
        if not apps:
            with app.app_context():
                seed_cast(password_hash)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app, database_uri):
    return make_app(database_uri)


@pytest.fixture
def client(app):
    return app.test_client()


class CastAccess:
    """Fresh objects of the cast from the current session: cast.user("kc_clerk")."""

    def user(self, login: str) -> User:
        return db.session.scalar(select(User).where(User.login == login))

    def unit(self, code: str) -> Unit:
        return db.session.scalar(select(Unit).where(Unit.code == code))


@pytest.fixture
def cast(app):
    """Push an app context for tests that call actions directly."""
    with app.app_context():
        yield CastAccess()
        db.session.rollback()


@pytest.fixture
def login(client):
    def login_as(name: str, password: str = PASSWORD):
        response = client.post("/auth/login", data={"login": name, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return response
    return login_as


class ApiClient:
    """A test client that sends a bearer token: api.get("/api/v1/me")."""

    def __init__(self, client, token: str | None) -> None:
        self.client, self.token = client, token

    def _headers(self, headers: dict | None) -> dict:
        merged = dict(headers or {})
        if self.token:
            merged["Authorization"] = f"Bearer {self.token}"
        return merged

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, **kw):
        return self.client.post(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path: str, **kw):
        return self.client.patch(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path: str, **kw):
        return self.client.put(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path: str, **kw):
        return self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api(app):
    """api("kc_admin") -> ApiClient signed in with a token; api(None) is anonymous."""
    def api_as(name: str | None) -> ApiClient:
        client = app.test_client()
        if name is None:
            return ApiClient(client, None)
        response = client.post("/api/v1/auth/token", json={"login": name, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return ApiClient(client, response.get_json()["token"])
    return api_as


def unit_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Unit.id).where(Unit.code == code))


def user_id(app, login: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.login == login))


@pytest.fixture
def ids(app):
    """ids.unit("330802") / ids.user("kc_admin"): integer ids for API calls."""
    class Ids:
        def unit(self, code: str) -> int:
            return unit_id(app, code)

        def user(self, login: str) -> int:
            return user_id(app, login)
    return Ids()


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"hub backends: sqlite tests {_ran['sqlite']}, postgresql tests {_ran['postgresql']}")


def count_rows(model) -> int:
    return db.session.execute(text(f"SELECT count(*) FROM {model.__tablename__}")).scalar_one()
