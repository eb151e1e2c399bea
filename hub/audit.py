"""审计日志: one append-only row per security-relevant event.

Rows are only ever inserted: database triggers (see the migration) refuse UPDATE
and DELETE on both SQLite and PostgreSQL, so retention (at least 180 days) holds
because nothing in the hub can remove an entry.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_login: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    target_label: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)      # JSON
    after: Mapped[str | None] = mapped_column(Text)       # JSON
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at.isoformat(), "actor_id": self.actor_id,
            "actor_login": self.actor_login, "action": self.action,
            "target_type": self.target_type, "target_id": self.target_id,
            "target_label": self.target_label,
            "before": json.loads(self.before) if self.before else None,
            "after": json.loads(self.after) if self.after else None,
            "ip": self.ip,
        }


AUDIT_ACTION_LABELS = {
    "auth.login": "登录成功", "auth.login_failed": "登录失败", "auth.locked": "账号锁定",
    "auth.logout": "退出登录", "auth.token_issued": "签发接口令牌",
    "auth.password_changed": "修改密码", "auth.password_reset": "重置密码",
    "unit.created": "新建单位", "unit.renamed": "单位更名", "unit.updated": "修改单位",
    "unit.moved": "移动单位", "unit.merged": "合并单位", "unit.retired": "撤销单位",
    "unit.imported": "导入单位", "person.created": "新建人员", "person.updated": "修改人员",
    "person.disabled": "停用人员", "person.enabled": "启用人员",
    "person.imported": "导入人员", "role.granted": "授予角色", "role.revoked": "撤销角色",
    "membership.added": "加入单位", "membership.removed": "离开单位",
    "membership.updated": "修改任职",
    "unit.working_hours": "设置工作时间", "holiday.added": "设置节假日",
    "channel.created": "新建频道", "channel.approved": "批准频道", "channel.rejected": "驳回频道",
    "channel.archived": "归档频道", "channel.merged": "合并频道",
}


def record_audit(actor: Any, action: str, target: Any = None, *,
                 before: dict | None = None, after: dict | None = None,
                 target_label: str | None = None, actor_login: str | None = None) -> AuditEntry:
    """Add an audit row to the current transaction (the caller commits).

    `actor` is a User or None (an anonymous failed sign-in, the CLI); the
    address comes from the request when there is one.
    """
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_login=actor_login or getattr(actor, "login", None),
        action=action,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=getattr(target, "id", None),
        target_label=(target_label or _label(target))[:200] if target is not None or target_label else None,
        before=json.dumps(before, ensure_ascii=False, default=str) if before is not None else None,
        after=json.dumps(after, ensure_ascii=False, default=str) if after is not None else None,
    )
    if has_request_context():
        entry.ip = (request.remote_addr or "")[:64]
        entry.user_agent = (request.user_agent.string or "")[:255]
    db.session.add(entry)
    return entry


def _label(target: Any) -> str:
    if target is None:
        return ""
    for attribute in ("name", "login", "title"):
        value = getattr(target, attribute, None)
        if value:
            return str(value)
    return str(getattr(target, "id", ""))
