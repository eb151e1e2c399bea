"""The notice pages: compose, the notice, coverage, reminder, 更正 and 撤回."""
from __future__ import annotations

import html as html_lib
import re
from datetime import date, datetime, time, timedelta, timezone

import pytest

from hub.notices import pages, views
from hub.times import TZ
from hub.org.schedule import Schedule
from tests.factories import page
from tests.factories import publish_to_town as publish






def receipts(api, notice: int, login="kc_clerk") -> dict:
    return api(login).get(f"/api/v1/notices/{notice}/receipts").get_json()


def compose(ids, **fields) -> dict:
    form = {"title": "关于开展森林防火检查的通知", "summary": "11月30日前各村完成自查",
            "body": "具体要求见正文。", "publish_at": "", "deadline": ""}
    form.update(fields)
    return form


# ---- The notice --------------------------------------------------------------------------

def test_opening_the_notice_page_writes_the_receipt_for_a_recipient(client, login, api, ids):
    notice = publish(api, ids)
    login("mp_secretary")
    html = page(client, f"/notices/{notice}")
    assert "关于做好冬季防火工作的通知" in html and "内容摘要" in html
    assert "12月1日前完成辖区隐患排查并上报" in html
    assert "柯城区人民政府办公室" in html and "吴文书" in html
    page(client, f"/notices/{notice}")                       # idempotent
    assert receipts(api, notice)["read_count"] == 1


def test_the_publisher_opening_it_writes_nothing_and_sees_the_follow_up_links(client, login, api, ids):
    notice = publish(api, ids, audience={"subtrees": [ids.unit("330802")]})
    login("kc_clerk")
    html = page(client, f"/notices/{notice}")
    assert receipts(api, notice)["read_count"] == 0
    for link in (f"/notices/{notice}/coverage", f"/notices/{notice}/correct", f"/notices/{notice}/revoke"):
        assert link in html
    assert "签收</button>" not in html and "匿名反馈" not in html


def test_the_body_is_shown_with_its_line_breaks_and_the_summary_in_full(client, login, api, ids):
    summary = "要" * 200
    notice = publish(api, ids, summary=summary, body="第一行\n第二行")
    login("mp_director")
    html = page(client, f"/notices/{notice}")
    assert summary in html and "第一行\n第二行" in html


def test_the_acknowledge_button_works_once(client, login, api, ids):
    notice = publish(api, ids, requires_ack=True)
    login("mp_secretary")
    assert ">签收</button>" in page(client, f"/notices/{notice}")
    response = client.post(f"/notices/{notice}/ack")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/notices/{notice}")
    html = page(client, f"/notices/{notice}")
    assert ">签收</button>" not in html and "您已签收" in html
    assert client.post(f"/notices/{notice}/ack").status_code == 302          # idempotent
    cover = receipts(api, notice)
    assert (cover["read_count"], cover["acked_count"]) == (1, 1)


def test_no_acknowledge_button_without_requires_ack(client, login, api, ids):
    notice = publish(api, ids)
    login("mp_secretary")
    assert ">签收</button>" not in page(client, f"/notices/{notice}")
    response = client.post(f"/notices/{notice}/ack")
    assert response.status_code == 409 and "不需要签收" in response.get_data(as_text=True)


def test_feedback_is_anonymous_and_offered_once(client, login, api, ids):
    notice = publish(api, ids)
    login("mp_secretary")
    html = page(client, f"/notices/{notice}")
    assert "匿名反馈，发布单位只看到数量" in html
    for label in ("重复", "不清楚", "不必要"):
        assert f">{label}</button>" in html
    assert client.post(f"/notices/{notice}/feedback", data={"kind": "unclear"}).status_code == 302
    html = page(client, f"/notices/{notice}")
    assert "您已反馈过" in html and ">不清楚</button>" not in html
    again = client.post(f"/notices/{notice}/feedback", data={"kind": "duplicate"})
    assert again.status_code == 409 and "已对该通知提交过反馈" in again.get_data(as_text=True)
    assert client.post(f"/notices/{notice}/feedback", data={"kind": "like"}).status_code in (400, 409)
    assert receipts(api, notice)["feedback"] == {"duplicate": 0, "unclear": 1, "unnecessary": 0}


