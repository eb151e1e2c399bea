"""Shared pieces of the unit and people imports: the report, reading CSV/XLSX
files into rows, and the actor's scope.

A file that is neither CSV nor XLSX is an InvalidInput on the field "file"
(400 from the API). Problems inside a readable file (missing columns, empty
file, bad rows) are RowErrors in the report, numbered as a spreadsheet shows
them: header = row 1, first data row = row 2.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any, Callable, Iterable

from flask import current_app, has_app_context
from flask_babel import gettext as _, lazy_gettext

from hub.errors import InvalidInput
from hub.permissions import admin_scope, can_admin_unit, require_any_admin

XLSX_EXTENSIONS = (".xlsx", ".xlsm")
TEXT_EXTENSIONS = ("", ".csv", ".txt")
# Magic numbers of files people upload by mistake; each gets a clear 400.
_BINARY_MAGIC = {
    b"\xd0\xcf\x11\xe0": lazy_gettext("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV"),
    b"%PDF": lazy_gettext("不支持 PDF 文件，请上传 CSV 或 XLSX"),
    b"\x89PNG": lazy_gettext("不支持图片文件，请上传 CSV 或 XLSX"),
    b"\xff\xd8\xff": lazy_gettext("不支持图片文件，请上传 CSV 或 XLSX"),
    b"GIF8": lazy_gettext("不支持图片文件，请上传 CSV 或 XLSX"),
}
NOT_A_TABLE = lazy_gettext("只支持 CSV 或 XLSX 文件")
MAX_ROWS = 200_000
PROGRESS_CHUNK = 1000
# What a file may hold beyond MAX_ROWS (config.py, HUB_IMPORT_*): reading costs
# time and memory per cell, not per row (40,000 rows × 150 columns took 27 s
# and 400 MB), so columns, cells and the length of one cell are bounded too,
# and an XLSX's unpacked size before it is opened.
DEFAULT_LIMITS = {"IMPORT_MAX_COLUMNS": 50, "IMPORT_MAX_CELLS": 2_000_000, "IMPORT_MAX_CELL_CHARS": 32_767,
                  "IMPORT_MAX_UNPACKED_BYTES": 128 * 1024 * 1024}


@dataclass
class RowError:
    row: int            # row number as a spreadsheet shows it: header = 1, first data row = 2
    message: str        # in the reader's language (Chinese outside a request), names the column
    column: str | None = None


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False       # True only when every row was valid and not a dry run
    dry_run: bool = False

    def as_json(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": [{"row": e.row, "message": e.message, **({"column": e.column} if e.column else {})}
                           for e in self.errors],
                "applied": self.applied, "dry_run": self.dry_run}

    def error(self, row: int, column: str | None, message: str) -> None:
        self.errors.append(RowError(row=row, message=message, column=column))

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class Table:
    """A sheet read from a file: lower-cased header names and the data rows."""

    header: list[str]
    rows: list[tuple[int, list[str]]]       # (spreadsheet row number, cells)

    def column(self, name: str) -> int | None:
        return self.header.index(name) if name in self.header else None

    def records(self, names: tuple[str, ...]) -> list[tuple[int, dict[str, str | None]]]:
        """Each row as {column: text}; a column absent from the header gives None."""
        positions = {name: self.column(name) for name in names}
        out = []
        for number, cells in self.rows:
            out.append((number, {name: (cells[i] if i < len(cells) else "") if i is not None
                                 else None for name, i in positions.items()}))
        return out


class Progress:
    """Feeds the caller's progress callback with row counts, in chunks."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback

    def advance(self, rows: int) -> None:
        if self.callback is not None and rows > 0:
            self.callback(rows)


# --- reading files --------------------------------------------------------------------------

def read_table(filename: str, data: bytes, *, synonyms: dict[str, str] | None = None) -> Table:
    """Read the first sheet of an XLSX file or a CSV file into a Table.

    Raises InvalidInput(field="file") when the bytes are neither. Header names
    are stripped and lower-cased; `synonyms` maps extra names onto ours.
    """
    extension = PurePath(filename or "").suffix.lower()
    if data[:4] == b"PK\x03\x04":
        raw_rows = _xlsx_rows(data)
    elif extension in XLSX_EXTENSIONS:
        raise InvalidInput(_("该文件不是有效的 XLSX 文件"), field="file")
    else:
        _refuse_binary(data, extension)
        raw_rows = _csv_rows(decode_text(data))
    return _table(raw_rows, synonyms or {})


