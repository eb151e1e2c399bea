"""Data requests (填报): the shared catalogue of fields, the values units hold
once per (unit, field, period) with their history, and the requests that ask
for them (DESIGN.md principle 7, "Collect once")."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import utcnow
from hub.extensions import db
from hub.org.models import Unit, User

CODE_MAX = 64
NAME_MAX = 100
UNIT_OF_MEASURE_MAX = 20
CHOICE_MAX = 100
CHOICES_MAX = 100
TITLE_MAX = 200
PURPOSE_MAX = 2000
REASON_MAX = 200
PERIOD_MAX = 10
TEXT_VALUE_MAX = 2000


class FieldKind(enum.StrEnum):
    INTEGER = "integer"          # a count: whole, not negative
    NUMBER = "number"            # any finite number, with a unit of measure
    TEXT = "text"
    DATE = "date"                # YYYY-MM-DD
    CHOICE = "choice"            # one of the field's choices
    FILE = "file"                # an uploaded file (needs an evidence reason on the request)


class PeriodKind(enum.StrEnum):
    MONTH = "month"              # 2026-11
    QUARTER = "quarter"          # 2026-Q4
    YEAR = "year"                # 2026
    ONCE = "once"                # once: the value does not change with time


class ValueSource(enum.StrEnum):
    FORM = "form"                # typed into a request's form
    IMPORT = "import"            # from an XLSX import


# How a unit's answer to a request came (DataRequestUnit.status): typed into the form,
# or imported by a unit above it from the export's layout (docs/DATA.md).
SUBMITTED_VIA_FORM, SUBMITTED_VIA_IMPORT = "submitted", "imported"


class FeedbackKind(enum.StrEnum):
    DUPLICATE = "duplicate"      # 重复
    UNNECESSARY = "unnecessary"  # 不必要


class DataField(db.Model):
    """数据项 / 指标: one entry of the shared catalogue (数据目录). A system field
    (people in a unit, sub-units, positions) is answered by Hub from the org
    tree and never asked (hub/datarequests/system.py)."""

    __tablename__ = "data_fields"
    __table_args__ = (
        CheckConstraint("kind in ('integer','number','text','date','choice','file')", name="known_kind"),
        CheckConstraint("period_kind in ('month','quarter','year','once')", name="known_period_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    unit_of_measure: Mapped[str | None] = mapped_column(String(UNIT_OF_MEASURE_MAX))
    choices: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    period_kind: Mapped[str] = mapped_column(String(10))
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    system: Mapped[bool] = mapped_column(Boolean, default=False)

    owner_unit: Mapped[Unit | None] = relationship(lazy="joined")


class DataValue(db.Model):
    """数据: the one value a unit holds for a field and a period, reused by every
    request that asks for it. Each change bumps `version` and is kept in
    DataValueHistory."""

    __tablename__ = "data_values"
    __table_args__ = (
        UniqueConstraint("unit_id", "field_id", "period"),
        Index("ix_data_values_field_id_period", "field_id", "period"),
        # Values changed since a request used them (corrections.py): few, found from here.
        Index("ix_data_values_entered_at", "entered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    field_id: Mapped[int] = mapped_column(ForeignKey("data_fields.id"))
    period: Mapped[str] = mapped_column(String(PERIOD_MAX))
    value: Mapped[Any] = mapped_column(JSON)                   # typed per kind (hub/datarequests/values.py)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("data_requests.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), default=ValueSource.FORM)
    version: Mapped[int] = mapped_column(Integer, default=1)


class DataValueHistory(db.Model):
    """Every version of every held value, the first one included."""

    __tablename__ = "data_value_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("data_values.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    field_id: Mapped[int] = mapped_column(ForeignKey("data_fields.id"))
    period: Mapped[str] = mapped_column(String(PERIOD_MAX))
    value: Mapped[Any] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    # A file field's upload: linked here, so every version's file is kept.
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"), index=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("data_requests.id"))
    source: Mapped[str] = mapped_column(String(10), default=ValueSource.FORM)


class DataRequest(db.Model):
    """填报任务: fields asked of an audience of units for one period, by a
    deadline. No row per unit is written when it is sent: the audience is
    resolved through the tree; a unit gets a DataRequestUnit when it submits."""

    __tablename__ = "data_requests"
    __table_args__ = (Index("ix_data_requests_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    purpose: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(PERIOD_MAX), index=True)
    deadline: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)     # the requesting unit
    overlap_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    evidence_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))    # why a file is needed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")
    fields: Mapped[list[DataRequestField]] = relationship(
        cascade="all, delete-orphan", order_by="DataRequestField.position")
    audience: Mapped[list[DataRequestAudience]] = relationship(
        cascade="all, delete-orphan", order_by="DataRequestAudience.id")


class DataRequestField(db.Model):
    __tablename__ = "data_request_fields"

    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"),
                                            primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("data_fields.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    field: Mapped[DataField] = relationship(lazy="joined")


class DataRequestAudience(db.Model):
    """One part of a request's audience: a unit, or a whole subtree."""

    __tablename__ = "data_request_audience"
    __table_args__ = (Index("ix_data_request_audience_reach", "unit_id", "subtree", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    subtree: Mapped[bool] = mapped_column(Boolean, default=False)


class DataRequestUnit(db.Model):
    """A unit's answer to a request, written when the unit submits: its status
    and the version that optimistic concurrency checks (two clerks submitting
    the same version: one wins, the other gets 409 with the current values)."""

    __tablename__ = "data_request_units"
    __table_args__ = (UniqueConstraint("request_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=SUBMITTED_VIA_FORM)     # or "imported"
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataRequestReminder(db.Model):
    """One reminder sent to the units still pending (at most one per 4 hours)."""

    __tablename__ = "data_request_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    units: Mapped[int] = mapped_column(Integer, default=0)


class DataRequestFeedback(db.Model):
    """重复 / 不必要: a unit asked marks a request, once; the requesting side
    sees only the counts."""

    __tablename__ = "data_request_feedback"
    __table_args__ = (
        UniqueConstraint("request_id", "unit_id"),
        CheckConstraint("kind in ('duplicate','unnecessary')", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(20))
    created_on: Mapped[date] = mapped_column(Date)
