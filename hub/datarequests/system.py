"""System fields: figures the org tree already knows, answered by Hub and never
asked. They are catalogue rows (seeded by migration 0018 and kept by
ensure_system_fields) whose values are computed from the tree when a form, a
status or an export is read — so they are always current and never typed."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.datarequests.models import DataField
from hub.db import insert_ignore, utcnow
from hub.extensions import db
from hub.org.models import Membership, Unit, User
from hub.org.queries import child_counts, in_any_subtree, member_counts

ROOTS_MAX = 200
CHUNK = 5000                     # ids per IN (...): well under SQLite's limit of bound parameters


@dataclass(frozen=True)
class SystemField:
    code: str
    name: str             # stored in the catalogue as data, like a unit's name
    kind: str
    unit_of_measure: str | None


SYSTEM_FIELDS = (
    SystemField("sys.people", "本单位人数", "integer", "人"),
    SystemField("sys.subtree_people", "本级及下级人数", "integer", "人"),
    SystemField("sys.sub_units", "下级单位数", "integer", "个"),
    SystemField("sys.positions", "在岗职务", "text", None),
)
SYSTEM_CODES = frozenset(f.code for f in SYSTEM_FIELDS)


def ensure_system_fields() -> int:
    """Add any system field missing from the catalogue (the caller commits).
    Idempotent and safe when two processes start at once; returns how many were added."""
    added = 0
    for item in SYSTEM_FIELDS:
        added += insert_ignore(db.session, DataField, {
            "code": item.code, "name": item.name, "kind": item.kind, "unit_of_measure": item.unit_of_measure,
            "period_kind": "once", "system": True, "created_at": utcnow()})
    return added


def system_values(fields: Iterable[DataField], unit_ids: list[int]) -> dict[tuple[int, int], Any]:
    """{(unit_id, field_id): value} of the system fields among `fields`, for the
    units, in one query per field however many units."""
    wanted = {f.code: f.id for f in fields if f.system and f.code in SYSTEM_CODES}
    values: dict[tuple[int, int], Any] = {}
    if not wanted or not unit_ids:
        return values
    if "sys.people" in wanted:
        counts = _chunked(member_counts, unit_ids)
        values.update({(u, wanted["sys.people"]): counts.get(u, 0) for u in unit_ids})
    if "sys.sub_units" in wanted:
        counts = _chunked(child_counts, unit_ids)
        values.update({(u, wanted["sys.sub_units"]): counts.get(u, 0) for u in unit_ids})
    if "sys.subtree_people" in wanted:
        counts = _subtree_people(unit_ids)
        values.update({(u, wanted["sys.subtree_people"]): counts.get(u, 0) for u in unit_ids})
    if "sys.positions" in wanted:
        positions = _chunked(_positions, unit_ids)
        values.update({(u, wanted["sys.positions"]): "、".join(sorted(positions.get(u, ())))
                       for u in unit_ids})
    return values


def _subtree_people(unit_ids: list[int]) -> dict[int, int]:
    """Active people anywhere in each unit's subtree, each counted once per unit:
    every membership below the units is read once and credited to the wanted
    units on its path."""
    wanted = set(unit_ids)
    ids = sorted(wanted)
    paths = [path for start in range(0, len(ids), CHUNK)
             for path in db.session.scalars(select(Unit.path).where(Unit.id.in_(ids[start:start + CHUNK])))]
    if not paths:
        return {}
    people: dict[int, set[int]] = defaultdict(set)
    query = (select(Membership.user_id, Unit.path).join(Unit, Unit.id == Membership.unit_id)
             .join(User, User.id == Membership.user_id).where(User.active.is_(True), Unit.active.is_(True)))
    roots = _roots(paths)
    if len(roots) <= ROOTS_MAX:            # else one pass over every membership beats a huge OR
        query = query.where(in_any_subtree(roots))
    rows = db.session.execute(query)
    for user_id, path in rows:
        for unit_id in (int(part) for part in path.strip("/").split("/")):
            if unit_id in wanted:
                people[unit_id].add(user_id)
    return {unit_id: len(users) for unit_id, users in people.items()}


def _chunked(read, unit_ids: list[int]) -> dict:
    """A per-unit read over many units, CHUNK ids at a time."""
    merged: dict = {}
    for start in range(0, len(unit_ids), CHUNK):
        merged.update(read(unit_ids[start:start + CHUNK]))
    return merged


def _roots(paths: list[str]) -> list[str]:
    """The paths not inside another one of them (fewer branches in the condition)."""
    roots: list[str] = []
    for path in sorted(paths):
        if not roots or not path.startswith(roots[-1]):
            roots.append(path)
    return roots


def _positions(unit_ids: list[int]) -> dict[int, set[str]]:
    """The positions (职务) held by active people in each unit itself."""
    found: dict[int, set[str]] = defaultdict(set)
    rows = db.session.execute(
        select(Membership.unit_id, Membership.position).join(User, User.id == Membership.user_id)
        .where(Membership.unit_id.in_(unit_ids), User.active.is_(True), Membership.position != ""))
    for unit_id, position in rows:
        found[unit_id].add(position)
    return found
