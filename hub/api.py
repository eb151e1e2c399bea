"""Shared pieces of the JSON API: auth decorator, body parsing, pagination."""
from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Callable

from flask import g, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_login import current_user

from hub.errors import InvalidInput, NotAuthenticated
from hub.extensions import csrf
from hub.validation import clean_int, load_json, unstorable_field

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that parsing (request.get_json, so every JSON body)
    refuses with a 400 naming the field a body nested too deeply, an integer
    the database cannot hold or a list too long (hub/validation.py load_json),
    rather than a RecursionError or a driver overflow further on."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s, **kwargs)


def parse_json_body() -> None:
    """Before every request: a JSON body beyond the bounds is a 400 even when the
    view does not read it (parsed once; request.get_json keeps the result)."""
    if request.is_json:
        request.get_json(silent=True)


def api_login_required(view: Callable) -> Callable:
    """401 JSON unless signed in by bearer token or session. A session-cookie
    caller must also send the CSRF token on writes (X-CSRFToken)."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not current_user.is_authenticated:
            raise NotAuthenticated(_("请先登录或提供有效的令牌"))
        for name, value in request.args.items(multi=True):
            if "\x00" in value or "\x00" in name:
                raise InvalidInput(_("查询参数不能包含 NUL 字符"), field=name.replace("\x00", ""))
        if not g.get("bearer_auth") and request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        return view(*args, **kwargs)
    return wrapper


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong."""
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidInput(_("请求体必须是 JSON 对象（Content-Type: application/json）"), field="body")
    if not isinstance(data, dict):
        raise InvalidInput(_("请求体必须是 JSON 对象"), field="body")
    field = unstorable_field(data)
    if field is not None:
        raise InvalidInput(_("内容包含无法保存的字符（NUL 或无效的 UTF-16 代理项）"), field=field)
    return data


def page_limit() -> int:
    limit = clean_int(request.args.get("limit"), "limit", "limit", required=False)
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(_("limit 须在 1 到 %(max)s 之间", max=MAX_LIMIT), field="limit")
    return limit


def cursor_arg(name: str) -> int | None:
    return clean_int(request.args.get(name), name, name, required=False)


def page(items: list, limit: int, cursor_of: Callable[[Any], Any]) -> dict[str, Any]:
    """Items fetched with limit+1: cut to `limit`, and `next` is the cursor of the last."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next": cursor_of(items[-1]) if more and items else None}


def parse_time(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("时间格式应为 ISO 8601，例如 2026-11-22T08:00:00+08:00"),
                           field=field) from None
    if parsed.tzinfo is None:
        raise InvalidInput(_("时间须带时区，例如 +08:00"), field=field)
    return parsed
