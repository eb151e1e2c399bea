"""The inbox's unread number for notices, kept instead of counted.

Counting means matching every notice that reaches a person against every one
they opened: with 10,000 visible that is 10–15 ms on PostgreSQL, on every
inbox page. Publishing must stay flat in the size of its audience (no row per
recipient), so the count cannot be kept by adding one for each person a notice
reaches. Instead each person has a snapshot (UnreadCount):

- `unread` counts the current notices reaching them, published up to
  `horizon`, that they have not opened. Notices published after the horizon are
  counted afresh on every read — a few, walked along the publish_at index.
- Opening a counted notice takes one off, in the same transaction as its
  receipt (`notice_opened`), under the snapshot's row lock.
- Whatever else may change the count of notices before the horizon (a
  revocation, a correction, a backdated or rescheduled notice, a change to the
  tree, a unit or a membership, a receipt moved or deleted) bumps one
  generation number as the last statement before its commit (the listeners at
  the bottom, which watch the session, so a new code path cannot forget); every
  snapshot of an older generation is stale and taken again when next read.
- The horizon lies an hour (LAG) before the moment a snapshot is taken, so a
  notice being published at that moment, not yet committed, is still after it.
  A snapshot older than a day (MAX_AGE) is taken again, which keeps the fresh
  part small.

tests/notices/test_unread_kept.py drives publishing, reading, correcting,
revoking and moving people and units at random and compares the kept number
with a fresh count after every step, on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, event, exists, false, func, inspect, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from hub.db import insert_ignore, utcnow
from hub.extensions import db
from hub.notices.audience import notices_reaching, notices_reaching_now
from hub.notices.models import Notice, NoticeAudience, Receipt, UnreadCount, UnreadGeneration
from hub.org.models import Membership, Unit, User

LAG = timedelta(hours=1)
MAX_AGE = timedelta(days=1)
_STALE = "unread_counts_stale"


def _generation():
    return func.coalesce(select(UnreadGeneration.value).where(UnreadGeneration.id == 1).scalar_subquery(), 0)


def _unread(user_id: int, reaching, *, after=None, until: datetime):
    """Count of the current notices reaching the person (`reaching`: a condition
    on NoticeAudience), published in (after, until], that they have not opened."""
    query = select(func.count(Notice.id)).where(
        Notice.publish_at <= until, Notice.superseded_by_id.is_(None), Notice.revoked_at.is_(None),
        ~exists().where(Receipt.notice_id == Notice.id, Receipt.user_id == user_id))
    if after is None:
        # Everything up to the horizon: the person's notice ids, read once from
        # the covering index, drive.
        return query.where(Notice.id.in_(select(NoticeAudience.notice_id).where(reaching)))
    # The few notices after the horizon drive, each checked against the audience.
    return query.where(Notice.publish_at > after,
                       exists().where(NoticeAudience.notice_id == Notice.id, reaching))


def count_afresh(user: User) -> int:
    """The number counted from scratch (what the kept number must always equal)."""
    return db.session.scalar(_unread(user.id, notices_reaching(user), until=utcnow())) or 0


def unread_count(user: User) -> int:
    """Current notices reaching the person that they have not opened (a notice
    visible only because they opened it is read by definition): one statement
    while the person's snapshot is valid."""
    now = utcnow()
    kept = _kept(user, now)
    if kept is None:
        _take_snapshot(user, now)
        kept = _kept(user, now)
    return kept if kept is not None else count_afresh(user)


def _kept(user: User, now: datetime) -> int | None:
    fresh = (_unread(user.id, notices_reaching(user), after=UnreadCount.horizon, until=now)
             .correlate(UnreadCount).scalar_subquery())
    return db.session.scalar(select(UnreadCount.unread + fresh).where(
        UnreadCount.user_id == user.id, UnreadCount.generation == _generation(),
        UnreadCount.horizon > now - MAX_AGE))


def _take_snapshot(user: User, now: datetime) -> None:
    """Count up to the horizon and keep it, in a transaction of its own (an
    inbox read writes nothing else). The row is locked first, so that a receipt
    being written for this person either committed before the count (and is
    counted as read) or waits and takes its one off after. The generation is
    read before the memberships: a change to them that commits after is a
    newer generation, and this snapshot is then stale at once."""
    horizon = now - LAG
    with db.engine.begin() as connection:
        with Session(bind=connection) as session:
            insert_ignore(session, UnreadCount, {"user_id": user.id, "unread": 0, "horizon": horizon,
                                                 "generation": -1})
            session.execute(select(UnreadCount.user_id).where(UnreadCount.user_id == user.id)
                            .with_for_update())
            generation = session.scalar(select(_generation()))
            reaching = notices_reaching_now(user.id, session)
            unread = session.scalar(_unread(user.id, reaching, until=horizon)) or 0
            session.execute(update(UnreadCount).where(UnreadCount.user_id == user.id)
                            .values(unread=unread, horizon=horizon, generation=generation))
            session.flush()


