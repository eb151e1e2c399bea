"""Channels (频道/工作群), their messages, acknowledgements, mentions and read pointers."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import utcnow
from hub.extensions import db
from hub.files.models import Attachment
from hub.org.models import Unit, User


class ChannelKind(enum.StrEnum):
    UNIT = "unit"              # one per unit; members are the unit's own people
    ANNOUNCE = "announce"      # one per unit, for its whole subtree; only its leaders post
    TASK = "task"              # 专项工作群: purpose, owner, end date
    DIRECT = "direct"          # two people


class ChannelState(enum.StrEnum):
    PENDING = "pending"        # a task channel awaiting approval
    ACTIVE = "active"
    ARCHIVED = "archived"      # read-only, still searchable
    REJECTED = "rejected"


BODY_MAX = 10_000
TOPIC_MAX = 60
CHANNEL_NAME_MAX = 100


class Channel(db.Model):
    __tablename__ = "channels"
    __table_args__ = (
        # One unit channel and one announcement channel per unit: a unique
        # constraint, so two requests creating it at once cannot make two.
        UniqueConstraint("kind", "unit_id"),
        CheckConstraint("kind in ('unit','announce','task','direct')", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(CHANNEL_NAME_MAX))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    purpose: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ends_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default=ChannelState.ACTIVE, index=True)
    # "min:max" user ids of a direct channel, unique, so a pair has one channel.
    direct_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]
    last_message_id: Mapped[int | None] = mapped_column(Integer)
    last_message_at: Mapped[datetime | None]

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    targets: Mapped[list[ChannelTarget]] = relationship(
        back_populates="channel", cascade="all, delete-orphan")

    @property
    def is_archived(self) -> bool:
        return self.state == ChannelState.ARCHIVED


class ChannelTarget(db.Model):
    """Who a task or direct channel reaches: a person, a unit's own people, or a
    whole subtree. Resolved through the tree when read, so it follows moves."""

    __tablename__ = "channel_targets"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (unit_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    subtree: Mapped[bool] = mapped_column(Boolean, default=False)

    channel: Mapped[Channel] = relationship(back_populates="targets")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        # Idempotent sends: a retry with the same client id finds this row.
        UniqueConstraint("author_id", "client_msg_id"),
        Index("ix_messages_channel_id_id", "channel_id", "id"),
        Index("ix_messages_channel_id_topic_id", "channel_id", "topic", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    topic: Mapped[str] = mapped_column(String(TOPIC_MAX), default="")
    # What the author typed, exactly; always shown escaped, so any string is safe.
    body: Mapped[str] = mapped_column(Text)
    # Optional rich text (a safe subset, sanitized by nh3 before it is stored).
    html: Mapped[str | None] = mapped_column(Text)
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    ack_count: Mapped[int] = mapped_column(Integer, default=0)

    author: Mapped[User] = relationship(lazy="joined")
    # Files sent with it (their message_id); hub/files carries no link back.
    attachments: Mapped[list[Attachment]] = relationship(order_by=Attachment.id)


class MessageEdit(db.Model):
    """The text a message had before an edit (edit history)."""

    __tablename__ = "message_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageAck(db.Model):
    """A "收到" turned into an acknowledgement of a message: one per person."""

    __tablename__ = "message_acks"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mention(db.Model):
    """@person or @unit in a message; reaches the inbox of the people named."""

    __tablename__ = "mentions"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (unit_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)


class ChannelRead(db.Model):
    """How far a person has read in a channel: unread = messages after this id."""

    __tablename__ = "channel_reads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            primary_key=True)
    last_read_id: Mapped[int] = mapped_column(Integer, default=0)

