"""A request's answers as an XLSX workbook: one row per unit asked, in tree
order, one column per field — held values, whichever request they came
through, and system fields computed from the tree. Text is written as text,
never as a formula, and kept exactly as held."""
from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import select

from hub.files.models import Attachment
from hub.datarequests.audience import audience_of
from hub.datarequests.models import DataRequest, DataValue, FieldKind
from hub.datarequests.queries import (COMPLETE, PENDING, SUBMITTED, Asked, request_fields,
                                      units_and_held)
from hub.datarequests.system import system_values
from hub.extensions import db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def excel_text(text: str) -> str:
    """Text as a cell can hold it: the control characters XML forbids are
    written as their escapes (\\x01), shown rather than dropped. The request
    import reads such a cell back as the value it shows (answers_import.py)."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"),
                                     text)


def _cell(sheet, value: Any) -> WriteOnlyCell:
    if isinstance(value, str):
        value = excel_text(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"          # "=1+1" stays text: openpyxl would make it a formula
    return cell


def header_labels(asked: list[Asked]) -> list[str]:
    """Row 1: the unit's code, name and state, then each field with its unit of measure."""
    return [_("单位编码"), _("单位"), _("状态")] + [
        excel_text(f"{a.field.name}（{a.field.unit_of_measure}）" if a.field.unit_of_measure
                   else a.field.name) for a in asked]


def state_label(state: dict[str, Any], labels: dict[str, Any]) -> str:
    """The 状态 cell: the unit's state, with 导入 when its answer was imported and
    其后有更正 when a value it gave has been corrected since (the import ignores
    this column)."""
    notes = [_("导入")] if state.get("imported") else []
    if state.get("corrected"):
        notes.append(_("其后有更正"))
    label = str(labels[state["status"]])
    return label + _("（%(notes)s）", notes="，".join(notes)) if notes else label


def export_filename(request: DataRequest) -> str:
    return f"data-request-{request.id}.xlsx"


def workbook(request: DataRequest, states: list[dict[str, Any]]) -> bytes:
    """The XLSX bytes of the request's answers for `states` (hub.datarequests.queries.unit_states)."""
    asked = request_fields(request)
    wanted = [a for a in asked if not a.field.system]
    held: dict[tuple[int, int], Any] = {}
    if wanted:
        rows = db.session.execute(units_and_held(audience_of(request.audience), wanted,
                                                 DataValue.unit_id, DataValue.field_id, DataValue.value))
        held = {(unit_id, field_id): value for unit_id, field_id, value in rows if field_id is not None}
    held.update(system_values([a.field for a in asked], [s["unit_id"] for s in states]))
    file_fields = {a.field.id for a in wanted if a.field.kind == FieldKind.FILE}
    files = _filenames([v for (_u, f), v in held.items() if f in file_fields])
    labels = {SUBMITTED: _("已填报"), COMPLETE: _("已有数据"), PENDING: _("待填报")}

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("填报数据"))
    sheet.append([_cell(sheet, text) for text in header_labels(asked)])
    for state in states:
        row = [state["code"], state["name"], state_label(state, labels)]
        for item in asked:
            value = held.get((state["unit_id"], item.field.id))
            if item.field.kind == FieldKind.FILE and value is not None:
                value = files.get(value, value)
            row.append(value)
        sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _filenames(ids: list[Any]) -> dict[int, str]:
    ids = [i for i in ids if isinstance(i, int)]
    if not ids:
        return {}
    rows = db.session.execute(select(Attachment.id, Attachment.filename).where(Attachment.id.in_(ids)))
    return dict(rows.all())
