"""Data requests API (API.md "Data requests (填报) — collect once"). Thin:
parse, access, one action or read."""
from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required, json_body, page_limit
from hub.datarequests import access, actions, answers_import, export, imports, queries
from hub.datarequests.catalogue import TERM_MAX, FieldDraft, search_fields, similar_fields
from hub.datarequests.drafts import RequestDraft, RequestScope, check_scope
from hub.datarequests.periods import parse_period
from hub.datarequests.serialize import field_json, request_json
from hub.errors import InvalidInput, NotAllowed
from hub.extensions import csrf
from hub.permissions import access_unit
from hub.validation import clean_bool, clean_int

bp = Blueprint("datarequests_api", __name__)
csrf.exempt(bp)


@bp.get("/data/fields")
@api_login_required
def fields():
    """The catalogue (数据目录): ?q= a part of the name or code; after=<id> pages it."""
    limit = page_limit()
    after = clean_int(request.args.get("after"), "after", "after", required=False)
    term = (request.args.get("q") or "").strip()[:TERM_MAX] or None
    found = search_fields(term, limit=limit + 1, after=after)
    more = len(found) > limit
    found = found[:limit]
    return {"items": [field_json(f) for f in found], "next": found[-1].id if more and found else None}


@bp.post("/data/fields")
@api_login_required
def add_field():
    """A new catalogue field; the answer names fields with similar names."""
    unit = access.composing_unit(current_user)
    field = actions.add_field(current_user, unit, FieldDraft.from_json(json_body()))
    return {**field_json(field), "similar": [field_json(f) for f in similar_fields(field.name,
                                                                                   exclude_id=field.id)]}, 201


@bp.post("/data/requests/preview")
@api_login_required
def preview():
    """Before sending: units asked, what is held already, units complete, overlaps."""
    unit = access.composing_unit(current_user)
    return queries.preview(check_scope(current_user, unit, RequestScope.from_json(json_body())))


@bp.post("/data/requests")
@api_login_required
def create():
    unit = access.composing_unit(current_user)
    draft = RequestDraft.from_json(json_body())
    checked = check_scope(current_user, unit, draft.scope)
    data_request = actions.create_data_request(current_user, checked, draft)
    units, complete = queries.asked_counts(data_request)
    return {**request_json(data_request), "units": units, "complete_units": complete}, 201


@bp.get("/data/requests/<int:request_id>")
@api_login_required
def show(request_id: int):
    """A request, with the caller's own units it asks and their state."""
    data_request = access.access_request(current_user, request_id)
    mine = [u for u in access.answering_units(current_user)
            if access.audience_reaches(data_request, u)]
    asked = queries.request_fields(data_request)
    held = queries.held_values([u.id for u in mine], asked)
    units = [{"unit_id": u.id, "name": u.name,
              "status": queries.state_of(queries.answer_of(data_request, u.id), asked, held, u.id)}
             for u in mine]
    return {**request_json(data_request), "my_units": units,
            "requesting_side": access.is_requesting_side(current_user, data_request)}


def _form_access(request_id: int, unit_id: int):
    data_request = access.access_request(current_user, request_id)
    return data_request, access.access_request_unit(current_user, data_request, unit_id)


@bp.get("/data/requests/<int:request_id>/units/<int:unit_id>")
@api_login_required
def form(request_id: int, unit_id: int):
    """A unit's form, pre-filled with what is held. Reading another unit's is audited."""
    data_request, unit = _form_access(request_id, unit_id)
    answer = queries.unit_form(data_request, unit)
    if not access.is_own_unit(current_user, unit.id):
        actions.record_values_read(current_user, unit=unit, request=data_request)
    return answer


@bp.put("/data/requests/<int:request_id>/units/<int:unit_id>")
@api_login_required
def submit(request_id: int, unit_id: int):
    """Submit the unit's values with the version the form was read at."""
    data_request, unit = _form_access(request_id, unit_id)
    access.require_can_answer(current_user, unit)
    body = json_body()
    actions.submit_unit_form(current_user, data_request, unit, values=body.get("values"),
                             version=body.get("version"))
    return queries.unit_form(data_request, unit)


@bp.post("/data/requests/<int:request_id>/units/<int:unit_id>/feedback")
@api_login_required
def feedback(request_id: int, unit_id: int):
    """重复 / 不必要, once per unit asked."""
    data_request, unit = _form_access(request_id, unit_id)
    actions.give_request_feedback(current_user, data_request, unit, json_body().get("kind"))
    return {"received": True}


def _requesting(request_id: int):
    data_request = access.access_request(current_user, request_id)
    access.require_requesting_side(current_user, data_request)
    return data_request


