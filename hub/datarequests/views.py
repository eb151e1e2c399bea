"""Data request pages (填报): the list, the compose page with its preview, a
request (with the requesting side's status), and a unit's answer form — made
for a phone first. Thin: parse, fetch with permission, one action, flash,
redirect; a refused form is shown again with the message at its field. Every
page works without JavaScript."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.datarequests import access, actions, answers_import, imports, pages, queries
from hub.datarequests.catalogue import FieldDraft, search_fields, similar_fields
from hub.datarequests.drafts import RequestDraft, check_scope
from hub.datarequests.models import FeedbackKind, FieldKind, PeriodKind
from hub.datarequests.periods import period_label
from hub.errors import HubError, InvalidInput, form_errors
from hub.notices import pages as notice_pages
from hub.times import beijing_today

bp = Blueprint("datarequests", __name__)


@bp.get("/")
@login_required
def index():
    """填报: what the person's units are asked, and what they asked."""
    return render_template("datarequests/index.html",
                           asked=queries.inbox_data_requests(current_user, limit=pages.SENT_PAGE),
                           sent=pages.sent_requests(current_user),
                           can_compose=pages.can_compose(current_user),
                           can_import=bool(access.answering_units(current_user)), period_label=period_label)


# ---- Importing held values ---------------------------------------------------------------------

@bp.get("/import")
@login_required
def import_form():
    """导入数据: upload a CSV/XLSX of the figures one's units hold."""
    imports.require_can_import(current_user)
    return render_template("datarequests/import.html", report=None, error=None)


@bp.post("/import")
@login_required
def import_file():
    imports.require_can_import(current_user)
    upload = request.files.get("file")
    with form_errors(_import_page):
        if upload is None or not (upload.filename or "").strip():
            raise InvalidInput(_("请选择要导入的 CSV 或 XLSX 文件"), field="file")
        report = imports.import_values(current_user, upload.filename.strip(), upload.read(),
                                       dry_run=request.form.get("dry_run") == "1")
    return render_template("datarequests/import.html", report=report, error=None)


def _import_page(*, error: HubError):
    return render_template("datarequests/import.html", report=None, error=error), error.status


# ---- Compose ----------------------------------------------------------------------------------

@bp.get("/new")
@login_required
def new():
    access.composing_unit(current_user)
    return _compose(pages.ComposeForm())


@bp.post("/new")
@login_required
def create():
    """Send; or 查找 / 预览 / 新增数据项: the form again with what was asked."""
    unit = access.composing_unit(current_user)
    form = pages.ComposeForm.from_form(request.form)
    step = request.form.get("step", "send")
    similar = []
    with form_errors(_compose, form, preview=step in ("preview", "send")):
        if step == "add_field":
            added = actions.add_field(current_user, unit, FieldDraft.from_json(form.new_field))
            form.field_ids.append(added.id)
            form.new_field = {}
            similar = similar_fields(added.name, exclude_id=added.id)
            flash(_("已新增数据项“%(name)s”并选入本次填报", name=added.name))
        elif step == "send":
            draft = RequestDraft.from_json(form.draft_json())
            checked = check_scope(current_user, unit, draft.scope)
            sent = actions.create_data_request(current_user, checked, draft)
            flash(_("填报任务已发出"))
            return redirect(url_for("datarequests.show", request_id=sent.id))
    return _compose(form, preview=step == "preview", similar=similar)


@bp.post("/new/check")
@login_required
def check():
    """核对 as a fragment of the compose page, for its live check (static/js/datarequests.js)."""
    access.composing_unit(current_user)
    form = pages.ComposeForm.from_form(request.form)
    shown = refused = None
    if form.field_ids and (form.unit_ids or form.subtree_ids) and form.period:
        shown, refused = pages.preview_of(current_user, form.scope_json())
    return render_template("datarequests/_check.html", preview=shown, error=refused, live=True,
                           anchors=pages.COMPOSE_ANCHORS)


def _compose(form: pages.ComposeForm, *, error: HubError | None = None, preview: bool = False,
             similar=()):
    found = search_fields(form.field_q, limit=30) if form.field_q else []
    chosen = pages.fields_by_id(form.field_ids)
    fields = chosen + [f for f in found if f.id not in form.field_ids]
    units = notice_pages.units_within_reach(current_user, form.unit_q) if form.unit_q else []
    chosen_units = notice_pages.units_by_id(form.unit_ids + form.subtree_ids)
    unit_list = notice_pages.unit_choices(chosen_units + [u for u in units if u not in chosen_units])
    shown = None
    if preview and form.field_ids and (form.unit_ids or form.subtree_ids):
        shown, refused = pages.preview_of(current_user, form.scope_json())
        error = error or refused
    root = notice_pages.reach_of(current_user)
    return (render_template("datarequests/new.html", form=form, error=error, fields=fields, units=unit_list,
                           preview=shown, similar="、".join(f.name for f in similar), root=root,
                           kinds=pages.KIND_LABELS,
                           period_kinds=pages.PERIOD_KIND_LABELS, file_kind=FieldKind.FILE,
                           field_kinds=list(FieldKind), period_kind_values=list(PeriodKind),
                           anchors=pages.COMPOSE_ANCHORS, live=False,
                           periods=pages.period_suggestions(beijing_today()),
                           labels=pages.script_labels()),
            error.status if error else 200)


# ---- A request ----------------------------------------------------------------------------------