def _refuse_binary(data: bytes, extension: str) -> None:
    for magic, message in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise InvalidInput(message, field="file")
    if extension not in TEXT_EXTENSIONS:
        raise InvalidInput(NOT_A_TABLE, field="file")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(_("文件包含空字符（NUL），不是文本 CSV；只支持 CSV 或 XLSX 文件"), field="file")


def decode_text(data: bytes) -> str:
    """CSV bytes to text: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030.

    Excel on Chinese Windows saves "CSV" in GB18030 (GBK): a file that is not
    UTF-8, with many bytes that are not, is read as GB18030. A file that is
    UTF-8 except for a few bad bytes stays UTF-8: the bad bytes become lone
    surrogates, which the row checks report in the rows where they are.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidInput(_("无法识别文件编码，请另存为 UTF-8 编码的 CSV"), field="file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8-sig", errors="surrogateescape")
    bad_bytes = sum(1 for char in lenient if "\udc80" <= char <= "\udcff")
    non_ascii = len(data) - len(data.translate(None, bytes(range(128))))
    # GB18030 text is 40-90 % invalid as UTF-8; a UTF-8 file with a stray
    # byte or two is well under 10 %.
    if bad_bytes * 10 < non_ascii:
        return lenient
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInput(_("无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV"),
                           field="file") from None


def _limit(name: str) -> int:
    return current_app.config.get(name, DEFAULT_LIMITS[name]) if has_app_context() else DEFAULT_LIMITS[name]


def _column_letter(number: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(min(number, 16384))


def _csv_rows(text: str) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    dialect = "excel-tab" if "\t" in first_line and "," not in first_line else "excel"
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        return _limited(reader)
    except csv.Error as problem:
        raise InvalidInput(_("无法解析 CSV 文件（第 %(row)s 行）：%(problem)s", row=reader.line_num,
                             problem=problem), field="file") from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook
    try:
        _check_unpacked_size(data)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            # Cells past the widest row allowed are not even made (a sheet's
            # <dimension> may claim 16,384 columns); a value in the first of
            # them is refused by _limited.
            widest = _limit("IMPORT_MAX_COLUMNS") + 1
            rows = workbook.worksheets[0].iter_rows(values_only=True, max_col=widest)
            return _limited(_trimmed(row) for row in rows)
        finally:
            workbook.close()
    except InvalidInput:
        raise
    except Exception as problem:      # BadZipFile, KeyError, openpyxl's own exceptions, ...
        raise InvalidInput(_("该文件不是有效的 XLSX 文件"), field="file") from problem


@dataclass
class XlsxSheet:
    """A first sheet as typed, for imports that take a fixed layout: each row's
    cell values (None when empty; row 1 first), and the cells a value must not
    come from: formulas (row, column; 1-based) and merged ranges ("A2:B3")."""

    rows: list[list[Any]]
    formulas: list[tuple[int, int]]
    merged: list[str]


def read_xlsx_sheet(data: bytes) -> XlsxSheet:
    """The first sheet of an XLSX file with its formulas and merged ranges
    (read_table reads values only, as Excel last computed them). The same
    limits as read_table; InvalidInput(field="file") when it is no XLSX."""
    from openpyxl import load_workbook
    if data[:4] != b"PK\x03\x04":
        raise InvalidInput(_("请上传 XLSX 文件（导出的 Excel 表格式）"), field="file")
    try:
        _check_unpacked_size(data)
        merged = _merged_ranges(data)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            rows: list[list[Any]] = []
            formulas: list[tuple[int, int]] = []
            widest = _limit("IMPORT_MAX_COLUMNS") + 1
            for number, cells in enumerate(workbook.worksheets[0].iter_rows(max_col=widest), start=1):
                values = []
                for column, cell in enumerate(cells, start=1):
                    if cell.data_type == "f":
                        formulas.append((number, column))
                    values.append(cell.value)
                while values and values[-1] in (None, ""):
                    values.pop()
                rows.append(values)
                if len(rows) > MAX_ROWS + 1:
                    break
        finally:
            workbook.close()
        _limited([_cell_text(value) for value in row] for row in rows)
        return XlsxSheet(rows=rows, formulas=formulas, merged=merged)
    except InvalidInput:
        raise
    except Exception as problem:      # BadZipFile, KeyError, openpyxl's own exceptions, ...
        raise InvalidInput(_("该文件不是有效的 XLSX 文件"), field="file") from problem


def _merged_ranges(data: bytes) -> list[str]:
    """The first sheet's merged ranges, streamed from its XML (a read-only
    openpyxl sheet does not keep them)."""
    import zipfile
    from xml.etree.ElementTree import iterparse
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        path = _first_sheet_path(archive)
        if path is None:
            return []
        found = []
        with archive.open(path) as source:
            for _event, element in iterparse(source, events=("end",)):
                if element.tag == f"{_MAIN}mergeCell":
                    found.append(element.get("ref") or "")
                elif element.tag == f"{_MAIN}row":
                    element.clear()
        return found


def _check_unpacked_size(data: bytes) -> None:
    """Before openpyxl opens it (it reads the shared strings whole, and parses a
    whole sheet that declares no <dimension> just to find that out): the sizes
    the zip declares for its parts, which zipfile never reads past; then the
    first sheet's first row, read from the sheet's head."""
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(item.file_size for item in archive.infolist())
        limit = _limit("IMPORT_MAX_UNPACKED_BYTES")
        if unpacked > limit:
            raise InvalidInput(_("XLSX 文件解压后超过 %(limit)s MB，请删除多余的内容或拆分后导入",
                                 limit=limit // (1024 * 1024)), field="file")
        sheet = _first_sheet_path(archive)
        if sheet is not None:
            _check_sheet_head(archive, sheet)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})")


def _first_sheet_path(archive: Any) -> str | None:
    """The zip path of the workbook's first sheet (None: let openpyxl complain)."""
    from xml.etree.ElementTree import fromstring
    try:
        workbook = fromstring(archive.read("xl/workbook.xml"))
        first = workbook.find(f"{_MAIN}sheets/{_MAIN}sheet")
        rels = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == first.get(f"{_REL}id"))
    except Exception:                        # noqa: BLE001 — openpyxl reports a broken file
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _check_sheet_head(archive: Any, path: str) -> None:
    """The sheet's first row (its header), streamed: nothing after it is read.
    Cells with no value (styled, or written empty) do not count."""
    from openpyxl.utils import column_index_from_string
    from xml.etree.ElementTree import iterparse
    with archive.open(path) as source:
        for _event, element in iterparse(source, events=("end",)):
            if element.tag == f"{_MAIN}c" and (element.find(f"{_MAIN}v") is not None
                                              or element.find(f"{_MAIN}is") is not None):
                match = _CELL_REF.match(element.get("r") or "")
                if match and column_index_from_string(match.group(1)) > _limit("IMPORT_MAX_COLUMNS"):
                    row = element.get("r")[len(match.group(1)):]
                    raise _too_many_columns(int(row) if row.isdigit() else 1,
                                            column_index_from_string(match.group(1)))
            elif element.tag == f"{_MAIN}row":
                return                        # the first row is fine: openpyxl reads the rest


