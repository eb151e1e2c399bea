"""The inbox page (收件箱): one list of what is addressed to the person —
notices, documents to handle, mentions and direct messages — with filters,
search and "更早" pages, newest first or unread first. static/js/inbox.js adds
arriving notices live, quietly.

Thin: parse the query string, one read (hub.inbox.queries.inbox_page), render.
"""
from __future__ import annotations

from datetime import datetime

import re

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.routing import BuildError

from hub.auth.throttle import check_search
from hub.channels.search import MessageSearch, search_page
from hub.db import utcnow
from hub.errors import HubError, form_errors
from hub.inbox.queries import KINDS, inbox_page
from hub.notices import pages

bp = Blueprint("inbox", __name__)

PAGE = 30
TERM_MAX = 100
MESSAGES_SHOWN = 10          # channel messages found by a search, under the inbox's own


@bp.app_template_filter("highlight")
def highlight(text: object, term: str | None) -> Markup:
    """`text` escaped, with every occurrence of `term` (any case) marked."""
    text = "" if text is None else str(text)
    if not term:
        return escape(text)
    parts = re.split(f"({re.escape(term)})", text, flags=re.IGNORECASE)
    return Markup("").join(Markup("<mark>%s</mark>") % part if i % 2 else escape(part)
                           for i, part in enumerate(parts))


def _filters() -> dict:
    args = request.args
    kind = args.get("kind")
    return {"kind": kind if kind in KINDS else None, "unread_only": args.get("unread") == "1",
            "unit_id": pages.as_id(args.get("unit_id")), "needs_ack": args.get("needs_ack") == "1",
            "overdue": args.get("overdue") == "1", "term": args.get("q", "").strip()[:TERM_MAX] or None,
            "order": "unread_first" if args.get("order") == "unread_first" else "newest"}


def _past_deadline(items: list[dict]) -> set[int]:
    now = utcnow()
    return {i["id"] for i in items if i["kind"] == "notice" and i.get("deadline")
            and datetime.fromisoformat(i["deadline"]) < now}


def _digest_url() -> str | None:
    """The daily digest (日报摘要) lives in the reports pages, when they are there."""
    try:
        return url_for("reports.inbox_digest")
    except BuildError:
        return None


def home():
    """`/` is the inbox (DESIGN.md principle 1: one place): where sign-in lands
    and where the brand links. Someone not signed in goes to the sign-in page,
    without a "请先登录": this is where everyone starts."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return index()


@bp.get("/")
@login_required
def index():
    """收件箱: newest first or 未读在前; 只看未读, kind, sending unit, 需签收, 已逾期, search."""
    filters, before = _filters(), request.args.get("before") or None
    with form_errors(_inbox, filters):   # a damaged 更早 link: show the first page and say so
        page = inbox_page(current_user, limit=PAGE, before=before, **filters)
        messages = _messages_found(filters, before)
    return _inbox(filters, page, before, messages=messages)


def _messages_found(filters: dict, before: str | None) -> list:
    """A search's channel messages (the person's readable channels, newest
    first), shown under the inbox's own results on the first page: one search
    box finds a word wherever the person may read it."""
    if not filters["term"] or before or filters["kind"] not in (None, "mention", "direct") \
            or filters["unit_id"] or filters["needs_ack"] or filters["overdue"]:
        return []
    check_search(current_user.id)                        # as the API's search: 429 over the limit
    return search_page(current_user, MessageSearch(filters["term"], limit=MESSAGES_SHOWN)).found


def _inbox(filters: dict, page: dict | None = None, before: str | None = None, *,
           messages: list | None = None, error: HubError | None = None):
    """The inbox page; a refused `before` (error) shows the first page, with a 200."""
    if page is None:
        page = inbox_page(current_user, limit=PAGE, **filters)
    # What the links keep: the filters as they appear in the query string.
    query = {"kind": filters["kind"], "unread": "1" if filters["unread_only"] else None,
             "unit_id": filters["unit_id"], "needs_ack": "1" if filters["needs_ack"] else None,
             "overdue": "1" if filters["overdue"] else None, "q": filters["term"],
             "order": "unread_first" if filters["order"] == "unread_first" else None}
    query = {k: v for k, v in query.items() if v is not None}
    return render_template(
        "inbox/index.html", page=page, filters=filters, query=query,
        base_query={k: v for k, v in query.items() if k not in ("unread", "order")}, before=before,
        error=error, messages=messages or [],
        units=pages.sending_units(current_user), can_publish=pages.can_publish(current_user),
        past_deadline=_past_deadline(page["items"]), digest_url=_digest_url(),
        narrowed=any(k not in ("unread", "order") for k in query))
