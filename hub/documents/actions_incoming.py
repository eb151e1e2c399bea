"""A recipient unit's steps (收文): 签收, 登记, 拟办, 批办, 交办 (承办), 传阅, 已阅,
催办, 办结, 答复, 归档, and the jobs' automatic 催办 before a deadline. Who may
take each and from which states is the STEPS table (steps.py); each step
commits once."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from hub.db import utcnow
from hub.documents.models import (Document, DocumentRecipient, DocumentStatus, DocumentTask, RecipientStatus,
                                  TaskKind)
from hub.documents.steps import (STEPS, check, check_who, holders, issuing_people, need, next_number,
                                 notify, one_step, record_step, require_comment)
from hub.errors import Conflict, InvalidInput, TooSoon
from hub.extensions import db
from hub.org.models import Membership, Role, Unit, User
from hub.times import beijing

REMINDER_INTERVAL = timedelta(hours=4)
R = RecipientStatus


def recipient_for(user: User, document: Document, unit_id: int | None = None) -> DocumentRecipient | None:
    """The recipient unit the person acts for: the one named, else the one where
    they are a clerk or leader, else the one where they have a task."""
    if document.status != DocumentStatus.DISPATCHED:
        return None
    candidates = [r for r in document.recipients if unit_id is None or r.unit_id == unit_id]
    office = {g.unit_id for g in user.roles if g.role in (Role.CLERK, Role.LEADER)}
    for recipient in candidates:
        if recipient.unit_id in office:
            return recipient
    # One query for the person's tasks, rather than each recipient's tasks in
    # turn (2,000 queries for a document sent to 2,000 units).
    tasked = set(db.session.scalars(
        select(DocumentTask.recipient_id)
        .join(DocumentRecipient, DocumentRecipient.id == DocumentTask.recipient_id)
        .where(DocumentRecipient.document_id == document.id, DocumentTask.user_id == user.id)))
    return next((r for r in candidates if r.id in tasked), None)


def _to_sender(recipient: DocumentRecipient, action: str) -> None:
    document = recipient.document
    notify(document, issuing_people(document), action, unit_id=recipient.unit_id)


@one_step
def sign_for(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """签收: the unit's clerk; the time is recorded. A second sign-for changes nothing."""
    document = recipient.document
    step = check_who("sign_for", actor, recipient)
    if recipient.status not in step.from_states:       # signed for before: nothing changes
        return document
    recipient.status, recipient.signed_for_at, recipient.signed_for_by_id = step.to_state, utcnow(), actor.id
    record_step(document, actor, "sign_for", recipient=recipient, comment=comment)
    _to_sender(recipient, "sign_for")
    db.session.commit()
    return document


@one_step
def register(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """登记: the unit's clerk gives it the unit's incoming number (收文编号)."""
    step = check("register", actor, recipient)
    year = beijing(utcnow()).year
    recipient.register_year, recipient.register_seq = year, next_number(recipient.unit_id, year, "in")
    recipient.status = step.to_state
    record_step(recipient.document, actor, "register", recipient=recipient, comment=comment,
                detail=f"收文〔{year}〕{recipient.register_seq}号")
    db.session.commit()
    return recipient.document


@one_step
def propose(actor: User, recipient: DocumentRecipient, *, comment: str | None = None,
            leader_ids: list[int] | None = None) -> Document:
    """拟办: the clerk proposes how to handle it, for the leader: the leaders
    named (送领导批办: `leader_ids`, leaders of the unit), or else all of them."""
    step = check("propose", actor, recipient)
    require_comment("propose", comment)
    leaders = holders(Role.LEADER, [recipient.unit_id])
    if leader_ids:
        if not set(leader_ids) <= set(leaders):
            raise InvalidInput(_("只能送%(unit)s的领导批办", unit=recipient.unit.name), field="user_ids")
        leaders = list(dict.fromkeys(leader_ids))
    recipient.status = step.to_state
    record_step(recipient.document, actor, "propose", recipient=recipient, comment=comment,
                detail=("送" + "、".join(_names(leaders)) + "批办") if leader_ids else None)
    notify(recipient.document, leaders, "propose", recipient.unit_id)
    db.session.commit()
    return recipient.document


def _names(user_ids: list[int]) -> list[str]:
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).tuples().all())
    return [names[i] for i in user_ids if i in names]


