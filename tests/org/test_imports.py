"""Imports of units and people (API.md "Org tree"): the API, the CLI and the
functions behind them. All or nothing, idempotent, scoped, every error numbered."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from config import Config
from hub.audit import AuditEntry
from hub.passwords import verify_password
from hub.extensions import db
from hub.org.imports import import_people, import_units
from hub.org.models import Unit, User
from hub.validation import text_problem
from tests.naughty import naughty_strings

ZHEJIANG = Path(Config.DATA_DIR) / "divisions-zhejiang.csv"
CAST_CODES_IN_ZHEJIANG = {"33", "3308", "330802", "330803", "330802100", "330802100202",
                          "330803100"}
UNIT_HEADER = ("code", "name", "parent_code")
PEOPLE_HEADER = ("login", "name", "unit_code", "position", "password", "roles")
STRONG = "Chu-shi-2026"


# --- helpers -----------------------------------------------------------------------------------

def csv_bytes(rows, header=UNIT_HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="surrogateescape")


def upload(client, kind: str, data: bytes, filename: str = "import.csv", dry_run: bool = False):
    path = f"/api/v1/{kind}/import" + ("?dry_run=1" if dry_run else "")
    return client.post(path, data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def report_of(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def errors_at(report: dict) -> set[tuple[int, str | None]]:
    return {(e["row"], e.get("column")) for e in report["errors"]}


def units_snapshot(app) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(select(
            Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.path, Unit.depth,
            Unit.sort_order).order_by(Unit.id))]


def unit_of(app, code: str) -> dict | None:
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            return None
        return {"name": unit.name, "kind": unit.kind, "path": unit.path, "depth": unit.depth,
                "parent": unit.parent.code if unit.parent else None, "id": unit.id,
                "sort_order": unit.sort_order}


def audit_actions(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def tree_is_consistent(app) -> bool:
    """Every path is the parent's path plus the own id; depth follows."""
    with app.app_context():
        units = {u.id: u for u in db.session.scalars(select(Unit))}
        for unit in units.values():
            parent = units.get(unit.parent_id)
            if unit.path != (parent.path if parent else "/") + f"{unit.id}/":
                return False
            if unit.depth != (parent.depth + 1 if parent else 0):
                return False
        return True


# --- units: the whole province -----------------------------------------------------------------

@pytest.mark.slow
def test_whole_province_imports_once_and_then_changes_nothing(app, api):
    """27,036 rows through the API (a few seconds per backend, see docs/PERFORMANCE.md)."""
    data = ZHEJIANG.read_bytes()
    rows = len(data.decode("utf-8").splitlines()) - 1
    admin = api("admin")
    first = report_of(upload(admin, "units", data, "divisions-zhejiang.csv"))
    assert first["errors"] == [] and first["applied"] is True
    assert first["created"] == rows - len(CAST_CODES_IN_ZHEJIANG)
    assert (first["updated"], first["unchanged"]) == (0, len(CAST_CODES_IN_ZHEJIANG))
    again = report_of(upload(admin, "units", data, "divisions-zhejiang.csv"))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, rows)
    village = unit_of(app, "330102001051")
    assert village["kind"] == "village" and village["depth"] == 4
    assert unit_of(app, "330802-GOV")["parent"] == "330802"       # not in the file, kept
    assert tree_is_consistent(app)
    assert len(audit_actions(app, "unit.imported")) == 2


# --- units: small files ------------------------------------------------------------------------

def test_new_units_with_parents_later_in_the_file_get_paths_and_order(app, api):
    data = csv_bytes([("S2", "西区", "S1"), ("S1", "试验区", "330802"),
                      ("S3", "东区", "S1"), ("S4", "南村", "S3")])
    report = report_of(upload(api("admin"), "units", data))
    assert (report["created"], report["updated"], report["unchanged"]) == (4, 0, 0)
    s1, s2, s3, s4 = (unit_of(app, code) for code in ("S1", "S2", "S3", "S4"))
    county = unit_of(app, "330802")
    assert s1["path"] == county["path"] + f"{s1['id']}/" and s1["depth"] == 3
    assert s4["path"] == county["path"] + f"{s1['id']}/{s3['id']}/{s4['id']}/"
    assert (s2["sort_order"], s3["sort_order"]) == (1, 2)
    assert s1["kind"] == "other" and tree_is_consistent(app)


