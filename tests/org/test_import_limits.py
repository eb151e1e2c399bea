"""Imports cost per cell, so cells are bounded (issue 13, finding 8): columns,
total cells, the length of one cell and an XLSX's unpacked size, each refused
with a 400 on the file that names the row and column, before or while reading.
The files are small: the limits are lowered through the config where needed."""
from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook

from tests.org.test_imports import csv_bytes, upload, units_snapshot


def xlsx_bytes(rows: list[list[str]], *, dimension: bool = True,
               replace: dict[str, str] | None = None) -> bytes:
    """An XLSX of `rows`; without its <dimension> element (the sheet's width is
    then known only row by row), and with texts replaced in its XML afterwards
    (openpyxl cuts a cell at Excel's 32,767 characters; a crafted file need not)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    if dimension and not replace:
        return out.getvalue()
    source, target = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/") and not dimension:
                data, count = re.subn(rb"<dimension [^>]*/>", b"", data)
                assert count == 1
            for old, text in (replace or {}).items():
                data = data.replace(old.encode(), text.encode())
            new.writestr(item, data)
    return target.getvalue()


def refused(response) -> str:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["field"] == "file", error
    return error["message"]


HEADER = ["code", "name", "parent_code"]


def test_a_header_wider_than_the_limit_is_refused_before_the_sheet_is_read(app, api):
    before = units_snapshot(app)
    wide = HEADER + [f"备注{c}" for c in range(57)]                     # 60 columns: A to BH
    data = xlsx_bytes([wide, ["X1", "甲村", "330802"] + ["x"] * 57])
    message = refused(upload(api("admin"), "units", data, "wide.xlsx"))
    assert "第 1 行" in message and "AY" in message and "50" in message   # AY: the 51st
    assert units_snapshot(app) == before


def test_a_wide_row_further_down_is_refused_by_its_number(app, api):
    for dimension in (True, False):
        rows = [HEADER, ["X1", "甲村", "330802"], ["X2", "乙村", "330802"] + ["x"] * 57]
        message = refused(upload(api("admin"), "units", xlsx_bytes(rows, dimension=dimension), "wide.xlsx"))
        assert "第 3 行" in message and "AY" in message             # the first column past the limit


def test_styled_empty_cells_far_right_do_not_count_as_columns(app, api):
    """Excel's borders on empty cells make the sheet's <dimension> reach column
    BR: the rows are still read up to the limit only, and the file imports."""
    from openpyxl.styles import Border, Side
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["X1", "甲村", "330802"])
    for row in (1, 2):
        sheet.cell(row=row, column=70).border = Border(left=Side(style="thin"))
    out = io.BytesIO()
    workbook.save(out)
    assert b'ref="A1:BR2"' in zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    response = upload(api("admin"), "units", out.getvalue(), "units.xlsx", dry_run=True)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["errors"] == [] and response.get_json()["created"] == 1


def test_a_csv_with_too_many_columns_or_cells_is_refused_naming_the_row(app, api):
    admin = api("admin")
    message = refused(upload(admin, "units", csv_bytes([["X1", "甲村", "330802"] + ["x"] * 60])))
    assert "第 2 行" in message and "AY" in message                    # 63 columns
    app.config["IMPORT_MAX_CELLS"] = 20
    rows = [(f"X{n}", f"第{n}村", "330802") for n in range(10)]       # 3 cells a row, the 7th row passes 20
    message = refused(upload(admin, "units", csv_bytes(rows)))
    assert "20" in message and "第 7 行" in message


def test_a_cell_longer_than_excel_allows_is_refused_naming_its_row_and_column(app, api):
    rows = [HEADER, ["X1", "甲村", "330802"], ["X2", "LONGNAME", "330802"]]
    data = xlsx_bytes(rows, replace={"LONGNAME": "长" * 40_000})
    message = refused(upload(api("admin"), "units", data, "long.xlsx"))
    assert "第 3 行 B 列" in message and "32767" in message
    app.config["IMPORT_MAX_CELL_CHARS"] = 100
    message = refused(upload(api("admin"), "units", csv_bytes([("X3", "名" * 101, "330802")])))
    assert "第 2 行 B 列" in message


def test_an_xlsx_that_unpacks_too_large_is_refused_before_it_is_opened(app, api):
    app.config["IMPORT_MAX_UNPACKED_BYTES"] = 2 * 1024 * 1024
    # 3 MB of one repeated text compresses to a few kB.
    data = xlsx_bytes([HEADER, ["X1", "甲村", "330802"]] + [["X2", "乙村", "x" * 30_000]] * 100)
    assert len(data) < 100_000
    message = refused(upload(api("admin"), "units", data, "big.xlsx"))
    assert "2 MB" in message
