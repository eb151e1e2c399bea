"""Reads over data requests: what is already held for an audience (the preview),
overlapping open requests, a unit's pre-filled form, the requesting side's
status, the "向系统找数据" table, and the inbox source."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from hub.files.models import Attachment
from hub.datarequests.access import answering_units, audience_reaches, can_read_unit, is_requesting_side
from hub.datarequests.audience import DataAudience, audience_of, intersect, parts, unit_clause, unit_paths
from hub.datarequests.corrections import corrected_units, used_versions
from hub.datarequests.drafts import CheckedScope
from hub.datarequests.models import (SUBMITTED_VIA_IMPORT, DataField, DataRequest, DataRequestAudience,
                                     DataRequestFeedback, DataRequestField, DataRequestUnit, DataValue,
                                     DataValueHistory, FeedbackKind, FieldKind)
from hub.datarequests.periods import Period, parse_period
from hub.datarequests.serialize import field_json, inbox_item, source_json
from hub.datarequests.system import system_values
from hub.db import utcnow
from hub.extensions import db
from hub.org.models import Unit, User
from hub.org.queries import subtree_clause

PENDING, SUBMITTED, COMPLETE = "pending", "submitted", "complete"
INBOX_BATCH = 100


@dataclass(frozen=True)
class Asked:
    """One field of a request with the period it is held for there."""

    field: DataField
    period: str


def asked_fields(fields: Iterable[DataField], period: Period) -> list[Asked]:
    return [Asked(f, "once" if f.period_kind == "once" else period.text) for f in fields]


def request_fields(request: DataRequest) -> list[Asked]:
    return asked_fields([link.field for link in request.fields], parse_period(request.period))


def pairs_clause(asked: list[Asked]):
    """SQL condition on DataValue: one of the (field, period) pairs asked."""
    by_period: dict[str, list[int]] = defaultdict(list)
    for item in asked:
        by_period[item.period].append(item.field.id)
    return or_(*(and_(DataValue.period == period, DataValue.field_id.in_(ids))
                 for period, ids in by_period.items()))


# ---- What is held for an audience ----------------------------------------------------------------

def units_and_held(audience: DataAudience, wanted: list[Asked], *columns) -> Select:
    """SELECT `columns` FROM the units asked LEFT JOIN their held values of the
    asked (field, period) pairs: a unit holding none of them is one row with
    NULL value columns. The units drive the join, one probe of the unique
    (unit_id, field_id, period) index per unit and field, so the cost follows
    the audience, not the size of the table. (As an inner join SQLite, which has
    no statistics, reads the (field_id, period) index instead: every unit's
    value of those fields — 750,000 entries for 30 fields of Zhejiang's
    villages, whatever the audience; a LEFT JOIN keeps the units first.) Count
    DataValue.unit_id, not its id: the unique index holds it, so PostgreSQL
    reads the index only and takes the nested loop over the units (counting ids
    it hashed 750,000 rows of the (field_id, period) index's bitmap: 7 times slower)."""
    return (select(*columns).select_from(Unit)
            .outerjoin(DataValue, and_(DataValue.unit_id == Unit.id, pairs_clause(wanted)))
            .where(unit_clause(audience)))


def held_per_unit(audience: DataAudience, asked: list[Asked]) -> dict[int, int]:
    """{unit_id: how many of the asked (non-system) fields it holds}, for the
    units asked (0 for a unit that holds none; {} when only system fields are asked)."""
    wanted = [a for a in asked if not a.field.system]
    if not wanted:
        return {}
    # Grouped in tree order: SQLite walks the path index and needs no temporary b-tree.
    rows = db.session.execute(units_and_held(audience, wanted, Unit.id, func.count(DataValue.unit_id))
                              .group_by(Unit.path, Unit.id))
    return dict(rows.tuples().all())


def held_per_field(audience: DataAudience, asked: list[Asked]) -> dict[int, int]:
    """{field_id: how many units asked hold it} (every unit, for a system field)."""
    wanted = [a for a in asked if not a.field.system]
    counts: dict[int, int] = {}
    if wanted:
        rows = db.session.execute(units_and_held(audience, wanted, DataValue.field_id,
                                                 func.count(DataValue.unit_id)).group_by(DataValue.field_id))
        counts = {field_id: n for field_id, n in rows.tuples() if field_id is not None}
    if any(a.field.system for a in asked):
        total = count_units(audience)
        counts.update({a.field.id: total for a in asked if a.field.system})
    return counts


def count_units(audience: DataAudience) -> int:
    return db.session.scalar(select(func.count(Unit.id)).where(unit_clause(audience))) or 0


def complete_units(audience: DataAudience, asked: list[Asked]) -> int:
    """Units that already hold every asked field: they will not be asked."""
    needed = len([a for a in asked if not a.field.system])
    if needed == 0:
        return count_units(audience)
    return sum(1 for held in held_per_unit(audience, asked).values() if held >= needed)


def preview(checked: CheckedScope) -> dict[str, Any]:
    """Before sending: how many units are asked, what is held already, how many
    units hold everything (they will not be asked), and overlapping open requests."""
    asked = asked_fields(checked.fields, checked.period)
    held = held_per_field(checked.audience, asked)
    return {"units": count_units(checked.audience),
            "fields": [{"field_id": a.field.id, "name": a.field.name, "period": a.period,
                        "system": a.field.system, "held": held.get(a.field.id, 0)} for a in asked],
            "complete_units": complete_units(checked.audience, asked),
            "overlaps": overlaps(checked)}


def overlaps(checked: CheckedScope, *, exclude_id: int | None = None) -> list[dict[str, Any]]:
    """Open requests of the same period asking some of the same fields of some
    of the same units, oldest first, each with the fields in common."""
    asked_ids = [f.id for f in checked.asked]
    if not asked_ids:
        return []
    sharing = select(DataRequestField.request_id).where(DataRequestField.field_id.in_(asked_ids))
    query = (select(DataRequest).where(DataRequest.period == checked.period.text,
                                       DataRequest.closed_at.is_(None), DataRequest.id.in_(sharing))
             .order_by(DataRequest.created_at, DataRequest.id))
    if exclude_id is not None:
        query = query.where(DataRequest.id != exclude_id)
    ours = parts(checked.audience)
    # Their fields and audiences in two statements and their units' paths in a third, however many.
    candidates = list(db.session.scalars(query.options(selectinload(DataRequest.fields),
                                                       selectinload(DataRequest.audience))))
    paths = unit_paths({row.unit_id for other in candidates for row in other.audience})
    found = []
    for other in candidates:
        if intersect(ours, parts(audience_of(other.audience), paths)):
            common = [link.field_id for link in other.fields if link.field_id in asked_ids]
            found.append({"request_id": other.id, "title": other.title, "fields": common,
                          "from": {"unit_id": other.unit_id, "unit_name": other.unit.name},
                          "deadline": other.deadline.isoformat()})
    return found


# ---- One unit's form ------------------------------------------------------------------------------

def held_values(unit_ids: list[int], asked: list[Asked]) -> dict[tuple[int, int], DataValue]:
    """{(unit_id, field_id): the held value} for a few units (a form, an inbox page)."""
    wanted = [a for a in asked if not a.field.system]
    if not wanted or not unit_ids:
        return {}
    rows = db.session.scalars(select(DataValue).where(DataValue.unit_id.in_(unit_ids), pairs_clause(wanted)))
    return {(v.unit_id, v.field_id): v for v in rows}


def answer_of(request: DataRequest, unit_id: int) -> DataRequestUnit | None:
    return db.session.scalar(select(DataRequestUnit).where(DataRequestUnit.request_id == request.id,
                                                           DataRequestUnit.unit_id == unit_id))


def state_of(answer: DataRequestUnit | None, asked: list[Asked], held: dict, unit_id: int) -> str:
    if answer is not None:
        return SUBMITTED
    if all((unit_id, a.field.id) in held for a in asked if not a.field.system):
        return COMPLETE
    return PENDING


def unit_form(request: DataRequest, unit: Unit) -> dict[str, Any]:
    """A unit's form: every field with what is held filled in and where it came
    from; system fields computed from the org tree now."""
    asked = request_fields(request)
    held = held_values([unit.id], asked)
    system = system_values([a.field for a in asked], [unit.id])
    answer = answer_of(request, unit.id)
    status = state_of(answer, asked, held, unit.id)
    moment = answer.submitted_at if answer else request.created_at if status == COMPLETE else None
    used = used_versions(list(held.values()), moment) if moment is not None else {}
    files = _files([v.value for (_u, f), v in held.items() if v is not None
                    and any(a.field.id == f and a.field.kind == FieldKind.FILE for a in asked)])
    now = utcnow().isoformat()
    fields = []
    for item in asked:
        entry = {"field_id": item.field.id, **{k: v for k, v in field_json(item.field).items() if k != "id"},
                 "period": item.period}
        if item.field.system:
            entry.update(value=system.get((unit.id, item.field.id)),
                         source={"request_id": None, "period": item.period, "at": now, "via": "system",
                                 "version": None})
        else:
            value = held.get((unit.id, item.field.id))
            entry.update(value=value.value if value else None, source=source_json(value))
            if value is not None and value.id in used:
                before = used[value.id]
                entry["source"]["corrected"] = {"version": before.version, "value": before.value,
                                                "at": before.entered_at.isoformat()}
            if item.field.kind == FieldKind.FILE and value is not None:
                entry["file"] = files.get(value.value)
        fields.append(entry)
    return {"request_id": request.id, "unit_id": unit.id, "unit_name": unit.name, "period": request.period,
            "version": answer.version if answer else 0, "status": status,
            "submitted_via": _via(answer), "closed": request.closed_at is not None, "fields": fields}


def _via(answer: DataRequestUnit | None) -> str | None:
    """How the unit's answer came: "form", "import" (by a unit above it), or None."""
    if answer is None:
        return None
    return "import" if answer.status == SUBMITTED_VIA_IMPORT else "form"


def _files(ids: list[Any]) -> dict[int, dict[str, Any]]:
    ids = [i for i in ids if isinstance(i, int)]
    if not ids:
        return {}
    return {a.id: {"id": a.id, "filename": a.filename, "size": a.size}
            for a in db.session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}


# ---- The requesting side's status --------------------------------------------------------------

def unit_states(request: DataRequest, *, details: bool = False) -> list[dict[str, Any]]:
    """Every unit asked, in tree order, with its state: submitted, complete (held
    without anyone being asked) or pending. With `details`, also `imported`
    (its answer came by an import) and `corrected` (a value it submitted, or
    held when the request was sent, has changed since: hub/datarequests/corrections.py)."""
    audience = audience_of(request.audience)
    asked = request_fields(request)
    needed = len([a for a in asked if not a.field.system])
    held = held_per_unit(audience, asked)
    submitted: dict[int, str] = dict(db.session.execute(
        select(DataRequestUnit.unit_id, DataRequestUnit.status)
        .where(DataRequestUnit.request_id == request.id)).tuples().all())
    units = db.session.execute(select(Unit.id, Unit.name, Unit.depth, Unit.path, Unit.code)
                               .where(unit_clause(audience)).order_by(Unit.path)).all()
    states = [{"unit_id": u.id, "name": u.name, "depth": u.depth, "path": u.path, "code": u.code,
               "status": (SUBMITTED if u.id in submitted else COMPLETE if held.get(u.id, 0) >= needed
                          else PENDING)}
              for u in units]
    if details:
        wanted = [a for a in asked if not a.field.system]
        corrected = corrected_units(request, unit_clause(audience), pairs_clause(wanted)) if wanted else set()
        for state in states:
            state["imported"] = submitted.get(state["unit_id"]) == SUBMITTED_VIA_IMPORT
            state["corrected"] = state["status"] != PENDING and state["unit_id"] in corrected
    return states


def status_report(request: DataRequest) -> dict[str, Any]:
    """Counts for the requesting side, by unit in tree order: each row counts
    the units asked in its own subtree (rows nest; the totals count each unit
    once). No times, nothing sorted by how far a unit has got."""
    states = unit_states(request, details=True)
    rows = {s["unit_id"]: {"unit_id": s["unit_id"], "name": s["name"], "depth": s["depth"], "units": 0,
                           "submitted": 0, "complete": 0, "imported": 0, "corrected": 0,
                           "status": s["status"],
                           "via": _state_via(s)} for s in states}
    for state in states:
        for ancestor in (int(part) for part in state["path"].strip("/").split("/")):
            row = rows.get(ancestor)
            if row is not None:
                row["units"] += 1
                row["submitted"] += state["status"] == SUBMITTED
                row["complete"] += state["status"] == COMPLETE
                row["imported"] += state["imported"]
                row["corrected"] += state["corrected"]
    totals = {key: sum(1 for s in states if s["status"] == key) for key in (SUBMITTED, COMPLETE, PENDING)}
    return {"units": len(states), "submitted": totals[SUBMITTED], "complete": totals[COMPLETE],
            "pending": totals[PENDING], "imported": sum(s["imported"] for s in states),
            "corrected": sum(s["corrected"] for s in states), "by_unit": [rows[s["unit_id"]] for s in states],
            "feedback": feedback_counts(request), "closed": request.closed_at is not None}


def _state_via(state: dict[str, Any]) -> str | None:
    if state["status"] != SUBMITTED:
        return None
    return "import" if state["imported"] else "form"


def feedback_counts(request: DataRequest) -> dict[str, int]:
    counts = {kind.value: 0 for kind in FeedbackKind}
    counts.update(dict(db.session.execute(
        select(DataRequestFeedback.kind, func.count()).where(DataRequestFeedback.request_id == request.id)
        .group_by(DataRequestFeedback.kind)).all()))
    return counts


def asked_counts(request: DataRequest) -> tuple[int, int]:
    """(units asked, units complete already) of a request just sent: from the
    held counts alone, without the units' names, answers or corrections."""
    asked = request_fields(request)
    needed = len([a for a in asked if not a.field.system])
    if needed == 0:
        total = count_units(audience_of(request.audience))
        return total, total
    held = held_per_unit(audience_of(request.audience), asked)
    return len(held), sum(1 for count in held.values() if count >= needed)


def pending_units(request: DataRequest) -> list[int]:
    """The units asked that still have to answer: pending in unit_states, without
    reading the units' names and paths (sending pushes to their clerks)."""
    asked = request_fields(request)
    needed = len([a for a in asked if not a.field.system])
    if needed == 0:
        return []
    held = held_per_unit(audience_of(request.audience), asked)
    submitted = set(db.session.scalars(select(DataRequestUnit.unit_id)
                                       .where(DataRequestUnit.request_id == request.id)))
    return [unit_id for unit_id, count in held.items() if count < needed and unit_id not in submitted]


# ---- 向系统找数据: held values of a subtree --------------------------------------------------------

def values_table(unit: Unit, *, subtree: bool, period: str | None, field_id: int | None,
                 limit: int, offset: int) -> list[tuple[DataValue, DataField, Unit]]:
    """Held values of a unit (or its whole subtree), in tree order, then by field code and period."""
    query = (select(DataValue, DataField, Unit).join(DataField, DataField.id == DataValue.field_id)
             .join(Unit, Unit.id == DataValue.unit_id)
             .where(subtree_clause(unit.path) if subtree else DataValue.unit_id == unit.id))
    if period is not None:
        query = query.where(DataValue.period == period)
    if field_id is not None:
        query = query.where(DataValue.field_id == field_id)
    query = query.order_by(Unit.path, DataField.code, DataValue.period, DataValue.id)
    return list(db.session.execute(query.offset(offset).limit(limit)).tuples())


def value_row(value: DataValue, field: DataField, unit: Unit) -> dict[str, Any]:
    return {"unit_id": unit.id, "unit_name": unit.name, "field_id": field.id, "code": field.code,
            "name": field.name, "kind": field.kind, "unit_of_measure": field.unit_of_measure,
            "period": value.period, "value": value.value, "source": source_json(value)}


def system_rows(unit: Unit) -> list[dict[str, Any]]:
    """The system fields of one unit, computed from the org tree now."""
    fields = list(db.session.scalars(select(DataField).where(DataField.system.is_(True))
                                     .order_by(DataField.id)))
    computed = system_values(fields, [unit.id])
    return [{"unit_id": unit.id, "unit_name": unit.name, "field_id": f.id, "code": f.code, "name": f.name,
             "kind": f.kind, "unit_of_measure": f.unit_of_measure, "period": "once",
             "value": computed.get((unit.id, f.id)), "source": {"via": "system"}} for f in fields]


# ---- The inbox -----------------------------------------------------------------------------------

def _reaching(units: list[Unit]):
    """SQL condition on DataRequestAudience: the rows that ask one of `units`."""
    return or_(and_(DataRequestAudience.subtree.is_(False),
                    DataRequestAudience.unit_id.in_([u.id for u in units])),
               and_(DataRequestAudience.subtree.is_(True),
                    DataRequestAudience.unit_id.in_({i for u in units for i in u.path_ids})))


def _inbox_states(requests: list[tuple[int, str, bool]],
                  units: list[Unit]) -> dict[int, list[dict[str, Any]]]:
    """For a batch of requests (id, period, closed), the person's units each
    asks, with their state (a closed request's units that never submitted are
    left out). Plain columns, five statements, whatever the batch's size."""
    ids = [request_id for request_id, _period, _closed in requests]
    unit_ids = [u.id for u in units]
    audience: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for request_id, unit_id, subtree in db.session.execute(
            select(DataRequestAudience.request_id, DataRequestAudience.unit_id, DataRequestAudience.subtree)
            .where(DataRequestAudience.request_id.in_(ids))):
        audience[request_id].append((unit_id, subtree))
    submitted = set(db.session.execute(select(DataRequestUnit.request_id, DataRequestUnit.unit_id).where(
        DataRequestUnit.request_id.in_(ids), DataRequestUnit.unit_id.in_(unit_ids))).tuples())
    # How many fields each request asks, and how many of them each of the person's
    # units holds for the request's period: counted by the database, so that a
    # batch of 300 requests of 30 fields is 300 + 300 rows, not 9,000 asked pairs.
    asked = (select(DataRequestField.request_id).join(DataField, DataField.id == DataRequestField.field_id)
             .where(DataRequestField.request_id.in_(ids), DataField.system.is_(False)))
    needed = dict(db.session.execute(asked.add_columns(func.count())
                                     .group_by(DataRequestField.request_id)).tuples().all())
    # A LEFT JOIN keeps the asked fields first, each one probing the unique
    # (unit_id, field_id, period) index (as an inner join SQLite starts from the
    # values of those fields, every unit's).
    held_period = case((DataField.period_kind == "once", "once"), else_=DataRequest.period)
    held = {(request_id, unit_id): count for request_id, unit_id, count in db.session.execute(
        asked.add_columns(DataValue.unit_id, func.count(DataValue.unit_id))
        .join(DataRequest, DataRequest.id == DataRequestField.request_id)
        .outerjoin(DataValue, and_(DataValue.unit_id.in_(unit_ids), DataValue.field_id == DataField.id,
                                   DataValue.period == held_period))
        .group_by(DataRequestField.request_id, DataValue.unit_id)).tuples() if unit_id is not None}
    states: dict[int, list[dict[str, Any]]] = {}
    for request_id, _period, closed in requests:
        mine = []
        for unit in units:
            if not any(u == unit.id or (subtree and u in unit.path_ids)
                       for u, subtree in audience[request_id]):
                continue
            if (request_id, unit.id) in submitted:
                status = SUBMITTED
            elif held.get((request_id, unit.id), 0) >= needed.get(request_id, 0):
                continue                                  # complete: nobody is asked
            elif closed:
                continue
            else:
                status = PENDING
            mine.append({"unit_id": unit.id, "name": unit.name, "status": status})
        states[request_id] = mine
    return states


def inbox_data_requests(user: User, *, limit: int, before: tuple[datetime, int] | None = None,
                        read: bool | None = None, term: str | None = None) -> list[dict[str, Any]]:
    """Inbox items (kind "data_request") of the units whose forms the person
    answers, newest first: unread while one of them is pending; a request all
    of whose units already hold everything shows nothing."""
    units = answering_units(user)
    if not units:
        return []
    query = select(DataRequest).where(DataRequest.id.in_(select(DataRequestAudience.request_id)
                                                         .where(_reaching(units))))
    if before is not None:
        at, item_id = before
        query = query.where(or_(DataRequest.created_at < at,
                                and_(DataRequest.created_at == at, DataRequest.id < item_id)))
    if term:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(DataRequest.title.like(pattern, escape="\\"))
    if read is False:
        query = query.where(DataRequest.closed_at.is_(None))
    query = query.order_by(DataRequest.created_at.desc(), DataRequest.id.desc())
    items: list[dict[str, Any]] = []
    offset = 0
    while len(items) < limit:
        batch = list(db.session.scalars(query.offset(offset).limit(INBOX_BATCH)))
        plain = [(r.id, r.period, r.closed_at is not None) for r in batch]
        states = _inbox_states(plain, units) if batch else {}
        for request in batch:
            mine = states[request.id]
            unread = any(u["status"] == PENDING for u in mine)
            if mine and (read is None or read != unread):
                items.append(inbox_item(request, read=not unread, units=mine))
        if len(batch) < INBOX_BATCH:
            break
        offset += INBOX_BATCH
    return items[:limit]


def pending_count(user: User) -> int:
    """Open requests one of the person's units still has to answer (the inbox's unread number)."""
    units = answering_units(user)
    if not units:
        return 0
    requests = [(request_id, period, False) for request_id, period in db.session.execute(
        select(DataRequest.id, DataRequest.period).where(
            DataRequest.closed_at.is_(None),
            DataRequest.id.in_(select(DataRequestAudience.request_id).where(_reaching(units)))))]
    if not requests:
        return 0
    states = _inbox_states(requests, units)
    return sum(1 for request_id, _period, _closed in requests
               if any(u["status"] == PENDING for u in states[request_id]))


# ---- Files held as values (registered with hub.files) -----------------------------

def values_carrying(attachment_id: int) -> list[int]:
    """The history rows (versions of held values) that carry an uploaded file."""
    return list(db.session.scalars(select(DataValueHistory.id)
                                   .where(DataValueHistory.attachment_id == attachment_id)))


def may_open_value(user: User, history_id: int) -> bool:
    """A file held as a value: readable by whoever reads that unit's values, and
    by the requesting side of a request asking that field of that unit for its period."""
    row = db.session.get(DataValueHistory, history_id)
    unit = db.session.get(Unit, row.unit_id) if row is not None else None
    if unit is None:
        return False
    if can_read_unit(user, unit):
        return True
    field = db.session.get(DataField, row.field_id)
    requests = db.session.scalars(select(DataRequest).where(DataRequest.id.in_(
        select(DataRequestField.request_id).where(DataRequestField.field_id == row.field_id))))
    return any(row.period == ("once" if field.period_kind == "once" else r.period)
               and is_requesting_side(user, r) and audience_reaches(r, unit) for r in requests)
