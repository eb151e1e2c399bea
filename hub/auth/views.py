"""Sign-in pages: login and its second step, two-step verification, logout,
change your own password. A refused form is shown again with its message
(hub.errors.form_errors); a refused sign-in goes back to the sign-in page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from hub.auth import actions, second_factor, sessions, throttle
from hub.passwords import password_expired
from hub.errors import HubError, InvalidInput, form_errors
from hub.i18n import COOKIE
from hub.redirects import local_target

bp = Blueprint("auth", __name__)
# The session's mark of the TOTP secret it is enrolling (second_factor.pending_secret).
TOTP_ATTEMPT = "totp_attempt"


def _safe_next(target: str | None) -> str:
    """Where to go after signing in (or switching the language): a path on this
    host only (hub/redirects.py), else the home page."""
    return local_target(target, url_for("home"))


def login_alias():
    """`/login`, as people type it: the sign-in page, its `next` kept."""
    return redirect(url_for("auth.login", **request.args.to_dict()))


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", next=request.args.get("next", ""))


def _refused(login: str = "", next_url: str = "", *, error: HubError):
    """Back to the sign-in page: a refused sign-in (401), too many attempts
    (429 with Retry-After), or too many sign-ins at once (503)."""
    session.clear()
    return (render_template("auth/login.html", error=error.message, login=login[:64], next=next_url),
            error.status, _headers(error))


def _headers(error: HubError | None) -> dict[str, str]:
    """Retry-After of a 429 or 503."""
    return getattr(error, "headers", None) or {}


def _signed_in(user, next_url: str):
    """Every step passed: the session starts, and this browser is remembered
    as one that signed in to this login (the device cookie, throttle.py)."""
    actions.complete_sign_in(user, device=throttle.device_for(user.login))
    sessions.start(user)
    response = redirect(next_url)
    throttle.remember_device(response, user.login)
    return response


@bp.post("/login")
def login_post():
    """登录, first step. With a second factor the session stays half signed in
    until the code (or the enrolment) is done."""
    next_url = _safe_next(request.form.get("next"))
    login = request.form.get("login", "")
    with form_errors(_refused, login, request.form.get("next", "")):
        throttle.check_sign_in(login)
        user = actions.check_password(login, request.form.get("password", ""),
                                      device=throttle.device_for(login))
    step = second_factor.second_step(user)
    if step is None:
        return _signed_in(user, next_url)
    sessions.begin_pending(user, enrol=step == "enrol", next_url=next_url)
    return redirect(url_for("auth.second_factor" if step == "enrol" else "auth.verify"))


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """登录, second step: the code from the person's authenticator app."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    user = sessions.pending_user(enrol=False)
    if user is None:
        flash(_("请重新登录"), "info")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return _verify_page()
    with form_errors(_verify_page):
        throttle.check_sign_in(user.login)
        second_factor.verify_sign_in_code(user, request.form.get("totp"),
                                          device=throttle.device_for(user.login))
    return _signed_in(user, sessions.pending_next())


def _verify_page(*, error: HubError | None = None):
    """The code's page again; a refused sign-in (locked, disabled) starts over."""
    if isinstance(error, actions.SignInRefused):
        return _refused(error=error)
    return render_template("auth/verify.html", error=error), error.status if error else 200, _headers(error)


@bp.route("/second-factor", methods=["GET", "POST"], endpoint="second_factor")
def second_factor_page():
    """两步验证: enrol (show the secret, confirm with a code) or see the state.
    Open to a signed-in person, and to one half signed in who must enrol."""
    signing_in = not current_user.is_authenticated
    user = sessions.pending_user(enrol=True) if signing_in else current_user._get_current_object()
    if user is None:
        flash(_("请先登录"), "info")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return _second_factor_page(user, signing_in)
    with form_errors(_second_factor_page, user, signing_in):
        if signing_in:
            throttle.check_sign_in(user.login)
        second_factor.enable_second_factor(user, request.form.get("totp"), signing_in=signing_in,
                                           attempt=session.get(TOTP_ATTEMPT),
                                           device=throttle.device_for(user.login))
    flash(_("两步验证已启用，今后登录时须输入动态验证码"))
    if not signing_in:
        return redirect(url_for("auth.second_factor"))
    return _signed_in(user, sessions.pending_next())


def _second_factor_page(user, signing_in: bool, *, error: HubError | None = None):
    """The enrolment (or its state); a refused sign-in (locked, disabled) starts over."""
    if isinstance(error, actions.SignInRefused):
        return _refused(error=error)
    enrolled = second_factor.is_enrolled(user)
    secret = None
    # Opening the page starts an attempt (a fresh secret unless this session's
    # is current); a refused confirmation shows the same one again, but never
    # starts over, so another browser's attempt cannot discard this one's.
    if not enrolled and (request.method == "GET" or second_factor.attempt_is_current(
            user, session.get(TOTP_ATTEMPT))):
        secret, session[TOTP_ATTEMPT] = second_factor.pending_secret(user, session.get(TOTP_ATTEMPT))
    return render_template(
        "auth/second_factor.html", person=user, enrolled=enrolled, signing_in=signing_in,
        required=second_factor.is_required(user), secret=secret,
        secret_groups=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) if secret else "",
        uri=second_factor.provisioning_uri(user) if secret else None,
        qr=second_factor.provisioning_qr(user) if secret else None, error=error,
    ), error.status if error else 200, _headers(error)


@bp.post("/logout")
@login_required
def logout():
    actions.record_sign_out(current_user, sign_in_id=session.get("sign_in_id"))
    logout_user()
    session.clear()
    flash(_("已退出登录"))
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """The language switch in the page footer; back to the page it was used on.
    A signed-in person's choice is their own setting; on the sign-in page it is
    this browser's (a cookie), so that signing in can be read in English."""
    choice = request.form.get("language")
    if current_user.is_authenticated:
        actions.set_language(current_user, choice)     # refused: flashed by the app
    else:
        choice = actions.check_language(choice)
    response = redirect(_safe_next(request.form.get("next")))
    if not current_user.is_authenticated and choice:
        response.set_cookie(COOKIE, choice, max_age=365 * 86400, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    elif not choice:
        response.delete_cookie(COOKIE)                 # following the browser again
    return response


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    if request.method == "GET":
        return _password_page()
    with form_errors(_password_page):
        if request.form.get("new_password") != request.form.get("confirm_password"):
            raise InvalidInput(_("两次输入的新密码不一致"), field="confirm_password")
        actions.change_own_password(current_user, request.form.get("current_password", ""),
                                    request.form.get("new_password", ""))
    # The password change ended every session, this one too: sign in again.
    logout_user()
    session.clear()
    flash(_("密码已修改，请用新密码登录"))
    return redirect(url_for("auth.login"))


def _password_page(*, error: HubError | None = None):
    return render_template("auth/password.html", error=error,
                           expired=password_expired(current_user)), 400 if error else 200