def test_reimport_is_unchanged_and_changes_update_by_code(app, api):
    admin = api("admin")
    data = csv_bytes([("T1", "甲镇", "330802", "town"), ("T2", "乙村", "T1", "village")],
                     header=("code", "name", "parent_code", "kind"))
    assert report_of(upload(admin, "units", data))["created"] == 2
    same = report_of(upload(admin, "units", data))
    assert (same["created"], same["updated"], same["unchanged"]) == (0, 0, 2)
    changed = csv_bytes([("T1", "甲街道", "330802", "town"), ("T2", "乙村", "T1", "other")],
                        header=("code", "name", "parent_code", "kind"))
    report = report_of(upload(admin, "units", changed))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 2, 0)
    assert unit_of(app, "T1")["name"] == "甲街道" and unit_of(app, "T2")["kind"] == "other"


def test_changed_parent_moves_the_whole_subtree(app, api):
    data = csv_bytes([("330802100", "石梁镇", "330803")])
    report = report_of(upload(api("admin"), "units", data))
    assert (report["updated"], report["applied"]) == (1, True)
    town, village, county = (unit_of(app, c) for c in ("330802100", "330802100202", "330803"))
    assert town["parent"] == "330803" and town["path"] == county["path"] + f"{town['id']}/"
    assert village["path"] == town["path"] + f"{village['id']}/" and village["depth"] == 4
    assert tree_is_consistent(app)


def test_every_error_is_reported_with_its_row_and_nothing_is_applied(app, api):
    before = units_snapshot(app)
    data = csv_bytes([
        ("E1", "好名字", "NOPE"),           # 2: unknown parent
        ("C1", "甲", "C2"),                  # 3: cycle in the file
        ("C2", "乙", "C1"),                  # 4: cycle in the file
        ("D1", "丙", "330802"),              # 5: first of a duplicate (fine)
        ("D1", "丁", "330802"),              # 6: duplicate code
        ("E2", "", "330802"),                # 7: empty name
        ("E3", "长" * 10_000, "330802"),     # 8: 10,000 characters
        ("E4", "响铃\x07", "330802"),        # 9: control character
        ("坏 码", "名字", "330802"),          # 10: bad code
        ("E5", "好名字", "330802"),           # 11: fine
    ])
    report = report_of(upload(api("admin"), "units", data))
    assert errors_at(report) == {(2, "parent_code"), (3, "parent_code"), (4, "parent_code"),
                                 (6, "code"), (7, "name"), (8, "name"), (9, "name"),
                                 (10, "code")}
    assert [e["row"] for e in report["errors"]] == sorted(e["row"] for e in report["errors"])
    assert report["applied"] is False
    assert units_snapshot(app) == before and audit_actions(app, "unit.imported") == []


def test_unknown_kind_is_a_row_error_and_chinese_labels_are_kinds(app, api):
    header = ("code", "name", "parent_code", "kind")
    report = report_of(upload(api("admin"), "units", csv_bytes(
        [("K7", "甲", "330802", "乡镇（街道）"), ("K8", "乙", "330802", "hamlet")], header)))
    assert errors_at(report) == {(3, "kind")} and "hamlet" in report["errors"][0]["message"]
    assert report_of(upload(api("admin"), "units", csv_bytes(
        [("K7", "甲", "330802", "乡镇（街道）")], header)))["created"] == 1
    assert unit_of(app, "K7")["kind"] == "town"


def test_moving_a_unit_under_its_own_descendant_is_refused(app, api):
    before = units_snapshot(app)
    report = report_of(upload(api("admin"), "units", csv_bytes([
        ("T9", "新镇", "330803"), ("330802", "柯城区", "330802100202")])))
    assert errors_at(report) == {(3, "parent_code")}
    assert "下级单位" in report["errors"][0]["message"]
    assert units_snapshot(app) == before


def test_a_valid_rearrangement_through_the_old_subtree_is_accepted(app, api):
    """The town leaves the county first, so the county may then go under it."""
    report = report_of(upload(api("admin"), "units", csv_bytes([
        ("330802", "柯城区", "330802100"), ("330802100", "石梁镇", "3308")])))
    assert report["errors"] == [] and report["updated"] == 2
    assert unit_of(app, "330802")["parent"] == "330802100"
    assert unit_of(app, "330802100202")["parent"] == "330802100"
    assert tree_is_consistent(app)


