"""JSON for the digest, the sender-burden view and the suggestion box. Thin:
parse, one read or action, serialize."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from hub.api import api_login_required, cursor_arg, json_body, page_limit
from hub.extensions import csrf
from hub.notices import burden, digest, suggestions

bp = Blueprint("reports_api", __name__)
csrf.exempt(bp)


@bp.get("/inbox/digest")
@api_login_required
def inbox_digest():
    """日报摘要 of ?day=YYYY-MM-DD (default: the last working day that has ended)."""
    found = digest.digest_for(current_user, digest.parse_day(request.args.get("day")))
    return digest.digest_json(found)


@bp.get("/burden")
@api_login_required
def sender_burden():
    """发文负担 per sending unit in tree order and month (?months=6)."""
    months = burden.clean_months(request.args.get("months"))
    return burden.burden_json(burden.burden_report(current_user, months=months))


@bp.post("/suggestions")
@api_login_required
def suggest():
    """意见箱: {"body", "contact"?}; nothing names the writer."""
    data = json_body()
    suggestions.submit_suggestion(current_user, data.get("body"), data.get("contact"))
    return {"received": True}, 201


@bp.get("/suggestions")
@api_login_required
def suggestion_list():
    """The suggestions, newest first (system admins), paged with before=<id>."""
    limit = page_limit()
    found = suggestions.received_suggestions(current_user, limit=limit + 1, before=cursor_arg("before"))
    items = [suggestions.suggestion_json(s) for s in found[:limit]]
    return {"items": items, "next": items[-1]["id"] if len(found) > limit and items else None}
