"""Sign-in pages: login, logout, change your own password."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from hub.auth import actions
from hub.db import utcnow
from hub.errors import HubError, InvalidInput

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("org.home")


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", next=request.args.get("next", ""))


@bp.post("/login")
def login_post():
    try:
        user = actions.sign_in(request.form.get("login", ""), request.form.get("password", ""))
    except actions.SignInRefused as refused:
        return render_template("auth/login.html", error=refused.message,
                               login=request.form.get("login", "")[:64],
                               next=request.form.get("next", "")), 401
    session.clear()                       # a fresh session on every sign-in
    login_user(user)
    session.permanent = True
    session["signed_in_at"] = utcnow().timestamp()
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@login_required
def logout():
    actions.record_sign_out(current_user)
    logout_user()
    session.clear()
    flash("已退出登录")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    error = None
    if request.method == "POST":
        try:
            if request.form.get("new_password") != request.form.get("confirm_password"):
                raise InvalidInput("两次输入的新密码不一致", field="confirm_password")
            actions.change_own_password(current_user, request.form.get("current_password", ""),
                                        request.form.get("new_password", ""))
        except HubError as problem:
            error = problem
        else:
            # The password change ended every session, this one too: sign in again.
            logout_user()
            session.clear()
            flash("密码已修改，请用新密码登录")
            return redirect(url_for("auth.login"))
    return render_template("auth/password.html", error=error), 400 if error else 200
