"""Mentions reach only people who can read the message (issue 13, finding 12).

The rule is checked as a sweep, not one case: every person of the cast has a
socket open while messages with every kind of mention are posted, edited,
acknowledged and withdrawn; then every event anyone received that names a
channel must name one they can read, and every mention or direct message in
anyone's inbox must be in a channel they can read.
"""
from __future__ import annotations

from datetime import date, timedelta

from hub.extensions import socketio
from tests.cast import PEOPLE, PASSWORD

# Everyone of the cast with a unit (the security admin and the auditor have none).
WITH_A_UNIT = [login for login, _name, unit, _position, _roles in PEOPLE if unit is not None]


def _connect_everyone(app) -> dict[str, tuple]:
    """login -> (socket, api token) for every person of the cast with a unit."""
    sockets = {}
    for login in WITH_A_UNIT:
        token = app.test_client().post("/api/v1/auth/token",
                                       json={"login": login, "password": PASSWORD}).get_json()["token"]
        client = socketio.test_client(app, auth={"token": token})
        assert client.is_connected(), login
        sockets[login] = (client, token)
    return sockets


def _payload(event: dict) -> dict:
    # The test client hands "message" events over unwrapped (it is Socket.IO's send()).
    return event["args"] if event["name"] == "message" else event["args"][0]


def _channel(api, login: str, name: str) -> int:
    return next(c["id"] for c in api(login).get("/api/v1/channels").get_json()["items"] if c["name"] == name)


def _post(person, channel: int, body: str, **extra) -> int:
    response = person.post(f"/api/v1/channels/{channel}/messages", json={"body": body, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_no_event_names_a_channel_its_receiver_cannot_read(app, api, ids):
    sockets = _connect_everyone(app)
    leader, clerk = api("sl_leader"), api("sl_clerk")
    town = _channel(api, "sl_leader", "石梁镇")          # read by 石梁镇's own people, not its villages'
    village = _channel(api, "mp_secretary", "麻蓬村委会")
    task = leader.post("/api/v1/channels", json={
        "name": "防汛专班", "purpose": "汛期值班", "unit_ids": [ids.unit("330802100")],
        "user_ids": [ids.user("mp_director")], "ends_on": (date.today() + timedelta(days=30)).isoformat()})
    assert task.status_code == 201, task.get_json()
    task, state = task.get_json()["id"], task.get_json()["state"]
    if state == "pending":
        assert api("kc_admin").post(f"/api/v1/channels/{task}/decision",
                                    json={"approve": True}).status_code == 200

    town_unit, village_unit = ids.unit("330802100"), ids.unit("330802100202")
    first = _post(leader, town, "今晚全镇防汛值班", mention_unit_ids=[town_unit],
                  mention_user_ids=[ids.user("sl_clerk")])
    _post(leader, task, "@李秀英 请报水位", mention_user_ids=[ids.user("mp_director")],
          mention_unit_ids=[town_unit])
    _post(api("mp_secretary"), village, "@麻蓬村委会 明早集合", mention_unit_ids=[village_unit])
    assert clerk.post(f"/api/v1/messages/{first}/ack").status_code == 200
    assert leader.patch(f"/api/v1/messages/{first}", json={"body": "今晚八点全镇防汛值班"}).status_code == 200
    assert api("mp_director").post(f"/api/v1/messages/{first}/reply-privately",
                                   json={"body": "村里也值班吗？"}).status_code == 404
    assert clerk.post(f"/api/v1/messages/{first}/reply-privately",
                      json={"body": "收到，几点交班？"}).status_code in (200, 201)
    assert leader.post(f"/api/v1/messages/{first}/withdraw").status_code == 200

    mentions: dict[str, list[int]] = {}
    leaks = []
    for login, (client, token) in sockets.items():
        reader = api(None)
        reader.token = token
        readable: dict[int, bool] = {}
        for event in client.get_received():
            payload = _payload(event)
            channel = payload.get("channel_id") if isinstance(payload, dict) else None
            if channel is None:
                continue
            if channel not in readable:
                readable[channel] = reader.get(f"/api/v1/channels/{channel}").status_code == 200
            if not readable[channel]:
                leaks.append(f"{login} got {event['name']} of channel {channel}")
            if event["name"] == "mention":
                mentions.setdefault(login, []).append(payload["message_id"])
        client.disconnect()
    assert leaks == []
    # @石梁镇 in its own channel reaches its two people once each (the clerk was
    # mentioned twice over), never the people of its villages, nor the author.
    assert mentions.get("sl_clerk", []).count(first) == 1
    assert "mp_secretary" not in mentions and "sl_leader" not in mentions
    assert len(mentions["mp_director"]) == 2                # the task channel, and 麻蓬村's own


def test_an_inbox_shows_mentions_only_in_channels_one_reads(app, api, ids):
    leader = api("sl_leader")
    town = _channel(api, "sl_leader", "石梁镇")
    _post(leader, town, "请周晓梅整理值班表", mention_user_ids=[ids.user("sl_clerk")])
    _post(leader, town, "@石梁镇 明天上午开会", mention_unit_ids=[ids.unit("330802100")])
    clerk = api("sl_clerk")

    def mentioned() -> list[str]:
        items = clerk.get("/api/v1/inbox?kind=mention").get_json()["items"]
        return sorted(item["summary"] for item in items)

    assert mentioned() == ["@石梁镇 明天上午开会", "请周晓梅整理值班表"]
    # Moved to a village: 石梁镇's channel is no longer theirs, nor what was said in it.
    moved = api("admin").patch(f"/api/v1/people/{ids.user('sl_clerk')}",
                               json={"unit_id": ids.unit("330802100202"), "position": "村文书"})
    assert moved.status_code == 200, moved.get_json()
    assert mentioned() == []
    every_item = clerk.get("/api/v1/inbox").get_json()["items"]
    assert [i for i in every_item if i["kind"] in ("mention", "direct") and i["channel_id"] == town] == []
