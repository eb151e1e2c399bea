"""Hub: one place for government units' notices, documents and channels.

create_app() only wires things up; the domains live in the sub-packages.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from hub.validation import ID_MAX


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 to 2**31 - 1."""

    def __init__(self, url_map, **kwargs) -> None:
        super().__init__(url_map, min=1, max=ID_MAX)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app. Tests pass a mapping; gunicorn passes nothing."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    from hub.api import BoundedJSONProvider, parse_json_body
    app.json = BoundedJSONProvider(app)      # every JSON body: depth, integers and lists bounded
    app.before_request(parse_json_body)      # ... even where a view does not read it
    app.config.from_object("config.Config")
    if test_config is not None:
        app.config.update(test_config)
    _prepare_instance(app)
    from hub.audit import check_audit_settings
    check_audit_settings(app.config)     # retention under 190 days, an unknown hash: refused

    from hub.extensions import csrf, db, login_manager, socketio
    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    from hub.realtime import SocketJSON, message_queue
    socketio.init_app(app, async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),
                      cors_allowed_origins=app.config.get("SOCKETIO_ALLOWED_ORIGINS"),
                      json=SocketJSON,
                      **message_queue(app.config.get("REDIS_URL")))

    # Every <int:...> and <id:...> in a URL is a positive id that fits the
    # database's integer column: an absurd number is a 404, not a driver overflow.
    app.url_map.converters["int"] = app.url_map.converters["id"] = IdConverter

    from hub import i18n, times
    i18n.register(app)
    times.register_filters(app)
    from hub.auth import throttle
    throttle.init_app(app)               # rate limits and device cookies (Flask-Limiter)

    from hub import admin, auth, channels, datarequests, documents, files, inbox, notices, org, pwa, realtime
    for domain in (auth, org, files, channels, notices, documents, datarequests, inbox, admin, realtime, pwa):
        domain.register(app)

    from hub.cli import register_commands
    from hub.errors import register_error_handlers
    from hub.openapi import register as register_openapi
    register_error_handlers(app)
    from hub.headers import register_security_headers
    register_security_headers(app)
    register_commands(app)
    register_openapi(app)

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    return app


def _prepare_instance(app: Flask) -> None:
    """Instance folder, database URL and a secret key that survives restarts."""
    instance = Path(app.config.get("INSTANCE_PATH") or app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.instance_path = str(instance)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = f"sqlite:///{instance / 'hub.db'}"
    elif uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]   # psycopg 3 as given
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("postgresql"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("pool_size", app.config["DB_POOL_SIZE"])
        options.setdefault("max_overflow", app.config["DB_MAX_OVERFLOW"])
        # A pooled connection is checked (one round trip) before each use, so after a
        # PostgreSQL restart the first requests get fresh connections instead of
        # failing on dead ones (docs/RELIABILITY.md "Faults").
        options.setdefault("pool_pre_ping", True)
        # psycopg prepares a statement run five times, and PostgreSQL may then
        # switch it to a generic plan, made without the parameters' values: the
        # kept unread count's "notices after my horizon" took 15 ms instead of
        # 1 ms that way (docs/PERFORMANCE.md, issue 14). Every statement is
        # planned for its values; the parse is still saved.
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c plan_cache_mode=force_custom_plan")
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        key_file = instance / "secret_key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        app.config["SECRET_KEY"] = key_file.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL lets readers and the writer work at once; foreign keys on; wait for
    locks. Reads go through a memory map of up to 256 MiB (shared by every
    connection through the OS page cache) instead of a read() per page: counting
    a person's unread notices among 10,000 went from 25 to 13 ms."""
    import sqlite3
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()
