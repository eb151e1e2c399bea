"""JSON shapes of notices and inbox items (API.md "Notices and the inbox")."""
from __future__ import annotations

from typing import Any

from hub.notices.models import Notice


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def inbox_item(notice: Notice, *, read: bool, acked: bool = False,
               corrected_after_read: bool = False) -> dict[str, Any]:
    return {
        "kind": "notice", "id": notice.id, "title": notice.title, "summary": notice.summary,
        "from": {"unit_id": notice.unit_id, "unit_name": notice.unit.name if notice.unit else None,
                 "user_id": notice.author_id, "name": notice.author.name if notice.author else None},
        "at": _iso(notice.publish_at), "read": read,
        "urgent": notice.is_urgent, "urgent_reason": notice.urgent_reason,
        "requires_ack": notice.requires_ack, "acked": acked,
        "deadline": _iso(notice.deadline),
        "revoked": notice.revoked_at is not None, "revoke_note": notice.revoke_note,
        "version": notice.version, "corrected": corrected_after_read,
    }


def notice_json(notice: Notice, *, read: bool = True, acked: bool = False,
                corrected_after_read: bool = False) -> dict[str, Any]:
    data = inbox_item(notice, read=read, acked=acked, corrected_after_read=corrected_after_read)
    data.update({"body": notice.body, "html": notice.html, "corrects_id": notice.corrects_id,
                 "superseded_by_id": notice.superseded_by_id, "after_hours": notice.after_hours,
                 "created_at": _iso(notice.created_at),
                 "attachments": [{"id": a.id, "filename": a.filename, "size": a.size,
                                  "content_type": a.content_type} for a in notice.attachments]})
    return data
