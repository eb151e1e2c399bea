"""Resolving a notice's audience through the tree — never by writing a row per
recipient. Both directions: who is in an audience (coverage, preview), and which
notices reach a person (inbox)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import BigInteger, and_, case, cast, false, func, or_, select

from hub.errors import InvalidInput
from hub.extensions import db
from hub.notices.models import NoticeAudience
from hub.org.models import Membership, Unit, User
from hub.org.queries import subtree_clause
from hub.validation import clean_id_list, clean_text, is_id


BRANCHES_MAX = 300               # subtrees and positions of one audience, together


@dataclass
class Audience:
    """An audience as chosen: subtrees, single units, people, and positions
    within a subtree ({"unit_id": .., "position": "村党组织书记"})."""

    subtrees: list[int] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    positions: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> Audience:
        if not isinstance(data, dict):
            raise InvalidInput(_("请选择发送范围"), field="audience")
        lists = {key: clean_id_list(data.get(key), f"audience.{key}", limit=1000)
                 for key in ("subtrees", "units", "users")}
        items = data.get("positions") or []
        if not isinstance(items, list):
            raise InvalidInput(_("audience.positions 的每一项须为 {unit_id, position}"),
                               field="audience.positions")
        # Each subtree and each position is one branch of one SQL condition
        # (membership_clause): SQLite refuses a condition of about 1,000.
        if len(lists["subtrees"]) + len(items) > BRANCHES_MAX:
            field = "audience.positions" if items else "audience.subtrees"
            raise InvalidInput(_("下级范围与职务合计最多 %(limit)s 项", limit=BRANCHES_MAX), field=field)
        positions = []
        for item in items:
            if not isinstance(item, dict) or not is_id(item.get("unit_id")):
                raise InvalidInput(_("audience.positions 的每一项须为 {unit_id, position}"),
                                   field="audience.positions")
            positions.append((item["unit_id"], clean_text(item.get("position"), "audience.positions",
                                                          _("职务"), max_length=64)))
        audience = cls(positions=positions, **lists)
        if audience.is_empty:
            raise InvalidInput(_("发送范围不能为空"), field="audience")
        return audience

    @property
    def is_empty(self) -> bool:
        return not (self.subtrees or self.units or self.users or self.positions)

    def unit_ids(self) -> set[int]:
        return set(self.subtrees) | set(self.units) | {unit_id for unit_id, _ in self.positions}

    def rows(self) -> list[NoticeAudience]:
        return ([NoticeAudience(unit_id=i, subtree=True) for i in self.subtrees]
                + [NoticeAudience(unit_id=i) for i in self.units]
                + [NoticeAudience(user_id=i) for i in self.users]
                + [NoticeAudience(unit_id=i, subtree=True, position=p) for i, p in self.positions])


def audience_of(rows: list[NoticeAudience]) -> Audience:
    return Audience(subtrees=[r.unit_id for r in rows if r.subtree and not r.position],
                    units=[r.unit_id for r in rows if r.unit_id and not r.subtree],
                    users=[r.user_id for r in rows if r.user_id],
                    positions=[(r.unit_id, r.position) for r in rows if r.subtree and r.position])


def membership_clause(audience: Audience):
    """SQL condition on Membership (joined to its Unit) that is true for the
    memberships through which a person belongs to the audience."""
    paths = dict(db.session.execute(select(Unit.id, Unit.path).where(
        Unit.id.in_(set(audience.subtrees) | {i for i, _ in audience.positions}))).all())
    parts = []
    if audience.users:
        parts.append(Membership.user_id.in_(audience.users))
    if audience.units:
        parts.append(Membership.unit_id.in_(audience.units))
    parts += [subtree_clause(paths[i]) for i in audience.subtrees if i in paths]
    parts += [and_(subtree_clause(paths[i]), Membership.position == p)
              for i, p in audience.positions if i in paths]
    return or_(*parts) if parts else false()


PRIMARY_FIRST = 2**31       # above any unit id: a primary membership's key sorts before the others


def assigned_memberships(audience: Audience):
    """One row per person of the audience: (user_id, unit_id), the unit being
    the person's primary membership when it is in the audience, else the one
    with the lowest id that is. Coverage counts each person once, under that unit.

    A GROUP BY with min() over a sort key rather than a window function: the
    same answer, a third cheaper for a province (docs/PERFORMANCE.md, "Notices")."""
    rank = cast(case((Membership.is_primary.is_(True), 0), else_=PRIMARY_FIRST), BigInteger)
    key = rank + Membership.unit_id
    return (select(Membership.user_id, (func.min(key) % PRIMARY_FIRST).label("unit_id"))
            .join(Unit, Unit.id == Membership.unit_id)
            .join(User, User.id == Membership.user_id)
            .where(membership_clause(audience), User.active.is_(True))
            .group_by(Membership.user_id))


def reach_people(audience: Audience) -> int:
    """How many people an audience reaches right now (no units: half the cost of reach())."""
    return db.session.scalar(
        select(func.count(func.distinct(Membership.user_id)))
        .join(Unit, Unit.id == Membership.unit_id).join(User, User.id == Membership.user_id)
        .where(membership_clause(audience), User.active.is_(True))) or 0


def reach(audience: Audience) -> tuple[int, int]:
    """(people, units) an audience reaches right now: the "reaches N people in
    M units" preview."""
    assigned = assigned_memberships(audience).subquery()
    people, units = db.session.execute(
        select(func.count(), func.count(func.distinct(assigned.c.unit_id)))).one()
    return people or 0, units or 0


def notices_reaching(user: User):
    """SQL condition on NoticeAudience: the rows that include `user`."""
    return _reaching(user.id, [(m.unit_id, m.position, m.unit.path_ids)
                               for m in user.memberships if m.unit.active])


def notices_reaching_now(user_id: int, session) -> Any:
    """The same condition, from the person's memberships as `session` reads them
    now (not as they were loaded earlier in the request)."""
    posts = session.execute(select(Membership.unit_id, Membership.position, Unit.path)
                            .join(Unit, Unit.id == Membership.unit_id)
                            .where(Membership.user_id == user_id, Unit.active.is_(True)))
    return _reaching(user_id, [(unit_id, position, [int(part) for part in path.strip("/").split("/") if part])
                               for unit_id, position, path in posts])


def _reaching(user_id: int, posts: list[tuple[int, str | None, list[int]]]):
    parts = [NoticeAudience.user_id == user_id]
    for unit_id, position, path_ids in posts:
        same_position = or_(NoticeAudience.position.is_(None), NoticeAudience.position == position)
        parts.append(and_(NoticeAudience.subtree.is_(False), NoticeAudience.unit_id == unit_id))
        parts.append(and_(NoticeAudience.subtree.is_(True), NoticeAudience.unit_id.in_(path_ids),
                          same_position))
    return or_(*parts)
