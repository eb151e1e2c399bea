"""What the document pages need beyond hub.documents.queries: the draft form's
state, the unit and people pickers' reads, and which step forms to offer
(page_reads.py has the timeline, the sheets and the list rows).

The rules live in actions.py. The checks here only decide which forms a page
shows; every posted step goes through actions.take_step, which checks again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from hub.documents.actions import BODY_TYPES, drafting_unit
from hub.documents.models import (Document, DocumentRecipient, DocumentStatus, DocumentTask, RecipientStatus,
                                  TaskKind)
from hub.errors import InvalidInput, NotAllowed
from hub.extensions import db
from hub.files.models import Attachment
from hub.forms import ID_MAX, as_id, attachable, form_ids, person_choices, store_uploads  # noqa: F401 (views use pages.*)
from hub.org import queries as org_queries
from hub.org.models import Membership, Role, Unit, User

D, R = DocumentStatus, RecipientStatus


def as_date(value: Any, field_name: str) -> date | None:
    """A date typed as YYYY-MM-DD (an <input type="date">), or None when empty."""
    value = str(value or "").strip()
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidInput(_("请填写正确的日期（年-月-日）"), field=field_name)


# ---- The draft form ---------------------------------------------------------------------

@dataclass
class DraftForm:
    """The draft form (拟稿 / 修改草稿) as typed: re-rendered exactly on a refusal."""

    doc_type: str = "通知"
    title: str = ""
    urgency: str = "平件"
    main_ids: list[int] = field(default_factory=list)
    copy_ids: list[int] = field(default_factory=list)
    joint_ids: list[int] = field(default_factory=list)
    body: str = ""
    notes: str = ""
    deadline: str = ""
    unit_q: str = ""
    browse: int | None = None                  # list the units under this one
    all_main: int | None = None                # every unit under this one becomes 主送
    attachment_ids: list[int] = field(default_factory=list)   # uploaded already, kept across re-renders
    captions: dict[int, str] = field(default_factory=dict)
    body_file: int | None = None
    first_is_body: bool = False
    replies_to: int | None = None              # a 批复 answers this 请示

    @classmethod
    def from_form(cls, form: MultiDict) -> DraftForm:
        attachment_ids = form_ids(form, "attachment_ids")
        return cls(doc_type=form.get("doc_type", ""), title=form.get("title", ""),
                   urgency=form.get("urgency", "平件"), main_ids=form_ids(form, "main_ids"),
                   copy_ids=form_ids(form, "copy_ids"), joint_ids=form_ids(form, "joint_ids"),
                   body=form.get("body", "").replace("\r\n", "\n"),
                   notes=form.get("notes", "").replace("\r\n", "\n"),
                   deadline=form.get("deadline", "").strip(),
                   unit_q=form.get("unit_q", "").strip()[:100], browse=as_id(form.get("browse")),
                   all_main=as_id(form.get("all_main")),
                   attachment_ids=attachment_ids,
                   captions={i: form.get(f"caption_{i}", "") for i in attachment_ids},
                   body_file=as_id(form.get("body_file")), first_is_body=form.get("first_is_body") == "1",
                   replies_to=as_id(form.get("replies_to_id")))

    @classmethod
    def from_document(cls, document: Document) -> DraftForm:
        """The form pre-filled from a draft (修改草稿)."""
        body_file = next((f.attachment_id for f in document.files if f.is_body), None)
        return cls(doc_type=document.doc_type, title=document.title, urgency=document.urgency,
                   main_ids=[r.unit_id for r in document.recipients if not r.copy],
                   copy_ids=[r.unit_id for r in document.recipients if r.copy],
                   joint_ids=[i.unit_id for i in document.issuers if i.unit_id != document.issuer_id],
                   body=document.body, notes=document.notes or "",
                   deadline=document.deadline.isoformat() if document.deadline else "",
                   attachment_ids=[f.attachment_id for f in document.files],
                   captions={f.attachment_id: f.caption or "" for f in document.files}, body_file=body_file,
                   replies_to=document.replies_to_id)

    @classmethod
    def replying_to(cls, asked: Document) -> DraftForm:
        """拟批复: a 批复 to a 请示, addressed to the unit that asked."""
        return cls(doc_type="批复", main_ids=[asked.issuer_id], replies_to=asked.id)

    def draft_json(self) -> dict[str, Any]:
        """What DocumentDraft.from_json takes."""
        return {"doc_type": self.doc_type, "title": self.title, "urgency": self.urgency, "security": "非涉密",
                "main_recipients": self.main_ids, "copy_recipients": self.copy_ids,
                "joint_issuers": self.joint_ids, "body": self.body, "notes": self.notes,
                "deadline": self.deadline or None,
                "replies_to_id": self.replies_to,
                "files": [{"attachment_id": i, "caption": self.captions.get(i, "").strip() or None,
                           "is_body": i == self.body_file} for i in self.attachment_ids]}

    def add_main(self, unit_ids: list[int]) -> None:
        """主送 to these units too (those already 抄送 stay 抄送)."""
        self.main_ids += [i for i in unit_ids if i not in self.main_ids and i not in self.copy_ids]

    @property
    def chosen_units(self) -> list[int]:
        return list(dict.fromkeys(self.main_ids + self.copy_ids + self.joint_ids))


def upload_files(author: User, form: DraftForm, files: list[FileStorage]) -> None:
    """Store the files chosen on the form and keep their ids on it; the first
    PDF, OFD or DOCX becomes the body file when the form asks for that."""
    for attachment in store_uploads(author, files):
        form.attachment_ids.append(attachment.id)
        if form.first_is_body and form.body_file is None and attachment.content_type in BODY_TYPES:
            form.body_file = attachment.id


def form_attachments(author: User, form: DraftForm, document: Document | None) -> list[Attachment]:
    """The files on the form that may go on the draft: the author's own uploads,
    and the files the draft already carries."""
    carried = {f.attachment_id for f in document.files} if document is not None else set()
    return attachable(author, form.attachment_ids, carried)


def edits_drafts(user: User, document: Document) -> bool:
    """The author and the issuing unit's clerks may change the draft (actions.update_draft)."""
    return user.id == document.author_id or user.has_role(Role.CLERK, document.issuer_id)


