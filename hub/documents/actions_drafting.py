"""Drafting a document (拟稿): the draft as a client sends it, checked at the
edge (DocumentDraft), and the two drafting actions. The steps after it are in
actions_outgoing.py and actions_incoming.py, around the table in steps.py."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hub.audit import record_audit
from hub.documents.models import (BODY_MAX, CAPTION_MAX, CLASSIFIED, DOC_TYPES, NOTES_MAX, TITLE_MAX,
                                  UNCLASSIFIED, URGENCIES, Document, DocumentFile, DocumentIssuer,
                                  DocumentRecipient, DocumentStatus)
from hub.documents.steps import is_issuer_clerk, one_step, record_step
from hub.errors import Conflict, InvalidInput, NotAllowed, TooLarge
from hub.extensions import db
from hub.files.access import is_unused
from hub.files.models import Attachment
from hub.org.models import Unit, User
from hub.validation import clean_id_list, clean_paragraphs, clean_text, is_id, parse_date

RECIPIENTS_MAX = 5000
FILES_MAX = 20


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
        if replies_to is not None and not is_id(replies_to):
            raise InvalidInput(_("replies_to_id 必须是公文 id"), field="replies_to_id")
        title = clean_text(data.get("title"), "title", _("标题"), max_length=TITLE_MAX)
        return cls(doc_type=doc_type, title=title,
                   main_recipients=main, copy_recipients=copies, urgency=urgency, body=body,
                   notes=notes or None, deadline=parse_date(data.get("deadline"), "deadline"),
                   joint_issuers=clean_id_list(data.get("joint_issuers"), "joint_issuers", limit=20),
                   replies_to_id=replies_to, files=_files(data.get("files")))


def _files(value: Any) -> list[dict[str, Any]]:
    value = value or []
    if not isinstance(value, list) or len(value) > FILES_MAX:
        raise InvalidInput(_("files 须为列表（最多 %(limit)s 个）", limit=FILES_MAX), field="files")
    files, bodies = [], 0
    for item in value:
        if not isinstance(item, dict) or not is_id(item.get("attachment_id")):
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


@one_step
def create_draft(author: User, draft: DocumentDraft) -> Document:
    """拟稿: a new draft of the author's unit (with joint issuers, 联合发文)."""
    issuer = drafting_unit(author)
    document = Document(author_id=author.id, issuer_id=issuer.id, status=DocumentStatus.DRAFT)
    db.session.add(document)
    _apply(document, author, draft)
    record_step(document, author, "draft")
    record_audit(author, "document.drafted", document, after={"title": document.title})
    db.session.commit()
    return document


@one_step
def update_draft(actor: User, document: Document, draft: DocumentDraft) -> Document:
    """修改草稿: the author, or a clerk of the issuing unit while reviewing."""
    if actor.id != document.author_id and not is_issuer_clerk(actor, document):
        raise NotAllowed(_("只有拟稿人和发文单位的文书可以修改草稿"))
    if document.status != DocumentStatus.DRAFT:
        raise Conflict(_("只有草稿可以修改；已核稿的公文请先退回"))
    _apply(document, actor, draft)
    record_step(document, actor, "edit")
    db.session.commit()
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
