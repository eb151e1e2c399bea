"""HubError and its subclasses, and the handlers that render them.

Actions raise these; the API renders {"error": {"code", "message", "field"?}},
HTML views flash the message or show errors/error.html. A form whose refusal
is answered on its own page says so with `form_errors` (the one place an HTML
view catches HubError; tests/test_form_errors_rule.py).
"""
from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, abort, flash, jsonify, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from hub.extensions import db
from hub.redirects import local_referrer

log = logging.getLogger(__name__)


class HubError(Exception):
    """A failure the user can act on."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        message = str(message)           # a lazy_gettext constant becomes the request's language here
        super().__init__(message)
        self.message = message
        self.field = field

    def to_json(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


class InvalidInput(HubError):
    code = "invalid_input"


class NotAuthenticated(HubError):
    status, code = 401, "not_authenticated"


class NotAllowed(HubError):
    status, code = 403, "not_allowed"


class PasswordChangeRequired(NotAllowed):
    """The person must change their password first (issued by an admin, or too
    old): the API answers this to everything but changing it (hub/auth/sessions.py)."""

    code = "password_change_required"


class NotFound(HubError):
    status, code = 404, "not_found"


def not_found(kind: str) -> NotFound:
    """The one 404 of an object kind: the same words whether the id does not
    exist or names an object outside the caller's reach, so that neither the
    status nor the message tells which (docs/SECURITY.md "Reach: 404, not 403").
    Every NotFound of an object is raised through here."""
    messages = {
        "unit": _("单位不存在或您无权访问"),
        "person": _("人员不存在或您无权访问"),
        "membership": _("任职记录不存在或您无权访问"),
        "grant": _("角色记录不存在或您无权访问"),
        "channel": _("频道不存在或您无权访问"),
        "message": _("消息不存在或您无权访问"),
        "attachment": _("附件不存在或您无权访问"),
        "notice": _("通知不存在或您无权访问"),
        "document": _("公文不存在或您无权访问"),
        "sheet": _("办文单不存在或您无权访问"),
        "data_request": _("填报任务不存在或您无权访问"),
        "data_field": _("数据项不存在"),
    }
    return NotFound(messages[kind])


class Conflict(HubError):
    status, code = 409, "conflict"


class TooLarge(HubError):
    status, code = 413, "too_large"


class OverQuota(HubError):
    """A person's share of something is used up (unattached uploads)."""
    status, code = 413, "over_quota"


class StorageFull(HubError):
    """No room where files are stored, or too little left to accept more."""
    status, code = 507, "storage_full"


