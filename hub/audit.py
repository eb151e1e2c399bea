"""审计日志: one append-only row per security-relevant event, in a hash chain.

Each row records when (UTC), who (user, their unit at the time), from where
(address, user agent), what (event, object, before/after) and the outcome
(success, failure, refused). Database triggers (migrations 0001 and 0011) refuse
UPDATE on both SQLite and PostgreSQL, and DELETE except retention's: rows older
than 190 days, below the chain's anchor (hub/audit_chain.py).

The hash chain: every row stores the hash of its content together with the
previous row's hash (`prev_hash`), so an edited, removed or inserted row breaks
the chain where it happened (`flask --app wsgi hub audit-verify`). Rows are
chained when their transaction commits: record_audit() only queues the row, and
the commit appends the queued rows in one go while holding the chain's one-row
head (`audit_chain`, locked FOR UPDATE on PostgreSQL; SQLite has one writer at a
time), so two processes appending at once cannot fork the chain, and the lock is
held only for the last moment of the transaction.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any, Mapping

from flask import current_app, has_app_context, has_request_context, request
from flask_babel import lazy_gettext
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.exc import DetachedInstanceError

from hub.db import utcnow
from hub.extensions import db

log = logging.getLogger(__name__)

SUCCESS, FAILURE, REFUSED = "success", "failure", "refused"
OUTCOMES = (SUCCESS, FAILURE, REFUSED)
GENESIS = "0" * 64                 # the prev_hash of the very first row
FORMAT = "hub-audit-v1"            # names the canonical serialization below; never change it in place
ALGORITHMS = ("sm3", "sha256")
RETENTION_FLOOR_DAYS = 190         # the triggers of migration 0011 hold the same number


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_action_at", "action", "at"),
        CheckConstraint("outcome in ('success','failure','refused')", name="known_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_login: Mapped[str | None] = mapped_column(String(64))
    # The actor's (primary) unit when the event happened: an id and the name it had
    # then, since units are renamed, merged and retired afterwards.
    actor_unit_id: Mapped[int | None]
    actor_unit: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), default=SUCCESS, server_default=SUCCESS)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    target_label: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)      # JSON
    after: Mapped[str | None] = mapped_column(Text)       # JSON
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    hash_algorithm: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at.isoformat(), "actor_id": self.actor_id,
            "actor_login": self.actor_login, "actor_unit_id": self.actor_unit_id,
            "actor_unit": self.actor_unit, "action": self.action, "outcome": self.outcome,
            "target_type": self.target_type, "target_id": self.target_id,
            "target_label": self.target_label,
            "before": json.loads(self.before) if self.before else None,
            "after": json.loads(self.after) if self.after else None,
            "ip": self.ip, "user_agent": self.user_agent,
            "hash_algorithm": self.hash_algorithm, "prev_hash": self.prev_hash, "hash": self.hash,
        }


class AuditChain(db.Model):
    """The chain's one row: its head (the newest row and its hash, checked by the
    verification, so removing the newest rows shows) and its anchor (the oldest
    row kept after retention removed older ones, with the prev_hash it carries).
    A trigger lets the anchor only move forward, over rows older than 190 days."""

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    head_id: Mapped[int | None]
    head_hash: Mapped[str | None] = mapped_column(String(64))
    anchor_id: Mapped[int | None]
    anchor_prev_hash: Mapped[str | None] = mapped_column(String(64))


AUDIT_ACTION_LABELS = {
    "auth.login": lazy_gettext("登录成功"), "auth.login_failed": lazy_gettext("登录失败"),
    "auth.locked": lazy_gettext("账号锁定"), "auth.logout": lazy_gettext("退出登录"),
    "auth.token_issued": lazy_gettext("签发接口令牌"), "auth.password_changed": lazy_gettext("修改密码"),
    "auth.password_reset": lazy_gettext("重置密码"), "auth.token_revoked": lazy_gettext("注销接口令牌"),
    "auth.unlocked": lazy_gettext("解除锁定"), "auth.second_factor_enabled": lazy_gettext("启用双因素认证"),
    "auth.second_factor_failed": lazy_gettext("双因素验证失败"),
    "auth.second_factor_reset": lazy_gettext("重置双因素认证"), "unit.created": lazy_gettext("新建单位"),
    "unit.renamed": lazy_gettext("单位更名"), "unit.updated": lazy_gettext("修改单位"),
    "unit.moved": lazy_gettext("移动单位"), "unit.merged": lazy_gettext("合并单位"),
    "unit.retired": lazy_gettext("撤销单位"), "unit.imported": lazy_gettext("导入单位"),
    "person.created": lazy_gettext("新建人员"), "person.updated": lazy_gettext("修改人员"),
    "person.disabled": lazy_gettext("停用人员"), "person.enabled": lazy_gettext("启用人员"),
    "person.imported": lazy_gettext("导入人员"), "role.granted": lazy_gettext("授予角色"),
    "role.revoked": lazy_gettext("撤销角色"), "membership.added": lazy_gettext("加入单位"),
    "membership.removed": lazy_gettext("离开单位"), "membership.updated": lazy_gettext("修改任职"),
    "unit.working_hours": lazy_gettext("设置工作时间"), "holiday.added": lazy_gettext("设置节假日"),
    "channel.created": lazy_gettext("新建频道"), "channel.approved": lazy_gettext("批准频道"),
    "channel.rejected": lazy_gettext("驳回频道"), "channel.archived": lazy_gettext("归档频道"),
    "channel.merged": lazy_gettext("合并频道"), "notice.published": lazy_gettext("发布通知"),
    "notice.reminded": lazy_gettext("提醒未读"), "notice.corrected": lazy_gettext("更正通知"),
    "notice.revoked": lazy_gettext("撤回通知"), "document.drafted": lazy_gettext("拟稿"),
    "document.signed": lazy_gettext("签发公文"), "document.dispatched": lazy_gettext("分发公文"),
    "data_field.created": lazy_gettext("新增数据项"), "data_request.created": lazy_gettext("发起填报"),
    "data_request.submitted": lazy_gettext("提交填报"), "data_request.reminded": lazy_gettext("提醒填报"),
    "data_request.closed": lazy_gettext("结束填报"), "data_request.exported": lazy_gettext("导出填报数据"),
    "data.values_read": lazy_gettext("查看其他单位的数据"), "data.values_imported": lazy_gettext("导入数据"),
    "data.values_moved": lazy_gettext("合并单位时转移数据"),
    "data_request.imported": lazy_gettext("代下级导入填报数据"),
    "audit.exported": lazy_gettext("导出审计日志"), "audit.verified": lazy_gettext("校验审计日志"),
    "audit.pruned": lazy_gettext("清理过期审计记录"), "system.backup": lazy_gettext("备份数据"),
    "system.restore": lazy_gettext("恢复数据"),
}
OUTCOME_LABELS = {SUCCESS: lazy_gettext("成功"), FAILURE: lazy_gettext("失败"), REFUSED: lazy_gettext("拒绝")}


def record_audit(actor: Any, action: str, target: Any = None, *,
                 before: dict | None = None, after: dict | None = None,
                 target_label: str | None = None, actor_login: str | None = None,
                 outcome: str | None = None) -> AuditEntry:
    """Queue an audit row; it is written, chained, when the caller commits (and
    dropped if the transaction rolls back). Until then the row has no id.

    `actor` is a User or None (an anonymous failed sign-in, the CLI, a job); the
    address and user agent come from the request when there is one. `outcome`
    defaults from the event: `*_failed` is a failure, a sign-in refused to a
    locked or disabled account is refused, anything else a success.
    """
    try:
        unit = getattr(actor, "primary_unit", None) if actor is not None else None
    except DetachedInstanceError:      # an actor from a finished session: no unit rather than no row
        unit = None
    entry = AuditEntry(
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_login=_cut(actor_login or getattr(actor, "login", None), 64),
        actor_unit_id=getattr(unit, "id", None),
        actor_unit=_cut(getattr(unit, "name", None), 200),
        action=action[:64],
        outcome=outcome or default_outcome(action, after),
        target_type=type(target).__name__.lower()[:32] if target is not None else None,
        target_id=getattr(target, "id", None),
        target_label=(target_label or _label(target))[:200] if target is not None or target_label else None,
        before=json.dumps(before, ensure_ascii=False, default=str) if before is not None else None,
        after=json.dumps(after, ensure_ascii=False, default=str) if after is not None else None,
    )
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {entry.outcome!r}")
    if has_request_context():
        entry.ip = (request.remote_addr or "")[:64]
        entry.user_agent = (request.user_agent.string or "")[:255]
    session = db.session()
    if not session.in_transaction():
        session.begin()                # so that a rollback before any query drops the row too
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def default_outcome(action: str, after: Mapping | None = None) -> str:
    """The outcome an event implies when the caller names none."""
    reason = after.get("reason") if isinstance(after, Mapping) else None
    if reason in ("locked", "disabled"):
        return REFUSED
    return FAILURE if action.endswith("_failed") else SUCCESS


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def _label(target: Any) -> str:
    if target is None:
        return ""
    for attribute in ("name", "login", "title"):
        value = getattr(target, attribute, None)
        if value:
            return str(value)
    return str(getattr(target, "id", ""))


# ---- the hash chain -------------------------------------------------------------------

def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash covers (format hub-audit-v1): a JSON array, in this
    fixed order, of the format name, the previous hash, the algorithm, the time
    (UTC, microseconds) and every recorded field, compact, UTF-8. The row's id
    is not in it: the order of the chain is the prev_hash links."""
    at = row["at"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [FORMAT, row["prev_hash"], row["hash_algorithm"], at, row["actor_id"],
              row["actor_login"], row["actor_unit_id"], row["actor_unit"], row["action"],
              row["outcome"], row["target_type"], row["target_id"], row["target_label"],
              row["before"], row["after"], row["ip"], row["user_agent"]]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


HASHED_FIELDS = ("prev_hash", "hash_algorithm", "at", "actor_id", "actor_login", "actor_unit_id",
                 "actor_unit", "action", "outcome", "target_type", "target_id", "target_label",
                 "before", "after", "ip", "user_agent")


def row_hash(row: Mapping[str, Any]) -> str:
    """The hex digest of a row's canonical bytes, with the row's own algorithm."""
    digest = hashlib.new(row["hash_algorithm"])
    digest.update(canonical(row))
    return digest.hexdigest()


def has_algorithm(name: str) -> bool:
    try:
        hashlib.new(name)
    except ValueError:
        return False
    return True


def resolve_algorithm(configured: str | None) -> str:
    """HUB_AUDIT_HASH: "sm3" (GB/T 32905) or "sha256". Unset means SM3 when this
    Python's hashlib (OpenSSL) has it, else SHA-256. A named algorithm that is
    unknown or missing here is an error at startup."""
    if not configured:
        if has_algorithm("sm3"):
            return "sm3"
        log.warning("audit: this Python's hashlib has no SM3 (OpenSSL without it); "
                    "the audit hash chain uses SHA-256")
        return "sha256"
    name = configured.strip().lower()
    if name not in ALGORITHMS:
        raise ValueError(f"HUB_AUDIT_HASH must be one of {', '.join(ALGORITHMS)}, not {configured!r}")
    if not has_algorithm(name):
        raise ValueError(f"HUB_AUDIT_HASH={name}, but this Python's hashlib has no {name} "
                         "(install an OpenSSL with SM3, or choose sha256)")
    return name


def check_audit_settings(config: dict) -> None:
    """At startup: refuse a retention under 190 days or an unusable hash algorithm
    (ValueError, naming the setting), and fix the algorithm new rows use."""
    days = config.get("AUDIT_RETENTION_DAYS", 365)
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError(f"HUB_AUDIT_RETENTION_DAYS must be a whole number of days, not {days!r}")
    if days < RETENTION_FLOOR_DAYS:
        raise ValueError(f"HUB_AUDIT_RETENTION_DAYS={days} is below the minimum of {RETENTION_FLOOR_DAYS} "
                         "days: audit logs are kept at least six months (网络安全法 第二十一条)")
    config["AUDIT_HASH_RESOLVED"] = resolve_algorithm(config.get("AUDIT_HASH"))


def hash_algorithm() -> str:
    """The algorithm new rows are chained with (resolved once per app)."""
    if has_app_context():
        config = current_app.config
        if "AUDIT_HASH_RESOLVED" not in config:
            config["AUDIT_HASH_RESOLVED"] = resolve_algorithm(config.get("AUDIT_HASH"))
        return config["AUDIT_HASH_RESOLVED"]
    return resolve_algorithm(None)


def lock_chain(session: Session):
    """Take the chain's head row for this transaction and return it (head_id,
    head_hash, anchor_id, anchor_prev_hash). On PostgreSQL, SELECT … FOR UPDATE:
    a second appender waits until this transaction ends, then reads the new head.
    On SQLite the first write of a transaction takes the database's one write
    lock, so the row is written (insert-if-missing) before it is read."""
    chain = AuditChain.__table__
    head = select(chain.c.head_id, chain.c.head_hash, chain.c.anchor_id,
                  chain.c.anchor_prev_hash).where(chain.c.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
        row = session.execute(head.with_for_update()).first()
        if row is None:                    # a new (or emptied) database
            session.execute(insert(chain).values(id=1).on_conflict_do_nothing())
            row = session.execute(head.with_for_update()).one()
        return row
    from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(chain).values(id=1).on_conflict_do_nothing())
    return session.execute(head).one()


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


def _append(session: Session, entries: list[AuditEntry]) -> None:
    """Chain and insert `entries`, in order, after the current head."""
    head = lock_chain(session)
    previous = head.head_hash or GENESIS
    algorithm = hash_algorithm()
    session.info[_APPENDING] = True
    try:
        for entry in entries:
            entry.at = entry.at or utcnow()
            entry.outcome = entry.outcome or SUCCESS
            entry.hash_algorithm, entry.prev_hash = algorithm, previous
            entry.hash = row_hash(entry_fields(entry))
            session.add(entry)
            session.flush()            # one at a time: ids ascend in chain order
            previous = entry.hash
    finally:
        session.info.pop(_APPENDING, None)
    chain = AuditChain.__table__
    session.execute(update(chain).where(chain.c.id == 1)
                    .values(head_id=entries[-1].id, head_hash=previous))


_PENDING = "audit_pending"
_APPENDING = "audit_appending"


@event.listens_for(Session, "before_flush")
def _hold_audit_rows(session: Session, flush_context, instances) -> None:
    # Rows added to the session directly (not through record_audit) wait for
    # the commit as well, so that every row goes through _append.
    if session.info.get(_APPENDING):
        return
    added = [obj for obj in session.new if isinstance(obj, AuditEntry)]
    if added:
        added.sort(key=lambda obj: inspect(obj).insert_order)
        for entry in added:
            session.expunge(entry)
        session.info.setdefault(_PENDING, []).extend(added)


@event.listens_for(Session, "before_commit")
def _append_audit_rows(session: Session) -> None:
    if not session.info.get(_PENDING) and not any(isinstance(obj, AuditEntry) for obj in session.new):
        return
    session.flush()                    # everything else first: the chain lock comes last
    pending = session.info.pop(_PENDING, [])
    if pending:
        _append(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _drop_audit_rows(session: Session, transaction) -> None:
    if transaction.parent is None:     # the outermost transaction ended: committed or not
        session.info.pop(_PENDING, None)
