"""Org tree and people API (API.md "Org tree"). Thin: parse, access, one action."""
from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hub.api import api_login_required, cursor_arg, json_body, page, page_limit
from hub.errors import InvalidInput, not_found
from hub.extensions import csrf, db
from hub.org import actions, people, queries, roles
from hub.org.models import Membership, RoleGrant, Unit, User
from hub.org.serialize import unit_json, user_json
from hub.permissions import (access_person, access_person_for_admin, access_person_for_roles,
                             access_unit, access_unit_for_admin, access_unit_for_roles,
                             can_view_account)
from hub.validation import clean_bool, clean_int

bp = Blueprint("org_api", __name__)
csrf.exempt(bp)


def _units_json(units: list[Unit]) -> list[dict]:
    ids = [u.id for u in units]
    members, kids = queries.member_counts(ids), queries.child_counts(ids)
    return [unit_json(u, member_count=members.get(u.id, 0), child_count=kids.get(u.id, 0))
            for u in units]


@bp.get("/units")
@api_login_required
def list_units():
    code, term = request.args.get("code"), request.args.get("q")
    limit = page_limit()
    if code is not None:
        unit = queries.unit_by_code(code)
        return {"items": _units_json([unit] if unit else []), "next": None}
    if term:
        return {"items": _units_json(queries.search_units(term, limit=limit)), "next": None}
    return {"items": _units_json(queries.children(None)), "next": None}


@bp.get("/units/<int:unit_id>")
@api_login_required
def get_unit(unit_id: int):
    unit = access_unit(current_user, unit_id)
    data = _units_json([unit])[0]
    data["subtree_member_count"] = queries.subtree_member_count(unit)
    return data


@bp.get("/units/<int:unit_id>/children")
@api_login_required
def unit_children(unit_id: int):
    unit = access_unit(current_user, unit_id)
    limit, offset = page_limit(), cursor_arg("after") or 0
    kids = queries.children(unit.id, include_retired=request.args.get("retired") == "1")
    result = page(_units_json(kids[offset:offset + limit + 1]), limit, lambda _: offset + limit)
    return result


@bp.get("/units/<int:unit_id>/people")
@api_login_required
def unit_people(unit_id: int):
    unit = access_unit(current_user, unit_id)
    limit, after = page_limit(), cursor_arg("after") or 0
    query = (select(User).join(Membership, Membership.user_id == User.id)
             .where(Membership.unit_id == unit.id, User.id > after)
             .order_by(User.id).limit(limit + 1))
    if request.args.get("subtree") == "1":
        query = queries.people_under(unit).where(User.id > after).order_by(User.id).limit(limit + 1)
    users = list(db.session.scalars(query))
    return page([user_json(u) for u in users], limit, lambda item: item["id"])


@bp.post("/units")
@api_login_required
def create_unit():
    data = json_body()
    parent_id = clean_int(data.get("parent_id"), "parent_id", _("上级单位"), required=False)
    parent = access_unit_for_admin(current_user, parent_id) if parent_id is not None else None
    unit = actions.create_unit(current_user, code=data.get("code"), name=data.get("name"),
                               parent=parent, kind=data.get("kind"),
                               sort_order=clean_int(data.get("sort_order"), "sort_order", _("排序"),
                                                    required=False))
    return _units_json([unit])[0], 201


@bp.patch("/units/<int:unit_id>")
@api_login_required
def update_unit(unit_id: int):
    unit = access_unit_for_admin(current_user, unit_id)
    data = json_body()
    unknown = set(data) - {"name", "parent_id", "kind", "sort_order"}
    if unknown:
        raise InvalidInput(_("不支持的字段：%(fields)s", fields=", ".join(sorted(unknown))),
                           field=sorted(unknown)[0])
    if "parent_id" in data:
        parent_id = clean_int(data["parent_id"], "parent_id", _("上级单位"))
        actions.move_unit(current_user, unit, access_unit_for_admin(current_user, parent_id))
        unit = db.session.get(Unit, unit_id)
    if {"name", "kind", "sort_order"} & set(data):
        actions.update_unit(current_user, unit, name=data.get("name"), kind=data.get("kind"),
                            sort_order=data.get("sort_order"))
    return _units_json([db.session.get(Unit, unit_id)])[0]


@bp.post("/units/<int:unit_id>/merge")
@api_login_required
def merge_unit(unit_id: int):
    source = access_unit_for_admin(current_user, unit_id)
    target_id = clean_int(json_body().get("target_id"), "target_id", _("目标单位"))
    target = actions.merge_units(current_user, source,
                                 access_unit_for_admin(current_user, target_id))
    return _units_json([target])[0]


@bp.post("/units/<int:unit_id>/retire")
@api_login_required
def retire_unit(unit_id: int):
    unit = actions.retire_unit(current_user, access_unit_for_admin(current_user, unit_id))
    return _units_json([unit])[0]


