"""Documents API (API.md "Documents"). Thin: parse, access, one action."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from hub.api import api_login_required, json_body, page_limit
from hub.documents import actions, queries
from hub.documents.serialize import document_json, document_summary
from hub.extensions import csrf
from hub.validation import clean_bool, clean_int

bp = Blueprint("documents_api", __name__)
csrf.exempt(bp)


def _as_viewer(document):
    """What the caller sees of a document: the issuing side sees every recipient;
    a recipient unit only its own row and steps."""
    if actions.is_issuing_side(current_user, document):
        return document_json(document, current_user, recipients=list(document.recipients),
                             own=actions.recipient_for(current_user, document))
    own = actions.recipient_for(current_user, document)
    return document_json(document, current_user, recipients=[own] if own else [], own=own)


@bp.post("/documents")
@api_login_required
def create():
    """拟稿: a draft of the caller's unit."""
    document = actions.create_draft(current_user, actions.DocumentDraft.from_json(json_body()))
    return _as_viewer(document), 201


@bp.get("/documents")
@api_login_required
def search():
    """Search the documents you may open: q (number or title), doc_type, issuer_id, since, until, status."""
    args = request.args
    found = queries.search_documents(current_user, queries.DocumentSearch(
        term=(args.get("q") or "").strip()[:100] or None, doc_type=args.get("doc_type") or None,
        issuer_id=clean_int(args.get("issuer_id"), "issuer_id", "发文单位", required=False),
        since=actions._date(args.get("since"), "since"), until=actions._date(args.get("until"), "until"),
        status=args.get("status") or None),
        limit=page_limit(), before=clean_int(args.get("before"), "before", "before", required=False))
    items = [document_summary(d) for d in found]
    return {"items": items, "next": items[-1]["id"] if len(items) == page_limit() else None}


@bp.get("/documents/<int:document_id>")
@api_login_required
def show(document_id: int):
    return _as_viewer(queries.access_document(current_user, document_id))


@bp.patch("/documents/<int:document_id>")
@api_login_required
def edit(document_id: int):
    """修改草稿 (the whole draft, as for create)."""
    document = queries.access_document(current_user, document_id)
    actions.update_draft(current_user, document, actions.DocumentDraft.from_json(json_body()))
    return _as_viewer(document)


@bp.post("/documents/<int:document_id>/actions")
@api_login_required
def step(document_id: int):
    """One workflow step: {"action", "comment"?, "user_ids"?, "unit_id"?, "in_order"?, "lead_id"?}."""
    document = queries.access_document(current_user, document_id)
    data = json_body()
    actions.take_step(current_user, document, data.get("action"), comment=data.get("comment"),
                      user_ids=data.get("user_ids"),
                      unit_id=clean_int(data.get("unit_id"), "unit_id", "单位", required=False),
                      in_order=clean_bool(data.get("in_order", False), "in_order", "in_order"),
                      lead_id=clean_int(data.get("lead_id"), "lead_id", "主办人", required=False))
    return _as_viewer(queries.access_document(current_user, document_id))


@bp.get("/documents/<int:document_id>/status")
@api_login_required
def status(document_id: int):
    """The sender's status board: per recipient unit in tree order (issuing side only)."""
    from hub.errors import NotAllowed
    document = queries.access_document(current_user, document_id)
    if not actions.is_issuing_side(current_user, document):
        raise NotAllowed("只有发文单位可以查看各收文单位的办理情况")
    return {"items": [{**row, "signed_for_at": row["signed_for_at"].isoformat() if row["signed_for_at"] else None,
                       "done_at": row["done_at"].isoformat() if row["done_at"] else None,
                       "last_reminded_at": row["last_reminded_at"].isoformat() if row["last_reminded_at"] else None}
                      for row in queries.status_board(document)]}