def can_edit(user: User, document: Document) -> bool:
    """修改草稿 is offered on a draft to those who may change it."""
    return document.status == D.DRAFT and edits_drafts(user, document)


def can_draft(user: User) -> bool:
    return user.primary_unit is not None


# ---- The unit picker (any active unit: documents may go anywhere in the tree) ----------------

def unit_choices(units: list[Unit]) -> list[dict[str, Any]]:
    """Units for a picker, with their two nearest ancestors and how many units are under them."""
    trail = org_queries.trails(units)
    below = org_queries.child_counts([u.id for u in units])
    return [{"id": u.id, "name": u.name, "code": u.code, "children": below.get(u.id, 0),
             "trail": " › ".join(a.name for a in trail[u.id][-2:])} for u in units]


def find_units(term: str, *, limit: int = 20) -> list[Unit]:
    """Active units matching `term` (several names allowed), anywhere in the tree."""
    found: dict[int, Unit] = {}
    for part in [t for t in re.split(r"[\s,，、;；]+", term) if t][:5]:
        for unit in org_queries.search_units(part, limit=limit):
            found.setdefault(unit.id, unit)
    return list(found.values())


def units_by_id(ids: list[int]) -> list[Unit]:
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


@dataclass
class UnitPicker:
    """The draft form's candidates: chosen units first, then what was found or
    the units under the one being browsed."""

    units: list[dict[str, Any]]
    browsing: Unit | None
    found: int


def draft_picker(user: User, form: DraftForm) -> UnitPicker:
    chosen = units_by_id(form.chosen_units)
    browsing = None
    if form.all_main is not None and form.browse is None:
        form.browse = form.all_main
    if form.unit_q and form.browse is None:
        found = find_units(form.unit_q)
    else:
        browsing = db.session.get(Unit, form.browse) if form.browse else None
        if browsing is None or not browsing.active:
            home = user.primary_unit
            browsing = home.parent if home is not None and home.parent is not None else None
        found = org_queries.children(browsing.id if browsing else None)
    units = {u.id: u for u in chosen + found}
    return UnitPicker(units=unit_choices(list(units.values())), browsing=browsing, found=len(found))


# ---- People for 承办 and 传阅 ---------------------------------------------------------------

def unit_people(unit: Unit, term: str = "", *, limit: int = 60) -> list[User]:
    """Active people of a recipient unit: its own members, or with `term` those
    matching anywhere under it (a town hands work to its villages too)."""
    if term:
        found: dict[int, User] = {}
        for part in [t for t in re.split(r"[\s,，、;；]+", term) if t][:5]:
            for person in org_queries.search_people(part, within=[unit.path], limit=limit):
                if person.active:
                    found.setdefault(person.id, person)
        return list(found.values())
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit.id, User.active.is_(True))
        .order_by(User.name, User.id).limit(limit)))




