"""The inbox skips the sources that cannot have anything for a person (no
post that handles documents and no task; no direct channel and no mention):
whatever reaches them later makes the source count again."""
from __future__ import annotations

from hub.extensions import db
from hub.inbox.queries import Sources, sources_of
from hub.org.models import User
from tests.documents.test_views import api_step, dispatched


def sources(app, ids, login: str) -> Sources:
    with app.app_context():
        return sources_of(db.session.get(User, ids.user(login)))


def inbox_kinds(api, login: str) -> list[str]:
    data = api(login).get("/api/v1/inbox").get_json()
    return [item["kind"] for item in data["items"]]


def _channel(api, login: str, name: str) -> int:
    items = api(login).get("/api/v1/channels").get_json()["items"]
    return next(c["id"] for c in items if c["name"] == name)


def test_a_village_cadre_with_nothing_skips_documents_and_messages(app, ids):
    assert sources(app, ids, "mp_director") == Sources(documents=False, messages=False)
    # A clerk of a unit may always have documents.
    assert sources(app, ids, "sl_clerk").documents is True


def test_a_mention_of_their_unit_makes_messages_count(app, api, ids):
    village = _channel(api, "mp_secretary", "麻蓬村委会")
    message = api("mp_secretary").post(f"/api/v1/channels/{village}/messages", json={
        "body": "@麻蓬村委会 明早集合", "mention_unit_ids": [ids.unit("330802100202")]})
    assert message.status_code == 201, message.get_json()
    assert sources(app, ids, "mp_director").messages is True
    assert "mention" in inbox_kinds(api, "mp_director")


def test_a_direct_channel_makes_messages_count(app, api, ids):
    leader = api("sl_leader")
    direct = leader.post("/api/v1/channels/direct", json={"user_id": ids.user("mp_director")})
    direct = direct.get_json()["id"]
    assert sources(app, ids, "mp_director").messages is True
    leader.post(f"/api/v1/channels/{direct}/messages", json={"body": "明天来镇里开会"})
    assert inbox_kinds(api, "mp_director") == ["direct"]


def test_a_task_on_a_document_makes_documents_count(app, api, ids):
    document = dispatched(app, api, ids)
    for action in ("sign_for", "register"):
        api_step(api, document, "sl_clerk", action)
    api_step(api, document, "sl_clerk", "circulate", user_ids=[ids.user("mp_director")])
    assert sources(app, ids, "mp_director") == Sources(documents=True, messages=False)
    data = api("mp_director").get("/api/v1/inbox").get_json()
    assert [i["kind"] for i in data["items"]] == ["document"] and data["documents_waiting"] == 1
