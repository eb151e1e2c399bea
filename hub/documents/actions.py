"""Actions on documents: drafting, the outgoing steps (核稿 签发 编号 核发) and the
incoming steps at each recipient unit (签收 登记 拟办 批办 承办 传阅 催办 办结
答复 归档). One function per step; `take_step` dispatches an API action name.

Every step checks, in this order: that the caller may open the document (else
404, in queries.access_document), that the caller's role allows the step (else
403 with the reason), and that the document is in a state that allows it (else
409 with the reason). Each step appends to the document's timeline and commits;
two steps taken at once on one document cannot both win (version check, 409).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from hub.audit import record_audit
from hub.channels.attachments import is_unused
from hub.channels.models import Attachment
from hub.db import insert_ignore, utcnow
from hub.documents.models import (BODY_MAX, CAPTION_MAX, CLASSIFIED, COMMENT_MAX, DOC_TYPES, NOTES_MAX,
                                  STATUS_LABELS, TITLE_MAX, UNCLASSIFIED, URGENCIES, Document, DocumentFile,
                                  DocumentIssuer, DocumentRecipient, DocumentStatus, DocumentStep,
                                  DocumentTask, NumberCounter, RecipientStatus, TaskKind)
from hub.errors import Conflict, InvalidInput, NotAllowed, TooLarge, TooSoon
from hub.extensions import db
from hub.org.models import Membership, Role, RoleGrant, Unit, User
from hub.realtime import emit_on_commit, user_room
from hub.validation import clean_id_list, clean_paragraphs, clean_text

TZ_NAME = "Asia/Shanghai"
REMINDER_INTERVAL = timedelta(hours=4)
RECIPIENTS_MAX = 5000
FILES_MAX = 20
R = RecipientStatus
P = ParamSpec("P")
T = TypeVar("T")


def _one_step(step: Callable[P, T]) -> Callable[P, T]:
    """A step that loses to a concurrent step on the same document or recipient
    unit (its version changed meanwhile) is rolled back and answered with 409."""
    @functools.wraps(step)
    def taking(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return step(*args, **kwargs)
        except StaleDataError:
            db.session.rollback()
            raise Conflict(_("这份公文刚被其他人处理过，请刷新后再试")) from None
    return taking


# ---- The draft --------------------------------------------------------------------------

@dataclass
class DocumentDraft:
    """A document as drafted, checked at the edge."""

    doc_type: str
    title: str
    main_recipients: list[int]
    copy_recipients: list[int] = field(default_factory=list)
    urgency: str = "平件"
    body: str = ""
    notes: str | None = None
    deadline: date | None = None
    joint_issuers: list[int] = field(default_factory=list)      # units beyond the author's own
    replies_to_id: int | None = None
    files: list[dict[str, Any]] = field(default_factory=list)   # {attachment_id, caption?, is_body?}

    @classmethod
    def from_json(cls, data: Any) -> DocumentDraft:
        if not isinstance(data, dict):
            raise InvalidInput(_("请求体必须是 JSON 对象"), field="body")
        security = data.get("security", UNCLASSIFIED)
        if security in CLASSIFIED:
            raise InvalidInput(_("%(security)s公文不得在本系统处理：本系统只处理非涉密公文，"
                                 "涉密公文请通过涉密渠道办理", security=security),
                               field="security")
        if security != UNCLASSIFIED:
            raise InvalidInput(_("密级只能为“非涉密”"), field="security")
        doc_type = data.get("doc_type")
        if doc_type not in DOC_TYPES:
            raise InvalidInput(_("文种应为：%(choices)s", choices="、".join(DOC_TYPES)), field="doc_type")
        urgency = data.get("urgency") or "平件"
        if urgency not in URGENCIES:
            raise InvalidInput(_("紧急程度应为 特急、加急 或 平件"), field="urgency")
        body = data.get("body") or ""
        if not isinstance(body, str):
            raise InvalidInput(_("正文必须是文本"), field="body")
        if len(body) > BODY_MAX:
            raise TooLarge(_("正文不能超过 %(limit)s 个字符", limit=BODY_MAX), field="body")
        notes = data.get("notes")
        if notes not in (None, ""):
            notes = clean_paragraphs(notes, "notes", _("附注"), max_length=NOTES_MAX)
        main = clean_id_list(data.get("main_recipients"), "main_recipients", limit=RECIPIENTS_MAX)
        if not main:
            raise InvalidInput(_("请选择主送单位"), field="main_recipients")
        copies = clean_id_list(data.get("copy_recipients"), "copy_recipients", limit=RECIPIENTS_MAX)
        if set(main) & set(copies):
            raise InvalidInput(_("同一单位不能既主送又抄送"), field="copy_recipients")
        replies_to = data.get("replies_to_id")
        if replies_to is not None and not _is_id(replies_to):
            raise InvalidInput(_("replies_to_id 必须是公文 id"), field="replies_to_id")
        title = clean_text(data.get("title"), "title", _("标题"), max_length=TITLE_MAX)
        return cls(doc_type=doc_type, title=title,
                   main_recipients=main, copy_recipients=copies, urgency=urgency, body=body,
                   notes=notes or None, deadline=parse_date(data.get("deadline"), "deadline"),
                   joint_issuers=clean_id_list(data.get("joint_issuers"), "joint_issuers", limit=20),
                   replies_to_id=replies_to, files=_files(data.get("files")))


def parse_date(value: Any, name: str) -> date | None:
    """A YYYY-MM-DD date, or None when empty; anything else is a 400 naming `name`."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(_("日期格式应为 YYYY-MM-DD"), field=name)


