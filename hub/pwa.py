"""The installable web app (PWA): the service worker at /sw.js and the /offline page.

The manifest and the icons are plain static files (static/manifest.webmanifest,
static/icons/, drawn by scripts/make_icons.py). The worker itself is
static/sw.js; it is served from the root because a worker only controls the
pages under the path it is served from. How it caches, and what it never keeps,
is explained at the top of static/sw.js; README.md has the short version.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template, request

bp = Blueprint("pwa", __name__)

# The one line of static/sw.js that the server fills in.
_SETTINGS_LINE = re.compile(r"^const HUB = \{.*\};$", re.MULTILINE)


@bp.get("/sw.js")
def service_worker() -> Response:
    """The worker, with this deployment's shell version and session idle limit.
    Never taken from the HTTP cache without asking, so a new version is seen at
    the next navigation."""
    static = Path(current_app.static_folder or "")
    idle = int(current_app.permanent_session_lifetime.total_seconds())
    settings = json.dumps({"version": shell_version(static), "pageMaxAge": idle})
    source = (static / "sw.js").read_text(encoding="utf-8")
    body = _SETTINGS_LINE.sub(lambda _: f"const HUB = {settings};", source, count=1)
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    return response.make_conditional(request)


@bp.get("/offline")
def offline() -> str:
    """离线页: what the worker shows when there is no network and no kept copy of
    the page. It shows nobody's data, so it needs no sign-in and no database."""
    return render_template("offline.html")


def shell_version(static: Path) -> str:
    """A hash of the contents of every file under static/: it changes whenever any
    of them does, on every server of a cluster alike (mtimes would differ)."""
    files = tuple(sorted((str(path.relative_to(static)), path.stat().st_mtime_ns, path.stat().st_size)
                         for path in static.rglob("*") if path.is_file()))
    return _hash_files(static, files)


@lru_cache(maxsize=4)
def _hash_files(static: Path, files: tuple[tuple[str, int, int], ...]) -> str:
    """Keyed by (name, mtime, size), so the files are read again only after one changed."""
    digest = hashlib.sha256()
    for name, _mtime, _size in files:
        digest.update(name.encode() + b"\0" + (static / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def register(app: Flask) -> None:
    app.register_blueprint(bp)
