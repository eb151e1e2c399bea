"""What happens when the hub starts: schema up to date, demo data on first start."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import func, select, text

from hub import create_app


def first_start(*, bind: str, config: Mapping[str, Any] | None = None) -> str:
    """Upgrade the schema; load the demo county if the database has no units and
    HUB_DEMO is not 0. Returns the banner to print (URL and demo logins)."""
    from hub.demo import DEMO_PASSWORD, demo_logins, seed_demo
    from hub.extensions import db
    from hub.migrate import upgrade
    from hub.org.models import Unit

    app = create_app(config)
    lines = []
    with _one_at_a_time(app):
        upgrade(app)
        with app.app_context():
            empty = not db.session.scalar(select(func.count()).select_from(Unit))
            if app.config["DEMO"] and empty:
                report = seed_demo(app.config["DEMO_COUNTY"])
                lines.append(report.describe())
    with app.app_context():
        host = bind.replace("0.0.0.0", "127.0.0.1")
        lines.append(f"Hub 已启动: http://{host}/")
        if app.config["DEMO"]:
            logins = demo_logins()
            if logins:
                lines.append(f"演示账号（密码均为 {DEMO_PASSWORD}）:")
                lines.extend(f"  {login:<22} {label}" for login, label in logins)
        db.engine.dispose()
    return "\n".join(lines)


STARTUP_LOCK = 7_240_001           # any constant: the advisory lock of "a hub is starting"


@contextmanager
def _one_at_a_time(app: Flask) -> Iterator[None]:
    """Several hub processes starting together on PostgreSQL take turns (an
    advisory lock), so only the first migrates and loads the demo; the others
    then find the work done. SQLite serves one process, and needs nothing."""
    from hub.extensions import db
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            yield
            return
        with db.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK})
