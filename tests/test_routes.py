"""Every route is closed to anonymous callers, except the few that must be open."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from hub import create_app
from tests.conftest import base_config

# /auth/language: the sign-in page's language switch (a cookie of the browser, nothing stored).
OPEN = {"/auth/login", "/auth/language", "/api/v1/auth/token", "/api/v1/openapi.json", "/healthz",
        "/static/<path:filename>", "/sw.js", "/offline"}


def all_routes() -> list[tuple[str, str]]:
    app = create_app(base_config(Path(tempfile.mkdtemp(prefix="routes")), "sqlite://"))
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule in OPEN:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "1", rule.rule)))
    return routes


def pytest_generate_tests(metafunc):
    if "route" in metafunc.fixturenames:
        metafunc.parametrize("route", all_routes(), ids=lambda r: f"{r[0]} {r[1]}")


@pytest.mark.parametrize("backend", ["sqlite"])     # the route table is the same on both
def test_anonymous_callers_are_turned_away(client, route):
    method, path = route
    response = client.open(path, method=method)
    if path.startswith("/api/"):
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.get_json()["error"]["code"] == "not_authenticated"
    else:
        assert response.status_code in (302, 401), (method, path, response.status_code)
        if response.status_code == 302:
            assert "/auth/login" in response.headers["Location"]
