"""Leases in the database: one process at a time does a piece of background work.

A lease is a row (name, holder, expires_at). A process takes it when it is free
or expired, and renews it while it holds it, with one conditional UPDATE: of
several processes racing for it, on SQLite or PostgreSQL, exactly one wins.
A holder that dies keeps the lease only until it expires, so the time to live
bounds how long the work waits after a crash. The clocks of the hosts must agree
to well within that time (NTP).
"""
from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import String, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.extensions import db


class JobLease(db.Model):
    """Which process runs a named piece of background work, until when."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]


_process: tuple[int, str] | None = None


def process_holder() -> str:
    """This process as a lease holder: host, pid and a random tag, so that a
    restarted process (even one given the same pid) is a new holder."""
    global _process
    if _process is None or _process[0] != os.getpid():      # first call, or forked since
        pid = os.getpid()
        _process = (pid, f"{socket.gethostname()[:80]}:{pid}:{secrets.token_hex(4)}")
    return _process[1]


def take_lease(name: str, *, ttl: timedelta, holder: str | None = None,
               now: datetime | None = None) -> bool:
    """Take the lease `name` for `ttl` if it is free or expired, or renew it if
    `holder` (this process by default) has it. True if `holder` now holds it.

    Runs in its own short transaction, apart from the session's: the row is
    created if missing, then claimed by an UPDATE whose WHERE is the rule. On
    PostgreSQL a concurrent claimer waits for the row lock and re-checks the WHERE
    against the winner's row; on SQLite the write lock serialises the claimers."""
    holder = holder or process_holder()
    now = now or utcnow()
    lease = JobLease.__table__
    with db.engine.begin() as connection:
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        # A new row starts out expired, so the UPDATE below decides in every case.
        connection.execute(insert(lease).values(name=name, holder=holder, expires_at=now)
                           .on_conflict_do_nothing())
        # RETURNING rather than rowcount: one way to read the outcome on both drivers.
        claimed = connection.execute(
            update(lease)
            .where(lease.c.name == name, or_(lease.c.expires_at <= now, lease.c.holder == holder))
            .values(holder=holder, expires_at=now + ttl)
            .returning(lease.c.name)).first()
    return claimed is not None


def release_lease(name: str, *, holder: str | None = None, now: datetime | None = None) -> bool:
    """Give the lease up (if `holder` has it), so another process may take it at
    once instead of waiting for it to expire. True if it was released."""
    holder = holder or process_holder()
    lease = JobLease.__table__
    with db.engine.begin() as connection:
        released = connection.execute(
            update(lease).where(lease.c.name == name, lease.c.holder == holder)
            .values(expires_at=now or utcnow()).returning(lease.c.name)).first()
    return released is not None


def lease_holder(name: str) -> tuple[str, datetime] | None:
    """Who holds the lease `name` and until when (None if nobody ever took it)."""
    lease = JobLease.__table__
    with db.engine.connect() as connection:
        row = connection.execute(select(lease.c.holder, lease.c.expires_at)
                                 .where(lease.c.name == name)).first()
    return (row.holder, row.expires_at) if row else None
