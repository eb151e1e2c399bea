"""JSON shapes of units and people, shared by the API and pages that fetch JSON."""
from __future__ import annotations

from typing import Any

from hub.org.models import Unit, User


def unit_json(unit: Unit, *, member_count: int | None = None,
              child_count: int | None = None) -> dict[str, Any]:
    data = {
        "id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind,
        "parent_id": unit.parent_id, "path": unit.ancestor_ids, "depth": unit.depth,
        "sort_order": unit.sort_order, "active": unit.active,
    }
    if not unit.active:
        data["merged_into_id"] = unit.merged_into_id
    if member_count is not None:
        data["member_count"] = member_count
    if child_count is not None:
        data["child_count"] = child_count
    return data


def user_json(user: User, *, detail: bool = False) -> dict[str, Any]:
    """The directory view of a person; `detail` adds login, roles and state,
    for the person themself and for admins in scope."""
    data: dict[str, Any] = {
        "id": user.id, "name": user.name,
        "memberships": [{"id": m.id, "unit_id": m.unit_id, "unit_name": m.unit.name,
                         "position": m.position, "primary": m.is_primary}
                        for m in user.memberships],
    }
    if detail:
        data.update({
            "login": user.login, "active": user.active,
            "must_change_password": user.must_change_password,
            "has_password": user.password_hash is not None,
            "language": user.locale,
            "roles": [{"id": g.id, "role": g.role, "unit_id": g.unit_id} for g in user.roles],
        })
    return data
