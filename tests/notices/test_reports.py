"""The daily digest, the sender-burden view, the suggestion box and scheduled notices."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from hub.audit import AuditEntry
from hub.channels.models import Message
from hub.db import utcnow
from hub.extensions import db
from hub.jobs import run_due_jobs
from hub.notices.digest import default_day, digest_for
from hub.notices.models import Notice
from hub.notices.models import Suggestion
from hub.org.models import User
from hub.org.schedule import Schedule
from hub.times import TZ
from tests.factories import connect
from tests.factories import publish

TODAY = datetime.now(TZ).date()
# Wednesday of last week: a past working day, with its Tuesday and Monday before it.
WED = TODAY - timedelta(days=TODAY.weekday() + 7) + timedelta(days=2)
TUE = WED - timedelta(days=1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)




def set_notice(app, notice_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(Notice).where(Notice.id == notice_id).values(**values))
        db.session.commit()




# ---- Which day a digest is for ----------------------------------------------------

@pytest.mark.parametrize("now,expected", [
    (at(date(2026, 11, 18), 18), date(2026, 11, 18)),     # Wednesday after work: today
    (at(date(2026, 11, 18), 10), date(2026, 11, 17)),     # Wednesday morning: Tuesday
    (at(date(2026, 11, 21), 12), date(2026, 11, 20)),     # Saturday: Friday
    (at(date(2026, 11, 23), 9), date(2026, 11, 20)),      # Monday morning: last Friday
])
def test_the_default_day_is_today_once_work_ends_else_the_previous_working_day(now, expected):
    schedule = Schedule(days="12345", start=time(8, 30), end=time(17, 30), holidays={})
    assert default_day(schedule, now) == expected


def test_holidays_and_adjusted_working_days_are_respected():
    schedule = Schedule(days="12345", start=time(8, 30), end=time(17, 30),
                        holidays={date(2026, 11, 17): False, date(2026, 11, 15): True})
    assert default_day(schedule, at(date(2026, 11, 18), 10)) == date(2026, 11, 16)   # Tuesday off
    assert default_day(schedule, at(date(2026, 11, 16), 10)) == date(2026, 11, 15)   # a working Sunday


# ---- What a digest holds ------------------------------------------------------------

def test_a_digest_groups_the_days_notices_by_sending_unit_in_tree_order(app, api, ids):
    county = publish(api("kc_clerk"), "冬季防火", {"subtrees": [ids.unit("330802")]})
    town = publish(api("sl_clerk"), "村两委会议", {"units": [ids.unit("330802100202")]})
    earlier = publish(api("kc_clerk"), "周二的通知", {"units": [ids.unit("330802100202")]})
    set_notice(app, town, publish_at=at(TUE, 18))        # after Tuesday's hours: Wednesday's digest
    set_notice(app, county, publish_at=at(WED, 10))
    set_notice(app, earlier, publish_at=at(TUE, 10))
    body = api("mp_secretary").get(f"/api/v1/inbox/digest?day={WED.isoformat()}").get_json()
    # The town's notice came first in time, yet the county office comes first in the tree.
    assert [(g["unit_name"], [i["title"] for i in g["items"]]) for g in body["notices"]] == [
        ("柯城区人民政府办公室", ["冬季防火"]), ("石梁镇", ["村两委会议"])]
    assert body["notices"][0]["items"][0]["summary"] == "冬季防火的要点"
    assert body["day"] == WED.isoformat()
    with app.app_context():
        secretary = db.session.scalar(select(User).where(User.login == "mp_secretary"))
        tuesday = digest_for(secretary, TUE)
        assert [[n.title for n in g.notices] for g in tuesday.groups] == [["周二的通知"]]
    outsider = api("sf_member").get(f"/api/v1/inbox/digest?day={WED.isoformat()}").get_json()
    assert outsider["notices"] == []


def test_pending_acknowledgements_and_near_deadlines_are_listed_as_of_now(app, api, ids):
    office, village = api("kc_clerk"), {"units": [ids.unit("330802100202")]}
    now = utcnow()
    soon = publish(office, "三天后截止", village, requires_ack=True,
                   deadline=(now + timedelta(days=3)).isoformat())
    no_ack = publish(office, "两天后截止", village, deadline=(now + timedelta(days=2)).isoformat())
    open_ended = publish(office, "需签收无截止", village, requires_ack=True)
    passed = publish(office, "已过期", village, requires_ack=True,
                     deadline=(now + timedelta(days=1)).isoformat())
    far = publish(office, "一个月后截止", village, deadline=(now + timedelta(days=30)).isoformat())
    revoked = publish(office, "已撤回", village, requires_ack=True)
    set_notice(app, passed, deadline=now - timedelta(days=1))
    office.post(f"/api/v1/notices/{revoked}/revoke", json={"note": "作废"})
    reader = api("mp_secretary")
    pending = reader.get("/api/v1/inbox/digest").get_json()["pending"]
    assert [(p["id"], p["passed"]) for p in pending] == [
        (passed, True), (no_ack, False), (soon, False), (open_ended, False)]
    assert far not in [p["id"] for p in pending]
    assert reader.post(f"/api/v1/notices/{soon}/ack").status_code == 200
    pending = reader.get("/api/v1/inbox/digest").get_json()["pending"]
    assert soon in [p["id"] for p in pending]           # acknowledged, but its deadline is near
    assert [p["acked"] for p in pending if p["id"] == soon] == [True]
    assert reader.post(f"/api/v1/notices/{open_ended}/ack").status_code == 200
    assert open_ended not in [p["id"] for p in reader.get("/api/v1/inbox/digest").get_json()["pending"]]


def test_channel_activity_counts_the_days_messages_by_others_and_unread_now(app, api, ids):
    secretary, director = api("mp_secretary"), api("mp_director")
    channel = next(c["id"] for c in secretary.get("/api/v1/channels").get_json()["items"]
                   if c["name"] == "麻蓬村委会")
    secretary.post(f"/api/v1/channels/{channel}/messages", json={"body": "我先说", "client_msg_id": "s1"})
    director.post(f"/api/v1/channels/{channel}/messages",
                  json={"body": "防汛物资清点", "topic": "防汛", "client_msg_id": "d1"})
    director.post(f"/api/v1/channels/{channel}/messages", json={"body": "明早开会", "client_msg_id": "d2"})
    with app.app_context():
        db.session.execute(update(Message).where(Message.channel_id == channel)
                           .values(created_at=at(WED, 11)))
        db.session.commit()
    channels = secretary.get(f"/api/v1/inbox/digest?day={WED.isoformat()}").get_json()["channels"]
    village = [c for c in channels if c["id"] == channel]
    assert village == [{"id": channel, "kind": "unit", "name": "麻蓬村委会", "new_messages": 2,
                        "unread": 2, "topics": ["", "防汛"]}]
    mine = director.get(f"/api/v1/inbox/digest?day={WED.isoformat()}").get_json()["channels"]
    assert [(c["new_messages"], c["topics"]) for c in mine if c["id"] == channel] == [(1, [""])]
    quiet_day = secretary.get(f"/api/v1/inbox/digest?day={TUE.isoformat()}").get_json()["channels"]
    assert [(c["new_messages"], c["unread"]) for c in quiet_day if c["id"] == channel] == [(0, 2)]


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "２０２６-01-01", "2026-1-1x"])
def test_a_bad_day_is_400_naming_the_field(api, day):
    response = api("mp_secretary").get(f"/api/v1/inbox/digest?day={day}")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "day"


def test_a_future_day_is_refused(api):
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    response = api("mp_secretary").get(f"/api/v1/inbox/digest?day={tomorrow}")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "day"


def test_the_digest_page_is_one_screen_in_chinese_and_pushes_nothing(app, client, login, api, ids):
    notice = publish(api("kc_clerk"), "<b>冬季防火</b>", {"subtrees": [ids.unit("330802")]})
    set_notice(app, notice, publish_at=at(WED, 10))
    socket = connect(app, "mp_secretary")
    login("mp_secretary")
    response = client.get(f"/inbox/digest?day={WED.isoformat()}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("日报摘要", "收到的通知", "柯城区人民政府办公室", "&lt;b&gt;冬季防火&lt;/b&gt;",
                 "待签收与截止事项", "频道动态"):
        assert text in html
    assert "style=" not in html and page_scripts(html) == []
    assert client.get("/inbox/digest").status_code == 200
    assert client.get("/inbox/digest?day=nonsense").status_code == 400
    assert socket.get_received() == []


# ---- Sender burden -------------------------------------------------------------------

def this_month(items: list[dict]) -> dict[str, dict]:
    return {row["name"]: {**row["months"][-1], "task_channels_open": row["task_channels_open"]}
            for row in items}


def test_burden_counts_the_load_per_sending_unit_in_tree_order(app, api, ids):
    office, town = api("kc_clerk"), api("sl_clerk")
    county_notice = publish(office, "全区", {"subtrees": [ids.unit("330802")]})                # 7 people
    publish(office, "石梁镇", {"units": [ids.unit("330802100")]})                               # 2 people
    publish(api("kc_leader"), "寒潮", {"subtrees": [ids.unit("330802100")]},
            urgent=True, urgent_reason="寒潮预警")                                             # 4 people
    village_notices = [publish(town, f"村务{i}", {"units": [ids.unit("330802100202")]}) for i in range(4)]
    with app.app_context():
        db.session.execute(update(Notice).values(after_hours=False))
        db.session.execute(update(Notice).where(Notice.id.in_([county_notice, village_notices[0]]))
                           .values(after_hours=True))
        db.session.commit()
    api("mp_secretary").post(f"/api/v1/notices/{county_notice}/feedback", json={"kind": "duplicate"})
    api("mp_director").post(f"/api/v1/notices/{village_notices[1]}/feedback", json={"kind": "unnecessary"})
    task = api("sl_leader").post("/api/v1/channels", json={
        "name": "防汛物资", "purpose": "清点物资", "ends_on": (TODAY + timedelta(days=30)).isoformat(),
        "unit_ids": [ids.unit("330802100")]}).get_json()
    assert task["state"] == "active"

    body = api("admin").get("/api/v1/burden").get_json()
    assert len(body["months"]) == 6 and body["months"][-1] == f"{TODAY.year}-{TODAY.month:02d}"
    # 石梁镇 sent more, yet stays after the county office: tree order, never by count.
    assert [row["name"] for row in body["items"]] == ["柯城区人民政府办公室", "石梁镇"]
    month = this_month(body["items"])
    assert month["柯城区人民政府办公室"] == {
        "month": body["months"][-1], "notices": 3, "people_reached": 13, "urgent": 1, "after_hours": 1,
        "feedback": {"duplicate": 1, "unclear": 0, "unnecessary": 0}, "task_channels_open": 0,
        "data_requests": 0, "data_units_asked": 0, "data_fields_asked": 0, "data_answers_held": 0,
        "data_overlaps_sent": 0, "data_file_fields": 0}
    assert month["石梁镇"] == {
        "month": body["months"][-1], "notices": 4, "people_reached": 8, "urgent": 0, "after_hours": 1,
        "feedback": {"duplicate": 0, "unclear": 0, "unnecessary": 1}, "task_channels_open": 1,
        "data_requests": 0, "data_units_asked": 0, "data_fields_asked": 0, "data_answers_held": 0,
        "data_overlaps_sent": 0, "data_file_fields": 0}
    assert all(m["notices"] == 0 for row in body["items"] for m in row["months"][:-1])


def test_people_reached_is_resolved_through_todays_tree_when_read(app, api, ids):
    publish(api("kc_clerk"), "全区", {"subtrees": [ids.unit("330802")]})
    admin = api("admin")

    def reached() -> int:
        month = this_month(admin.get("/api/v1/burden").get_json()["items"])
        return month["柯城区人民政府办公室"]["people_reached"]
    assert reached() == 7
    moved = admin.patch(f"/api/v1/people/{ids.user('mp_director')}", json={"unit_id": ids.unit("330803100")})
    assert moved.status_code == 200
    assert reached() == 6


def test_burden_is_for_admins_within_their_scope(api, ids):
    publish(api("kc_clerk"), "全区", {"subtrees": [ids.unit("330802")]})
    items = api("kc_admin").get("/api/v1/burden").get_json()["items"]
    assert [r["name"] for r in items] == ["柯城区人民政府办公室"]
    assert api("qj_admin").get("/api/v1/burden").get_json()["items"] == []
    for login in ("sl_clerk", "kc_leader", "mp_director"):
        response = api(login).get("/api/v1/burden")
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_allowed"


@pytest.mark.parametrize("months,status", [("3", 200), ("24", 200), ("0", 400), ("25", 400),
                                           ("x", 400), ("-1", 400), ("1e3", 400)])
def test_the_months_parameter_is_checked(api, months, status):
    response = api("admin").get(f"/api/v1/burden?months={months}")
    assert response.status_code == status
    if status == 200:
        assert len(response.get_json()["months"]) == int(months)
    else:
        assert response.get_json()["error"]["field"] == "months"


def page_scripts(html: str) -> list[str]:
    """The page's own script tags: all but the shared js/hub.js of base.html."""
    return [tag for tag in re.findall(r"<script[^>]*>", html) if "/js/hub.js" not in tag]


