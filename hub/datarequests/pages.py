"""What the data request pages need beyond queries.py: the compose form as
typed (re-rendered exactly on a refusal or a 查找), the answer form's values as
posted, and the labels the pages show. The rules stay in actions and access;
the server checks them again when a form is posted."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import or_, select
from werkzeug.datastructures import FileStorage, MultiDict

from hub.datarequests import queries
from hub.datarequests.access import composing_unit, role_units
from hub.datarequests.drafts import RequestScope, check_scope
from hub.datarequests.models import DataField, DataRequest, FieldKind
from hub.datarequests.periods import period_label
from hub.errors import HubError, NotAllowed
from hub.extensions import db
from hub.forms import form_ids, store_uploads
from hub.org.models import Unit, User

KIND_LABELS = {FieldKind.INTEGER: lazy_gettext("整数"), FieldKind.NUMBER: lazy_gettext("数值"),
               FieldKind.TEXT: lazy_gettext("文字"), FieldKind.DATE: lazy_gettext("日期"),
               FieldKind.CHOICE: lazy_gettext("选择"), FieldKind.FILE: lazy_gettext("文件")}
PERIOD_KIND_LABELS = {"month": lazy_gettext("按月"), "quarter": lazy_gettext("按季度"),
                      "year": lazy_gettext("按年"), "once": lazy_gettext("不分期间")}
STATUS_LABELS = {"pending": lazy_gettext("待填报"), "submitted": lazy_gettext("已填报"),
                 "complete": lazy_gettext("已有数据")}
SENT_PAGE = 50
COMPLETE_NAMES = 12             # units named in the check as "will not be asked"; the rest are counted
# Where a refusal's field is on the compose page: the id its "去修改" link goes to.
COMPOSE_ANCHORS = {"title": "d-title", "purpose": "d-purpose", "period": "d-period", "deadline": "d-deadline",
                   "fields": "d-field-list", "audience": "d-unit-list", "audience.units": "d-unit-list",
                   "audience.subtrees": "d-unit-list", "overlap_reason": "d-overlap",
                   "evidence_reason": "d-evidence", "name": "nf-name", "kind": "nf-kind",
                   "period_kind": "nf-period", "unit_of_measure": "nf-unit", "choices": "nf-choices"}


def script_labels() -> dict[str, dict[str, str]]:
    """The kind and period-kind labels, in the page's language, for the compose page's script."""
    return {"kinds": {str(k): str(v) for k, v in KIND_LABELS.items()},
            "period_kinds": {str(k): str(v) for k, v in PERIOD_KIND_LABELS.items()},
            "system": str(lazy_gettext("系统提供"))}


def can_compose(user: User) -> bool:
    try:
        composing_unit(user)
    except NotAllowed:
        return False
    return True


@dataclass
class ComposeForm:
    """The compose form as typed, with the new-field mini form beside it."""

    title: str = ""
    purpose: str = ""
    period: str = ""
    deadline: str = ""
    overlap_reason: str = ""
    evidence_reason: str = ""
    field_ids: list[int] = field(default_factory=list)
    unit_ids: list[int] = field(default_factory=list)
    subtree_ids: list[int] = field(default_factory=list)
    field_q: str = ""
    unit_q: str = ""
    new_field: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: MultiDict) -> ComposeForm:
        subtrees = form_ids(form, "subtree_ids")
        choices = [line.strip() for line in form.get("nf_choices", "").splitlines() if line.strip()]
        return cls(title=form.get("title", ""), purpose=form.get("purpose", "").replace("\r\n", "\n"),
                   period=form.get("period", "").strip(), deadline=form.get("deadline", "").strip(),
                   overlap_reason=form.get("overlap_reason", ""),
                   evidence_reason=form.get("evidence_reason", ""), field_ids=form_ids(form, "field_ids"),
                   unit_ids=[i for i in form_ids(form, "unit_ids") if i not in subtrees],
                   subtree_ids=subtrees,
                   field_q=form.get("field_q", "").strip()[:100], unit_q=form.get("unit_q", "").strip()[:100],
                   new_field={"name": form.get("nf_name", ""), "kind": form.get("nf_kind", ""),
                              "period_kind": form.get("nf_period_kind", ""),
                              "unit_of_measure": form.get("nf_unit", "") or None,
                              "choices": choices or None})

    def scope_json(self) -> dict[str, Any]:
        return {"fields": self.field_ids, "period": self.period,
                "audience": {"subtrees": self.subtree_ids, "units": self.unit_ids}}

    def draft_json(self) -> dict[str, Any]:
        return {**self.scope_json(), "title": self.title, "purpose": self.purpose, "deadline": self.deadline,
                "overlap_reason": self.overlap_reason, "evidence_reason": self.evidence_reason}


def fields_by_id(ids: list[int]) -> list[DataField]:
    if not ids:
        return []
    found = {f.id: f for f in db.session.scalars(select(DataField).where(DataField.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def posted_values(form: MultiDict, files: dict[str, FileStorage], fields: list[DataField],
                  author: User) -> dict[str, Any]:
    """The answer form's values as the API takes them ({"<field id>": value}):
    text as typed (a textarea's CRLF as LF), a new file stored first; an empty
    box is no answer, so the field keeps what it holds."""
    values: dict[str, Any] = {}
    for item in fields:
        if item.system:
            continue
        name = f"v-{item.id}"
        if item.kind == FieldKind.FILE:
            upload = files.get(name)
            if upload is not None and upload.filename:
                values[str(item.id)] = store_uploads(author, [upload])[0].id
            continue
        raw = form.get(name)
        if raw is None:
            continue
        values[str(item.id)] = raw.replace("\r\n", "\n") if item.kind == FieldKind.TEXT else raw
    return values


def sent_requests(user: User, *, limit: int = SENT_PAGE) -> list[DataRequest]:
    """Requests the person follows up: theirs, and their units' (as clerk or leader), newest first."""
    unit_ids = [u.id for u in role_units(user)]
    query = select(DataRequest).where(or_(DataRequest.author_id == user.id,
                                          DataRequest.unit_id.in_(unit_ids)))
    return list(db.session.scalars(query.order_by(DataRequest.created_at.desc(), DataRequest.id.desc())
                                   .limit(limit)))


STATUS_OPEN_UNITS = 30          # a status of up to this many units opens whole; a larger one by its top rows


def status_tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The status rows (in tree order, with depth) nested: each row with the rows
    of its subtree as `children`, for the page's expandable status."""
    top: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for row in rows:
        node = {**row, "children": []}
        while stack and stack[-1]["depth"] >= row["depth"]:
            stack.pop()
        (stack[-1]["children"] if stack else top).append(node)
        stack.append(node)
    return top


def source_titles(answer: dict[str, Any]) -> dict[int, str]:
    """The titles of the requests the form's held values came through."""
    ids = {f["source"]["request_id"] for f in answer["fields"]
           if f.get("source") and f["source"]["request_id"]}
    if not ids:
        return {}
    rows = db.session.execute(select(DataRequest.id, DataRequest.title).where(DataRequest.id.in_(ids)))
    return dict(rows.all())


def preview_of(user: User, scope_json: Any) -> tuple[dict | None, HubError | None]:
    """The compose page's check of what is held and what overlaps, or why it
    cannot be made; with the first few units that will not be asked, by name."""
    try:
        scope = check_scope(user, composing_unit(user), RequestScope.from_json(scope_json))
        shown = queries.preview(scope)
    except HubError as problem:
        return None, problem
    shown["complete_names"] = []
    if shown["complete_units"]:
        asked = queries.asked_fields(scope.fields, scope.period)
        needed = len([a for a in asked if not a.field.system])
        complete = [unit_id for unit_id, held in queries.held_per_unit(scope.audience, asked).items()
                    if held >= needed]
        shown["complete_names"] = list(db.session.scalars(
            select(Unit.name).where(Unit.id.in_(complete)).order_by(Unit.path).limit(COMPLETE_NAMES)))
    return shown, None


def period_suggestions(today: date) -> list[tuple[str, str]]:
    """Periods a request most often asks, for the compose page's period box:
    last year, this year, last and this quarter, last and this month, once."""
    quarter = (today.month - 1) // 3 + 1
    month = today.year * 12 + today.month - 1
    last_quarter = f"{today.year - 1}-Q4" if quarter == 1 else f"{today.year}-Q{quarter - 1}"
    values = [str(today.year - 1), str(today.year), last_quarter, f"{today.year}-Q{quarter}",
              f"{(month - 1) // 12}-{(month - 1) % 12 + 1:02d}", f"{today.year}-{today.month:02d}", "once"]
    return [(value, period_label(value)) for value in values]
