"""An admin imports people from an XLSX file and moves a unit; the auditor (三员分立)
finds the move in the audit log."""
import io
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.browser.conftest import settle, visit
from tests.browser.scene import TOWN, VILLAGE, unit_id

pytestmark = pytest.mark.browser


NEWCOMERS = {"phone": ("郑秀英", "周建国"), "desktop": ("郑秀兰", "周建军")}


def people_xlsx(path, size: str) -> None:
    """Two new people of 麻蓬村委会, named apart for each size."""
    book = Workbook()
    sheet = book.active
    sheet.append(["login", "name", "unit_code", "position"])
    first, second = NEWCOMERS[size]
    sheet.append([f"mp.{size}.jd", first, VILLAGE, "村务监督委员会主任"])
    sheet.append([f"mp.{size}.wy", second, VILLAGE, "村委会委员"])
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())


def test_admin_imports_people_from_xlsx(new_page, size, tmp_path, hub_api):
    file = tmp_path / "people.xlsx"
    people_xlsx(file, size)
    admin = new_page("admin")
    visit(admin, "/admin/import", "admin-import")
    admin.get_by_label("人员", exact=True).check()
    admin.get_by_label("文件（CSV 或 XLSX）", exact=True).set_input_files(str(file))
    expect(admin.get_by_label("只检查，不写入（试运行）", exact=True)).to_be_checked()
    admin.get_by_role("button", name="上传").click()
    expect(admin.get_by_role("heading", name="试运行结果：人员")).to_be_visible()
    expect(admin.locator("dl.counts dd").first).to_have_text("2")
    settle(admin, "admin-import-dry-run")
    admin.get_by_role("button", name="确认导入").click()
    expect(admin.get_by_role("status").filter(has_text="已导入。")).to_be_visible()
    settle(admin, "admin-import-done")
    visit(admin, f"/admin/units/{unit_id(hub_api, VILLAGE)}", "admin-village")
    for name in NEWCOMERS[size]:
        expect(admin.get_by_role("main").get_by_text(name)).to_be_visible()


def test_admin_moves_a_unit_and_the_auditor_finds_it(new_page, size, hub_api):
    name = f"石梁镇森林防火工作站{size}"
    town = unit_id(hub_api, TOWN)
    station = hub_api.as_("admin").post("/units", {"code": f"{TOWN}-FH-{size}", "name": name,
                                                   "parent_id": town, "kind": "other"})["id"]
    admin = new_page("admin")
    visit(admin, f"/admin/units/{station}", "admin-unit")
    move = admin.locator("details#move")
    move.locator("summary").click()
    move.get_by_label("查找新的上级单位", exact=True).fill("航埠镇")
    move.get_by_role("button", name="查找").click()
    parent = admin.get_by_label("新的上级单位", exact=True)
    parent.select_option(parent.locator("option", has_text=re.compile(r"^航埠镇")).get_attribute("value"))
    settle(admin, "admin-unit-move")
    admin.locator("details#move").get_by_role("button", name="移动").click()
    admin.wait_for_load_state()
    expect(admin.get_by_role("main")).to_contain_text("航埠镇")

    auditor = new_page("auditor")
    visit(auditor, "/admin/audit", "auditor-log")
    auditor.get_by_label("操作", exact=True).select_option("unit.moved")
    auditor.get_by_role("button", name="筛选").click()
    row = auditor.get_by_role("row").filter(has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("admin")
    expect(row).to_contain_text("移动单位")
    # The change names the parents by id and by their names at the time.
    expect(row).to_contain_text(f"{town} → {unit_id(hub_api, '330802101')}")
    expect(row).to_contain_text("石梁镇 → 航埠镇")
    settle(auditor, "auditor-log-move")
