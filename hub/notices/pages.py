"""What the notice and inbox pages need beyond hub.notices.queries: the compose
form's state, the next working period for an after-hours notice, the pickers'
reads, and coverage arranged as a tree for display.

The rules themselves live in actions.py (require_can_publish and friends); the
checks here only decide what a page shows, and the server enforces the rules
again when a form is posted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict

from hub.errors import HubError, InvalidInput
from hub.extensions import db
from hub.files.models import Attachment
from hub.forms import as_id, attachable, form_ids, person_choices, store_uploads  # noqa: F401 (views use pages.*)
from hub.notices.actions import publishing_unit, reach_root
from hub.notices.audience import Audience, audience_of, reach
from hub.notices.models import Notice, Receipt
from hub.notices.queries import visible_notices
from hub.org import queries as org_queries
from hub.org.models import Membership, Role, Unit, User
from hub.times import TZ

WEEKDAYS = (lazy_gettext("周一"), lazy_gettext("周二"), lazy_gettext("周三"), lazy_gettext("周四"),
            lazy_gettext("周五"), lazy_gettext("周六"), lazy_gettext("周日"))
_LOCAL_INPUT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


# ---- Who sees what on the compose page ----------------------------------------------

def can_publish(user: User) -> bool:
    """Leaders and clerks of their (primary) unit, and system admins, see 发通知."""
    unit = publishing_unit(user)
    if unit is None:
        return False
    return user.is_admin or user.has_role(Role.LEADER, unit.id) or user.has_role(Role.CLERK, unit.id)


def can_send_urgent(user: User) -> bool:
    """Only leaders of their unit and system admins see the urgent field."""
    unit = publishing_unit(user)
    return unit is not None and (user.is_admin or user.has_role(Role.LEADER, unit.id))


def reach_of(user: User) -> Unit | None:
    """The top of what the person may address (None: everywhere, for admins)."""
    if user.is_admin:
        return None
    unit = publishing_unit(user)
    return reach_root(unit) if unit else None


# ---- Time: the next working period, and datetime-local fields --------------------------

def when_label(moment: datetime, now: datetime) -> str:
    """"周一 08:30" within the coming week, else "12月1日 周一 08:30"."""
    local, today = moment.astimezone(TZ), now.astimezone(TZ).date()
    weekday, time_of_day = WEEKDAYS[local.weekday()], f"{local:%H:%M}"
    if (local.date() - today).days >= 7:
        return _("%(month)s月%(day)s日 %(weekday)s %(time)s", month=local.month, day=local.day,
                 weekday=weekday, time=time_of_day)
    return _("%(weekday)s %(time)s", weekday=weekday, time=time_of_day)





def local_input(value: datetime | None) -> str:
    """A datetime as the value of an <input type="datetime-local"> (Beijing time)."""
    return value.astimezone(TZ).strftime("%Y-%m-%dT%H:%M") if value else ""


def iso_from_local(value: str, field_name: str) -> str | None:
    """A datetime-local value ("2026-11-23T09:00") as ISO 8601 with +08:00."""
    value = (value or "").strip()
    if not value:
        return None
    if not _LOCAL_INPUT.match(value):
        raise InvalidInput(_("请填写正确的日期和时间"), field=field_name)
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("请填写正确的日期和时间"), field=field_name) from None
    return (value if len(value) == 19 else value + ":00") + "+08:00"


# ---- The compose form -------------------------------------------------------------------

@dataclass
class ComposeForm:
    """The compose (and 更正) form as typed: re-rendered exactly on a refusal."""

    title: str = ""
    summary: str = ""
    body: str = ""
    unit_ids: list[int] = field(default_factory=list)
    subtree_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    positions: list[tuple[int | None, str]] = field(default_factory=list)
    requires_ack: bool = False
    deadline: str = ""
    urgent: bool = False
    urgent_reason: str = ""
    publish_at: str = ""
    auto_publish_at: str = ""
    unit_q: str = ""
    people_q: str = ""
    attachment_ids: list[int] = field(default_factory=list)     # uploaded already, kept across re-renders

    @classmethod
    def from_form(cls, form: MultiDict) -> ComposeForm:
        # A summary is one line (the textarea only wraps it); the body keeps its lines.
        summary = re.sub(r"\s*[\r\n]+\s*", " ", form.get("summary", ""))
        positions = [(as_id(unit), name.strip()[:64]) for unit, name in
                     zip(form.getlist("position_unit"), form.getlist("position")) if name.strip()]
        subtrees = form_ids(form, "subtree_ids")
        return cls(title=form.get("title", ""), summary=summary,
                   body=form.get("body", "").replace("\r\n", "\n"),
                   unit_ids=[i for i in form_ids(form, "unit_ids") if i not in subtrees],
                   subtree_ids=subtrees, user_ids=form_ids(form, "user_ids"), positions=positions,
                   requires_ack=form.get("requires_ack") == "1", deadline=form.get("deadline", "").strip(),
                   urgent=form.get("urgent") == "1", urgent_reason=form.get("urgent_reason", ""),
                   publish_at=form.get("publish_at", "").strip(),
                   auto_publish_at=form.get("auto_publish_at", "").strip(),
                   unit_q=form.get("unit_q", "").strip()[:100],
                   people_q=form.get("people_q", "").strip()[:100],
                   attachment_ids=form_ids(form, "attachment_ids"))

    @classmethod
    def from_notice(cls, notice: Notice) -> ComposeForm:
        """The form pre-filled from a notice (for 更正)."""
        audience = audience_of(notice.audience)
        return cls(title=notice.title, summary=notice.summary, body=notice.body,
                   unit_ids=list(audience.units), subtree_ids=list(audience.subtrees),
                   user_ids=list(audience.users), positions=list(audience.positions),
                   requires_ack=notice.requires_ack, deadline=local_input(notice.deadline),
                   urgent=notice.is_urgent, urgent_reason=notice.urgent_reason or "",
                   attachment_ids=[a.id for a in notice.attachments])

    def audience_json(self) -> dict[str, Any]:
        for unit_id, _position in self.positions:
            if unit_id is None:
                raise InvalidInput(_("请为职务选择所在单位"), field="audience.positions")
        return {"subtrees": self.subtree_ids, "units": self.unit_ids, "users": self.user_ids,
                "positions": [{"unit_id": u, "position": p} for u, p in self.positions]}

    def draft_json(self) -> dict[str, Any]:
        """What NoticeDraft.from_json takes. An after-hours default publication
        time gives way to an urgent notice: urgent goes out at once."""
        publish_at = self.publish_at
        if self.urgent and publish_at and publish_at == self.auto_publish_at:
            publish_at = ""
        data: dict[str, Any] = {
            "title": self.title, "summary": self.summary, "body": self.body,
            "audience": self.audience_json(), "requires_ack": self.requires_ack,
            "urgent": self.urgent, "deadline": iso_from_local(self.deadline, "deadline"),
            "publish_at": iso_from_local(publish_at, "publish_at"),
            "attachment_ids": self.attachment_ids}
        if self.urgent:
            data["urgent_reason"] = self.urgent_reason
        return data

    @property
    def audience_chosen(self) -> bool:
        return bool(self.unit_ids or self.subtree_ids or self.user_ids or self.positions)

    def audience_reach(self) -> tuple[int, int] | None:
        """(people, units) the chosen audience reaches, for the page to show;
        None before one is chosen, or while it is one the server would refuse."""
        if not self.audience_chosen:
            return None
        try:
            return reach(Audience.from_json(self.audience_json()))
        except HubError:
            return None


def upload_files(author: User, form: ComposeForm, files: list[FileStorage]) -> None:
    """Store the files chosen on the form and keep their ids on it."""
    form.attachment_ids += [a.id for a in store_uploads(author, files)]


def form_attachments(author: User, form: ComposeForm, original: Notice | None) -> list[Attachment]:
    """The files on the form the author may attach: their own uploads, and for a
    correction the files of the notice it replaces."""
    carried = {a.id for a in original.attachments} if original is not None else set()
    return attachable(author, form.attachment_ids, carried)


# ---- Reads for the pickers ---------------------------------------------------------------

def unit_choices(units: list[Unit]) -> list[dict[str, Any]]:
    """Units for a picker, each with its ancestors so that two 新村 differ."""
    trail = org_queries.trails(units)
    # The two nearest ancestors say enough ("柯城区 › 石梁镇") and fit a phone.
    return [{"id": u.id, "name": u.name, "code": u.code,
             "trail": " › ".join(a.name for a in trail[u.id][-2:])} for u in units]




def _within(user: User) -> list[str] | None:
    root = reach_of(user)
    return None if root is None else [root.path]


def units_within_reach(user: User, term: str, *, limit: int = 20) -> list[Unit]:
    """Active units matching `term` (several names allowed) that `user` may address."""
    found: dict[int, Unit] = {}
    for part in [t for t in re.split(r"[\s,，、;；]+", term) if t][:5]:
        for unit in org_queries.search_units(part, within=_within(user), limit=limit):
            found.setdefault(unit.id, unit)
    return list(found.values())


def people_within_reach(user: User, term: str, *, limit: int = 20) -> list[User]:
    """People matching `term` (several names allowed) that `user` may address."""
    found: dict[int, User] = {}
    for part in [t for t in re.split(r"[\s,，、;；]+", term) if t][:5]:
        for person in org_queries.search_people(part, within=_within(user), limit=limit):
            if person.active:
                found.setdefault(person.id, person)
    return list(found.values())


def units_by_id(ids: list[int]) -> list[Unit]:
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def people_by_id(ids: list[int]) -> list[User]:
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def positions_under(unit: Unit | None, *, limit: int = 100) -> list[tuple[str, int]]:
    """The positions (职务) held in `unit`'s subtree (everywhere for None), each
    with how many people hold it, the most common first: the suggestions for
    "every 党支部书记 under ...", so that nobody types a position nobody holds."""
    query = (select(Membership.position, func.count()).join(Unit, Unit.id == Membership.unit_id)
             .where(Membership.position != "", Unit.active.is_(True)))
    if unit is not None:
        query = query.where(org_queries.subtree_clause(unit.path))
    rows = db.session.execute(query.group_by(Membership.position)
                              .order_by(func.count().desc(), Membership.position).limit(limit))
    return [(position, count) for position, count in rows]


@dataclass
class Picker:
    """The audience picker's candidates: found and chosen units and people, the
    units a position may be sought under, and suggested positions per unit."""

    units: list[dict[str, Any]]
    people: list[dict[str, Any]]
    position_units: list[dict[str, Any]]
    position_rows: list[tuple[int | None, str]]
    position_names: dict[int | None, list[tuple[str, int]]]
    root: Unit | None


def compose_picker(user: User, form: ComposeForm) -> Picker:
    """What the compose form offers: the chosen units and people first, then
    what the searches found, all within the person's reach."""
    root = reach_of(user)
    chosen = units_by_id(form.subtree_ids + form.unit_ids + [u for u, _ in form.positions if u])
    units = {u.id: u for u in chosen + units_within_reach(user, form.unit_q)}
    people = {p.id: p for p in people_by_id(form.user_ids) + people_within_reach(user, form.people_q)}
    tops = [root] if root is not None else org_queries.children(None)
    position_units = {u.id: u for u in tops + list(units.values())}
    rows = form.positions + [(tops[0].id if tops else None, "")]
    names = {unit_id: positions_under(position_units.get(unit_id)) for unit_id in {u for u, _ in rows}}
    return Picker(units=unit_choices(list(units.values())), people=person_choices(list(people.values())),
                  position_units=unit_choices(list(position_units.values())), position_rows=rows,
                  position_names=names, root=root)