def test_the_burden_page_shows_bars_without_inline_style(client, login, api, ids):
    publish(api("kc_clerk"), "全区", {"subtrees": [ids.unit("330802")]})
    login("kc_admin")
    response = client.get("/admin/burden?months=3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "发文负担" in html and "柯城区人民政府办公室" in html and "<meter" in html
    assert "style=" not in html and page_scripts(html) == []
    assert client.get("/admin/burden?months=99").status_code == 400


def test_the_burden_page_is_refused_to_non_admins(client, login):
    login("sl_clerk")
    assert client.get("/admin/burden").status_code == 403


def test_publishing_writes_no_row_per_recipient(app, api, ids):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Notice))
    publish(api("kc_clerk"), "全区", {"subtrees": [ids.unit("330802")]})
    api("admin").get("/api/v1/burden")
    with app.app_context():
        from hub.notices.models import NoticeAudience, Receipt
        assert db.session.scalar(select(func.count()).select_from(Notice)) == before + 1
        assert db.session.scalar(select(func.count()).select_from(NoticeAudience)) == 1
        assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0


# ---- The suggestion box (意见箱) ---------------------------------------------------------

def test_a_suggestion_stores_no_person_and_no_time(app, client, login):
    assert set(Suggestion.__table__.columns.keys()) == {"id", "body", "created_on", "contact"}
    login("mp_director")
    page = client.get("/suggestions").get_data(as_text=True)
    assert "意见箱" in page and 'name="csrf_token"' in page and "查看收到的意见" not in page
    with app.app_context():
        audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    text = "<script>alert(1)</script>\n第二行 'quoted' \"double\" 😀"
    response = client.post("/suggestions", data={"body": text, "contact": ""})
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(Suggestion))
        assert (stored.body, stored.contact, stored.created_on) == (text, None, TODAY)
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_only_system_admins_read_the_suggestions(client, login, api):
    api("mp_director").post("/api/v1/suggestions",
                            json={"body": "<b>通知太多</b>\n能否合并", "contact": "13800000000"})
    for person in ("kc_admin", "mp_director"):
        assert api(person).get("/api/v1/suggestions").status_code == 403
    items = api("admin").get("/api/v1/suggestions").get_json()["items"]
    assert [(i["body"], i["contact"]) for i in items] == [("<b>通知太多</b>\n能否合并", "13800000000")]
    assert set(items[0]) == {"id", "body", "created_on", "contact"}
    login("kc_admin")
    assert client.get("/suggestions/received").status_code == 403
    login("admin")
    html = client.get("/suggestions/received").get_data(as_text=True)
    assert "&lt;b&gt;通知太多&lt;/b&gt;<br>能否合并" in html and "13800000000" in html


