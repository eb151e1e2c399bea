"""JSON shapes of documents (API.md "Documents")."""
from __future__ import annotations

from typing import Any

from hub.documents.models import STATUS_LABELS, Document, DocumentRecipient, DocumentStep
from hub.org.models import User


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def document_summary(document: Document) -> dict[str, Any]:
    return {"id": document.id, "doc_type": document.doc_type, "title": document.title,
            "number": document.number, "urgency": document.urgency, "status": document.status,
            "status_label": str(STATUS_LABELS.get(document.status, document.status)),
            "issuer": {"unit_id": document.issuer_id, "name": document.issuer.name},
            "created_at": _iso(document.created_at), "dispatched_at": _iso(document.dispatched_at)}


def recipient_json(recipient: DocumentRecipient, *, detail: bool = False) -> dict[str, Any]:
    data = {"unit_id": recipient.unit_id, "name": recipient.unit.name, "copy": recipient.copy,
            "status": recipient.status,
            "status_label": str(STATUS_LABELS.get(recipient.status, recipient.status)),
            "signed_for_at": _iso(recipient.signed_for_at), "done_at": _iso(recipient.done_at),
            "replied": recipient.replied_at is not None}
    if detail:
        data.update({
            "register_number": (f"收文〔{recipient.register_year}〕{recipient.register_seq}号"
                                if recipient.register_seq else None),
            "reply": recipient.reply, "archived_at": _iso(recipient.archived_at),
            "tasks": [{"user_id": t.user_id, "name": t.user.name, "kind": t.kind, "lead": t.lead,
                       "turn": t.turn, "done": t.done_at is not None, "comment": t.comment}
                      for t in recipient.tasks]})
    return data


def document_json(document: Document, viewer: User, *, recipients: list[DocumentRecipient],
                  own: DocumentRecipient | None, steps: list[DocumentStep] | None = None) -> dict[str, Any]:
    """The document as `viewer` may see it: everything on the issuing side; at a
    recipient unit, that unit's own flow (`recipients` has what the viewer may see).
    `steps`: one page of the timeline instead of all of it."""
    # The steps the viewer may see: the issuing side's, and those at the units
    # in `recipients` (one dict, not a query or a scan per step).
    unit_of = {r.id: r.unit_id for r in recipients}
    data = document_summary(document)
    data.update({
        "security": document.security, "body": document.body, "notes": document.notes,
        "deadline": _iso(document.deadline), "written_on": _iso(document.written_on),
        "replies_to_id": document.replies_to_id,
        "author": {"user_id": document.author_id, "name": document.author.name},
        "issuers": [{"unit_id": i.unit_id, "name": i.unit.name, "signed": i.signer_id is not None,
                     "signer": i.signer.name if i.signer else None} for i in document.issuers],
        "main_recipients": [r.unit_id for r in document.recipients if not r.copy],
        "copy_recipients": [r.unit_id for r in document.recipients if r.copy],
        "files": [{"id": f.attachment_id, "filename": f.attachment.filename, "size": f.attachment.size,
                   "content_type": f.attachment.content_type, "caption": f.caption, "is_body": f.is_body}
                  for f in document.files],
        "recipients": [recipient_json(r, detail=r is own) for r in recipients],
        "unit_id": own.unit_id if own else None,
        "timeline": [{"id": s.id, "action": s.action, "by": s.actor.name if s.actor else None,
                      "by_user_id": s.actor_id, "unit_id": unit_of.get(s.recipient_id),
                      "at": _iso(s.at), "comment": s.comment, "detail": s.detail}
                     for s in (document.steps if steps is None else steps)
                     if s.recipient_id is None or s.recipient_id in unit_of],
    })
    return data
