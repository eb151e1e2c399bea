"""What the HTML forms of several domains share: ids typed into forms, files
uploaded with a form and kept across its re-renders, people in a picker."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from hub.extensions import db
from hub.files.models import Attachment
from hub.files.storage import store_attachment
from hub.org.models import User
from hub.validation import ID_MAX, as_id  # noqa: F401  (the pages' forms read them here)

def form_ids(form: MultiDict, name: str) -> list[int]:
    """The ids under `name`, duplicates and junk dropped, order kept."""
    return list(dict.fromkeys(i for i in (as_id(v) for v in form.getlist(name)) if i is not None))


def store_uploads(author: User, files: Iterable[FileStorage]) -> list[Attachment]:
    """Store the files chosen on a form (checked by content); the form keeps
    their ids, so that a refusal or a 查找 does not ask for them again."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    return [store_attachment(author, upload.filename, upload.read(limit + 1))
            for upload in files if upload and upload.filename]


def attachable(author: User, attachment_ids: list[int], carried: set[int]) -> list[Attachment]:
    """The files listed on a form that may go with it, in order: the author's
    own uploads, and those the record being edited already carries."""
    if not attachment_ids:
        return []
    found = {a.id: a for a in db.session.scalars(select(Attachment).where(Attachment.id.in_(attachment_ids)))}
    return [found[i] for i in attachment_ids
            if i in found and (i in carried or found[i].uploader_id == author.id)]


def person_choices(people: list[User]) -> list[dict[str, Any]]:
    """Active people for a picker, each with their unit and position."""
    def where(p: User) -> str:
        m = p.primary_membership
        return f"{m.unit.name} {m.position or ''}".strip() if m else ""
    return [{"id": p.id, "name": p.name, "where": where(p)} for p in people if p.active]
