"""Real time: who receives which event, and who must not."""
from __future__ import annotations

from tests.factories import connect




def events(client, name: str) -> list[dict]:
    """The `name` events received since the last call. It empties the client's
    queue of every event, so read once and filter when a test needs several kinds."""
    # The test client hands "message" events over unwrapped (it is Socket.IO's send()).
    return [e["args"] if name == "message" else e["args"][0]
            for e in client.get_received() if e["name"] == name]


def unit_channel(api, login: str, name: str) -> int:
    return next(c["id"] for c in api(login).get("/api/v1/channels").get_json()["items"] if c["name"] == name)


def test_send_is_acknowledged_with_the_id_and_reaches_members_only(app, api):
    channel = unit_channel(api, "mp_secretary", "麻蓬村委会")
    sender, member, outsider = (connect(app, "mp_secretary"), connect(app, "mp_director"),
                                connect(app, "sl_clerk"))
    ack = sender.emit("send", {"channel_id": channel, "body": "今晚巡河", "client_msg_id": "s1"},
                      callback=True)
    assert isinstance(ack["id"], int)
    received = events(member, "message")
    assert [(m["id"], m["body"], m["client_msg_id"]) for m in received] == [(ack["id"], "今晚巡河", "s1")]
    assert events(outsider, "message") == []
    retry = sender.emit("send", {"channel_id": channel, "body": "今晚巡河", "client_msg_id": "s1"},
                        callback=True)
    assert retry["id"] == ack["id"] and events(member, "message") == []


def test_send_to_a_foreign_channel_gets_an_error_ack(app, api):
    channel = unit_channel(api, "mp_secretary", "麻蓬村委会")
    outsider = connect(app, "sf_member")
    answer = outsider.emit("send", {"channel_id": channel, "body": "hi"}, callback=True)
    assert answer["error"]["code"] == "not_found"
    bad = outsider.emit("send", {"body": "hi"}, callback=True)
    assert bad["error"]["field"] == "channel_id"


def test_ack_event_carries_the_new_count(app, api):
    channel = unit_channel(api, "mp_secretary", "麻蓬村委会")
    sender, member = connect(app, "mp_secretary"), connect(app, "mp_director")
    first = sender.emit("send", {"channel_id": channel, "body": "明早八点集合"}, callback=True)
    answer = member.emit("send", {"channel_id": channel, "body": "收到"}, callback=True)
    assert answer == {"acknowledged": first["id"]}
    received = sender.get_received()          # read once: get_received() empties the queue
    acks = [e["args"][0] for e in received if e["name"] == "ack"]
    assert acks == [{"channel_id": channel, "message_id": first["id"], "acks": 1}]
    # The bare "收到" became the ack and no message: the only message the sender
    # saw is its own first one.
    assert [e["args"]["id"] for e in received if e["name"] == "message"] == [first["id"]]


def test_a_transferred_person_changes_rooms_without_reconnecting(app, api, ids):
    village = unit_channel(api, "mp_secretary", "麻蓬村委会")
    town = unit_channel(api, "sl_clerk", "石梁镇")
    moved = connect(app, "mp_director")
    api("kc_admin").patch(f"/api/v1/people/{ids.user('mp_director')}",
                          json={"unit_id": ids.unit("330802100"), "position": "镇干部"})
    moved.get_received()
    api("mp_secretary").post(f"/api/v1/channels/{village}/messages", json={"body": "村里的事"})
    api("sl_clerk").post(f"/api/v1/channels/{town}/messages", json={"body": "镇里的事"})
    assert [m["body"] for m in events(moved, "message")] == ["镇里的事"]


def test_an_approved_task_channel_joins_live_sockets(app, api, ids):
    from datetime import date, timedelta
    member = connect(app, "sf_member")
    created = api("sl_leader").post("/api/v1/channels", json={
        "name": "联防", "purpose": "两地联防", "ends_on": (date.today() + timedelta(days=9)).isoformat(),
        "user_ids": [ids.user("sf_member")]}).get_json()
    # It reaches 衢江区 too: beyond 柯城区's admin, so the system admin approves.
    assert api("kc_admin").post(f"/api/v1/channels/{created['id']}/decision",
                                json={"approve": True}).status_code == 403
    api("admin").post(f"/api/v1/channels/{created['id']}/decision", json={"approve": True})
    api("sl_leader").post(f"/api/v1/channels/{created['id']}/messages", json={"body": "今晚联防"})
    assert [m["body"] for m in events(member, "message")] == ["今晚联防"]
