"""The app as a whole: configuration, schema, errors, CSRF, OpenAPI, CLI."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from hub import create_app
from hub.audit import AuditEntry, record_audit
from hub.extensions import db
from hub.openapi import OPERATIONS, api_operations
from tests.cast import PASSWORD
from tests.conftest import base_config


def test_every_api_route_is_described_in_openapi(app, client):
    missing = [op for op in api_operations(app) if op not in OPERATIONS]
    assert missing == []
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "post" in spec["paths"]["/api/v1/auth/token"]
    assert "patch" in spec["paths"]["/api/v1/units/{unit_id}"]


def test_postgresql_urls_work_as_given(app, backend):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("postgresql+psycopg://" if backend == "postgresql" else "sqlite:///")


def test_sqlite_runs_in_wal_mode(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def _modelled(name, type_, parent_names) -> bool:
    """Message search's FTS5 table (and its shadow tables) and its trigram
    index are dialect-specific, made by migration 0004, not by the models."""
    return not (name or "").startswith(("message_search", "ix_messages_body_trgm"))


def test_migrations_match_the_models(app):
    import hub.models  # noqa: F401
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _modelled})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_audit_log_is_append_only_in_the_database(cast):
    record_audit(None, "auth.login_failed", actor_login="x", target_label="x")
    db.session.commit()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE audit_entries SET action = 'forged'"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM audit_entries"))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action)) == "auth.login_failed"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'k.db'}"), "SECRET_KEY": None}
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_api_path_and_method_answer_json(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/auth/token")
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"


def test_forms_and_cookie_api_writes_need_the_csrf_token(make_app, database_uri):
    app = make_app(database_uri, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    refused = client.post("/auth/login", data={"login": "kc_clerk", "password": PASSWORD})
    assert refused.status_code == 400
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    signed_in = client.post("/auth/login", data={"login": "kc_clerk", "password": PASSWORD,
                                                  "csrf_token": token})
    assert signed_in.status_code == 302
    body = {"current_password": PASSWORD, "new_password": "Xin-mima-2026"}
    assert client.post("/api/v1/me/password", json=body).status_code == 400
    home = client.get("/").get_data(as_text=True)
    token = home.split('name="csrf-token" content="')[1].split('"')[0]
    accepted = client.post("/api/v1/me/password", json=body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200


def test_session_cookie_is_httponly_and_samesite(client, login):
    cookie = login("kc_clerk").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires" in cookie          # 30 minutes, not a 31-day default


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from hub.migrate import MIGRATIONS
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_cli_init_is_repeatable_and_create_admin_works(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["hub", "init"])
        assert result.exit_code == 0 and f"revision {head_revision()}" in result.output
    result = runner.invoke(args=["hub", "create-admin", "root2", "Root-pass-2026"])
    assert result.exit_code == 0, result.output
    token = app.test_client().post("/api/v1/auth/token",
                                   json={"login": "root2", "password": "Root-pass-2026"})
    assert token.status_code == 200
    weak = runner.invoke(args=["hub", "create-admin", "root3", "weak"])
    assert weak.exit_code != 0
