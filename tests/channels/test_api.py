"""Channels and messages through the API (API.md "Channels and messages")."""
from __future__ import annotations

from datetime import date, timedelta


def unit_channel_id(person, code_name: str) -> int:
    channels = person.get("/api/v1/channels").get_json()["items"]
    return next(c["id"] for c in channels if c["kind"] == "unit" and c["name"] == code_name)


def test_a_person_sees_the_channel_of_each_of_their_units(api):
    channels = api("mp_secretary").get("/api/v1/channels").get_json()["items"]
    assert [(c["kind"], c["name"]) for c in channels] == [("unit", "麻蓬村委会")]
    assert channels[0]["unread"] == 0


def test_post_and_read_back_oldest_first_after_an_id(api):
    secretary, director = api("mp_secretary"), api("mp_director")
    channel = unit_channel_id(secretary, "麻蓬村委会")
    first = secretary.post(f"/api/v1/channels/{channel}/messages",
                           json={"body": "明天上午九点村委会议", "topic": "会议", "client_msg_id": "a1"})
    assert first.status_code == 201
    message = first.get_json()
    assert {"id", "channel_id", "author", "body", "topic", "client_msg_id", "created_at",
            "acks"} <= set(message)
    second = director.post(f"/api/v1/channels/{channel}/messages",
                           json={"body": "我来准备材料", "topic": "会议", "client_msg_id": "b1"})
    page = director.get(f"/api/v1/channels/{channel}/messages?after={message['id']}").get_json()
    assert [m["id"] for m in page["items"]] == [second.get_json()["id"]]
    assert next(c for c in secretary.get("/api/v1/channels").get_json()["items"])["unread"] == 1


