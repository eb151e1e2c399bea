"""Configuration: HUB_* environment variables over defaults that work on a laptop.

Tests never read the environment for these: they pass a mapping to create_app().
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _list(name: str) -> list[str] | None:
    """A comma-separated list; unset or empty gives None."""
    value = os.environ.get(name)
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items or None


class Config:
    INSTANCE_PATH = os.environ.get("HUB_INSTANCE_PATH") or str(ROOT / "instance")
    # None here means "SQLite file in the instance folder"; create_app fills it in.
    SQLALCHEMY_DATABASE_URI = os.environ.get("HUB_DATABASE_URL") or None
    SECRET_KEY = os.environ.get("HUB_SECRET_KEY") or None   # generated and kept if absent
    REDIS_URL = os.environ.get("HUB_REDIS_URL") or None
    # "threading" (embedded, gthread worker) or "gevent" (production); gunicorn.conf.py
    # sets it from HUB_WORKER, so it always matches the worker that serves the app.
    SOCKETIO_ASYNC_MODE = os.environ.get("HUB_ASYNC_MODE", "threading")
    DEMO = _bool("HUB_DEMO", True)
    DEMO_COUNTY = os.environ.get("HUB_DEMO_COUNTY", "330802")   # 衢州市柯城区
    DATA_DIR = os.environ.get("HUB_DATA_DIR") or str(ROOT / "hub" / "demo_data")

    # 等保2.0 level 3 defaults (configurable).
    LOGIN_MAX_FAILURES = _int("HUB_LOGIN_MAX_FAILURES", 5)
    LOGIN_FAILURE_WINDOW = timedelta(minutes=_int("HUB_LOGIN_FAILURE_WINDOW_MINUTES", 30))
    LOGIN_LOCK_DURATION = timedelta(minutes=_int("HUB_LOGIN_LOCK_MINUTES", 30))
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_int("HUB_SESSION_IDLE_MINUTES", 30))
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=_int("HUB_SESSION_ABSOLUTE_HOURS", 12))
    API_TOKEN_LIFETIME = timedelta(hours=_int("HUB_API_TOKEN_HOURS", 12))
    PASSWORD_MIN_LENGTH = _int("HUB_PASSWORD_MIN_LENGTH", 8)
    PASSWORD_MIN_CLASSES = _int("HUB_PASSWORD_MIN_CLASSES", 3)
    # Periodic change: the 等保 reading by default; 0 turns it off (the OWASP ASVS 5 reading).
    PASSWORD_MAX_AGE_DAYS = _int("HUB_PASSWORD_MAX_AGE_DAYS", 90)
    # TOTP second factor: required for "admins" (admin, security_admin, auditor,
    # unit_admin), "everyone", or nobody ("off"; people may still enrol).
    TOTP_REQUIRED = (os.environ.get("HUB_TOTP_REQUIRED") or "admins").strip().lower()
    TOTP_ISSUER = os.environ.get("HUB_TOTP_ISSUER") or "政务协同"
    PASSWORD_HASH_PARAMS: dict = {}      # argon2-cffi defaults (RFC 9106 low-memory profile)
    # Rate limits (docs/SECURITY.md "Rate limits"): Flask-Limiter's notation, ";" between
    # several ("30 per minute;300 per hour"), "off" for none. Counted in this process's
    # memory, or in Redis when HUB_REDIS_URL is set (shared by every hub process).
    SIGN_IN_LIMIT_PER_ADDRESS = os.environ.get("HUB_SIGN_IN_LIMIT_PER_ADDRESS") or \
        "20 per 10 seconds;200 per hour"
    SIGN_IN_LIMIT_PER_LOGIN = os.environ.get("HUB_SIGN_IN_LIMIT_PER_LOGIN") or "10 per minute"
    SEARCH_LIMIT_PER_PERSON = os.environ.get("HUB_SEARCH_LIMIT_PER_PERSON") or "30 per minute"
    # A search of one or two characters (no trigram index) reads at most this many of the
    # newest messages the searcher can read per page (hub/channels/search.py).
    SEARCH_SHORT_QUERY_SCAN = _int("HUB_SEARCH_SHORT_QUERY_SCAN", 20_000)
    # The device cookie that lets an earlier-successful client through the account lock.
    DEVICE_COOKIE_LIFETIME = timedelta(days=_int("HUB_DEVICE_COOKIE_DAYS", 90))
    # At most this many password hashes at once per process (0: no cap); a sign-in that
    # finds no free slot within the wait is answered 503 "稍后再试".
    PASSWORD_HASH_CONCURRENCY = _int("HUB_PASSWORD_HASH_CONCURRENCY", 2)
    PASSWORD_HASH_WAIT_SECONDS = _int("HUB_PASSWORD_HASH_WAIT_SECONDS", 2)

    # Risky framework defaults, fixed: no 31-day sessions, no remember-me cookie.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("HUB_SECURE_COOKIES", False)
    SESSION_COOKIE_NAME = "hub_session"
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    MAX_CONTENT_LENGTH = _int("HUB_MAX_UPLOAD_MB", 20) * 1024 * 1024
    # Reverse proxies in front of the hub (nginx: 1). Their X-Forwarded-For/-Proto/-Host
    # headers are trusted for that many hops, so the audit log records the client's address.
    PROXY_HOPS = _int("HUB_PROXY_HOPS", 0)
    ATTACHMENT_MAX_BYTES = _int("HUB_ATTACHMENT_MAX_MB", 20) * 1024 * 1024
    # Files uploaded and not yet on a message, notice or document: at most this
    # many, and this many MB, per person; removed by the jobs after this many hours.
    UPLOAD_QUOTA_FILES = _int("HUB_UPLOAD_QUOTA_FILES", 50)
    UPLOAD_QUOTA_BYTES = _int("HUB_UPLOAD_QUOTA_MB", 200) * 1024 * 1024
    UNATTACHED_UPLOAD_HOURS = _int("HUB_UNATTACHED_UPLOAD_HOURS", 24)
    # Unit and people imports (CSV/XLSX): columns, cells and characters in one cell;
    # an XLSX's parts unpacked (docs/ORG.md). Besides at most 200,000 rows.
    IMPORT_MAX_COLUMNS = _int("HUB_IMPORT_MAX_COLUMNS", 50)
    IMPORT_MAX_CELLS = _int("HUB_IMPORT_MAX_CELLS", 2_000_000)
    IMPORT_MAX_CELL_CHARS = _int("HUB_IMPORT_MAX_CELL_CHARS", 32_767)   # Excel's own limit
    IMPORT_MAX_UNPACKED_BYTES = _int("HUB_IMPORT_MAX_UNPACKED_MB", 128) * 1024 * 1024
    # Uploads are refused (507) when they would leave less free space than this
    # where they are stored (the instance folder: the SQLite file lives there too).
    STORAGE_MIN_FREE_BYTES = _int("HUB_STORAGE_MIN_FREE_MB", 1024) * 1024 * 1024
    # Origins allowed to open a Socket.IO connection (comma-separated, e.g.
    # https://hub.example.gov.cn). Unset: the hub's own origin only.
    SOCKETIO_ALLOWED_ORIGINS = _list("HUB_SOCKETIO_ALLOWED_ORIGINS")
    WTF_CSRF_TIME_LIMIT = None          # the token lives as long as the session

    # Audit log (docs/OPERATIONS.md). The hash chain's algorithm: "sm3" or "sha256";
    # unset means SM3 when this Python's hashlib has it, else SHA-256.
    AUDIT_HASH = os.environ.get("HUB_AUDIT_HASH") or None
    # Retention removes older rows; below 190 days the hub refuses to start.
    AUDIT_RETENTION_DAYS = _int("HUB_AUDIT_RETENTION_DAYS", 365)
    # Backups: where `hub backup` writes when no path is given (default: instance/backups),
    # and where pg_dump / pg_restore are (default: the newest /usr/lib/postgresql/*/bin, then PATH).
    BACKUP_DIR = os.environ.get("HUB_BACKUP_DIR") or None
    PG_BIN_DIR = os.environ.get("HUB_PG_BIN_DIR") or None

    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # PostgreSQL connections each hub process keeps open. A gevent worker serves many
    # requests and socket events at once; when more of them need the database than the
    # pool holds, they wait for a connection (up to 30 s) rather than open and close new
    # ones, which costs a PostgreSQL backend fork each time (docs/DEPLOY.md).
    DB_POOL_SIZE = _int("HUB_DB_POOL_SIZE", 20)
    DB_MAX_OVERFLOW = _int("HUB_DB_MAX_OVERFLOW", 5)
    JSON_AS_ASCII = False
