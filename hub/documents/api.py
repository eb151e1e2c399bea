"""Documents API (API.md "Documents"). Thin: parse, access, one action."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required, cursor_arg, json_body, page, page_limit
from hub.documents import actions, page_reads, queries
from hub.documents.models import DOC_TYPES, Document
from hub.documents.serialize import document_json, document_summary
from hub.errors import InvalidInput, NotAllowed, not_found
from hub.extensions import csrf
from hub.files.access import access_attachment
from hub.validation import clean_bool, clean_id_list, clean_int, clean_text, is_id

bp = Blueprint("documents_api", __name__)
csrf.exempt(bp)

PDF = "application/pdf"


def _as_viewer(document: Document, *, steps_after: int | None = None, limit: int = 0) -> dict[str, Any]:
    """What the caller sees of a document: the issuing side sees every recipient;
    a recipient unit only its own row and steps. With `steps_after`, the timeline
    is the page of `limit` steps after that step id, and `timeline_next` the
    cursor of the next page."""
    own = actions.recipient_for(current_user, document)
    issuing = actions.is_issuing_side(current_user, document)
    recipients = list(document.recipients) if issuing else [own] if own else []
    if steps_after is None:
        return document_json(document, current_user, recipients=recipients, own=own)
    entries, more = page_reads.timeline(document, None if issuing else [r.id for r in recipients],
                                        limit=limit, after=steps_after)
    data = document_json(document, current_user, recipients=recipients, own=own,
                         steps=[entry.step for entry in entries])
    data["timeline_next"] = entries[-1].step.id if more and entries else None
    return data


def _draft_fields(document: Document) -> dict[str, Any]:
    """The document as a draft body, so that PATCH may send only what changes."""
    return {"doc_type": document.doc_type, "title": document.title, "urgency": document.urgency,
            "security": document.security, "body": document.body, "notes": document.notes,
            "deadline": document.deadline.isoformat() if document.deadline else None,
            "main_recipients": [r.unit_id for r in document.recipients if not r.copy],
            "copy_recipients": [r.unit_id for r in document.recipients if r.copy],
            "joint_issuers": [i.unit_id for i in document.issuers if i.unit_id != document.issuer_id],
            "replies_to_id": document.replies_to_id,
            "files": [{"attachment_id": f.attachment_id, "caption": f.caption, "is_body": f.is_body}
                      for f in document.files]}


def _json_id(data: dict[str, Any], name: str, label: str) -> int | None:
    """An optional id in a JSON body: a JSON integer, not a string or a boolean."""
    value = data.get(name)
    if value is None:
        return None
    if not is_id(value):
        raise InvalidInput(_("%(label)s须为整数 id", label=label), field=name)
    return value


def _json_times(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()}


@bp.post("/documents")
@api_login_required
def create():
    """拟稿: a draft of the caller's unit."""
    document = actions.create_draft(current_user, actions.DocumentDraft.from_json(json_body()))
    return _as_viewer(document), 201


@bp.get("/documents")
@api_login_required
def search():
    """Search the documents you may open: q (number or title), doc_type, issuer_id,
    since, until (drafted between, YYYY-MM-DD), status; before=ID pages back."""
    args = request.args
    doc_type = args.get("doc_type") or None
    if doc_type is not None and doc_type not in DOC_TYPES:
        raise InvalidInput(_("文种应为：%(choices)s", choices="、".join(DOC_TYPES)), field="doc_type")
    limit = page_limit()
    found = queries.search_documents(current_user, queries.DocumentSearch(
        term=clean_text(args.get("q"), "q", _("检索词"), max_length=100, required=False) or None,
        doc_type=doc_type,
        issuer_id=clean_int(args.get("issuer_id"), "issuer_id", _("发文单位"), required=False),
        since=actions.parse_date(args.get("since"), "since"),
        until=actions.parse_date(args.get("until"), "until"), status=args.get("status") or None),
        limit=limit + 1, before=clean_int(args.get("before"), "before", "before", required=False))
    return page([document_summary(d) for d in found], limit, lambda item: item["id"])


@bp.get("/documents/<int:document_id>")
@api_login_required
def show(document_id: int):
    """The document. ?steps_after=<step id> (0 for the first) pages the timeline
    (limit= steps, timeline_next): a document sent to thousands of units has
    thousands of steps, and all of them at once is slow to build and to read."""
    document = queries.access_document(current_user, document_id)
    if "steps_after" not in request.args:
        return _as_viewer(document)
    return _as_viewer(document, steps_after=cursor_arg("steps_after") or 0, limit=page_limit())


@bp.patch("/documents/<int:document_id>")
@api_login_required
def edit(document_id: int):
    """修改草稿: the fields sent replace those of the draft; the others stay."""
    document = queries.access_document(current_user, document_id)
    draft = actions.DocumentDraft.from_json({**_draft_fields(document), **json_body()})
    return _as_viewer(actions.update_draft(current_user, document, draft))


@bp.post("/documents/<int:document_id>/actions")
@api_login_required
def step(document_id: int):
    """One workflow step: {"action", "comment"?, "user_ids"?, "unit_id"?, "in_order"?, "lead_id"?}."""
    document = queries.access_document(current_user, document_id)
    data = json_body()
    user_ids = clean_id_list(data["user_ids"], "user_ids", limit=200) if "user_ids" in data else None
    actions.take_step(current_user, document, data.get("action"), comment=data.get("comment"),
                      user_ids=user_ids, unit_id=_json_id(data, "unit_id", _("单位")),
                      in_order=clean_bool(data.get("in_order", False), "in_order", _("依次传阅")),
                      lead_id=_json_id(data, "lead_id", _("主办人")))
    return _as_viewer(queries.access_document(current_user, document_id))


@bp.get("/documents/<int:document_id>/status")
@api_login_required
def status(document_id: int):
    """The sender's status board: per recipient unit in tree order (issuing side only)."""
    document = queries.access_document(current_user, document_id)
    if not actions.is_issuing_side(current_user, document):
        raise NotAllowed(_("只有发文单位可以查看各收文单位的办理情况"))
    return {"items": [_json_times(row) for row in queries.status_board(document)]}


@bp.get("/documents/<int:document_id>/files/<int:attachment_id>")
@api_login_required
def file(document_id: int, attachment_id: int):
    """The body file or an attachment, access re-checked on every fetch. Always a
    download; ?preview=1 shows a PDF inline (checked to be a PDF when uploaded,
    never sniffed as anything else, framed by Hub's own pages only). No CSP
    sandbox: browsers' PDF viewers refuse to run under it (Chromium 413851)."""
    document = queries.access_document(current_user, document_id)
    if not any(f.attachment_id == attachment_id for f in document.files):
        raise not_found("attachment")
    attachment, path = access_attachment(current_user, attachment_id)
    preview = clean_bool(request.args.get("preview"), "preview", "preview")
    if preview and attachment.content_type != PDF:
        raise InvalidInput(_("只有 PDF 文件可以在线预览，其他文件请下载"), field="preview")
    response = send_file(path, mimetype=attachment.content_type, as_attachment=not preview,
                         download_name=attachment.filename, max_age=0)
    if preview:
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
