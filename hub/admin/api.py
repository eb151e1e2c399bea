"""Admin API: the audit log."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request
from flask_login import current_user
from sqlalchemy import select

from hub.api import api_login_required, cursor_arg, page, page_limit, parse_time
from hub.audit import AuditEntry
from hub.errors import NotAllowed
from hub.extensions import csrf, db

bp = Blueprint("admin_api", __name__)
csrf.exempt(bp)


def audit_query(*, action: str | None = None, actor: str | None = None,
                target_type: str | None = None, target_id: int | None = None,
                since: datetime | None = None, until: datetime | None = None):
    """The audit log, newest first, filtered. Shared with the audit page."""
    query = select(AuditEntry)
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
    """System admins read the whole log (a separate auditor role comes with 三员分立)."""
    if not current_user.is_admin:
        raise NotAllowed("只有系统管理员可以查看审计日志")
    limit, before = page_limit(), cursor_arg("before")
    query = audit_query(action=request.args.get("action"), actor=request.args.get("actor"),
                        target_type=request.args.get("target_type"),
                        target_id=cursor_arg("target_id"),
                        since=parse_time(request.args.get("since"), "since"),
                        until=parse_time(request.args.get("until"), "until"))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    entries = [e.as_json() for e in db.session.scalars(query.limit(limit + 1))]
    return page(entries, limit, lambda item: item["id"])
