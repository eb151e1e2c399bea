"""JSON shapes of fields, requests, forms and inbox items (API.md "Data requests")."""
from __future__ import annotations

from typing import Any

from hub.datarequests.audience import audience_of
from hub.datarequests.models import DataField, DataRequest
from hub.datarequests.periods import period_label


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def field_json(field: DataField) -> dict[str, Any]:
    return {"id": field.id, "code": field.code, "name": field.name, "kind": field.kind,
            "unit_of_measure": field.unit_of_measure, "choices": field.choices,
            "period_kind": field.period_kind, "system": field.system,
            "owner_unit_id": field.owner_unit_id,
            "owner_unit_name": field.owner_unit.name if field.owner_unit else None}


def request_json(request: DataRequest) -> dict[str, Any]:
    return {"id": request.id, "title": request.title, "purpose": request.purpose,
            "period": request.period, "period_label": period_label(request.period),
            "deadline": _iso(request.deadline),
            "from": {"unit_id": request.unit_id, "unit_name": request.unit.name,
                     "user_id": request.author_id, "name": request.author.name},
            "fields": [field_json(link.field) for link in request.fields],
            "audience": audience_of(request.audience).as_json(),
            "overlap_reason": request.overlap_reason, "evidence_reason": request.evidence_reason,
            "created_at": _iso(request.created_at), "closed": request.closed_at is not None,
            "closed_at": _iso(request.closed_at)}


def inbox_item(request: DataRequest, *, read: bool, units: list[dict[str, Any]]) -> dict[str, Any]:
    """An inbox item (kind "data_request"): unread while one of the person's units
    still has to answer; `units` are those units with their status."""
    summary = " · ".join([period_label(request.period), request.deadline.isoformat()]
                         + [u["name"] for u in units if u["status"] == "pending"])
    return {"kind": "data_request", "id": request.id, "title": request.title, "summary": summary,
            "from": {"unit_id": request.unit_id, "unit_name": request.unit.name,
                     "user_id": request.author_id, "name": request.author.name},
            "at": _iso(request.created_at), "read": read, "period": request.period,
            "deadline": _iso(request.deadline), "unit_id": units[0]["unit_id"] if units else None,
            "units": units, "closed": request.closed_at is not None}


def source_json(value_row, *, via: str | None = None) -> dict[str, Any] | None:
    """Where a held value came from: the request, the period and when (and by
    which way: form, import or system)."""
    if value_row is None:
        return None
    return {"request_id": value_row.request_id, "period": value_row.period, "at": _iso(value_row.entered_at),
            "via": via or value_row.source, "version": value_row.version}
