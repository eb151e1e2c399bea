"""Pages: the daily digest (/inbox/digest), the sender-burden view for admins
(/admin/burden) and the suggestion box (/suggestions).

Thin: parse, one read or action, render. A refused form is shown again with its
message and what was typed (hub.errors.form_errors); any other HubError becomes
the error page (never a 500).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from hub.errors import HubError, form_errors
from hub.notices import burden, digest, suggestions
from hub.notices.models import FEEDBACK_LABELS

bp = Blueprint("reports", __name__)


def _url_or_none(endpoint: str, **values) -> str | None:
    """A link to a page another module may not provide (yet): None instead of an error."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.get("/inbox/digest")
@login_required
def inbox_digest():
    """日报摘要: one working day on one screen."""
    found = digest.digest_for(current_user, digest.parse_day(request.args.get("day")))
    before, after = digest.working_days_around(current_user, found.day)
    return render_template("reports/digest.html", digest=found, before=before, after=after,
                           notice_url=lambda i: _url_or_none("notices.show", notice_id=i),
                           channel_url=lambda i: _url_or_none("channels.show", channel_id=i))


@bp.get("/admin/burden")
@login_required
def sender_burden():
    """发文负担: per sending unit in tree order, per month."""
    months = burden.clean_months(request.args.get("months"))
    report = burden.burden_report(current_user, months=months)
    return render_template("reports/burden.html", report=report, months=months,
                           feedback_labels=FEEDBACK_LABELS, month_chart=burden.month_chart)


@bp.get("/suggestions")
@login_required
def suggestion_form():
    """意见箱: the form, for everyone signed in."""
    return _suggestion_page({})


def _suggestion_page(form, *, error: HubError | None = None):
    return render_template("reports/suggestions.html", form=form, error=error), error.status if error else 200


@bp.post("/suggestions")
@login_required
def suggest():
    with form_errors(_suggestion_page, request.form):
        suggestions.submit_suggestion(current_user, request.form.get("body"), request.form.get("contact"))
    flash(_("已收到您的意见，谢谢！意见箱不记录提交人。"))
    return redirect(url_for("reports.suggestion_form"))


@bp.get("/suggestions/received")
@login_required
def suggestion_list():
    """The suggestions received, newest first (system admins; 403 otherwise)."""
    before = request.args.get("before", "")
    before = int(before) if before.isascii() and before.isdigit() and len(before) <= 10 else None
    found = suggestions.received_suggestions(current_user, limit=suggestions.LIST_MAX + 1, before=before)
    return render_template("reports/suggestion_list.html", suggestions=found[:suggestions.LIST_MAX],
                           more=len(found) > suggestions.LIST_MAX)
