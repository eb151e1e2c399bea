"""Password hashing (argon2id), the password policy and the password age."""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from hub.db import utcnow
from hub.errors import InvalidInput

_hashers: dict[tuple, PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    params = current_app.config.get("PASSWORD_HASH_PARAMS") or {}
    key = tuple(sorted(params.items()))
    if key not in _hashers:
        _hashers[key] = PasswordHasher(**params)
    return _hashers[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches. Unknown users are checked against a dummy
    hash by the caller so that timing does not reveal which logins exist."""
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def check_password_policy(password: str, *, field: str = "password") -> None:
    """等保 reading by default: at least 8 characters from three classes
    (lower, upper, digit, symbol). Both numbers are configurable."""
    if not isinstance(password, str) or not password:
        raise InvalidInput(_("请输入密码"), field=field)
    min_length = current_app.config.get("PASSWORD_MIN_LENGTH", 8)
    min_classes = current_app.config.get("PASSWORD_MIN_CLASSES", 3)
    if len(password) < min_length:
        raise InvalidInput(_("密码至少 %(length)s 位", length=min_length), field=field)
    if len(password) > 128:
        raise InvalidInput(_("密码不能超过 128 位"), field=field)
    classes = sum([
        any(c.islower() for c in password), any(c.isupper() for c in password),
        any(c.isdigit() for c in password), any(not c.isalnum() for c in password),
    ])
    if classes < min_classes:
        raise InvalidInput(_("密码须包含大写字母、小写字母、数字、符号中的至少 %(classes)s 类",
                             classes=min_classes), field=field)


def password_expired(user) -> bool:
    """True when periodic change is on (PASSWORD_MAX_AGE_DAYS > 0, the 等保 reading)
    and the password is older than that. It counts from the last change, or from
    the account's creation when the password was set then (admin form, import)."""
    days = current_app.config.get("PASSWORD_MAX_AGE_DAYS") or 0
    if days <= 0 or not user.password_hash:
        return False
    since = user.password_changed_at or user.created_at
    return since is not None and utcnow() - since > timedelta(days=days)
