"""Notice pages (通知): compose, the notice itself, coverage for the publisher,
更正 and 撤回.

Thin: parse, fetch with permission (queries.access_notice), one action, flash
in Chinese, redirect. A refused action re-renders its page with the message
next to the field and what was typed (hub.errors.form_errors; never a 500).
Every page works without JavaScript; static/js/notices.js adds the live
search, preview and updates on top.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.db import utcnow
from hub.errors import HubError, NotAllowed, form_errors, not_found
from hub.extensions import db
from hub.notices import actions, pages, queries
from hub.notices.actions import NoticeDraft
from hub.notices.coverage import coverage as read_coverage, unread_people
from hub.notices.models import FEEDBACK_LABELS, REASON_MAX, SUMMARY_MAX, TITLE_MAX, Notice
from hub.notices.pages import ComposeForm
from hub.org.schedule import schedule_for
from hub.permissions import access_unit
from hub.times import local_when

bp = Blueprint("notices", __name__)

UNREAD_PAGE = 50


# ---- Compose and 更正 ----------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    return redirect(url_for("inbox.index", kind="notice"))


@bp.get("/new")
@login_required
def new():
    """发通知: the compose form (after hours, pre-set to the next working period)."""
    if not pages.can_publish(current_user):
        raise NotAllowed(_("只有本单位的领导或文书可以发布通知"))
    return _compose(ComposeForm(), fresh=True)


@bp.post("/new")
@login_required
def create():
    """Publish, or (查找 / 预览 buttons) re-render the form with what was asked."""
    if not pages.can_publish(current_user):
        raise NotAllowed(_("只有本单位的领导或文书可以发布通知"))
    form = ComposeForm.from_form(request.form)
    with form_errors(_compose, form):
        pages.upload_files(current_user, form, request.files.getlist("files"))
        if request.form.get("find"):
            return _compose(form)
        notice = actions.publish_notice(current_user, NoticeDraft.from_json(form.draft_json()))
    flash(_("通知已发布") if notice.publish_at <= utcnow() else
          _("通知将于 %(when)s 发出", when=local_when(notice.publish_at)))
    return redirect(url_for("notices.show", notice_id=notice.id))


@bp.get("/<int:notice_id>/correct")
@login_required
def correct_form(notice_id: int):
    """更正: the compose form pre-filled with the notice."""
    notice = queries.access_followed_notice(current_user, notice_id)
    return _compose(ComposeForm.from_notice(notice), original=notice, fresh=True)


@bp.post("/<int:notice_id>/correct")
@login_required
def correct(notice_id: int):
    notice = queries.access_followed_notice(current_user, notice_id)
    form = ComposeForm.from_form(request.form)
    with form_errors(_compose, form, original=notice):
        pages.upload_files(current_user, form, request.files.getlist("files"))
        if request.form.get("find"):
            return _compose(form, original=notice)
        new_notice = actions.correct_notice(current_user, notice, NoticeDraft.from_json(form.draft_json()))
    flash(_("更正已发布，已读过原通知的人会看到“已更正”"))
    return redirect(url_for("notices.show", notice_id=new_notice.id))


def _compose(form: ComposeForm, *, original: Notice | None = None, error: HubError | None = None,
             fresh: bool = False):
    now = utcnow()
    start = schedule_for(current_user).next_working_start(now)
    # A new notice composed after hours goes out at the next working period by
    # default. Not a correction: it replaces a notice people already have, and
    # the old version would vanish from their inboxes until then.
    if fresh and original is None and start is not None and not form.urgent:
        form.publish_at = form.auto_publish_at = pages.local_input(start)
    picker = pages.compose_picker(current_user, form)
    return render_template(
        "notices/new.html", form=form, original=original, error=error, picker=picker,
        reach=form.audience_reach(), can_urgent=pages.can_send_urgent(current_user),
        attachments=pages.form_attachments(current_user, form, original),
        after_hours=pages.when_label(start, now) if start is not None and form.auto_publish_at else None,
        limits={"title": TITLE_MAX, "summary": SUMMARY_MAX, "reason": REASON_MAX},
        max_mb=current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024),
    ), error.status if error else 200


@bp.get("/units/choices")
@login_required
def unit_choices():
    """JSON for the compose page's live unit search, within the person's reach."""
    term = request.args.get("q", "").strip()[:100]
    return {"items": pages.unit_choices(pages.units_within_reach(current_user, term))}


@bp.get("/people/choices")
@login_required
def people_choices():
    """JSON for the compose page's live people search, within the person's reach."""
    term = request.args.get("q", "").strip()[:100]
    return {"items": pages.person_choices(pages.people_within_reach(current_user, term))}


@bp.get("/positions")
@login_required
def positions():
    """JSON: the positions held under a unit, for the position field's suggestions."""
    unit_id = pages.as_id(request.args.get("unit_id"))
    unit = access_unit(current_user, unit_id) if unit_id else pages.reach_of(current_user)
    found = pages.positions_under(unit)
    return {"items": [name for name, _count in found], "people": [count for _name, count in found]}


# ---- The notice ---------------------------------------------------------------------------

@bp.get("/<int:notice_id>")
@login_required
def show(notice_id: int):
    """The notice. Opening it writes the read receipt for its recipients (not for
    the publisher and admins following it up)."""
    notice = queries.access_notice(current_user, notice_id)
    following = actions.can_follow_up(current_user, notice)
    seen = queries.seen_by(current_user, [notice])[notice.id]    # before: "you read the old version"
    if not following:
        actions.mark_read(current_user, notice)
        seen.read = True
    return _notice_page(notice, following=following, seen=seen)


