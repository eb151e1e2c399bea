"""The org API (API.md "Org tree"): shapes, errors and scoping."""
from __future__ import annotations

import pytest


def error_of(response) -> dict:
    return response.get_json()["error"]


def test_unit_has_the_documented_fields(api, ids):
    data = api("mp_secretary").get(f"/api/v1/units/{ids.unit('330802100')}").get_json()
    assert {"id", "code", "name", "kind", "parent_id", "path", "member_count",
            "child_count"} <= set(data)
    assert data["path"] == [ids.unit("33"), ids.unit("3308"), ids.unit("330802")]
    assert data["member_count"] == 2 and data["child_count"] == 1


def test_children_and_lookup_by_code(api, ids):
    member = api("mp_secretary")
    children = member.get(f"/api/v1/units/{ids.unit('3308')}/children").get_json()
    assert [c["code"] for c in children["items"]] == ["330802", "330803"]
    assert children["next"] is None
    found = member.get("/api/v1/units?code=330803100").get_json()["items"]
    assert [u["name"] for u in found] == ["上方镇"]


def test_children_are_paginated(api, ids):
    page = api("admin").get(f"/api/v1/units/{ids.unit('3308')}/children?limit=1").get_json()
    assert len(page["items"]) == 1 and page["next"] is not None
    rest = api("admin").get(f"/api/v1/units/{ids.unit('3308')}/children?limit=1&after={page['next']}")
    assert rest.get_json()["items"][0]["code"] == "330803"


def test_rename_and_move_through_patch(api, ids):
    admin = api("kc_admin")
    town = ids.unit("330802100")
    renamed = admin.patch(f"/api/v1/units/{town}", json={"name": "石梁镇（新）"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "石梁镇（新）"
    moved = admin.patch(f"/api/v1/units/{ids.unit('330802100202')}",
                        json={"parent_id": ids.unit("330802-GOV")})
    assert moved.get_json()["parent_id"] == ids.unit("330802-GOV")


def test_move_under_own_descendant_is_409(api, ids):
    response = api("admin").patch(f"/api/v1/units/{ids.unit('3308')}",
                                  json={"parent_id": ids.unit("330802100")})
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


def test_unit_admin_of_one_county_cannot_touch_another(api, ids):
    kecheng = api("kc_admin")
    other = ids.unit("330803100")
    assert kecheng.patch(f"/api/v1/units/{other}", json={"name": "x"}).status_code == 404
    assert kecheng.post(f"/api/v1/units/{other}/retire").status_code == 404
    response = kecheng.post("/api/v1/people", json={"login": "newbie", "name": "新人",
                                                     "unit_id": other})
    assert response.status_code == 404
    person = kecheng.get(f"/api/v1/people/{ids.user('sf_member')}").get_json()
    assert "login" not in person and "roles" not in person
    moved_in = kecheng.patch(f"/api/v1/units/{ids.unit('330802100')}",
                             json={"parent_id": ids.unit("330803")})
    assert moved_in.status_code == 404


def test_plain_members_cannot_administer(api, ids):
    member = api("mp_secretary")
    response = member.patch(f"/api/v1/units/{ids.unit('330802100202')}", json={"name": "x"})
    assert response.status_code == 403
    assert member.post("/api/v1/units", json={"code": "Z", "name": "z",
                                              "parent_id": ids.unit("33")}).status_code == 403


@pytest.mark.parametrize("body,field", [
    ({"code": "N1", "parent_id": 1}, "name"),
    ({"code": "N1", "name": "名" * 10_000, "parent_id": 1}, "name"),
    ({"code": "坏 编码", "name": "好名字", "parent_id": 1}, "code"),
    ({"code": "N1", "name": "好名字", "parent_id": "abc"}, "parent_id"),
    ({"code": "N1", "name": "好名字", "kind": "galaxy", "parent_id": 1}, "kind"),
])
def test_bad_unit_input_is_400_with_the_field(api, body, field):
    response = api("admin").post("/api/v1/units", json=body)
    assert response.status_code == 400
    assert error_of(response)["field"] == field


def test_non_json_body_is_400(api, ids):
    response = api("admin").patch(f"/api/v1/units/{ids.unit('33')}", data="name=x",
                                  content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and error_of(response)["field"] == "body"


def test_unknown_unit_is_404_json(api):
    response = api("admin").get("/api/v1/units/999999")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_create_person_and_grant_a_role(api, ids):
    admin = api("kc_admin")
    created = admin.post("/api/v1/people", json={
        "login": "mp_wenshu", "name": "麻蓬村文书", "unit_id": ids.unit("330802100202"),
        "position": "村文书", "password": "Chu-shi-2026", "roles": ["clerk"]})
    assert created.status_code == 201, created.get_json()
    person = created.get_json()
    assert person["must_change_password"] is True
    assert [(r["role"], r["unit_id"]) for r in person["roles"]] == [("clerk", ids.unit("330802100202"))]
    duplicate = admin.post("/api/v1/people", json={"login": "mp_wenshu", "name": "重复",
                                                   "unit_id": ids.unit("330802100202")})
    assert duplicate.status_code == 409 and error_of(duplicate)["field"] == "login"


def test_unit_admin_cannot_grant_admin(api, ids):
    response = api("kc_admin").post(f"/api/v1/people/{ids.user('mp_director')}/roles",
                                    json={"role": "admin"})
    assert response.status_code == 403


def test_transfer_moves_the_primary_unit_and_ends_roles_there(api, ids):
    admin = api("admin")
    clerk = ids.user("sl_clerk")
    response = admin.patch(f"/api/v1/people/{clerk}", json={"unit_id": ids.unit("330803100"),
                                                            "position": "党政办文书"})
    person = response.get_json()
    assert [m["unit_id"] for m in person["memberships"]] == [ids.unit("330803100")]
    assert person["roles"] == []


def test_disabled_person_can_no_longer_sign_in(api, ids):
    api("kc_admin").patch(f"/api/v1/people/{ids.user('mp_director')}", json={"active": False})
    from tests.cast import PASSWORD
    response = api(None).post("/api/v1/auth/token",
                              json={"login": "mp_director", "password": PASSWORD})
    assert response.status_code == 401


def test_people_search_within_a_unit(api, ids):
    found = api("mp_secretary").get(f"/api/v1/people?q=王&unit_id={ids.unit('330802')}").get_json()
    assert [p["name"] for p in found["items"]] == ["王建军"]


@pytest.mark.parametrize("path", ["/api/v1/units/99999999999999999999", "/api/v1/units/0",
                                  "/api/v1/people/2147483648"])
def test_absurd_ids_are_404_not_500(api, path):
    response = api("admin").get(path)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
