"""Admin API: the audit log (and its CSV export)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hub.api import api_login_required, cursor_arg, page, page_limit, parse_time
from hub.audit import OUTCOMES, AuditEntry
from hub.errors import InvalidInput, NotAllowed
from hub.extensions import csrf, db
from hub.permissions import require_auditor

bp = Blueprint("admin_api", __name__)
csrf.exempt(bp)


def audit_query(*, action: str | None = None, actor: str | None = None,
                target_type: str | None = None, target_id: int | None = None,
                since: datetime | None = None, until: datetime | None = None,
                outcome: str | None = None):
    """The audit log, newest first, filtered. Shared with the audit page."""
    query = select(AuditEntry)
    if outcome:
        if outcome not in OUTCOMES:
            raise InvalidInput(_("结果须为 %(choices)s 之一", choices="、".join(OUTCOMES)), field="outcome")
        query = query.where(AuditEntry.outcome == outcome)
    if action:
        query = query.where(AuditEntry.action.like(action.replace("*", "%")))
    if actor:
        query = query.where(AuditEntry.actor_login == actor)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    return query.order_by(AuditEntry.id.desc())


@bp.get("/audit")
@api_login_required
def audit_log():
    """The auditor reads the whole log, and nobody else does (三员分立)."""
    require_auditor(current_user)
    limit, before = page_limit(), cursor_arg("before")
    query = _filtered()
    if before is not None:
        query = query.where(AuditEntry.id < before)
    entries = [e.as_json() for e in db.session.scalars(query.limit(limit + 1))]
    return page(entries, limit, lambda item: item["id"])


API_FILTERS = ("action", "actor", "target_type", "target_id", "since", "until", "outcome")


def _filtered():
    return audit_query(action=request.args.get("action"), actor=request.args.get("actor"),
                       target_type=request.args.get("target_type"),
                       target_id=cursor_arg("target_id"),
                       since=parse_time(request.args.get("since"), "since"),
                       until=parse_time(request.args.get("until"), "until"),
                       outcome=request.args.get("outcome") or None)


@bp.get("/audit/export")
@api_login_required
def audit_export():
    """The log with the same filters as GET /audit, as a CSV file (auditor only; audited)."""
    from hub.audit_export import export_audit, export_filename, record_refused_export
    filters = {name: request.args[name][:100] for name in API_FILTERS if request.args.get(name)}
    try:
        require_auditor(current_user)
    except NotAllowed:
        record_refused_export(current_user, filters)
        raise
    chunks = export_audit(current_user, _filtered(), filters=filters)
    return csv_response(chunks, export_filename())


def csv_response(chunks, filename: str) -> Response:
    """A streamed CSV download (shared with the audit page's export)."""
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
