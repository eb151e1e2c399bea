"""A data request's audience: units and whole subtrees, stored as such (no row
per unit at send time) and resolved through the tree when read."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import false, or_, select

from hub.datarequests.models import DataRequestAudience
from hub.errors import InvalidInput
from hub.extensions import db
from hub.org.models import Unit
from hub.org.queries import subtree_clause
from hub.validation import clean_id_list

SUBTREES_MAX = 300          # each subtree is one branch of one SQL condition (as for notices)
UNITS_MAX = 1000


@dataclass
class DataAudience:
    """Units asked: whole subtrees (the unit and everything below it) and single units."""

    subtrees: list[int] = field(default_factory=list)
    units: list[int] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> DataAudience:
        if not isinstance(data, dict):
            raise InvalidInput(_("请选择填报单位"), field="audience")
        for key in ("users", "positions"):
            if data.get(key):
                raise InvalidInput(_("填报对象只能是单位或下级范围，不能是个人或职务"),
                                   field=f"audience.{key}")
        audience = cls(subtrees=clean_id_list(data.get("subtrees"), "audience.subtrees", limit=SUBTREES_MAX),
                       units=clean_id_list(data.get("units"), "audience.units", limit=UNITS_MAX))
        if not audience.subtrees and not audience.units:
            raise InvalidInput(_("填报单位不能为空"), field="audience")
        return audience

    def unit_ids(self) -> set[int]:
        return set(self.subtrees) | set(self.units)

    def rows(self) -> list[DataRequestAudience]:
        return ([DataRequestAudience(unit_id=i, subtree=True) for i in self.subtrees]
                + [DataRequestAudience(unit_id=i, subtree=False) for i in self.units])

    def as_json(self) -> dict[str, list[int]]:
        return {"subtrees": list(self.subtrees), "units": list(self.units)}


def audience_of(rows: list[DataRequestAudience]) -> DataAudience:
    return DataAudience(subtrees=[r.unit_id for r in rows if r.subtree],
                        units=[r.unit_id for r in rows if not r.subtree])


def unit_paths(unit_ids: set[int]) -> dict[int, str]:
    """{unit id: path} of the units, read once for several audiences."""
    return _paths(unit_ids)


def _paths(unit_ids: set[int]) -> dict[int, str]:
    if not unit_ids:
        return {}
    return dict(db.session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(unit_ids))).all())


def unit_clause(audience: DataAudience):
    """SQL condition on Unit: the active units the audience asks."""
    paths = _paths(set(audience.subtrees))
    parts = [subtree_clause(paths[i]) for i in audience.subtrees if i in paths]
    if audience.units:
        parts.append(Unit.id.in_(audience.units))
    return (or_(*parts) if parts else false()) & Unit.active.is_(True)


def audience_units(audience: DataAudience) -> list[tuple[int, str, int, str, str]]:
    """(id, name, depth, path, code) of every unit asked, in tree order."""
    return list(db.session.execute(select(Unit.id, Unit.name, Unit.depth, Unit.path, Unit.code)
                                   .where(unit_clause(audience)).order_by(Unit.path)).all())


def parts(audience: DataAudience, paths: dict[int, str] | None = None) -> list[tuple[str, bool]]:
    """(path, subtree) of each part of the audience, for comparing audiences without
    resolving them; `paths` (unit_paths) when they were read already."""
    paths = _paths(audience.unit_ids()) if paths is None else paths
    return ([(paths[i], True) for i in audience.subtrees if i in paths]
            + [(paths[i], False) for i in audience.units if i in paths])


def intersect(ours: list[tuple[str, bool]], theirs: list[tuple[str, bool]]) -> bool:
    """Whether two audiences (as parts) may ask a unit in common: a subtree meets
    a subtree when one holds the other, a unit when it holds the unit."""
    for path, subtree in ours:
        for other, other_subtree in theirs:
            if path == other:
                return True
            if subtree and other.startswith(path):
                return True
            if other_subtree and path.startswith(other):
                return True
    return False


def reaches(parts_: list[tuple[str, bool]], unit_path: str) -> bool:
    """Whether the audience asks the unit at `unit_path`."""
    return any(unit_path == path or (subtree and unit_path.startswith(path)) for path, subtree in parts_)


def touches_subtree(parts_: list[tuple[str, bool]], root_path: str) -> bool:
    """Whether the audience asks some unit in the subtree at `root_path`."""
    return any(path.startswith(root_path) or (subtree and root_path.startswith(path))
               for path, subtree in parts_)
