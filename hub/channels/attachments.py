"""Attachments: type checked from content, stored outside the web root under
random names, and served only after the reader's access is checked again."""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import unicodedata
import zipfile
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from hub.channels.access import access_message
from hub.channels.models import Attachment
from hub.errors import InvalidInput, NotFound, TooLarge, not_found
from hub.extensions import db
from hub.org.models import User
from hub.validation import BIDI_CONTROLS

# extension -> content type; the content must match what the extension claims.
KINDS = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "gif": "image/gif", "txt": "text/plain", "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ofd": "application/ofd",
}
_ZIP_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
MAX_RATIO = 100                  # a zip that expands more than this is treated as a bomb


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_filename(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    # Control characters, lone surrogates and bidi overrides (which can make
    # "x\u202etxt.exe" read as "xexe.txt") are dropped.
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cs") and c not in BIDI_CONTROLS)
    return name[-200:] or "附件"


def sniff(extension: str, data: bytes) -> str | None:
    """The content type if `data` really is an `extension` file, else None."""
    if extension == "pdf":
        ok = data.startswith(b"%PDF-")
    elif extension == "png":
        ok = data.startswith(b"\x89PNG\r\n\x1a\n")
    elif extension in ("jpg", "jpeg"):
        ok = data.startswith(b"\xff\xd8\xff")
    elif extension == "gif":
        ok = data[:6] in (b"GIF87a", b"GIF89a")
    elif extension in ("doc", "xls"):
        ok = data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    elif extension in ("txt", "csv"):
        ok = _is_text(data)
    elif extension in ("docx", "xlsx", "pptx", "ofd"):
        ok = _is_office_zip(extension, data)
    else:
        ok = False
    return KINDS[extension] if ok else None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    head = data[:4096].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml")):
        return False                  # markup pretending to be text
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            return False
    return True


def _is_office_zip(extension: str, data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            expanded = sum(i.file_size for i in infos)
            if len(infos) > 10_000 or expanded > max(len(data), 1) * MAX_RATIO \
                    or expanded > current_app.config["ATTACHMENT_MAX_BYTES"] * 10:
                return False
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    if extension == "ofd":
        return "OFD.xml" in names
    return "[Content_Types].xml" in names and any(n.startswith(_ZIP_PARTS[extension]) for n in names)


def store_attachment(uploader: User, filename: str, data: bytes) -> Attachment:
    """上传附件: checked, written under a random name, not yet on a message."""
    filename = clean_filename(filename)
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if len(data) > limit:
        raise TooLarge(_("附件不能超过 %(megabytes)s MB", megabytes=limit // (1024 * 1024)), field="file")
    if not data:
        raise InvalidInput(_("附件是空文件"), field="file")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in KINDS:
        allowed = "、".join(sorted(KINDS))
        raise InvalidInput(_("不支持的附件类型，可上传：%(choices)s", choices=allowed), field="file")
    content_type = sniff(extension, data)
    if content_type is None:
        raise InvalidInput(_("文件内容与扩展名 .%(extension)s 不符，已拒绝", extension=extension),
                           field="file")
    storage_name = secrets.token_hex(16)
    path = _folder() / storage_name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError:
        path.unlink(missing_ok=True)       # a full disk leaves no half-written file behind
        raise
    attachment = Attachment(uploader_id=uploader.id, filename=filename, content_type=content_type,
                            size=len(data), storage_name=storage_name,
                            sha256=hashlib.sha256(data).hexdigest())
    db.session.add(attachment)
    db.session.commit()
    return attachment


def _notice_ids(attachment_id: int) -> list[int]:
    from hub.notices.models import NoticeAttachment     # notices build on channels, not the reverse
    return list(db.session.scalars(select(NoticeAttachment.notice_id)
                                   .where(NoticeAttachment.attachment_id == attachment_id)))


def _document_ids(attachment_id: int) -> list[int]:
    from hub.documents.models import DocumentFile       # documents build on channels, not the reverse
    return list(db.session.scalars(select(DocumentFile.document_id)
                                   .where(DocumentFile.attachment_id == attachment_id)))


def is_unused(attachment: Attachment) -> bool:
    """On no message, notice or document yet: its uploader may still attach it."""
    return attachment.message_id is None and not _notice_ids(attachment.id) \
        and not _document_ids(attachment.id)


def access_attachment(user: User, attachment_id: int) -> tuple[Attachment, Path]:
    """The attachment and its file, if `user` may read it: its uploader before it
    is sent; afterwards whoever can read its message, or one of the notices that
    carry it (a correction keeps the files of the version it replaces), or the
    document it is the body or an attachment of. 404 otherwise."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise not_found("attachment")
    if attachment.message_id is not None:
        try:
            message = access_message(user, attachment.message_id)
        except NotFound:
            raise not_found("attachment") from None         # an attachment's 404 speaks of attachments
        if message.withdrawn_at is not None:
            raise not_found("attachment")
    elif notice_ids := _notice_ids(attachment.id):
        if not any(_may_open_notice(user, notice_id) for notice_id in notice_ids):
            raise not_found("attachment")
    elif document_ids := _document_ids(attachment.id):
        if not any(_may_open_document(user, document_id) for document_id in document_ids):
            raise not_found("attachment")
    elif attachment.uploader_id != user.id:
        raise not_found("attachment")
    return attachment, _folder() / attachment.storage_name


def _may_open_notice(user: User, notice_id: int) -> bool:
    from hub.notices.queries import access_notice
    try:
        access_notice(user, notice_id)
    except NotFound:
        return False
    return True


def _may_open_document(user: User, document_id: int) -> bool:
    from hub.documents.queries import access_document
    try:
        access_document(user, document_id)
    except NotFound:
        return False
    return True
