"""Notices API (API.md "Notices and the inbox"). Thin: parse, access, one action."""
from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required, json_body, page_limit
from hub.errors import InvalidInput
from hub.extensions import csrf
from hub.notices import actions, queries
from hub.notices.audience import Audience, audience_of, reach, reach_people
from hub.notices.coverage import coverage as read_coverage, unread_people
from hub.notices.serialize import notice_json
from hub.validation import clean_int

bp = Blueprint("notices_api", __name__)
csrf.exempt(bp)


@bp.post("/notices/preview")
@api_login_required
def preview():
    """"This reaches N people in M units" — before publishing."""
    people, units = reach(Audience.from_json(json_body().get("audience")))
    return {"people": people, "units": units}


@bp.post("/notices")
@api_login_required
def publish():
    notice = actions.publish_notice(current_user, actions.NoticeDraft.from_json(json_body()))
    data = notice_json(notice, read=False)
    data["audience_count"] = reach_people(audience_of(notice.audience))
    return data, 201


@bp.get("/notices/<int:notice_id>")
@api_login_required
def show(notice_id: int):
    """Opening a notice writes the read receipt (idempotent) for its recipients."""
    notice = queries.access_notice(current_user, notice_id)
    seen = queries.seen_by(current_user, [notice])[notice.id]
    if request.args.get("mark_read", "1") == "1" and not actions.can_follow_up(current_user, notice):
        actions.mark_read(current_user, notice)
        seen.read = True
    return notice_json(notice, read=seen.read, acked=seen.acked,
                       corrected_after_read=seen.corrected_after_read)


@bp.post("/notices/<int:notice_id>/read")
@api_login_required
def read(notice_id: int):
    actions.mark_read(current_user, queries.access_notice(current_user, notice_id))
    return {"read": True}


@bp.post("/notices/<int:notice_id>/ack")
@api_login_required
def ack(notice_id: int):
    actions.acknowledge(current_user, queries.access_notice(current_user, notice_id))
    return {"acked": True}


@bp.get("/notices/<int:notice_id>/receipts")
@api_login_required
def receipts(notice_id: int):
    """Coverage: counts by unit in tree order, and the unread people (paginated
    with after=<user id>). No read times, nothing sorted by rate."""
    notice = queries.access_followed_notice(current_user, notice_id)
    cover = read_coverage(notice)
    limit = page_limit()
    after = clean_int(request.args.get("after"), "after", "after", required=False) or 0
    unit_id = clean_int(request.args.get("unit_id"), "unit_id", _("单位"), required=False)
    unread = unread_people(notice, limit=limit + 1, after=after, unit_id=unit_id)
    more = len(unread) > limit
    unread = unread[:limit]
    return {"audience_count": cover.audience_count, "read_count": cover.read_count,
            "acked_count": cover.acked_count,
            "by_unit": [{k: row[k] for k in ("unit_id", "name", "depth", "path", "audience", "read", "acked")}
                        for row in cover.by_unit],
            "unread": [{"user_id": u, "name": name, "unit_id": unit} for u, name, unit in unread],
            "next": unread[-1][0] if more and unread else None,
            "feedback": queries.feedback_counts(notice),
            "last_reminded_at": notice.last_reminded_at.isoformat() if notice.last_reminded_at else None}


@bp.post("/notices/<int:notice_id>/remind")
@api_login_required
def remind(notice_id: int):
    notice = queries.access_notice(current_user, notice_id)
    actions.send_reminder(current_user, notice)
    return {"reminded": True}


@bp.post("/notices/<int:notice_id>/correct")
@api_login_required
def correct(notice_id: int):
    notice = queries.access_followed_notice(current_user, notice_id)
    new = actions.correct_notice(current_user, notice, actions.NoticeDraft.from_json(json_body()))
    return notice_json(new, read=False), 201


@bp.post("/notices/<int:notice_id>/revoke")
@api_login_required
def revoke(notice_id: int):
    notice = queries.access_notice(current_user, notice_id)
    return notice_json(actions.revoke_notice(current_user, notice, note=json_body().get("note")))


@bp.post("/notices/<int:notice_id>/feedback")
@api_login_required
def feedback(notice_id: int):
    """重复 / 不清楚 / 不必要, anonymous."""
    notice = queries.access_notice(current_user, notice_id)
    kind = json_body().get("kind")
    if not isinstance(kind, str):
        raise InvalidInput(_("缺少反馈类型"), field="kind")
    actions.give_feedback(current_user, notice, kind)
    return {"received": True}