class TooSoon(HubError):
    status, code = 429, "too_soon"

    @classmethod
    def unless_waited(cls, last: datetime | None, now: datetime, interval: timedelta, rule: str) -> None:
        """Raise 429 when `last` is less than `interval` before `now`, saying the
        rule ("每 4 小时最多提醒一次") and how many minutes are left."""
        if last is not None and now - last < interval:
            minutes = int((interval - (now - last)).total_seconds() // 60) + 1
            raise cls(_("%(rule)s，请 %(minutes)s 分钟后再试", rule=rule, minutes=minutes))


@contextmanager
def form_errors(render: Callable[..., ResponseReturnValue], *args: Any, **kwargs: Any) -> Iterator[None]:
    """How an HTML view answers a refusal of its form on the form's own page.
    A HubError raised in the block rolls back what the action half-changed and
    is answered with render(*args, **kwargs, error=error): the page again, with
    what the person typed kept and the refused field named, in the error's
    status (the render decides). The view states only what to re-render:

        with form_errors(_compose, form):
            notice = actions.publish_notice(current_user, draft)

    A refusal outside such a block goes to the app's handler below: a flash on
    the page the form came from (400, 409, 413, 429), else the error page."""
    try:
        yield
    except HubError as error:
        db.session.rollback()
        abort(make_response(render(*args, **kwargs, error=error)))


def flash_back(target: str, *, error: HubError) -> ResponseReturnValue:
    """A render for `form_errors` whose refusal is a flash on the page `target`
    (a button that acts, with nothing typed to keep). A refusal of access (403,
    no role for it; 404, out of reach) is not the form's: it is answered with
    its status, as everywhere, rather than hidden behind a redirect."""
    if error.status in (403, 404):
        raise error
    flash(error.message, "error")
    return redirect(target)


@contextmanager
def naming(field: str) -> Iterator[None]:
    """A refusal in the block names `field`: the picker whose choice an access
    check refused (a unit out of reach is a 404 that says which field)."""
    try:
        yield
    except HubError as error:
        error.field = field
        raise


def wants_json() -> bool:
    return request.path.startswith("/api/")


_HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "not_allowed",
               404: "not_found", 405: "method_not_allowed", 409: "conflict",
               413: "too_large", 415: "unsupported_media_type", 422: "unprocessable",
               429: "too_many_requests"}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HubError)
    def handle_hub_error(error: HubError):
        db.session.rollback()
        headers = getattr(error, "headers", None) or {}       # Retry-After of a 429 / 503
        if wants_json():
            return jsonify(error.to_json()), error.status, headers
        if error.status in (401,):
            return redirect("/auth/login")
        if request.method == "POST" and error.status in (400, 409, 413, 429) and request.referrer:
            back = local_referrer(request.referrer, request.host, "")
            if back:
                flash(error.message, "error")
                return redirect(back)
        return render_template("errors/error.html", status=error.status,
                               message=error.message), error.status, headers

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        code = error.code or 500
        if wants_json():
            message = _("请求过大") if code == 413 else (error.description or error.name)
            if code == 400 and "CSRF" in (error.description or ""):
                message = _("缺少或无效的 CSRF 令牌")
            body = {"error": {"code": _HTTP_CODES.get(code, "http_error"), "message": message}}
            return jsonify(body), code
        messages = {404: _("页面不存在"), 405: _("不支持该请求方式"), 413: _("上传的文件过大"),
                    400: _("请求无效，请刷新页面后重试")}
        return render_template("errors/error.html", status=code,
                               message=messages.get(code, error.name)), code

    @app.errorhandler(StaleDataError)
    def handle_stale(error: StaleDataError):
        # A version check lost to a concurrent change (e.g. two steps on one
        # document): the caller should reload and try again, not see a 500.
        return handle_hub_error(Conflict(_("该内容刚被其他人修改过，请刷新后再试")))

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError):
        # The database is unreachable (PostgreSQL restarting, a dropped connection)
        # or full: the request's transaction did not commit, and the caller may try
        # again later. Answered 503, or 507 when full, with one log line, not a 500.
        trouble = database_trouble(error, f"{request.method} {request.path}")
        if trouble is None:
            return handle_unexpected(error)
        status, code, message = trouble
        if wants_json():
            response = jsonify({"error": {"code": code, "message": message}})
        else:
            response = render_template("errors/error.html", status=status, message=message)
        return response, status, {"Retry-After": "5"} if status == 503 else {}

    @app.errorhandler(OSError)
    def handle_os_error(error: OSError):
        # A full disk or quota where uploads are written: a clear 507, nothing stored.
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            return handle_unexpected(error)
        log.error("storage full on %s %s: %s", request.method, request.path, error)
        db.session.rollback()
        message = _("存储空间已满，暂时无法保存，请联系管理员")
        if wants_json():
            return jsonify({"error": {"code": "storage_full", "message": message}}), 507
        return render_template("errors/error.html", status=507, message=message), 507

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if wants_json():
            return jsonify({"error": {"code": "internal_error",
                                      "message": _("服务器内部错误")}}), 500
        return render_template("errors/error.html", status=500,
                               message=_("服务器内部错误，请稍后重试")), 500


def database_trouble(error: BaseException, where: str) -> tuple[int, str, str] | None:
    """The database is unreachable (PostgreSQL restarting, a dropped connection)
    or full: roll back, log one line and return (status, code, message) for the
    caller to answer — 503 (try again) or 507 (full). None for anything else,
    which is a bug and answered as one. Used by HTTP requests and socket events."""
    if not isinstance(error, DBAPIError) or not (
            isinstance(error, OperationalError) or error.connection_invalidated):
        return None
    try:
        db.session.rollback()
    except DBAPIError:
        pass                                 # the connection is gone already
    if _storage_full(error):
        log.error("database full on %s: %s", where, error.orig)
        return 507, "storage_full", _("存储空间已满，暂时无法保存，请联系管理员")
    first_line = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else error
    log.warning("database unavailable on %s: %s", where, first_line)
    return 503, "database_unavailable", _("数据库暂时不可用，请稍后重试")


def _storage_full(error: DBAPIError) -> bool:
    """SQLite's SQLITE_FULL (disk or max_page_count) or PostgreSQL's disk_full (53100)."""
    orig = error.orig
    return (getattr(orig, "sqlite_errorcode", None) == 13 or getattr(orig, "sqlstate", None) == "53100"
            or "database or disk is full" in str(orig))