def test_a_notice_not_addressed_to_you_is_404(client, login, api, ids):
    notice = publish(api, ids)
    login("sf_member")
    page(client, f"/notices/{notice}", status=404)
    assert client.post(f"/notices/{notice}/ack").status_code == 404
    page(client, "/notices/999999", status=404)


# ---- Compose ------------------------------------------------------------------------------

@pytest.mark.parametrize("who,status", [("kc_clerk", 200), ("kc_leader", 200), ("sl_clerk", 200),
                                        ("admin", 200), ("mp_director", 403), ("kc_admin", 403)])
def test_only_publishers_get_the_compose_page(client, login, who, status):
    login(who)
    page(client, "/notices/new", status=status)
    assert ("/notices/new" in page(client, "/inbox/")) is (status == 200)


def test_compose_publishes_to_the_chosen_subtree(client, login, api, ids):
    login("kc_clerk")
    town = ids.unit("330802100")
    response = client.post("/notices/new", data=compose(ids, unit_ids=[town], subtree_ids=[town]))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    notice = int(response.headers["Location"].rsplit("/", 1)[1])
    for login_name in ("sl_clerk", "sl_leader", "mp_secretary", "mp_director"):
        assert [i["id"] for i in api(login_name).get("/api/v1/inbox").get_json()["items"]] == [notice]
    for login_name in ("sf_member", "kc_leader"):
        assert api(login_name).get("/api/v1/inbox").get_json()["items"] == []
    assert receipts(api, notice)["audience_count"] == 4


def test_compose_to_a_unit_people_and_a_position(client, login, api, ids):
    login("kc_clerk")
    response = client.post("/notices/new", data=compose(
        ids, unit_ids=[ids.unit("330802100")], user_ids=[ids.user("kc_leader")],
        position_unit=[ids.unit("330802"), ids.unit("330802")], position=["党支部书记", ""]))
    assert response.status_code == 302
    reached = {login for login in ("sl_clerk", "sl_leader", "mp_secretary", "mp_director", "kc_leader")
               if api(login).get("/api/v1/inbox").get_json()["items"]}
    assert reached == {"sl_clerk", "sl_leader", "mp_secretary", "kc_leader"}


def test_the_compose_page_suggests_positions_and_previews_the_reach(client, login, ids):
    login("kc_clerk")
    html = page(client, "/notices/new")
    # The positions that exist, with how many hold each; the example is one that exists.
    assert '<option value="党支部书记" label="党支部书记（1 人）">' in html
    assert '<option value="村委会主任" label="村委会主任（1 人）">' in html
    assert "村党组织书记" not in html
    assert "/api/v1/notices/preview" in html
    # Without JavaScript the 计算送达人数 button re-renders the form with the count.
    town = ids.unit("330802100")
    html = client.post("/notices/new", data=compose(ids, subtree_ids=[town], find="preview")).text
    assert "将送达 <strong>4</strong> 人，涉及 <strong>2</strong> 个单位" in html
    assert 'value="关于开展森林防火检查的通知"' in html
    assert f'id="ns-{town}" name="subtree_ids" value="{town}" checked' in html


def test_the_unit_search_finds_units_within_reach_only(client, login, ids):
    login("kc_clerk")
    html = client.post("/notices/new", data=compose(ids, unit_q="上方镇 石梁镇", find="units")).text
    found_list = html.split('id="notice-units"')[1].split("</ul>")[0]
    assert f'value="{ids.unit("330802100")}"' in found_list and "上方镇" not in found_list
    found = client.get("/notices/units/choices?q=镇").get_json()["items"]
    assert [u["name"] for u in found] == ["石梁镇"]
    people = client.get("/notices/people/choices?q=王").get_json()["items"]
    assert [p["name"] for p in people] == ["王建军"]
    town = ids.unit("330802100")
    positions = client.get(f"/notices/positions?unit_id={town}").get_json()
    assert positions["people"][positions["items"].index("党支部书记")] == 1