def _too_many_columns(row: int, column: int) -> InvalidInput:
    """A value in `column` (past IMPORT_MAX_COLUMNS) of `row`."""
    return InvalidInput(_("第 %(row)s 行超过 %(limit)s 列（%(column)s 列有内容）；请删除多余的列",
                          row=row, limit=_limit("IMPORT_MAX_COLUMNS"), column=_column_letter(column)),
                        field="file")


def _trimmed(values: tuple) -> list[str]:
    """An XLSX row as text, without the empty cells at its end (a sheet's
    declared width pads every row)."""
    cells = [_cell_text(value) for value in values]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _limited(rows: Iterable[list[str]]) -> list[list[str]]:
    """All rows, or a 400 naming the row (and column) once there are more than
    MAX_ROWS data rows, a row longer than IMPORT_MAX_COLUMNS, more cells than
    IMPORT_MAX_CELLS in all, or a cell longer than IMPORT_MAX_CELL_CHARS (a 20 MB
    XLSX can unpack into millions of rows or one cell of 100 MB)."""
    max_columns, max_cells = _limit("IMPORT_MAX_COLUMNS"), _limit("IMPORT_MAX_CELLS")
    max_chars = _limit("IMPORT_MAX_CELL_CHARS")
    kept = []
    cells_read = 0
    for number, cells in enumerate(rows, start=1):
        if len(cells) > max_columns:
            beyond = next((i for i in range(max_columns, len(cells)) if cells[i]), None)
            if beyond is not None:                  # empty cells at a row's end do not count
                raise _too_many_columns(number, beyond + 1)
            cells = cells[:max_columns]
        cells_read += len(cells)
        if cells_read > max_cells:
            raise InvalidInput(_("文件超过 %(limit)s 个单元格（到第 %(row)s 行），请拆分后分批导入",
                                 limit=max_cells, row=number), field="file")
        if max(map(len, cells), default=0) > max_chars:
            column = next(i for i, cell in enumerate(cells, start=1) if len(cell) > max_chars)
            raise InvalidInput(_("第 %(row)s 行 %(column)s 列超过 %(limit)s 个字符",
                                 row=number, column=_column_letter(column), limit=max_chars), field="file")
        kept.append(cells)
        if len(kept) > MAX_ROWS + 1:
            raise InvalidInput(_("文件超过 %(limit)s 行，请拆分后分批导入", limit=MAX_ROWS), field="file")
    return kept


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as text. Codes typed as numbers (330802) come back as
    ints or integral floats; both become their digits."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _table(raw_rows: list[list[str]], synonyms: dict[str, str]) -> Table:
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(raw_rows, start=1):
        if header is None:
            if number == 1:
                header = [synonyms.get(name, name) for name in
                          (cell.strip().lstrip("\ufeff").strip().lower() for cell in cells)]
            continue
        if any(cell.strip() for cell in cells):       # blank rows keep their number, skipped
            rows.append((number, cells))
    return Table(header=header or [], rows=rows)


