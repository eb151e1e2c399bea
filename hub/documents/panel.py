"""The document page's panel that says what is next: where the document stands
(for a recipient unit, that unit's own state), who holds it now, and the one or
two next steps for this person; the other steps they may take go behind 更多.

Presentation only: which steps the person may take at all is pages.outgoing_steps
and pages.incoming_steps, and every posted step is checked again by the actions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from hub.documents.models import (STATUS_LABELS, Document, DocumentRecipient, DocumentStatus, RecipientStatus,
                                  TaskKind)
from hub.extensions import db
from hub.org.models import Role, RoleGrant, User

D, R = DocumentStatus, RecipientStatus

# The steps that move each state on: offered first, the rest behind 更多.
NEXT = {
    D.DRAFT: ("review",), D.REVIEWED: ("sign",), D.SIGNED: ("number",), D.NUMBERED: ("dispatch",),
    R.PENDING: ("sign_for",), R.SIGNED_FOR: ("register",), R.REGISTERED: ("propose", "instruct"),
    R.PROPOSED: ("instruct",), R.INSTRUCTED: ("assign", "circulate"),
    R.HANDLING: ("complete", "reply"), R.DONE: ("reply", "archive"),
}
# What the state waits for, said of the people who hold it.
WAITS = {
    D.DRAFT: lazy_gettext("待核稿"), D.REVIEWED: lazy_gettext("待签发"), D.SIGNED: lazy_gettext("待编号"),
    D.NUMBERED: lazy_gettext("待分发"),
    R.PENDING: lazy_gettext("待签收"), R.SIGNED_FOR: lazy_gettext("待登记"),
    R.REGISTERED: lazy_gettext("待拟办"), R.PROPOSED: lazy_gettext("待批办"),
    R.INSTRUCTED: lazy_gettext("待交办"), R.HANDLING: lazy_gettext("办理中"),
}
PRIMARY_MAX = 2


@dataclass
class Holder:
    name: str
    note: str = ""            # 主办, 传阅 …


@dataclass
class Panel:
    """What the page's 办理 card says first."""

    state: str                              # the state's label (the recipient unit's own, at a recipient)
    unit_name: str | None                   # the recipient unit, or None on the issuing side
    waits: str | None                       # what the state waits for (待签收 …), None when nothing does
    holders: list[Holder] = field(default_factory=list)
    primary: list[str] = field(default_factory=list)
    more: list[str] = field(default_factory=list)
    leaders: list[dict[str, Any]] = field(default_factory=list)   # 送领导批办's choices


def _people_with(role: str, unit_ids: list[int], limit: int = 8) -> list[User]:
    if not unit_ids:
        return []
    return list(db.session.scalars(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == role, RoleGrant.unit_id.in_(unit_ids), User.active.is_(True))
        .distinct().order_by(User.name, User.id).limit(limit)))


def _split(state: str, offered: list[str]) -> tuple[list[str], list[str]]:
    """The person's steps: those that move the state on (and 已阅, their own
    part) first, at most two; the others behind 更多."""
    moving = NEXT.get(state, ())
    primary = [a for a in offered if a == "mark_read" or a in moving][:PRIMARY_MAX]
    return primary, [a for a in offered if a not in primary]


def outgoing_panel(document: Document, offered: list[str]) -> Panel:
    state = document.status
    holders: list[Holder] = []
    if state in (D.DRAFT, D.SIGNED, D.NUMBERED):
        clerks = _people_with(Role.CLERK, [document.issuer_id])
        holders = [Holder(p.name, _("文书")) for p in clerks]
    elif state == D.REVIEWED:
        unsigned = [i.unit_id for i in document.issuers if i.signer_id is None]
        holders = [Holder(p.name, _("领导")) for p in _people_with(Role.LEADER, unsigned)]
    primary, more = _split(state, offered)
    waits = WAITS.get(state)
    return Panel(state=str(STATUS_LABELS[state]), unit_name=None, waits=str(waits) if waits else None,
                 holders=holders, primary=primary, more=more)


def incoming_panel(recipient: DocumentRecipient, offered: list[str]) -> Panel:
    state = recipient.status
    unit = [recipient.unit_id]
    holders: list[Holder] = []
    if state in (R.PENDING, R.SIGNED_FOR, R.REGISTERED):
        holders = [Holder(p.name, _("文书")) for p in _people_with(Role.CLERK, unit)]
    elif state == R.PROPOSED:
        holders = [Holder(p.name, _("领导")) for p in _people_with(Role.LEADER, unit)]
    elif state == R.INSTRUCTED:
        holders = [Holder(p.name, _("文书")) for p in _people_with(Role.CLERK, unit)]
    elif state == R.HANDLING:
        open_tasks = [t for t in recipient.tasks if t.done_at is None]
        earliest_turn = min((t.turn for t in open_tasks if t.kind == TaskKind.READ and t.turn), default=None)
        for t in sorted(open_tasks, key=lambda t: (t.kind != TaskKind.HANDLE, not t.lead, t.turn or 0, t.id)):
            if t.kind == TaskKind.READ and t.turn is not None and t.turn != earliest_turn:
                continue                         # in order: only the reader whose turn it is holds it
            note = (_("主办") if t.lead else _("承办")) if t.kind == TaskKind.HANDLE else _("传阅")
            holders.append(Holder(t.user.name, note))
    primary, more = _split(state, offered)
    leaders = []
    if "propose" in offered:
        leaders = [{"id": p.id, "name": p.name} for p in _people_with(Role.LEADER, unit, limit=20)]
    waits = WAITS.get(state)
    return Panel(state=str(STATUS_LABELS[state]), unit_name=recipient.unit.name,
                 waits=str(waits) if waits else None, holders=holders, primary=primary, more=more,
                 leaders=leaders)
