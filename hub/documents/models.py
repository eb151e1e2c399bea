"""Official documents (公文) and their circulation (公文流转), after the 2012
《党政机关公文处理工作条例》 and GB/T 9704-2012.

A document is drafted by one issuing unit (several for a joint document),
reviewed (核稿), signed off (签发) by a leader of every issuer, numbered
(登记编号: gapless per issuer and year) and dispatched (核发) to main (主送)
and copy (抄送) recipient units. Each recipient unit then runs its own incoming
flow (收文): sign for, register, proposal, instruction, handling and/or
circulation, done, archive. Every step is a row of the document's own timeline.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext
from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import utcnow
from hub.extensions import db
from hub.files.models import Attachment
from hub.org.models import Unit, User

# The 15 kinds of 《党政机关公文处理工作条例》 (2012), article 8.
DOC_TYPES = ("决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复",
             "议案", "函", "纪要")
URGENCIES = ("特急", "加急", "平件")
UNCLASSIFIED = "非涉密"
CLASSIFIED = ("秘密", "机密", "绝密")
TITLE_MAX = 200
BODY_MAX = 100_000
COMMENT_MAX = 2000
NOTES_MAX = 500
CAPTION_MAX = 200


class DocumentStatus(enum.StrEnum):
    """The outgoing flow (发文), at the issuing side."""

    DRAFT = "draft"              # 拟稿
    REVIEWED = "reviewed"        # 核稿 done, waiting for sign-off
    SIGNED = "signed"            # 签发 by every issuer's leader
    NUMBERED = "numbered"        # 登记编号
    DISPATCHED = "dispatched"    # 核发


class RecipientStatus(enum.StrEnum):
    """The incoming flow (收文), at one recipient unit."""

    PENDING = "pending"          # dispatched, not yet signed for
    SIGNED_FOR = "signed_for"    # 签收
    REGISTERED = "registered"    # 登记
    PROPOSED = "proposed"        # 拟办
    INSTRUCTED = "instructed"    # 批办
    HANDLING = "handling"        # 承办 / 传阅 under way
    DONE = "done"                # 办结
    ARCHIVED = "archived"        # 归档


STATUS_LABELS = {
    DocumentStatus.DRAFT: lazy_gettext("拟稿"), DocumentStatus.REVIEWED: lazy_gettext("已核稿"),
    DocumentStatus.SIGNED: lazy_gettext("已签发"), DocumentStatus.NUMBERED: lazy_gettext("已编号"),
    DocumentStatus.DISPATCHED: lazy_gettext("已分发"), RecipientStatus.PENDING: lazy_gettext("待签收"),
    RecipientStatus.SIGNED_FOR: lazy_gettext("已签收"), RecipientStatus.REGISTERED: lazy_gettext("已登记"),
    RecipientStatus.PROPOSED: lazy_gettext("已拟办"), RecipientStatus.INSTRUCTED: lazy_gettext("已批办"),
    RecipientStatus.HANDLING: lazy_gettext("办理中"), RecipientStatus.DONE: lazy_gettext("已办结"),
    RecipientStatus.ARCHIVED: lazy_gettext("已归档"),
}


class Document(db.Model):
    """公文: the elements of GB/T 9704-2012 that an electronic system carries."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("issuer_id", "number_year", "number_seq"),
        CheckConstraint("security = '非涉密'", name="unclassified_only"),
        Index("ix_documents_dispatched_at_id", "dispatched_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)   # the lead issuer
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)   # 拟稿人
    urgency: Mapped[str] = mapped_column(String(4), default="平件")
    security: Mapped[str] = mapped_column(String(8), default=UNCLASSIFIED)
    body: Mapped[str] = mapped_column(Text, default="")           # the text, exactly as written
    notes: Mapped[str | None] = mapped_column(String(NOTES_MAX))  # 附注
    deadline: Mapped[date | None] = mapped_column(Date)          # 办理时限 for the recipients
    replies_to_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))   # a 批复's 请示
    status: Mapped[str] = mapped_column(String(12), default=DocumentStatus.DRAFT, index=True)
    # 发文字号 = number_prefix + 〔number_year〕 + number_seq + 号
    number_prefix: Mapped[str | None] = mapped_column(String(20))
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    written_on: Mapped[date | None] = mapped_column(Date)        # 成文日期: the last signature's day
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]
    # Optimistic lock: two steps taken at once on one document cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    issuer: Mapped[Unit] = relationship(lazy="joined", foreign_keys=[issuer_id])
    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_id])
    issuers: Mapped[list[DocumentIssuer]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentIssuer.position")
    recipients: Mapped[list[DocumentRecipient]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentRecipient.id")
    files: Mapped[list[DocumentFile]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentFile.position")
    steps: Mapped[list[DocumentStep]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentStep.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str | None:
        if self.number_seq is None:
            return None
        return f"{self.number_prefix}〔{self.number_year}〕{self.number_seq}号"

    @property
    def is_joint(self) -> bool:
        return len(self.issuers) > 1


class DocumentIssuer(db.Model):
    """One issuing unit of a document (several for a joint document, 联合发文),
    and the leader who signed for it (签发人)."""

    __tablename__ = "document_issuers"
    __table_args__ = (UniqueConstraint("document_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime | None]

    document: Mapped[Document] = relationship(back_populates="issuers")
    unit: Mapped[Unit] = relationship(lazy="joined")
    signer: Mapped[User | None] = relationship(lazy="joined")


class DocumentFile(db.Model):
    """The body file (正文: PDF, DOCX or OFD) and the attachments (附件) with
    their captions (附件说明), in order."""

    __tablename__ = "document_files"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True, index=True)
    is_body: Mapped[bool] = mapped_column(Boolean, default=False)
    caption: Mapped[str | None] = mapped_column(String(CAPTION_MAX))
    position: Mapped[int] = mapped_column(Integer, default=0)

    document: Mapped[Document] = relationship(back_populates="files")
    attachment: Mapped[Attachment] = relationship(lazy="joined")


class DocumentRecipient(db.Model):
    """One recipient unit (主送 or 抄送) and where the document stands there."""

    __tablename__ = "document_recipients"
    __table_args__ = (UniqueConstraint("document_id", "unit_id"),
                      Index("ix_document_recipients_unit_id_status", "unit_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    copy: Mapped[bool] = mapped_column(Boolean, default=False)      # 抄送 rather than 主送
    status: Mapped[str] = mapped_column(String(12), default=RecipientStatus.PENDING)
    received_at: Mapped[datetime | None]          # dispatched to this unit
    signed_for_at: Mapped[datetime | None]
    signed_for_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    register_year: Mapped[int | None] = mapped_column(Integer)     # 收文编号: gapless per unit and year
    register_seq: Mapped[int | None] = mapped_column(Integer)
    done_at: Mapped[datetime | None]
    reply: Mapped[str | None] = mapped_column(Text)                 # 答复 to the sender
    replied_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]     # by the sender: one per 4 hours
    last_chased_at: Mapped[datetime | None]       # 催办 by the unit's clerk, or automatically
    version: Mapped[int] = mapped_column(Integer, default=1)

    document: Mapped[Document] = relationship(back_populates="recipients")
    unit: Mapped[Unit] = relationship(lazy="joined")
    tasks: Mapped[list[DocumentTask]] = relationship(
        back_populates="recipient", cascade="all, delete-orphan", order_by="DocumentTask.id")

    __mapper_args__ = {"version_id_col": version}


class TaskKind(enum.StrEnum):
    HANDLE = "handle"            # 承办
    READ = "read"                # 传阅


class DocumentTask(db.Model):
    """A person's part at a recipient unit: a handler (one of them the lead,
    主办) or a reader it is circulated to (in parallel, or in order)."""

    __tablename__ = "document_tasks"
    __table_args__ = (UniqueConstraint("recipient_id", "user_id", "kind"),
                      Index("ix_document_tasks_user_id_done", "user_id", "done_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("document_recipients.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    # Circulation in order: the reader at `turn` 1 goes first; NULL = in parallel.
    turn: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(COMMENT_MAX))     # 圈阅 comment
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]             # 已阅, or the handler's part done

    recipient: Mapped[DocumentRecipient] = relationship(back_populates="tasks")
    user: Mapped[User] = relationship(lazy="joined")


class DocumentStep(db.Model):
    """One step of the document's timeline: who, when, what, with what comment.
    Written once, never changed: it is the document's own record."""

    __tablename__ = "document_steps"
    __table_args__ = (CheckConstraint("length(action) > 0", name="action_named"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("document_recipients.id", ondelete="CASCADE"),
                                                     index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))   # None: the system (automatic)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str | None] = mapped_column(String(COMMENT_MAX))
    detail: Mapped[str | None] = mapped_column(String(500))    # e.g. the names it was assigned to

    document: Mapped[Document] = relationship(back_populates="steps")
    recipient: Mapped[DocumentRecipient | None] = relationship()
    actor: Mapped[User | None] = relationship(lazy="joined")


class DocumentNewsRead(db.Model):
    """When a person of the issuing office last opened a dispatched document: the
    答复 and 办结 of recipient units after that are news for them (their inbox)."""

    __tablename__ = "document_news_reads"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class NumberCounter(db.Model):
    """The last number given per unit, year and kind ("out": 发文字号, "in": 收文编号).
    Taken with UPDATE … RETURNING in the transaction of the step that uses it,
    so numbers are unique and gapless also under concurrency: a rolled-back
    step gives its number back."""

    __tablename__ = "number_counters"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(3), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
