"""Checks for text coming in at the edges (forms, API, imports).

Each raises InvalidInput naming the field, so the client gets a 400 it can act on.
"""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from itertools import accumulate
from typing import Any

from flask_babel import gettext as _

from hub.errors import InvalidInput

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]*$")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Bidirectional formatting characters: invisible, and able to make "abc\u202etxt.exe"
# look like "abcexe.txt". Dropped from file names (hub/files/storage.py).
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text_problem(value: Any, *, max_length: int, required: bool = True) -> str | None:
    """Why `value` is not acceptable as a one-line name, or None if it is.

    Surrounding whitespace must already be stripped. Anything printable is kept
    exactly as given (quotes, markup, emoji, right-to-left text); control
    characters and lone surrogates are refused because they cannot be shown or
    stored faithfully everywhere.
    """
    if not isinstance(value, str):
        return _("必须是文本")
    if not value:
        return _("不能为空") if required else None
    if len(value) > max_length:
        return _("不能超过 %(limit)s 个字符（现为 %(length)s 个）", limit=max_length, length=len(value))
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            return _("不能包含控制字符")
        if category == "Cs":
            return _("包含无效的字符编码")
    return None


def _labelled(label: str, problem: str) -> str:
    """The field's label then what is wrong with it: one msgid, so that English can put a space between."""
    return _("%(label)s%(problem)s", label=label, problem=problem)


