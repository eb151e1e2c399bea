"""Issue 13, finding 6b: a task channel opens without approval only inside its
creator's own admin scope (a unit admin's subtree; the system admin's everywhere)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest


def ask(api, login: str, **targets) -> dict:
    response = api(login).post("/api/v1/channels", json={
        "name": "防汛专班", "purpose": "汛期值班", "ends_on": (date.today() + timedelta(days=9)).isoformat(),
        **targets})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("targets, state", [
    ({"subtree_ids": ["330802100"]}, "active"),              # 石梁镇: inside 柯城区
    ({"unit_ids": ["330802"], "user_ids": ["mp_director"]}, "active"),
    ({"subtree_ids": ["33"]}, "pending"),                    # the whole province
    ({"subtree_ids": ["330803100"]}, "pending"),             # 上方镇, in 衢江区
    ({"user_ids": ["sf_member"]}, "pending"),                # a person of 衢江区
])
def test_a_unit_admins_task_channel_waits_unless_it_stays_in_their_subtree(api, ids, targets, state):
    resolved = {key: [ids.user(v) if key == "user_ids" else ids.unit(v) for v in values]
                for key, values in targets.items()}
    assert ask(api, "kc_admin", **resolved)["state"] == state


def test_the_system_admins_task_channel_reaches_anywhere_at_once(api, ids):
    assert ask(api, "admin", subtree_ids=[ids.unit("33")])["state"] == "active"


def test_a_unit_admins_own_request_is_decided_by_an_admin_above(api, ids, client, login):
    channel = ask(api, "kc_admin", subtree_ids=[ids.unit("33")])["id"]
    login("kc_admin")                       # the register offers no decision on one's own request
    page = client.get("/channels/register").get_data(as_text=True)
    assert "这是您自己发起的申请" in page and f"/channels/register/{channel}/decision" not in page
    refused = api("kc_admin").post(f"/api/v1/channels/{channel}/decision", json={"approve": True})
    assert refused.status_code == 403 and "不能审批自己发起的申请" in refused.get_json()["error"]["message"]
    approved = api("admin").post(f"/api/v1/channels/{channel}/decision", json={"approve": True})
    assert approved.status_code == 200 and approved.get_json()["state"] == "active"


def test_approving_needs_an_admin_whose_scope_covers_the_whole_reach(api, ids):
    """A village's admin cannot open a member's county-wide channel by approving
    it (a widening of reach by proxy); 柯城区's admin can; rejecting is open to
    the creator's unit admins either way."""
    security = api("sec_admin")
    granted = security.post(f"/api/v1/people/{ids.user('mp_director')}/roles",
                            json={"role": "unit_admin", "unit_id": ids.unit("330802100202")})
    assert granted.status_code in (200, 201), granted.get_json()
    ends = (date.today() + timedelta(days=9)).isoformat()
    wide = api("mp_secretary").post("/api/v1/channels", json={
        "name": "全区秸秆禁烧", "purpose": "禁烧巡查", "ends_on": ends, "subtree_ids": [ids.unit("330802")]})
    assert wide.status_code == 201 and wide.get_json()["state"] == "pending"
    channel = wide.get_json()["id"]
    village_admin = api("mp_director")
    refused = village_admin.post(f"/api/v1/channels/{channel}/decision", json={"approve": True})
    assert refused.status_code == 403 and "管理范围" in refused.get_json()["error"]["message"]
    assert api("kc_admin").post(f"/api/v1/channels/{channel}/decision",
                                json={"approve": True}).status_code == 200
    narrow = api("mp_secretary").post("/api/v1/channels", json={
        "name": "全区防汛", "purpose": "防汛", "ends_on": ends, "subtree_ids": [ids.unit("330802")]})
    rejected = village_admin.post(f"/api/v1/channels/{narrow.get_json()['id']}/decision",
                                  json={"approve": False})
    assert rejected.status_code == 200
