"""Data requests in the sender-burden view (发文负担, hub.notices.burden, which
imports nothing of this package: the columns are registered at start-up).
What requesting units ask of the grassroots, per requesting unit and month —
never anything per unit asked (docs/DATA.md "In the sender-burden view")."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import func, select

from hub.datarequests.audience import audience_of, unit_clause
from hub.datarequests.models import DataRequest, DataValue, DataValueHistory, FieldKind
from hub.datarequests.queries import COMPLETE, Asked, pairs_clause, request_fields, unit_states
from hub.extensions import db
from hub.notices.burden import BurdenSource
from hub.org.models import Unit
from hub.org.queries import in_any_subtree
from hub.times import TZ


def burden_counts(scope: list[str] | None, start: datetime,
                  end: datetime) -> dict[tuple[int, str], dict[str, int]]:
    """Per requesting unit and month (Beijing time) of sending, over the data
    requests sent (docs/DATA.md "In the sender-burden view" defines each):
    requests, units asked to type something, fields asked, answers supplied from
    held values instead of asked, requests sent over an overlap with a reason,
    and file fields asked. Never per unit asked."""
    query = (select(DataRequest).join(Unit, Unit.id == DataRequest.unit_id)
             .where(DataRequest.created_at >= start, DataRequest.created_at < end))
    if scope is not None:
        query = query.where(in_any_subtree(scope))
    counts: dict[tuple[int, str], dict[str, int]] = {}
    for request in db.session.scalars(query):
        local = request.created_at.astimezone(TZ)
        month = f"{local.year}-{local.month:02d}"
        row = counts.setdefault((request.unit_id, month), dict.fromkeys(BURDEN_COLUMNS, 0))
        asked = [a for a in request_fields(request) if not a.field.system]
        row["data_requests"] += 1
        row["data_units_asked"] += sum(1 for s in unit_states(request) if s["status"] != COMPLETE)
        row["data_fields_asked"] += len(asked)
        row["data_answers_held"] += held_when_sent(request, asked)
        row["data_overlaps_sent"] += request.overlap_reason is not None
        row["data_file_fields"] += sum(1 for a in asked if a.field.kind == FieldKind.FILE)
    return counts


def held_when_sent(request: DataRequest, asked: list[Asked]) -> int:
    """(unit asked, field asked) pairs whose value for the period was held
    before the request was sent: answers the units were not asked to type."""
    if not asked:
        return 0
    earlier = select(DataValueHistory.id).where(DataValueHistory.value_id == DataValue.id,
                                                DataValueHistory.entered_at < request.created_at)
    return db.session.scalar(
        select(func.count(DataValue.id)).join(Unit, Unit.id == DataValue.unit_id)
        .where(unit_clause(audience_of(request.audience)), pairs_clause(asked), earlier.exists())) or 0


BURDEN_COLUMNS = {"data_requests": lazy_gettext("发起填报"),
                  "data_units_asked": lazy_gettext("要求填报的单位"),
                  "data_fields_asked": lazy_gettext("填报数据项"),
                  "data_answers_held": lazy_gettext("用已有数据免填"),
                  "data_overlaps_sent": lazy_gettext("说明理由后重复发起"),
                  "data_file_fields": lazy_gettext("要求上传材料的数据项")}
BURDEN = BurdenSource(columns=BURDEN_COLUMNS, counts=burden_counts)