_date = parse_date


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _files(value: Any) -> list[dict[str, Any]]:
    value = value or []
    if not isinstance(value, list) or len(value) > FILES_MAX:
        raise InvalidInput(_("files 须为列表（最多 %(limit)s 个）", limit=FILES_MAX), field="files")
    files, bodies = [], 0
    for item in value:
        if not isinstance(item, dict) or not _is_id(item.get("attachment_id")):
            raise InvalidInput(_("files 的每一项须为 {attachment_id, caption?, is_body?}"), field="files")
        caption = item.get("caption")
        if caption not in (None, ""):
            caption = clean_text(caption, "files", _("附件说明"), max_length=CAPTION_MAX)
        is_body = item.get("is_body") is True
        bodies += is_body
        files.append({"attachment_id": item["attachment_id"], "caption": caption or None, "is_body": is_body})
    if bodies > 1:
        raise InvalidInput(_("正文文件只能有一个"), field="files")
    if len({f["attachment_id"] for f in files}) != len(files):
        raise InvalidInput(_("同一文件不能重复添加"), field="files")
    return files


BODY_TYPES = ("application/pdf", "application/ofd",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def drafting_unit(author: User) -> Unit:
    unit = author.primary_unit
    if unit is None:
        raise NotAllowed(_("您没有所属单位，不能拟稿"))
    return unit


@_one_step
def create_draft(author: User, draft: DocumentDraft) -> Document:
    """拟稿: a new draft of the author's unit (with joint issuers, 联合发文)."""
    issuer = drafting_unit(author)
    document = Document(author_id=author.id, issuer_id=issuer.id, status=DocumentStatus.DRAFT)
    db.session.add(document)
    _apply(document, author, draft)
    _step(document, author, "draft")
    record_audit(author, "document.drafted", document, after={"title": document.title})
    _commit()
    return document


@_one_step
def update_draft(actor: User, document: Document, draft: DocumentDraft) -> Document:
    """修改草稿: the author, or a clerk of the issuing unit while reviewing."""
    if actor.id != document.author_id and not _is_issuer_clerk(actor, document):
        raise NotAllowed(_("只有拟稿人和发文单位的文书可以修改草稿"))
    if document.status != DocumentStatus.DRAFT:
        raise Conflict(_("只有草稿可以修改；已核稿的公文请先退回"))
    _apply(document, actor, draft)
    _step(document, actor, "edit")
    _commit()
    return document


def _apply(document: Document, actor: User, draft: DocumentDraft) -> None:
    with db.session.no_autoflush:        # checks first; a new document has no row yet
        _apply_checked(document, actor, draft)
    db.session.flush()


def _apply_checked(document: Document, actor: User, draft: DocumentDraft) -> None:
    _active_units(draft.main_recipients, "main_recipients")
    _active_units(draft.copy_recipients, "copy_recipients")
    issuers = [document.issuer_id] + [u for u in draft.joint_issuers if u != document.issuer_id]
    _active_units(issuers, "joint_issuers")
    if draft.replies_to_id is not None:
        if draft.doc_type != "批复":
            raise InvalidInput(_("只有批复可以关联请示"), field="replies_to_id")
        asked = db.session.get(Document, draft.replies_to_id)
        if asked is None or asked.doc_type != "请示" or asked.status != DocumentStatus.DISPATCHED or \
                not any(r.unit_id == document.issuer_id for r in asked.recipients):
            raise InvalidInput(_("所关联的请示不存在，或不是发给本单位的请示"), field="replies_to_id")
    document.doc_type, document.title, document.urgency = draft.doc_type, draft.title, draft.urgency
    document.body, document.notes, document.deadline = draft.body, draft.notes, draft.deadline
    document.replies_to_id = draft.replies_to_id
    kept = {i.unit_id: i for i in document.issuers}
    document.issuers = [kept.get(unit_id) or DocumentIssuer(unit_id=unit_id) for unit_id in issuers]
    for position, issuer in enumerate(document.issuers):
        issuer.position = position
    copies = set(draft.copy_recipients)
    existing = {r.unit_id: r for r in document.recipients}
    document.recipients = [existing.get(unit_id) or DocumentRecipient(unit_id=unit_id)
                           for unit_id in draft.main_recipients + draft.copy_recipients]
    for recipient in document.recipients:
        recipient.copy = recipient.unit_id in copies
    _attach_files(document, actor, draft.files)


def _active_units(unit_ids: list[int], name: str) -> list[Unit]:
    units = list(db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids))))
    if len(units) != len(set(unit_ids)) or any(not u.active for u in units):
        raise InvalidInput(_("有不存在或已撤销的单位"), field=name)
    return units


