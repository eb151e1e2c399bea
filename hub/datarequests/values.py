"""Checking a value against its field's kind, and the one JSON-safe way each
kind is stored: integer an int (a count: not negative), number an int or a
finite float, text the string exactly as sent, date "YYYY-MM-DD", choice one of
the field's choices exactly, file an attachment id (checked by the action).

Refused with a 400 naming the field: "十二", "1,2", "NaN", 1e309 (infinite once
parsed), a negative count, 2026-02-30, a choice outside the list, true/false.
"""
from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from hub.datarequests.models import TEXT_VALUE_MAX, FieldKind
from hub.errors import InvalidInput
from hub.validation import is_id

NUMBER_LIMIT = 10**15            # beyond this a float no longer keeps whole units
_INTEGER = re.compile(r"[+]?[0-9]{1,16}")
_NUMBER = re.compile(r"[+-]?[0-9]{1,16}(?:\.[0-9]{1,10})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_empty(raw: Any) -> bool:
    """No answer: null or an empty string (the field keeps what it holds)."""
    return raw is None or raw == ""


def clean_value(kind: str, raw: Any, *, field: str, label: str, choices: list[str] | None = None) -> Any:
    """The value to store for a field of `kind`, or InvalidInput naming `field`."""
    checker = _CHECKERS[FieldKind(kind)]
    return checker(raw, field, label, choices)


def _integer(raw: Any, field: str, label: str, _choices) -> int:
    number = _number(raw, field, label, None)
    if isinstance(number, float):
        if not number.is_integer():
            raise InvalidInput(_("“%(label)s”须为整数，例如 12", label=label), field=field)
        number = int(number)
    if number < 0:
        raise InvalidInput(_("“%(label)s”是个数，不能为负数", label=label), field=field)
    return number


def _number(raw: Any, field: str, label: str, _choices) -> int | float:
    if isinstance(raw, bool):
        raise InvalidInput(_("“%(label)s”须为数字", label=label), field=field)
    if isinstance(raw, str):
        text = raw.strip()
        if not _NUMBER.fullmatch(text):
            raise InvalidInput(_("“%(label)s”须为阿拉伯数字，例如 12 或 3.5（不用千分位逗号）", label=label),
                               field=field)
        try:
            parsed = Decimal(text)
        except InvalidOperation:                     # the pattern rules it out; kept for safety
            raise InvalidInput(_("“%(label)s”须为数字", label=label), field=field) from None
        raw = int(parsed) if parsed == parsed.to_integral_value() else float(parsed)
    if isinstance(raw, int):
        value: int | float = raw
    elif isinstance(raw, float) and math.isfinite(raw):
        value = int(raw) if raw.is_integer() and abs(raw) < NUMBER_LIMIT else raw
    else:
        raise InvalidInput(_("“%(label)s”须为有限的数字", label=label), field=field)
    if abs(value) >= NUMBER_LIMIT:
        raise InvalidInput(_("“%(label)s”超出范围（绝对值须小于 10 的 15 次方）", label=label), field=field)
    return value


def _text(raw: Any, field: str, label: str, _choices) -> str:
    if not isinstance(raw, str):
        raise InvalidInput(_("“%(label)s”须为文本", label=label), field=field)
    if len(raw) > TEXT_VALUE_MAX:
        raise InvalidInput(_("“%(label)s”不能超过 %(limit)s 个字符", label=label, limit=TEXT_VALUE_MAX),
                           field=field)
    return raw


def _date(raw: Any, field: str, label: str, _choices) -> str:
    text = raw.strip() if isinstance(raw, str) else None
    if text is None or not _DATE.fullmatch(text):
        raise InvalidInput(_("“%(label)s”须为日期，格式 YYYY-MM-DD", label=label), field=field)
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise InvalidInput(_("“%(label)s”的日期不存在：%(date)s", label=label, date=text),
                           field=field) from None


def _choice(raw: Any, field: str, label: str, choices: list[str] | None) -> str:
    if not isinstance(raw, str) or raw not in (choices or []):
        raise InvalidInput(_("“%(label)s”须为以下选项之一：%(choices)s", label=label,
                             choices="、".join(choices or [])), field=field)
    return raw


def _file(raw: Any, field: str, label: str, _choices) -> int:
    if not is_id(raw):
        raise InvalidInput(_("“%(label)s”须为已上传文件的 id", label=label), field=field)
    return raw


_CHECKERS = {FieldKind.INTEGER: _integer, FieldKind.NUMBER: _number, FieldKind.TEXT: _text,
             FieldKind.DATE: _date, FieldKind.CHOICE: _choice, FieldKind.FILE: _file}