def test_the_summary_has_a_live_count_and_a_limit(client, login, ids):
    login("kc_clerk")
    html = page(client, "/notices/new")
    assert 'maxlength="200"' in html and "0 / 200 字" in html
    town = ids.unit("330802100")
    response = client.post("/notices/new", data=compose(ids, summary="要" * 201, subtree_ids=[town]))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="n-summary-error"' in text and "不能超过 200 个字符" in text
    assert 'value="关于开展森林防火检查的通知"' in text             # what was typed stays


@pytest.mark.parametrize("fields,field_id,message", [
    ({}, "audience-error", "发送范围不能为空"),
    ({"title": ""}, "n-title-error", "标题不能为空"),
    ({"summary": ""}, "n-summary-error", "不能为空"),
    ({"deadline": "下周一", "subtree": True}, "n-deadline-error", "请填写正确的日期和时间"),
    ({"deadline": "2020-01-01T09:00", "subtree": True}, "n-deadline-error", "截止时间须晚于发布时间"),
    ({"position_unit": [""], "position": ["村党组织书记"]}, "audience-error", "请为职务选择所在单位"),
])
def test_a_refused_form_shows_the_message_next_to_the_field(client, login, ids, fields, field_id, message):
    login("kc_clerk")
    if fields.pop("subtree", False):
        fields["subtree_ids"] = [ids.unit("330802100")]
    response = client.post("/notices/new", data=compose(ids, **fields))
    text = response.get_data(as_text=True)
    assert response.status_code == 400, text[:500]
    assert f'id="{field_id}"' in text and message in text


def test_an_audience_out_of_reach_is_refused_on_the_page(client, login, ids):
    login("sl_clerk")
    response = client.post("/notices/new", data=compose(ids, subtree_ids=[ids.unit("330802")]))
    assert response.status_code == 403 and "只能向石梁镇及其下级单位发布" in response.get_data(as_text=True)


def test_the_urgent_field_is_for_leaders_and_the_server_refuses_clerks(client, login, api, ids):
    login("kc_clerk")
    assert 'name="urgent"' not in page(client, "/notices/new")
    response = client.post("/notices/new", data=compose(
        ids, subtree_ids=[ids.unit("330802100")], urgent="1", urgent_reason="寒潮预警"))
    assert response.status_code == 403 and "只有领导可以发布紧急通知" in response.get_data(as_text=True)
    assert api("sl_clerk").get("/api/v1/inbox").get_json()["items"] == []
    login("kc_leader")
    assert 'name="urgent"' in page(client, "/notices/new")
    town = ids.unit("330802100")
    no_reason = client.post("/notices/new", data=compose(ids, subtree_ids=[town], urgent="1"))
    assert no_reason.status_code == 400 and 'id="n-reason-error"' in no_reason.get_data(as_text=True)
    sent = client.post("/notices/new", data=compose(ids, subtree_ids=[ids.unit("330802100")], urgent="1",
                                                    urgent_reason="寒潮预警，今晚降温"))
    assert sent.status_code == 302
    item = api("sl_clerk").get("/api/v1/inbox").get_json()["items"][0]
    assert item["urgent"] and item["urgent_reason"] == "寒潮预警，今晚降温"


# ---- After hours ------------------------------------------------------------------------------

