"""导入单位: units from CSV/XLSX (API.md "Org tree").

Everything is checked in memory first: the existing units are read once into a
dict by code, every row is validated, parents are resolved against the file and
the database, and the final tree is checked for cycles. Only a file without any
error is applied, and then with few statements: new units are inserted one
depth level at a time (one executemany with RETURNING per level, then one
UPDATE that sets path and depth of that level from the parents' rows), moved
units go through actions._reparent (one UPDATE per moved subtree), and renames
are one executemany. A 27,000-row province imports in seconds this way; the
per-row ORM actions would take minutes.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import String, bindparam, cast, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from hub.audit import record_audit
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput
from hub.extensions import db
from hub.org.actions import _reparent, kind_is_system_admins, unit_moved, units_created
from hub.org.imports_files import (ImportReport, Progress, Scope, Table,
                                   check_columns, read_table, shown)
from hub.org.models import UNIT_CODE_MAX, UNIT_KIND_LABELS, UNIT_NAME_MAX, Unit, UnitKind, User
from hub.org.queries import subtree_clause
from hub.validation import clean_code, clean_text

REQUIRED = ("code", "name", "parent_code")
# The divisions files (hub/demo_data) call the kind "level"; their values
# (province, city, county, town, village) are UnitKind values already.
# Chinese headers, as admins write them (and the downloadable template has).
SYNONYMS = {"level": "kind", "编码": "code", "单位编码": "code", "名称": "name", "单位名称": "name",
            "上级编码": "parent_code", "上级单位编码": "parent_code", "类型": "kind", "单位类型": "kind"}
# The template's header, in the order of the columns.
TEMPLATE_HEADER = ("单位编码", "单位名称", "上级单位编码", "单位类型")
KINDS = {kind.value: kind.value for kind in UnitKind} | {
    label: kind.value for kind, label in UNIT_KIND_LABELS.items()}
INSERT_BATCH = 5000
units_table = Unit.__table__

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class UnitRow:
    """One data row of the file, as validated."""

    row: int
    code: str
    name: str
    parent_code: str            # "" for a root
    kind: str | None            # None: not given (new units: other; existing: keep)
    ok: bool = True
    status: str = ""            # created / updated / unchanged
    moves: bool = False         # an existing unit whose parent changes
    sort_order: int = 0


@dataclass
class UnitPlan:
    rows: list[UnitRow]
    by_code: dict[str, UnitRow]         # first valid row of each code
    existing: dict[str, Any]            # code -> Core row of the units table
    code_of: dict[int, str]             # unit id -> code, for the database's parents


def import_units(actor: User | None, filename: str, data: bytes, *, dry_run: bool = False,
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    """导入单位 from a CSV/XLSX file with columns code,name,parent_code[,kind].

    actor None = the console (CLI), with full rights; otherwise a system admin,
    or a unit admin within their subtree (403 without any admin role). All or
    nothing: with any row error nothing is written. Re-importing the same file
    changes nothing. Writes one "unit.imported" audit entry and commits once.
    """
    scope = Scope(actor)
    report = ImportReport(dry_run=dry_run)
    table = read_table(filename, data, synonyms=SYNONYMS)
    if not check_columns(table, REQUIRED, report):
        return report
    plan = _plan(table, scope, report)
    ticker = Progress(progress)
    report.errors.sort(key=lambda error: error.row)
    if report.errors or dry_run:
        ticker.advance(len(table.rows))
        return report
    try:
        _apply(plan, ticker)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("导入期间单位数据被其他操作修改，请重新导入"), field="file") from None
    if report.created:
        units_created.send(None)
    record_audit(actor, "unit.imported", target_label=shown(filename or "(file)", 200),
                 actor_login=None if actor is not None else "(console)",
                 after={**report.counts(), "file": shown(filename, 200)})
    db.session.commit()
    report.applied = True
    return report


# --- validation --------------------------------------------------------------------------------

def _plan(table: Table, scope: Scope, report: ImportReport) -> UnitPlan:
    rows, by_code = _parse_rows(table, report)
    existing_rows = db.session.execute(select(
        units_table.c.id, units_table.c.code, units_table.c.name, units_table.c.kind,
        units_table.c.parent_id, units_table.c.path, units_table.c.depth,
        units_table.c.active)).all()
    plan = UnitPlan(rows=rows, by_code=by_code,
                    existing={unit.code: unit for unit in existing_rows},
                    code_of={unit.id: unit.code for unit in existing_rows})
    for row in rows:
        if row.ok:
            _classify(row, plan, scope, report)
    _check_cycles(plan, report)
    for row in rows:
        if row.ok:
            setattr(report, row.status, getattr(report, row.status) + 1)
    return plan


def _parse_rows(table: Table, report: ImportReport) -> tuple[list[UnitRow], dict[str, UnitRow]]:
    rows: list[UnitRow] = []
    by_code: dict[str, UnitRow] = {}
    siblings: dict[str, int] = defaultdict(int)
    for number, cells in table.records((*REQUIRED, "kind")):
        row = _parse_row(number, cells, report)
        if row.code in by_code:
            report.error(number, "code",
                         _("单位编码 %(code)s 与第 %(row)s 行重复", code=row.code, row=by_code[row.code].row))
            continue
        if row.code:
            by_code[row.code] = row
        siblings[row.parent_code] += 1
        row.sort_order = siblings[row.parent_code]       # order of appearance within a parent
        rows.append(row)
    return rows, by_code


def _parse_row(number: int, cells: dict[str, str | None], report: ImportReport) -> UnitRow:
    errors_before = len(report.errors)
    code = _checked(report, number, "code",
                    lambda: clean_code(cells["code"], "code", _("单位编码"), max_length=UNIT_CODE_MAX))
    name = _checked(report, number, "name",
                    lambda: clean_text(cells["name"], "name", _("单位名称"), max_length=UNIT_NAME_MAX))
    kind = _kind(number, cells.get("kind"), report)
    row = UnitRow(row=number, code=code, name=name, kind=kind,
                  parent_code=(cells["parent_code"] or "").strip())
    row.ok = len(report.errors) == errors_before
    return row


def _checked(report: ImportReport, number: int, column: str, clean: Callable[[], str]) -> str:
    try:
        return clean()
    except InvalidInput as problem:
        report.error(number, column, problem.message)
        return ""


def _kind(number: int, value: str | None, report: ImportReport) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    kind = KINDS.get(text) or KINDS.get(text.lower())
    if kind is None:
        allowed = ", ".join(k.value for k in UnitKind)
        report.error(number, "kind", _("单位类型 %(kind)s 无效，可选：%(choices)s",
                                       kind=shown(text), choices=allowed))
    return kind


def _classify(row: UnitRow, plan: UnitPlan, scope: Scope, report: ImportReport) -> None:
    """Created, updated or unchanged; plus the parent and scope checks."""
    current = plan.existing.get(row.code)
    parent = plan.existing.get(row.parent_code)
    problems: list[tuple[str, str]] = []
    if row.parent_code == row.code:
        problems.append(("parent_code", _("上级单位不能是它自己")))
    elif row.parent_code and row.parent_code not in plan.by_code and parent is None:
        problems.append(("parent_code",
                         _("上级单位编码 %(code)s 不存在（文件和系统中都没有）",
                           code=shown(row.parent_code))))
    if current is None:
        row.status = CREATED
    else:
        row.moves = plan.code_of.get(current.parent_id, "") != row.parent_code
        changed = row.moves or row.name != current.name or (row.kind or current.kind) != current.kind
        row.status = UPDATED if changed else UNCHANGED
        if changed and not current.active:
            problems.append(("code", _("单位 %(code)s 已撤销，不能再通过导入修改", code=row.code)))
    placing = row.status == CREATED or row.moves
    if placing and parent is not None and not parent.active:
        problems.append(("parent_code", _("上级单位 %(code)s 已撤销", code=row.parent_code)))
    if not scope.is_global and row.status != UNCHANGED:
        problems += _scope_problems(row, current, parent, placing, scope)
    for column, message in problems:
        report.error(row.row, column, message)
    row.ok = not problems


def _scope_problems(row: UnitRow, current: Any, parent: Any, placing: bool,
                    scope: Scope) -> list[tuple[str, str]]:
    """A unit admin may change units in their subtree and place units under
    parents in it, but not change a unit's kind (the system admin's: see
    actions.update_unit); new parents from the file are checked through their own row."""
    problems = []
    if current is not None and not scope.covers(current):
        problems.append(("code", _("单位 %(code)s 不在您的管理范围内", code=row.code)))
    elif current is not None and row.kind is not None and row.kind != current.kind:
        problems.append(("kind", kind_is_system_admins()))
    if placing and not row.parent_code:
        problems.append(("parent_code", _("只有系统管理员可以导入顶级单位（上级单位编码为空）")))
    elif placing and parent is not None and not scope.covers(parent):
        problems.append(("parent_code", _("上级单位 %(code)s 不在您的管理范围内", code=row.parent_code)))
    return problems


def _final_parent(code: str, plan: UnitPlan) -> str | None:
    """The parent code `code` will have once the file is applied (None: a root or unknown)."""
    row = plan.by_code.get(code)
    if row is not None:
        return row.parent_code or None
    unit = plan.existing.get(code)
    return plan.code_of.get(unit.parent_id) if unit is not None else None


def _check_cycles(plan: UnitPlan, report: ImportReport) -> None:
    """Walk up the tree as it will be after the import; every walk that comes
    back to itself is a cycle, whether it lies in the file or runs through
    units already in the database (a move under one's own descendant)."""
    done: set[str] = set()
    for start in plan.by_code:
        chain: list[str] = []
        on_chain: set[str] = set()
        code: str | None = start
        while code is not None and code not in done and code not in on_chain:
            chain.append(code)
            on_chain.add(code)
            code = _final_parent(code, plan)
        if code is not None and code in on_chain:
            _report_cycle(chain[chain.index(code):], plan, report)
        done.update(chain)


def _report_cycle(cycle: list[str], plan: UnitPlan, report: ImportReport) -> None:
    """`cycle` lists codes from child to parent; each row's message starts at itself."""
    for index, code in enumerate(cycle):
        row = plan.by_code.get(code)
        if row is None or not row.ok or row.parent_code == row.code:
            continue
        loop = " → ".join([*cycle[index:], *cycle[:index], code])
        current, parent = plan.existing.get(code), plan.existing.get(row.parent_code)
        if current is not None and parent is not None and parent.path.startswith(current.path):
            message = _("不能把单位 %(code)s 移动到它自己的下级单位 %(parent)s 之下"
                        "（上级关系将形成循环：%(loop)s）", code=code, parent=row.parent_code, loop=loop)
        else:
            message = _("上级关系形成循环：%(loop)s（箭头指向上级单位）", loop=loop)
        report.error(row.row, "parent_code", message)
        row.ok = False


# --- writing -----------------------------------------------------------------------------------

def _final_depths(plan: UnitPlan) -> dict[str, int]:
    """Depth of every unit the file places, in the tree as it will be."""
    depths: dict[str, int] = {}
    for start in plan.by_code:
        chain: list[str] = []
        code: str | None = start
        while code is not None and code not in depths:
            chain.append(code)
            code = _final_parent(code, plan)
        depth = depths[code] if code is not None else -1
        for code in reversed(chain):
            depth += 1
            depths[code] = depth
    return depths


def _apply(plan: UnitPlan, ticker: Progress) -> None:
    depths = _final_depths(plan)
    levels: dict[int, list[UnitRow]] = defaultdict(list)
    for row in plan.rows:
        if row.status == CREATED or row.moves:
            levels[depths[row.code]].append(row)
    ids = {code: unit.id for code, unit in plan.existing.items()}
    ticker.advance(sum(1 for row in plan.rows if row.status == UNCHANGED))
    # Parents come before children: each level's parents are final (inserted,
    # or moved with their subtree) before the level itself is written.
    for depth in sorted(levels):
        new_rows = [row for row in levels[depth] if row.status == CREATED]
        for row in levels[depth]:
            if row.moves:
                _move(ids[row.code], ids[row.parent_code] if row.parent_code else None)
        ids.update(_insert_level(new_rows, ids))
        ticker.advance(len(levels[depth]))
    _update_fields(plan)
    ticker.advance(sum(1 for row in plan.rows if row.status == UPDATED and not row.moves))


def _insert_level(rows: list[UnitRow], ids: dict[str, int]) -> dict[str, int]:
    """Insert one depth level; returns the new ids by code."""
    if not rows:
        return {}
    now = utcnow()
    values = [{"code": row.code, "name": row.name, "kind": row.kind or UnitKind.OTHER.value,
               "parent_id": ids[row.parent_code] if row.parent_code else None,
               "sort_order": row.sort_order, "path": "", "depth": 0, "active": True,
               "created_at": now} for row in rows]
    new_ids: dict[str, int] = {}
    statement = insert(units_table).returning(units_table.c.id, units_table.c.code)
    for start in range(0, len(values), INSERT_BATCH):
        for unit_id, code in db.session.execute(statement, values[start:start + INSERT_BATCH]):
            new_ids[code] = unit_id
    _set_new_paths()
    return new_ids


def _set_new_paths() -> None:
    """Path and depth of the rows just inserted (path ""), read off their
    parents' rows in one UPDATE: "/<root id>/.../<own id>/", depth 0 for roots."""
    parent = units_table.alias("parent")
    parent_path = select(parent.c.path).where(parent.c.id == units_table.c.parent_id)
    parent_depth = select(parent.c.depth + 1).where(parent.c.id == units_table.c.parent_id)
    db.session.execute(
        update(units_table).where(units_table.c.path == "")
        .values(path=func.coalesce(parent_path.scalar_subquery(), literal("/"))
                + cast(units_table.c.id, String) + literal("/"),
                depth=func.coalesce(parent_depth.scalar_subquery(), 0)))


def _move(unit_id: int, parent_id: int | None) -> None:
    """Move one existing unit with its subtree (actions._reparent: one UPDATE)."""
    unit = db.session.get(Unit, unit_id)
    old_parent_id = unit.parent_id
    if parent_id is None:
        _make_root(unit)
    else:
        _reparent(unit, db.session.get(Unit, parent_id))
    unit_moved.send(unit, old_parent_id=old_parent_id, new_parent_id=parent_id)


def _make_root(unit: Unit) -> None:
    """_reparent's counterpart for a unit that becomes a root (no parent row to read)."""
    old_path, depth = unit.path, unit.depth
    unit.parent_id = None
    db.session.flush()
    db.session.execute(
        update(Unit).where(subtree_clause(old_path))
        .values(path=literal(f"/{unit.id}/") + func.substr(Unit.path, len(old_path) + 1),
                depth=Unit.depth - depth)
        .execution_options(synchronize_session=False))
    db.session.expire_all()


def _update_fields(plan: UnitPlan) -> None:
    """Renames and kind changes of existing units, in one executemany."""
    changes = []
    for row in plan.rows:
        current = plan.existing.get(row.code)
        if row.status == UPDATED and (row.name != current.name or
                                      (row.kind or current.kind) != current.kind):
            changes.append({"unit_id": current.id, "new_name": row.name,
                            "new_kind": row.kind or current.kind})
    if changes:
        db.session.execute(
            update(units_table).where(units_table.c.id == bindparam("unit_id"))
            .values(name=bindparam("new_name"), kind=bindparam("new_kind")), changes)
        db.session.expire_all()
