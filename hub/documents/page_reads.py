"""Reads for the document pages and the inbox: the timeline, the processing
sheets (办文单, 发文稿纸), list rows (the inbox's kind "document"), and the
status board's counts. Presentation only: who may see what is decided by
queries.access_document and actions.is_issuing_side.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext
from sqlalchemy import or_, select

from hub.documents.models import (STATUS_LABELS, Document, DocumentRecipient, DocumentStatus, DocumentStep,
                                  DocumentTask, RecipientStatus, TaskKind)
from hub.documents.queries import InboxDocument, own_states
from hub.documents.steps import is_issuing_side
from hub.extensions import db
from hub.i18n import term
from hub.org.models import Role, Unit, User

D, R = DocumentStatus, RecipientStatus

STEP_LABELS = {
    "draft": lazy_gettext("拟稿"), "edit": lazy_gettext("修改草稿"), "review": lazy_gettext("核稿"),
    "return": lazy_gettext("退回修改"), "sign": lazy_gettext("签发"), "number": lazy_gettext("登记编号"),
    "dispatch": lazy_gettext("核发"), "sign_for": lazy_gettext("签收"), "register": lazy_gettext("登记"),
    "propose": lazy_gettext("拟办"), "instruct": lazy_gettext("批办"), "assign": lazy_gettext("交办"),
    "circulate": lazy_gettext("传阅"), "mark_read": lazy_gettext("已阅"), "remind": lazy_gettext("催办"),
    "complete": lazy_gettext("办结"), "reply": lazy_gettext("答复"), "archive": lazy_gettext("归档"),
}
# What a person is asked to do next, shown instead of the plain status.
ISSUING_WAITING = {
    D.DRAFT: lazy_gettext("待核稿"), D.REVIEWED: lazy_gettext("待签发"), D.SIGNED: lazy_gettext("待编号"),
    D.NUMBERED: lazy_gettext("待分发"),
}
RECEIVING_WAITING = {
    R.PENDING: lazy_gettext("待签收"), R.SIGNED_FOR: lazy_gettext("待登记"),
    R.REGISTERED: lazy_gettext("待拟办"), R.PROPOSED: lazy_gettext("待批办"),
}
TASK_WAITING = {TaskKind.READ: lazy_gettext("待阅"), TaskKind.HANDLE: lazy_gettext("待办理")}


# ---- The timeline and the processing sheet ----------------------------------------------

@dataclass
class Entry:
    """One row of the timeline: the step and the recipient unit it happened at."""

    step: DocumentStep
    unit_name: str | None

    @property
    def label(self) -> str:
        return STEP_LABELS.get(self.step.action, self.step.action)


def timeline(document: Document, recipient_ids: list[int] | None, *, limit: int = 300,
             recipient_only: bool = False, after: int = 0) -> tuple[list[Entry], bool]:
    """The document's steps, oldest first, from the one after step id `after`:
    all of them (recipient_ids None), or the outgoing ones and those at the
    given recipient units. True if cut short (the page asks for the next ones)."""
    query = (select(DocumentStep, Unit.name)
             .outerjoin(DocumentRecipient, DocumentRecipient.id == DocumentStep.recipient_id)
             .outerjoin(Unit, Unit.id == DocumentRecipient.unit_id)
             .where(DocumentStep.document_id == document.id, DocumentStep.id > after))
    if recipient_ids is not None:
        mine = DocumentStep.recipient_id.in_(recipient_ids)
        query = query.where(mine if recipient_only else or_(DocumentStep.recipient_id.is_(None), mine))
    rows = db.session.execute(query.order_by(DocumentStep.id).limit(limit + 1)).all()
    return [Entry(step, name) for step, name in rows[:limit]], len(rows) > limit


@dataclass
class Sheet:
    """收文办理单 of one recipient unit: the steps by kind, and the people's parts."""

    recipient: DocumentRecipient
    steps: dict[str, list[DocumentStep]]
    handlers: list[DocumentTask]
    readers: list[DocumentTask]

    @property
    def completed_by(self) -> set[int]:
        """Who took the 办结 step: only they show 已办结 (a co-handler who never
        acted is closed with it, but did not finish anything)."""
        return {s.actor_id for s in self.steps.get("complete", []) if s.actor_id is not None}

    @property
    def register_number(self) -> str | None:
        r = self.recipient
        return f"收文〔{r.register_year}〕{r.register_seq}号" if r.register_seq else None


def sheet_for(recipient: DocumentRecipient) -> Sheet:
    entries, _more = timeline(recipient.document, [recipient.id], limit=1000, recipient_only=True)
    steps: dict[str, list[DocumentStep]] = {}
    for entry in entries:
        steps.setdefault(entry.step.action, []).append(entry.step)
    readers = sorted((t for t in recipient.tasks if t.kind == TaskKind.READ),
                     key=lambda t: (t.turn or 0, t.id))
    handlers = sorted((t for t in recipient.tasks if t.kind == TaskKind.HANDLE),
                      key=lambda t: (not t.lead, t.id))
    return Sheet(recipient=recipient, steps=steps, handlers=handlers, readers=readers)


def outgoing_sheet(document: Document) -> dict[str, list[DocumentStep]]:
    """发文稿纸: the outgoing steps (拟稿, 核稿, 签发, 编号, 核发) by kind."""
    steps: dict[str, list[DocumentStep]] = {}
    for step in db.session.scalars(select(DocumentStep).where(DocumentStep.document_id == document.id,
                                                              DocumentStep.recipient_id.is_(None))
                                   .order_by(DocumentStep.id)):
        steps.setdefault(step.action, []).append(step)
    return steps


