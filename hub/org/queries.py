"""Reads over the org tree that views, the API and other domains share.

Every subtree read is one range scan over `units.path` (see Unit): the subtree
of a unit whose path is "/1/12/" is every path in ["/1/12/", "/1/120").
"""
from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from hub.extensions import db
from hub.org.models import Membership, RoleGrant, Unit, User


def subtree_clause(path: str, column=Unit.path):
    """SQL condition: `column` lies in the subtree whose root has `path`.

    '/' sorts just before '0', so every path starting with "/1/12/" is
    >= "/1/12/" and < "/1/120"; no other path is. A btree index serves it.
    """
    return and_(column >= path, column < path[:-1] + "0")


def in_any_subtree(paths: list[str], column=Unit.path):
    return or_(*(subtree_clause(path, column) for path in paths)) if paths else False


def subtree_units(unit: Unit, *, include_retired: bool = False) -> Select:
    query = select(Unit).where(subtree_clause(unit.path))
    if not include_retired:
        query = query.where(Unit.active.is_(True))
    return query.order_by(Unit.path)


def subtree_unit_ids(unit: Unit) -> Select:
    return select(Unit.id).where(subtree_clause(unit.path))


def ancestors(unit: Unit) -> list[Unit]:
    """The units above `unit`, root first (one query, read off the path)."""
    ids = unit.ancestor_ids
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def people_under(unit: Unit) -> Select:
    """Everyone with a membership anywhere in `unit`'s subtree (one join, no tree walk)."""
    return (select(User).join(Membership, Membership.user_id == User.id)
            .join(Unit, Unit.id == Membership.unit_id)
            .where(subtree_clause(unit.path)).distinct())


def children(unit_id: int | None, *, include_retired: bool = False) -> list[Unit]:
    query = select(Unit).where(Unit.parent_id.is_(None) if unit_id is None
                               else Unit.parent_id == unit_id)
    if not include_retired:
        query = query.where(Unit.active.is_(True))
    return list(db.session.scalars(query.order_by(Unit.sort_order, Unit.code)))


def child_counts(unit_ids: list[int]) -> dict[int, int]:
    """Active children per unit, for a page of units in one query."""
    if not unit_ids:
        return {}
    rows = db.session.execute(
        select(Unit.parent_id, func.count()).where(Unit.parent_id.in_(unit_ids),
                                                   Unit.active.is_(True))
        .group_by(Unit.parent_id))
    return {parent_id: count for parent_id, count in rows}


def member_counts(unit_ids: list[int]) -> dict[int, int]:
    """Members whose membership is in the unit itself (not below), per unit."""
    if not unit_ids:
        return {}
    rows = db.session.execute(
        select(Membership.unit_id, func.count()).join(User, User.id == Membership.user_id)
        .where(Membership.unit_id.in_(unit_ids), User.active.is_(True))
        .group_by(Membership.unit_id))
    return {unit_id: count for unit_id, count in rows}


def subtree_member_count(unit: Unit) -> int:
    """Active people anywhere in the subtree, counted once each."""
    query = (select(func.count(func.distinct(Membership.user_id)))
             .join(Unit, Unit.id == Membership.unit_id)
             .join(User, User.id == Membership.user_id)
             .where(subtree_clause(unit.path), User.active.is_(True)))
    return db.session.scalar(query) or 0


def search_units(term: str, *, within: list[str] | None = None, limit: int = 50,
                 include_retired: bool = False) -> list[Unit]:
    """Units whose name contains `term` or whose code starts with it."""
    term = term.strip()
    if not term:
        return []
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = select(Unit).where(or_(Unit.name.like(pattern, escape="\\"),
                                   Unit.code.like(pattern[1:], escape="\\")))
    if within is not None:
        query = query.where(in_any_subtree(within))
    if not include_retired:
        query = query.where(Unit.active.is_(True))
    return list(db.session.scalars(query.order_by(Unit.depth, Unit.path).limit(limit)))


def search_people(term: str, *, within: list[str] | None = None, limit: int = 50,
                  offset: int = 0) -> list[User]:
    """People whose name or login contains `term`, optionally only those with a
    membership inside one of the subtrees `within`."""
    query = select(User)
    term = (term or "").strip()
    if term:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.name.like(pattern, escape="\\"),
                                User.login.like(pattern, escape="\\")))
    if within is not None:
        member_unit = aliased(Unit)
        query = query.where(User.id.in_(
            select(Membership.user_id).join(member_unit, member_unit.id == Membership.unit_id)
            .where(in_any_subtree(within, member_unit.path))))
    return list(db.session.scalars(query.order_by(User.name, User.id).offset(offset).limit(limit)))


def unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == code))


# --- Reads for the admin pages (appended with issue item 7) ---

def unit_memberships(unit_id: int) -> list[Membership]:
    """The memberships held in the unit itself, with their people, by name."""
    query = (select(Membership).join(User, User.id == Membership.user_id)
             .where(Membership.unit_id == unit_id)
             .options(contains_eager(Membership.user))
             .order_by(User.name, User.id))
    return list(db.session.scalars(query))


def grants_in_unit(unit_id: int) -> list[RoleGrant]:
    """Role grants held in the unit itself (they end when the unit is merged)."""
    return list(db.session.scalars(
        select(RoleGrant).where(RoleGrant.unit_id == unit_id).order_by(RoleGrant.id)))


def scope_roots(paths: list[str]) -> list[Unit]:
    """The units at the top of the given subtrees, leaving out any subtree that
    lies inside another one, in tree order."""
    tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    ids = [int(p.strip("/").split("/")[-1]) for p in tops if p.strip("/")]
    if not ids:
        return []
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.path)))


def trails(units: list[Unit]) -> dict[int, list[Unit]]:
    """Ancestors (root first) of many units at once, in one query, so that a list
    of search results can say which 新村 is which."""
    wanted = {i for unit in units for i in unit.ancestor_ids}
    found = ({u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(wanted)))}
             if wanted else {})
    return {unit.id: [found[i] for i in unit.ancestor_ids if i in found] for unit in units}
