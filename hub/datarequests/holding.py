"""Holding a value: the one write of data_values and its history row, shared
by submitting a form and importing a file (neither commits here), and claiming
the next version of a unit's answer to a request. Each change
is a conditional statement on the value's version, so a concurrent change of
the same value makes the later writer lose instead of overwriting unseen."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update

from hub.datarequests.models import (SUBMITTED_VIA_FORM, DataField, DataRequestUnit, DataValue,
                                     DataValueHistory, FieldKind)
from hub.db import utcnow
from hub.extensions import db


def insert_or_nothing(model, values: dict[str, Any]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING; the new row's id, or None when a unique
    constraint held an equal row already (written by a concurrent caller too)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(model.id)
    return db.session.execute(statement).scalar()


class LostRace(Exception):
    """The value changed since it was read (the caller answers 409)."""


def hold_value(actor_id: int, *, unit_id: int, field: DataField, period: str, value: Any,
               held: DataValue | None, request_id: int | None, source: str,
               at: datetime | None = None) -> bool:
    """Hold `value` for (unit, field, period) with a history row; False when it
    is what is held already. LostRace when the value changed since `held` was read.
    `at` is the moment of the submit or import (the unit's submitted_at too, so
    that "changed since the unit submitted" compares equal moments)."""
    fields = {"value": value, "entered_by_id": actor_id, "entered_at": at or utcnow(),
              "request_id": request_id, "source": source}
    if held is not None:
        if held.value == value:
            return False
        value_id = db.session.execute(
            update(DataValue).where(DataValue.id == held.id, DataValue.version == held.version)
            .values(version=held.version + 1, **fields).returning(DataValue.id)
            .execution_options(synchronize_session=False)).scalar()
        version = held.version + 1
    else:
        value_id = insert_or_nothing(DataValue, {"unit_id": unit_id, "field_id": field.id, "period": period,
                                                 "version": 1, **fields})
        version = 1
    if value_id is None:
        raise LostRace()
    db.session.add(DataValueHistory(value_id=value_id, unit_id=unit_id, field_id=field.id, period=period,
                                    version=version,
                                    attachment_id=value if field.kind == FieldKind.FILE else None, **fields))
    return True


def claim_version(actor_id: int, request_id: int, unit_id: int, version: int, *, now: datetime,
                  via: str = SUBMITTED_VIA_FORM) -> int:
    """Move the unit's answer from `version` to the next in one conditional
    statement, so that of two clerks submitting the same version exactly one
    wins; 0 for the loser. `via` (submitted or imported) is kept with it."""
    if version == 0:
        created = insert_or_nothing(DataRequestUnit, {
            "request_id": request_id, "unit_id": unit_id, "status": via, "version": 1,
            "submitted_by_id": actor_id, "submitted_at": now})
        return 1 if created is not None else 0
    claimed = db.session.execute(
        update(DataRequestUnit).where(DataRequestUnit.request_id == request_id,
                                      DataRequestUnit.unit_id == unit_id, DataRequestUnit.version == version)
        .values(version=version + 1, status=via, submitted_by_id=actor_id, submitted_at=now)
        .returning(DataRequestUnit.version).execution_options(synchronize_session=False)).scalar()
    return claimed or 0