# ---- Reads for the inbox and the notice page ----------------------------------------------

def sending_units(user: User, *, limit: int = 200) -> list[Unit]:
    """The units that have sent the person notices, in tree order (the inbox's
    sending-unit filter)."""
    ids = select(Notice.unit_id).where(Notice.id.in_(
        visible_notices(user).with_only_columns(Notice.id))).distinct()
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.path).limit(limit)))


def feedback_given(user: User, notice: Notice) -> bool:
    """Whether the person already gave feedback on the notice (it is given once)."""
    return bool(db.session.scalar(select(Receipt.feedback_given).where(
        Receipt.notice_id == notice.id, Receipt.user_id == user.id)))


# ---- Coverage as a tree for display ----------------------------------------------------------

@dataclass
class CoverNode:
    """One unit of a coverage: its own people's counts, and its subtree's (the
    rows of coverage.coverage counted once each, nested by path for display)."""

    unit_id: int
    name: str
    depth: int
    path: str
    audience: int
    read: int
    acked: int
    children: list[CoverNode] = field(default_factory=list)
    total_audience: int = 0
    total_read: int = 0
    total_acked: int = 0


def coverage_tree(by_unit: list[dict[str, Any]]) -> list[CoverNode]:
    """Nest the coverage rows (already in tree order, never by rate) under the
    nearest row above them, and add up each subtree."""
    roots: list[CoverNode] = []
    stack: list[CoverNode] = []
    for row in by_unit:
        node = CoverNode(unit_id=row["unit_id"], name=row["name"], depth=row["depth"], path=row["path"],
                         audience=row["audience"], read=row["read"], acked=row["acked"])
        while stack and not node.path.startswith(stack[-1].path):
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def add_up(node: CoverNode) -> None:
        for child in node.children:
            add_up(child)
        node.total_audience = node.audience + sum(c.total_audience for c in node.children)
        node.total_read = node.read + sum(c.total_read for c in node.children)
        node.total_acked = node.acked + sum(c.total_acked for c in node.children)

    for root in roots:
        add_up(root)
    return roots