@one_step
def instruct(actor: User, recipient: DocumentRecipient, *, comment: str | None = None,
             user_ids: list[int] | None = None, lead_id: int | None = None) -> Document:
    """批办: the unit's leader gives the instruction, and may name the handlers
    at once (then it is 交办 too, in the same step: the state is 办理中)."""
    step = check("instruct", actor, recipient)
    require_comment("instruct", comment)
    recipient.status = step.to_state
    record_step(recipient.document, actor, "instruct", recipient=recipient, comment=comment)
    notify(recipient.document, holders(Role.CLERK, [recipient.unit_id]), "instruct", recipient.unit_id)
    if user_ids:
        _assign(actor, recipient, user_ids, lead_id=lead_id, comment=None)
    db.session.commit()
    return recipient.document


def _unit_people(recipient: DocumentRecipient, user_ids: list[int]) -> list[User]:
    """Active people of the recipient unit or a unit below it."""
    if not user_ids:
        raise InvalidInput(_("请选择人员"), field="user_ids")
    unit = recipient.unit
    people = list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).join(Unit, Unit.id == Membership.unit_id)
        .where(User.id.in_(user_ids), User.active.is_(True), Unit.path.startswith(unit.path)).distinct()))
    if len(people) != len(user_ids):
        raise InvalidInput(_("只能交给%(unit)s及其下级单位的在职人员", unit=unit.name), field="user_ids")
    by_id = {p.id: p for p in people}
    return [by_id[i] for i in user_ids]


@one_step
def assign_handlers(actor: User, recipient: DocumentRecipient, user_ids: list[int], *,
                    lead_id: int | None = None, comment: str | None = None) -> Document:
    """承办: handlers, one of them the lead (主办; the first named, or lead_id)."""
    check("assign", actor, recipient)
    _assign(actor, recipient, user_ids, lead_id=lead_id, comment=comment)
    db.session.commit()
    return recipient.document


def _assign(actor: User, recipient: DocumentRecipient, user_ids: list[int], *, lead_id: int | None,
            comment: str | None) -> None:
    """The handlers of 交办 (or of a 批办 that names them), not committed."""
    step = STEPS["assign"]
    people = _unit_people(recipient, user_ids)
    lead = lead_id if lead_id is not None else people[0].id
    if lead not in user_ids:
        raise InvalidInput(_("主办人须在承办人中"), field="lead_id")
    existing = {(t.user_id, t.kind) for t in recipient.tasks}
    if lead is not None and any(t.lead for t in recipient.tasks if t.kind == TaskKind.HANDLE):
        lead = None                         # the first assignment named the lead
    for person in people:
        if (person.id, TaskKind.HANDLE) not in existing:
            recipient.tasks.append(DocumentTask(user_id=person.id, kind=TaskKind.HANDLE,
                                                lead=person.id == lead))
    recipient.status = step.to_state
    record_step(recipient.document, actor, "assign", recipient=recipient, comment=comment,
                detail="、".join(p.name + ("（主办）" if p.id == lead else "") for p in people))
    notify(recipient.document, [p.id for p in people], "assign", recipient.unit_id)
    _to_sender(recipient, "assign")


@one_step
def circulate(actor: User, recipient: DocumentRecipient, user_ids: list[int], *, in_order: bool = False,
              comment: str | None = None) -> Document:
    """传阅: to chosen readers, in parallel or in the order given."""
    step = check("circulate", actor, recipient)
    people = _unit_people(recipient, user_ids)
    already = {t.user_id for t in recipient.tasks if t.kind == TaskKind.READ}
    turn = max((t.turn or 0 for t in recipient.tasks if t.kind == TaskKind.READ), default=0)
    fresh = [p for p in people if p.id not in already]
    if not fresh:
        raise Conflict(_("已传阅给这些人"))
    for person in fresh:
        turn += 1
        recipient.tasks.append(DocumentTask(user_id=person.id, kind=TaskKind.READ,
                                            turn=turn if in_order else None))
    if recipient.status == R.INSTRUCTED:       # reading alone, before anyone handles it, keeps the state
        recipient.status = step.to_state
    record_step(recipient.document, actor, "circulate", recipient=recipient, comment=comment,
                detail=("依次：" if in_order else "同时：") + "、".join(p.name for p in fresh))
    first = fresh[:1] if in_order and not _open_reads_before(recipient, turn - len(fresh) + 1) else \
        ([] if in_order else fresh)
    notify(recipient.document, [p.id for p in first], "circulate", recipient.unit_id)
    db.session.commit()
    return recipient.document