def _notice_page(notice: Notice, *, following: bool | None = None, seen: queries.Seen | None = None,
                 error: HubError | None = None):
    if following is None:
        following = actions.can_follow_up(current_user, notice)
    seen = seen or queries.seen_by(current_user, [notice])[notice.id]
    return render_template(
        "notices/show.html", notice=notice, seen=seen, following=following, error=error,
        feedback_given=pages.feedback_given(current_user, notice), feedback_labels=FEEDBACK_LABELS,
        old=db.session.get(Notice, notice.corrects_id) if notice.corrects_id else None,
        scheduled=notice.publish_at > utcnow(),
    ), error.status if error else 200


@bp.post("/<int:notice_id>/ack")
@login_required
def ack(notice_id: int):
    """签收 from the notice page."""
    notice = queries.access_notice(current_user, notice_id)
    with form_errors(_notice_page, notice):
        actions.acknowledge(current_user, notice)
    flash(_("已签收"))
    return redirect(url_for("notices.show", notice_id=notice.id))


@bp.post("/<int:notice_id>/feedback")
@login_required
def feedback(notice_id: int):
    """重复 / 不清楚 / 不必要, anonymously, once."""
    notice = queries.access_notice(current_user, notice_id)
    with form_errors(_notice_page, notice):
        actions.give_feedback(current_user, notice, request.form.get("kind", ""))
    flash(_("反馈已匿名送达发布单位，谢谢"))
    return redirect(url_for("notices.show", notice_id=notice.id))


# ---- Coverage, reminder, 撤回 --------------------------------------------------------------

@bp.get("/<int:notice_id>/coverage")
@login_required
def coverage(notice_id: int):
    """阅读情况 for the publisher: counts by unit in tree order, the unread people."""
    return _coverage_page(queries.access_followed_notice(current_user, notice_id))


def _coverage_page(notice: Notice, *, error: HubError | None = None):
    cover = read_coverage(notice)
    after = pages.as_id(request.args.get("after")) or 0
    unit_id = pages.as_id(request.args.get("unit_id"))
    unread = unread_people(notice, limit=UNREAD_PAGE + 1, after=after, unit_id=unit_id)
    more = len(unread) > UNREAD_PAGE
    unread = unread[:UNREAD_PAGE]
    tree = pages.coverage_tree(cover.by_unit)
    return render_template(
        "notices/coverage.html", notice=notice, cover=cover, tree=tree, cover_page=pages.COVER_PAGE,
        open_ids=pages.open_cover_units(tree, cover.by_unit, pages.as_id(request.args.get("open"))),
        units_key=pages.cover_units_key(cover.by_unit),
        unit_names={row["unit_id"]: row["name"] for row in cover.by_unit},
        unread=unread, next_after=unread[-1][0] if more and unread else None, after=after, unit_id=unit_id,
        feedback=queries.feedback_counts(notice), feedback_labels=FEEDBACK_LABELS, error=error,
        page_size=UNREAD_PAGE,
    ), error.status if error else 200


@bp.get("/<int:notice_id>/coverage/units", defaults={"unit_id": None})
@bp.get("/<int:notice_id>/coverage/units/<int:unit_id>")
@login_required
def coverage_children(notice_id: int, unit_id: int | None):
    """The lines inside one unit of the coverage tree (or its top level), a page at
    a time (after=<count shown>): the coverage page opens the top levels and
    fetches the rest when someone expands a unit, so a province-wide notice never
    puts its 20,000 units on one page. The same access as the page."""
    notice = queries.access_followed_notice(current_user, notice_id)
    cover = read_coverage(notice)
    tree = pages.coverage_tree(cover.by_unit)
    parent = pages.cover_node(tree, cover.by_unit, unit_id) if unit_id else None
    if unit_id and parent is None:
        raise not_found("unit")
    return render_template(
        "notices/_cover_children.html", notice=notice, parent=parent,
        nodes=parent.children if parent else tree, after=pages.as_id(request.args.get("after")) or 0,
        open_ids=set(), cover_page=pages.COVER_PAGE)


@bp.post("/<int:notice_id>/remind")
@login_required
def remind(notice_id: int):
    """提醒未读: at most once every 4 hours (the page says when otherwise)."""
    notice = queries.access_followed_notice(current_user, notice_id)
    with form_errors(_coverage_page, notice):
        actions.send_reminder(current_user, notice)
    flash(_("已提醒尚未阅读的人员"))
    return redirect(url_for("notices.coverage", notice_id=notice.id))


@bp.get("/<int:notice_id>/revoke")
@login_required
def revoke_form(notice_id: int):
    """撤回: the form asks for the note everyone will see."""
    return _revoke_page(queries.access_followed_notice(current_user, notice_id))


def _revoke_page(notice: Notice, *, note: str = "", error: HubError | None = None):
    return render_template("notices/revoke.html", notice=notice, error=error, note=note
                           ), error.status if error else 200


@bp.post("/<int:notice_id>/revoke")
@login_required
def revoke(notice_id: int):
    notice = queries.access_followed_notice(current_user, notice_id)
    note = request.form.get("note", "")
    with form_errors(_revoke_page, notice, note=note):
        actions.revoke_notice(current_user, notice, note=note)
    flash(_("通知已撤回，收件人会看到撤回说明"))
    return redirect(url_for("notices.show", notice_id=notice.id))