COVER_PAGE = 100          # units listed at a time inside one unit of the coverage tree


def cover_chain(tree: list[CoverNode], by_unit: list[dict[str, Any]], unit_id: int) -> list[CoverNode]:
    """The nodes from a root of the coverage tree down to `unit_id` (empty when
    the unit is not in it), found by its path: one look per level, not a walk of
    the whole tree."""
    path = next((row["path"] for row in by_unit if row["unit_id"] == unit_id), None)
    chain: list[CoverNode] = []
    level = tree if path else []
    while level:
        step = next((n for n in level if path.startswith(n.path)), None)
        if step is None:
            return []
        chain.append(step)
        if step.unit_id == unit_id:
            return chain
        level = step.children
    return []


def cover_node(tree: list[CoverNode], by_unit: list[dict[str, Any]], unit_id: int) -> CoverNode | None:
    chain = cover_chain(tree, by_unit, unit_id)
    return chain[-1] if chain else None


def open_cover_units(tree: list[CoverNode], by_unit: list[dict[str, Any]], unit_id: int | None) -> set[int]:
    """The units the coverage page renders open: the top level, and the way down
    to `unit_id` (?open=, how the page works without JavaScript)."""
    opened = {n.unit_id for n in tree}
    if unit_id:
        opened |= {n.unit_id for n in cover_chain(tree, by_unit, unit_id)}
    return opened


def cover_units_key(by_unit: list[dict[str, Any]]) -> str:
    """A short fingerprint of which units coverage counts under ("count:sum of
    ids"), which the live page compares to tell when to suggest a reload."""
    return f"{len(by_unit)}:{sum(row['unit_id'] for row in by_unit)}"