def unstorable_field(data: Any, name: str | None = None) -> str | None:
    """The name of the first top-level field of a JSON value holding a string
    that no database can store faithfully — a NUL (PostgreSQL refuses it in
    text) or a lone surrogate (not valid UTF-8) — or None. Keys are checked too.

    Checked once for every JSON body (hub/api.py json_body), so that bodies kept
    exactly as written (messages, notices, documents) are a 400, never a 500."""
    if isinstance(data, str):
        return name if "\x00" in data or _SURROGATE.search(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            field = name or str(key).replace("\x00", "")[:64] or "body"
            if unstorable_field(key, field) or unstorable_field(value, field):
                return field
    elif isinstance(data, list):
        for value in data:
            if unstorable_field(value, name or "body"):
                return name or "body"
    return None


# Bounds on every JSON value that comes in (HTTP bodies through the app's JSON
# provider, Socket.IO payloads through SocketJSON in hub/realtime/events.py): a body
# nested deeper than this, an integer that does not fit the database's INTEGER
# column, or a list longer than this is a 400 naming the field, before any
# view or handler sees it. Domains bound their own lists more tightly.
JSON_MAX_DEPTH = 32
JSON_MAX_LIST = 1000
INT_MAX = 2**31 - 1              # PostgreSQL's integer (and every id column)
ID_MAX = INT_MAX
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text, found without parsing
    it (the C decoder recurses, and a body 1,000 levels deep ends in a
    RecursionError): strings removed, then the brackets counted."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if len(brackets) <= JSON_MAX_DEPTH:
        return len(brackets)
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(_("JSON 中不能使用 %(name)s", name=name), field="body")


def load_json(text: str | bytes, **kwargs: Any) -> Any:
    """json.loads with the bounds above: InvalidInput (400, naming the field)
    when the text nests too deeply, holds NaN or Infinity, an integer out of
    range or a list too long. ValueError, as json.loads, when it is not JSON."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    if json_depth(text) > JSON_MAX_DEPTH:
        raise InvalidInput(_("JSON 嵌套不能超过 %(limit)s 层", limit=JSON_MAX_DEPTH), field="body")
    data = json.loads(text, parse_constant=_refuse_constant, **kwargs)
    problem = json_bounds_problem(data)
    if problem is not None:
        field, message = problem
        raise InvalidInput(message, field=field)
    return data


def json_bounds_problem(data: Any, name: str | None = None, *, in_list: bool = False
                        ) -> tuple[str, str] | None:
    """(field, message) for the first integer out of the database's range or
    list longer than JSON_MAX_LIST in a parsed JSON value, or None. The field
    is the dotted path of object keys down to the first list, as the domains
    name them ("audience.positions" for a unit_id in one of its items, "files")."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        if -INT_MAX <= data <= INT_MAX:
            return None
        return name or "body", _("%(field)s 超出整数范围（绝对值不能超过 %(limit)s）",
                                 field=name or "body", limit=INT_MAX)
    if isinstance(data, dict):
        for key, value in data.items():
            key = str(key).replace("\x00", "")[:64] or "body"
            problem = json_bounds_problem(value, name if in_list else f"{name}.{key}" if name else key,
                                          in_list=in_list)
            if problem is not None:
                return problem
    elif isinstance(data, list):
        if len(data) > JSON_MAX_LIST:
            return name or "body", _("%(field)s 最多 %(limit)s 项（现为 %(count)s 项）",
                                     field=name or "body", limit=JSON_MAX_LIST, count=len(data))
        for value in data:
            problem = json_bounds_problem(value, name, in_list=True)
            if problem is not None:
                return problem
    return None


def clean_text(value: Any, field: str, label: str, *, max_length: int,
               required: bool = True) -> str:
    """Strip and check a one-line name; raise InvalidInput(field=...) if unusable."""
    if isinstance(value, str):
        value = value.strip()
    elif value is None:
        value = ""
    problem = text_problem(value, max_length=max_length, required=required)
    if problem:
        raise InvalidInput(_labelled(label, problem), field=field)
    return value


def clean_paragraphs(value: Any, field: str, label: str, *, max_length: int,
                     required: bool = True) -> str:
    """Like clean_text, for text of several lines (a comment, a reply): line
    breaks and tabs are kept, other control characters refused."""
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").strip()
    elif value is None:
        value = ""
    problem = text_problem(value.replace("\n", " ").replace("\t", " ") if isinstance(value, str) else value,
                           max_length=max_length, required=required)
    if problem:
        raise InvalidInput(_labelled(label, problem), field=field)
    return value


def clean_code(value: Any, field: str = "code", label: str | None = None, *, max_length: int = 32) -> str:
    label = label or _("编码")
    value = clean_text(value, field, label, max_length=max_length)
    if not _CODE_RE.match(value):
        raise InvalidInput(_("%(label)s只能包含字母、数字、点、下划线和连字符", label=label), field=field)
    return value


def clean_login(value: Any, field: str = "login") -> str:
    value = clean_text(value, field, _("账号"), max_length=64)
    if len(value) < 2 or not _LOGIN_RE.match(value):
        raise InvalidInput(_("账号须为 2–64 位字母、数字或 _ . @ -，且以字母或数字开头"), field=field)
    return value


def clean_int(value: Any, field: str, label: str, *, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(_("缺少%(label)s", label=label), field=field)
        return None
    if isinstance(value, bool):
        raise InvalidInput(_("%(label)s必须是整数", label=label), field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("%(label)s必须是整数", label=label), field=field) from None
    if not -2**31 < number < 2**31:
        raise InvalidInput(_("%(label)s超出范围", label=label), field=field)
    return number


def is_id(value: Any) -> bool:
    """A database id as JSON gives it: an integer (not a boolean) from 1 to ID_MAX."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX


def as_id(value: Any) -> int | None:
    """A database id typed as ASCII digits (a form field, a query parameter), or
    None: no int() on odd input, nothing beyond the id column's range."""
    value = str(value or "").strip()
    ok = value.isascii() and value.isdigit() and len(value) <= 10 and 0 < int(value) <= ID_MAX
    return int(value) if ok else None


def parse_date(value: Any, name: str) -> date | None:
    """A YYYY-MM-DD date, or None when empty; anything else is a 400 naming `name`."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(_("日期格式应为 YYYY-MM-DD"), field=name)


def clean_id_list(value: Any, field: str, *, limit: int = 100) -> list[int]:
    """A JSON list of ids (positive integers, at most `limit`), duplicates dropped, order kept."""
    value = value or []
    if not isinstance(value, list) or len(value) > limit or not all(is_id(v) for v in value):
        raise InvalidInput(_("%(field)s 必须是 id 列表（最多 %(limit)s 个）", field=field, limit=limit),
                           field=field)
    return list(dict.fromkeys(value))


def clean_bool(value: Any, field: str, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("1", "true", "on", "yes", 1):
        return True
    if value in ("0", "false", "off", "no", 0, "", None):
        return False
    raise InvalidInput(_("%(label)s必须是布尔值", label=label), field=field)
