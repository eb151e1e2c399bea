"""How held values follow the org tree: when a unit is merged into another, its
values move with it (hub.org.actions.units_merged, sent inside the merge's
transaction, so the move commits with the merge or not at all). The org
package imports nothing of data requests."""
from __future__ import annotations

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import aliased

from hub.audit import record_audit
from hub.datarequests.models import DataValue, DataValueHistory
from hub.extensions import db
from hub.org import actions as org_actions
from hub.org.models import Unit

_connected = False


def move_held_values(source: Unit, target: Unit) -> dict[str, int]:
    """`source`'s held values become `target`'s for every (field, period) that
    `target` holds nothing for, with their whole history. Where both hold one,
    `target`'s stays the value and `source`'s is kept where it was, with its
    history, under the retired `source` (nothing is deleted). Returns the counts."""
    other = aliased(DataValue)
    target_holds = exists().where(other.unit_id == target.id, other.field_id == DataValue.field_id,
                                  other.period == DataValue.period)
    moving = list(db.session.scalars(select(DataValue.id).where(DataValue.unit_id == source.id,
                                                                ~target_holds)))
    kept = db.session.scalar(select(func.count(DataValue.id)).where(DataValue.unit_id == source.id,
                                                                       target_holds)) or 0
    for start in range(0, len(moving), 5000):
        ids = moving[start:start + 5000]
        db.session.execute(update(DataValue).where(DataValue.id.in_(ids)).values(unit_id=target.id)
                           .execution_options(synchronize_session=False))
        db.session.execute(update(DataValueHistory).where(DataValueHistory.value_id.in_(ids))
                           .values(unit_id=target.id).execution_options(synchronize_session=False))
    return {"moved": len(moving), "kept_with_source": kept}


def _on_units_merged(source: Unit, target: Unit) -> None:
    counts = move_held_values(source, target)
    if counts["moved"] or counts["kept_with_source"]:
        record_audit(None, "data.values_moved", source, target_label=source.name,
                     after={"merged_into": target.id, **counts})


def connect_hooks() -> None:
    """Once per process (signals are process-wide)."""
    global _connected
    if _connected:
        return
    _connected = True
    org_actions.units_merged.connect(_on_units_merged)
