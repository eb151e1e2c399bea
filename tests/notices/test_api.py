"""Notices and the inbox through the API: audience, receipts, coverage, limits."""
from __future__ import annotations

import pytest

from tests.factories import connect, notice_body, publish_to_town


def test_a_subtree_notice_reaches_every_level_below_and_nobody_outside(api, ids):
    office = api("kc_clerk")
    body = notice_body({"subtrees": [ids.unit("330802100")]})
    preview = office.post("/api/v1/notices/preview", json={"audience": body["audience"]}).get_json()
    assert preview == {"people": 4, "units": 2}
    created = office.post("/api/v1/notices", json=body)
    assert created.status_code == 201 and created.get_json()["audience_count"] == 4
    notice = created.get_json()["id"]
    for login in ("sl_clerk", "sl_leader", "mp_secretary", "mp_director"):
        items = api(login).get("/api/v1/inbox").get_json()["items"]
        assert [(i["kind"], i["id"], i["read"]) for i in items] == [("notice", notice, False)], login
    for login in ("sf_member", "kc_leader", "qj_admin"):
        assert api(login).get("/api/v1/inbox").get_json()["items"] == [], login
        assert api(login).get(f"/api/v1/notices/{notice}").status_code == 404


def test_opening_writes_the_receipt_once_and_coverage_adds_up(api, ids):
    office = api("kc_clerk")
    notice = publish_to_town(api, ids, audience={"subtrees": [ids.unit("330802")]}, requires_ack=True)
    reader = api("mp_secretary")
    assert reader.get("/api/v1/inbox").get_json()["unread"] == 1
    for _ in range(2):
        assert reader.get(f"/api/v1/notices/{notice}").status_code == 200
    assert reader.get("/api/v1/inbox").get_json()["unread"] == 0
    assert reader.post(f"/api/v1/notices/{notice}/ack").status_code == 200
    api("sl_leader").get(f"/api/v1/notices/{notice}")
    cover = office.get(f"/api/v1/notices/{notice}/receipts").get_json()
    assert (cover["audience_count"], cover["read_count"], cover["acked_count"]) == (7, 2, 1)
    assert sum(r["audience"] for r in cover["by_unit"]) == cover["audience_count"]
    assert sum(r["read"] for r in cover["by_unit"]) == cover["read_count"]
    assert [r["name"] for r in cover["by_unit"]] == ["柯城区人民政府办公室", "石梁镇", "麻蓬村委会"]
    assert {u["name"] for u in cover["unread"]} == {"柯丽华", "吴文书", "郑主任", "周晓梅", "李秀英"}
    assert "read_at" not in str(cover)


def test_only_the_publisher_and_publishing_unit_admins_see_coverage(api, ids):
    notice = publish_to_town(api, ids, audience={"subtrees": [ids.unit("330802")]})
    assert api("kc_admin").get(f"/api/v1/notices/{notice}/receipts").status_code == 200
    assert api("mp_secretary").get(f"/api/v1/notices/{notice}/receipts").status_code == 403
    assert api("qj_admin").get(f"/api/v1/notices/{notice}/receipts").status_code == 404


def test_one_reminder_per_four_hours(api, ids):
    office = api("kc_clerk")
    notice = publish_to_town(api, ids, audience={"units": [ids.unit("330802100")]})
    assert office.post(f"/api/v1/notices/{notice}/remind").status_code == 200
    again = office.post(f"/api/v1/notices/{notice}/remind")
    assert again.status_code == 429 and again.get_json()["error"]["code"] == "too_soon"
    assert api("sl_clerk").post(f"/api/v1/notices/{notice}/remind").status_code == 403


@pytest.mark.parametrize("change,field,status", [
    ({"summary": "要" * 201}, "summary", 400),
    ({"summary": ""}, "summary", 400),
    ({"title": ""}, "title", 400),
    ({"audience": {}}, "audience", 400),
    ({"urgent": True}, "urgent_reason", 400),
    ({"audience": {"subtrees": ["x"]}}, "audience.subtrees", 400),
    ({"deadline": "2026-13-01"}, "deadline", 400),
])
def test_bad_notices_are_refused_with_the_field(api, ids, change, field, status):
    response = api("kc_leader").post("/api/v1/notices", json={
        **notice_body({"subtrees": [ids.unit("330802")]}), **change})
    assert response.status_code == status and response.get_json()["error"]["field"] == field


