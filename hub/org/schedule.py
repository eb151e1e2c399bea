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

from flask_babel import gettext as _
from sqlalchemy import or_, select

from hub.audit import record_audit
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.extensions import db
from hub.org.models import (DEFAULT_DAYS, DEFAULT_END, DEFAULT_START, Holiday,
                            PersonalQuiet, Unit, User, WorkingHours)
from hub.permissions import can_admin_unit
from hub.times import TZ
from hub.validation import clean_text

LOOKAHEAD_DAYS = 60            # schedule_for() loads holidays within this many days of today


@dataclass
class Schedule:
    days: str
    start: time
    end: time
    holidays: dict[date, bool]          # day -> is_workday
    quiet_start: time | None = None
    quiet_end: time | None = None

    def is_working_day(self, day: date) -> bool:
        """One of the schedule's weekdays, with holidays and 调休 applied."""
        override = self.holidays.get(day)
        return override if override is not None else str(day.isoweekday()) in self.days

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(TZ)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_working_start(self, moment: datetime) -> datetime | None:
        """The start of the next working period after `moment` (Beijing time), or
        None when `moment` is already working time (or none is known: holidays are
        loaded for LOOKAHEAD_DAYS around today)."""
        if self.is_working_time(moment):
            return None
        local = moment.astimezone(TZ)
        if self.is_working_day(local.date()) and local.time() < self.start:
            return datetime.combine(local.date(), self.start, TZ)
        for ahead in range(1, LOOKAHEAD_DAYS + 1):
            day = local.date() + timedelta(days=ahead)
            if self.is_working_day(day):
                return datetime.combine(day, self.start, TZ)
        return None

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
    within ±LOOKAHEAD_DAYS of `around`, and their own quiet window."""
    unit = user.primary_unit
    days, start, end = unit_hours(unit) if unit else (DEFAULT_DAYS, DEFAULT_START, DEFAULT_END)
    around = around or datetime.now(TZ).date()
    reach = unit.path_ids if unit else []
    window = timedelta(days=LOOKAHEAD_DAYS)
    holidays = {h.day: h.is_workday for h in db.session.scalars(
        select(Holiday).where(Holiday.day.between(around - window, around + window),
                              or_(Holiday.unit_id.is_(None), Holiday.unit_id.in_(reach)))
        .order_by(Holiday.unit_id.is_(None).desc()))}         # a unit's own rule wins
    quiet = db.session.get(PersonalQuiet, user.id)
    return Schedule(days=days, start=start, end=end, holidays=holidays,
                    quiet_start=quiet.start if quiet else None, quiet_end=quiet.end if quiet else None)


def _clean_time(value, field: str) -> time:
    if not isinstance(value, str):
        raise InvalidInput(_("时间格式应为 HH:MM"), field=field)
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("时间格式应为 HH:MM"), field=field) from None


def _clean_days(value) -> str:
    if not isinstance(value, str) or not value or any(c not in "1234567" for c in value):
        raise InvalidInput(_("工作日用 1–7 表示周一到周日，例如 12345"), field="days")
    return "".join(sorted(set(value)))


def set_working_hours(actor: User, unit: Unit, *, days, start, end) -> WorkingHours:
    """设置工作时间 for a unit and (by inheritance) the units below it."""
    if not can_admin_unit(actor, unit):
        raise NotAllowed(_("该单位不在您的管理范围内"))
    days, start, end = _clean_days(days), _clean_time(start, "start"), _clean_time(end, "end")
    if start >= end:
        raise InvalidInput(_("下班时间须晚于上班时间"), field="end")
    row = db.session.get(WorkingHours, unit.id) or WorkingHours(unit_id=unit.id)
    row.days, row.start, row.end = days, start, end
    db.session.add(row)
    record_audit(actor, "unit.working_hours", unit,
                 after={"days": days, "start": start.isoformat(), "end": end.isoformat()})
    db.session.commit()
    return row


def add_holiday(actor: User, *, day, name, unit: Unit | None, workday: bool = False) -> Holiday:
    """A holiday (or an adjusted working day) for everyone (system admins) or a subtree."""
    if unit is None and not actor.is_admin:
        raise NotAllowed(_("只有系统管理员可以设置全体节假日"))
    if unit is not None and not can_admin_unit(actor, unit):
        raise NotAllowed(_("该单位不在您的管理范围内"))
    try:
        day = date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput(_("日期格式应为 YYYY-MM-DD"), field="day")
    name = clean_text(name, "name", _("名称"), max_length=50)
    unit_id = unit.id if unit else None
    same_scope = Holiday.unit_id.is_(None) if unit_id is None else Holiday.unit_id == unit_id
    if db.session.scalar(select(Holiday.id).where(Holiday.day == day, same_scope)):
        raise Conflict(_("该日期已设置"), field="day")
    holiday = Holiday(day=day, name=name, unit_id=unit_id, is_workday=bool(workday))
    db.session.add(holiday)
    record_audit(actor, "holiday.added", unit, target_label=f"{day} {name}",
                 after={"day": day.isoformat(), "workday": bool(workday)})
    db.session.commit()
    return holiday


def set_personal_quiet(user: User, *, start, end) -> PersonalQuiet | None:
    """A person's own extra quiet window (both None clears it). It can only add
    quiet time: alerts need working hours *and* being outside this window."""
    row = db.session.get(PersonalQuiet, user.id)
    if start is None and end is None:
        if row is not None:
            db.session.delete(row)
        db.session.commit()
        return None
    start, end = _clean_time(start, "start"), _clean_time(end, "end")
    if start == end:
        raise InvalidInput(_("开始和结束时间不能相同"), field="end")
    row = row or PersonalQuiet(user_id=user.id)
    row.start, row.end = start, end
    db.session.add(row)
    db.session.commit()
    return row