def _open_reads_before(recipient: DocumentRecipient, turn: int) -> bool:
    return any(t.kind == TaskKind.READ and t.turn is not None and t.turn < turn and t.done_at is None
               for t in recipient.tasks)


@one_step
def mark_read(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """已阅 (圈阅, with an optional comment) by a reader it was circulated to; in
    order, each reader's turn comes when the one before has read it."""
    check("mark_read", actor, recipient)
    task = next(t for t in recipient.tasks if t.user_id == actor.id and t.kind == TaskKind.READ)
    need(task.done_at is None, _("您已阅过"))
    need(task.turn is None or not _open_reads_before(recipient, task.turn),
         _("还没轮到您阅：前面的人尚未阅毕"))
    task.done_at, task.comment = utcnow(), comment
    record_step(recipient.document, actor, "mark_read", recipient=recipient, comment=comment)
    following = next((t for t in sorted(recipient.tasks, key=lambda t: t.turn or 0)
                      if t.kind == TaskKind.READ and t.turn and t.turn > (task.turn or 0)
                      and t.done_at is None),
                     None) if task.turn else None
    if following is not None:
        notify(recipient.document, [following.user_id], "circulate", recipient.unit_id)
    db.session.commit()
    return recipient.document


@one_step
def chase(actor: User | None, recipient: DocumentRecipient, *, comment: str | None = None,
          automatic: bool = False) -> Document:
    """催办: the unit's clerk (or the jobs, before a deadline) reminds those whose
    part is open; at most once every 4 hours."""
    check("remind", None if automatic else actor, recipient)
    open_people = [t.user_id for t in recipient.tasks if t.done_at is None]
    need(bool(open_people), _("没有未完成的承办或传阅"))
    now = utcnow()
    TooSoon.unless_waited(recipient.last_chased_at, now, REMINDER_INTERVAL, _("每 4 小时最多催办一次"))
    recipient.last_chased_at = now
    record_step(recipient.document, None if automatic else actor, "remind", recipient=recipient,
                comment=comment, detail="截止前自动催办" if automatic else None)
    notify(recipient.document, open_people, "remind", recipient.unit_id)
    db.session.commit()
    return recipient.document


@one_step
def complete(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """办结: the lead handler, or the unit's clerk."""
    step = check("complete", actor, recipient)
    now = utcnow()
    recipient.status, recipient.done_at = step.to_state, now
    for task in recipient.tasks:
        if task.kind == TaskKind.HANDLE and task.done_at is None:
            task.done_at = now
    record_step(recipient.document, actor, "complete", recipient=recipient, comment=comment)
    _to_sender(recipient, "complete")
    db.session.commit()
    return recipient.document


@one_step
def reply(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """答复: a written answer to the sender, once, while handling or when done."""
    check("reply", actor, recipient)
    need(recipient.replied_at is None, _("已答复过"))
    require_comment("reply", comment)
    recipient.reply, recipient.replied_at = comment, utcnow()
    record_step(recipient.document, actor, "reply", recipient=recipient, comment=comment)
    _to_sender(recipient, "reply")
    db.session.commit()
    return recipient.document


@one_step
def archive(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """归档: the unit's clerk files it once it is done."""
    step = check("archive", actor, recipient)
    recipient.status, recipient.archived_at = step.to_state, utcnow()
    record_step(recipient.document, actor, "archive", recipient=recipient, comment=comment)
    db.session.commit()
    return recipient.document


def chase_due(now: datetime | None = None) -> int:
    """Automatic 催办 (run by the jobs): units still handling a document whose
    deadline is tomorrow or today, not chased in the last 4 hours."""
    now = now or utcnow()
    soon = beijing(now).date() + timedelta(days=1)
    due = list(db.session.scalars(
        select(DocumentRecipient).join(Document, Document.id == DocumentRecipient.document_id)
        .where(Document.deadline.is_not(None), Document.deadline <= soon,
               DocumentRecipient.status == R.HANDLING)))
    chased = 0
    for recipient in due:
        try:
            chase(None, recipient, automatic=True)
            chased += 1
        # StaleDataError: the recipient's version moved since it was read, because
        # a clerk or another process chased (or otherwise handled) it meanwhile.
        except (Conflict, TooSoon, StaleDataError):
            db.session.rollback()
    return chased
