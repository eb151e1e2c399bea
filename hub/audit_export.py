"""The audit log as CSV for auditors: UTF-8 with a BOM (so that Excel reads the
Chinese), every column of the log including the chain's hashes, and no cell that
a spreadsheet would run as a formula. The export is itself audited."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import Select, func, select

from hub.audit import AUDIT_ACTION_LABELS, OUTCOME_LABELS, REFUSED, AuditEntry, record_audit
from hub.extensions import db
from hub.times import TZ

BOM = "\ufeff"
# Cells starting with these are formulas to Excel, LibreOffice or Google Sheets
# (OWASP "CSV injection"); the full-width forms are included for CJK input methods.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
CHUNK_ROWS = 500
COLUMNS = [lazy_gettext("编号"), lazy_gettext("时间（UTC）"), lazy_gettext("时间（北京）"),
           lazy_gettext("操作人账号"), lazy_gettext("操作人编号"), lazy_gettext("操作人单位"),
           lazy_gettext("操作人单位编号"), lazy_gettext("操作"), lazy_gettext("操作代码"),
           lazy_gettext("结果"), lazy_gettext("对象类型"), lazy_gettext("对象编号"), lazy_gettext("对象"),
           lazy_gettext("变更前"), lazy_gettext("变更后"), lazy_gettext("地址"), lazy_gettext("客户端"),
           lazy_gettext("哈希算法"), lazy_gettext("前一哈希"), lazy_gettext("哈希")]


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a string that would start a formula
    gets a leading single quote. Numbers and empty cells pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _row(entry: AuditEntry) -> list[Any]:
    return [entry.id, entry.at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            entry.at.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S"), entry.actor_login,
            entry.actor_id, entry.actor_unit, entry.actor_unit_id,
            str(AUDIT_ACTION_LABELS.get(entry.action, entry.action)), entry.action,
            str(OUTCOME_LABELS.get(entry.outcome, entry.outcome)), entry.target_type, entry.target_id,
            entry.target_label, entry.before, entry.after, entry.ip, entry.user_agent,
            entry.hash_algorithm, entry.prev_hash, entry.hash]


def export_filename(now: datetime | None = None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(TZ)
    return f"hub-audit-{moment:%Y%m%d-%H%M%S}.csv"


def export_audit(actor: Any, query: Select, *, filters: dict[str, Any]) -> Iterator[str]:
    """导出审计日志: records the export (who, with which filters, how many rows)
    and commits, then yields the CSV text in chunks, oldest row first. The caller
    has checked that `actor` is the auditor."""
    rows = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    record_audit(actor, "audit.exported", target_label="audit_entries",
                 after={"filters": filters, "rows": rows})
    db.session.commit()
    return _csv_chunks(query.order_by(None).order_by(AuditEntry.id))


def record_refused_export(actor: Any, filters: dict[str, Any]) -> None:
    """Someone other than the auditor asked for the export: that is audited too."""
    record_audit(actor, "audit.exported", target_label="audit_entries", outcome=REFUSED,
                 after={"filters": filters})
    db.session.commit()


def _csv_chunks(query: Select) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([str(column) for column in COLUMNS])
    for count, entry in enumerate(db.session.scalars(query.execution_options(yield_per=CHUNK_ROWS)), 1):
        writer.writerow([safe_cell(value) for value in _row(entry)])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