@bp.get("/people")
@api_login_required
def list_people():
    limit, offset = page_limit(), cursor_arg("after") or 0
    within = None
    unit_id = clean_int(request.args.get("unit_id"), "unit_id", _("单位"), required=False)
    if unit_id is not None:
        within = [access_unit(current_user, unit_id).path]
    found = queries.search_people(request.args.get("q", ""), within=within,
                                  limit=limit + 1, offset=offset)
    return page([user_json(p, detail=can_view_account(current_user, p)) for p in found],
                limit, lambda _: offset + limit)


@bp.get("/people/<int:person_id>")
@api_login_required
def get_person(person_id: int):
    person = access_person(current_user, person_id)
    return user_json(person, detail=can_view_account(current_user, person))


@bp.post("/people")
@api_login_required
def create_person():
    data = json_body()
    unit = access_unit_for_admin(current_user, clean_int(data.get("unit_id"), "unit_id", _("单位")))
    roles = data.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidInput(_("roles 必须是角色名称的列表"), field="roles")
    person = people.create_person(current_user, login=data.get("login"), name=data.get("name"),
                                  unit=unit, position=data.get("position") or "",
                                  password=data.get("password"), roles=tuple(roles))
    return user_json(person, detail=True), 201


@bp.patch("/people/<int:person_id>")
@api_login_required
def update_person(person_id: int):
    person = access_person_for_admin(current_user, person_id)
    data = json_body()
    if "unit_id" in data:
        unit = access_unit_for_admin(current_user, clean_int(data["unit_id"], "unit_id", _("单位")))
        people.transfer_person(current_user, person, unit, position=data.get("position") or "")
    if "name" in data or "active" in data:
        active = clean_bool(data["active"], "active", _("启用状态")) if "active" in data else None
        people.update_person(current_user, person, name=data.get("name"), active=active)
    return user_json(person, detail=True)


@bp.post("/people/<int:person_id>/memberships")
@api_login_required
def add_membership(person_id: int):
    person = access_person_for_admin(current_user, person_id)
    data = json_body()
    unit = access_unit_for_admin(current_user, clean_int(data.get("unit_id"), "unit_id", _("单位")))
    people.add_membership(current_user, person, unit, position=data.get("position") or "",
                          primary=clean_bool(data.get("primary", False), "primary", _("主单位")))
    return user_json(person, detail=True), 201


def _membership(person: User, membership_id: int) -> Membership:
    membership = next((m for m in person.memberships if m.id == membership_id), None)
    if membership is None:
        raise not_found("membership")
    return membership


@bp.patch("/people/<int:person_id>/memberships/<int:membership_id>")
@api_login_required
def update_membership(person_id: int, membership_id: int):
    person = access_person_for_admin(current_user, person_id)
    data = json_body()
    primary = clean_bool(data["primary"], "primary", _("主单位")) if "primary" in data else None
    people.update_membership(current_user, _membership(person, membership_id),
                             position=data.get("position"), primary=primary)
    return user_json(person, detail=True)


@bp.delete("/people/<int:person_id>/memberships/<int:membership_id>")
@api_login_required
def remove_membership(person_id: int, membership_id: int):
    person = access_person_for_admin(current_user, person_id)
    people.remove_membership(current_user, _membership(person, membership_id))
    return user_json(person, detail=True)


@bp.post("/people/<int:person_id>/roles")
@api_login_required
def grant_role(person_id: int):
    """授予角色: the security admin, or a unit admin for clerk and leader (三员分立)."""
    person = access_person_for_roles(current_user, person_id)
    data = json_body()
    unit_id = clean_int(data.get("unit_id"), "unit_id", _("单位"), required=False)
    unit = access_unit_for_roles(current_user, unit_id) if unit_id is not None else None
    role = data.get("role")
    if not isinstance(role, str):
        raise InvalidInput(_("缺少角色"), field="role")
    roles.grant_role(current_user, person, role, unit)
    return user_json(person, detail=True), 201


@bp.delete("/people/<int:person_id>/roles/<int:grant_id>")
@api_login_required
def revoke_role(person_id: int, grant_id: int):
    person = access_person_for_roles(current_user, person_id)
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != person.id:
        raise not_found("grant")
    roles.revoke_role(current_user, grant)
    return user_json(person, detail=True)


@bp.post("/people/<int:person_id>/unlock")
@api_login_required
def unlock(person_id: int):
    """解除锁定 (security admin): `was_locked` says whether there was a lock."""
    person = access_person_for_roles(current_user, person_id)
    return {"unlocked": True, "was_locked": roles.unlock_account(current_user, person)}


@bp.post("/people/<int:person_id>/password")
@api_login_required
def reset_password(person_id: int):
    person = access_person_for_admin(current_user, person_id)
    people.reset_password(current_user, person, json_body().get("password") or "")
    return {"reset": True}


