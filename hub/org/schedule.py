"""Working hours and quiet time (DESIGN.md principle 5: respect time).

Each unit has working hours (default Mon–Fri 08:30–17:30, Asia/Shanghai), taken
from the nearest unit above that sets its own; holidays (and adjusted working
days, 调休) can be added for everyone or for a subtree. Outside working hours
Hub still delivers everything but raises no alert. A person may widen their own
quiet time (never narrow it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Date, ForeignKey, String, Time, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.extensions import db
from hub.org.models import Unit, User

TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = "12345"                  # ISO weekdays, Monday = 1
DEFAULT_START, DEFAULT_END = time(8, 30), time(17, 30)


class WorkingHours(db.Model):
    """A unit's own working hours; units without a row inherit from above."""

    __tablename__ = "working_hours"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    days: Mapped[str] = mapped_column(String(7), default=DEFAULT_DAYS)
    start: Mapped[time] = mapped_column(Time, default=DEFAULT_START)
    end: Mapped[time] = mapped_column(Time, default=DEFAULT_END)


class Holiday(db.Model):
    """A day off (or, with is_workday, an adjusted working day) for everyone
    (unit_id NULL) or for one unit's subtree."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("day", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)


class PersonalQuiet(db.Model):
    """A person's own extra quiet window each day (may wrap midnight), and
    whether their whole weekend is quiet."""

    __tablename__ = "personal_quiet"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[time | None] = mapped_column(Time)
    end: Mapped[time | None] = mapped_column(Time)


@dataclass
class Schedule:
    days: str
    start: time
    end: time
    holidays: dict[date, bool]          # day -> is_workday
    quiet_start: time | None = None
    quiet_end: time | None = None

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(TZ)
        override = self.holidays.get(local.date())
        workday = override if override is not None else str(local.isoweekday()) in self.days
        return workday and self.start <= local.time() < self.end

    def in_personal_quiet(self, moment: datetime) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        now = moment.astimezone(TZ).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= now < self.quiet_end
        return now >= self.quiet_start or now < self.quiet_end

    def alerts_allowed(self, moment: datetime) -> bool:
        """True when an arriving item may make a sound, a notification or a badge."""
        return self.is_working_time(moment) and not self.in_personal_quiet(moment)

    def as_json(self) -> dict:
        return {"timezone": "Asia/Shanghai", "days": self.days,
                "start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M"),
                "holidays": [{"day": d.isoformat(), "workday": w} for d, w in sorted(self.holidays.items())],
                "quiet_start": self.quiet_start.strftime("%H:%M") if self.quiet_start else None,
                "quiet_end": self.quiet_end.strftime("%H:%M") if self.quiet_end else None}


def unit_hours(unit: Unit) -> tuple[str, time, time]:
    """The working hours in force for `unit`: its own, else the nearest above."""
    ids = unit.path_ids
    rows = {row.unit_id: row for row in db.session.scalars(
        select(WorkingHours).where(WorkingHours.unit_id.in_(ids)))}
    for unit_id in reversed(ids):
        if unit_id in rows:
            row = rows[unit_id]
            return row.days, row.start, row.end
    return DEFAULT_DAYS, DEFAULT_START, DEFAULT_END


def schedule_for(user: User, *, around: date | None = None) -> Schedule:
    """The person's schedule: their primary unit's hours, holidays in force there
    within ±60 days of `around`, and their own quiet window."""
    unit = user.primary_unit
    days, start, end = unit_hours(unit) if unit else (DEFAULT_DAYS, DEFAULT_START, DEFAULT_END)
    around = around or datetime.now(TZ).date()
    reach = unit.path_ids if unit else []
    holidays = {h.day: h.is_workday for h in db.session.scalars(
        select(Holiday).where(Holiday.day.between(around - timedelta(days=60), around + timedelta(days=60)),
                              or_(Holiday.unit_id.is_(None), Holiday.unit_id.in_(reach)))
        .order_by(Holiday.unit_id.is_(None).desc()))}         # a unit's own rule wins
    quiet = db.session.get(PersonalQuiet, user.id)
    return Schedule(days=days, start=start, end=end, holidays=holidays,
                    quiet_start=quiet.start if quiet else None, quiet_end=quiet.end if quiet else None)
