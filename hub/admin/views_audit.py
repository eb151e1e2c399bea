"""Admin audit page: the append-only log, newest first, filtered and paged by id."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.admin.api import audit_query
from hub.api import parse_time
from hub.admin.views import bp
from hub.audit import AUDIT_ACTION_LABELS, OUTCOME_LABELS, AuditEntry
from hub.errors import HubError, InvalidInput, NotAllowed, form_errors
from hub.extensions import db
from hub.permissions import require_auditor
from hub.validation import clean_int

PAGE_SIZE = 50
VALUE_MAX = 120
FILTERS = ("action", "actor", "target_type", "target_id", "from", "to", "outcome")


def _day_bound(value: str, field: str, *, end: bool = False):
    """A date from the form (a Beijing day) as an aware time; `end` gives the start
    of the next day, so 'to 2026-11-22' includes all of the 22nd. A full ISO time
    (as the API takes) passes through parse_time unchanged."""
    if not value:
        return None
    if len(value) == 10:
        try:
            moment = parse_time(f"{value}T00:00:00+08:00", field)   # Asia/Shanghai has no DST
        except InvalidInput:
            raise InvalidInput(_("日期格式应为 2026-11-22"), field=field) from None
        return moment + timedelta(days=1) if end else moment
    return parse_time(value, field)


def _short(value: Any) -> Any:
    """Scalars stay as they are (the template words them); lists and dicts become
    one line of JSON, cut to a readable length."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= VALUE_MAX else text[:VALUE_MAX - 1] + "…"
    return value


def audit_changes(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """The compact diff of an entry: (field, before, after) for each field that differs."""
    before = json.loads(entry.before) if entry.before else {}
    after = json.loads(entry.after) if entry.after else {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", _short(before), _short(after))]
    keys = list(dict.fromkeys([*before, *after]))
    return [(key, _short(before.get(key)), _short(after.get(key)))
            for key in keys if before.get(key) != after.get(key)]


@bp.get("/audit")
@login_required
def audit():
    """审计日志, for the auditor only (三员分立)."""
    require_auditor(current_user)
    args = _filter_args()
    with form_errors(_audit_page, args):          # a refused filter: no entries, the field named
        before = clean_int(request.args.get("before"), "before", _("分页位置"), required=False)
        query = _page_query(args)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        entries = list(db.session.scalars(query.limit(PAGE_SIZE + 1)))
    return _audit_page(args, entries, before)


def _audit_page(args: dict[str, str], entries: Sequence[AuditEntry] = (), before: int | None = None, *,
                error: HubError | None = None):
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return render_template(
        "admin/audit.html", entries=[(e, audit_changes(e)) for e in entries], args=args,
        labels=AUDIT_ACTION_LABELS, outcomes=OUTCOME_LABELS, error=error, paged=before is not None,
        filters={k: v for k, v in args.items() if v},
        earlier=entries[-1].id if more and entries else None,
    ), error.status if error else 200


def _filter_args() -> dict[str, str]:
    return {name: request.args.get(name, "").strip()[:100] for name in FILTERS}


def _page_query(args: dict[str, str]):
    """The page's filters (Beijing days) as the shared audit query; raises InvalidInput."""
    return audit_query(action=args["action"] or None, actor=args["actor"] or None,
                       target_type=args["target_type"] or None,
                       target_id=clean_int(args["target_id"], "target_id", _("对象编号"), required=False),
                       since=_day_bound(args["from"], "from"),
                       until=_day_bound(args["to"], "to", end=True),
                       outcome=args["outcome"] or None)


@bp.get("/audit/export")
@login_required
def audit_export():
    """导出: the log with the page's current filters as a CSV file, for the auditor
    only; the export (or the refused attempt) is audited."""
    from hub.admin.api import csv_response
    from hub.audit_export import export_audit, export_filename, record_refused_export
    args = _filter_args()
    filters = {k: v for k, v in args.items() if v}
    try:
        require_auditor(current_user)
    except NotAllowed:
        record_refused_export(current_user, filters)
        raise
    return csv_response(export_audit(current_user, _page_query(args), filters=filters), export_filename())