def test_the_same_client_msg_id_returns_the_first_message(api):
    secretary = api("mp_secretary")
    channel = unit_channel_id(secretary, "麻蓬村委会")
    body = {"body": "请各组报送名单", "client_msg_id": "retry-1"}
    first = secretary.post(f"/api/v1/channels/{channel}/messages", json=body)
    again = secretary.post(f"/api/v1/channels/{channel}/messages", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    items = secretary.get(f"/api/v1/channels/{channel}/messages").get_json()["items"]
    assert len(items) == 1


def test_shou_dao_becomes_an_acknowledgement_not_a_message(api):
    secretary, director = api("mp_secretary"), api("mp_director")
    channel = unit_channel_id(secretary, "麻蓬村委会")
    notice = secretary.post(f"/api/v1/channels/{channel}/messages",
                            json={"body": "周五前交防汛值班表", "client_msg_id": "n1"}).get_json()
    reply = director.post(f"/api/v1/channels/{channel}/messages",
                          json={"body": "收到！", "client_msg_id": "r1"})
    assert reply.status_code == 200
    assert reply.get_json()["acknowledged"] == notice["id"]
    again = director.post(f"/api/v1/channels/{channel}/messages", json={"body": "👍", "client_msg_id": "r2"})
    assert again.get_json()["acknowledged"] == notice["id"]
    items = secretary.get(f"/api/v1/channels/{channel}/messages").get_json()["items"]
    assert [(m["body"], m["acks"]) for m in items] == [("周五前交防汛值班表", 1)]


def test_posting_where_you_are_not_a_member_is_404_or_403(api, ids):
    outsider = api("sf_member")
    channel = unit_channel_id(api("mp_secretary"), "麻蓬村委会")
    response = outsider.post(f"/api/v1/channels/{channel}/messages", json={"body": "hi"})
    assert response.status_code == 404


def test_body_over_ten_thousand_characters_is_413(api):
    secretary = api("mp_secretary")
    channel = unit_channel_id(secretary, "麻蓬村委会")
    response = secretary.post(f"/api/v1/channels/{channel}/messages", json={"body": "字" * 10_001})
    assert response.status_code == 413 and response.get_json()["error"]["field"] == "body"


def test_rich_text_is_sanitized_and_body_kept_exactly(api):
    secretary = api("mp_secretary")
    channel = unit_channel_id(secretary, "麻蓬村委会")
    body = "<script>alert(1)</script> & 'quotes'"
    message = secretary.post(f"/api/v1/channels/{channel}/messages", json={
        "body": body, "html": "<b>重要</b><img src=x onerror=alert(1)><script>x</script>"}).get_json()
    assert message["body"] == body
    assert message["html"] == "<b>重要</b>"


def test_edit_keeps_history_and_withdraw_hides_the_text(api):
    secretary = api("mp_secretary")
    channel = unit_channel_id(secretary, "麻蓬村委会")
    message = secretary.post(f"/api/v1/channels/{channel}/messages", json={"body": "九点开会"}).get_json()
    edited = secretary.patch(f"/api/v1/messages/{message['id']}", json={"body": "十点开会"}).get_json()
    assert edited["body"] == "十点开会" and edited["edited_at"]
    assert api("mp_director").patch(f"/api/v1/messages/{message['id']}",
                                     json={"body": "x"}).status_code == 403
    withdrawn = secretary.post(f"/api/v1/messages/{message['id']}/withdraw").get_json()
    assert withdrawn["withdrawn"] and "十点" not in withdrawn["body"]


def test_mark_read_clears_unread(api):
    secretary, director = api("mp_secretary"), api("mp_director")
    channel = unit_channel_id(secretary, "麻蓬村委会")
    last = secretary.post(f"/api/v1/channels/{channel}/messages", json={"body": "通知"}).get_json()
    assert director.get(f"/api/v1/channels/{channel}").get_json()["unread"] == 1
    director.post(f"/api/v1/channels/{channel}/read", json={"up_to": last["id"]})
    assert director.get(f"/api/v1/channels/{channel}").get_json()["unread"] == 0


def test_task_channel_across_units_waits_for_approval(api, ids):
    leader = api("sl_leader")
    body = {"name": "防汛专项", "purpose": "汛期值守调度",
            "ends_on": (date.today() + timedelta(days=30)).isoformat(),
            "subtree_ids": [ids.unit("330802100")], "user_ids": [ids.user("sf_member")]}
    created = leader.post("/api/v1/channels", json=body)
    assert created.status_code == 201 and created.get_json()["state"] == "pending"
    channel = created.get_json()["id"]
    assert api("qj_admin").post(f"/api/v1/channels/{channel}/decision",     # not in their scope
                                json={"approve": True}).status_code == 404
    assert api("mp_director").post(f"/api/v1/channels/{channel}/decision",  # administers nothing
                                   json={"approve": True}).status_code == 403
    beyond = api("kc_admin").post(f"/api/v1/channels/{channel}/decision",     # 陈国平 is in 衢江区
                                  json={"approve": True})
    assert beyond.status_code == 403
    approved = api("admin").post(f"/api/v1/channels/{channel}/decision", json={"approve": True})
    assert approved.get_json()["state"] == "active"
    names = [c["name"] for c in api("mp_director").get("/api/v1/channels").get_json()["items"]]
    assert "防汛专项" in names
    assert "防汛专项" in [c["name"] for c in api("sf_member").get("/api/v1/channels").get_json()["items"]]


def test_archived_task_channel_refuses_posts_with_409(api, ids):
    clerk = api("sl_clerk")
    created = clerk.post("/api/v1/channels", json={
        "name": "材料报送", "purpose": "收集材料", "ends_on": date.today().isoformat(),
        "unit_ids": [ids.unit("330802100")]}).get_json()
    assert created["state"] == "active"
    clerk.post(f"/api/v1/channels/{created['id']}/archive")
    response = clerk.post(f"/api/v1/channels/{created['id']}/messages", json={"body": "还有吗"})
    assert response.status_code == 409


def test_direct_channel_between_two_people(api, ids):
    secretary = api("mp_secretary")
    channel = secretary.post("/api/v1/channels/direct", json={"user_id": ids.user("sl_leader")}).get_json()
    again = secretary.post("/api/v1/channels/direct", json={"user_id": ids.user("sl_leader")}).get_json()
    assert channel["id"] == again["id"] and channel["kind"] == "direct"
    secretary.post(f"/api/v1/channels/{channel['id']}/messages", json={"body": "徐书记好"})
    assert api("sl_leader").get(f"/api/v1/channels/{channel['id']}").get_json()["unread"] == 1
    assert api("mp_director").get(f"/api/v1/channels/{channel['id']}").status_code == 404


def test_task_channels_past_their_end_date_are_archived_by_the_job(app, api, ids):
    from hub.channels.actions import archive_ended_channels
    from hub.extensions import db
    from hub.channels.models import Channel
    clerk = api("sl_clerk")
    created = clerk.post("/api/v1/channels", json={
        "name": "秋收", "purpose": "秋收进度", "ends_on": date.today().isoformat(),
        "unit_ids": [ids.unit("330802100")]}).get_json()
    with app.app_context():
        assert archive_ended_channels(date.today()) == 0
        assert archive_ended_channels(date.today() + timedelta(days=1)) == 1
        assert db.session.get(Channel, created["id"]).state == "archived"
    result = app.test_cli_runner().invoke(args=["hub", "run-jobs"])
    assert result.exit_code == 0 and "archived_channels" in result.output
    found = clerk.get(f"/api/v1/channels/{created['id']}").get_json()
    assert found["state"] == "archived" and found["can_post"] is False


def test_unit_channel_follows_a_rename_and_direct_channels_show_the_other_person(api, ids):
    api("kc_admin").patch(f"/api/v1/units/{ids.unit('330802100202')}", json={"name": "麻蓬村"})
    names = [c["name"] for c in api("mp_secretary").get("/api/v1/channels").get_json()["items"]]
    assert names == ["麻蓬村"]
    channel = api("mp_secretary").post("/api/v1/channels/direct",
                                       json={"user_id": ids.user("sl_leader")}).get_json()
    assert channel["name"] == "徐志强"
    assert api("sl_leader").get(f"/api/v1/channels/{channel['id']}").get_json()["name"] == "王建军"
