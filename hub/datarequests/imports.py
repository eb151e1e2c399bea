"""导入数据: held values from a CSV or XLSX file, so that figures a unit keeps
in a spreadsheet are entered once and pre-fill every request that asks for them.

Columns `unit_code,field_code,period,value` (or 单位编码, 数据项编码, 期间, 值). Each
row is checked as a form's value is: the unit one answers for (its clerk, or
its leader where it has none), a catalogue field that is not a system field
nor a file, a period of the field's kind, a value of the field's kind. As the
org imports: all or nothing, errors numbered by row, ?dry_run=1 only checks,
and the same file twice changes nothing (`unchanged`). Values keep their
history with `source` "import"; the import is audited and commits once.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from hub.audit import record_audit
from hub.datarequests.access import answering_units
from hub.datarequests.holding import LostRace, hold_value
from hub.datarequests.models import DataField, DataValue, FieldKind, ValueSource
from hub.datarequests.periods import held_period, parse_period
from hub.datarequests.values import clean_value
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.extensions import db
from hub.org.imports_files import ImportReport, check_columns, read_table, shown
from hub.org.models import Unit, User

COLUMNS = ("unit_code", "field_code", "period", "value")
SYNONYMS = {"单位编码": "unit_code", "数据项编码": "field_code", "期间": "period", "值": "value",
            "数值": "value", "数据": "value"}
CHUNK = 5000
_EXCEL_DAY = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T00:00:00")


def require_can_import(actor: User) -> None:
    """403 unless the person answers some unit's forms."""
    if not answering_units(actor):
        raise NotAllowed(_("只有单位的文书（没有文书的单位由领导）可以导入本单位的数据"))


def by_code(model, codes: set[str]) -> dict[str, object]:
    """Rows of `model` by their `code`, a few hundred codes per statement."""
    found: dict[str, object] = {}
    codes_list = sorted(codes)
    for start in range(0, len(codes_list), CHUNK):
        for row in db.session.scalars(select(model).where(model.code.in_(codes_list[start:start + CHUNK]))):
            found[row.code] = row
    return found


def _cell(value: str | None, kind: str | None = None) -> str:
    """A cell as the rules read it: a date cell of Excel ("2026-03-15T00:00:00") as its day."""
    text = value or ""
    match = _EXCEL_DAY.fullmatch(text.strip())
    if match and kind != FieldKind.TEXT:
        return match.group(1)
    return text


def _period_text(value: str, period_kind: str) -> str:
    """A month typed into Excel becomes the first of that month: read it back as the month."""
    text = _cell(value).strip()
    if period_kind == "month" and re.fullmatch(r"[0-9]{4}-[0-9]{2}-01", text):
        return text[:7]
    return text


def import_values(actor: User, filename: str, data: bytes, *, dry_run: bool = False) -> ImportReport:
    """导入数据 for the units `actor` answers (see the module docstring)."""
    require_can_import(actor)
    allowed = {unit.id for unit in answering_units(actor)}
    table = read_table(filename, data, synonyms=SYNONYMS)
    report = ImportReport(dry_run=dry_run)
    if not check_columns(table, COLUMNS, report):
        return report
    records = table.records(COLUMNS)
    units = by_code(Unit, {(r["unit_code"] or "").strip() for _n, r in records})
    fields = by_code(DataField, {(r["field_code"] or "").strip() for _n, r in records})
    rows: dict[tuple[int, int, str], tuple[int, DataField, object]] = {}
    for number, record in records:
        unit = units.get((record["unit_code"] or "").strip())
        field = fields.get((record["field_code"] or "").strip())
        if unit is None or not unit.active:
            report.error(number, "unit_code", _("单位编码不存在或单位已撤销：%(code)s",
                                                code=shown(record["unit_code"] or "")))
            continue
        if unit.id not in allowed:
            report.error(number, "unit_code", _("您不能为“%(unit)s”导入数据：只有本单位的文书"
                                                "（没有文书的单位由领导）可以", unit=unit.name))
            continue
        if field is None or field.system or field.kind == FieldKind.FILE:
            message = (_("数据项编码不存在：%(code)s", code=shown(record["field_code"] or ""))
                       if field is None else _("“%(name)s”不能导入（系统提供或文件类）", name=field.name))
            report.error(number, "field_code", message)
            continue
        try:
            period = parse_period(_period_text(record["period"] or "", field.period_kind), "period")
            if (field.period_kind != "once" and period.kind != field.period_kind) or (
                    field.period_kind == "once" and period.kind != "once"):
                raise InvalidInput(_("“%(name)s”的期间应为%(kind)s", name=field.name,
                                     kind=_period_example(field.period_kind)), field="period")
            raw = _cell(record["value"], field.kind)
            if raw == "" or (field.kind != FieldKind.TEXT and not raw.strip()):
                raise InvalidInput(_("缺少值"), field="value")
            value = clean_value(field.kind, raw, field="value", label=field.name, choices=field.choices)
        except InvalidInput as problem:
            report.error(number, problem.field, problem.message)
            continue
        key = (unit.id, field.id, held_period(field.period_kind, period))
        if key in rows:
            report.error(number, None, _("与第 %(row)s 行重复（同一单位、数据项和期间）", row=rows[key][0]))
            continue
        rows[key] = (number, field, value)
    if report.errors:
        return report
    held = _held(list(rows))
    for key, (_number, _field, value) in rows.items():
        current = held.get(key)
        if current is None:
            report.created += 1
        elif current.value == value:
            report.unchanged += 1
        else:
            report.updated += 1
    if dry_run:
        return report
    try:
        for (unit_id, _field_id, period), (_number, field, value) in rows.items():
            hold_value(actor.id, unit_id=unit_id, field=field, period=period, value=value,
                       held=held.get((unit_id, field.id, period)), request_id=None, source=ValueSource.IMPORT)
    except LostRace:
        raise Conflict(_("导入期间有数据被他人修改，未导入任何数据，请重新导入")) from None
    record_audit(actor, "data.values_imported", target_label=shown(filename, 100),
                 after={"rows": len(rows), **report.counts()})
    db.session.commit()
    report.applied = True
    return report


def _held(keys: list[tuple[int, int, str]]) -> dict[tuple[int, int, str], DataValue]:
    """The values held for the file's (unit, field, period) keys."""
    wanted = set(keys)
    unit_ids = sorted({unit_id for unit_id, _f, _p in keys})
    found: dict[tuple[int, int, str], DataValue] = {}
    for start in range(0, len(unit_ids), CHUNK):
        for value in db.session.scalars(select(DataValue).where(
                DataValue.unit_id.in_(unit_ids[start:start + CHUNK]),
                DataValue.field_id.in_({field_id for _u, field_id, _p in keys}))):
            key = (value.unit_id, value.field_id, value.period)
            if key in wanted:
                found[key] = value
    return found


def _period_example(kind: str) -> str:
    return {"month": _("月（如 2026-11）"), "quarter": _("季度（如 2026-Q4）"), "year": _("年（如 2026）"),
            "once": "once"}[kind]
