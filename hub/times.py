"""Time as people here read it: Beijing time (Asia/Shanghai, UTC+8, no daylight
saving). Stored times are UTC (hub.db.utcnow, UTCDateTime); pages, working
hours, document numbers' years and 成文日期 are in this zone. The one place
that names it, and the pages' time filters (registered by create_app)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import gettext as _

TZ = ZoneInfo("Asia/Shanghai")


def beijing(moment: datetime) -> datetime:
    """An aware datetime as Beijing time."""
    return moment.astimezone(TZ)


def beijing_today() -> date:
    return datetime.now(TZ).date()


# ---- How pages show times (template filters) -----------------------------------------------------

def local_when(value: Any, year: bool = False) -> str:
    """A stored time (datetime or ISO string) as Beijing time, "11月22日 14:05",
    with the year when it is not this year, or always (`year`: what is printed,
    such as the 办文单, is read in later years). inbox.js and channels.js format
    live items the same way."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    local = value.astimezone(TZ)
    parts = {"year": local.year, "month": local.month, "day": local.day, "time": f"{local:%H:%M}"}
    if local.year == datetime.now(TZ).year and not year:
        return _("%(month)s月%(day)s日 %(time)s", **parts)
    return _("%(year)s年%(month)s月%(day)s日 %(time)s", **parts)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC time as Beijing time in a fixed format (the audit log's)."""
    return value.astimezone(TZ).strftime(fmt) if value else ""


def day(value: date | str | None) -> str:
    """A date (or "YYYY-MM-DD", as the JSON shapes carry it) as "1月31日", with
    the year when it is not this year."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if value.year == datetime.now(TZ).year:
        return _("%(month)s月%(day)s日", month=value.month, day=value.day)
    return _("%(year)s年%(month)s月%(day)s日", year=value.year, month=value.month, day=value.day)


def cn_date(value: date | datetime | str | None) -> str:
    """成文日期 as GB/T 9704 writes it: 2026年3月4日 (Beijing time for a datetime)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.astimezone(TZ).date()
    return f"{value.year}年{value.month}月{value.day}日"


def register_filters(app: Flask) -> None:
    """One place for the pages' time filters (msg_time is local_when under the
    name the channel pages use)."""
    for name, function in (("local_when", local_when), ("msg_time", local_when), ("local_time", local_time),
                           ("day", day), ("cn_date", cn_date)):
        app.add_template_filter(function, name)