def test_naughty_names_are_stored_exactly_or_reported(app, api):
    admin = api("admin")
    strings = naughty_strings()
    rows = [(f"B{n}", name, "330802100") for n, name in enumerate(strings)]
    invalid_rows = {n + 2 for n, name in enumerate(strings)
                    if text_problem(name.strip(), max_length=100) is not None}
    assert 5 < len(invalid_rows) < len(strings) - 400
    before = units_snapshot(app)
    report = report_of(upload(admin, "units", csv_bytes(rows)))
    assert {e["row"] for e in report["errors"]} == invalid_rows
    assert all(e["column"] == "name" for e in report["errors"]) and not report["applied"]
    assert units_snapshot(app) == before

    valid = [row for n, row in enumerate(rows) if n + 2 not in invalid_rows]
    assert report_of(upload(admin, "units", csv_bytes(valid)))["created"] == len(valid)
    with app.app_context():
        stored = dict(db.session.execute(select(Unit.code, Unit.name)
                                         .where(Unit.code.like("B%"))).all())
    assert stored == {code: name.strip() for code, name, _ in valid}
    for exact in ("<script>alert(0)</script>", "NULL", "' OR 1=1 -- 1", "田中さんにあげて下さい"):
        assert exact in stored.values()

    mixed = [(f"M{n}", name, "330802100") for n, (_, name, _) in enumerate(valid[:50])]
    mixed.insert(25, ("M-bad", "Roses are \x1b[0;31mred\x1b[0m", "330802100"))
    before = units_snapshot(app)
    report = report_of(upload(admin, "units", csv_bytes(mixed)))
    assert errors_at(report) == {(27, "name")} and report["applied"] is False
    assert units_snapshot(app) == before


def test_dry_run_counts_but_writes_nothing(app, api):
    before = units_snapshot(app)
    data = csv_bytes([("DR1", "试运行", "330802"), ("330802100", "石梁镇改", "330802")])
    report = report_of(upload(api("admin"), "units", data, dry_run=True))
    assert (report["created"], report["updated"], report["dry_run"], report["applied"]) == \
        (1, 1, True, False)
    assert units_snapshot(app) == before and audit_actions(app, "unit.imported") == []


def test_one_audit_entry_per_applied_import(app, api):
    data = csv_bytes([(f"A{n}", f"单位{n}", "330802") for n in range(5)])
    report_of(upload(api("admin"), "units", data, filename="five.csv"))
    [entry] = audit_actions(app, "unit.imported")
    assert json.loads(entry.after) == {"created": 5, "updated": 0, "unchanged": 0,
                                       "file": "five.csv"}
    with app.app_context():
        assert entry.actor_id == db.session.scalar(select(User.id).where(User.login == "admin"))


