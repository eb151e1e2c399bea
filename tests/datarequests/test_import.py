"""Importing held values from XLSX or CSV: a town keeps its figures in a
spreadsheet, imports them once, and the next request finds them held. All or
nothing, errors by row, dry runs, the same file twice changes nothing."""
from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select

from hub.datarequests.models import DataValueHistory
from hub.extensions import db
from tests.datarequests.conftest import TOWN, VILLAGE, add_field, by_field, form, ok, send

HEADER = ["单位编码", "数据项编码", "期间", "值"]


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(person, data: bytes, name: str = "数据.xlsx", dry_run: bool = False):
    path = "/api/v1/data/values/import" + ("?dry_run=1" if dry_run else "")
    return person.post(path, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_a_town_imports_its_figures_once_and_a_request_finds_them(app, api, ids):
    office, clerk = api("kc_clerk"), api("sl_clerk")
    population = add_field(office, code="POP")["id"]
    area = add_field(office, "耕地面积", kind="number", unit_of_measure="亩", code="AREA")["id"]
    founded = add_field(office, "成立日期", kind="date", period_kind="once", code="FOUNDED")["id"]
    from datetime import datetime
    data = _xlsx([[TOWN, "POP", 2026, 23150], [TOWN, "AREA", "2026", 1234.5],
                  [TOWN, "FOUNDED", "once", datetime(1950, 5, 1)]])
    checked = ok(_import(clerk, data, dry_run=True))
    assert (checked["created"], checked["applied"], checked["errors"]) == (3, False, [])
    assert ok(_import(clerk, data)) == {"created": 3, "updated": 0, "unchanged": 0, "errors": [],
                                         "applied": True, "dry_run": False}
    assert ok(_import(clerk, data))["unchanged"] == 3                     # the same file twice
    changed = _xlsx([[TOWN, "POP", 2026, 23201]])
    assert ok(_import(clerk, changed))["updated"] == 1
    request_id = send(office, [population, area, founded], {"units": [ids.unit(TOWN)]})["id"]
    answer = form(clerk, request_id, ids.unit(TOWN))
    assert answer["status"] == "complete"
    fields = by_field(answer)
    assert (fields[population]["value"], fields[area]["value"], fields[founded]["value"]) == (
        23201, 1234.5, "1950-05-01")
    source = fields[population]["source"]
    assert source["via"] == "import" and source["request_id"] is None
    with app.app_context():
        history = db.session.scalars(select(DataValueHistory.value).where(
            DataValueHistory.field_id == population).order_by(DataValueHistory.id)).all()
        assert history == [23150, 23201]


def test_bad_rows_are_reported_by_row_and_nothing_is_applied(app, api, ids):
    office, clerk = api("kc_clerk"), api("sl_clerk")
    add_field(office, code="POP")
    add_field(office, "新增就业人数", period_kind="month", code="JOBS")
    add_field(office, "是否通燃气", kind="choice", choices=["是", "否"], code="GAS")
    people = "sys.people"
    csv = ("unit_code,field_code,period,value\n"
           f"{TOWN},POP,2026,23150\n"            # 2: fine
           f"{VILLAGE},POP,2026,1630\n"          # 3: the village is not the clerk's to answer
           f"{TOWN},NOPE,2026,1\n"               # 4: no such field
           f"{TOWN},POP,2026-11,1\n"             # 5: a month for a yearly field
           f"{TOWN},POP,2026,十二\n"             # 6: not a number
           f"{TOWN},GAS,2026,也许\n"             # 7: not a choice
           f"{TOWN},{people},once,3\n"           # 8: a system field
           f"{TOWN},POP,2026,23151\n"            # 9: the same as row 2
           f"{TOWN},JOBS,2026-11-01T00:00:00,12\n"   # 10: fine (a month Excel made a date)
           f"{TOWN},POP,2026,\n")                # 11: no value
    report = ok(_import(clerk, csv.encode(), "数据.csv"))
    assert report["applied"] is False and report["created"] == 0
    assert [(e["row"], e.get("column")) for e in report["errors"]] == [
        (3, "unit_code"), (4, "field_code"), (5, "period"), (6, "value"), (7, "value"), (8, "field_code"),
        (9, None), (11, "value")]
    assert form_free(app)


def form_free(app) -> bool:
    with app.app_context():
        return db.session.scalar(select(DataValueHistory.id)) is None


def test_the_import_page(client, login, api):
    add_field(api("kc_clerk"), code="POP")
    login("sl_clerk")
    assert "导入数据" in client.get("/data/import").get_data(as_text=True)
    upload = (io.BytesIO(_xlsx([[TOWN, "POP", 2026, 5]])), "x.xlsx")
    checked = client.post("/data/import", data={"file": upload, "dry_run": "1"},
                          content_type="multipart/form-data")
    assert "检查通过，尚未导入" in checked.get_data(as_text=True)
    refused = client.post("/data/import", data={"file": (io.BytesIO(b"%PDF"), "x.pdf")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.get_data(as_text=True)


def test_only_those_who_answer_a_unit_import(api):
    for login in ("mp_director", "sl_leader", "kc_admin", "admin"):
        response = _import(api(login), _xlsx([]))
        assert response.status_code == 403, login
    clerk = api("sl_clerk")
    assert clerk.post("/api/v1/data/values/import").get_json()["error"]["field"] == "file"
    assert ok(_import(clerk, b"", "empty.csv"))["errors"][0]["row"] == 1
    assert _import(clerk, b"%PDF-1.4", "x.pdf").status_code == 400