def _attach_files(document: Document, actor: User, files: list[dict[str, Any]]) -> None:
    current = {f.attachment_id: f for f in document.files}
    chosen = []
    for position, item in enumerate(files):
        entry = current.get(item["attachment_id"])
        if entry is None:
            # Locked: the job removing unattached uploads waits, then keeps it.
            attachment = db.session.get(Attachment, item["attachment_id"], with_for_update=True)
            if attachment is None or attachment.uploader_id != actor.id or not is_unused(attachment) \
                    or _on_a_document(attachment.id):
                raise InvalidInput(_("文件不存在或已被使用"), field="files")
            entry = DocumentFile(attachment_id=attachment.id)
            entry.attachment = attachment
        if item["is_body"] and entry.attachment.content_type not in BODY_TYPES:
            raise InvalidInput(_("正文文件须为 PDF、OFD 或 DOCX"), field="files")
        entry.caption, entry.is_body, entry.position = item["caption"], item["is_body"], position
        chosen.append(entry)
    document.files = chosen


def _on_a_document(attachment_id: int) -> bool:
    return db.session.scalar(select(DocumentFile.document_id)
                             .where(DocumentFile.attachment_id == attachment_id).limit(1)) is not None


# ---- Who is who --------------------------------------------------------------------------

def _is_clerk(user: User, unit_id: int) -> bool:
    return user.has_role(Role.CLERK, unit_id)


def _is_leader(user: User, unit_id: int) -> bool:
    return user.has_role(Role.LEADER, unit_id)


def _is_issuer_clerk(user: User, document: Document) -> bool:
    return _is_clerk(user, document.issuer_id)


def is_issuing_side(user: User, document: Document) -> bool:
    """The issuing unit's office: the author, and clerks and leaders of every issuer."""
    return user.id == document.author_id or any(
        _is_clerk(user, i.unit_id) or _is_leader(user, i.unit_id) for i in document.issuers)


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


# ---- Steps ---------------------------------------------------------------------------------

OUTGOING = ("review", "return", "sign", "number", "dispatch")
INCOMING = ("sign_for", "register", "propose", "instruct", "assign", "circulate", "mark_read", "remind",
            "complete", "reply", "archive")
ACTIONS = OUTGOING + INCOMING


