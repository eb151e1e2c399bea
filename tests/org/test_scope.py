"""Issue 13, findings 1, 6a and 13: what a unit admin may do to people and units
beyond the routes swept in tests/test_authz_scope.py — the people import, merging
units, and a unit's kind."""
from __future__ import annotations

from sqlalchemy import select

from hub.extensions import db
from hub.org.models import Membership, Unit, User
from tests.org.test_imports import PEOPLE_HEADER, csv_bytes, errors_at, report_of, upload
from tests.test_authz_matrix import OFFICE, TOWN, VILLAGE
from tests.test_authz_scope import CADRE, add_cadre_and_subtree_admins


def unit_codes_of(app, login: str) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Unit.code).join(Membership, Membership.unit_id == Unit.id)
                                      .join(User, User.id == Membership.user_id).where(User.login == login)))


def add_membership(app, login: str, code: str) -> None:
    """As the console would: someone (a holder of one of the three duties) in a unit."""
    with app.app_context():
        person = db.session.scalar(select(User).where(User.login == login))
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        person.memberships.append(Membership(unit=unit, position="干部", is_primary=not person.memberships))
        db.session.commit()


def new_village(api, code: str = "330802100203") -> int:
    response = api("kc_admin").post("/api/v1/units", json={
        "code": code, "name": "新村", "parent_id": unit_id_of(api, TOWN), "kind": "village"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def unit_id_of(api, code: str) -> int:
    return api("admin").get(f"/api/v1/units?code={code}").get_json()["items"][0]["id"]


# ---- Finding 1: the directory stays, the account goes ------------------------------------------

def test_a_village_admin_still_sees_the_cadre_in_the_village_but_not_the_account(app, api, ids):
    cadre = add_cadre_and_subtree_admins(app)
    village_admin = api("mp_admin")
    listed = village_admin.get(f"/api/v1/units/{ids.unit(VILLAGE)}/people").get_json()["items"]
    assert cadre in [p["id"] for p in listed]
    shown = village_admin.get(f"/api/v1/people/{cadre}").get_json()
    assert shown["name"] == "赵振华" and "login" not in shown and "roles" not in shown
    assert "login" in api("kc_admin").get(f"/api/v1/people/{cadre}").get_json()


def test_a_unit_admins_import_leaves_people_with_a_unit_outside_the_subtree(app, api):
    add_cadre_and_subtree_admins(app)
    row = csv_bytes([(CADRE, "赵振华", VILLAGE, "包村干部", "", "")], header=PEOPLE_HEADER)
    for admin in ("mp_admin", "sl_admin"):
        report = report_of(upload(api(admin), "people", row))
        assert errors_at(report) == {(2, "login")} and report["applied"] is False, admin
        assert "不在您的管理范围内" in report["errors"][0]["message"]
    assert unit_codes_of(app, CADRE) == {OFFICE, VILLAGE}
    report = report_of(upload(api("kc_admin"), "people", row))      # all the cadre's units are 柯城区's
    assert report["errors"] == [] and report["applied"] is True
    assert unit_codes_of(app, CADRE) == {VILLAGE}


# ---- Finding 13: a merge moves no membership its actor could not move on a page ------------------

def test_merging_refuses_while_someone_only_the_console_manages_belongs_to_the_unit(app, api, client, login):
    source = new_village(api)
    add_membership(app, "auditor", "330802100203")
    add_membership(app, "sec_admin", "330802100203")
    refused = api("admin").post(f"/api/v1/units/{source}/merge", json={"target_id": unit_id_of(api, VILLAGE)})
    assert refused.status_code == 409
    message = refused.get_json()["error"]["message"]
    assert "冯审言（auditor）" in message and "钱安平（sec_admin）" in message
    assert unit_codes_of(app, "auditor") == {"330802100203"}
    login("admin")                                                   # the page says the same
    page = client.post(f"/admin/units/{source}/merge", data={"target_id": unit_id_of(api, VILLAGE)})
    assert page.status_code == 409 and "冯审言（auditor）" in page.get_data(as_text=True)
    assert api("admin").get(f"/api/v1/units/{source}").get_json()["active"] is True


def test_a_unit_admin_cannot_merge_away_a_system_admins_or_a_county_cadres_post(app, api):
    add_cadre_and_subtree_admins(app)
    source = new_village(api)
    add_membership(app, "admin", "330802100203")
    refused = api("kc_admin").post(f"/api/v1/units/{source}/merge",
                                   json={"target_id": unit_id_of(api, VILLAGE)})
    assert refused.status_code == 409 and "管理员（admin）" in refused.get_json()["error"]["message"]
    village, other = unit_id_of(api, VILLAGE), new_village(api, "330802100204")
    refused = api("sl_admin").post(f"/api/v1/units/{village}/merge", json={"target_id": other})
    assert refused.status_code == 409 and f"赵振华（{CADRE}）" in refused.get_json()["error"]["message"]
    assert unit_codes_of(app, CADRE) == {OFFICE, VILLAGE}
    merged = api("kc_admin").post(f"/api/v1/units/{village}/merge", json={"target_id": other})
    assert merged.status_code == 200                                  # the cadre is wholly 柯城区's
    assert unit_codes_of(app, CADRE) == {OFFICE, "330802100204"}


# ---- Finding 6a: a unit's kind is the system admin's ----------------------------------------------

def test_a_unit_admin_cannot_change_a_units_kind_on_the_api_or_the_page(app, api, client, login, ids):
    town = ids.unit(TOWN)
    refused = api("kc_admin").patch(f"/api/v1/units/{town}", json={"kind": "department"})
    assert refused.status_code == 403 and refused.get_json()["error"]["field"] == "kind"
    unchanged = api("kc_admin").patch(f"/api/v1/units/{town}", json={"name": "石梁镇", "kind": "town"})
    assert unchanged.status_code == 200
    login("kc_admin")
    assert 'id="edit-kind"' not in client.get(f"/admin/units/{town}").get_data(as_text=True)
    page = client.post(f"/admin/units/{town}", data={"name": "石梁镇", "kind": "department"})
    assert page.status_code == 403 and "只有系统管理员可以修改单位类型" in page.get_data(as_text=True)
    assert api("admin").get(f"/api/v1/units/{town}").get_json()["kind"] == "town"
    assert api("admin").patch(f"/api/v1/units/{town}", json={"kind": "department"}).status_code == 200


def test_a_unit_admin_gives_new_units_a_kind_but_imports_no_kind_change(app, api, ids):
    created = api("kc_admin").post("/api/v1/units", json={      # inside the subtree: its reach is too
        "code": "330802100-DZB", "name": "石梁镇党政办", "parent_id": ids.unit(TOWN), "kind": "department"})
    assert created.status_code == 201 and created.get_json()["kind"] == "department"
    rows = [(TOWN, "石梁镇", "330802", "department"), ("K9", "新村", TOWN, "village")]
    report = report_of(upload(api("kc_admin"), "units", csv_bytes(rows, header=("code", "name", "parent_code",
                                                                               "kind"))))
    assert errors_at(report) == {(2, "kind")} and report["applied"] is False
    assert "只有系统管理员可以修改单位类型" in report["errors"][0]["message"]
    report = report_of(upload(api("admin"), "units", csv_bytes(rows, header=("code", "name", "parent_code",
                                                                           "kind"))))
    assert report["applied"] is True
