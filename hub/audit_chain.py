"""The audit log's hash chain, checked (`hub audit-verify`) and shortened (retention).

Verification walks the rows in id order from the chain's anchor (the first row
when retention has removed nothing, with the genesis hash before it) and checks
each row's hash against its content and its prev_hash against the row before,
then the last row against the chain's head. It names the first row that fails.

Retention (a background job, hub/jobs.py) removes rows older than
HUB_AUDIT_RETENTION_DAYS (at least 190) from the oldest end only: it checks the
part it is about to remove, moves the anchor to the oldest row it keeps (whose
prev_hash the verification then trusts), deletes the rows before it and records
that it did. The database refuses anything else (migration 0011): no row younger
than 190 days can be removed, whatever the setting, and none at or after the anchor.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update

from hub.audit import (GENESIS, HASHED_FIELDS, RETENTION_FLOOR_DAYS, AuditChain, AuditEntry,
                       has_algorithm, lock_chain, record_audit, row_hash)
from hub.db import utcnow
from hub.extensions import db

log = logging.getLogger(__name__)

PRUNE_BATCH = 5000                # rows removed per round at most: short transactions
# Removes rows a little older than the setting asks, so that a clock slightly
# ahead of the database's never asks it for a row it still refuses to remove.
PRUNE_MARGIN = timedelta(hours=1)
_COLUMNS = [AuditEntry.id, AuditEntry.hash, *(getattr(AuditEntry, name) for name in HASHED_FIELDS)]


@dataclass
class ChainReport:
    """What a verification found. `broken_id` is the first row that fails."""

    rows: int = 0
    first_id: int | None = None
    last_id: int | None = None
    head_hash: str | None = None
    anchored: bool = False        # retention removed older rows; the chain starts at the anchor
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        if not self.ok:
            where = f"row #{self.broken_id}" if self.broken_id is not None else "the chain's head"
            return f"audit chain BROKEN at {where}: {self.problem} ({self.rows} rows checked before it)"
        if not self.rows:
            return "audit chain intact: the log is empty"
        start = f"from the retention anchor #{self.first_id}" if self.anchored else f"from #{self.first_id}"
        return (f"audit chain intact: {self.rows} rows, {start} to #{self.last_id}; "
                f"head hash {self.head_hash}")

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "first_id": self.first_id, "last_id": self.last_id,
                "head_hash": self.head_hash, "broken_id": self.broken_id, "problem": self.problem}


def check_rows(rows: Iterable[Any], previous: str, report: ChainReport) -> str | None:
    """Check `rows` (in id order) as a stretch of the chain following `previous`;
    fill `report`. Returns the last row's hash, or None at the first failure."""
    for row in rows:
        fields = row._mapping
        if not has_algorithm(fields["hash_algorithm"] or ""):
            report.broken_id, report.problem = row.id, f"unknown hash algorithm {fields['hash_algorithm']!r}"
            return None
        if row_hash(fields) != row.hash:
            report.broken_id = row.id
            report.problem = "its content no longer matches its hash (edited after it was written)"
            return None
        if row.prev_hash != previous:
            report.broken_id = row.id
            report.problem = ("its prev_hash does not match the row before it "
                              "(a row before it was removed, inserted or edited)")
            return None
        report.rows += 1
        report.first_id = row.id if report.first_id is None else report.first_id
        report.last_id = row.id
        previous = row.hash
    return previous


