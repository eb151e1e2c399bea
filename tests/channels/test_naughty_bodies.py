"""Naughty strings as message bodies are stored and returned exactly."""
from __future__ import annotations

import json


from tests.naughty import naughty_strings



def test_every_naughty_body_comes_back_exactly(api):
    person = api("mp_secretary")
    channel = next(c["id"] for c in person.get("/api/v1/channels").get_json()["items"])
    sent = []
    for n, raw in enumerate(naughty_strings()):
        body = raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
        payload = json.dumps({"body": body, "client_msg_id": f"blns-{n}", "topic": "测试"},
                             ensure_ascii=False).encode("utf-8")
        response = person.post(f"/api/v1/channels/{channel}/messages", data=payload,
                               content_type="application/json")
        assert response.status_code in (200, 201, 400), (body, response.status_code)
        if response.status_code == 201:
            sent.append((response.get_json()["id"], body))
        elif response.status_code == 200:
            # a bare acknowledgement ("OK", "👍") — or nothing to acknowledge yet
            assert "acknowledged" in response.get_json()
        else:
            assert response.get_json()["error"]["field"] == "body"
    stored = {}
    after = 0
    while True:
        page = person.get(f"/api/v1/channels/{channel}/messages?after={after}&limit=200").get_json()
        stored.update({m["id"]: m["body"] for m in page["items"]})
        if not page["next"]:
            break
        after = page["next"]
    assert len(sent) > 400
    assert all(stored[message_id] == body for message_id, body in sent)


def test_private_reply_to_an_announcement_goes_to_its_author(api, ids):
    leader = api("sl_leader")
    channel = leader.post(f"/api/v1/units/{ids.unit('330802100')}/announcements").get_json()
    notice = leader.post(f"/api/v1/channels/{channel['id']}/messages",
                         json={"body": "本周六全镇大扫除"}).get_json()
    member = api("mp_secretary")
    assert member.post(f"/api/v1/channels/{channel['id']}/messages",
                       json={"body": "村里人手不够"}).status_code == 403
    reply = member.post(f"/api/v1/messages/{notice['id']}/reply-privately",
                        json={"body": "村里人手不够，能否调剂？"})
    assert reply.status_code == 201
    direct = reply.get_json()["channel_id"]
    assert direct != channel["id"]
    inbox = leader.get(f"/api/v1/channels/{direct}/messages").get_json()["items"]
    assert [m["body"] for m in inbox] == ["村里人手不够，能否调剂？"]
    assert api("mp_director").get(f"/api/v1/channels/{direct}").status_code == 404