def notice_opened(session: Session, reader: User, notice: Notice) -> None:
    """The person opened `notice` for the first time (its receipt was just
    written, in this transaction): take it off their kept number if it is
    counted there. Whether it reaches them is asked of the tables, not of
    memberships loaded earlier in the request."""
    if notice.superseded_by_id is not None or notice.revoked_at is not None:
        return
    session.execute(update(UnreadCount).where(
        UnreadCount.user_id == reader.id, UnreadCount.generation == _generation(),
        UnreadCount.horizon >= notice.publish_at, _reaches_now(reader.id, notice.id))
        .values(unread=UnreadCount.unread - 1))


def _reaches_now(user_id: int, notice_id: int):
    """SQL: the notice's audience includes the person, by their memberships as
    they are in the database now."""
    post, post_unit, target = aliased(Membership), aliased(Unit), aliased(Unit)
    audience = NoticeAudience
    by_unit = and_(audience.subtree.is_(false()), audience.unit_id == post.unit_id)
    by_subtree = and_(audience.subtree.is_(true()), post_unit.path.startswith(target.path),
                      or_(audience.position.is_(None), audience.position == post.position))
    by_post = exists().where(post.user_id == user_id, post_unit.id == post.unit_id,
                             post_unit.active.is_(true()), target.id == audience.unit_id,
                             or_(by_unit, by_subtree))
    return exists().where(NoticeAudience.notice_id == notice_id,
                          or_(NoticeAudience.user_id == user_id, by_post))


# ---- What makes every snapshot stale ---------------------------------------------------------

_NOTICE_FIELDS = ("publish_at", "revoked_at", "superseded_by_id")
_UNIT_FIELDS = ("parent_id", "path", "active")


def _changes_counts(obj, session: Session, *, new: bool = False, deleted: bool = False) -> bool:
    """Whether this pending change may alter anyone's count of notices before a horizon."""
    if isinstance(obj, Membership):
        return new or deleted or session.is_modified(obj, include_collections=False)
    if isinstance(obj, Receipt):        # receipts are written by notice_opened's caller, not the ORM
        return new or deleted or _changed(obj, ("notice_id", "user_id"))
    if isinstance(obj, Notice):
        if new:                        # backdated: published before it was written
            return None not in (obj.publish_at, obj.created_at) and obj.publish_at < obj.created_at
        return deleted or _changed(obj, _NOTICE_FIELDS)
    if isinstance(obj, Unit):
        return deleted or (not new and _changed(obj, _UNIT_FIELDS))
    if isinstance(obj, NoticeAudience):   # only a new notice's own audience leaves counts as they are
        return not (new and any(isinstance(other, Notice) and other.id == obj.notice_id
                                for other in session.new))
    return False


def _changed(obj, names: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context) -> None:
    if session.info.get(_STALE):
        return
    if (any(_changes_counts(obj, session, new=True) for obj in session.new)
            or any(_changes_counts(obj, session) for obj in session.dirty)
            or any(_changes_counts(obj, session, deleted=True) for obj in session.deleted)):
        session.info[_STALE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    """UPDATE/DELETE statements (and inserts of receipts) on the tables the
    count reads, unless the call site says the count stays (`keeps_unread`)."""
    if state.execution_options.get("keeps_unread") or not (state.is_update or state.is_delete
                                                            or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is None:
        return
    watched = ((Receipt, Membership) if state.is_insert
               else (Membership, Unit, Notice, NoticeAudience, Receipt))
    if mapper.class_ in watched:
        state.session.info[_STALE] = True


@event.listens_for(Session, "before_commit")
def _bump_generation(session: Session) -> None:
    session.flush()                    # everything else first: this row's lock comes last
    if not session.info.pop(_STALE, False):
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(UnreadGeneration).values(id=1, value=1)
    session.execute(statement.on_conflict_do_update(index_elements=[UnreadGeneration.id],
                                                    set_={"value": UnreadGeneration.value + 1}),
                    execution_options={"keeps_unread": True})


@event.listens_for(Session, "after_transaction_end")
def _forget_changes(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_STALE, None)