# ---- The step forms -----------------------------------------------------------------------

@dataclass
class StepForm:
    """One posted step: the action and what goes with it."""

    action: str
    comment: str
    user_ids: list[int]
    in_order: bool
    lead_id: int | None
    unit_id: int | None

    @classmethod
    def from_form(cls, form: MultiDict) -> StepForm:
        user_ids = form_ids(form, "user_ids")
        in_order = form.get("in_order") == "1"
        if in_order:
            # 依次: the readers in the order typed next to them (ties: as listed).
            def turn(user_id: int) -> int:
                typed = as_id(form.get(f"order_{user_id}"))
                return typed if typed is not None else ID_MAX
            user_ids.sort(key=turn)
        return cls(action=form.get("action", ""), comment=form.get("comment", ""), user_ids=user_ids,
                   in_order=in_order, lead_id=as_id(form.get("lead_id")), unit_id=as_id(form.get("unit_id")))


def outgoing_steps(user: User, document: Document) -> list[str]:
    """The outgoing steps to offer the person on this document."""
    clerk = user.has_role(Role.CLERK, document.issuer_id)
    leading = [i for i in document.issuers if user.has_role(Role.LEADER, i.unit_id)]
    steps = []
    if document.status == D.DRAFT and clerk:
        steps.append("review")
    if document.status == D.REVIEWED:
        if any(i.signer_id is None for i in leading):
            steps.append("sign")
        if clerk or leading:
            steps.append("return")
    if document.status == D.SIGNED and clerk:
        steps.append("number")
    if document.status == D.NUMBERED and clerk:
        steps.append("dispatch")
    return steps


def open_read_task(user: User, recipient: DocumentRecipient) -> tuple[DocumentTask | None, bool]:
    """The person's unread 传阅 task at the unit, and whether it is their turn."""
    task = next((t for t in recipient.tasks if t.user_id == user.id and t.kind == TaskKind.READ
                 and t.done_at is None), None)
    if task is None:
        return None, False
    waiting_on = any(t.kind == TaskKind.READ and t.turn is not None and task.turn is not None
                     and t.turn < task.turn and t.done_at is None for t in recipient.tasks)
    return task, not waiting_on


def incoming_steps(user: User, recipient: DocumentRecipient) -> list[str]:
    """The incoming steps to offer the person at a recipient unit."""
    clerk = user.has_role(Role.CLERK, recipient.unit_id)
    leader = user.has_role(Role.LEADER, recipient.unit_id)
    handler = any(t.user_id == user.id and t.kind == TaskKind.HANDLE for t in recipient.tasks)
    handlers = [t for t in recipient.tasks if t.kind == TaskKind.HANDLE]
    lead = any(t.user_id == user.id and (t.lead or len(handlers) == 1) for t in handlers)
    status, steps = recipient.status, []
    if clerk and status == R.PENDING:
        steps.append("sign_for")
    if clerk and status == R.SIGNED_FOR:
        steps.append("register")
    if clerk and status == R.REGISTERED:
        steps.append("propose")
    if leader and status in (R.REGISTERED, R.PROPOSED):
        steps.append("instruct")
    if (clerk or leader) and status in (R.INSTRUCTED, R.HANDLING):
        steps.append("assign")
    if (clerk or leader) and status in (R.REGISTERED, R.PROPOSED, R.INSTRUCTED, R.HANDLING):
        steps.append("circulate")
    task, turn = open_read_task(user, recipient)
    if task is not None and turn:
        steps.append("mark_read")
    if clerk and status == R.HANDLING and any(t.done_at is None for t in recipient.tasks):
        steps.append("remind")
    if (lead or clerk) and status in (R.INSTRUCTED, R.HANDLING):
        steps.append("complete")
    answerable = status in (R.INSTRUCTED, R.HANDLING, R.DONE) and recipient.replied_at is None
    if (handler or clerk or leader) and answerable:
        steps.append("reply")
    if clerk and status == R.DONE:
        steps.append("archive")
    return steps


def can_remind_units(user: User, document: Document) -> bool:
    """提醒 on the status board: the author and the issuing unit's clerks."""
    return user.id == document.author_id or user.has_role(Role.CLERK, document.issuer_id)


def drafting_unit_or_none(user: User) -> Unit | None:
    try:
        return drafting_unit(user)
    except NotAllowed:           # no unit, nothing to draft from
        return None

