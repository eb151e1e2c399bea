"""Who may open an uploaded file: the registry of the domains that carry files
(messages, notices, documents), and access_attachment, which asks them.

Domains register their holder (register_file_holder) in their register(), the
way they add socket rooms: this module imports none of them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import exists, true

from hub.errors import not_found
from hub.extensions import db
from hub.files.models import Attachment, files_folder
from hub.org.models import User


@dataclass(frozen=True)
class FileHolder:
    """A domain whose objects carry uploaded files: an SQL condition on
    Attachment true when one of its objects carries the file, the ids of its
    objects carrying a file, and whether a person may open one of them."""

    kind: str
    carrying: Any                                     # e.g. linked_by(NoticeAttachment.attachment_id)
    holders: Callable[[int], list[int]]               # attachment id -> ids of the objects
    may_open: Callable[[User, int], bool]             # person, object id -> may open it


FILE_HOLDERS: dict[str, FileHolder] = {}


def register_file_holder(holder: FileHolder) -> None:
    FILE_HOLDERS[holder.kind] = holder


def linked_by(link_column) -> Any:
    """The `carrying` condition of a holder with a link table: a row of it names the file."""
    return exists().where(link_column == Attachment.id)


def unattached():
    """SQL condition: an attachment that no registered holder's object carries."""
    condition = true()
    for holder in FILE_HOLDERS.values():
        condition = condition & ~holder.carrying
    return condition


def is_unused(attachment: Attachment) -> bool:
    """On no message, notice or document yet: its uploader may still attach it."""
    return not any(holder.holders(attachment.id) for holder in FILE_HOLDERS.values())


def access_attachment(user: User, attachment_id: int) -> tuple[Attachment, Path]:
    """The attachment and its file, if `user` may read it: its uploader before it
    is sent; afterwards whoever may open one of the objects that carry it (the
    holder decides: whoever can read its message, unless withdrawn; one of the
    notices that carry it, since a correction keeps the files of the version it
    replaces; the document it is the body or an attachment of). 404 otherwise."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise not_found("attachment")
    if carried := _carried_by(attachment.id):
        holder, ids = carried
        if not any(holder.may_open(user, object_id) for object_id in ids):
            raise not_found("attachment")       # an attachment's 404 speaks of attachments
    elif attachment.uploader_id != user.id:
        raise not_found("attachment")
    return attachment, files_folder() / attachment.storage_name


def _carried_by(attachment_id: int) -> tuple[FileHolder, list[int]] | None:
    """The first registered holder whose objects carry the attachment, and their ids."""
    for holder in FILE_HOLDERS.values():
        ids = holder.holders(attachment_id)
        if ids:
            return holder, ids
    return None