def beijing(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


WEEKDAYS = Schedule(days="12345", start=time(8, 30), end=time(17, 30), holidays={})


@pytest.mark.parametrize("moment,expected", [
    (beijing(2026, 11, 20, 18, 0), beijing(2026, 11, 23, 8, 30)),      # Friday evening → Monday
    (beijing(2026, 11, 21, 10, 0), beijing(2026, 11, 23, 8, 30)),      # Saturday
    (beijing(2026, 11, 23, 7, 0), beijing(2026, 11, 23, 8, 30)),       # Monday before work
    (beijing(2026, 11, 23, 17, 30), beijing(2026, 11, 24, 8, 30)),     # the end is outside
    (beijing(2026, 11, 23, 10, 0), None),                              # during working hours
    (beijing(2026, 11, 23, 8, 30), None),
])
def test_next_working_start_on_a_plain_week(moment, expected):
    assert WEEKDAYS.next_working_start(moment) == expected


def test_next_working_start_skips_holidays_and_honours_adjusted_workdays():
    holidays = {date(2026, 10, d): False for d in range(1, 8)} | {date(2026, 10, 10): True}
    plan = Schedule(days="12345", start=time(9, 0), end=time(17, 0), holidays=holidays)
    assert plan.next_working_start(beijing(2026, 9, 30, 18, 0)) == beijing(2026, 10, 8, 9, 0)
    assert plan.next_working_start(beijing(2026, 10, 2, 10, 0)) == beijing(2026, 10, 8, 9, 0)
    assert plan.next_working_start(beijing(2026, 10, 9, 20, 0)) == beijing(2026, 10, 10, 9, 0)
    # A time given in UTC is read as Beijing time.
    utc = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)                   # Friday 18:00 in Beijing
    assert WEEKDAYS.next_working_start(utc) == beijing(2026, 11, 23, 8, 30)


def test_when_label():
    now = beijing(2026, 11, 20, 18, 0)
    assert pages.when_label(beijing(2026, 11, 23, 8, 30), now) == "周一 08:30"
    assert pages.when_label(beijing(2026, 12, 1, 8, 30), now) == "12月1日 周二 08:30"


@pytest.fixture
def friday_evening(monkeypatch):
    moment = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)         # 18:00 in Beijing
    monkeypatch.setattr(views, "utcnow", lambda: moment)
    return moment


def test_after_hours_the_form_defaults_to_the_next_working_period(client, login, friday_evening):
    login("kc_clerk")
    html = page(client, "/notices/new")
    assert 'name="publish_at" type="datetime-local" value="2026-11-23T08:30"' in html
    assert "现在是非工作时间，通知将在 周一 08:30 发出；如确需立即发送，请清空发布时间。" in html
    login("kc_leader")
    assert "请清空发布时间或标为紧急" in page(client, "/notices/new")


def test_during_working_hours_and_for_a_correction_nothing_is_deferred(client, login, api, ids, monkeypatch):
    notice = publish(api, ids)
    monday_morning = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)          # 10:00 in Beijing
    monkeypatch.setattr(views, "utcnow", lambda: monday_morning)
    login("kc_clerk")
    html = page(client, "/notices/new")
    assert 'name="publish_at" type="datetime-local" value=""' in html and "非工作时间" not in html
    friday_evening = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)         # 18:00 in Beijing
    monkeypatch.setattr(views, "utcnow", lambda: friday_evening)
    html = page(client, f"/notices/{notice}/correct")
    assert 'name="publish_at" type="datetime-local" value=""' in html and "非工作时间" not in html


def test_an_urgent_notice_ignores_the_after_hours_default(client, login, api, ids, friday_evening):
    login("kc_leader")
    town = ids.unit("330802100")
    response = client.post("/notices/new", data=compose(
        ids, subtree_ids=[town], urgent="1", urgent_reason="山洪预警",
        publish_at="2099-11-23T08:30", auto_publish_at="2099-11-23T08:30"))
    assert response.status_code == 302
    assert len(api("sl_clerk").get("/api/v1/inbox").get_json()["items"]) == 1


def test_a_scheduled_notice_waits(client, login, api, ids):
    login("kc_clerk")
    later = (datetime.now(TZ) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/notices/new", data=compose(
        ids, subtree_ids=[ids.unit("330802100")], publish_at=later, auto_publish_at=later))
    assert response.status_code == 302
    notice = int(response.headers["Location"].rsplit("/", 1)[1])
    assert api("sl_clerk").get("/api/v1/inbox").get_json()["items"] == []
    assert "定时发布：将于" in page(client, f"/notices/{notice}")


# ---- Coverage -----------------------------------------------------------------------------

