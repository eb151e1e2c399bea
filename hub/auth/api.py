"""Auth API (API.md): tokens, who am I, change my password."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required, json_body
from hub.auth import actions, second_factor, throttle
from hub.passwords import password_expired
from hub.errors import InvalidInput
from hub.extensions import csrf
from hub.org.serialize import user_json

bp = Blueprint("auth_api", __name__)
csrf.exempt(bp)


@bp.post("/auth/token")
def issue_token():
    """Sign in: login, password and, when the person has a second factor, the
    current code in "totp" (401 naming the field when missing or wrong)."""
    data = json_body()
    login, password, code = data.get("login"), data.get("password"), data.get("totp")
    if not isinstance(login, str) or not login:
        raise InvalidInput(_("缺少账号"), field="login")
    if not isinstance(password, str) or not password:
        raise InvalidInput(_("缺少密码"), field="password")
    if code is not None and not isinstance(code, str):
        raise InvalidInput(_('动态验证码须为字符串，如 "012345"'), field="totp")
    throttle.check_sign_in(login)                  # 429 with Retry-After
    device = throttle.device_for(login)
    user = actions.check_password(login, password, device=device)
    second_factor.require_for_token(user, code, device=device)
    actions.complete_sign_in(user, device=device)
    token = actions.issue_token(user)
    response = jsonify({"token": token, "user": {"id": user.id, "name": user.name},
                        "must_change_password": user.must_change_password,
                        "password_expired": password_expired(user)})
    throttle.remember_device(response, user.login)  # a client that keeps cookies is remembered
    return response


@bp.delete("/auth/token")
@api_login_required
def revoke_token():
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        actions.revoke_token(header[7:].strip())
    return {"revoked": True}


@bp.get("/me")
@api_login_required
def me():
    """Who am I. Open to a person who must change their password first (every
    other call answers 403 password_change_required): the two flags tell why."""
    return {**user_json(current_user, detail=True), "password_expired": password_expired(current_user)}


@bp.put("/me/language")
@api_login_required
def set_language():
    """Your own language ("zh", "en"), or null to follow the browser."""
    actions.set_language(current_user, json_body().get("language"))
    return {"language": current_user.locale}


@bp.post("/me/password")
@api_login_required
def change_password():
    data = json_body()
    actions.change_own_password(current_user, data.get("current_password") or "",
                                data.get("new_password") or "")
    return {"changed": True}