def test_xlsx_with_numeric_codes_and_level_column(app, api):
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "parent_code", "level"])
    sheet.append([330802901, "新城街道", 330802, "town"])
    sheet.append(["330802901001", "新城社区", "330802901", "village"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = report_of(upload(api("admin"), "units", buffer.getvalue(), "units.xlsx"))
    assert (report["created"], report["errors"]) == (2, [])
    town = unit_of(app, "330802901")
    assert (town["name"], town["kind"], town["parent"]) == ("新城街道", "town", "330802")
    assert unit_of(app, "330802901001")["parent"] == "330802901"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_from_excel_in_utf8_bom_or_gb18030(app, api, encoding):
    data = csv_bytes([("G1", "衢州市柯城区荷花街道办事处", "330802")], encoding=encoding)
    assert report_of(upload(api("admin"), "units", data))["created"] == 1
    assert unit_of(app, "G1")["name"] == "衢州市柯城区荷花街道办事处"


@pytest.mark.parametrize("filename, data", [
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
    ("units.xlsx", b"this is not a spreadsheet"),
    ("units.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("units.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
])
def test_a_file_that_is_neither_csv_nor_xlsx_is_a_400_on_file(api, filename, data):
    response = upload(api("admin"), "units", data, filename)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "file"


def test_missing_file_is_a_400_on_file(api):
    response = api("admin").post("/api/v1/units/import", data={},
                                 content_type="multipart/form-data")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_input", "file") and error["message"]


@pytest.mark.parametrize("data, column", [
    (b"", None),
    (b"code,name\nX1,name\n", "parent_code"),
    (b"code,title,parent_code\nX1,name,33\n", "name"),
])
def test_empty_file_or_missing_column_is_a_row_1_error(api, data, column):
    report = report_of(upload(api("admin"), "units", data))
    assert errors_at(report) == {(1, column)} and report["applied"] is False


def test_stray_bytes_in_a_utf8_file_are_row_errors(app, api):
    admin = api("admin")
    units = ("code,name,parent_code\nU1,柯城区测试单位,330802\nU2,坏".encode() + b"\xff"
             + ",330802\nU3,好名字,33".encode() + b"\xfe\n")
    report = report_of(upload(admin, "units", units))
    assert errors_at(report) == {(3, "name"), (4, "parent_code")} and not report["applied"]
    people = (",".join(PEOPLE_HEADER) + "\nzhao_liu,赵六,330802\udcff,科员,,\n").encode(
        "utf-8", errors="surrogateescape") + "qian_qi,钱七,330802,科员,,\n".encode()
    report = report_of(upload(admin, "people", people))
    assert errors_at(report) == {(2, "unit_code")}
    nul = upload(admin, "units", b"code,name,parent_code\nU1,a\x00b,33\n")
    assert nul.status_code == 400 and nul.get_json()["error"]["field"] == "file"


# --- units: who may import ---------------------------------------------------------------------

def test_unit_admin_imports_inside_their_county(app, api):
    report = report_of(upload(api("kc_admin"), "units", csv_bytes([("K1", "新村", "330802100")])))
    assert (report["created"], report["applied"]) == (1, True)


def test_unit_admin_cannot_import_under_another_county(app, api):
    before = units_snapshot(app)
    report = report_of(upload(api("kc_admin"), "units", csv_bytes([
        ("K2", "柯城新村", "330802100"),       # fine on its own
        ("Q1", "衢江新村", "330803100"),       # 3: parent outside the subtree
        ("330803100", "上方镇改名", "330803"),  # 4: existing unit outside
        ("R1", "新省", ""),                   # 5: a root needs a system admin
    ])))
    assert errors_at(report) == {(3, "parent_code"), (4, "code"), (5, "parent_code")}
    assert "不在您的管理范围内" in report["errors"][0]["message"]
    assert report["applied"] is False and units_snapshot(app) == before


@pytest.mark.parametrize("kind", ["units", "people"])
def test_a_plain_member_gets_403(api, kind):
    response = upload(api("mp_secretary"), kind, csv_bytes([("X", "x", "330802")]))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_allowed"


def test_progress_adds_up_to_the_rows(cast):
    steps: list[int] = []
    data = csv_bytes([(f"P{n}", f"单位{n}", "330802") for n in range(7)] +
                     [("330802100", "石梁镇", "330802")])
    report = import_units(None, "p.csv", data, progress=steps.append)
    assert report.applied and sum(steps) == 8 and all(step > 0 for step in steps)


# --- people ------------------------------------------------------------------------------------

def person(app, login: str) -> dict | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            return None
        return {"name": user.name, "hash": user.password_hash,
                "must_change": user.must_change_password,
                "units": sorted((m.unit.code, m.position, m.is_primary) for m in user.memberships),
                "roles": sorted((g.role, g.unit.code if g.unit else None) for g in user.roles)}


NEW_PEOPLE = [
    ("zhang_san", "张三", "330802100", "副镇长", STRONG, "leader;clerk"),
    ("li_si", "李四", "330802100202", "村文书", STRONG, ""),
    ("wang_wu", "王五", "330802-GOV", "科员", "", "member"),
]


def test_people_are_created_with_membership_roles_and_one_hash(app, api, monkeypatch):
    import hub.org.imports_people as importer
    hashed: list[str] = []
    real_hash = importer.hash_password
    monkeypatch.setattr(importer, "hash_password", lambda pw: hashed.append(pw) or real_hash(pw))
    report = report_of(upload(api("kc_admin"), "people", csv_bytes(NEW_PEOPLE, PEOPLE_HEADER)))
    assert (report["created"], report["updated"], report["errors"]) == (3, 0, [])
    zhang, li, wang = person(app, "zhang_san"), person(app, "li_si"), person(app, "wang_wu")
    assert zhang["units"] == [("330802100", "副镇长", True)]
    assert zhang["roles"] == [("clerk", "330802100"), ("leader", "330802100")]
    assert li["roles"] == [] and wang["roles"] == []
    with app.app_context():
        assert zhang["must_change"] and verify_password(zhang["hash"], STRONG)
    assert hashed == [STRONG] and zhang["hash"] == li["hash"]    # one argon2 hash per password
    assert wang["hash"] is None and not wang["must_change"]
    [entry] = audit_actions(app, "person.imported")
    assert json.loads(entry.after)["created"] == 3


def test_people_reimport_is_unchanged_even_with_another_password(app, api):
    admin = api("kc_admin")
    report_of(upload(admin, "people", csv_bytes(NEW_PEOPLE, PEOPLE_HEADER)))
    hash_before = person(app, "zhang_san")["hash"]
    rows = [(*row[:4], "Other-pass-99", row[5]) for row in NEW_PEOPLE]
    rows.append(("sl_clerk", "周晓梅", "330802100", "党政办文书", "", "clerk"))   # from the cast
    report = report_of(upload(admin, "people", csv_bytes(rows, PEOPLE_HEADER)))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 4)
    assert person(app, "zhang_san")["hash"] == hash_before


def test_people_update_position_unit_and_roles(app, api):
    report_of(upload(api("kc_admin"), "people", csv_bytes(NEW_PEOPLE, PEOPLE_HEADER)))
    moved = [("zhang_san", "张三", "330802-GOV", "副主任", "", "clerk;unit_admin"),
             ("li_si", "李四", "330802100202", "村主任", "", "leader"),
             ("sl_clerk", "周晓梅", "330802100", "党政办主任", "", "clerk")]
    with app.app_context():       # unit_admin: only the console (or the security admin) grants it
        report = import_people(None, "moved.csv", csv_bytes(moved, PEOPLE_HEADER)).as_json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 3, 0)
    zhang = person(app, "zhang_san")
    assert zhang["units"] == [("330802-GOV", "副主任", True)]
    assert zhang["roles"] == [("clerk", "330802-GOV"), ("unit_admin", "330802-GOV")]
    assert person(app, "li_si")["roles"] == [("leader", "330802100202")]
    assert person(app, "sl_clerk")["units"] == [("330802100", "党政办主任", True)]


def test_roles_in_a_file_follow_the_duties(app, api):
    """三员分立: the system admin imports people but sets no roles; a unit admin
    sets clerk and leader in their subtree, not unit_admin; security_admin and
    auditor are never imported."""
    rows = [("zhang_san", "张三", "330802100", "副镇长", "", "leader"),          # 2
            ("li_si", "李四", "330802100202", "村文书", "", "")]                  # 3: no roles: fine
    report = report_of(upload(api("admin"), "people", csv_bytes(rows, PEOPLE_HEADER)))
    assert errors_at(report) == {(2, "roles")} and "三员分立" in report["errors"][0]["message"]
    existing = [("sl_clerk", "周晓梅", "330802100", "党政办文书", "", "")]       # would revoke 文书
    assert errors_at(report_of(upload(api("admin"), "people",
                                      csv_bytes(existing, PEOPLE_HEADER)))) == {(2, "roles")}
    rows = [("zhang_san", "张三", "330802100", "副镇长", "", "unit_admin"),      # 2
            ("li_si", "李四", "330802100202", "村文书", "", "auditor"),          # 3
            ("wang_wu", "王五", "330802100202", "村干部", "", "安全管理员")]      # 4
    report = report_of(upload(api("kc_admin"), "people", csv_bytes(rows, PEOPLE_HEADER)))
    assert errors_at(report) == {(2, "roles"), (3, "roles"), (4, "roles")}
    assert "create-admin" in report["errors"][1]["message"]
    assert person(app, "zhang_san") is None


def test_imports_never_touch_the_accounts_of_the_other_duties(app, api):
    rows = [("sec_admin", "钱安平", "3308", "安全员", "", "")]
    report = report_of(upload(api("admin"), "people", csv_bytes(rows, PEOPLE_HEADER)))
    assert errors_at(report) == {(2, "login")}
    assert person(app, "sec_admin")["units"] == []


def test_without_a_roles_column_roles_are_left_alone(app, api):
    data = csv_bytes([("sl_clerk", "周晓梅", "330802100", "办公室主任")], PEOPLE_HEADER[:4])
    report = report_of(upload(api("admin"), "people", data))
    assert report["updated"] == 1
    sl_clerk = person(app, "sl_clerk")
    assert sl_clerk["units"] == [("330802100", "办公室主任", True)]
    assert sl_clerk["roles"] == [("clerk", "330802100")]


def test_people_errors_are_numbered_and_nothing_is_applied(app, api):
    with app.app_context():
        users_before = db.session.scalar(select(func.count()).select_from(User))
    rows = [("ok_one", "好人", "330802100", "干事", STRONG, ""),
            ("weak_pw", "弱密码", "330802100", "干事", "123456", ""),      # 3
            ("ok_one", "重复", "330802100", "干事", "", ""),              # 4
            ("lost", "无单位", "NOPE", "干事", "", ""),                    # 5
            ("x", "短账号", "330802100", "干事", "", ""),                  # 6
            ("bad_role", "怪角色", "330802100", "干事", "", "boss"),       # 7
            ("long_pos", "长职务", "330802100", "职" * 65, "", "")]        # 8
    report = report_of(upload(api("admin"), "people", csv_bytes(rows, PEOPLE_HEADER)))
    assert errors_at(report) == {(3, "password"), (4, "login"), (5, "unit_code"),
                                 (6, "login"), (7, "roles"), (8, "position")}
    assert report["applied"] is False and person(app, "ok_one") is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users_before


def test_retired_unit_is_an_error(app, api):
    with app.app_context():
        db.session.scalar(select(Unit).where(Unit.code == "330803100")).active = False
        db.session.commit()
    rows = [("new_one", "新人", "330803100", "干事", "", "")]
    report = report_of(upload(api("admin"), "people", csv_bytes(rows, PEOPLE_HEADER)))
    assert errors_at(report) == {(2, "unit_code")} and "撤销" in report["errors"][0]["message"]


def test_unit_admin_imports_people_only_in_scope_and_never_admin(app, api):
    kc_admin = api("kc_admin")
    rows = [("kc_new", "柯新", "330802100", "干事", "", "clerk"),
            ("kc_boss", "柯总", "330802100", "干事", "", "admin"),        # 3: admin role
            ("qj_new", "衢新", "330803100", "干事", "", ""),              # 4: other county
            ("sf_member", "陈国平", "330802100", "镇长", "", "")]          # 5: person outside
    report = report_of(upload(kc_admin, "people", csv_bytes(rows, PEOPLE_HEADER)))
    assert errors_at(report) == {(3, "roles"), (4, "unit_code"), (5, "login")}
    assert person(app, "kc_new") is None
    report = report_of(upload(kc_admin, "people", csv_bytes(rows[:1], PEOPLE_HEADER)))
    assert report["created"] == 1
    assert person(app, "kc_new")["roles"] == [("clerk", "330802100")]


def test_only_the_console_imports_admins(app, api):
    rows = [("new_admin", "新管理员", "3308", "工程师", STRONG, "admin")]
    assert errors_at(report_of(upload(api("admin"), "people",
                                      csv_bytes(rows, PEOPLE_HEADER)))) == {(2, "roles")}
    assert person(app, "new_admin") is None
    with app.app_context():
        assert import_people(None, "admins.csv", csv_bytes(rows, PEOPLE_HEADER)).created == 1
        auditor_too = [("auditor", "冯审言", "3308", "审计员", "", "admin")]
        report = import_people(None, "admins.csv", csv_bytes(auditor_too, PEOPLE_HEADER))
        assert [(e.column, "三员分立" in e.message) for e in report.errors] == [("roles", True)]
    assert person(app, "new_admin")["roles"] == [("admin", None)]


# --- command line ------------------------------------------------------------------------------

def test_cli_imports_units_and_people(app, tmp_path):
    units_file = tmp_path / "units.csv"
    units_file.write_bytes(csv_bytes([("CLI1", "命令行镇", "330802"), ("CLI2", "命令行村", "CLI1")]))
    people_file = tmp_path / "people.csv"
    people_file.write_bytes(csv_bytes([("cli_user", "命令行", "CLI2", "村干部", STRONG, "leader")],
                                      PEOPLE_HEADER))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["hub", "import-units", str(units_file), "--dry-run"])
    assert dry.exit_code == 0 and "created 2" in dry.output
    assert unit_of(app, "CLI1") is None
    result = runner.invoke(args=["hub", "import-units", str(units_file)])
    assert result.exit_code == 0, result.output
    assert "created 2, updated 0, unchanged 0, errors 0" in result.output
    assert unit_of(app, "CLI2")["parent"] == "CLI1"
    result = runner.invoke(args=["hub", "import-people", str(people_file)])
    assert result.exit_code == 0 and "created 1" in result.output
    assert person(app, "cli_user")["roles"] == [("leader", "CLI2")]
    [entry] = audit_actions(app, "unit.imported")
    assert entry.actor_id is None and entry.actor_login == "(console)"


def test_cli_reports_row_errors_with_exit_code_1(app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([("OK1", "好", "330802"), ("OK2", "", "330802")]))
    result = app.test_cli_runner().invoke(args=["hub", "import-units", str(bad)])
    assert result.exit_code == 1
    assert "row 3 [name]" in result.output and unit_of(app, "OK1") is None
