"""A data request as composed: parsed at the edge (RequestScope, RequestDraft)
and checked against the catalogue and the tree (check_scope), for the preview
and for sending alike."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hub.datarequests.access import composing_root
from hub.datarequests.audience import DataAudience
from hub.datarequests.models import (PURPOSE_MAX, REASON_MAX, TITLE_MAX, DataField, FieldKind)
from hub.datarequests.periods import Period, fits, parse_period
from hub.errors import InvalidInput, NotAllowed
from hub.extensions import db
from hub.org.models import Unit, User
from hub.times import beijing, beijing_today
from hub.validation import clean_id_list, clean_paragraphs, clean_text

FIELDS_MAX = 100


@dataclass
class RequestScope:
    """What a request asks: fields, of which units, for which period."""

    field_ids: list[int]
    audience: DataAudience
    period: Period

    @classmethod
    def from_json(cls, data: Any) -> RequestScope:
        if not isinstance(data, dict):
            raise InvalidInput(_("请求体必须是 JSON 对象"), field="body")
        field_ids = clean_id_list(data.get("fields"), "fields", limit=FIELDS_MAX)
        if not field_ids:
            raise InvalidInput(_("请选择至少一个数据项"), field="fields")
        return cls(field_ids=field_ids, audience=DataAudience.from_json(data.get("audience")),
                   period=parse_period(data.get("period")))


@dataclass
class RequestDraft:
    """A whole request as composed."""

    scope: RequestScope
    title: str
    purpose: str
    deadline: date
    overlap_reason: str | None = None
    evidence_reason: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> RequestDraft:
        if not isinstance(data, dict):
            raise InvalidInput(_("请求体必须是 JSON 对象"), field="body")
        title = clean_text(data.get("title"), "title", _("标题"), max_length=TITLE_MAX)
        purpose = clean_paragraphs(data.get("purpose"), "purpose", _("填报用途"), max_length=PURPOSE_MAX)
        scope = RequestScope.from_json(data)
        return cls(scope=scope, title=title, purpose=purpose, deadline=_deadline(data.get("deadline")),
                   overlap_reason=_reason(data.get("overlap_reason"), "overlap_reason", _("重复填报的理由")),
                   evidence_reason=_reason(data.get("evidence_reason"), "evidence_reason",
                                           _("上传材料的理由")))


def _reason(value: Any, field: str, label: str) -> str | None:
    if value in (None, ""):
        return None
    return clean_text(value, field, label, max_length=REASON_MAX)


def _deadline(value: Any) -> date:
    """A date (YYYY-MM-DD), or a time with its offset (its Beijing date); not before today."""
    parsed = None
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = date.fromisoformat(text) if len(text) == 10 else None
            if parsed is None:
                moment = datetime.fromisoformat(text)
                parsed = beijing(moment).date() if moment.tzinfo is not None else None
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidInput(_("截止日期格式应为 YYYY-MM-DD"), field="deadline")
    if parsed < beijing_today():
        raise InvalidInput(_("截止日期不能早于今天"), field="deadline")
    return parsed


@dataclass
class CheckedScope:
    """A scope whose fields and units exist, fit the period and lie within reach."""

    unit: Unit                      # the requesting unit
    fields: list[DataField]         # in the order asked
    audience: DataAudience
    period: Period

    @property
    def asked(self) -> list[DataField]:
        """The fields a unit is asked to fill (system fields are answered by Hub)."""
        return [f for f in self.fields if not f.system]


def check_scope(actor: User, unit: Unit, scope: RequestScope) -> CheckedScope:
    """The scope checked: every field exists and fits the period (a "once" field
    fits any), something is asked that Hub does not answer itself, and every
    unit exists, is active and lies within the actor's reach (403 beyond it)."""
    found = {f.id: f for f in db.session.scalars(select(DataField).where(DataField.id.in_(scope.field_ids)))}
    missing = [i for i in scope.field_ids if i not in found]
    if missing:
        raise InvalidInput(_("数据项不存在：%(ids)s", ids=", ".join(map(str, missing))), field="fields")
    fields = [found[i] for i in scope.field_ids]
    for field in fields:
        if not fits(field.period_kind, scope.period):
            raise InvalidInput(_("数据项“%(name)s”按%(kind)s填报，与期间 %(period)s 不符", name=field.name,
                                 kind=_period_kind_label(field.period_kind), period=scope.period.text),
                               field="fields")
    if all(f.system for f in fields):
        raise InvalidInput(_("所选数据项都由系统根据组织机构自动提供，无需发起填报"), field="fields")
    ids = scope.audience.unit_ids()
    units = list(db.session.scalars(select(Unit).where(Unit.id.in_(ids))))
    if len(units) != len(ids) or any(not u.active for u in units):
        raise InvalidInput(_("填报单位中有不存在或已撤销的单位"), field="audience")
    root = composing_root(actor, unit)
    if root is not None and any(not u.path.startswith(root.path) for u in units):
        raise NotAllowed(_("只能向%(unit)s及其下级单位发起填报", unit=root.name), field="audience")
    return CheckedScope(unit=unit, fields=fields, audience=scope.audience, period=scope.period)


def require_evidence_reason(checked: CheckedScope, draft: RequestDraft) -> None:
    """Asking for files (photos, scans as 留痕) needs a stated reason."""
    if any(f.kind == FieldKind.FILE for f in checked.fields) and not draft.evidence_reason:
        raise InvalidInput(_("要求上传材料的数据项须说明理由（evidence_reason）"), field="evidence_reason")


def _period_kind_label(kind: str) -> str:
    return {"month": _("月"), "quarter": _("季度"), "year": _("年"), "once": _("不分期间")}[kind]