def take_step(actor: User, document: Document, action: str, *, comment: str | None = None,
              user_ids: list[int] | None = None, unit_id: int | None = None, in_order: bool = False,
              lead_id: int | None = None) -> Document:
    """One workflow step by its API name (API.md "Documents")."""
    if action not in ACTIONS:
        raise InvalidInput(_("action 应为：%(choices)s", choices="、".join(ACTIONS)), field="action")
    if comment is not None:
        comment = clean_paragraphs(comment, "comment", _("意见"), max_length=COMMENT_MAX,
                                   required=False) or None
    if action == "remind" and is_issuing_side(actor, document):
        if unit_id is not None:
            return remind_unit(actor, document, unit_id)
        if recipient_for(actor, document) is None:       # the sender, not a recipient's clerk
            raise InvalidInput(_("请指定要提醒的收文单位"), field="unit_id")
    if action in OUTGOING:
        return {"review": review, "return": return_draft, "sign": sign_off, "number": assign_number,
                "dispatch": dispatch}[action](actor, document, comment=comment)
    recipient = recipient_for(actor, document, unit_id)
    if recipient is None:
        if document.status != DocumentStatus.DISPATCHED:
            raise Conflict(_("公文尚未分发"))
        raise NotAllowed(_("您不在该公文的收文单位办理环节中"))
    if action in ("assign", "circulate"):
        people = clean_id_list(user_ids, "user_ids", limit=200)
        if action == "assign":
            return assign_handlers(actor, recipient, people, lead_id=lead_id, comment=comment)
        return circulate(actor, recipient, people, in_order=in_order, comment=comment)
    steps = {"sign_for": sign_for, "register": register, "propose": propose, "instruct": instruct,
             "mark_read": mark_read, "remind": chase, "complete": complete, "reply": reply,
             "archive": archive}
    return steps[action](actor, recipient, comment=comment)


def _step(document: Document, actor: User | None, action: str, *, recipient: DocumentRecipient | None = None,
          comment: str | None = None, detail: str | None = None) -> None:
    document.steps.append(DocumentStep(action=action, actor_id=actor.id if actor else None,
                                       recipient=recipient, comment=comment, detail=detail, at=utcnow()))


def _commit() -> None:
    db.session.commit()




def _need(condition: bool, reason: str) -> None:
    if not condition:
        raise Conflict(reason)


def _allow(condition: bool, reason: str) -> None:
    if not condition:
        raise NotAllowed(reason)


def _notify(document: Document, user_ids, action: str, unit_id: int | None = None) -> None:
    payload = {"id": document.id, "action": action, "status": document.status, "unit_id": unit_id}
    for user_id in sorted(set(user_ids)):
        emit_on_commit("document", payload, to=user_room(user_id))


def _holders(role: str, unit_ids) -> list[int]:
    """The people holding `role` in any of `unit_ids` (one query)."""
    unit_ids = list(unit_ids)
    if not unit_ids:
        return []
    return list(db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == role, RoleGrant.unit_id.in_(unit_ids)).distinct()))


def _issuing_people(document: Document) -> list[int]:
    units = [i.unit_id for i in document.issuers]
    return [document.author_id, *_holders(Role.CLERK, units)]


# ---- Outgoing (发文) --------------------------------------------------------------------------

