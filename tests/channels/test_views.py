"""The channel pages: the list, the message pane, the composer and the register."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from hub.channels import register_reads
from hub.channels.models import Channel, ChannelState, Mention, Message
from hub.db import utcnow
from hub.extensions import db
from hub.org.models import User
from hub.permissions import admin_scope
from tests.factories import page

SOON = (date.today() + timedelta(days=30)).isoformat()


def channel_named(person, name: str) -> int:
    items = person.get("/api/v1/channels").get_json()["items"]
    return next(c["id"] for c in items if c["name"] == name)




def new_task(person, ids, name: str, **targets) -> dict:
    body = {"name": name, "purpose": f"{name}的工作", "ends_on": SOON, **targets}
    response = person.post("/api/v1/channels", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# ---- The list ----------------------------------------------------------------------

def test_the_list_groups_channels_and_shows_unread_as_a_plain_number(client, login, api, ids):
    director = api("mp_director")
    village = channel_named(director, "麻蓬村委会")
    director.post(f"/api/v1/channels/{village}/messages", json={"body": "明早开会"})
    director.post(f"/api/v1/channels/{village}/messages", json={"body": "带上材料"})
    director.post("/api/v1/channels/direct", json={"user_id": ids.user("mp_secretary")})
    login("mp_secretary")
    html = page(client, "/channels/")
    for heading in ("我的单位", "专项工作群", "私信"):
        assert heading in html
    assert "麻蓬村委会" in html and 'data-unread="2"' in html
    assert "李秀英" in html                      # the direct channel is named after the other person
    assert "<title>频道 · 政务协同</title>" in html  # no total count in the title
    assert "badge" not in html


def test_a_pending_task_channel_shows_waiting_for_approval_to_its_creator(client, login, api, ids):
    new_task(api("sl_leader"), ids, "防汛专项", subtree_ids=[ids.unit("330802100")])
    login("sl_leader")
    html = page(client, "/channels/")
    assert "防汛专项" in html and "待审批" in html


def test_archived_task_channels_sit_in_a_collapsed_group(client, login, api, ids):
    clerk = api("sl_clerk")
    task = new_task(clerk, ids, "材料报送", unit_ids=[ids.unit("330802100")])
    clerk.post(f"/api/v1/channels/{task['id']}/archive")
    login("sl_clerk")
    html = page(client, "/channels/")
    archived = html.split('<details class="archived-group">', 1)[1].split("</details>", 1)[0]
    assert "已归档（1）" in archived and "材料报送" in archived


def test_creating_a_task_channel_through_the_form(client, login, ids):
    login("sl_clerk")
    response = client.post("/channels/tasks", data={
        "name": "材料报送", "purpose": "收集年度材料", "ends_on": SOON,
        "unit_ids": [str(ids.unit("330802100"))]}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "专项工作群「材料报送」已建立" in html and "<h1>材料报送" in html


def test_a_task_channel_beyond_ones_units_waits_for_approval(client, login, ids):
    login("sl_leader")
    response = client.post("/channels/tasks", data={
        "name": "防汛专项", "purpose": "汛期值守", "ends_on": SOON,
        "unit_ids": [str(ids.unit("330802100"))], "subtree_ids": [str(ids.unit("330802100"))],
        "user_ids": [str(ids.user("sf_member"))]}, follow_redirects=True)
    assert "等待管理员审批" in response.get_data(as_text=True)


def test_a_refused_task_form_keeps_what_was_chosen(client, login, ids):
    login("sl_clerk")
    town = ids.unit("330802100")
    response = client.post("/channels/tasks", data={"name": "材料报送", "purpose": "", "ends_on": SOON,
                                                    "unit_ids": [str(town)]})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "工作目的不能为空" in html
    assert f'id="tu-{town}" name="unit_ids" value="{town}" checked' in html


def test_the_list_searches_units_and_people_without_javascript(client, login):
    login("mp_secretary")
    html = page(client, "/channels/?unit_q=石梁镇 上方镇&person_q=徐志强")
    assert "石梁镇" in html and "上方镇" in html and "含下级单位" in html
    assert "徐志强（石梁镇 党委书记）" in html


def test_opening_a_direct_message_through_the_form(client, login, ids):
    login("mp_secretary")
    response = client.post("/channels/direct", data={"user_id": str(ids.user("sl_leader"))})
    assert response.status_code == 302
    html = page(client, response.headers["Location"])
    assert "<h1>徐志强" in html and "私信" in html
    refused = client.post("/channels/direct", data={}, follow_redirects=True)
    assert "请先查找并选择要私信的人" in refused.get_data(as_text=True)


# ---- The message pane ------------------------------------------------------------------

def test_the_pane_shows_the_body_escaped_exactly_as_typed(client, login, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    secretary.post(f"/api/v1/channels/{village}/messages", json={"body": "<script>alert(1)</script> & 'x'"})
    secretary.post(f"/api/v1/channels/{village}/messages",
                   json={"body": "重要", "html": "<b>重要</b><img src=x onerror=alert(1)>"})
    login("mp_director")
    html = page(client, f"/channels/{village}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;x&#39;" in html
    assert "<script>alert(1)</script>" not in html
    assert "<b>重要</b>" in html and "onerror" not in html
    assert "王建军" in html and "确认收到" in html


def test_message_times_are_beijing_time(app, client, login, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    message = secretary.post(f"/api/v1/channels/{village}/messages", json={"body": "早"}).get_json()
    with app.app_context():
        from datetime import datetime, timezone
        db.session.execute(update(Message).where(Message.id == message["id"]).values(
            created_at=datetime(utcnow().year, 11, 22, 6, 5, tzinfo=timezone.utc)))
        db.session.commit()
    login("mp_director")
    assert "11月22日 14:05" in page(client, f"/channels/{village}")


def test_choosing_a_topic_shows_only_its_messages(client, login, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    secretary.post(f"/api/v1/channels/{village}/messages", json={"body": "会议定在周五", "topic": "会议"})
    secretary.post(f"/api/v1/channels/{village}/messages", json={"body": "防汛物资清点", "topic": "防汛"})
    login("mp_director")
    everything = page(client, f"/channels/{village}")
    assert "会议定在周五" in everything and "防汛物资清点" in everything
    meeting = page(client, f"/channels/{village}?topic=会议")
    assert "会议定在周五" in meeting and "防汛物资清点" not in meeting
    assert 'data-topic="会议" aria-current="page"' in meeting


def test_older_messages_are_one_link_away(client, login, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    for n in range(52):
        secretary.post(f"/api/v1/channels/{village}/messages", json={"body": f"第{n}条"})
    login("mp_director")
    html = page(client, f"/channels/{village}")
    assert "第51条" in html and "第1条<" not in html and "更早的消息" in html
    older_id = int(html.split('data-older="', 1)[1].split('"', 1)[0])
    older = page(client, f"/channels/{village}?before={older_id}")
    assert "第0条" in older and "第1条" in older and "回到最新消息" in older


def test_posting_through_the_form_and_a_double_submit_makes_one_message(client, login, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    login("mp_director")
    form = {"body": "材料已备齐\r\n请查收", "topic": "会议", "client_msg_id": "form-1"}
    first = client.post(f"/channels/{village}/messages", data=form)
    again = client.post(f"/channels/{village}/messages", data=form)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    items = secretary.get(f"/api/v1/channels/{village}/messages").get_json()["items"]
    assert [(m["body"], m["topic"]) for m in items] == [("材料已备齐\n请查收", "会议")]


def test_a_mention_typed_on_the_page_reaches_the_inbox(app, client, login, api, ids):
    """"@王建军" typed in the composer (picked from the suggestions or not) is a
    mention of that member; "@麻蓬村委会" of the unit; a name of no member is text."""
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    login("mp_director")
    offered = client.get(f"/channels/{village}/mentions?q=王").get_json()["items"]
    assert offered == [{"kind": "user", "id": ids.user("mp_secretary"), "name": "王建军"}]
    units = client.get(f"/channels/{village}/mentions?q=麻蓬").get_json()["items"]
    assert units == [{"kind": "unit", "id": ids.unit("330802100202"), "name": "麻蓬村委会"}]
    assert client.get(f"/channels/{village}/mentions?q=吴").get_json()["items"] == []   # not a member
    body = "@王建军 请审核材料，@吴文书 也看看"
    assert client.post(f"/channels/{village}/messages", data={"body": body}).status_code == 302
    (item,) = [i for i in secretary.get("/api/v1/inbox").get_json()["items"] if i["kind"] == "mention"]
    assert item["summary"] == body
    with app.app_context():
        rows = db.session.execute(select(Mention.user_id, Mention.unit_id)
                                  .where(Mention.message_id == item["id"])).all()
    assert rows == [(ids.user("mp_secretary"), None)]
    client.post(f"/channels/{village}/messages", data={"body": "＠麻蓬村委会 周五开会"})
    with app.app_context():
        last = db.session.scalar(select(Mention.unit_id).order_by(Mention.id.desc()).limit(1))
    assert last == ids.unit("330802100202")


def test_a_reply_quotes_the_message_it_answers(client, login, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    asked = secretary.post(f"/api/v1/channels/{village}/messages",
                           json={"body": "明天上午九点村部开会，请带上巡查记录"}).get_json()["id"]
    login("mp_director")
    html = page(client, f"/channels/{village}?reply_to={asked}")
    assert f'name="reply_to" value="{asked}"' in html and "回复 王建军：明天上午九点村部开会" in html
    assert client.post(f"/channels/{village}/messages",
                       data={"body": "好的，我带上", "reply_to": str(asked)}).status_code == 302
    items = secretary.get(f"/api/v1/channels/{village}/messages").get_json()["items"]
    assert (items[-1]["body"], items[-1]["reply_to"]) == ("好的，我带上", asked)
    html = page(client, f"/channels/{village}")
    quote = f'<p class="msg-quote"><a href="#m-{asked}">回复 王建军：明天上午九点村部开会，请带上巡查记录</a>'
    assert quote in html
    assert 'name="reply_to" value=""' in html                              # not replying now
    refused = client.post(f"/channels/{village}/messages", data={"body": "好", "reply_to": "abc"})
    assert refused.status_code == 400 and "好" in refused.get_data(as_text=True)


def test_a_bare_shou_dao_through_the_form_is_an_acknowledgement(client, login, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    secretary.post(f"/api/v1/channels/{village}/messages", json={"body": "周五前交值班表"})
    login("mp_director")
    response = client.post(f"/channels/{village}/messages", data={"body": "收到", "client_msg_id": "ack-1"},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "已记为确认收到" in html and "1 人已确认收到" in html
    items = secretary.get(f"/api/v1/channels/{village}/messages").get_json()["items"]
    assert [m["body"] for m in items] == ["周五前交值班表"]


def test_a_refused_post_keeps_the_draft(client, login, api):
    village = channel_named(api("mp_secretary"), "麻蓬村委会")
    login("mp_director")
    response = client.post(f"/channels/{village}/messages",
                           data={"body": "字" * 10_001, "client_msg_id": "x"})
    assert response.status_code == 413
    assert "消息不能超过" in response.get_data(as_text=True)


def test_ack_edit_and_withdraw_buttons(client, login, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    message = secretary.post(f"/api/v1/channels/{village}/messages", json={"body": "九点开会"}).get_json()
    login("mp_director")
    client.post(f"/channels/messages/{message['id']}/ack")
    assert "1 人已确认收到" in page(client, f"/channels/{village}")
    refused = client.post(f"/channels/messages/{message['id']}/edit", data={"body": "x"},
                          follow_redirects=True)
    assert "只能编辑自己的消息" in refused.get_data(as_text=True)
    login("mp_secretary")
    client.post(f"/channels/messages/{message['id']}/edit", data={"body": "十点开会"})
    html = page(client, f"/channels/{village}")
    assert "十点开会" in html and "已编辑" in html
    client.post(f"/channels/messages/{message['id']}/withdraw")
    html = page(client, f"/channels/{village}")
    assert "此消息已撤回" in html and "十点开会" not in html


def test_an_archived_channel_is_read_only(client, login, api, ids):
    clerk = api("sl_clerk")
    task = new_task(clerk, ids, "材料报送", unit_ids=[ids.unit("330802100")])
    clerk.post(f"/api/v1/channels/{task['id']}/messages", json={"body": "材料请周五前交"})
    clerk.post(f"/api/v1/channels/{task['id']}/archive")
    login("sl_clerk")
    html = page(client, f"/channels/{task['id']}")
    assert "该频道已归档，只读" in html and "材料请周五前交" in html
    assert "data-composer" not in html and "确认收到</button>" not in html


def test_an_announcement_channel_lets_others_reply_privately(client, login, api, ids):
    login("sl_leader")
    response = client.post(f"/channels/announce/{ids.unit('330802100')}")
    channel = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/channels/{channel}/messages", data={"body": "周末值班安排见附件", "client_msg_id": "a1"})
    login("mp_secretary")
    html = page(client, f"/channels/{channel}")
    assert "仅本单位领导可发布，回复将私信发给发布人" in html and "私信回复" in html
    assert "data-composer" not in html


def test_a_channel_of_another_county_is_404(client, login, api):
    village = channel_named(api("mp_secretary"), "麻蓬村委会")
    login("sf_member")
    assert client.get(f"/channels/{village}").status_code == 404
    assert client.post(f"/channels/{village}/messages", data={"body": "hi"}).status_code == 404


# ---- The register --------------------------------------------------------------------

def test_the_register_shows_everything_to_the_system_admin(client, login, api, ids):
    new_task(api("sl_clerk"), ids, "材料报送", unit_ids=[ids.unit("330802100")])
    login("admin")
    html = page(client, "/channels/register?kind=all")
    assert "材料报送" in html and "上方镇" in html and "浙江省" in html
    assert "私信" not in html.split("<table", 1)[1]


def test_a_unit_admin_sees_only_channels_in_scope(client, login, api, ids):
    new_task(api("sl_clerk"), ids, "材料报送", unit_ids=[ids.unit("330802100")])
    login("kc_admin")
    html = page(client, "/channels/register?kind=all")
    assert "材料报送" in html and "麻蓬村委会" in html
    assert "上方镇" not in html and "衢江区" not in html
    login("qj_admin")
    html = page(client, "/channels/register?kind=all")
    assert "上方镇" in html and "材料报送" not in html


@pytest.mark.parametrize("person", ["mp_secretary", "sl_clerk", "sl_leader"])
def test_the_register_is_403_for_people_who_administer_nothing(client, login, person):
    login(person)
    assert client.get("/channels/register").status_code == 403


def test_approving_a_pending_task_channel_from_the_register(client, login, api, ids):
    task = new_task(api("sl_leader"), ids, "防汛专项", subtree_ids=[ids.unit("330802100")])
    login("kc_admin")
    html = page(client, "/channels/register")
    assert "待审批的专项工作群（1）" in html and "防汛专项的工作" in html
    response = client.post(f"/channels/register/{task['id']}/decision",
                           data={"approve": "1", "next": "/channels/register"}, follow_redirects=True)
    assert "已批准「防汛专项」" in response.get_data(as_text=True)
    assert api("mp_director").get(f"/api/v1/channels/{task['id']}").status_code == 200


def test_out_of_scope_admins_cannot_decide(client, login, api, ids):
    task = new_task(api("sl_leader"), ids, "防汛专项", subtree_ids=[ids.unit("330802100")])
    login("qj_admin")
    assert client.post(f"/channels/register/{task['id']}/decision", data={"approve": "1"}).status_code == 404


def test_archiving_from_the_register(client, login, api, ids):
    task = new_task(api("sl_clerk"), ids, "材料报送", unit_ids=[ids.unit("330802100")])
    login("kc_admin")
    response = client.post(f"/channels/register/{task['id']}/archive",
                           data={"next": "/channels/register?kind=task"})
    assert response.headers["Location"].endswith("/channels/register?kind=task")
    assert api("sl_clerk").get(f"/api/v1/channels/{task['id']}").get_json()["state"] == "archived"


def test_merging_overlapping_channels_from_the_register(client, login, api, ids):
    clerk = api("sl_clerk")
    first = new_task(clerk, ids, "材料报送", unit_ids=[ids.unit("330802100")])
    second = new_task(clerk, ids, "材料收集", unit_ids=[ids.unit("330802100")])
    login("kc_admin")
    html = page(client, "/channels/register")
    assert html.count(">重叠<") == 2 and "（成员重叠）" in html
    response = client.post(f"/channels/register/{first['id']}/merge",
                           data={"target_id": str(second["id"])}, follow_redirects=True)
    assert "已将「材料报送」并入「材料收集」" in response.get_data(as_text=True)
    merged = clerk.get(f"/api/v1/channels/{first['id']}").get_json()
    assert merged["state"] == "archived"
    login("sl_clerk")
    assert "已并入" in page(client, f"/channels/{first['id']}")


def test_a_refused_register_action_is_a_flash_not_a_500(client, login, api, ids):
    task = new_task(api("sl_clerk"), ids, "材料报送", unit_ids=[ids.unit("330802100")])
    login("kc_admin")
    response = client.post(f"/channels/register/{task['id']}/merge", data={"target_id": str(task["id"])},
                           follow_redirects=True)
    assert response.status_code == 200 and "只能合并两个不同的专项工作群" in response.get_data(as_text=True)


def test_the_register_flags_idle_channels(app, client, login, api, ids):
    task = new_task(api("sl_clerk"), ids, "材料报送", unit_ids=[ids.unit("330802100")])
    login("kc_admin")
    assert ">闲置<" not in page(client, "/channels/register")
    with app.app_context():
        db.session.execute(update(Channel).where(Channel.id == task["id"]).values(
            created_at=utcnow() - timedelta(days=45)))
        db.session.commit()
    assert ">闲置<" in page(client, "/channels/register")


# ---- register_reads, directly -----------------------------------------------------------

def test_weekly_counts_average_the_last_four_weeks_in_one_query(app, api):
    secretary = api("mp_secretary")
    village = channel_named(secretary, "麻蓬村委会")
    ids = [secretary.post(f"/api/v1/channels/{village}/messages", json={"body": f"第{n}条"}).get_json()["id"]
           for n in range(9)]
    with app.app_context():              # after the requests: an outer app context would share `g`
        db.session.execute(update(Message).where(Message.id == ids[0]).values(
            created_at=utcnow() - timedelta(weeks=5)))
        db.session.commit()
        assert register_reads.weekly_counts([village]) == {village: 2.0}
        assert register_reads.weekly_counts()[village] == 2.0
        assert register_reads.weekly_counts([]) == {}


def test_is_idle_counts_from_the_last_message_or_the_creation(cast):
    now = utcnow()
    fresh = Channel(name="新群", created_at=now - timedelta(days=3))
    long_ago = now - timedelta(days=90)
    quiet = Channel(name="旧群", created_at=long_ago, last_message_at=now - timedelta(days=31))
    busy = Channel(name="忙群", created_at=long_ago, last_message_at=now - timedelta(days=2))
    assert [register_reads.is_idle(c, now=now) for c in (fresh, quiet, busy)] == [False, True, False]


def test_overlap_pairs_use_intersection_over_union():
    sets = {1: {1, 2, 3, 4, 5}, 2: {1, 2, 3, 4, 5, 6}, 3: {1, 2, 3}, 4: set(), 5: set()}
    assert register_reads.similarity(sets[1], sets[2]) == pytest.approx(5 / 6)
    assert register_reads.overlap_pairs(sets) == [(1, 2, pytest.approx(5 / 6))]
    assert register_reads.overlap_pairs({1: {1, 2, 3, 4}, 2: {1, 2, 3, 4, 5}}) == [(1, 2, 0.8)]


def test_register_channels_follow_the_admin_scope(app, api, ids):
    task = new_task(api("sl_clerk"), ids, "材料报送", unit_ids=[ids.unit("330802100")])
    with app.app_context():
        def names(login: str) -> set[str]:
            user = db.session.scalar(select(User).where(User.login == login))
            return {c.name for c in db.session.scalars(register_reads.register_channels(admin_scope(user)))}
        assert {"材料报送", "柯城区", "麻蓬村委会"} <= names("kc_admin")
        assert "上方镇" not in names("kc_admin") and "材料报送" not in names("qj_admin")
        assert "浙江省" in names("admin")
        rows = register_reads.register_rows([db.session.get(Channel, task["id"])])
        assert rows[0].member_count == 2 and rows[0].per_week == 0 and not rows[0].overlaps
        assert not rows[0].idle and rows[0].channel.state == ChannelState.ACTIVE


def test_odd_ids_in_forms_and_links_are_refused_not_500(client, login, api):
    village = channel_named(api("mp_secretary"), "麻蓬村委会")
    login("sl_clerk")
    for bad in ("²", "٣", "9" * 5000, "-1", "0"):
        response = client.post("/channels/tasks", data={"name": "x", "purpose": "y", "ends_on": SOON,
                                                        "unit_ids": [bad]})
        assert response.status_code == 400 and "所选项目无效" in response.get_data(as_text=True)
        assert client.post("/channels/direct", data={"user_id": bad}).status_code == 302
    login("mp_secretary")
    assert client.get(f"/channels/{village}?before=²").status_code == 200
    login("admin")
    assert client.get("/channels/register?page=9999999999999&kind=<x>").status_code == 200


def test_the_unit_search_for_the_task_form_answers_json_with_trails(client, login):
    login("mp_secretary")
    items = client.get("/channels/units/choices?q=麻蓬 上方").get_json()["items"]
    assert [(u["name"], u["trail"]) for u in items] == [
        ("麻蓬村委会", "浙江省 › 衢州市 › 柯城区 › 石梁镇"), ("上方镇", "浙江省 › 衢州市 › 衢江区")]
