"""Time as people here read it: Beijing time (Asia/Shanghai, UTC+8, no daylight
saving). Stored times are UTC (hub.db.utcnow, UTCDateTime); pages, working
hours, document numbers' years and 成文日期 are in this zone. The one place
that names it."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def beijing(moment: datetime) -> datetime:
    """An aware datetime as Beijing time."""
    return moment.astimezone(TZ)


def beijing_today() -> date:
    return datetime.now(TZ).date()
