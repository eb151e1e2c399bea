"""Working hours, holidays and quiet time: when an arriving item may alert."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hub.org import schedule

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_default_hours_are_weekdays_half_past_eight_to_half_past_five(cast):
    plan = schedule.schedule_for(cast.user("mp_secretary"))
    assert plan.alerts_allowed(at("2026-11-23T09:00"))          # Monday
    assert not plan.alerts_allowed(at("2026-11-23T08:29"))
    assert not plan.alerts_allowed(at("2026-11-23T17:30"))
    assert not plan.alerts_allowed(at("2026-11-22T10:00"))      # Sunday


def test_a_county_sets_hours_its_villages_inherit(cast):
    schedule.set_working_hours(cast.user("kc_admin"), cast.unit("330802"), days="123456",
                               start="08:00", end="12:00")
    plan = schedule.schedule_for(cast.user("mp_secretary"))
    assert plan.alerts_allowed(at("2026-11-28T08:30"))          # Saturday now works
    assert not plan.alerts_allowed(at("2026-11-23T14:00"))
    other = schedule.schedule_for(cast.user("sf_member"))       # another county: default
    assert other.alerts_allowed(at("2026-11-23T14:00"))


def test_holidays_and_adjusted_working_days(cast):
    admin = cast.user("admin")
    schedule.add_holiday(admin, day="2026-11-23", name="测试假日", unit=None)
    schedule.add_holiday(admin, day="2026-11-22", name="调休上班", unit=None, workday=True)
    plan = schedule.schedule_for(cast.user("mp_secretary"), around=at("2026-11-23T00:00").date())
    assert not plan.alerts_allowed(at("2026-11-23T10:00"))
    assert plan.alerts_allowed(at("2026-11-22T10:00"))


def test_a_person_can_only_widen_their_quiet_time(cast):
    person = cast.user("mp_secretary")
    schedule.set_personal_quiet(person, start="12:00", end="14:00")
    plan = schedule.schedule_for(person)
    assert not plan.alerts_allowed(at("2026-11-23T12:30"))
    assert plan.alerts_allowed(at("2026-11-23T15:00"))
    schedule.set_personal_quiet(person, start="07:00", end="20:00")
    assert not schedule.schedule_for(person).alerts_allowed(at("2026-11-28T10:00"))   # Saturday


def test_schedule_api_and_bad_input(api, ids):
    person = api("mp_secretary")
    data = person.get("/api/v1/me/schedule").get_json()
    assert set(data) == {"alerts_now", "working_now", "schedule"}
    assert data["schedule"]["start"] == "08:30"
    bad = person.put("/api/v1/me/quiet", json={"start": "25:00", "end": "07:00"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "start"
    assert person.put(f"/api/v1/units/{ids.unit('330802')}/working-hours",
                      json={"days": "12345", "start": "08:00", "end": "17:00"}).status_code == 403
    admin = api("kc_admin")
    inverted = admin.put(f"/api/v1/units/{ids.unit('330802')}/working-hours",
                         json={"days": "12345", "start": "18:00", "end": "08:00"})
    assert inverted.status_code == 400 and inverted.get_json()["error"]["field"] == "end"
    outside = admin.put(f"/api/v1/units/{ids.unit('330803')}/working-hours",
                        json={"days": "12345", "start": "08:00", "end": "17:00"})
    assert outside.status_code == 404
    assert admin.post("/api/v1/holidays", json={"day": "2026-10-01", "name": "国庆"}).status_code == 403
