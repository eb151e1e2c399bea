"""Behind a reverse proxy (HUB_PROXY_HOPS): the audit log records the client's
address from X-Forwarded-For, and only for as many hops as are trusted."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.audit import AuditEntry
from hub.extensions import db


def failed_login_ip(app, headers) -> str | None:
    client = app.test_client()
    client.post("/auth/login", data={"login": "kc_clerk", "password": "wrong"}, headers=headers)
    with app.app_context():
        return db.session.scalar(select(AuditEntry.ip).where(AuditEntry.action == "auth.login_failed")
                                 .order_by(AuditEntry.id.desc()).limit(1))


@pytest.mark.parametrize("hops,expected", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_the_audit_log_records_the_client_behind_a_trusted_proxy(make_app, database_uri, hops, expected):
    app = make_app(database_uri, PROXY_HOPS=hops)
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https"}
    assert failed_login_ip(app, headers) == expected