@bp.get("/data/requests/<int:request_id>/status")
@api_login_required
def status(request_id: int):
    """Counts by unit in tree order for the requesting side; no times, no ranking."""
    return queries.status_report(_requesting(request_id))


@bp.get("/data/requests/<int:request_id>/export")
@api_login_required
def export_xlsx(request_id: int):
    """XLSX, one row per unit in tree order, one column per field (audited)."""
    data_request = _requesting(request_id)
    states = actions.record_export(current_user, data_request)
    body = export.workbook(data_request, states)
    return Response(body, mimetype=export.XLSX, headers={
        "Content-Disposition": f'attachment; filename="{export.export_filename(data_request)}"'})


@bp.post("/data/requests/<int:request_id>/import")
@api_login_required
def import_answers(request_id: int):
    """代下级导入: the export's XLSX layout filled in for units at or below the
    caller's; all or nothing, errors by row and column; ?dry_run=1 only checks."""
    data_request = access.access_request(current_user, request_id)
    answers_import.require_can_import_answers(current_user, data_request)   # 403 before the upload
    upload = request.files.get("file")
    if upload is None or not (upload.filename or "").strip():
        raise InvalidInput(_("请上传文件（multipart 字段 file，本任务导出的 XLSX）"), field="file")
    dry_run = clean_bool(request.args.get("dry_run", "0"), "dry_run", "dry_run")
    return answers_import.import_answers(current_user, data_request, upload.read(), dry_run=dry_run).as_json()


@bp.get("/data/requests/<int:request_id>/import/template")
@api_login_required
def import_template(request_id: int):
    """The export's layout for the units the caller imports for, pre-filled (audited)."""
    data_request = access.access_request(current_user, request_id)
    body = export.workbook(data_request, answers_import.template_states(current_user, data_request))
    return Response(body, mimetype=export.XLSX, headers={
        "Content-Disposition": f'attachment; filename="data-request-{data_request.id}-import.xlsx"'})


@bp.post("/data/requests/<int:request_id>/remind")
@api_login_required
def remind(request_id: int):
    """Remind the pending units' clerks, once per 4 hours (429 otherwise)."""
    return {"reminded": actions.remind_pending(current_user, _requesting(request_id))}


@bp.post("/data/requests/<int:request_id>/close")
@api_login_required
def close(request_id: int):
    return request_json(actions.close_data_request(current_user, _requesting(request_id)))


@bp.get("/data/values")
@api_login_required
def values():
    """向系统找数据: held values of a unit (?subtree=1: and below), read-only, for
    its own and its ancestors' clerks and leaders; ?period=, ?field_id=, after=<offset>."""
    args = request.args
    unit = access_unit(current_user, clean_int(args.get("unit_id"), "unit_id", _("单位")))
    if not access.can_read_unit(current_user, unit):
        raise NotAllowed(_("只有本单位及上级单位的文书、领导可以查看这些数据"), field="unit_id")
    subtree = clean_bool(args.get("subtree"), "subtree", "subtree")
    period = parse_period(args["period"]).text if args.get("period") else None
    field_id = clean_int(args.get("field_id"), "field_id", _("数据项"), required=False)
    offset = clean_int(args.get("after"), "after", "after", required=False) or 0
    if offset < 0:
        raise InvalidInput(_("after 不能为负数"), field="after")
    limit = page_limit()
    rows = queries.values_table(unit, subtree=subtree, period=period, field_id=field_id,
                                limit=limit + 1, offset=offset)
    answer = {"items": [queries.value_row(value, field, row_unit) for value, field, row_unit in rows[:limit]],
              "next": offset + limit if len(rows) > limit else None,
              "system": queries.system_rows(unit) if offset == 0 else []}
    if subtree or not access.is_own_unit(current_user, unit.id):
        actions.record_values_read(current_user, unit=unit, subtree=subtree)
    return answer


@bp.post("/data/values/import")
@api_login_required
def import_values():
    """导入数据: a CSV/XLSX of unit_code,field_code,period,value for the units one
    answers; all or nothing, errors by row; ?dry_run=1 only checks."""
    imports.require_can_import(current_user)          # 403 before looking at the upload
    upload = request.files.get("file")
    if upload is None or not (upload.filename or "").strip():
        raise InvalidInput(_("请上传文件（multipart 字段 file，CSV 或 XLSX）"), field="file")
    dry_run = clean_bool(request.args.get("dry_run", "0"), "dry_run", "dry_run")
    report = imports.import_values(current_user, upload.filename.strip(), upload.read(), dry_run=dry_run)
    return report.as_json()
