"""Actions on documents: drafting (actions_drafting.py), the issuing office's
steps (actions_outgoing.py: 核稿 退回 签发 编号 核发) and each recipient unit's
(actions_incoming.py: 签收 登记 拟办 批办 承办 传阅 催办 办结 答复 归档), around one
table of who may take which step from which state (steps.py, STEPS).

Every step checks, in this order: that the caller may open the document (else
404, in queries.access_document), that the caller's role allows the step (else
403 with the reason), and that the document is in a state that allows it (else
409 with the reason). Each step appends to the document's timeline and commits
once; two steps taken at once on one document cannot both win (version check,
409). `take_step` dispatches an API action name.
"""
from __future__ import annotations

from flask_babel import gettext as _

from hub.documents.actions_drafting import (BODY_TYPES, DocumentDraft, create_draft, drafting_unit,  # noqa: F401
                                            parse_date, update_draft)
from hub.documents.actions_incoming import (archive, assign_handlers, chase, chase_due, circulate,  # noqa: F401
                                            complete, instruct, mark_read, propose, recipient_for, register,
                                            reply, sign_for)
from hub.documents.actions_outgoing import (assign_number, dispatch, mark_seen, remind_unit,  # noqa: F401
                                            return_draft, review, sign_off)
from hub.documents.models import COMMENT_MAX, Document, DocumentStatus
from hub.documents.steps import STEPS, is_issuing_side, next_number  # noqa: F401
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.org.models import User
from hub.validation import clean_id_list, clean_paragraphs

# The API's action names (API.md "Documents"): the rows of STEPS but the board's
# remind_unit, which is `remind` with a unit_id from the issuing side.
OUTGOING = tuple(a for a, s in STEPS.items() if s.side == "outgoing" and a != "remind_unit")
INCOMING = tuple(a for a, s in STEPS.items() if s.side == "incoming")
ACTIONS = OUTGOING + INCOMING

_OUTGOING_STEPS = {"review": review, "return": return_draft, "sign": sign_off, "number": assign_number,
                   "dispatch": dispatch}
_INCOMING_STEPS = {"sign_for": sign_for, "register": register, "propose": propose, "instruct": instruct,
                   "mark_read": mark_read, "remind": chase, "complete": complete, "reply": reply,
                   "archive": archive}


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
        return _OUTGOING_STEPS[action](actor, document, comment=comment)
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
    # 送领导批办 names the leaders; 批办 may name the handlers at once (both optional).
    named = clean_id_list(user_ids, "user_ids", limit=200) if user_ids else []
    if action == "propose":
        return propose(actor, recipient, comment=comment, leader_ids=named)
    if action == "instruct":
        return instruct(actor, recipient, comment=comment, user_ids=named, lead_id=lead_id)
    return _INCOMING_STEPS[action](actor, recipient, comment=comment)