def test_who_may_publish_where(api, ids):
    body = notice_body({"subtrees": [ids.unit("330803")]})
    assert api("kc_clerk").post("/api/v1/notices", json=body).status_code == 403     # another county
    village = [ids.unit("330802100202")]
    member = api("mp_director").post("/api/v1/notices", json=notice_body({"units": village}))
    assert member.status_code == 403                                                 # not clerk/leader
    urgent = {**notice_body({"subtrees": [ids.unit("330802")]}), "urgent": True, "urgent_reason": "寒潮预警"}
    assert api("kc_clerk").post("/api/v1/notices", json=urgent).status_code == 403   # clerks cannot
    assert api("kc_leader").post("/api/v1/notices", json=urgent).status_code == 201


def test_positions_within_a_subtree(api, ids):
    body = notice_body({"positions": [{"unit_id": ids.unit("330802"), "position": "党支部书记"}]})
    notice = api("kc_clerk").post("/api/v1/notices", json=body).get_json()
    assert notice["audience_count"] == 1
    assert [i["id"] for i in api("mp_secretary").get("/api/v1/inbox").get_json()["items"]] == [notice["id"]]
    assert api("mp_director").get("/api/v1/inbox").get_json()["items"] == []


def test_correction_is_flagged_for_those_who_read_the_old_version(api, ids):
    office = api("kc_clerk")
    body = notice_body({"units": [ids.unit("330802100202")]})
    old = office.post("/api/v1/notices", json=body).get_json()["id"]
    api("mp_secretary").get(f"/api/v1/notices/{old}")
    new = office.post(f"/api/v1/notices/{old}/correct", json={**body, "summary": "改为12月5日前上报"})
    assert new.status_code == 201
    secretary = api("mp_secretary").get("/api/v1/inbox").get_json()["items"]
    assert [(i["id"], i["corrected"], i["version"]) for i in secretary] == [(new.get_json()["id"], True, 2)]
    director = api("mp_director").get("/api/v1/inbox").get_json()["items"]
    assert [(i["id"], i["corrected"]) for i in director] == [(new.get_json()["id"], False)]


def test_revoke_keeps_the_record_with_a_note(api, ids):
    office = api("kc_clerk")
    notice = publish_to_town(api, ids, audience={"units": [ids.unit("330802100202")]})
    revoked = office.post(f"/api/v1/notices/{notice}/revoke",
                          json={"note": "重复发送，以另文为准"}).get_json()
    assert revoked["revoked"] and revoked["revoke_note"] == "重复发送，以另文为准"
    item = api("mp_secretary").get("/api/v1/inbox").get_json()["items"][0]
    assert item["revoked"] and item["revoke_note"] == "重复发送，以另文为准"


def test_feedback_is_anonymous_and_once_per_person(api, ids, app):
    office = api("kc_clerk")
    notice = publish_to_town(api, ids, audience={"units": [ids.unit("330802100202")]})
    reader = api("mp_secretary")
    assert reader.post(f"/api/v1/notices/{notice}/feedback", json={"kind": "duplicate"}).status_code == 200
    assert reader.post(f"/api/v1/notices/{notice}/feedback", json={"kind": "unclear"}).status_code == 409
    assert reader.post(f"/api/v1/notices/{notice}/feedback", json={"kind": "like"}).status_code == 400
    counts = office.get(f"/api/v1/notices/{notice}/receipts").get_json()["feedback"]
    assert counts == {"duplicate": 1, "unclear": 0, "unnecessary": 0}
    from hub.notices.models import NoticeFeedback
    assert not hasattr(NoticeFeedback, "user_id")


