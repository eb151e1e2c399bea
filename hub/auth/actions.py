"""Sign-in, tokens and passwords. Every sign-in, success or failure, is audited.

Signing in is two steps when the person has a second factor
(hub/auth/second_factor.py): check_password, then the code, then
complete_sign_in. Failures of either step count toward the same lockout.
"""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from hub.audit import record_audit
from hub.auth import throttle
from hub.auth.models import ApiToken, EndedSignIn
from hub.auth.throttle import Device
from hub.db import utcnow
from hub.errors import HubError, InvalidInput
from hub.extensions import db
from hub.i18n import LANGUAGES
from hub.org.models import User
from hub.passwords import (apply_new_password, check_password_policy, hash_password, needs_rehash,
                           verify_password)
from hub.realtime import disconnect_on_commit, sign_in_room, token_room

# One message for every refused sign-in (wrong password, unknown login, locked,
# disabled), so the answer never tells an attacker which logins exist.
SIGN_IN_REFUSED = lazy_gettext("账号或密码错误；连续多次失败后账号将被临时锁定")


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


def check_password(login: str, password: str, *, device: Device | None = None) -> User:
    """登录, first step: the login and password. Counts failures; 5 within 30
    minutes lock the account for 30 minutes (configurable), and a locked or
    disabled account is refused like a wrong password. Commits the audit rows of
    a failure. A right password does not clear the failures yet: complete_sign_in
    does, once the second factor (if any) is right too.

    `device`: the client's device cookie for this login (hub.auth.throttle).
    With one, the account lock does not hold the client, and its failures lock
    that cookie only; so guessing from elsewhere cannot lock the owner out."""
    login = (login or "").strip()
    user = db.session.scalar(select(User).where(User.login == login)) if login else None
    if user is None:
        verify_password(_dummy(), password or "")
        record_audit(None, "auth.login_failed", actor_login=login[:64] or None,
                     target_label=login[:200] or "(空)", after={"reason": "unknown_login"})
        db.session.commit()
        raise SignInRefused()

    locked = sign_in_locked(user, device)
    good = verify_password(user.password_hash, password or "")
    if good and not locked and user.active:
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            db.session.commit()
        return user

    reason = "locked" if locked else ("disabled" if not user.active else "bad_password")
    if not locked and not good:
        count_sign_in_failure(user, device)
    record_audit(user, "auth.login_failed", user, after={"reason": reason})
    db.session.commit()
    raise SignInRefused()


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _device_of(user: User, device: Device | None) -> Device | None:
    """`device` if it is a device cookie for this very login."""
    return device if device is not None and device.login == user.login.strip().lower() else None


def sign_in_locked(user: User, device: Device | None) -> bool:
    """Is this attempt held by a lock: the device cookie's own, when the client
    has one for this login, else the account's."""
    device = _device_of(user, device)
    held = throttle.device_locked(device) if device is not None else None
    return is_locked(user) if held is None else held


def count_sign_in_failure(user: User, device: Device | None) -> None:
    """A failed sign-in step: against the client's device cookie when it has
    one for this login, else against the account (caller commits)."""
    device = _device_of(user, device)
    if device is not None:
        throttle.count_device_failure(device)
    else:
        count_failure(user)


def count_failure(user: User) -> bool:
    """One more failed sign-in step (password or second factor) inside the
    window; the last one allowed locks the account. True when it did (caller
    commits)."""
    config, now = current_app.config, utcnow()
    if user.first_failed_at is None or now - user.first_failed_at > config["LOGIN_FAILURE_WINDOW"]:
        user.first_failed_at = now
        user.failed_logins = 0
    user.failed_logins += 1
    if user.failed_logins < config["LOGIN_MAX_FAILURES"]:
        return False
    user.locked_until = now + config["LOGIN_LOCK_DURATION"]
    user.failed_logins = 0
    user.first_failed_at = None
    record_audit(user, "auth.locked", user, after={"locked_until": user.locked_until.isoformat()})
    return True


def complete_sign_in(user: User, *, device: Device | None = None) -> None:
    """Every step passed: clear the failures and record the sign-in. A client
    that came through with its device cookie leaves the account's failures and
    lock as they are: they hold the other clients, which it did not vouch for."""
    if _device_of(user, device) is None:
        user.failed_logins = 0
        user.first_failed_at = None
        user.locked_until = None
    record_audit(user, "auth.login", user)
    db.session.commit()


def record_sign_out(user: User, *, sign_in_id: str | None) -> None:
    """退出登录: audited; the sockets opened with this browser session close once
    it commits. The caller clears the session itself."""
    if sign_in_id:
        disconnect_on_commit(sign_in_room(sign_in_id))
        # A copy of the cookie is refused from now on (sessions.enforce).
        if db.session.get(EndedSignIn, sign_in_id) is None:
            db.session.add(EndedSignIn(sign_in_id=sign_in_id))
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


def valid_token(raw: str) -> ApiToken | None:
    """The unexpired token of an active person, or None."""
    if not raw or len(raw) > 200:
        return None
    # The person's posts and roles come in the same statement: nearly every
    # request asks for them (one round trip instead of three).
    person = joinedload(ApiToken.user)
    token = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == _token_digest(raw))
                               .options(person.joinedload(User.memberships), person.joinedload(User.roles))
                               ).unique().first()
    if token is None or token.expires_at < utcnow() or not token.user.active:
        return None
    return token


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None if unknown or expired."""
    token = valid_token(raw)
    return token.user if token is not None else None


def revoke_token(raw: str) -> None:
    """DELETE /auth/token: the token ends, and so do the sockets opened with it."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(raw)))
    if token is not None:
        disconnect_on_commit(token_room(token.id))
        record_audit(token.user, "auth.token_revoked", token.user)
        db.session.delete(token)
    db.session.commit()


def end_sessions(user: User) -> None:
    """Every browser session, API token and socket of `user` ends (caller commits)."""
    user.end_sessions()


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    """修改密码: the person proves the current password; old sessions and tokens end."""
    if not verify_password(user.password_hash, current_password or ""):
        raise InvalidInput(_("当前密码不正确"), field="current_password")
    if current_password == new_password:
        raise InvalidInput(_("新密码不能与当前密码相同"), field="new_password")
    check_password_policy(new_password, field="new_password")
    apply_new_password(user, new_password, must_change=False)
    record_audit(user, "auth.password_changed", user)
    db.session.commit()


def check_language(language: object) -> str | None:
    """A language choice: "zh", "en", or None (empty) to follow the browser."""
    if language in ("", None):
        return None
    if isinstance(language, str) and language in LANGUAGES:
        return language
    raise InvalidInput(_("语言只能是 %(choices)s 或空", choices="、".join(LANGUAGES)), field="language")


def set_language(user: User, language: object) -> None:
    """A person's own language: "zh", "en", or None to follow the browser."""
    user.locale = check_language(language)
    db.session.commit()


def forget_ended_sign_ins() -> int:
    """Remove the records of sign-outs older than the absolute session limit:
    no cookie that old is accepted anyway. Returns how many were removed."""
    cutoff = utcnow() - current_app.config["SESSION_ABSOLUTE_LIFETIME"]
    removed = db.session.execute(delete(EndedSignIn).where(EndedSignIn.ended_at < cutoff)).rowcount
    db.session.commit()
    return removed or 0
