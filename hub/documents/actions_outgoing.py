"""The issuing office's steps (发文): 核稿, 退回修改, 签发, 编号, 分发, and reminding
one recipient unit from the status board. Who may take each and from which
states is the STEPS table (steps.py); each step commits once."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from hub.audit import record_audit
from hub.db import insert_ignore, utcnow
from hub.documents.models import Document, DocumentRecipient, DocumentNewsRead, RecipientStatus
from hub.documents.steps import (check, holders, issuer_prefix, issuing_people, need,
                                 next_number, notify, one_step, record_step, require_comment)
from hub.errors import InvalidInput, TooSoon
from hub.extensions import db
from hub.org.models import Role, Unit, User
from hub.times import beijing

REMINDER_INTERVAL = timedelta(hours=4)
R = RecipientStatus


@one_step
def review(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """核稿: a clerk of the issuing office checks the draft."""
    step = check("review", actor, document)
    document.status = step.to_state
    record_step(document, actor, "review", comment=comment)
    notify(document, [document.author_id, *holders(Role.LEADER, [i.unit_id for i in document.issuers])],
           "review")
    db.session.commit()
    return document


@one_step
def return_draft(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """退回修改: back to a draft, from review or sign-off; signatures already given lapse."""
    step = check("return", actor, document)
    require_comment("return", comment)
    document.status = step.to_state
    for issuer in document.issuers:
        issuer.signer_id, issuer.signed_at = None, None
    record_step(document, actor, "return", comment=comment)
    notify(document, [document.author_id], "return")
    db.session.commit()
    return document


@one_step
def sign_off(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """签发: a leader of an issuing unit signs for it; a joint document is signed
    once every issuer's leader has signed. 成文日期 is the last signature's day."""
    step = check("sign", actor, document)
    unsigned = [i for i in document.issuers if i.signer_id is None and actor.has_role(Role.LEADER, i.unit_id)]
    need(bool(unsigned), _("您已签发过该公文"))
    now = utcnow()
    for issuer in unsigned:
        issuer.signer_id, issuer.signed_at = actor.id, now
    if all(i.signer_id for i in document.issuers):
        document.status = step.to_state
        document.written_on = beijing(now).date()
    record_step(document, actor, "sign", comment=comment, detail="、".join(i.unit.name for i in unsigned))
    record_audit(actor, "document.signed", document, after={"title": document.title})
    notify(document, issuing_people(document), "sign")
    db.session.commit()
    return document


@one_step
def assign_number(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """登记编号: 发文字号 = issuer prefix + 〔year〕 + sequence + 号, gapless per issuer and year."""
    step = check("number", actor, document)
    year = beijing(utcnow()).year
    document.number_prefix = issuer_prefix(document.issuer)
    document.number_year = year
    document.number_seq = next_number(document.issuer_id, year, "out")
    document.status = step.to_state
    record_step(document, actor, "number", comment=comment, detail=document.number)
    db.session.commit()
    return document


@one_step
def dispatch(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """核发: the document reaches every recipient unit at once (one UPDATE,
    whatever their number); their clerks find it in the inbox."""
    step = check("dispatch", actor, document)
    # Plain rows, not 2,000 DocumentRecipient objects: the UPDATE below does the work.
    recipients = db.session.execute(select(DocumentRecipient.unit_id, DocumentRecipient.copy)
                                    .where(DocumentRecipient.document_id == document.id)).all()
    need(bool(recipients), _("没有收文单位"))
    retired = db.session.scalar(select(Unit.name)
                                .join(DocumentRecipient, DocumentRecipient.unit_id == Unit.id)
                                .where(DocumentRecipient.document_id == document.id, Unit.active.is_(False))
                                .limit(1))
    need(retired is None, _("收文单位“%(unit)s”已撤销，请退回修改收文单位", unit=retired))
    now = utcnow()
    document.status, document.dispatched_at = step.to_state, now
    db.session.execute(update(DocumentRecipient).where(DocumentRecipient.document_id == document.id)
                       .values(received_at=now, status=R.PENDING),
                       execution_options={"synchronize_session": False})
    copies = sum(1 for r in recipients if r.copy)
    record_step(document, actor, "dispatch", comment=comment,
                detail=f"主送 {len(recipients) - copies} 个单位，抄送 {copies} 个单位")
    record_audit(actor, "document.dispatched", document,
                 after={"number": document.number, "recipients": len(recipients)})
    notify(document, holders(Role.CLERK, [r.unit_id for r in recipients]), "dispatch")
    notify(document, issuing_people(document), "dispatch")
    db.session.commit()
    db.session.expire(document, ["recipients"])
    return document


@one_step
def remind_unit(actor: User, document: Document, unit_id: int) -> Document:
    """提醒 from the sender's status board: to one recipient unit's clerks (and
    whoever has an open part there), at most once every 4 hours per unit."""
    check("remind_unit", actor, document)
    recipient = next((r for r in document.recipients if r.unit_id == unit_id), None)
    if recipient is None:
        raise InvalidInput(_("该单位不是收文单位"), field="unit_id")
    need(recipient.status not in (R.DONE, R.ARCHIVED), _("该单位已办结"))
    now = utcnow()
    TooSoon.unless_waited(recipient.last_reminded_at, now, REMINDER_INTERVAL,
                          _("每 4 小时最多提醒一个单位一次"))
    recipient.last_reminded_at = now
    record_step(document, actor, "remind", recipient=recipient, detail=f"提醒{recipient.unit.name}")
    open_people = [t.user_id for t in recipient.tasks if t.done_at is None]
    notify(document, [*holders(Role.CLERK, [unit_id]), *open_people], "remind", unit_id)
    db.session.commit()
    return document



def mark_seen(person: User, document: Document) -> None:
    """The issuing office's person has opened the dispatched document: the 答复
    and 办结 of recipient units so far are no longer news in their inbox."""
    now = utcnow()
    if not insert_ignore(db.session, DocumentNewsRead, {"document_id": document.id, "user_id": person.id,
                                                    "read_at": now}):
        mine = DocumentNewsRead
        db.session.execute(update(mine).where(mine.document_id == document.id, mine.user_id == person.id)
                           .values(read_at=now))
    db.session.commit()
