"""Notices (通知/公告), their audiences, receipts and anonymous feedback."""
from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import utcnow
from hub.extensions import db
from hub.files.models import Attachment
from hub.org.models import Unit, User
from hub.times import TZ

TITLE_MAX = 200
SUMMARY_MAX = 200
BODY_MAX = 50_000
REASON_MAX = 200


class Notice(db.Model):
    """通知: one publication to an audience of units, subtrees, positions and people.

    No per-recipient rows are written when it is published: the audience is
    resolved through the tree whenever inboxes and coverage are read.
    """

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_publish_at_id", "publish_at", "id"),
        # The current notices (neither corrected nor revoked) as a small covering
        # index: the unread count reads it instead of the wide table (32 → 14 ms on
        # PostgreSQL with 30,000 notices; docs/PERFORMANCE.md, "Scale-out").
        Index("ix_notices_current", "id", "publish_at",
              postgresql_where=text("superseded_by_id IS NULL AND revoked_at IS NULL"),
              sqlite_where=text("superseded_by_id IS NULL AND revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)    # publishing unit
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX))       # 提炼重点, shown in the inbox
    body: Mapped[str] = mapped_column(Text)                           # exactly as written, shown escaped
    html: Mapped[str | None] = mapped_column(Text)                    # optional rich text (nh3)
    urgent_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    publish_at: Mapped[datetime] = mapped_column(default=utcnow)     # in the future: scheduled
    after_hours: Mapped[bool] = mapped_column(Boolean, default=False)   # composed outside working hours
    announced: Mapped[bool] = mapped_column(Boolean, default=False)  # the live push went out
    revoked_at: Mapped[datetime | None]
    revoke_note: Mapped[str | None] = mapped_column(String(REASON_MAX))
    # 更正: a correction is a new notice pointing at the one it replaces.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    last_reminded_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_id])
    unit: Mapped[Unit] = relationship(lazy="joined")
    audience: Mapped[list[NoticeAudience]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeAudience.id")
    # Files uploaded first (POST /api/v1/attachments), then named when publishing.
    # A correction may carry over the files of the version it replaces.
    attachments: Mapped[list[Attachment]] = relationship(
        secondary="notice_attachments", order_by="NoticeAttachment.position", viewonly=True)

    @property
    def is_urgent(self) -> bool:
        return self.urgent_reason is not None


class NoticeAudience(db.Model):
    """One part of an audience: a person; a unit's own people; a whole subtree;
    or the holders of a position (职务) within a subtree."""

    __tablename__ = "notice_audience"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (unit_id IS NULL)", name="one_target"),
        # Covering indexes for "the notices reaching this person": the inbox reads
        # the notice ids from the index alone (docs/PERFORMANCE.md, "Notices").
        Index("ix_notice_audience_unit_reach", "unit_id", "subtree", "position", "notice_id"),
        Index("ix_notice_audience_user_reach", "user_id", "notice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    subtree: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[str | None] = mapped_column(String(64))

    notice: Mapped[Notice] = relationship(back_populates="audience")


class NoticeAttachment(db.Model):
    """附件 of a notice, in the order the publisher gave them."""

    __tablename__ = "notice_attachments"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Receipt(db.Model):
    """回执: written when a person opens a notice (and when they acknowledge it)."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("notice_id", "user_id"),
                      Index("ix_receipts_user_id_notice_id", "user_id", "notice_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
    acked_at: Mapped[datetime | None]
    # Only *that* feedback was given (so it is given once), never which kind.
    feedback_given: Mapped[bool] = mapped_column(Boolean, default=False)


class FeedbackKind(enum.StrEnum):
    DUPLICATE = "duplicate"        # 重复
    UNCLEAR = "unclear"            # 不清楚
    UNNECESSARY = "unnecessary"    # 不必要


FEEDBACK_LABELS = {
    FeedbackKind.DUPLICATE: lazy_gettext("重复"), FeedbackKind.UNCLEAR: lazy_gettext("不清楚"),
    FeedbackKind.UNNECESSARY: lazy_gettext("不必要"),
}


class NoticeFeedback(db.Model):
    """Anonymous feedback on a notice: no person is stored with it."""

    __tablename__ = "notice_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The day only: an exact time could be matched against read times.
    created_on: Mapped[date] = mapped_column(Date, default=lambda: datetime.now(TZ).date())


# ---- The suggestion box (hub/notices/suggestions.py) -----------------------------------------------

SUGGESTION_MAX = 2000
CONTACT_MAX = 200


class Suggestion(db.Model):
    """One suggestion (意见), anonymous unless the writer left a contact."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(SUGGESTION_MAX))
    # The day only, in Beijing time: an exact time could identify the writer.
    created_on: Mapped[date] = mapped_column(Date, default=lambda: datetime.now(TZ).date())
    contact: Mapped[str | None] = mapped_column(String(CONTACT_MAX))


class UnreadCount(db.Model):
    """A person's kept unread count (hub.notices.unread): the current notices
    reaching them, published up to `horizon`, that they have not opened — valid
    while `generation` equals UnreadGeneration's value. Newer notices are
    counted afresh on every read of it."""

    __tablename__ = "unread_counts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    unread: Mapped[int] = mapped_column(Integer)
    horizon: Mapped[datetime]
    generation: Mapped[int] = mapped_column(BigInteger)


class UnreadGeneration(db.Model):
    """One row (id 1): bumped by whatever may change which earlier notices reach
    or count for anyone (a revocation, a correction, a change to the tree or to
    memberships), which makes every kept count stale at once."""

    __tablename__ = "unread_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)
