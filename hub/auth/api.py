"""Auth API (API.md): tokens, who am I, change my password."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from hub.api import api_login_required, json_body
from hub.auth import actions
from hub.errors import InvalidInput
from hub.extensions import csrf
from hub.org.serialize import user_json

bp = Blueprint("auth_api", __name__)
csrf.exempt(bp)


@bp.post("/auth/token")
def issue_token():
    data = json_body()
    login, password = data.get("login"), data.get("password")
    if not isinstance(login, str) or not login:
        raise InvalidInput("缺少账号", field="login")
    if not isinstance(password, str) or not password:
        raise InvalidInput("缺少密码", field="password")
    user = actions.sign_in(login, password)
    token = actions.issue_token(user)
    return {"token": token, "user": {"id": user.id, "name": user.name},
            "must_change_password": user.must_change_password}


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
    return user_json(current_user, detail=True)


@bp.post("/me/password")
@api_login_required
def change_password():
    data = json_body()
    actions.change_own_password(current_user, data.get("current_password") or "",
                                data.get("new_password") or "")
    return {"changed": True}