def test_coverage_for_the_publisher_shows_bars_in_tree_order(client, login, api, ids):
    notice = publish(api, ids, audience={"subtrees": [ids.unit("330802")]}, requires_ack=True)
    api("mp_secretary").get(f"/api/v1/notices/{notice}")
    api("mp_secretary").post(f"/api/v1/notices/{notice}/ack")
    api("sl_leader").get(f"/api/v1/notices/{notice}")
    login("kc_clerk")
    html = page(client, f"/notices/{notice}/coverage")
    names = re.findall(r'<span class="cover-name">([^<]+)', html)
    # Tree order; the town's line (its subtree) and then its own row.
    assert names == ["柯城区人民政府办公室", "石梁镇", "石梁镇", "麻蓬村委会"]
    for key, n in (("audience", 7), ("read", 2), ("acked", 1)):
        assert f'data-count="{key}">{n}<' in html
    assert '<progress class="bar" data-bar="read" value="2" max="4" aria-label="石梁镇 已读">' in html
    assert "<details open>" in html                          # the town expands to its village
    for name in ("柯丽华", "吴文书", "郑主任", "周晓梅", "李秀英"):
        assert name in html.split('id="unread"')[1]
    assert "王建军" not in html.split('id="unread"')[1]
    assert "style=" not in html and "<script>" not in html.replace("<script src=", "")
    assert "read_at" not in html and "导出" not in html


def test_coverage_is_closed_to_recipients_and_other_units(client, login, api, ids):
    notice = publish(api, ids, audience={"subtrees": [ids.unit("330802")]})
    login("mp_secretary")
    page(client, f"/notices/{notice}/coverage", status=403)
    assert client.post(f"/notices/{notice}/remind").status_code == 403
    page(client, f"/notices/{notice}/correct", status=403)
    page(client, f"/notices/{notice}/revoke", status=403)
    login("qj_admin")
    page(client, f"/notices/{notice}/coverage", status=404)
    login("kc_admin")
    page(client, f"/notices/{notice}/coverage")


def test_the_unread_list_is_paginated_and_filtered_by_unit(client, login, api, ids, monkeypatch):
    notice = publish(api, ids, audience={"subtrees": [ids.unit("330802")]})
    monkeypatch.setattr(views, "UNREAD_PAGE", 3)
    login("kc_clerk")
    first = page(client, f"/notices/{notice}/coverage")
    shown = re.findall(r'<li data-user-id="(\d+)">', first)
    assert len(shown) == 3
    following = re.search(r'href="([^"]*after=(\d+)[^"]*)" data-next', first)
    assert following and int(following.group(2)) == int(shown[-1])
    second = page(client, html_lib.unescape(following.group(1)).split("#")[0])
    rest = re.findall(r'<li data-user-id="(\d+)">', second)
    assert len(rest) == 3 and not set(rest) & set(shown) and "回到第一页" in second
    village = page(client, f"/notices/{notice}/coverage?unit_id={ids.unit('330802100202')}")
    assert re.findall(r'<li data-user-id="(\d+)">', village) == sorted(
        [str(ids.user("mp_secretary")), str(ids.user("mp_director"))], key=int)


def test_remind_then_the_429_message(client, login, api, ids):
    notice = publish(api, ids)
    login("kc_clerk")
    response = client.post(f"/notices/{notice}/remind")
    assert response.status_code == 302
    assert "已提醒尚未阅读的人员" in page(client, f"/notices/{notice}/coverage")
    again = client.post(f"/notices/{notice}/remind")
    text = again.get_data(as_text=True)
    assert again.status_code == 429 and "每 4 小时最多提醒一次" in text and 'id="remind-error"' in text


def test_coverage_shows_the_feedback_counts(client, login, api, ids):
    notice = publish(api, ids)
    api("mp_secretary").post(f"/api/v1/notices/{notice}/feedback", json={"kind": "unnecessary"})
    login("kc_clerk")
    html = page(client, f"/notices/{notice}/coverage")
    assert 'data-feedback="unnecessary">1<' in html and 'data-feedback="duplicate">0<' in html


