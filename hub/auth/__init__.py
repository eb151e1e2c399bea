"""Sign-in: browser sessions (Flask-Login) and bearer tokens for the API and Socket.IO.

See DESIGN.md (Principles) and API.md (Auth). Level-3 (等保2.0) rules: lockout
after repeated failures, idle and absolute session limits, audited sign-ins.
"""
from __future__ import annotations

from flask import Flask, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from hub.db import utcnow
from hub.extensions import db, login_manager
from hub.org.models import User


def register(app: Flask) -> None:
    from hub.auth import api, views
    from hub.auth.actions import user_for_token

    app.register_blueprint(views.bp, url_prefix="/auth")
    app.register_blueprint(api.bp, url_prefix="/api/v1")

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
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

    @app.before_request
    def enforce_session_rules():
        # Evaluate the user first: loading it is what marks bearer-token requests.
        if not current_user.is_authenticated or g.get("bearer_auth"):
            return None
        session.permanent = True          # idle timeout: PERMANENT_SESSION_LIFETIME
        started = session.get("signed_in_at")
        limit = app.config["SESSION_ABSOLUTE_LIFETIME"].total_seconds()
        if started is None or utcnow().timestamp() - started > limit:
            logout_user()
            session.clear()
            return None
        if (current_user.must_change_password and request.endpoint not in
                ("auth.password", "auth.logout", "static")
                and not request.path.startswith("/api/")):
            return redirect(url_for("auth.password"))
        return None
