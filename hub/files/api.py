"""Uploading and downloading files: POST /api/v1/attachments, then the id goes
with a message, notice or document; GET /api/v1/attachments/<id>. Thin."""
from __future__ import annotations

from flask import Blueprint, current_app, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required
from hub.errors import InvalidInput
from hub.extensions import csrf
from hub.files.access import access_attachment
from hub.files.storage import store_attachment

bp = Blueprint("files_api", __name__)
csrf.exempt(bp)


@bp.post("/attachments")
@api_login_required
def upload_attachment():
    """Upload a file first; then send its id in a message's attachment_ids."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput(_("请选择要上传的文件（表单字段 file）"), field="file")
    data = upload.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1)
    attachment = store_attachment(current_user, upload.filename or "", data)
    return {"id": attachment.id, "filename": attachment.filename, "size": attachment.size,
            "content_type": attachment.content_type}, 201


@bp.get("/attachments/<int:attachment_id>")
@api_login_required
def download_attachment(attachment_id: int):
    """Always a download (never rendered inline), re-authorized on every fetch."""
    attachment, path = access_attachment(current_user, attachment_id)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