# ---- 更正 and 撤回 ----------------------------------------------------------------------------

def test_correct_prefills_the_form_and_flags_the_new_version(client, login, api, ids):
    village = ids.unit("330802100202")
    old = publish(api, ids, audience={"units": [village]}, requires_ack=True)
    api("mp_secretary").get(f"/api/v1/notices/{old}")
    login("kc_clerk")
    form = page(client, f"/notices/{old}/correct")
    assert 'value="关于做好冬季防火工作的通知"' in form
    assert "12月1日前完成辖区隐患排查并上报</textarea>" in form
    assert f'id="nu-{village}" name="unit_ids" value="{village}" checked' in form
    assert 'id="n-ack" name="requires_ack" value="1" checked' in form
    response = client.post(f"/notices/{old}/correct", data=compose(
        ids, title="关于做好冬季防火工作的通知", summary="改为12月5日前上报", unit_ids=[village],
        requires_ack="1"))
    assert response.status_code == 302
    new = int(response.headers["Location"].rsplit("/", 1)[1])
    assert new != old
    assert f'href="/notices/{new}"' in page(client, f"/notices/{old}")
    login("mp_secretary")
    inbox = page(client, "/inbox/")
    assert "改为12月5日前上报" in inbox and "已更正" in inbox
    html = page(client, f"/notices/{new}")
    assert f'href="/notices/{old}"' in html and "您读过原通知" in html
    again = client.post(f"/notices/{old}/correct", data=compose(ids, unit_ids=[village]))
    assert again.status_code == 403                          # recipients cannot correct


def test_revoke_needs_a_note_and_keeps_the_record(client, login, api, ids):
    notice = publish(api, ids, requires_ack=True)
    login("kc_clerk")
    assert 'name="note"' in page(client, f"/notices/{notice}/revoke")
    empty = client.post(f"/notices/{notice}/revoke", data={"note": "  "})
    assert empty.status_code == 400 and 'id="revoke-note-error"' in empty.get_data(as_text=True)
    response = client.post(f"/notices/{notice}/revoke", data={"note": "重复发送，以另文为准"})
    assert response.status_code == 302
    login("mp_secretary")
    html = page(client, f"/notices/{notice}")
    assert "已撤回" in html and "重复发送，以另文为准" in html and ">签收</button>" not in html
    inbox = page(client, "/inbox/")
    assert "已撤回：重复发送，以另文为准" in inbox


# ---- Naughty text --------------------------------------------------------------------------

NAUGHTY = {"title": "<script>alert(1)</script>", "summary": "{{7*7}} ${7*7} <b>粗</b> &amp;",
           "body": "<img src=x onerror=alert(1)>\n{{7*7}}\n{% raw %}'\"&"}


def test_naughty_text_from_the_form_is_stored_and_shown_exactly(client, login, api, ids):
    login("kc_clerk")
    response = client.post("/notices/new", data=compose(ids, subtree_ids=[ids.unit("330802100")], **NAUGHTY))
    assert response.status_code == 302
    notice = int(response.headers["Location"].rsplit("/", 1)[1])
    stored = api("mp_secretary").get(f"/api/v1/notices/{notice}").get_json()
    assert {k: stored[k] for k in NAUGHTY} == NAUGHTY
    login("mp_secretary")
    for path in (f"/notices/{notice}", "/inbox/"):
        html = page(client, path)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "{{7*7}} ${7*7} &lt;b&gt;粗&lt;/b&gt; &amp;amp;" in html and "49 ${7*7}" not in html
    html = page(client, f"/notices/{notice}")
    assert "&lt;img src=x onerror=alert(1)&gt;\n{{7*7}}\n{% raw %}&#39;&#34;&amp;" in html


def test_naughty_text_is_kept_when_a_form_is_refused(client, login, ids):
    login("kc_clerk")
    response = client.post("/notices/new", data=compose(ids, **NAUGHTY))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "{{7*7}} ${7*7} &lt;b&gt;粗&lt;/b&gt; &amp;amp;</textarea>" in html
