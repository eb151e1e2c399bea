"""The installable web app: the manifest and its icons, the service worker's
route and headers, and the /offline page that needs nobody signed in."""
from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from flask import url_for
from sqlalchemy import event

from hub.extensions import db
from hub.pwa import shell_version

STATIC = Path(__file__).resolve().parent.parent / "static"
MANIFEST = STATIC / "manifest.webmanifest"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (the IHDR chunk comes first)."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def worker_settings(source: str) -> dict:
    return json.loads(re.search(r"^const HUB = (\{.*\});$", source, re.MULTILINE).group(1))


def shell_urls(source: str) -> list[str]:
    """The worker's precache list; anything but a string literal or OFFLINE_URL fails to parse."""
    listed = re.sub(r"//.*", "", re.search(r"const SHELL = \[(.*?)\];", source, re.DOTALL).group(1))
    items = [item.strip() for item in listed.split(",") if item.strip()]
    return ["/offline" if item == "OFFLINE_URL" else json.loads(item) for item in items]


def test_manifest_names_the_app_and_opens_the_inbox(app):
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["name"] == "政务协同" and manifest["short_name"]
    assert manifest["lang"] == "zh-CN"
    assert manifest["display"] == "standalone" and manifest["scope"] == "/"
    assert manifest["theme_color"] == "#1f4e79" and manifest["background_color"].startswith("#")
    with app.test_request_context():
        assert manifest["start_url"] == url_for("inbox.index")


def test_manifest_icons_exist_in_their_stated_sizes():
    icons = json.loads(MANIFEST.read_text(encoding="utf-8"))["icons"]
    for icon in icons:
        path = STATIC / icon["src"].removeprefix("/static/")
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert png_size(path) == (width, height), icon["src"]
        assert icon["type"] == "image/png"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in icons}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_manifest_is_served_as_a_manifest(client):
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"


def test_service_worker_is_served_from_the_root_uncached(app, client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    settings = worker_settings(response.get_data(as_text=True))
    assert re.fullmatch(r"[0-9a-f]{12}", settings["version"])
    assert settings["pageMaxAge"] == app.permanent_session_lifetime.total_seconds()
    again = client.get("/sw.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_shell_version_follows_the_contents_of_static(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "hub.css").write_text("body { color: black; }")
    before = shell_version(tmp_path)
    assert shell_version(tmp_path) == before
    (tmp_path / "css" / "hub.css").write_text("body { color: navy; }")
    assert shell_version(tmp_path) != before


def test_everything_the_worker_precaches_exists(client):
    urls = shell_urls(client.get("/sw.js").get_data(as_text=True))
    assert "/offline" in urls and "/static/js/hub.js" in urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_offline_page_needs_no_sign_in_and_no_database(app, client):
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])   # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get("/offline")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    assert "现在没有网络" in response.get_data(as_text=True)
    assert statements == []
    assert "Set-Cookie" not in response.headers       # cached for everyone: it carries no session


def test_offline_page_shows_nothing_of_the_person_signed_in(client, login):
    login("mp_secretary")
    page = client.get("/offline").get_data(as_text=True)
    assert "王建军" not in page
    assert "csrf" not in page.lower()
    assert "现在没有网络" in page


def test_policy_lets_the_worker_and_the_manifest_load_from_the_site(client):
    """worker-src falls back to script-src and manifest-src to default-src
    (CSP level 3), so the policy needs neither directive spelled out."""
    header = client.get("/offline").headers["Content-Security-Policy"]
    rules = {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}
    fallbacks = ("worker-src", "child-src", "script-src", "default-src")
    worker = next(rules[name] for name in fallbacks if name in rules)
    manifest = rules.get("manifest-src") or rules["default-src"]
    assert "'self'" in worker and "'self'" in manifest
