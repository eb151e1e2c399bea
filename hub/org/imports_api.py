"""Import API (API.md "Org tree"): POST a CSV/XLSX file as multipart `file`.

Thin: read the upload, call the import, answer with its report (200 even when
rows have errors: the report lists them and nothing was applied).
"""
from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from hub.api import api_login_required
from hub.errors import InvalidInput
from hub.extensions import csrf
from hub.org import imports
from hub.permissions import require_any_admin
from hub.validation import clean_bool

bp = Blueprint("org_imports_api", __name__)
csrf.exempt(bp)


def _upload() -> tuple[str, bytes]:
    """The uploaded file's name and bytes; 400 on the field "file" when missing."""
    upload = request.files.get("file")
    if upload is None or not (upload.filename or "").strip():
        raise InvalidInput(_("请上传文件（multipart 字段 file，CSV 或 XLSX）"), field="file")
    return upload.filename.strip(), upload.read()


def _dry_run() -> bool:
    return clean_bool(request.args.get("dry_run", "0"), "dry_run", "dry_run")


@bp.post("/units/import")
@api_login_required
def import_units():
    """导入单位: columns code,name,parent_code[,kind]; ?dry_run=1 only checks."""
    require_any_admin(current_user)          # 403 before looking at the upload
    filename, data = _upload()
    return imports.import_units(current_user, filename, data, dry_run=_dry_run()).as_json()


@bp.post("/people/import")
@api_login_required
def import_people():
    """导入人员: columns login,name,unit_code,position[,password][,roles]; ?dry_run=1 only checks."""
    require_any_admin(current_user)
    filename, data = _upload()
    return imports.import_people(current_user, filename, data, dry_run=_dry_run()).as_json()
