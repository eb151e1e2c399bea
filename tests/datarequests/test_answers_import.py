"""代下级导入 (issue 15 §5): a town imports the answers of its villages, which
reported on paper, from the export's XLSX layout — all or nothing, errors by
row and column, imported values saying so, the unit marked submitted by
import. Missing, extra or moved columns, merged cells and formulas are errors
with nothing applied."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from hub.audit import AuditEntry
from hub.datarequests import answers_import
from hub.datarequests.export import excel_text
from hub.datarequests.models import DataRequest, DataValue, DataValueHistory
from hub.errors import HubError
from hub.extensions import db
from hub.org.models import User
from tests.commits import counted_commits
from tests.naughty import HUB_STRINGS, naughty_strings, sendable
from tests.datarequests.conftest import TOWN, VILLAGE, add_field, by_field, form, ok, send, submit

HEADER = ["单位编码", "单位", "状态"]


def _book(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(person, request_id: int, data: bytes, dry_run: bool = False):
    path = f"/api/v1/data/requests/{request_id}/import" + ("?dry_run=1" if dry_run else "")
    return person.post(path, data={"file": (io.BytesIO(data), "导入表.xlsx")},
                       content_type="multipart/form-data")


def _template(person, request_id: int) -> list[list]:
    response = person.get(f"/api/v1/data/requests/{request_id}/import/template")
    assert response.status_code == 200, response.get_json(silent=True)
    return [list(row) for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]


def _fill(rows: list[list], code: str, values: list) -> list[list]:
    """The template with the row of `code` filled in from the fourth column on."""
    return [row[:3] + values if str(row[0]) == code else row for row in rows]


def _town_request(api, ids) -> tuple[int, dict[str, int]]:
    office = api("kc_clerk")
    fields = {"people": add_field(office, "常住人口")["id"],
              "area": add_field(office, "耕地面积", kind="number", unit_of_measure="亩")["id"],
              "gas": add_field(office, "是否通燃气", kind="choice", choices=["是", "否"])["id"],
              "note": add_field(office, "备注", kind="text", period_kind="year")["id"]}
    request_id = send(office, list(fields.values()), {"subtrees": [ids.unit(TOWN)]})["id"]
    return request_id, fields


def _held(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(DataValue.id)))


def test_a_town_imports_its_villages_paper_answers(app, api, ids):
    request_id, fields = _town_request(api, ids)
    office, clerk = api("kc_clerk"), api("sl_clerk")
    template = _template(clerk, request_id)
    assert template[0] == HEADER + ["常住人口（人）", "耕地面积（亩）", "是否通燃气", "备注"]
    assert [str(row[0]) for row in template[1:]] == [TOWN, VILLAGE]           # the town and its village
    filled = _fill(template, VILLAGE, [1630, 812.5, "是", "纸质报表，村主任签字"])
    checked = ok(_upload(clerk, request_id, _book(filled), dry_run=True))
    assert checked == {"created": 4, "updated": 0, "unchanged": 0, "errors": [], "applied": False,
                       "dry_run": True, "units": 1}
    assert _held(app) == 0
    applied = ok(_upload(clerk, request_id, _book(filled)))
    assert (applied["applied"], applied["units"], applied["created"]) == (True, 1, 4)

    village = ids.unit(VILLAGE)
    answer = form(office, request_id, village)
    assert (answer["status"], answer["submitted_via"], answer["version"]) == ("submitted", "import", 1)
    values = by_field(answer)
    assert values[fields["people"]]["value"] == 1630
    assert values[fields["note"]]["value"] == "纸质报表，村主任签字"
    source = values[fields["area"]]["source"]
    assert (source["via"], source["request_id"]) == ("import", request_id)
    status = ok(office.get(f"/api/v1/data/requests/{request_id}/status"))
    assert (status["submitted"], status["imported"], status["pending"]) == (1, 1, 1)
    row = next(r for r in status["by_unit"] if r["unit_id"] == village)
    assert (row["status"], row["via"]) == ("submitted", "import")
    exported = load_workbook(io.BytesIO(office.get(f"/api/v1/data/requests/{request_id}/export").data)).active
    assert exported.cell(row=3, column=3).value == "已填报（导入）"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "data_request.imported"))
        assert entry is not None and entry.target_id == request_id

    again = ok(_upload(clerk, request_id, _book(filled)))                      # the same file twice
    assert (again["unchanged"], again["units"], again["created"]) == (4, 0, 0)
    assert form(office, request_id, village)["version"] == 1
    # A correction by import is a new version; the village's stale form is then a 409.
    corrected = _fill(filled, VILLAGE, [1631, 812.5, "是", "纸质报表，村主任签字"])
    assert ok(_upload(clerk, request_id, _book(corrected)))["updated"] == 1
    assert form(office, request_id, village)["version"] == 2


def test_bad_files_are_refused_by_row_and_column_with_nothing_applied(app, api, ids):
    request_id, _fields = _town_request(api, ids)
    clerk = api("sl_clerk")
    template = _template(clerk, request_id)
    good = _fill(template, VILLAGE, [1630, 812.5, "是", "备注"])

    def errors(rows: list[list] | bytes) -> list[tuple]:
        data = rows if isinstance(rows, bytes) else _book(rows)
        report = ok(_upload(clerk, request_id, data))
        assert report["applied"] is False
        return [(e["row"], e.get("column")) for e in report["errors"]]

    missing = [row[:6] for row in good]                                       # 备注 dropped
    assert errors(missing) == [(1, "G")]
    extra = [row + (["多的列"] if i == 0 else ["x"]) for i, row in enumerate(good)]
    assert errors(extra) == [(1, "H")]
    moved = [row[:3] + [row[4], row[3]] + row[5:] for row in good]
    assert errors(moved) == [(1, "D"), (1, "E")]

    book = Workbook()
    sheet = book.active
    for row in good:
        sheet.append(row)
    sheet.merge_cells("D3:E3")
    sheet["F2"] = "=IF(1,\"是\",\"否\")"
    out = io.BytesIO()
    book.save(out)
    assert errors(out.getvalue()) == [(2, "F"), (3, "D")]

    bad_values = [template[0], template[1],
                  [VILLAGE, "麻蓬村委会", "", "十二", "1,2", "也许", "可以"],       # three bad cells
                  ["330803100", "上方镇", "", 1, 1, "是", ""],                       # not asked
                  ["NOPE", "", "", 1, 1, "是", ""]]
    assert errors(bad_values) == [(3, "D"), (3, "E"), (3, "F"), (4, "A"), (5, "A")]
    partial = _fill(template, VILLAGE, [1630, None, "是", "备注"])               # the area left empty
    assert errors(partial) == [(3, "E")]
    twice = good + [good[2]]
    assert errors(twice) == [(4, "A")]
    assert _upload(clerk, request_id, b"PK\x03\x04not a zip").status_code == 400
    assert _upload(clerk, request_id, b"unit_code\n1\n").status_code == 400   # a CSV is no export
    assert _held(app) == 0


def test_who_may_import_a_requests_answers(api, ids, bureau, village_leader):
    request_id, _fields = _town_request(api, ids)
    data = _book([HEADER])
    for login, status in (("sl_leader", 403), ("mp_director", 404), ("sf_member", 404), ("kc_admin", 404)):
        assert _upload(api(login), request_id, data).status_code == status, login
        assert api(login).get(f"/api/v1/data/requests/{request_id}/import/template").status_code == status
    # The village's leader answers for the village alone; the town's row is not theirs.
    leader = api(village_leader)
    template = _template(leader, request_id)
    assert [str(row[0]) for row in template[1:]] == [VILLAGE]
    refused = ok(_upload(leader, request_id, _book(
        [template[0], [TOWN, "石梁镇", "", 23150, 100, "是", ""]])))
    assert [(e["row"], e["column"]) for e in refused["errors"]] == [(2, "A")]
    # The requesting side of a request does not answer for the units it asks.
    own = send(api(bureau), [add_field(api(bureau), "外来人口")["id"]], {"units": [ids.unit(TOWN)]})["id"]
    assert _upload(api(bureau), own, data).status_code == 403
    closed = api("kc_clerk").post(f"/api/v1/data/requests/{request_id}/close")
    assert closed.status_code == 200
    assert _upload(api("sl_clerk"), request_id, data).status_code == 409


def test_an_import_after_a_form_submit_takes_the_next_version(api, ids, village_leader):
    request_id, fields = _town_request(api, ids)
    clerk, leader = api("sl_clerk"), api(village_leader)
    village = ids.unit(VILLAGE)
    submit(leader, request_id, village, {fields["people"]: 1630, fields["area"]: 812.5, fields["gas"]: "是",
                                         fields["note"]: "网上填报"}, 0)
    filled = _fill(_template(clerk, request_id), VILLAGE, [1640, 812.5, "是", "网上填报"])
    assert ok(_upload(clerk, request_id, _book(filled)))["updated"] == 1
    answer = form(leader, request_id, village)
    assert (answer["version"], answer["submitted_via"]) == (2, "import")
    stale = leader.put(f"/api/v1/data/requests/{request_id}/units/{village}",
                       json={"values": {str(fields["people"]): 1650}, "version": 1})
    assert stale.status_code == 409 and stale.get_json()["current"]["fields"][0]["value"] == 1640


def test_an_import_commits_once_and_a_refused_one_not_at_all(app, api, ids):
    request_id, _fields = _town_request(api, ids)
    template = _template(api("sl_clerk"), request_id)
    with app.app_context():
        clerk = db.session.scalar(select(User).where(User.login == "sl_clerk"))
        request = db.session.get(DataRequest, request_id)
        with counted_commits() as commits:
            report = answers_import.import_answers(clerk, request, _book(_fill(template, VILLAGE,
                                                                               [1, 2, "是", "x"])))
        assert report.applied and commits.count == 1
        with counted_commits() as commits:
            refused = answers_import.import_answers(clerk, request, _book(_fill(template, VILLAGE,
                                                                                [1, 2, "否", "=1"])))
        assert refused.errors and not refused.applied and commits.count == 0      # "=1" is a formula
        with counted_commits() as commits, pytest.raises(HubError):
            answers_import.import_answers(clerk, request, b"%PDF")
        db.session.rollback()
        assert commits.count == 0
        assert db.session.scalar(select(func.count(DataValueHistory.id))) == 4


def test_the_import_on_the_request_page(client, login, api, ids):
    request_id, _fields = _town_request(api, ids)
    template = _template(api("sl_clerk"), request_id)
    login("sl_clerk")
    page = client.get(f"/data/requests/{request_id}").get_data(as_text=True)
    assert "代下级导入" in page and f"/api/v1/data/requests/{request_id}/import/template" in page
    upload = (io.BytesIO(_book(_fill(template, VILLAGE, [1630, 812.5, "是", "纸质"]))), "导入表.xlsx")
    checked = client.post(f"/data/requests/{request_id}/import", data={"file": upload, "dry_run": "1"},
                          content_type="multipart/form-data")
    assert checked.status_code == 200 and "检查通过，尚未导入" in checked.get_data(as_text=True)
    bad = [row[:6] for row in template]
    refused = client.post(f"/data/requests/{request_id}/import", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(_book(bad)), "导入表.xlsx")})
    assert refused.status_code == 200 and "缺少列" in refused.get_data(as_text=True)
    not_xlsx = client.post(f"/data/requests/{request_id}/import", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"%PDF-1.4"), "x.pdf")})
    assert not_xlsx.status_code == 400 and 'aria-invalid="true"' in not_xlsx.get_data(as_text=True)
    client.post("/auth/logout")
    login("sl_leader")                       # the town has a clerk: its leader does not import
    assert "代下级导入" not in client.get(f"/data/requests/{request_id}").get_data(as_text=True)


def _text_book(rows: list[list]) -> bytes:
    """Cells written as text, whatever they look like ("=1+1" is no formula here)."""
    book = Workbook()
    sheet = book.active
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_naughty_field_names_and_text_values_go_through_the_export_and_back(api, ids, village_leader):
    """Field names and text values of tests/naughty.py are written exactly in the
    export (control characters as their escapes), an export imported back as it
    is changes nothing, and naughty text imported is held exactly."""
    office, clerk, leader = api("kc_clerk"), api("sl_clerk"), api(village_leader)
    strings = [sendable(s) for s in naughty_strings() if s.strip()][::12] + HUB_STRINGS + ["a\x01b", "\x7f"]
    fields = []
    for name in strings:
        if len(fields) == 40:
            break
        response = office.post("/api/v1/data/fields",
                               json={"name": name, "kind": "text", "period_kind": "year"})
        if response.status_code == 201:
            fields.append(response.get_json())
    assert len(fields) == 40
    village = ids.unit(VILLAGE)
    request_id = send(office, [f["id"] for f in fields], {"units": [village]})["id"]
    values = {f["id"]: strings[-(i + 1)] for i, f in enumerate(fields)}
    submit(leader, request_id, village, values, 0)

    exported = office.get(f"/api/v1/data/requests/{request_id}/export")
    assert exported.status_code == 200
    sheet = [list(r) for r in load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True)]
    shown = [excel_text(f["name"]) for f in fields]
    assert sheet[0][3:] == shown
    assert sheet[1][3:] == [excel_text(values[f["id"]]) for f in fields]
    back = ok(_upload(clerk, request_id, exported.data))
    assert (back["errors"], back["units"], back["unchanged"]) == ([], 0, 40)

    writable = [s for s in strings if excel_text(s) == s]
    typed = {f["id"]: writable[i % len(writable)] for i, f in enumerate(fields)}
    rows = [sheet[0], sheet[1][:3] + [typed[f["id"]] for f in fields]]
    report = ok(_upload(clerk, request_id, _text_book(rows)))
    assert report["errors"] == [] and report["applied"]
    held = by_field(form(leader, request_id, village))
    assert {f["id"]: held[f["id"]]["value"] for f in fields} == typed
