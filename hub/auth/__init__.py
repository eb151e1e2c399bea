"""Sign-in: browser sessions (Flask-Login) and bearer tokens for the API and Socket.IO.

See DESIGN.md (Principles) and API.md (Auth). Level-3 (等保2.0) rules: lockout
after repeated failures, idle and absolute session limits, audited sign-ins, a
TOTP second factor (second_factor.py), periodic password change (passwords.py),
and sockets that end with the session or token they came with (sockets.py).
"""
from __future__ import annotations

from flask import Flask, g
from flask_babel import gettext

from hub.extensions import db, login_manager
from hub.org.models import User


def register(app: Flask) -> None:
    from hub.auth import api, second_factor, sessions, sockets, views  # noqa: F401 (sockets: listeners)
    from hub.auth.actions import user_for_token

    sockets.register_connect()
    app.register_blueprint(views.bp, url_prefix="/auth")
    app.add_url_rule("/login", endpoint="login", view_func=views.login_alias)
    app.register_blueprint(api.bp, url_prefix="/api/v1")

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"     # a note, not a success
    login_manager.localize_callback = gettext      # flashed in the reader's language
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The id carries the session version: a password change or disabling
        # the account bumps it, and every older session stops here.
        try:
            raw_id, version = user_id.split(":")
            user = db.session.get(User, int(raw_id))
        except (ValueError, TypeError):
            return None
        if user is None or not user.active or str(user.session_version) != version:
            return None
        return user

    @login_manager.request_loader
    def load_user_from_bearer(req) -> User | None:
        header = req.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            user = user_for_token(header[7:].strip())
            if user is not None:
                g.bearer_auth = True
            return user
        return None

    # Checked at start: a misspelt HUB_TOTP_REQUIRED must not silently mean "off".
    if app.config.get("TOTP_REQUIRED", "admins") not in second_factor.POLICIES:
        raise RuntimeError(f"HUB_TOTP_REQUIRED must be one of {', '.join(second_factor.POLICIES)}")
    app.before_request(sessions.enforce)
