"""Periods (填报期间) as strings: "2026-11" (month), "2026-Q4" (quarter), "2026"
(year), "once". A request has one period; each of its fields is held for that
period, or for "once" when the field does not change with time."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from hub.errors import InvalidInput

YEAR_MIN, YEAR_MAX = 1949, 2100
ONCE = "once"
_PATTERNS = {
    "month": re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])"),
    "quarter": re.compile(r"([0-9]{4})-Q([1-4])"),
    "year": re.compile(r"([0-9]{4})"),
}
QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}


@dataclass(frozen=True)
class Period:
    kind: str          # month | quarter | year | once
    text: str          # the canonical string, as stored

    def label(self) -> str:
        """How pages show it: 2026年11月, 2026年第四季度, 2026年, 不分期间."""
        if self.kind == "once":
            return _("不分期间")
        year = self.text[:4]
        if self.kind == "month":
            return _("%(year)s年%(month)s月", year=year, month=int(self.text[5:]))
        if self.kind == "quarter":
            # 第三季度 in Chinese, Q3 in English: the numeral follows the page's language.
            quarter = int(self.text[-1])
            numeral = QUARTER_NAMES[quarter] if str(get_locale() or "zh").startswith("zh") else quarter
            return _("%(year)s年第%(quarter)s季度", year=year, quarter=numeral)
        return _("%(year)s年", year=year)


def parse_period(value: Any, field: str = "period") -> Period:
    """A period string, checked; a lower-case "q" is accepted and stored upper-case.
    Anything else (2026-13, 2026-Q5, 2026年11月, 26-11) is a 400 naming `field`."""
    if isinstance(value, str):
        text = value.strip()
        if text == ONCE:
            return Period("once", ONCE)
        text = re.sub(r"-q([1-4])$", r"-Q\1", text)
        for kind, pattern in _PATTERNS.items():
            match = pattern.fullmatch(text)
            if match and YEAR_MIN <= int(match.group(1)) <= YEAR_MAX:
                return Period(kind, text)
    raise InvalidInput(_("期间格式应为 2026-11（月）、2026-Q4（季度）、2026（年）或 once"), field=field)


def period_label(text: str) -> str:
    """The label of a stored period string."""
    try:
        return parse_period(text).label()
    except InvalidInput:
        return text


def held_period(period_kind: str, period: Period) -> str:
    """The period a field is held for in a request of `period`: "once" for a
    field that does not change with time, else the request's own."""
    return ONCE if period_kind == "once" else period.text


def fits(period_kind: str, period: Period) -> bool:
    """Whether a field of `period_kind` can be asked in a request of `period`."""
    return period_kind == "once" or period_kind == period.kind