@pytest.mark.parametrize("data,field", [
    ({"body": ""}, "body"), ({"body": "   "}, "body"), ({"body": "字" * 2001}, "body"),
    ({"body": "bell\x07"}, "body"), ({"body": "好", "contact": "字" * 201}, "contact"),
    ({"body": 12}, "body"),
])
def test_a_bad_suggestion_is_refused_naming_the_field(api, data, field):
    response = api("mp_director").post("/api/v1/suggestions", json=data)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_a_refused_suggestion_form_keeps_what_was_typed(client, login):
    login("mp_director")
    response = client.post("/suggestions", data={"body": "字" * 2001, "contact": "办公室"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "不能超过 2000" in html and "办公室" in html


def test_suggestion_pages_need_a_sign_in(client):
    assert client.get("/suggestions").status_code == 302
    assert client.post("/api/v1/suggestions", json={"body": "x"}).status_code == 401


# ---- Scheduled notices ---------------------------------------------------------------------

def test_a_scheduled_notice_is_invisible_until_its_time_then_pushed_once(app, api, ids, monkeypatch):
    socket = connect(app, "mp_secretary")
    later = utcnow() + timedelta(hours=1)
    notice = publish(api("kc_clerk"), "明早的通知", {"units": [ids.unit("330802100202")]},
                     publish_at=later.astimezone(TZ).isoformat())
    reader = api("mp_secretary")
    assert reader.get("/api/v1/inbox").get_json()["items"] == []
    assert reader.get(f"/api/v1/notices/{notice}").status_code == 404
    with app.app_context():
        assert run_due_jobs()["announced_notices"] == 0
    assert [e for e in socket.get_received() if e["name"] == "notice"] == []

    moment = later + timedelta(minutes=1)
    monkeypatch.setattr("hub.notices.queries.utcnow", lambda: moment)
    monkeypatch.setattr("hub.notices.actions.utcnow", lambda: moment)
    assert [i["id"] for i in reader.get("/api/v1/inbox").get_json()["items"]] == [notice]
    with app.app_context():
        assert run_due_jobs()["announced_notices"] == 1
        assert run_due_jobs()["announced_notices"] == 0
        assert db.session.get(Notice, notice).announced is True
    pushed = [e["args"][0]["id"] for e in socket.get_received() if e["name"] == "notice"]
    assert pushed == [notice]