def verify_chain() -> ChainReport:
    """Check the whole chain from its anchor to its head: read-only, streamed, on
    a connection of its own, in one snapshot (whatever is appended or pruned
    meanwhile)."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        else:
            # pysqlite opens no transaction for reads: one read transaction is one snapshot.
            connection.exec_driver_sql("BEGIN")
        try:
            return _verify(connection)
        finally:
            connection.rollback()


def _verify(connection) -> ChainReport:
    chain = connection.execute(select(AuditChain.head_id, AuditChain.head_hash, AuditChain.anchor_id,
                                      AuditChain.anchor_prev_hash).where(AuditChain.id == 1)).first()
    report = ChainReport()
    anchor_id = chain.anchor_id if chain else None
    report.anchored = anchor_id is not None
    head_id = chain.head_id if chain else None
    query = select(*_COLUMNS).order_by(AuditEntry.id)
    rows = iter(connection.execution_options(yield_per=2000).execute(query))
    first = next(rows, None)
    if first is None:
        if head_id is not None:
            report.problem = f"the log is empty, but its head is row #{head_id}"
        return report
    if anchor_id is not None and first.id != anchor_id:
        report.broken_id = first.id
        report.problem = (f"the oldest row is not the retention anchor #{anchor_id} "
                          "(rows were removed or added at the old end)")
        return report
    start = chain.anchor_prev_hash if anchor_id is not None else GENESIS
    last = check_rows(_chained(first, rows), start, report)
    if last is None:
        return report
    report.head_hash = last
    if chain is None or chain.head_id != report.last_id or chain.head_hash != last:
        report.problem = (f"the newest row is #{report.last_id}, but the chain's head says "
                          f"#{head_id} (rows were removed or added at the new end)")
    return report


def _chained(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def record_verification(report: ChainReport) -> None:
    """The verification itself is an audit event (so the log shows it ran)."""
    record_audit(None, "audit.verified", actor_login="(cli)", target_label="audit_entries",
                 outcome="success" if report.ok else "failure", after=report.as_json())
    db.session.commit()


def prune_audit(*, days: int | None = None, now: datetime | None = None,
                batch: int = PRUNE_BATCH) -> int:
    """Retention: remove up to `batch` rows older than `days` (the setting by
    default, never under 190) from the oldest end, keeping the newest row.
    Returns how many rows went. Refuses (0, logged) when the stretch to remove
    does not verify, so that retention never erases the evidence of tampering."""
    days = max(days if days is not None else current_app.config.get("AUDIT_RETENTION_DAYS", 365),
               RETENTION_FLOOR_DAYS)
    cutoff = (now or utcnow()) - timedelta(days=days) - PRUNE_MARGIN
    oldest = db.session.execute(select(AuditEntry.at).order_by(AuditEntry.id).limit(1)).first()
    if oldest is None or oldest.at >= cutoff:
        db.session.rollback()
        return 0
    chain = lock_chain(db.session)
    rows = db.session.execute(select(*_COLUMNS).order_by(AuditEntry.id).limit(batch + 1)).all()
    doomed = []
    for row in rows:
        if len(doomed) == batch or row.at >= cutoff or row.id == chain.head_id:
            break
        doomed.append(row)
    keep = rows[len(doomed)] if len(doomed) < len(rows) else None
    if not doomed or keep is None:
        db.session.rollback()
        return 0
    report = ChainReport()
    start = chain.anchor_prev_hash if chain.anchor_id is not None else GENESIS
    if chain.anchor_id is not None and doomed[0].id != chain.anchor_id:
        report.broken_id, report.problem = doomed[0].id, "the oldest row is not the retention anchor"
    last = check_rows(doomed, start, report) if report.ok else None
    if last is None or keep.prev_hash != last:
        db.session.rollback()
        log.error("audit retention refused: %s", report.describe() if not report.ok else
                  f"row #{keep.id} does not follow row #{doomed[-1].id}")
        return 0
    db.session.execute(update(AuditChain).where(AuditChain.id == 1)
                       .values(anchor_id=keep.id, anchor_prev_hash=keep.prev_hash))
    db.session.execute(delete(AuditEntry).where(AuditEntry.id < keep.id),
                       execution_options={"synchronize_session": False})
    record_audit(None, "audit.pruned", actor_login="(retention)", target_label="audit_entries",
                 after={"removed": len(doomed), "first_id": doomed[0].id, "last_id": doomed[-1].id,
                        "oldest_at": doomed[0].at.isoformat(), "newest_at": doomed[-1].at.isoformat(),
                        "retention_days": days, "anchor_id": keep.id})
    db.session.commit()
    return len(doomed)


def audit_counts() -> dict[str, Any]:
    """Rows and head of the chain, for backups' manifests."""
    chain = db.session.execute(select(AuditChain.head_id, AuditChain.head_hash)
                               .where(AuditChain.id == 1)).first()
    return {"rows": db.session.scalar(select(func.count()).select_from(AuditEntry)),
            "head_id": chain.head_id if chain else None,
            "head_hash": chain.head_hash if chain else None}