@_one_step
def review(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """核稿: a clerk of the issuing office checks the draft."""
    _allow(_is_issuer_clerk(actor, document), _("核稿须由发文单位的文书办理"))
    _need(document.status == DocumentStatus.DRAFT, _("只有草稿可以核稿"))
    document.status = DocumentStatus.REVIEWED
    _step(document, actor, "review", comment=comment)
    _notify(document, [document.author_id, *_holders(Role.LEADER, [i.unit_id for i in document.issuers])],
            "review")
    _commit()
    return document


@_one_step
def return_draft(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """退回修改: back to a draft, from review or sign-off; signatures already given lapse."""
    units = [i.unit_id for i in document.issuers]
    _allow(any(_is_clerk(actor, u) or _is_leader(actor, u) for u in units),
           _("只有发文单位的文书或领导可以退回"))
    _need(document.status in (DocumentStatus.DRAFT, DocumentStatus.REVIEWED), _("已签发的公文不能退回"))
    if not comment:
        raise InvalidInput(_("请写明退回的理由"), field="comment")
    document.status = DocumentStatus.DRAFT
    for issuer in document.issuers:
        issuer.signer_id, issuer.signed_at = None, None
    _step(document, actor, "return", comment=comment)
    _notify(document, [document.author_id], "return")
    _commit()
    return document


@_one_step
def sign_off(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """签发: a leader of an issuing unit signs for it; a joint document is signed
    once every issuer's leader has signed. 成文日期 is the last signature's day."""
    mine = [i for i in document.issuers if _is_leader(actor, i.unit_id)]
    _allow(bool(mine), _("签发须由发文单位的领导办理"))
    _need(document.status == DocumentStatus.REVIEWED, _("须先核稿，才能签发") if document.status ==
          DocumentStatus.DRAFT else _("该公文已签发"))
    unsigned = [i for i in mine if i.signer_id is None]
    _need(bool(unsigned), _("您已签发过该公文"))
    now = utcnow()
    for issuer in unsigned:
        issuer.signer_id, issuer.signed_at = actor.id, now
    if all(i.signer_id for i in document.issuers):
        document.status = DocumentStatus.SIGNED
        document.written_on = _beijing(now).date()
    _step(document, actor, "sign", comment=comment, detail="、".join(i.unit.name for i in unsigned))
    record_audit(actor, "document.signed", document, after={"title": document.title})
    _notify(document, _issuing_people(document), "sign")
    _commit()
    return document


def _beijing(moment: datetime) -> datetime:
    from zoneinfo import ZoneInfo
    return moment.astimezone(ZoneInfo(TZ_NAME))


def next_number(unit_id: int, year: int, kind: str) -> int:
    """The next number of a unit's counter, gapless: UPDATE … RETURNING holds the
    counter's row until the caller's transaction ends, so concurrent callers
    queue, and a rollback gives the number back."""
    insert_ignore(db.session, NumberCounter, {"unit_id": unit_id, "year": year, "kind": kind, "last": 0})
    return db.session.execute(
        update(NumberCounter)
        .where(NumberCounter.unit_id == unit_id, NumberCounter.year == year, NumberCounter.kind == kind)
        .values(last=NumberCounter.last + 1).returning(NumberCounter.last)).scalar_one()


def issuer_prefix(unit: Unit) -> str:
    """发文机关代字, e.g. 柯政办发; the unit's name when none is set."""
    return unit.doc_prefix or unit.name


@_one_step
def assign_number(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """登记编号: 发文字号 = issuer prefix + 〔year〕 + sequence + 号, gapless per issuer and year."""
    _allow(_is_issuer_clerk(actor, document), _("编号须由发文单位的文书办理"))
    _need(document.status == DocumentStatus.SIGNED, _("须签发后才能编号") if document.status in
          (DocumentStatus.DRAFT, DocumentStatus.REVIEWED) else _("该公文已编号"))
    year = _beijing(utcnow()).year
    document.number_prefix = issuer_prefix(document.issuer)
    document.number_year = year
    document.number_seq = next_number(document.issuer_id, year, "out")
    document.status = DocumentStatus.NUMBERED
    _step(document, actor, "number", comment=comment, detail=document.number)
    _commit()
    return document


@_one_step
def dispatch(actor: User, document: Document, *, comment: str | None = None) -> Document:
    """核发: the document reaches every recipient unit at once (one UPDATE,
    whatever their number); their clerks find it in the inbox."""
    _allow(_is_issuer_clerk(actor, document), _("分发须由发文单位的文书办理"))
    _need(document.status == DocumentStatus.NUMBERED, _("须编号后才能分发") if document.status !=
          DocumentStatus.DISPATCHED else _("该公文已分发"))
    # Plain rows, not 2,000 DocumentRecipient objects: the UPDATE below does the work.
    recipients = db.session.execute(select(DocumentRecipient.unit_id, DocumentRecipient.copy)
                                    .where(DocumentRecipient.document_id == document.id)).all()
    _need(bool(recipients), _("没有收文单位"))
    retired = db.session.scalar(select(Unit.name)
                                .join(DocumentRecipient, DocumentRecipient.unit_id == Unit.id)
                                .where(DocumentRecipient.document_id == document.id, Unit.active.is_(False))
                                .limit(1))
    _need(retired is None, _("收文单位“%(unit)s”已撤销，请退回修改收文单位", unit=retired))
    now = utcnow()
    document.status, document.dispatched_at = DocumentStatus.DISPATCHED, now
    db.session.execute(update(DocumentRecipient).where(DocumentRecipient.document_id == document.id)
                       .values(received_at=now, status=R.PENDING),
                       execution_options={"synchronize_session": False})
    copies = sum(1 for r in recipients if r.copy)
    _step(document, actor, "dispatch", comment=comment,
          detail=f"主送 {len(recipients) - copies} 个单位，抄送 {copies} 个单位")
    record_audit(actor, "document.dispatched", document,
                 after={"number": document.number, "recipients": len(recipients)})
    _notify(document, _holders(Role.CLERK, [r.unit_id for r in recipients]), "dispatch")
    _notify(document, _issuing_people(document), "dispatch")
    _commit()
    db.session.expire(document, ["recipients"])
    return document


# ---- Incoming (收文), at one recipient unit ------------------------------------------------

def _unit_clerk(actor: User, recipient: DocumentRecipient, what: str) -> None:
    _allow(_is_clerk(actor, recipient.unit_id), _("%(step)s须由收文单位的文书办理", step=what))


def _to_sender(recipient: DocumentRecipient, action: str) -> None:
    document = recipient.document
    _notify(document, _issuing_people(document), action, unit_id=recipient.unit_id)


@_one_step
def sign_for(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """签收: the unit's clerk; the time is recorded. A second sign-for changes nothing."""
    _unit_clerk(actor, recipient, _("签收"))
    document = recipient.document
    if recipient.status != R.PENDING:
        return document
    recipient.status, recipient.signed_for_at, recipient.signed_for_by_id = R.SIGNED_FOR, utcnow(), actor.id
    _step(document, actor, "sign_for", recipient=recipient, comment=comment)
    _to_sender(recipient, "sign_for")
    _commit()
    return document


@_one_step
def register(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """登记: the unit's clerk gives it the unit's incoming number (收文编号)."""
    _unit_clerk(actor, recipient, _("登记"))
    _need(recipient.status == R.SIGNED_FOR,
          _("须先签收才能登记") if recipient.status == R.PENDING else _("已登记"))
    year = _beijing(utcnow()).year
    recipient.register_year, recipient.register_seq = year, next_number(recipient.unit_id, year, "in")
    recipient.status = R.REGISTERED
    _step(recipient.document, actor, "register", recipient=recipient, comment=comment,
          detail=f"收文〔{year}〕{recipient.register_seq}号")
    _commit()
    return recipient.document


@_one_step
def propose(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """拟办: the clerk proposes how to handle it, for the leader."""
    _unit_clerk(actor, recipient, _("拟办"))
    _need(recipient.status == R.REGISTERED, _("须登记后才能拟办") if recipient.status in
          (R.PENDING, R.SIGNED_FOR) else _("已拟办"))
    if not comment:
        raise InvalidInput(_("请填写拟办意见"), field="comment")
    recipient.status = R.PROPOSED
    _step(recipient.document, actor, "propose", recipient=recipient, comment=comment)
    _notify(recipient.document, _holders(Role.LEADER, [recipient.unit_id]), "propose", recipient.unit_id)
    _commit()
    return recipient.document


@_one_step
def instruct(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """批办: the unit's leader gives the instruction."""
    _allow(_is_leader(actor, recipient.unit_id), _("批办须由收文单位的领导办理"))
    _need(recipient.status in (R.REGISTERED, R.PROPOSED), _("须登记后才能批办") if recipient.status in
          (R.PENDING, R.SIGNED_FOR) else _("已批办"))
    if not comment:
        raise InvalidInput(_("请填写批办意见"), field="comment")
    recipient.status = R.INSTRUCTED
    _step(recipient.document, actor, "instruct", recipient=recipient, comment=comment)
    _notify(recipient.document, _holders(Role.CLERK, [recipient.unit_id]), "instruct", recipient.unit_id)
    _commit()
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


def _hand_out_allowed(actor: User, recipient: DocumentRecipient, what: str, states) -> None:
    _allow(_is_clerk(actor, recipient.unit_id) or _is_leader(actor, recipient.unit_id),
           _("%(step)s须由收文单位的文书或领导办理", step=what))
    _need(recipient.status in states, _("当前状态（%(status)s）不能%(step)s",
                                        status=STATUS_LABELS.get(recipient.status), step=what))


@_one_step
def assign_handlers(actor: User, recipient: DocumentRecipient, user_ids: list[int], *,
                    lead_id: int | None = None, comment: str | None = None) -> Document:
    """承办: handlers, one of them the lead (主办; the first named, or lead_id)."""
    _hand_out_allowed(actor, recipient, _("交办"), (R.INSTRUCTED, R.HANDLING))
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
    recipient.status = R.HANDLING
    _step(recipient.document, actor, "assign", recipient=recipient, comment=comment,
          detail="、".join(p.name + ("（主办）" if p.id == lead else "") for p in people))
    _notify(recipient.document, [p.id for p in people], "assign", recipient.unit_id)
    _to_sender(recipient, "assign")
    _commit()
    return recipient.document


@_one_step
def circulate(actor: User, recipient: DocumentRecipient, user_ids: list[int], *, in_order: bool = False,
              comment: str | None = None) -> Document:
    """传阅: to chosen readers, in parallel or in the order given."""
    _hand_out_allowed(actor, recipient, _("传阅"), (R.REGISTERED, R.PROPOSED, R.INSTRUCTED, R.HANDLING))
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
    if recipient.status == R.INSTRUCTED:
        recipient.status = R.HANDLING
    _step(recipient.document, actor, "circulate", recipient=recipient, comment=comment,
          detail=("依次：" if in_order else "同时：") + "、".join(p.name for p in fresh))
    first = fresh[:1] if in_order and not _open_reads_before(recipient, turn - len(fresh) + 1) else \
        ([] if in_order else fresh)
    _notify(recipient.document, [p.id for p in first], "circulate", recipient.unit_id)
    _commit()
    return recipient.document


def _open_reads_before(recipient: DocumentRecipient, turn: int) -> bool:
    return any(t.kind == TaskKind.READ and t.turn is not None and t.turn < turn and t.done_at is None
               for t in recipient.tasks)


@_one_step
def mark_read(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """已阅 (圈阅, with an optional comment) by a reader it was circulated to; in
    order, each reader's turn comes when the one before has read it."""
    task = next((t for t in recipient.tasks if t.user_id == actor.id and t.kind == TaskKind.READ), None)
    _allow(task is not None, _("该公文没有传阅给您"))
    _need(task.done_at is None, _("您已阅过"))
    _need(task.turn is None or not _open_reads_before(recipient, task.turn),
          _("还没轮到您阅：前面的人尚未阅毕"))
    task.done_at, task.comment = utcnow(), comment
    _step(recipient.document, actor, "mark_read", recipient=recipient, comment=comment)
    following = next((t for t in sorted(recipient.tasks, key=lambda t: t.turn or 0)
                      if t.kind == TaskKind.READ and t.turn and t.turn > (task.turn or 0)
                      and t.done_at is None),
                     None) if task.turn else None
    if following is not None:
        _notify(recipient.document, [following.user_id], "circulate", recipient.unit_id)
    _commit()
    return recipient.document


@_one_step
def chase(actor: User, recipient: DocumentRecipient, *, comment: str | None = None,
          automatic: bool = False) -> Document:
    """催办: the unit's clerk (or the jobs, before a deadline) reminds those whose
    part is open; at most once every 4 hours."""
    if not automatic:
        _unit_clerk(actor, recipient, _("催办"))
    _need(recipient.status == R.HANDLING, _("只有办理中的公文可以催办"))
    open_people = [t.user_id for t in recipient.tasks if t.done_at is None]
    _need(bool(open_people), _("没有未完成的承办或传阅"))
    now = utcnow()
    TooSoon.unless_waited(recipient.last_chased_at, now, REMINDER_INTERVAL, _("每 4 小时最多催办一次"))
    recipient.last_chased_at = now
    _step(recipient.document, None if automatic else actor, "remind", recipient=recipient, comment=comment,
          detail="截止前自动催办" if automatic else None)
    _notify(recipient.document, open_people, "remind", recipient.unit_id)
    _commit()
    return recipient.document


@_one_step
def complete(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """办结: the lead handler, or the unit's clerk."""
    lead = any(t.user_id == actor.id and t.kind == TaskKind.HANDLE and (t.lead or _single_handler(recipient))
               for t in recipient.tasks)
    _allow(lead or _is_clerk(actor, recipient.unit_id), _("办结须由主办人或收文单位的文书办理"))
    _need(recipient.status in (R.INSTRUCTED, R.HANDLING), _("须批办后才能办结") if recipient.status in
          (R.PENDING, R.SIGNED_FOR, R.REGISTERED, R.PROPOSED) else _("已办结"))
    now = utcnow()
    recipient.status, recipient.done_at = R.DONE, now
    for task in recipient.tasks:
        if task.kind == TaskKind.HANDLE and task.done_at is None:
            task.done_at = now
    _step(recipient.document, actor, "complete", recipient=recipient, comment=comment)
    _to_sender(recipient, "complete")
    _commit()
    return recipient.document


def _single_handler(recipient: DocumentRecipient) -> bool:
    return sum(t.kind == TaskKind.HANDLE for t in recipient.tasks) == 1


@_one_step
def reply(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """答复: a written answer to the sender, once, while handling or when done."""
    handler = any(t.user_id == actor.id and t.kind == TaskKind.HANDLE for t in recipient.tasks)
    _allow(handler or _is_clerk(actor, recipient.unit_id) or _is_leader(actor, recipient.unit_id),
           _("答复须由承办人或收文单位的文书、领导办理"))
    _need(recipient.status in (R.INSTRUCTED, R.HANDLING, R.DONE), _("须批办后才能答复"))
    _need(recipient.replied_at is None, _("已答复过"))
    if not comment:
        raise InvalidInput(_("请填写答复内容"), field="comment")
    recipient.reply, recipient.replied_at = comment, utcnow()
    _step(recipient.document, actor, "reply", recipient=recipient, comment=comment)
    _to_sender(recipient, "reply")
    _commit()
    return recipient.document


@_one_step
def archive(actor: User, recipient: DocumentRecipient, *, comment: str | None = None) -> Document:
    """归档: the unit's clerk files it once it is done."""
    _unit_clerk(actor, recipient, _("归档"))
    _need(recipient.status == R.DONE,
          _("须办结后才能归档") if recipient.status != R.ARCHIVED else _("已归档"))
    recipient.status, recipient.archived_at = R.ARCHIVED, utcnow()
    _step(recipient.document, actor, "archive", recipient=recipient, comment=comment)
    _commit()
    return recipient.document


@_one_step
def remind_unit(actor: User, document: Document, unit_id: int) -> Document:
    """提醒 from the sender's status board: to one recipient unit's clerks (and
    whoever has an open part there), at most once every 4 hours per unit."""
    _allow(_is_issuer_clerk(actor, document) or actor.id == document.author_id,
           _("只有拟稿人和发文单位的文书可以提醒收文单位"))
    _need(document.status == DocumentStatus.DISPATCHED, _("公文尚未分发"))
    recipient = next((r for r in document.recipients if r.unit_id == unit_id), None)
    if recipient is None:
        raise InvalidInput(_("该单位不是收文单位"), field="unit_id")
    _need(recipient.status not in (R.DONE, R.ARCHIVED), _("该单位已办结"))
    now = utcnow()
    TooSoon.unless_waited(recipient.last_reminded_at, now, REMINDER_INTERVAL,
                          _("每 4 小时最多提醒一个单位一次"))
    recipient.last_reminded_at = now
    _step(document, actor, "remind", recipient=recipient, detail=f"提醒{recipient.unit.name}")
    open_people = [t.user_id for t in recipient.tasks if t.done_at is None]
    _notify(document, [*_holders(Role.CLERK, [unit_id]), *open_people], "remind", unit_id)
    _commit()
    return document


def chase_due(now: datetime | None = None) -> int:
    """Automatic 催办 (run by the jobs): units still handling a document whose
    deadline is tomorrow or today, not chased in the last 4 hours."""
    now = now or utcnow()
    soon = _beijing(now).date() + timedelta(days=1)
    due = list(db.session.scalars(
        select(DocumentRecipient).join(Document, Document.id == DocumentRecipient.document_id)
        .where(Document.deadline.is_not(None), Document.deadline <= soon,
               DocumentRecipient.status == R.HANDLING)))
    chased = 0
    for recipient in due:
        try:
            chase(None, recipient, automatic=True)          # type: ignore[arg-type]
            chased += 1
        # StaleDataError: the recipient's version moved since it was read, because
        # a clerk or another process chased (or otherwise handled) it meanwhile.
        except (Conflict, TooSoon, StaleDataError):
            db.session.rollback()
    return chased
