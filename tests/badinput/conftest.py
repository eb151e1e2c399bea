"""Fixtures for the bad-input suite: one app and one database per module and
backend (blns has ~500 strings; a fresh database per string would be far too
slow), and signed-in API clients on it.

Each module gets its own SQLite file or its own PostgreSQL database, so the
function-scoped fixtures of tests/conftest.py (which truncate "hub_test") never
touch it.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import create_app
from hub.extensions import db
from hub.org.models import Unit, User
from tests.cast import PASSWORD, seed_cast
from tests.conftest import BACKENDS, ApiClient, _migrate, base_config


@pytest.fixture(scope="module", params=BACKENDS)
def shared_app(request, tmp_path_factory, password_hash):
    folder = tmp_path_factory.mktemp("badinput")
    if request.param == "sqlite":
        # In memory-backed /dev/shm where there is one: these modules commit
        # thousands of times, and an fsync per commit is most of their time.
        shm = Path("/dev/shm")
        path = Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else folder)) / "hub.db"
        request.addfinalizer(lambda: shutil.rmtree(path.parent, ignore_errors=True))
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        uri = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("pg_server")
        name = "bad_" + re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])
        uri = server.create_database(name)
        _migrate(folder, uri)
    app = create_app(base_config(folder, uri))
    app.config["HUB_TEST_BACKEND"] = request.param
    with app.app_context():
        seed_cast(password_hash)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def shared_api(shared_app):
    """shared_api("admin") -> ApiClient with a bearer token (one token per person per module)."""
    tokens: dict[str, str] = {}

    def api_as(login: str) -> ApiClient:
        client = shared_app.test_client()
        if login not in tokens:
            response = client.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD})
            assert response.status_code == 200, response.get_json()
            tokens[login] = response.get_json()["token"]
        return ApiClient(client, tokens[login])
    return api_as


@pytest.fixture(scope="module")
def shared_ids(shared_app):
    class Ids:
        def unit(self, code: str) -> int:
            with shared_app.app_context():
                return db.session.scalar(select(Unit.id).where(Unit.code == code))

        def user(self, login: str) -> int:
            with shared_app.app_context():
                return db.session.scalar(select(User.id).where(User.login == login))
    return Ids()


@pytest.fixture(scope="module")
def browser(shared_app):
    """browser("mp_secretary") -> a test client signed in with a session cookie."""
    def sign_in(login: str):
        client = shared_app.test_client()
        response = client.post("/auth/login", data={"login": login, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client
    return sign_in