@bp.get("/requests/<int:request_id>")
@login_required
def show(request_id: int):
    """A request: for the units asked, their forms; for the requesting side, the status."""
    data_request = access.access_request(current_user, request_id)
    following = access.is_requesting_side(current_user, data_request)
    asked = queries.request_fields(data_request)
    mine = [u for u in access.role_units(current_user) if access.audience_reaches(data_request, u)]
    held = queries.held_values([u.id for u in mine], asked)
    my_units = [{"unit": u, "answers": access.can_answer(current_user, u),
                 "status": queries.state_of(queries.answer_of(data_request, u.id), asked, held, u.id)}
                for u in mine]
    status = queries.status_report(data_request) if following else None
    return render_template("datarequests/show.html", request_=data_request, asked=asked, my_units=my_units,
                           status=status, tree=pages.status_tree(status["by_unit"]) if status else [],
                           open_all=status is not None and status["units"] <= pages.STATUS_OPEN_UNITS,
                           importing=answers_import.importing_roots(current_user, data_request),
                           following=following, statuses=pages.STATUS_LABELS,
                           period_label=period_label, feedback_kinds=list(FeedbackKind))


@bp.post("/requests/<int:request_id>/import")
@login_required
def import_answers(request_id: int):
    """代下级导入: a unit above uploads the export's layout filled in for units below it."""
    data_request = access.access_request(current_user, request_id)
    answers_import.require_can_import_answers(current_user, data_request)
    upload = request.files.get("file")
    with form_errors(_answers_import_page, data_request):
        if upload is None or not (upload.filename or "").strip():
            raise InvalidInput(_("请选择要导入的 XLSX 文件"), field="file")
        report = answers_import.import_answers(current_user, data_request, upload.read(),
                                               dry_run=request.form.get("dry_run") == "1")
    return render_template("datarequests/answers_import.html", request_=data_request, report=report,
                           error=None)


def _answers_import_page(data_request, *, error: HubError):
    return render_template("datarequests/answers_import.html", request_=data_request, report=None,
                           error=error), error.status


@bp.post("/requests/<int:request_id>/remind")
@login_required
def remind(request_id: int):
    data_request = access.access_request(current_user, request_id)
    units = actions.remind_pending(current_user, data_request)
    flash(_("已提醒 %(units)s 个待填报的单位", units=units))
    return redirect(url_for("datarequests.show", request_id=request_id))


@bp.post("/requests/<int:request_id>/close")
@login_required
def close(request_id: int):
    actions.close_data_request(current_user, access.access_request(current_user, request_id))
    flash(_("填报任务已结束"))
    return redirect(url_for("datarequests.show", request_id=request_id))


@bp.post("/requests/<int:request_id>/units/<int:unit_id>/feedback")
@login_required
def feedback(request_id: int, unit_id: int):
    data_request = access.access_request(current_user, request_id)
    unit = access.access_request_unit(current_user, data_request, unit_id)
    actions.give_request_feedback(current_user, data_request, unit, request.form.get("kind"))
    flash(_("已反馈，发起单位只看到数量"))
    return redirect(url_for("datarequests.show", request_id=request_id))


# ---- A unit's form ------------------------------------------------------------------------------

@bp.get("/requests/<int:request_id>/units/<int:unit_id>")
@login_required
def answer(request_id: int, unit_id: int):
    """A unit's form, pre-filled with what is held (reading another unit's is audited)."""
    data_request = access.access_request(current_user, request_id)
    unit = access.access_request_unit(current_user, data_request, unit_id)
    form = queries.unit_form(data_request, unit)
    page = _answer_page(data_request, unit, form)
    if not access.is_own_unit(current_user, unit.id):
        actions.record_values_read(current_user, unit=unit, request=data_request)
    return page


@bp.post("/requests/<int:request_id>/units/<int:unit_id>")
@login_required
def submit(request_id: int, unit_id: int):
    data_request = access.access_request(current_user, request_id)
    unit = access.access_request_unit(current_user, data_request, unit_id)
    access.require_can_answer(current_user, unit)
    fields = [link.field for link in data_request.fields]
    typed = {f"v-{f.id}": request.form.get(f"v-{f.id}") for f in fields}
    with form_errors(_refused_answer, data_request, unit, typed, request.form.get("version")):
        values = pages.posted_values(request.form, request.files, fields, current_user)
        actions.submit_unit_form(current_user, data_request, unit, values=values,
                                 version=_version(request.form.get("version")))
    flash(_("已提交，谢谢"))
    return redirect(url_for("datarequests.show", request_id=request_id))


def _refused_answer(data_request, unit, typed: dict, version: str | None, *, error: HubError):
    """A stale form shows the values as they are now (409); any other refusal keeps what was typed."""
    if isinstance(error, actions.StaleForm):       # what was typed stays on the page, beside the values now
        return _answer_page(data_request, unit, error.current, error=error, unsaved=typed), 409
    return _answer_page(data_request, unit, queries.unit_form(data_request, unit), error=error,
                        typed=typed, version=version), error.status


def _version(value: str | None) -> int | str | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


def _answer_page(data_request, unit, form: dict, *, error: HubError | None = None, typed=None,
                 version=None, unsaved=None) -> str:
    return render_template("datarequests/answer.html", request_=data_request, unit=unit, form=form,
                           error=error, typed=typed or {}, unsaved=unsaved or {},
                           version=version if version is not None else form["version"],
                           answers=access.can_answer(current_user, unit),
                           titles=pages.source_titles(form), statuses=pages.STATUS_LABELS,
                           period_label=period_label, kinds=FieldKind)
