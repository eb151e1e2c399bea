"""Storing uploads: the type checked from the content, the file written under a
random name outside the web root, a per-person quota on files not yet attached
to anything, a free-space floor, and the job that removes unattached uploads."""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import shutil
import time
import unicodedata
import zipfile
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from hub.db import utcnow
from hub.errors import InvalidInput, OverQuota, StorageFull, TooLarge
from hub.extensions import db
from hub.files.access import unattached
from hub.files.models import Attachment, files_folder
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
REMOVE_BATCH = 500               # unattached uploads removed per transaction by the job
log = logging.getLogger(__name__)


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
    _check_quota(uploader, len(data))
    folder = files_folder()
    _check_free_space(folder, len(data))
    storage_name = secrets.token_hex(16)
    path = folder / storage_name
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


def _check_quota(uploader: User, size: int) -> None:
    """413 over_quota when this upload would take the person's files not yet
    attached to anything past HUB_UPLOAD_QUOTA_FILES or HUB_UPLOAD_QUOTA_MB."""
    config = current_app.config
    files, stored = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Attachment.size), 0))
        .where(Attachment.uploader_id == uploader.id, unattached())).one()
    if files + 1 > config["UPLOAD_QUOTA_FILES"]:
        raise OverQuota(_("您已上传 %(count)s 个尚未使用的文件，达到上限；请先发送或等待一天后自动清理",
                          count=files), field="file")
    if stored + size > config["UPLOAD_QUOTA_BYTES"]:
        megabytes = config["UPLOAD_QUOTA_BYTES"] // (1024 * 1024)
        raise OverQuota(_("尚未使用的文件合计不能超过 %(megabytes)s MB；请先发送或等待一天后自动清理",
                          megabytes=megabytes), field="file")


def _check_free_space(folder: Path, size: int) -> None:
    """507 storage_full when writing `size` bytes would leave less free space
    than HUB_STORAGE_MIN_FREE_MB where uploads are stored: refused while the
    database and the other files still have room, not once the disk is full."""
    floor = current_app.config["STORAGE_MIN_FREE_BYTES"]
    if floor > 0 and shutil.disk_usage(folder).free - size < floor:
        log.error("upload refused: less than %s MB would be left free in %s", floor // (1024 * 1024), folder)
        raise StorageFull(_("服务器存储空间不足，暂时无法上传文件，请联系管理员"), field="file")


def remove_unattached_uploads() -> int:
    """清理未使用的上传文件 (a job): the files uploaded more than
    HUB_UNATTACHED_UPLOAD_HOURS ago that are still on no message, notice or
    document — the row and the file. Each row is removed by a conditional
    DELETE that rechecks "unattached" (a message's attach updates the same row,
    so one of the two waits for the other and the loser changes nothing: a 409
    for the sender, or no removal); a notice or document attaching it locks the
    row first (SELECT ... FOR UPDATE), so the DELETE waits and then fails on the
    foreign key, and the file is kept — or the attach finds it gone (400). Files
    are unlinked only after the commit; files on disk with no row (a crash
    between the two) are removed once they are as old. Returns the number removed."""
    cutoff = utcnow() - timedelta(hours=current_app.config["UNATTACHED_UPLOAD_HOURS"])
    folder = files_folder()
    removed = 0
    while True:
        candidates = db.session.execute(
            select(Attachment.id, Attachment.storage_name)
            .where(Attachment.created_at < cutoff, unattached())
            .order_by(Attachment.id).limit(REMOVE_BATCH)).all()
        db.session.rollback()
        gone = []
        for attachment_id, storage_name in candidates:
            try:
                result = db.session.execute(delete(Attachment).where(
                    Attachment.id == attachment_id, Attachment.created_at < cutoff, unattached()))
                db.session.commit()
            except IntegrityError:            # attached to a notice or document meanwhile: kept
                db.session.rollback()
                continue
            if result.rowcount == 1:
                gone.append(storage_name)
        for storage_name in gone:
            (folder / storage_name).unlink(missing_ok=True)
        removed += len(gone)
        if len(candidates) < REMOVE_BATCH:
            break
    return removed + _remove_orphan_files(folder, cutoff)


def _remove_orphan_files(folder: Path, cutoff) -> int:
    """Files in the uploads folder older than the cutoff that no row names."""
    oldest = time.time() - (utcnow() - cutoff).total_seconds()
    names = [entry.name for entry in os.scandir(folder)
             if entry.is_file() and entry.stat().st_mtime < oldest]
    removed = 0
    for start in range(0, len(names), REMOVE_BATCH):
        chunk = names[start:start + REMOVE_BATCH]
        known = set(db.session.scalars(select(Attachment.storage_name)
                                       .where(Attachment.storage_name.in_(chunk))))
        for name in chunk:
            if name not in known:
                (folder / name).unlink(missing_ok=True)
                removed += 1
    db.session.rollback()
    return removed
