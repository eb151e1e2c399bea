"""代下级导入: a unit above imports the answers of units below it to one request
from the export's XLSX layout — a town whose villages reported on paper.

Who: the people who answer a unit's forms (its clerks; its leaders where it has
no clerk) import for that unit and every unit below it that the request asks
(docs/DATA.md "Importing a request's answers"). The file is the export's first
sheet as it is: row 1 单位编码, 单位, 状态 and one column per field, named as
the export names it; one row per unit, found by its code (the name and the state
are not read). A missing, extra or moved column, a merged cell or a formula
anywhere is an error and nothing is imported. Each value is checked as the
form checks it; an empty cell is no answer (the unit keeps what it holds);
system fields are Hub's and file fields are uploaded in the form, so both
columns are not read. A row that changes nothing leaves the unit as it was; a
row that changes something must leave the unit holding every field, is held
with `source` "import" and this request, and marks the unit submitted by
import. All or nothing, errors by row and column, ?dry_run=1 only checks, one
commit; a unit or a value changed by someone else meanwhile is a 409 with
nothing imported.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale, gettext as _
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from hub.audit import record_audit
from hub.datarequests.access import answering_units
from hub.datarequests.audience import audience_of, parts, reaches, touches_subtree
from hub.datarequests.export import excel_text, header_labels
from hub.datarequests.holding import LostRace, claim_version, hold_value
from hub.datarequests.imports import by_code
from hub.datarequests.models import (SUBMITTED_VIA_IMPORT, DataRequest, DataRequestUnit, FieldKind,
                                     ValueSource)
from hub.datarequests.queries import Asked, held_values, request_fields, unit_states
from hub.datarequests.values import clean_value
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.extensions import db
from hub.org.imports_files import ImportReport, read_xlsx_sheet, shown
from hub.org.models import Unit, User
from hub.realtime import emit_on_commit, user_room

FIXED = 3                                   # 单位编码, 单位, 状态


@dataclass
class AnswersReport(ImportReport):
    """The import report (counts of values) with the units whose answers it sets."""

    units: int = 0

    def as_json(self) -> dict:
        return {**super().as_json(), "units": self.units}


def importing_roots(actor: User, request: DataRequest) -> list[Unit]:
    """The units `actor` answers for whose subtrees the request asks something."""
    audience = parts(audience_of(request.audience))
    return [u for u in answering_units(actor) if touches_subtree(audience, u.path)]


def require_can_import_answers(actor: User, request: DataRequest) -> list[Unit]:
    """403 unless `actor` answers a unit that the request asks, or one above such a unit."""
    roots = importing_roots(actor, request)
    if not roots:
        raise NotAllowed(_("只有被填报单位或其上级单位的文书（没有文书的单位由领导）可以代为导入"))
    return roots


def _accepted_headers(asked: list[Asked]) -> list[set[str]]:
    """Each column's header as the export writes it, in the reader's language or in Chinese."""
    with force_locale("zh"):
        chinese = header_labels(asked)
    return [{label.strip(), original.strip()} for label, original in zip(header_labels(asked), chinese)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _raw(kind: str, value: Any) -> Any:
    """A cell as the form would have sent it: numbers stay numbers, a date cell
    is its day, text is kept exactly (a number typed into a text column as its digits)."""
    if kind in (FieldKind.INTEGER, FieldKind.NUMBER) and not isinstance(value, (str, datetime, date)):
        return value
    return _text(value)


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def _same(key: tuple[int, int], value: Any, held: dict) -> bool:
    """The cell holds what is held already (text as the export writes it)."""
    current = held.get(key)
    return current is not None and (current.value == value or (
        isinstance(current.value, str) and excel_text(current.value) == value))


def _check_header(header: list[Any], accepted: list[set[str]], report: ImportReport) -> None:
    texts = [_text(cell).strip() for cell in header]
    anywhere = set().union(*accepted)
    for index, text in enumerate(texts):
        if index < len(accepted) and text in accepted[index]:
            continue
        letter = get_column_letter(index + 1)
        if text in anywhere and text:
            report.error(1, letter, _("列“%(name)s”的位置与导出的表不同", name=shown(text)))
        elif text:
            report.error(1, letter, _("多出的列：“%(name)s”（请使用本任务导出的表，不要增加列）",
                                      name=shown(text)))
    for index, labels in enumerate(accepted):
        if index < len(texts) and texts[index] in labels:
            continue
        if not labels & set(texts):
            report.error(1, get_column_letter(index + 1),
                         _("缺少列：“%(name)s”", name=shown(sorted(labels)[0])))


def _units_by_code(codes: set[str]) -> dict[str, Unit]:
    return by_code(Unit, codes)


def import_answers(actor: User, request: DataRequest, data: bytes, *, dry_run: bool = False) -> AnswersReport:
    """导入 the answers of units below `actor`'s to `request` (see the module docstring)."""
    roots = require_can_import_answers(actor, request)
    if request.closed_at is not None:
        raise Conflict(_("该填报任务已结束"))
    sheet = read_xlsx_sheet(data)
    report = AnswersReport(dry_run=dry_run)
    asked = request_fields(request)
    accepted = _accepted_headers(asked)
    if not sheet.rows or not any(not _is_empty(cell) for cell in sheet.rows[0]):
        report.error(1, None, _("文件为空或第一行没有列名，请使用本任务导出的表"))
        return report
    _check_header(sheet.rows[0], accepted, report)
    for ref in sheet.merged:
        first = ref.split(":")[0]
        letters = first.rstrip("0123456789")
        row = int(first[len(letters):]) if first[len(letters):].isdigit() else 1
        report.error(row, letters or None, _("合并单元格 %(range)s：请取消合并，每个单元格填一个值",
                                             range=shown(ref)))
    for row, column in sheet.formulas:
        report.error(row, get_column_letter(column), _("单元格是公式：请复制后“选择性粘贴”为数值再导入"))
    if report.errors:
        report.errors.sort(key=lambda e: (e.row, e.column or ""))
        return report

    data_rows = [(number, cells) for number, cells in enumerate(sheet.rows[1:], start=2)
                 if any(not _is_empty(cell) for cell in cells)]
    if not data_rows:
        report.error(1, None, _("文件中没有数据行"))
        return report
    units = _units_by_code({_text(cells[0]).strip() for _n, cells in data_rows if cells})
    audience = parts(audience_of(request.audience))
    seen: dict[int, int] = {}
    rows: list[tuple[int, Unit, dict[int, tuple[str, Any]]]] = []
    for number, cells in data_rows:
        code = _text(cells[0]).strip() if cells else ""
        unit = units.get(code)
        if len(cells) > len(accepted):
            report.error(number, get_column_letter(len(accepted) + 1),
                         _("多出的列：表头之外的单元格有内容"))
            continue
        if unit is None or not unit.active:
            report.error(number, "A", _("单位编码不存在或单位已撤销：%(code)s", code=shown(code)))
            continue
        if not reaches(audience, unit.path):
            report.error(number, "A", _("该填报任务没有要求“%(unit)s”填报", unit=unit.name))
            continue
        if not any(unit.path.startswith(root.path) for root in roots):
            report.error(number, "A", _("您不能代“%(unit)s”导入：只能为本单位及下级单位导入", unit=unit.name))
            continue
        if unit.id in seen:
            report.error(number, "A", _("与第 %(row)s 行是同一个单位", row=seen[unit.id]))
            continue
        seen[unit.id] = number
        values: dict[int, tuple[str, Any]] = {}
        for index, item in enumerate(asked):
            cell = cells[FIXED + index] if FIXED + index < len(cells) else None
            letter = get_column_letter(FIXED + index + 1)
            if item.field.system or item.field.kind == FieldKind.FILE or _is_empty(cell):
                continue
            try:
                values[item.field.id] = (letter, clean_value(item.field.kind, _raw(item.field.kind, cell),
                                                             field=letter, label=item.field.name,
                                                             choices=item.field.choices))
            except InvalidInput as problem:
                report.error(number, letter, problem.message)
        rows.append((number, unit, values))
    if report.errors:
        return report

    held = held_values([unit.id for _n, unit, _v in rows], asked)
    changing: list[tuple[Unit, dict[int, Any]]] = []
    for number, unit, values in rows:
        changed = {field_id: value for field_id, (_letter, value) in values.items()
                   if not _same((unit.id, field_id), value, held)}
        report.unchanged += len(values) - len(changed)
        if not changed:
            continue
        for index, item in enumerate(asked):
            if item.field.system or item.field.id in values or (unit.id, item.field.id) in held:
                continue
            label = item.field.name
            message = (_("“%(label)s”是文件，须由本单位在表单中上传", label=label)
                       if item.field.kind == FieldKind.FILE else _("请填写“%(label)s”", label=label))
            report.error(number, get_column_letter(FIXED + index + 1), message)
        report.created += sum(1 for field_id in changed if (unit.id, field_id) not in held)
        report.updated += sum(1 for field_id in changed if (unit.id, field_id) in held)
        changing.append((unit, changed))
    report.units = len(changing)
    if report.errors or dry_run:
        return report
    if changing:
        _hold_answers(actor, request, asked, held, changing, report)
        db.session.commit()
    report.applied = True
    return report


