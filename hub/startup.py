"""What happens when the hub starts: schema up to date, demo data on first start."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from hub import create_app


def first_start(*, bind: str, config: Mapping[str, Any] | None = None) -> str:
    """Upgrade the schema; load the demo county if the database has no units and
    HUB_DEMO is not 0. Returns the banner to print (URL and demo logins)."""
    from hub.demo import DEMO_PASSWORD, demo_logins, seed_demo
    from hub.extensions import db
    from hub.migrate import upgrade
    from hub.org.models import Unit

    app = create_app(config)
    upgrade(app)
    lines = []
    with app.app_context():
        empty = not db.session.scalar(select(func.count()).select_from(Unit))
        if app.config["DEMO"] and empty:
            report = seed_demo(app.config["DEMO_COUNTY"])
            lines.append(report.describe())
        host = bind.replace("0.0.0.0", "127.0.0.1")
        lines.append(f"Hub 已启动: http://{host}/")
        if app.config["DEMO"]:
            logins = demo_logins()
            if logins:
                lines.append(f"演示账号（密码均为 {DEMO_PASSWORD}）:")
                lines.extend(f"  {login:<22} {label}" for login, label in logins)
        db.engine.dispose()
    return "\n".join(lines)
