"""意见箱: a suggestion box that reaches the platform's operators (DESIGN.md
principle 8, "feedback flows up").

A suggestion stores what was written, the day (not the time) and, only if the
person chose to leave one, a way to reach them. It never stores who wrote it:
no user id, no exact time that could be matched against the access log, and no
audit entry naming the writer.
"""
from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hub.errors import InvalidInput, NotAllowed
from hub.extensions import db
from hub.notices.models import CONTACT_MAX, SUGGESTION_MAX, Suggestion
from hub.org.models import User
from hub.validation import clean_text

LIST_MAX = 200


def _clean_body(value: Any) -> str:
    """Several lines of text, exactly as written (line breaks and tabs kept;
    other control characters refused), 1–2000 characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(_("请填写意见内容"), field="body")
    value = value.strip().replace("\r\n", "\n")
    if len(value) > SUGGESTION_MAX:
        raise InvalidInput(_("意见内容不能超过 %(limit)s 个字符（现为 %(length)s 个）",
                             limit=SUGGESTION_MAX, length=len(value)), field="body")
    for char in value:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in "\n\t") or category == "Cs":
            raise InvalidInput(_("意见内容包含无法显示的字符"), field="body")
    return value


def submit_suggestion(writer: User, body: Any, contact: Any = None) -> Suggestion:
    """提交意见: anyone signed in. Stores the text, the day and the optional
    contact — never the writer (`writer` is taken only to make the caller prove
    they are signed in). Emits nothing."""
    suggestion = Suggestion(body=_clean_body(body),
                            contact=clean_text(contact, "contact", _("联系方式"),
                                               max_length=CONTACT_MAX, required=False) or None)
    db.session.add(suggestion)
    db.session.commit()
    return suggestion


def require_can_read_suggestions(user: User) -> None:
    """The box reaches the platform's operators: system admins only."""
    if not user.is_admin:
        raise NotAllowed(_("只有系统管理员可以查看意见箱"))


def received_suggestions(user: User, *, limit: int = LIST_MAX,
                         before: int | None = None) -> list[Suggestion]:
    """The suggestions, newest first (system admins; 403 otherwise)."""
    require_can_read_suggestions(user)
    query = select(Suggestion)
    if before is not None:
        query = query.where(Suggestion.id < before)
    return list(db.session.scalars(query.order_by(Suggestion.id.desc()).limit(limit)))


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    return {"id": suggestion.id, "body": suggestion.body,
            "created_on": suggestion.created_on.isoformat(), "contact": suggestion.contact}
