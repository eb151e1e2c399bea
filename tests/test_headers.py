"""Security headers and what makes them possible: no inline script or style in any page."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC_JS = Path(__file__).resolve().parent.parent / "static" / "js"


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/auth/login", "/inbox", "/api/v1/inbox", "/healthz", "/no-such-page"])
def test_every_response_carries_the_policy(client, login, path):
    login("mp_secretary")
    response = client.get(path)
    rules = policy(response)
    assert rules["script-src"] == "script-src 'self'"
    assert rules["style-src"] == "style-src 'self'"
    assert rules["object-src"] == "object-src 'none'"
    assert rules["base-uri"] == "base-uri 'none'"
    assert rules["frame-ancestors"] == "frame-ancestors 'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_hsts_only_over_tls(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://hub.example.gov.cn")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_behind_a_proxy_that_terminates_tls(make_app, database_uri):
    app = make_app(database_uri, PROXY_HOPS=1)
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https",
                                                         "X-Forwarded-For": "10.0.0.7"})
    assert "Strict-Transport-Security" in response.headers
    plain = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers


def test_templates_hold_no_inline_script_style_or_handlers():
    """What lets the policy forbid inline code: every script is a file under /static."""
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for tag in re.finditer(r"<script\b[^>]*>", text, re.IGNORECASE):
            if "src=" not in tag.group(0) and 'type="application/json"' not in tag.group(0):
                problems.append(f"{template.name}: inline <script>")
        if re.search(r"<style\b", text, re.IGNORECASE):
            problems.append(f"{template.name}: <style> block")
        for handler in re.finditer(r"\son[a-z]+\s*=", text, re.IGNORECASE):
            problems.append(f"{template.name}: event handler attribute {handler.group(0).strip()}")
        if re.search(r"\sstyle\s*=", text, re.IGNORECASE):
            problems.append(f"{template.name}: style attribute")
        if "javascript:" in text.lower():
            problems.append(f"{template.name}: javascript: URL")
    assert problems == []


def test_scripts_do_not_evaluate_strings():
    """eval and friends would need 'unsafe-eval'; innerHTML with data would defeat escaping."""
    problems = []
    for script in sorted(STATIC_JS.rglob("*.js")):
        text = script.read_text(encoding="utf-8")
        for pattern in (r"\beval\(", r"new Function\(", r"setTimeout\(\s*['\"]", r"setInterval\(\s*['\"]"):
            if re.search(pattern, text):
                problems.append(f"{script.name}: {pattern}")
    assert problems == []
