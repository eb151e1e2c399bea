"""Rate limits (issue 13, findings 9 and 14) and the device cookie.

Counting is Flask-Limiter's (its storage and the `limits` moving-window
strategy): in this process's memory by default, in Redis when HUB_REDIS_URL is
set, so that several hub processes share one count. Each app has its own
Limiter (app.extensions["hub_limiter"]); the limits are checked where the
request is understood (the login typed in, the person half signed in, the
searcher), not by decorators, because their keys come from the request body and
the session.

- Signing in (POST /auth/login, POST /api/v1/auth/token, and the code steps
  POST /auth/verify and POST /auth/second-factor while signing in) counts per
  client address and per login, whether the attempt succeeds or not; over
  either limit the answer is 429 with Retry-After and nothing is checked.
- Message search counts per person (GET /api/v1/search).
- The device cookie (OWASP "device cookies"): a successful sign-in leaves a
  signed cookie naming the login in that browser or client. An attempt that
  carries a valid one for the login it names is not held by the account lock
  (so an attacker guessing from elsewhere cannot lock the owner out), and its
  failures count toward locking that cookie only (the same numbers as the
  account lock: HUB_LOGIN_MAX_FAILURES within HUB_LOGIN_FAILURE_WINDOW_MINUTES).

A limit of "off" (or none) in the configuration turns that limit off.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many

from hub.errors import HubError

log = logging.getLogger(__name__)
DEVICE_COOKIE_PREFIX = "hub_device_"
_SALT = "hub-device-cookie"


class TooManyAttempts(HubError):
    """429: a rate limit was reached. `retry_after` whole seconds."""

    status, code = 429, "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def init_app(app: Flask) -> None:
    """One Limiter per app; its storage is Redis when HUB_REDIS_URL is set."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_STORAGE_URI", uri)
    app.config["RATELIMIT_ENABLED"] = True      # the storage is always there (device cookies)
    limiter = Limiter(key_func=lambda: request.remote_addr or "", storage_uri=uri,
                      strategy="moving-window", key_prefix="hub")
    limiter.init_app(app)
    app.extensions["hub_limiter"] = limiter


def _limiter() -> Limiter:
    return current_app.extensions["hub_limiter"]


def _items(setting: str) -> list[RateLimitItem]:
    value = current_app.config.get(setting)
    if not value or str(value).strip().lower() in ("off", "none", "0"):
        return []
    return parse_many(str(value))


def _hit(scope: str, key: str, items: list[RateLimitItem]) -> int | None:
    """Count one event for `key`; the seconds to wait when a limit is reached.
    If the storage (Redis) is unreachable the request goes through, with a log
    line: signing in must not stop with the rate limiter."""
    strategy = _limiter().limiter
    wait = None
    try:
        for item in items:
            if not strategy.hit(item, scope, key):
                reset = strategy.get_window_stats(item, scope, key).reset_time
                wait = max(wait or 0, math.ceil(reset - time.time()))
    except Exception as error:           # noqa: BLE001 — redis.ConnectionError and the like
        log.warning("rate limit storage unavailable (%s): %s not counted", error, scope)
        return None
    return wait


def _refuse(wait: int) -> TooManyAttempts:
    return TooManyAttempts(_("尝试过于频繁，请 %(seconds)s 秒后再试", seconds=max(1, wait)), wait)


def _login_key(login: str) -> str:
    return (login or "").strip().lower()[:64]


def check_sign_in(login: str | None) -> None:
    """One sign-in attempt (a password or a code step) from this client for
    `login`: 429 when the client's address or the login is over its limit. A
    client with a valid, unlocked device cookie for the login is not counted:
    it signed in here before, and its own failures lock only its cookie — so a
    guesser elsewhere (or an office's NAT address busy at 8:30) never keeps a
    person out of their own browser."""
    device = device_for(login)
    if device is not None and device_locked(device) is False:
        return
    waits = [_hit("sign-in-address", request.remote_addr or "", _items("SIGN_IN_LIMIT_PER_ADDRESS"))]
    if login:
        waits.append(_hit("sign-in-login", _login_key(login), _items("SIGN_IN_LIMIT_PER_LOGIN")))
    waits = [wait for wait in waits if wait is not None]
    if waits:
        raise _refuse(max(waits))


def check_search(person_id: int) -> None:
    """One message search by this person: 429 over SEARCH_LIMIT_PER_PERSON."""
    wait = _hit("search", str(person_id), _items("SEARCH_LIMIT_PER_PERSON"))
    if wait is not None:
        raise TooManyAttempts(_("搜索过于频繁，请 %(seconds)s 秒后再试", seconds=max(1, wait)), wait)


# ---- Device cookies ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Device:
    """A client that signed in to `login` successfully before (its cookie)."""

    login: str
    nonce: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def device_cookie_name(login: str) -> str:
    """One cookie per login, so a shared office computer keeps each person's."""
    digest = hmac.new(str(current_app.config["SECRET_KEY"]).encode(), _login_key(login).encode(),
                      hashlib.sha256).hexdigest()[:16]
    return DEVICE_COOKIE_PREFIX + digest


def device_for(login: str | None) -> Device | None:
    """The valid device cookie this request carries for `login`, if any."""
    if not login:
        return None
    raw = request.cookies.get(device_cookie_name(login))
    if not raw:
        return None
    max_age = int(current_app.config["DEVICE_COOKIE_LIFETIME"].total_seconds())
    try:
        data = _serializer().loads(raw, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("login") != _login_key(login) or not data.get("nonce"):
        return None
    return Device(login=_login_key(login), nonce=str(data["nonce"]))


def remember_device(response, login: str) -> None:
    """After a successful sign-in: a fresh device cookie for `login`."""
    value = _serializer().dumps({"login": _login_key(login), "nonce": secrets.token_urlsafe(12)})
    config = current_app.config
    response.set_cookie(device_cookie_name(login), value,
                        max_age=int(config["DEVICE_COOKIE_LIFETIME"].total_seconds()),
                        httponly=True, secure=bool(config.get("SESSION_COOKIE_SECURE")),
                        samesite="Lax", path="/")


def _device_items() -> list[RateLimitItem]:
    config = current_app.config
    minutes = max(1, int(config["LOGIN_FAILURE_WINDOW"].total_seconds() // 60))
    return parse_many(f"{max(1, config['LOGIN_MAX_FAILURES'])} per {minutes} minutes")


def device_locked(device: Device) -> bool | None:
    """This device cookie failed too often within the window. None when the
    storage is unreachable: the caller then holds it like any client."""
    strategy = _limiter().limiter
    try:
        return any(not strategy.test(item, "device-lock", device.nonce) for item in _device_items())
    except Exception as error:           # noqa: BLE001
        log.warning("rate limit storage unavailable (%s): device cookie not trusted", error)
        return None


def count_device_failure(device: Device) -> None:
    strategy = _limiter().limiter
    try:
        for item in _device_items():
            strategy.hit(item, "device-lock", device.nonce)
    except Exception as error:           # noqa: BLE001
        log.warning("rate limit storage unavailable (%s): device failure not counted", error)

