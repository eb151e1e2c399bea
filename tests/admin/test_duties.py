"""Separated admin duties (三员分立): the system admin (`admin`) keeps the org
tree and people, the security admin (`sec_admin`) grants roles and unlocks
accounts, the auditor (`auditor`) alone reads the audit log; unit admins grant
clerk and leader inside their subtree. Accounts are issued, never registered.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hub.audit import AuditEntry
from hub.extensions import db
from hub.org.models import Role, RoleGrant, User
from tests.cast import PASSWORD


def roles_of(app, login: str) -> set[tuple[str, int | None]]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        return {(g.role, g.unit_id) for g in user.roles}


def grant_id(app, login: str, role: str) -> int:
    with app.app_context():
        return db.session.scalar(select(RoleGrant.id).join(User, User.id == RoleGrant.user_id)
                                 .where(User.login == login, RoleGrant.role == role))


def last_audit(app, action: str) -> AuditEntry | None:
    with app.app_context():
        return db.session.scalar(select(AuditEntry).where(AuditEntry.action == action)
                                 .order_by(AuditEntry.id.desc()).limit(1))


def nav(page: str) -> list[str]:
    found = re.search(r'<nav class="subnav"[^>]*>(.*?)</nav>', page, re.S)
    return re.findall(r">([^<>]+)</a>", found.group(1)) if found else []


# ---- Granting roles ---------------------------------------------------------------------------

def test_the_system_admin_grants_and_revokes_no_roles(app, api, ids):
    admin = api("admin")
    refused = admin.post(f"/api/v1/people/{ids.user('mp_director')}/roles",
                         json={"role": "clerk", "unit_id": ids.unit("330802100202")})
    assert refused.status_code == 403
    revoke = admin.delete(f"/api/v1/people/{ids.user('sl_clerk')}/roles/{grant_id(app, 'sl_clerk', 'clerk')}")
    assert revoke.status_code == 403
    created = admin.post("/api/v1/people", json={"login": "new_clerk", "name": "新文书", "roles": ["clerk"],
                                                  "unit_id": ids.unit("330802100")})
    assert created.status_code == 403
    assert roles_of(app, "sl_clerk") == {("clerk", ids.unit("330802100"))}


def test_the_security_admin_grants_and_revokes_every_role(app, api, ids):
    security = api("sec_admin")
    person = ids.user("kc_clerk")
    assert security.post(f"/api/v1/people/{person}/roles", json={"role": "admin"}).status_code == 201
    granted = security.post(f"/api/v1/people/{ids.user('mp_director')}/roles",
                            json={"role": "unit_admin", "unit_id": ids.unit("330802100202")})
    assert granted.status_code == 201
    assert ("unit_admin", ids.unit("330802100202")) in roles_of(app, "mp_director")
    entry = last_audit(app, "role.granted")
    assert (entry.actor_login, entry.target_id) == ("sec_admin", ids.user("mp_director"))
    revoked = security.delete(f"/api/v1/people/{person}/roles/{grant_id(app, 'kc_clerk', 'admin')}")
    assert revoked.status_code == 200 and ("admin", None) not in roles_of(app, "kc_clerk")
    assert last_audit(app, "role.revoked").actor_login == "sec_admin"


def test_nobody_grants_or_revokes_their_own_roles(app, api, ids):
    security, unit_admin = api("sec_admin"), api("kc_admin")
    mine = security.post(f"/api/v1/people/{ids.user('sec_admin')}/roles", json={"role": "admin"})
    assert mine.status_code == 403 and "自己" in mine.get_json()["error"]["message"]
    own = security.delete(f"/api/v1/people/{ids.user('sec_admin')}/roles/"
                          f"{grant_id(app, 'sec_admin', 'security_admin')}")
    assert own.status_code == 403
    clerk_of_mine = unit_admin.post(f"/api/v1/people/{ids.user('kc_admin')}/roles",
                                    json={"role": "clerk", "unit_id": ids.unit("330802-GOV")})
    assert clerk_of_mine.status_code == 403
    assert roles_of(app, "sec_admin") == {("security_admin", None)}


@pytest.mark.parametrize("login, role", [("admin", "auditor"), ("admin", "security_admin"),
                                         ("auditor", "admin"), ("auditor", "security_admin"),
                                         ("auditor", "unit_admin"), ("kc_admin", "auditor"),
                                         ("kc_admin", "security_admin")])
def test_the_three_duties_are_held_by_three_people(app, api, ids, login, role):
    """A person holds duties of one kind: system (admin, unit_admin), security or audit."""
    data = {"role": role, "unit_id": ids.unit("330802")} if role == "unit_admin" else {"role": role}
    refused = api("sec_admin").post(f"/api/v1/people/{ids.user(login)}/roles", json=data)
    assert refused.status_code == 409, refused.get_json()
    error = refused.get_json()["error"]
    assert "三员分立" in error["message"] and error["field"] == "role"
    assert role not in {r for r, _ in roles_of(app, login)}


def test_a_system_admin_may_also_be_a_unit_admin(app, api, ids):
    """Both manage the org tree and people: one kind of duty."""
    granted = api("sec_admin").post(f"/api/v1/people/{ids.user('kc_admin')}/roles", json={"role": "admin"})
    assert granted.status_code == 201


def test_a_unit_admin_grants_clerk_and_leader_in_their_subtree_only(app, api, ids):
    kc_admin, village = api("kc_admin"), ids.unit("330802100202")
    person = ids.user("mp_director")
    assert kc_admin.post(f"/api/v1/people/{person}/roles",
                         json={"role": "leader", "unit_id": village}).status_code == 201
    unit_admin = kc_admin.post(f"/api/v1/people/{person}/roles",
                               json={"role": "unit_admin", "unit_id": village})
    assert unit_admin.status_code == 403
    assert api("qj_admin").post(f"/api/v1/people/{person}/roles",
                                json={"role": "leader", "unit_id": village}).status_code == 404
    assert roles_of(app, "mp_director") == {("leader", village)}


def test_the_grant_form_offers_each_duty_what_it_may_grant(client, login, ids):
    person = ids.user("mp_director")
    login("kc_admin")
    page = client.get(f"/admin/people/{person}").get_data(as_text=True)
    offered = re.findall(r'<option value="([a-z_]+)"', page)
    assert {"clerk", "leader"} <= set(offered) and not {"admin", "unit_admin", "auditor"} & set(offered)
    client.post("/auth/logout")
    login("sec_admin")
    page = client.get(f"/admin/people/{person}").get_data(as_text=True)
    assert {r.value for r in Role if r != Role.MEMBER} <= set(re.findall(r'<option value="([a-z_]+)"', page))
    assert "重置密码" not in page and "调动" not in page and "停用账号" not in page


# ---- Locks ------------------------------------------------------------------------------------

def test_the_security_admin_unlocks_an_account(app, client, login, ids):
    sign_in = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        sign_in.post("/auth/login", data={"login": "mp_director", "password": "wrong"})
    assert sign_in.post("/auth/login", data={"login": "mp_director", "password": PASSWORD}).status_code == 401
    person = ids.user("mp_director")
    login("kc_admin")
    assert client.post(f"/admin/people/{person}/unlock").status_code == 403
    client.post("/auth/logout")
    login("sec_admin")
    security_page = client.get("/admin/security").get_data(as_text=True)
    assert "被锁定的账号" in security_page and "mp_director" in security_page
    assert "已锁定" in client.get(f"/admin/people/{person}").get_data(as_text=True)
    response = client.post(f"/admin/people/{person}/unlock", data={"back": "security"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/security")
    assert sign_in.post("/auth/login", data={"login": "mp_director", "password": PASSWORD}).status_code == 302
    entry = last_audit(app, "auth.unlocked")
    assert (entry.actor_login, entry.target_id) == ("sec_admin", person)


def test_unlocking_an_account_that_is_not_locked_changes_nothing(app, client, login, ids):
    login("sec_admin")
    response = client.post(f"/admin/people/{ids.user('mp_director')}/unlock", follow_redirects=True)
    assert "未被锁定" in response.get_data(as_text=True)
    assert last_audit(app, "auth.unlocked") is None


def test_the_security_admin_unlocks_an_account_through_the_api(app, api, ids):
    sign_in = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        sign_in.post("/api/v1/auth/token", json={"login": "mp_director", "password": "wrong"})
    assert sign_in.post("/api/v1/auth/token",
                        json={"login": "mp_director", "password": PASSWORD}).status_code == 401
    person = ids.user("mp_director")
    assert api("kc_admin").post(f"/api/v1/people/{person}/unlock").status_code == 403
    security = api("sec_admin")
    response = security.post(f"/api/v1/people/{person}/unlock")
    assert response.status_code == 200 and response.get_json() == {"unlocked": True, "was_locked": True}
    assert sign_in.post("/api/v1/auth/token",
                        json={"login": "mp_director", "password": PASSWORD}).status_code == 200
    assert security.post(f"/api/v1/people/{person}/unlock").get_json()["was_locked"] is False
    entry = last_audit(app, "auth.unlocked")
    assert (entry.actor_login, entry.target_id) == ("sec_admin", person)


# ---- Who sees which pages ------------------------------------------------------------------------

def test_each_duty_sees_only_its_own_admin_pages(client, login):
    login("admin")
    assert nav(client.get("/admin/").get_data(as_text=True)) == [
        "组织架构", "新建人员", "批量导入", "发文负担", "频道登记"]
    client.post("/auth/logout")
    login("sec_admin")
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/security")
    assert nav(client.get("/admin/security").get_data(as_text=True)) == ["安全管理"]
    client.post("/auth/logout")
    login("auditor")
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/audit")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert nav(page) == ["审计日志"] and 'href="/admin/"' in page      # 管理 in the top bar
    client.post("/auth/logout")
    login("mp_secretary")
    assert 'href="/admin/"' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/people/new", "/admin/import", "/admin/burden", "/channels/register",
                                  "/admin/units/{330802100}", "/admin/audit"])
def test_the_security_admin_manages_no_people_and_reads_no_audit_log(client, login, ids, path):
    login("sec_admin")
    path = path.replace("{330802100}", str(ids.unit("330802100")))
    assert client.get(path).status_code == 403


def test_the_security_admin_does_not_reset_passwords(app, client, api, login, ids):
    """Password resets are account management: the system admin's (and unit
    admins' in their subtree), not the security admin's."""
    person = ids.user("mp_director")
    assert api("sec_admin").post(f"/api/v1/people/{person}/password",
                                 json={"password": "Reset-pass-2026"}).status_code == 403
    login("sec_admin")
    assert client.post(f"/admin/people/{person}/password", data={
        "password": "Reset-pass-2026", "confirm_password": "Reset-pass-2026"}).status_code == 403
    assert api("admin").post(f"/api/v1/people/{person}/password",
                             json={"password": "Reset-pass-2026"}).status_code == 200


@pytest.mark.parametrize("login_", ["sec_admin", "auditor"])
def test_the_accounts_of_the_other_duties_are_out_of_the_admins_reach(api, ids, login_):
    """The system admin cannot reset the auditor's password or disable the
    security admin: those accounts are issued and reset from the console."""
    admin, person = api("admin"), ids.user(login_)
    assert admin.post(f"/api/v1/people/{person}/password",
                      json={"password": "Reset-pass-2026"}).status_code == 404
    assert admin.patch(f"/api/v1/people/{person}", json={"active": False}).status_code == 404
    assert api(login_).get("/api/v1/me").status_code == 200


def test_a_unit_admin_cannot_take_over_a_system_admin_of_their_subtree(app, api, ids):
    admin = api("admin")
    moved = admin.post(f"/api/v1/people/{ids.user('admin')}/memberships",
                       json={"unit_id": ids.unit("330802-GOV")})
    assert moved.status_code == 201
    kc_admin = api("kc_admin")
    assert kc_admin.post(f"/api/v1/people/{ids.user('admin')}/password",
                         json={"password": "Reset-pass-2026"}).status_code == 404
    assert kc_admin.patch(f"/api/v1/people/{ids.user('admin')}", json={"active": False}).status_code == 404


# ---- Issuing the duties from the console ---------------------------------------------------------

def test_the_console_issues_a_security_admin_and_an_auditor(app, api):
    runner = app.test_cli_runner()
    for login, role in (("anquan", "security_admin"), ("shenji", "auditor")):
        result = runner.invoke(args=["hub", "create-admin", login, "Strong-pass-2026", "--role", role])
        assert result.exit_code == 0, result.output
        assert ("security administrator" if role == "security_admin" else "auditor") in result.output
        assert roles_of(app, login) == {(role, None)}
        token = app.test_client().post("/api/v1/auth/token",
                                       json={"login": login, "password": "Strong-pass-2026"})
        assert token.status_code == 200
    refused = runner.invoke(args=["hub", "create-admin", "admin", "Strong-pass-2026", "--role", "auditor"])
    assert refused.exit_code != 0 and "三员分立" in refused.output
    assert roles_of(app, "admin") == {("admin", None)}
    again = runner.invoke(args=["hub", "create-admin", "shenji", "Other-pass-2026", "--role", "auditor"])
    assert again.exit_code == 0 and "reset auditor shenji" in again.output


def test_there_is_no_sign_up(app, client):
    """Accounts are issued: no page or API creates one for an anonymous caller,
    and signing in with an unknown login creates nothing."""
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    for path in ("/auth/register", "/auth/signup", "/auth/sign-up", "/register", "/signup",
                 "/api/v1/auth/register", "/api/v1/auth/signup", "/api/v1/register"):
        response = client.post(path, data={"login": "newbie", "password": "Strong-pass-2026"})
        assert response.status_code in (404, 405), path
    assert client.post("/api/v1/people", json={"login": "newbie", "name": "新人"}).status_code == 401
    refused = client.post("/auth/login", data={"login": "newbie", "password": "Strong-pass-2026"})
    assert refused.status_code == 401
    assert client.post("/api/v1/auth/token", json={"login": "newbie", "password": "x"}).status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before
