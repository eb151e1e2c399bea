"""The shared catalogue (数据目录): searching it, and finding fields with
similar names before a new one is added ("常住人口数" finds "常住人口"), so a
figure is defined once and asked once."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from hub.datarequests.models import (CHOICE_MAX, CHOICES_MAX, CODE_MAX, NAME_MAX, UNIT_OF_MEASURE_MAX,
                                     DataField, FieldKind, PeriodKind)
from hub.errors import InvalidInput
from hub.extensions import db
from hub.validation import clean_code, clean_text

SIMILAR_MAX = 10
SIMILAR_AT = 0.5                 # Dice coefficient of character bigrams
TERM_MAX = 100


@dataclass
class FieldDraft:
    """A catalogue field as proposed, checked at the edge."""

    name: str
    kind: str
    period_kind: str
    unit_of_measure: str | None = None
    choices: list[str] | None = None
    code: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> FieldDraft:
        if not isinstance(data, dict):
            raise InvalidInput(_("请求体必须是 JSON 对象"), field="body")
        name = clean_text(data.get("name"), "name", _("数据项名称"), max_length=NAME_MAX)
        kind = data.get("kind")
        if kind not in FieldKind.__members__.values():
            raise InvalidInput(_("kind 应为 %(choices)s 之一", choices="、".join(FieldKind)), field="kind")
        period_kind = data.get("period_kind")
        if period_kind not in PeriodKind.__members__.values():
            raise InvalidInput(_("period_kind 应为 %(choices)s 之一", choices="、".join(PeriodKind)),
                               field="period_kind")
        unit = data.get("unit_of_measure")
        if unit not in (None, ""):
            if kind not in (FieldKind.INTEGER, FieldKind.NUMBER):
                raise InvalidInput(_("只有整数和数值类数据项有计量单位"), field="unit_of_measure")
            unit = clean_text(unit, "unit_of_measure", _("计量单位"), max_length=UNIT_OF_MEASURE_MAX)
        code = data.get("code")
        if code not in (None, ""):
            code = clean_code(code, "code", _("数据项编码"), max_length=CODE_MAX)
            if code.startswith("sys."):
                raise InvalidInput(_("以 sys. 开头的编码留给系统数据项"), field="code")
        return cls(name=name, kind=kind, period_kind=period_kind, unit_of_measure=unit or None,
                   choices=_choices(kind, data.get("choices")), code=code or None)


def _choices(kind: str, value: Any) -> list[str] | None:
    if kind != FieldKind.CHOICE:
        if value not in (None, []):
            raise InvalidInput(_("只有选择类数据项有选项"), field="choices")
        return None
    if not isinstance(value, list) or not 2 <= len(value) <= CHOICES_MAX:
        raise InvalidInput(_("选择类数据项须有 2 到 %(limit)s 个选项", limit=CHOICES_MAX), field="choices")
    choices = [clean_text(item, "choices", _("选项"), max_length=CHOICE_MAX) for item in value]
    if len(set(choices)) != len(choices):
        raise InvalidInput(_("选项不能重复"), field="choices")
    return choices


def normalize(name: str) -> str:
    """A name as compared: full-width folded (NFKC), lower-case, without spaces,
    punctuation or symbols ("常住人口（人）" → "常住人口人")."""
    folded = unicodedata.normalize("NFKC", name).lower()
    return "".join(c for c in folded if unicodedata.category(c)[0] not in "PZSC")


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def similarity(a: str, b: str) -> float:
    """1.0 when one normalized name holds the other (two characters or more), else
    the Dice coefficient of their character bigrams."""
    x, y = normalize(a), normalize(b)
    if not x or not y:
        return 0.0
    if x == y or (min(len(x), len(y)) >= 2 and (x in y or y in x)):
        return 1.0
    bx, by = _bigrams(x), _bigrams(y)
    return 2 * len(bx & by) / (len(bx) + len(by))


def similar_fields(name: str, *, exclude_id: int | None = None) -> list[DataField]:
    """Catalogue fields whose names are like `name`, the most alike first.
    Names are compared in Python: a catalogue has thousands of fields, not millions."""
    found = []
    for field_id, other in db.session.execute(select(DataField.id, DataField.name)):
        if field_id != exclude_id:
            score = similarity(name, other)
            if score >= SIMILAR_AT:
                found.append((-score, field_id))
    ids = [field_id for _score, field_id in sorted(found)[:SIMILAR_MAX]]
    fields = {f.id: f for f in db.session.scalars(select(DataField).where(DataField.id.in_(ids)))}
    return [fields[i] for i in ids]


def search_fields(term: str | None, *, limit: int, after: int | None = None) -> list[DataField]:
    """The catalogue in the order fields were added (after=<id> pages it);
    `term` matches a substring of the name or the code."""
    query = select(DataField)
    if term:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(DataField.name.like(pattern, escape="\\"),
                                DataField.code.ilike(pattern, escape="\\")))
    if after:
        query = query.where(DataField.id > after)
    return list(db.session.scalars(query.order_by(DataField.id).limit(limit)))
