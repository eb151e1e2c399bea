"""Password hashing (argon2id), the password policy and the password age.

Hashing is capped: at most PASSWORD_HASH_CONCURRENCY hashes or verifications
run at once in a process (argon2 is built to cost CPU and memory; a storm of
sign-ins must not starve every other request). A request that finds no free
slot within PASSWORD_HASH_WAIT_SECONDS is answered 503 "稍后再试" with
Retry-After instead of queueing behind the storm.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from hub.db import utcnow
from hub.errors import HubError, InvalidInput

_hashers: dict[tuple, PasswordHasher] = {}
# One set of slots per size, for the whole process (the CPU is the process's).
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()
_load = {"in_flight": 0, "peak": 0}


class HashingBusy(HubError):
    """503: every hashing slot stayed taken for the whole wait."""

    status, code = 503, "server_busy"

    def __init__(self) -> None:
        super().__init__(_("登录人数较多，请稍后再试"))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "2"}


def _semaphore(size: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        if size not in _slots:
            _slots[size] = threading.BoundedSemaphore(size)
        return _slots[size]


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the PASSWORD_HASH_CONCURRENCY slots (0: no cap) while
    hashing; HashingBusy when none is free within PASSWORD_HASH_WAIT_SECONDS."""
    size = int(current_app.config.get("PASSWORD_HASH_CONCURRENCY") or 0)
    if size <= 0:
        yield
        return
    slots = _semaphore(size)
    if not slots.acquire(timeout=float(current_app.config.get("PASSWORD_HASH_WAIT_SECONDS", 2))):
        raise HashingBusy()
    with _slots_lock:
        _load["in_flight"] += 1
        _load["peak"] = max(_load["peak"], _load["in_flight"])
    try:
        yield
    finally:
        with _slots_lock:
            _load["in_flight"] -= 1
        slots.release()


def hashing_peak(reset: bool = False) -> int:
    """The most hashes this process ran at once (since the last reset)."""
    with _slots_lock:
        peak = _load["peak"]
        if reset:
            _load["peak"] = _load["in_flight"]
        return peak


def _hasher() -> PasswordHasher:
    params = current_app.config.get("PASSWORD_HASH_PARAMS") or {}
    key = tuple(sorted(params.items()))
    if key not in _hashers:
        _hashers[key] = PasswordHasher(**params)
    return _hashers[key]


def hash_password(password: str) -> str:
    with hashing_slot():
        return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches. Unknown users are checked against a dummy
    hash by the caller so that timing does not reveal which logins exist."""
    if not password_hash:
        return False
    try:
        with hashing_slot():
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


def apply_new_password(user, new_password: str, *, must_change: bool) -> None:
    """Store a new password hash for `user` (a hub.org User) and end every
    session, token and socket of theirs (the caller commits)."""
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None
    user.end_sessions()
