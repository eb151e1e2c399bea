"""The admin pages: the tree, units, people, roles, imports and the audit log.

Stories run as the cast: `admin` (system admin), `kc_admin` (unit admin of 柯城区),
`qj_admin` (unit admin of 衢江区) and `mp_secretary` (a plain village member).
Each check looks at the page, the database and the audit log.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hub.audit import AuditEntry
from hub.extensions import db
from hub.org.models import Membership, RoleGrant, Unit, User
from tests.cast import PASSWORD

NEW_PASSWORD = "Reset-pass-2026"


# ---- helpers: each reads in a fresh app context, so nothing is stale ----

def unit_row(app, code: str) -> dict | None:
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            return None
        return {"id": unit.id, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id,
                "path": unit.path, "depth": unit.depth, "active": unit.active,
                "merged_into_id": unit.merged_into_id, "sort_order": unit.sort_order}


def person_row(app, login: str) -> dict | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            return None
        return {"id": user.id, "name": user.name, "active": user.active,
                "must_change_password": user.must_change_password,
                "units": {m.unit.code: (m.position, m.is_primary) for m in user.memberships},
                "roles": {(g.role, g.unit.code if g.unit else None) for g in user.roles}}


def all_paths(app) -> dict[str, tuple]:
    with app.app_context():
        return {u.code: (u.parent_id, u.path, u.depth, u.active)
                for u in db.session.scalars(select(Unit))}


def audit(app, action: str | None = None) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        entries = list(db.session.scalars(query))
        db.session.expunge_all()
        return entries


def text(response) -> str:
    return response.get_data(as_text=True)


def h1(response) -> str:
    found = re.search(r"<h1>(.*?)</h1>", text(response), re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else ""


# ---- every page renders for its admin, in Chinese ----

ADMIN_PAGES = [
    ("/admin/", "组织管理"),
    ("/admin/?q=镇", "组织管理"),
    ("/admin/units/{330802}", "柯城区"),
    ("/admin/units/{330802}?parent_q=石梁&target_q=政府", "柯城区"),
    ("/admin/units/{330802100202}/merge?target_id={330802100}", "确认合并"),
    ("/admin/people/{kc_clerk}", "吴文书"),
    ("/admin/people/{kc_clerk}?unit_q=石梁", "吴文书"),
    ("/admin/people/new", "新建人员"),
    ("/admin/people/new?unit_id={330802100}&unit_q=麻蓬", "新建人员"),
    ("/admin/import", "批量导入"),
]


def fill(path: str, ids) -> str:
    def one(match):
        key = match.group(1)
        return str(ids.unit(key) if key[0].isdigit() else ids.user(key))
    return re.sub(r"\{([^}]+)\}", one, path)


@pytest.mark.parametrize("who", ["admin", "kc_admin"])
@pytest.mark.parametrize("path,heading", ADMIN_PAGES)
def test_each_page_renders_for_its_admin(client, login, ids, who, path, heading):
    login(who)
    response = client.get(fill(path, ids))
    assert response.status_code == 200
    assert heading in h1(response)
    assert 'lang="zh-CN"' in text(response)


def test_audit_page_renders_for_the_auditor(client, login):
    login("auditor")
    response = client.get("/admin/audit")
    assert response.status_code == 200 and h1(response) == "审计日志"


@pytest.mark.parametrize("who", ["admin", "sec_admin", "kc_admin"])
def test_only_the_auditor_reads_the_audit_log(client, login, who):
    login(who)
    assert client.get("/admin/audit").status_code == 403


@pytest.mark.parametrize("path", ["/admin/", "/admin/people/new", "/admin/import", "/admin/audit",
                                  "/admin/units/{330802100202}", "/admin/people/{mp_director}",
                                  "/admin/units/choices?q=镇"])
def test_a_person_without_an_admin_role_gets_403(client, login, ids, path):
    login("mp_secretary")
    assert client.get(fill(path, ids)).status_code == 403


def test_a_person_without_an_admin_role_cannot_post_either(client, login, ids):
    login("mp_secretary")
    village = ids.unit("330802100202")
    assert client.post(f"/admin/units/{village}", data={"name": "改名"}).status_code == 403
    assert client.post("/admin/people/new", data={"login": "x1", "name": "某人",
                                                  "unit_id": village}).status_code == 403


def test_unit_admins_cannot_read_the_audit_log(client, login):
    login("kc_admin")
    assert client.get("/admin/audit").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_admin_link_shows_only_to_admins(client, login):
    login("mp_secretary")
    assert 'href="/admin/"' not in text(client.get("/"))
    client.post("/auth/logout")
    login("kc_admin")
    assert 'href="/admin/"' in text(client.get("/"))


# ---- scope: a unit admin of 柯城区 sees nothing of 衢江区 ----

@pytest.mark.parametrize("path", ["/admin/units/{330803}", "/admin/units/{330803100}",
                                  "/admin/units/{3308}", "/admin/people/{qj_admin}",
                                  "/admin/people/{sf_member}",
                                  "/admin/units/{330802}/merge?target_id={330803}"])
def test_a_county_admin_gets_404_outside_their_county(client, login, ids, path):
    login("kc_admin")
    assert client.get(fill(path, ids)).status_code == 404


def test_moving_a_unit_of_another_county_is_404(app, client, login, ids):
    login("kc_admin")
    before = all_paths(app)
    response = client.post(f"/admin/units/{ids.unit('330803100')}/move",
                           data={"parent_id": ids.unit("330802")})
    assert response.status_code == 404
    assert all_paths(app) == before
    assert audit(app, "unit.moved") == []


def test_moving_under_a_parent_of_another_county_is_refused(app, client, login, ids):
    login("kc_admin")
    before = all_paths(app)
    response = client.post(f"/admin/units/{ids.unit('330802100')}/move",
                           data={"parent_id": ids.unit("330803")})
    assert response.status_code == 404
    assert "单位不存在或您无权访问" in text(response)
    assert all_paths(app) == before


def test_search_results_stay_inside_the_admins_subtrees(client, login):
    login("kc_admin")
    page = text(client.get("/admin/?q=镇"))
    assert "石梁镇" in page and "上方镇" not in page
    page = text(client.get("/admin/?q=陈国平"))         # 上方镇's 镇长
    assert "没有匹配的人员" in page
    page = text(client.get("/admin/?q=330803"))
    assert "衢江区" not in page and "没有匹配的单位" in page


def test_the_system_admin_searches_everywhere(client, login):
    login("admin")
    page = text(client.get("/admin/?q=镇"))
    assert "石梁镇" in page and "上方镇" in page
    assert "陈国平" in text(client.get("/admin/?q=陈国平"))


def test_the_tree_roots_are_the_admins_subtrees(client, login, ids):
    login("kc_admin")
    page = text(client.get("/admin/"))
    assert f'data-unit-id="{ids.unit("330802")}"' in page
    assert "衢江区" not in page and "浙江省" not in page
    client.post("/auth/logout")
    login("admin")
    page = text(client.get("/admin/"))
    assert f'data-unit-id="{ids.unit("33")}"' in page and "衢州市" not in page


def test_the_tree_works_without_javascript_and_loads_children_from_the_api(client, login, ids):
    login("kc_admin")
    page = text(client.get("/admin/"))
    county = ids.unit("330802")
    assert f'href="/admin/units/{county}"' in page                     # a link without JS
    assert 'aria-expanded="false"' in page and f'aria-controls="tree-children-{county}"' in page
    assert "/static/js/admin.js" in page
    children = client.get(f"/api/v1/units/{county}/children?limit=1").get_json()
    assert children["items"][0]["name"] == "柯城区人民政府办公室"
    assert {"id", "name", "code", "kind", "child_count", "member_count"} <= set(children["items"][0])
    assert children["next"] is not None


def test_the_unit_picker_lists_only_units_in_scope(client, login, ids):
    login("kc_admin")
    items = client.get("/admin/units/choices?q=镇").get_json()["items"]
    assert [i["name"] for i in items] == ["石梁镇"]
    assert items[0]["trail"] == "浙江省 › 衢州市 › 柯城区"
    county = ids.unit("330802")
    items = client.get(f"/admin/units/choices?q=柯城&exclude={county}").get_json()["items"]
    assert items == []                     # a unit cannot move under itself


# ---- the unit page's forms ----

def test_rename_a_unit(app, client, login, ids):
    login("kc_admin")
    town = ids.unit("330802100")
    response = client.post(f"/admin/units/{town}", data={"name": "石梁镇（新）", "kind": "town",
                                                         "sort_order": "7"})
    assert response.status_code == 302
    assert unit_row(app, "330802100")["name"] == "石梁镇（新）"
    assert unit_row(app, "330802100")["sort_order"] == 7
    assert "单位信息已保存" in text(client.get(response.headers["Location"]))
    entry = audit(app, "unit.renamed")[-1]
    assert entry.actor_login == "kc_admin" and entry.target_id == town
    assert json.loads(entry.after)["name"] == "石梁镇（新）"


def test_an_empty_name_is_shown_at_the_field_and_changes_nothing(app, client, login, ids):
    login("kc_admin")
    response = client.post(f"/admin/units/{ids.unit('330802100')}",
                           data={"name": "  ", "kind": "town", "sort_order": "1"})
    assert response.status_code == 400
    assert "单位名称不能为空" in text(response) and 'aria-invalid="true"' in text(response)
    assert unit_row(app, "330802100")["name"] == "石梁镇"
    assert [e.action for e in audit(app)] == ["auth.login"]


def test_create_a_child_unit(app, client, login, ids):
    login("kc_admin")
    town = ids.unit("330802100")
    response = client.post(f"/admin/units/{town}/children",
                           data={"code": "330802100201", "name": "石梁村", "kind": "village"})
    assert response.status_code == 302
    child = unit_row(app, "330802100201")
    assert child["parent_id"] == town and child["kind"] == "village" and child["depth"] == 4
    assert response.headers["Location"].endswith(f"/admin/units/{child['id']}")
    assert audit(app, "unit.created")[-1].target_id == child["id"]


def test_a_taken_code_is_refused_with_the_message(app, client, login, ids):
    login("kc_admin")
    response = client.post(f"/admin/units/{ids.unit('330802100')}/children",
                           data={"code": "330802100202", "name": "重复", "kind": "village"})
    assert response.status_code == 409
    assert "已存在" in text(response)
    assert unit_row(app, "330802100202")["name"] == "麻蓬村委会"


def test_move_a_unit_with_its_subtree(app, client, login, ids):
    login("kc_admin")
    town, office = ids.unit("330802100"), ids.unit("330802-GOV")
    response = client.post(f"/admin/units/{town}/move", data={"parent_id": office})
    assert response.status_code == 302
    moved, village = unit_row(app, "330802100"), unit_row(app, "330802100202")
    assert moved["parent_id"] == office and moved["depth"] == 4
    assert village["path"] == f"{moved['path']}{village['id']}/" and village["depth"] == 5
    assert audit(app, "unit.moved")[-1].target_id == town


def test_moving_under_its_own_descendant_is_refused_and_the_tree_is_unchanged(
        app, client, login, ids):
    login("kc_admin")
    before = all_paths(app)
    response = client.post(f"/admin/units/{ids.unit('330802')}/move",
                           data={"parent_id": ids.unit("330802100202")})
    assert response.status_code == 409
    assert "不能把单位移动到它自己或它的下级单位之下" in text(response)
    assert all_paths(app) == before
    assert audit(app, "unit.moved") == []


def test_a_move_without_a_parent_is_a_400_not_a_500(client, login, ids):
    login("kc_admin")
    town = ids.unit("330802100")
    assert client.post(f"/admin/units/{town}/move", data={}).status_code == 400
    assert client.post(f"/admin/units/{town}/move", data={"parent_id": "abc"}).status_code == 400


def test_merge_shows_what_will_move_then_merges(app, client, login, ids):
    login("kc_admin")
    village, town = ids.unit("330802100202"), ids.unit("330802100")
    confirm = text(client.get(f"/admin/units/{village}/merge?target_id={town}"))
    assert "王建军" in confirm and "李秀英" in confirm and "2 名人员" in confirm
    assert unit_row(app, "330802100202")["active"]          # the preview changes nothing
    response = client.post(f"/admin/units/{village}/merge", data={"target_id": town})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/units/{town}")
    merged = unit_row(app, "330802100202")
    assert not merged["active"] and merged["merged_into_id"] == town
    assert "330802100" in person_row(app, "mp_secretary")["units"]
    entry = audit(app, "unit.merged")[-1]
    assert entry.target_id == village and json.loads(entry.after)["people_moved"] == 2


def test_merging_into_its_own_subtree_is_refused(app, client, login, ids):
    login("kc_admin")
    response = client.post(f"/admin/units/{ids.unit('330802100')}/merge",
                           data={"target_id": ids.unit("330802100202")})
    assert response.status_code == 409
    assert "不能把单位合并到它自己或它的下级单位" in text(response)
    assert unit_row(app, "330802100")["active"]


def test_retire_refusals_are_shown_then_an_empty_unit_is_retired(app, client, login, ids):
    login("kc_admin")
    town = ids.unit("330802100")
    refused = client.post(f"/admin/units/{town}/retire", data={"confirm": "1"})
    assert refused.status_code == 409 and "该单位还有下级单位" in text(refused)
    village = ids.unit("330802100202")
    refused = client.post(f"/admin/units/{village}/retire", data={"confirm": "1"})
    assert refused.status_code == 409 and "该单位还有人员" in text(refused)
    client.post(f"/admin/units/{town}/children", data={"code": "KC-TMP", "name": "临时专班"})
    empty = unit_row(app, "KC-TMP")["id"]
    unconfirmed = client.post(f"/admin/units/{empty}/retire", data={})
    assert unconfirmed.status_code == 400 and unit_row(app, "KC-TMP")["active"]
    response = client.post(f"/admin/units/{empty}/retire", data={"confirm": "1"})
    assert response.status_code == 302
    assert not unit_row(app, "KC-TMP")["active"]
    assert audit(app, "unit.retired")[-1].target_id == empty
    assert "已撤销" in text(client.get(f"/admin/units/{empty}"))


def test_the_system_admin_creates_a_top_level_unit_and_unit_admins_cannot(app, client, login):
    login("kc_admin")
    client.post("/admin/units", data={"code": "34", "name": "安徽省", "kind": "province"},
                headers={"Referer": "/admin/"})
    assert unit_row(app, "34") is None
    client.post("/auth/logout")
    login("admin")
    response = client.post("/admin/units", data={"code": "34", "name": "安徽省", "kind": "province"})
    assert response.status_code == 302 and unit_row(app, "34")["depth"] == 0


# ---- people ----

def test_create_a_person(app, client, login, ids):
    login("kc_admin")
    town = ids.unit("330802100")
    response = client.post("/admin/people/new", data={
        "login": "sl_new", "name": "赵新人", "unit_id": town, "position": "综合办干事",
        "password": "Start-2026-pass"})
    assert response.status_code == 302
    person = person_row(app, "sl_new")
    assert person["units"] == {"330802100": ("综合办干事", True)} and person["must_change_password"]
    assert response.headers["Location"].endswith(f"/admin/people/{person['id']}")
    assert audit(app, "person.created")[-1].target_id == person["id"]


def test_creating_a_person_outside_the_scope_is_refused(app, client, login, ids):
    login("kc_admin")
    response = client.post("/admin/people/new", data={
        "login": "sf_new", "name": "钱某", "unit_id": ids.unit("330803100")})
    assert response.status_code == 404
    assert person_row(app, "sf_new") is None


def test_a_bad_login_is_shown_at_its_field(app, client, login, ids):
    login("kc_admin")
    response = client.post("/admin/people/new", data={
        "login": "空 格", "name": "某人", "unit_id": ids.unit("330802100")})
    assert response.status_code == 400
    assert "账号须为" in text(response) and 'value="某人"' in text(response)


def test_grant_and_revoke_a_role(app, client, login, ids):
    login("kc_admin")
    person, village = ids.user("mp_secretary"), ids.unit("330802100202")
    response = client.post(f"/admin/people/{person}/roles", data={"role": "clerk", "unit_id": village})
    assert response.status_code == 302
    assert ("clerk", "330802100202") in person_row(app, "mp_secretary")["roles"]
    assert audit(app, "role.granted")[-1].target_id == person
    with app.app_context():
        grant_id = db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == person))
    response = client.post(f"/admin/people/{person}/roles/{grant_id}/revoke")
    assert response.status_code == 302
    assert person_row(app, "mp_secretary")["roles"] == set()
    assert audit(app, "role.revoked")[-1].target_id == person


def test_only_the_security_admin_is_offered_and_may_grant_the_admin_role(app, client, login, ids):
    person = ids.user("mp_secretary")
    login("kc_admin")
    page = text(client.get(f"/admin/people/{person}"))
    assert 'value="clerk"' in page and 'value="admin"' not in page and 'value="unit_admin"' not in page
    refused = client.post(f"/admin/people/{person}/roles", data={"role": "admin"})
    assert refused.status_code == 403 and "您不能授予该角色" in text(refused)
    assert ("admin", None) not in person_row(app, "mp_secretary")["roles"]
    client.post("/auth/logout")
    login("admin")                                   # the system admin grants nothing (三员分立)
    page = text(client.get(f"/admin/people/{person}"))
    assert "授予角色" not in page and "重置密码" in page
    assert client.post(f"/admin/people/{person}/roles", data={"role": "admin"}).status_code == 403
    client.post("/auth/logout")
    login("sec_admin")
    page = text(client.get(f"/admin/people/{person}"))
    assert 'value="admin"' in page and 'value="auditor"' in page and "重置密码" not in page


def test_the_role_unit_must_be_in_scope(app, client, login, ids):
    login("kc_admin")
    response = client.post(f"/admin/people/{ids.user('mp_secretary')}/roles",
                           data={"role": "unit_admin", "unit_id": ids.unit("330803")})
    assert response.status_code == 404
    assert person_row(app, "mp_secretary")["roles"] == set()


def test_reset_a_password(app, client, login, ids):
    login("kc_admin")
    person = ids.user("sl_clerk")
    mismatch = client.post(f"/admin/people/{person}/password",
                           data={"password": NEW_PASSWORD, "confirm_password": "other"})
    assert mismatch.status_code == 400 and "两次输入的密码不一致" in text(mismatch)
    weak = client.post(f"/admin/people/{person}/password",
                       data={"password": "short", "confirm_password": "short"})
    assert weak.status_code == 400 and "密码至少" in text(weak)
    response = client.post(f"/admin/people/{person}/password",
                           data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert person_row(app, "sl_clerk")["must_change_password"]
    assert audit(app, "auth.password_reset")[-1].target_id == person
    assert app.test_client().post("/auth/login", data={"login": "sl_clerk",
                                                       "password": PASSWORD}).status_code == 401
    assert app.test_client().post("/auth/login", data={"login": "sl_clerk",
                                                       "password": NEW_PASSWORD}).status_code == 302


def test_disable_and_enable_a_person(app, client, login, ids):
    person = ids.user("mp_director")
    victim = app.test_client()
    assert victim.post("/auth/login", data={"login": "mp_director",
                                            "password": PASSWORD}).status_code == 302
    login("kc_admin")
    response = client.post(f"/admin/people/{person}/active", data={"active": "0"})
    assert response.status_code == 302
    assert not person_row(app, "mp_director")["active"]
    assert audit(app, "person.disabled")[-1].target_id == person
    assert victim.get("/").status_code == 302                      # the session has ended
    assert "已停用" in text(client.get(f"/admin/people/{person}"))
    client.post(f"/admin/people/{person}/active", data={"active": "1"})
    assert person_row(app, "mp_director")["active"]
    assert audit(app, "person.enabled")[-1].target_id == person


def test_an_admin_cannot_disable_themself(app, client, login, ids):
    login("kc_admin")
    response = client.post(f"/admin/people/{ids.user('kc_admin')}/active", data={"active": "0"})
    assert response.status_code == 409 and "不能停用自己的账号" in text(response)
    assert person_row(app, "kc_admin")["active"]


def test_rename_transfer_and_second_membership(app, client, login, ids):
    login("kc_admin")
    person = ids.user("mp_director")
    client.post(f"/admin/people/{person}", data={"name": "李秀英（村）"})
    assert person_row(app, "mp_director")["name"] == "李秀英（村）"
    response = client.post(f"/admin/people/{person}/transfer",
                           data={"unit_id": ids.unit("330802100"), "position": "镇妇联主席"})
    assert response.status_code == 302
    assert person_row(app, "mp_director")["units"] == {"330802100": ("镇妇联主席", True)}
    client.post(f"/admin/people/{person}/memberships",
                data={"unit_id": ids.unit("330802100202"), "position": "驻村干部"})
    assert person_row(app, "mp_director")["units"]["330802100202"] == ("驻村干部", False)
    with app.app_context():
        membership = db.session.scalar(select(Membership.id).where(
            Membership.user_id == person, Membership.unit_id == ids.unit("330802100202")))
    client.post(f"/admin/people/{person}/memberships/{membership}", data={"primary": "1"})
    assert person_row(app, "mp_director")["units"]["330802100202"] == ("驻村干部", True)
    client.post(f"/admin/people/{person}/memberships/{membership}", data={"position": "第一书记"})
    assert person_row(app, "mp_director")["units"]["330802100202"] == ("第一书记", True)
    response = client.post(f"/admin/people/{person}/memberships/{membership}/remove")
    assert response.status_code == 302
    assert person_row(app, "mp_director")["units"] == {"330802100": ("镇妇联主席", True)}
    actions = [e.action for e in audit(app) if e.target_id == person and e.target_type == "user"]
    assert actions == ["person.updated", "membership.updated", "membership.added",
                       "membership.updated", "membership.updated", "membership.removed"]


def test_the_last_membership_cannot_be_removed(app, client, login, ids):
    login("kc_admin")
    person = ids.user("mp_director")
    with app.app_context():
        membership = db.session.scalar(select(Membership.id).where(Membership.user_id == person))
    response = client.post(f"/admin/people/{person}/memberships/{membership}/remove")
    assert response.status_code == 409 and "唯一的单位" in text(response)


# ---- import ----

UNITS_CSV = ("code,name,parent_code,kind\n330802101,航埠镇,330802,town\n"
             "330802101201,航埠村,330802101,village\n")


def upload(client, content: str, *, kind: str = "units", dry_run: bool = True,
           filename: str = "units.csv"):
    data = {"kind": kind, "file": (BytesIO(content.encode("utf-8")), filename)}
    if dry_run:
        data["dry_run"] = "1"
    return client.post("/admin/import", data=data, content_type="multipart/form-data")


def uploads(app) -> list[Path]:
    folder = Path(app.instance_path) / "uploads"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_import_units_dry_run_then_apply(app, client, login):
    login("kc_admin")
    report = upload(client, UNITS_CSV)
    assert report.status_code == 200
    page = text(report)
    assert "试运行结果" in page and "确认导入" in page
    assert re.search(r"<dt>新增</dt><dd>2</dd>", page)
    assert unit_row(app, "330802101") is None                      # nothing written yet
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    kept = uploads(app)
    assert [p.name for p in kept] == [f"{token}.csv"]
    applied = client.post("/admin/import/apply", data={"token": token})
    assert applied.status_code == 200 and "已导入" in text(applied)
    assert unit_row(app, "330802101201")["parent_id"] == unit_row(app, "330802101")["id"]
    assert uploads(app) == []                                      # deleted after applying
    again = client.post("/admin/import/apply", data={"token": token})
    assert again.status_code == 302                                # the token is spent


def test_import_errors_are_listed_by_row_and_nothing_is_written(app, client, login):
    login("kc_admin")
    report = upload(client, "code,name,parent_code\n330802102,花园街道,330802\nX1,,NOPE\n")
    assert report.status_code == 200
    page = text(report)
    assert "没有写入任何数据" in page and "确认导入" not in page
    assert re.search(r'<td data-label="行号">3</td>', page)
    assert unit_row(app, "330802102") is None and uploads(app) == []


def test_import_people_without_a_dry_run(app, client, login):
    login("kc_admin")
    csv_text = "login,name,unit_code,position\nsl_new,赵新人,330802100,干事\n"
    report = upload(client, csv_text, kind="people", dry_run=False, filename="people.csv")
    assert report.status_code == 200 and "导入结果" in text(report)
    assert person_row(app, "sl_new")["units"] == {"330802100": ("干事", True)}


def test_imports_as_chinese_admins_make_them(app, client, login):
    """Chinese headers, a CSV in GB18030 as Excel saves it on Chinese Windows, roles
    by their Chinese names joined with 、; the XLSX template to download has the
    same headers and imports as it is filled in."""
    login("kc_admin")
    gbk = "账号,姓名,单位编码,职务,角色\r\nsl_gbk,钱国华,330802100,干事,文书、领导\r\n".encode("gb18030")
    data = {"kind": "people", "file": (BytesIO(gbk), "人员.csv")}
    report = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert report.status_code == 200 and "导入结果" in text(report), text(report)[:2000]
    assert person_row(app, "sl_gbk")["units"] == {"330802100": ("干事", True)}
    assert person_row(app, "sl_gbk")["roles"] == {("clerk", "330802100"), ("leader", "330802100")}

    template = client.get("/admin/import/template/units.xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(BytesIO(template.data))
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["单位编码", "单位名称", "上级单位编码", "单位类型"]
    sheet.append(["330802103", "新建乡", "330802", "乡镇（街道）"])
    out = BytesIO()
    book.save(out)
    data = {"kind": "units", "file": (BytesIO(out.getvalue()), "单位.xlsx")}
    report = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert report.status_code == 200 and "导入结果" in text(report)
    assert unit_row(app, "330802103")["kind"] == "town"
    assert client.get("/admin/import/template/things.xlsx").status_code == 404


def test_the_import_page_says_which_roles_this_admin_may_grant(client, login):
    login("kc_admin")
    assert "您可以授予的角色：文书、领导" in text(client.get("/admin/import"))
    login("admin")
    page = text(client.get("/admin/import"))
    assert "您不能授予角色" in page and "您可以授予的角色" not in page


def test_an_upload_must_be_csv_or_xlsx(app, client, login):
    login("kc_admin")
    response = upload(client, "hello", filename="notes.txt")
    assert response.status_code == 400 and "只支持 CSV 或 XLSX 文件" in text(response)
    missing = client.post("/admin/import", data={"kind": "units", "dry_run": "1"},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and "请选择要上传的文件" in text(missing)


def test_an_upload_cannot_be_applied_by_a_guessed_token_or_another_person(app, client, login):
    login("kc_admin")
    page = text(upload(client, UNITS_CSV))
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert client.post("/admin/import/apply",
                       data={"token": "../../hub"}).status_code == 302
    other = app.test_client()
    other.post("/auth/login", data={"login": "admin", "password": PASSWORD})
    assert other.post("/admin/import/apply", data={"token": token}).status_code == 302
    assert unit_row(app, "330802101") is None


# ---- the audit log ----

def test_audit_page_filters(app, client, login, ids):
    login("admin")
    town = ids.unit("330802100")
    client.post(f"/admin/units/{town}", data={"name": "石梁镇人民政府", "kind": "town",
                                              "sort_order": "1"})
    client.post("/admin/people/new", data={"login": "sl_new", "name": "赵新人", "unit_id": town})
    client.post("/auth/logout")
    login("auditor")
    page = text(client.get("/admin/audit"))
    assert "单位更名" in page and "新建人员" in page and "登录成功" in page
    assert "<del>石梁镇</del> → <ins>石梁镇人民政府</ins>" in page
    only = text(client.get("/admin/audit?action=unit.renamed"))
    assert "单位更名" in only.split("<tbody>")[1] and "新建人员" not in only.split("<tbody>")[1]
    grouped = text(client.get("/admin/audit?action=person.*")).split("<tbody>")[1]
    assert "新建人员" in grouped and "单位更名" not in grouped
    by_type = text(client.get("/admin/audit?target_type=unit")).split("<tbody>")[1]
    assert "单位更名" in by_type and "赵新人" not in by_type
    by_actor = text(client.get("/admin/audit?actor=kc_admin"))
    assert "没有符合条件的记录" in by_actor
    today = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d")
    assert "单位更名" in text(client.get(f"/admin/audit?from=2020-01-01&to={today}"))
    assert "没有符合条件的记录" in text(client.get("/admin/audit?to=2020-01-01"))
    bad = client.get("/admin/audit?from=2026-13-45")
    assert bad.status_code == 400 and "日期格式应为" in text(bad)
    assert client.get("/admin/audit?before=abc").status_code == 400


def test_audit_page_shows_beijing_time_and_pages_with_earlier(app, client, login, monkeypatch):
    from hub.admin import views_audit
    with app.app_context():
        db.session.add(AuditEntry(at=datetime(2026, 1, 1, 0, 0, 5, tzinfo=timezone.utc),
                                  action="unit.updated", actor_login="admin", ip="10.0.0.9"))
        db.session.commit()
    login("auditor")
    page = text(client.get("/admin/audit?action=unit.updated"))
    assert "2026-01-01 08:00:05" in page and "10.0.0.9" in page
    monkeypatch.setattr(views_audit, "PAGE_SIZE", 1)
    client.post("/auth/logout")
    login("auditor")                               # now: login, logout, login, plus the one above
    first = text(client.get("/admin/audit"))
    earlier = re.search(r'href="([^"]+)" rel="next">更早', first).group(1).replace("&amp;", "&")
    second = text(client.get(earlier))
    assert "退出登录" in second and "回到最新" in second
    assert first.split("<tbody>")[1] != second.split("<tbody>")[1]


# ---- the pages themselves ----

def test_forms_carry_the_csrf_token_and_pages_have_no_inline_script_or_style(
        client, login, ids):
    pages = {"admin": ["/admin/", f"/admin/units/{ids.unit('330802')}",
                       f"/admin/people/{ids.user('kc_clerk')}", "/admin/people/new", "/admin/import"],
             "sec_admin": ["/admin/security", f"/admin/people/{ids.user('kc_clerk')}"],
             "auditor": ["/admin/audit"]}
    for who, paths in pages.items():
        client.post("/auth/logout")
        login(who)
        for path in paths:
            assert_clean_forms(client, path)


def assert_clean_forms(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    page = text(response)
    forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', page, re.S)
    assert all('name="csrf_token"' in form for form in forms), path
    assert " style=" not in page, path
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path


def test_posts_without_the_csrf_token_are_refused(make_app, database_uri, ids):
    app = make_app(database_uri, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = text(client.get("/auth/login"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    client.post("/auth/login", data={"login": "kc_admin", "password": PASSWORD,
                                     "csrf_token": token})
    town = ids.unit("330802100")
    assert client.post(f"/admin/units/{town}", data={"name": "无令牌"}).status_code == 400
    assert unit_row(app, "330802100")["name"] == "石梁镇"


def test_unknown_ids_are_404_not_500(client, login, ids):
    login("admin")
    for path in ["/admin/units/999999", "/admin/people/999999", "/admin/units/2147483648",
                 "/admin/units/99999999999999999999", "/admin/people/0",
                 f"/admin/units/{ids.unit('330802')}/merge?target_id=999999"]:
        assert client.get(path).status_code == 404, path
    huge = "99999999999999999999"
    for path in [f"/admin/units/choices?q=镇&exclude={huge}", f"/admin/people/new?unit_id={huge}",
                 f"/admin/units/{ids.unit('330802')}/merge?target_id={huge}"]:
        assert client.get(path).status_code in (200, 302, 400), path
    town = ids.unit("330802100")
    for data in ({"parent_id": huge}, {"parent_id": "-1"}, {"parent_id": "1.5"}):
        assert client.post(f"/admin/units/{town}/move", data=data).status_code in (400, 404)
    assert client.post(f"/admin/units/{town}", data={"name": "x", "kind": "castle",
                                                     "sort_order": "1"}).status_code == 400
    assert client.post(f"/admin/units/{town}", data={"name": "x", "kind": "town",
                                                     "sort_order": "first"}).status_code == 400
    client.post("/auth/logout")
    login("sec_admin")
    assert client.post(f"/admin/people/{ids.user('kc_clerk')}/roles",
                       data={"role": "emperor"}).status_code == 400
    assert client.get("/admin/people/999999").status_code == 404
    client.post("/auth/logout")
    login("auditor")
    for path in [f"/admin/audit?before={huge}", f"/admin/audit?target_id={huge}"]:
        assert client.get(path).status_code in (200, 400), path


def test_a_file_that_is_not_really_xlsx_is_a_400(client, login):
    login("kc_admin")
    response = upload(client, "not a zip", filename="units.xlsx")
    assert response.status_code == 400 and "XLSX" in text(response)


def test_the_security_admin_grants_the_admin_role_without_a_unit(app, client, login, ids):
    login("sec_admin")
    response = client.post(f"/admin/people/{ids.user('kc_clerk')}/roles",
                           data={"role": "admin", "unit_id": ids.unit("330802")})
    assert response.status_code == 302
    assert ("admin", None) in person_row(app, "kc_clerk")["roles"]