def _hold_answers(actor: User, request: DataRequest, asked: list[Asked], held: dict, changing: list,
                  report: AnswersReport) -> None:
    """Claim each unit's answer and hold its changed values, at one moment (the caller commits)."""
    by_id = {a.field.id: a for a in asked}
    versions = dict(db.session.execute(select(DataRequestUnit.unit_id, DataRequestUnit.version).where(
        DataRequestUnit.request_id == request.id,
        DataRequestUnit.unit_id.in_([unit.id for unit, _c in changing]))).tuples().all())
    now = utcnow()
    stale = Conflict(_("导入期间有单位刚提交或修改过数据，未导入任何数据，请核对后重新导入"))
    try:
        for unit, changed in changing:
            if not claim_version(actor.id, request.id, unit.id, versions.get(unit.id, 0), now=now,
                                 via=SUBMITTED_VIA_IMPORT):
                raise stale
            for field_id, value in changed.items():
                item = by_id[field_id]
                hold_value(actor.id, unit_id=unit.id, field=item.field, period=item.period, value=value,
                           held=held.get((unit.id, field_id)), request_id=request.id,
                           source=ValueSource.IMPORT, at=now)
    except LostRace:
        raise stale from None
    emit_on_commit("data_request_status", {"request_id": request.id, "units": len(changing)},
                   to=user_room(request.author_id))
    record_audit(actor, "data_request.imported", request, target_label=request.title,
                 after={"units": [unit.id for unit, _c in changing], **report.counts()})


def template_states(actor: User, request: DataRequest) -> list[dict[str, Any]]:
    """导入模板: the export's layout for the units `actor` imports for (their own
    and those below them that the request asks), pre-filled with what they hold.
    Reading the values of units below is audited; one commit."""
    roots = require_can_import_answers(actor, request)
    states = [s for s in unit_states(request)
              if any(s["path"].startswith(root.path) for root in roots)]
    record_audit(actor, "data.values_read", request, target_label=request.title,
                 after={"template": True, "units": len(states)})
    db.session.commit()
    return states
