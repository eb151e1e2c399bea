"""The uploaded file (附件): one row per upload, the file itself on disk."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.extensions import db


class Attachment(db.Model):
    """A file kept outside the web root under a random name; served only after
    the reader's access to what carries it is checked (hub/files/access.py)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The message carrying it, once sent: channels keep their link in this
    # table (notices and documents have link tables of their own). Channels
    # register the holder that reads it; Message.attachments is the other side.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def files_folder() -> Path:
    """<instance>/attachments, created if missing: every attachment's file is
    there under its storage_name."""
    folder = Path(current_app.instance_path) / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