# ---- Lists: the inbox's document rows, the documents page -------------------------------------

def _open_task_kinds(user: User, document_ids: list[int]) -> dict[int, str]:
    """The kind of the person's open task per document (a page of them, one query)."""
    if not document_ids:
        return {}
    rows = db.session.execute(
        select(DocumentRecipient.document_id, DocumentTask.kind)
        .join(DocumentTask, DocumentTask.recipient_id == DocumentRecipient.id)
        .where(DocumentRecipient.document_id.in_(document_ids), DocumentTask.user_id == user.id,
               DocumentTask.done_at.is_(None)))
    kinds: dict[int, str] = {}
    for document_id, kind in rows:
        if kinds.get(document_id) != TaskKind.HANDLE:       # handling says more than reading
            kinds[document_id] = kind
    return kinds


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _unit_step_waits(user: User, item: InboxDocument) -> bool:
    """Whether the unit's own next step (签收 … 拟办 by its clerks, 批办 by its
    leaders) is what waits for the person, rather than a task of theirs."""
    if item.status == R.PROPOSED:
        return user.has_role(Role.LEADER, item.unit_id)
    return item.status in RECEIVING_WAITING and user.has_role(Role.CLERK, item.unit_id)


def heard_back(replied: int, completed: int) -> str:
    """What the sender hears back, e.g. "1 个单位答复，2 个单位办结"."""
    parts = []
    if replied:
        parts.append(ngettext("%(num)s 个单位答复", "%(num)s 个单位答复", replied))
    if completed:
        parts.append(ngettext("%(num)s 个单位办结", "%(num)s 个单位办结", completed))
    return _("，").join(parts)


def inbox_rows(user: User, items: list[InboxDocument]) -> list[dict[str, Any]]:
    """Inbox items (API.md: kind "document") for a page of the person's documents.
    `read` is false while the document waits for them; the summary says for what."""
    tasks = _open_task_kinds(user, [i.document.id for i in items if i.waiting and i.unit_id is not None])
    rows = []
    for item in items:
        document = item.document
        if item.replied or item.completed:
            label = heard_back(item.replied, item.completed)
        elif not item.waiting:
            label = STATUS_LABELS.get(item.status, item.status)
        elif item.unit_id is None:
            label = ISSUING_WAITING.get(item.status, STATUS_LABELS.get(item.status, item.status))
        elif _unit_step_waits(user, item):
            label = RECEIVING_WAITING[item.status]
        else:
            label = TASK_WAITING.get(tasks.get(document.id), _("待办理"))
        label = str(label)
        rows.append({
            "kind": "document", "id": document.id, "title": document.title,
            "summary": " · ".join(p for p in (document.number, term(document.doc_type), label) if p),
            "from": {"unit_id": document.issuer_id, "name": document.issuer.name},
            "at": _iso(item.at), "read": not item.waiting,
            "number": document.number, "doc_type": document.doc_type, "urgency": document.urgency,
            "status": item.status, "status_label": label, "unit_id": item.unit_id,
            "deadline": _iso(document.deadline)})
    return rows


def document_rows(user: User, documents: list[Document]) -> list[dict[str, Any]]:
    """Search results as list rows, each with the person's side's status: on the
    issuing side the document's own (已分发 …), at a recipient unit that unit's
    (已签收 … 已办结)."""
    received = own_states(user, [d for d in documents if not is_issuing_side(user, d)])
    return [{"id": d.id, "title": d.title, "number": d.number, "doc_type": d.doc_type, "urgency": d.urgency,
             "status_label": STATUS_LABELS.get(received.get(d.id, d.status), d.status),
             "status": received.get(d.id, d.status), "deadline": _iso(d.deadline),
             "from": {"unit_id": d.issuer_id, "name": "、".join(i.unit.name for i in d.issuers)},
             "at": _iso(d.dispatched_at or d.created_at), "read": True} for d in documents]


def issuer_choices(documents: list[Document], selected: int | None) -> list[Unit]:
    """The issuing units of the person's recent documents, in tree order (the
    search form's 发文单位), plus the one asked for."""
    units = {i.unit_id: i.unit for d in documents for i in d.issuers}
    if selected is not None and selected not in units:
        unit = db.session.get(Unit, selected)
        if unit is not None:
            units[unit.id] = unit
    return sorted(units.values(), key=lambda u: u.path)


def board_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many recipient units stand where: plain counts, no rates."""
    waiting = sum(r["status"] == R.PENDING for r in rows)
    done = sum(r["status"] in (R.DONE, R.ARCHIVED) for r in rows)
    return {"units": len(rows), "pending": waiting, "open": len(rows) - waiting - done, "done": done,
            "replied": sum(bool(r["replied"]) for r in rows),
            "overdue": sum(bool(r["overdue"]) for r in rows)}


def recipient_units(document: Document) -> tuple[list[Unit], list[Unit]]:
    """主送 and 抄送 units, each in tree order."""
    main = sorted((r.unit for r in document.recipients if not r.copy), key=lambda u: u.path)
    copies = sorted((r.unit for r in document.recipients if r.copy), key=lambda u: u.path)
    return main, copies
