"""Sign-in, tokens and passwords. Every sign-in, success or failure, is audited."""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from sqlalchemy import delete, select

from hub.audit import record_audit
from hub.auth.models import ApiToken
from hub.auth.passwords import (check_password_policy, hash_password, needs_rehash,
                                verify_password)
from hub.db import utcnow
from hub.errors import HubError, InvalidInput
from hub.extensions import db
from hub.org.models import User

# One message for every refused sign-in (wrong password, unknown login, locked,
# disabled), so the answer never tells an attacker which logins exist.
SIGN_IN_REFUSED = "账号或密码错误；连续多次失败后账号将被临时锁定"


class SignInRefused(HubError):
    status, code = 401, "invalid_credentials"

    def __init__(self) -> None:
        super().__init__(SIGN_IN_REFUSED)


_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_hex(8))
    return _dummy_hash


def sign_in(login: str, password: str) -> User:
    """Check a login and password. Counts failures; 5 within 30 minutes lock the
    account for 30 minutes (configurable). Commits the audit rows either way."""
    config = current_app.config
    login = (login or "").strip()
    user = db.session.scalar(select(User).where(User.login == login)) if login else None
    now = utcnow()
    if user is None:
        verify_password(_dummy(), password or "")
        record_audit(None, "auth.login_failed", actor_login=login[:64] or None,
                     target_label=login[:200] or "(空)", after={"reason": "unknown_login"})
        db.session.commit()
        raise SignInRefused()

    locked = user.locked_until is not None and user.locked_until > now
    good = verify_password(user.password_hash, password or "")
    if good and not locked and user.active:
        user.failed_logins = 0
        user.first_failed_at = None
        user.locked_until = None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        record_audit(user, "auth.login", user)
        db.session.commit()
        return user

    reason = "locked" if locked else ("disabled" if not user.active else "bad_password")
    if not locked and not good:
        window = config["LOGIN_FAILURE_WINDOW"]
        if user.first_failed_at is None or now - user.first_failed_at > window:
            user.first_failed_at = now
            user.failed_logins = 0
        user.failed_logins += 1
        if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + config["LOGIN_LOCK_DURATION"]
            user.failed_logins = 0
            user.first_failed_at = None
            record_audit(user, "auth.locked", user,
                         after={"locked_until": user.locked_until.isoformat()})
    record_audit(user, "auth.login_failed", user, after={"reason": reason})
    db.session.commit()
    raise SignInRefused()


def record_sign_out(user: User) -> None:
    """退出登录: audited; the caller clears the browser session."""
    record_audit(user, "auth.logout", user)
    db.session.commit()


def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User) -> str:
    """A new bearer token for `user`, valid for API_TOKEN_LIFETIME. Returned once."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_digest(raw), created_at=now,
                            expires_at=now + current_app.config["API_TOKEN_LIFETIME"]))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id,
                                              ApiToken.expires_at < now))
    record_audit(user, "auth.token_issued", user)
    db.session.commit()
    return raw


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None if unknown or expired."""
    if not raw or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(raw)))
    if token is None or token.expires_at < utcnow() or not token.user.active:
        return None
    return token.user


def revoke_token(raw: str) -> None:
    db.session.execute(delete(ApiToken).where(ApiToken.token_hash == _token_digest(raw)))
    db.session.commit()


def apply_new_password(user: User, new_password: str, *, must_change: bool) -> None:
    """Store a new password hash; end every session and token (caller commits)."""
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    user.session_version = (user.session_version or 0) + 1   # every other session ends
    user.failed_logins = 0
    user.locked_until = None
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    """修改密码: the person proves the current password; old sessions and tokens end."""
    if not verify_password(user.password_hash, current_password or ""):
        raise InvalidInput("当前密码不正确", field="current_password")
    if current_password == new_password:
        raise InvalidInput("新密码不能与当前密码相同", field="new_password")
    check_password_policy(new_password, field="new_password")
    apply_new_password(user, new_password, must_change=False)
    record_audit(user, "auth.password_changed", user)
    db.session.commit()
