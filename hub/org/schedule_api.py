"""Working hours, holidays and personal quiet time (API)."""
from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required, json_body
from hub.db import utcnow
from hub.extensions import csrf
from hub.org import schedule
from hub.permissions import access_unit, access_unit_for_admin
from hub.validation import clean_int

bp = Blueprint("schedule_api", __name__)
csrf.exempt(bp)


@bp.get("/me/schedule")
@api_login_required
def my_schedule():
    """Whether an arriving item may alert you now, and the schedule behind it."""
    plan = schedule.schedule_for(current_user)
    now = utcnow()
    return {"alerts_now": plan.alerts_allowed(now), "working_now": plan.is_working_time(now),
            "schedule": plan.as_json()}


@bp.put("/me/quiet")
@api_login_required
def my_quiet():
    data = json_body()
    schedule.set_personal_quiet(current_user, start=data.get("start"), end=data.get("end"))
    return my_schedule()


@bp.get("/units/<int:unit_id>/working-hours")
@api_login_required
def unit_working_hours(unit_id: int):
    days, start, end = schedule.unit_hours(access_unit(current_user, unit_id))
    return {"days": days, "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}


@bp.put("/units/<int:unit_id>/working-hours")
@api_login_required
def set_unit_working_hours(unit_id: int):
    unit = access_unit_for_admin(current_user, unit_id)
    data = json_body()
    schedule.set_working_hours(current_user, unit, days=data.get("days"), start=data.get("start"),
                               end=data.get("end"))
    return unit_working_hours(unit_id)


@bp.post("/holidays")
@api_login_required
def add_holiday():
    data = json_body()
    unit_id = clean_int(data.get("unit_id"), "unit_id", _("单位"), required=False)
    unit = access_unit_for_admin(current_user, unit_id) if unit_id is not None else None
    holiday = schedule.add_holiday(current_user, day=data.get("day"), name=data.get("name"),
                                   unit=unit, workday=data.get("workday") is True)
    return {"id": holiday.id, "day": holiday.day.isoformat(), "name": holiday.name,
            "unit_id": holiday.unit_id, "workday": holiday.is_workday}, 201
