"""GET /api/v1/inbox (API.md "Notices and the inbox")."""
from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required, page_limit
from hub.extensions import csrf
from hub.inbox.queries import inbox_page
from hub.validation import clean_int

bp = Blueprint("inbox_api", __name__)
csrf.exempt(bp)


@bp.get("/inbox")
@api_login_required
def inbox():
    """Newest first, or unread first with order=unread_first; filters: kind,
    unread=1, unit_id (sending unit), needs_ack=1, overdue=1, q."""
    args = request.args
    return inbox_page(current_user, limit=page_limit(), before=args.get("before"), kind=args.get("kind"),
                      unread_only=args.get("unread") == "1",
                      unit_id=clean_int(args.get("unit_id"), "unit_id", _("发送单位"), required=False),
                      needs_ack=args.get("needs_ack") == "1", overdue=args.get("overdue") == "1",
                      term=(args.get("q") or "").strip()[:100] or None,
                      order=args.get("order") or "newest")