def check_columns(table: Table, required: tuple[str, ...], report: ImportReport) -> bool:
    """File-level checks (row 1): not empty, required columns present, some data."""
    if not any(table.header):
        report.error(1, None, _("文件为空或第一行没有列名（应为 %(columns)s）", columns=",".join(required)))
        return False
    missing = [name for name in required if name not in table.header]
    for name in missing:
        report.error(1, name, _("缺少列：%(column)s（第一行应包含 %(columns)s）",
                                column=name, columns=",".join(required)))
    if not missing and not table.rows:
        report.error(1, None, _("文件中没有数据行"))
    return not report.errors


def count_rows(filename: str, data: bytes) -> int:
    """A quick estimate of the data rows in a file, for a progress bar (0 if unknown)."""
    if data[:4] == b"PK\x03\x04":
        try:
            from openpyxl import load_workbook
            workbook = load_workbook(io.BytesIO(data), read_only=True)
            rows = workbook.worksheets[0].max_row or 0
            workbook.close()
            return max(rows - 1, 0)
        except Exception:
            return 0
    return max(len(data.splitlines()) - 1, 0)


def shown(value: str, limit: int = 40) -> str:
    """A value from the file, safe to echo in a message or the audit log:
    control characters and undecodable bytes escaped, long values cut."""
    text = "".join(char.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(char) in ("Cc", "Cs") else char
                   for char in value[:limit])
    return text + ("…" if len(value) > limit else "")


# --- who may import what ----------------------------------------------------------------------

class Scope:
    """What an importing actor may touch. actor None is the console: everything."""

    def __init__(self, actor: Any) -> None:
        if actor is not None:
            require_any_admin(actor)            # 403 for someone with no admin role at all
        self.actor = actor
        self.is_global = actor is None or admin_scope(actor) is None

    def covers(self, unit: Any) -> bool:
        """`unit` is anything with a `path` (a Unit, or a row read with Core)."""
        return self.is_global or can_admin_unit(self.actor, unit)