def test_a_person_who_moves_sees_the_notices_of_their_new_unit(api, ids):
    town = publish_to_town(api, ids, audience={"units": [ids.unit("330802100")]})
    village = publish_to_town(api, ids, audience={"units": [ids.unit("330802100202")]})
    api("mp_director").get(f"/api/v1/notices/{village}")
    api("kc_admin").patch(f"/api/v1/people/{ids.user('mp_director')}",
                          json={"unit_id": ids.unit("330802100")})
    seen = {i["id"] for i in api("mp_director").get("/api/v1/inbox").get_json()["items"]}
    assert seen == {town, village}          # the new unit's notice, and what they had already read


def test_connected_recipients_get_the_notice_at_once(app, api, ids):
    inside, outside, publisher = (connect(app, login) for login in ("mp_secretary", "sf_member", "kc_clerk"))
    notice = {"id": publish_to_town(api, ids, audience={"subtrees": [ids.unit("330802100")]})}
    got = [e["args"][0] for e in inside.get_received() if e["name"] == "notice"]
    assert [(n["id"], n["title"]) for n in got] == [(notice["id"], "关于做好冬季防火工作的通知")]
    assert [e for e in outside.get_received() if e["name"] == "notice"] == []
    api("mp_secretary").get(f"/api/v1/notices/{notice['id']}")
    receipts = [e["args"][0] for e in publisher.get_received() if e["name"] == "receipt"]
    assert receipts == [{"notice_id": notice["id"]}]


def test_inbox_merges_mentions_and_direct_messages(api, ids):
    office = api("kc_clerk")
    office.post("/api/v1/notices", json=notice_body({"units": [ids.unit("330802100202")]}))
    direct = api("sl_leader").post("/api/v1/channels/direct",
                                   json={"user_id": ids.user("mp_secretary")}).get_json()
    api("sl_leader").post(f"/api/v1/channels/{direct['id']}/messages", json={"body": "明天来镇里开会"})
    channel = next(c["id"] for c in api("mp_director").get("/api/v1/channels").get_json()["items"])
    api("mp_director").post(f"/api/v1/channels/{channel}/messages", json={
        "body": "@王建军 请审核", "mention_user_ids": [ids.user("mp_secretary")]})
    inbox = api("mp_secretary").get("/api/v1/inbox").get_json()
    assert [i["kind"] for i in inbox["items"]] == ["mention", "direct", "notice"]
    first = api("mp_secretary").get("/api/v1/inbox?limit=2").get_json()
    rest = api("mp_secretary").get(f"/api/v1/inbox?limit=2&before={first['next']}").get_json()
    assert [i["kind"] for i in first["items"] + rest["items"]] == ["mention", "direct", "notice"]
    notices_only = api("mp_secretary").get("/api/v1/inbox?kind=notice").get_json()["items"]
    assert [i["kind"] for i in notices_only] == ["notice"]


def test_coverage_follows_the_tree_and_counts_every_new_receipt(api, ids):
    """The audience side of coverage is kept between calls; a change to the tree
    (audited) and every new receipt still show at once."""
    office = api("kc_clerk")
    notice = publish_to_town(api, ids, audience={"subtrees": [ids.unit("330802100")]})
    before = office.get(f"/api/v1/notices/{notice}/receipts").get_json()
    assert (before["audience_count"], before["read_count"]) == (4, 0)
    api("mp_director").get(f"/api/v1/notices/{notice}")
    after_read = office.get(f"/api/v1/notices/{notice}/receipts").get_json()
    assert after_read["read_count"] == 1
    assert "李秀英" not in {u["name"] for u in after_read["unread"]}
    transfer = api("admin").patch(f"/api/v1/people/{ids.user('mp_secretary')}",
                                  json={"unit_id": ids.unit("330803100")})
    assert transfer.status_code == 200
    moved = office.get(f"/api/v1/notices/{notice}/receipts").get_json()
    assert (moved["audience_count"], moved["read_count"]) == (3, 1)
    assert "王建军" not in {u["name"] for u in moved["unread"]}
