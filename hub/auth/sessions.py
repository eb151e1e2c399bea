"""Browser sessions: starting one, the half-signed-in state between the password
and the second factor, and the limits checked on every request.

The session is Flask's signed cookie. Besides Flask-Login's user id (which
carries the session version, see hub/auth/__init__.py) it holds:
- `signed_in_at`: the absolute limit (12 hours) counts from here;
- `seen_at`: the last request, for the idle limit (30 minutes) — the cookie's own
  expiry enforces it too; sockets need the number (hub/auth/sockets.py);
- `sign_in_id`: names this sign-in, so that its sockets can be found at sign-out,
  and so that a copy of the cookie is refused after sign-out (ended_sign_ins).
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from hub.auth.models import EndedSignIn
from hub.db import utcnow
from hub.errors import PasswordChangeRequired
from hub.extensions import db
from hub.org.models import User
from hub.passwords import password_expired

PENDING = "pending_sign_in"
# How long the second step (the code, or enrolling) may take after the password.
PENDING_LIFETIME = timedelta(minutes=5)
# Pages a person whose password must be changed may still open.
# (The service worker and the offline page too, so the installed app keeps working.)
_PASSWORD_PAGES = ("auth.password", "auth.logout", "static", "pwa.service_worker", "pwa.offline")
# The API a person whose password must be changed may still use: change it,
# learn the state (GET /me says must_change_password / password_expired), sign
# out (revoke the token), sign in again, and the API's description. Everything
# else is 403 password_change_required; sockets do not connect (sockets.py).
_PASSWORD_API = ("auth_api.change_password", "auth_api.me", "auth_api.revoke_token",
                 "auth_api.issue_token", "openapi.openapi_json")


def start(user: User) -> None:
    """A fresh session for `user` (call after actions.complete_sign_in): nothing
    of the session before sign-in survives, so a planted cookie is worthless."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = utcnow().timestamp()
    session["signed_in_at"] = now
    session["seen_at"] = now
    session["sign_in_id"] = secrets.token_urlsafe(16)


def begin_pending(user: User, *, enrol: bool, next_url: str) -> None:
    """The password was right; the session is not signed in until the second
    step (a code, or enrolling a second factor when it is required) succeeds."""
    session.clear()
    session[PENDING] = {"user_id": user.id, "version": user.session_version, "enrol": enrol,
                        "at": utcnow().timestamp(), "next": next_url}


def pending_user(*, enrol: bool) -> User | None:
    """The person half-way through signing in, if the state is fresh and still
    theirs (same session version, still active)."""
    state = session.get(PENDING)
    if not isinstance(state, dict) or bool(state.get("enrol")) != enrol:
        return None
    if utcnow().timestamp() - float(state.get("at") or 0) > PENDING_LIFETIME.total_seconds():
        return None
    user = db.session.get(User, state.get("user_id"))
    if user is None or not user.active or user.session_version != state.get("version"):
        return None
    return user


def pending_next() -> str:
    state = session.get(PENDING) or {}
    return state.get("next") or url_for("home")


def deadline(data: Mapping[str, Any]) -> float | None:
    """When the session in `data` ends at the latest (UNIX time): its idle limit
    counted from the last request, or its absolute limit, whichever comes first."""
    started = data.get("signed_in_at")
    if started is None:
        return None
    seen = data.get("seen_at") or started
    config = current_app.config
    return min(started + config["SESSION_ABSOLUTE_LIFETIME"].total_seconds(),
               seen + current_app.permanent_session_lifetime.total_seconds())


def signed_out(data: Mapping[str, Any]) -> bool:
    """The sign-in in `data` was signed out: its cookie may have been copied
    before, and is refused (one primary-key lookup per request)."""
    sign_in_id = data.get("sign_in_id")
    return bool(sign_in_id) and db.session.get(EndedSignIn, sign_in_id) is not None


def password_change_required(user: User) -> bool:
    """The person must change the password before anything else: an admin
    issued it (must_change_password), or it is older than the maximum age."""
    return bool(user.must_change_password) or password_expired(user)


def enforce():
    """Before every signed-in request: end an expired browser session, note
    the request for the idle limit, and hold a person whose password must be
    changed (reset by an admin, or too old) to changing it — pages redirect to
    修改密码, the API answers 403 password_change_required — whether they came
    with a session cookie or a bearer token."""
    # Evaluate the user first: loading it is what marks bearer-token requests.
    if not current_user.is_authenticated:
        return None
    if g.get("bearer_auth"):
        return _hold_for_password_change()
    session.permanent = True          # idle timeout: PERMANENT_SESSION_LIFETIME
    now = utcnow().timestamp()
    session.setdefault("seen_at", now)    # sessions from before seen_at existed
    ends = deadline(session)
    if ends is None or now > ends or signed_out(session):
        logout_user()
        session.clear()
        return None
    session["seen_at"] = now
    return _hold_for_password_change()


def _hold_for_password_change():
    if not password_change_required(current_user):
        return None
    if request.path.startswith("/api/"):
        if request.endpoint in _PASSWORD_API:
            return None
        raise PasswordChangeRequired(_("请先修改密码：密码由管理员重置或已过期，修改后才能继续使用"))
    if request.endpoint in _PASSWORD_PAGES:
        return None
    return redirect(url_for("auth.password"))
