"""Admin import page: upload units or people (CSV/XLSX), see the report, apply.

A dry run that found no errors keeps the uploaded bytes in the instance folder
under a random token (instance/uploads/<token>.csv); the token is remembered in
the uploader's session, so the apply step never takes a path or a file name from
the browser, and another person cannot apply someone else's upload. The file is
deleted once applied.

The report is rendered as the answer to the POST rather than redirected to:
it can hold thousands of row errors, too many for a flash or the session cookie,
and re-sending a dry run changes nothing.
"""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.admin.views import bp
from hub.errors import HubError, InvalidInput, form_errors
from hub.org import imports
from hub.org.models import ROLE_LABELS
from hub.permissions import grantable_roles, require_any_admin

IMPORTERS = {"units": imports.import_units, "people": imports.import_people}
EXTENSIONS = (".csv", ".xlsx")
PENDING_KEY = "pending_import"
STALE_SECONDS = 24 * 3600
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
ERRORS_SHOWN = 500


def _uploads() -> Path:
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep_upload(kind: str, filename: str, data: bytes) -> str:
    """Store a validated upload for the apply step; returns its token."""
    _forget_upload()
    folder = _uploads()
    for old in folder.glob("*"):          # uploads never applied: keep a day, then drop
        if old.is_file() and time.time() - old.stat().st_mtime > STALE_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    suffix = Path(filename).suffix.lower()
    (folder / f"{token}{suffix}").write_bytes(data)
    # The name's end (with its checked suffix) is enough: it labels the audit entry.
    session[PENDING_KEY] = {"token": token, "kind": kind, "filename": filename[-120:],
                            "suffix": suffix, "user_id": current_user.id}
    return token


def _pending_upload(token: str) -> dict | None:
    """The upload this session kept under `token`, or None."""
    pending = session.get(PENDING_KEY)
    if (not pending or not _TOKEN_RE.match(token or "")
            or not secrets.compare_digest(pending.get("token", ""), token)
            or pending.get("user_id") != current_user.id
            or pending.get("suffix") not in EXTENSIONS or pending.get("kind") not in IMPORTERS):
        return None
    return pending


def _forget_upload() -> None:
    pending = session.pop(PENDING_KEY, None)
    if pending and _TOKEN_RE.match(pending.get("token", "")) and pending.get("suffix") in EXTENSIONS:
        (_uploads() / f"{pending['token']}{pending['suffix']}").unlink(missing_ok=True)


def _upload_page(*, error: HubError | None = None):
    kind = request.values.get("kind", "units")
    grantable = "、".join(_(ROLE_LABELS[role]) for role in grantable_roles(current_user))
    return render_template("admin/import.html", kind=kind if kind in IMPORTERS else "units",
                           error=error, dry_run=request.method == "GET"
                           or request.form.get("dry_run") == "1",
                           grantable=grantable, units_header=imports.EXAMPLES["units"][0],
                           people_header=imports.EXAMPLES["people"][0]), error.status if error else 200


def _report_page(kind: str, report: imports.ImportReport, token: str | None = None):
    return render_template("admin/import_report.html", kind=kind, report=report, token=token,
                           errors=report.errors[:ERRORS_SHOWN])


@bp.get("/import")
@login_required
def imports_page():
    """导入: the upload form, with the columns each file needs."""
    require_any_admin(current_user)
    return _upload_page()


@bp.get("/import/template/<kind>.xlsx")
@login_required
def import_template(kind: str):
    """The file to fill in: Chinese headers and one example row."""
    require_any_admin(current_user)
    if kind not in IMPORTERS:
        abort(404)
    name = _("单位导入模板") if kind == "units" else _("人员导入模板")
    return Response(imports.template_workbook(kind), headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f"attachment; filename=\"{kind}-template.xlsx\"; "
                               f"filename*=UTF-8''{quote(name)}.xlsx"})


@bp.post("/import")
@login_required
def import_upload():
    """Run the import (a dry run unless unticked) and show the report."""
    require_any_admin(current_user)
    with form_errors(_upload_page):
        kind = request.form.get("kind", "")
        if kind not in IMPORTERS:
            raise InvalidInput(_("请选择导入单位还是人员"), field="kind")
        upload = request.files.get("file")
        filename = (upload.filename or "").strip() if upload else ""
        if not filename:
            raise InvalidInput(_("请选择要上传的文件"), field="file")
        if Path(filename).suffix.lower() not in EXTENSIONS:
            raise InvalidInput(_("只支持 CSV 或 XLSX 文件"), field="file")
        data = upload.read()
        if not data:
            raise InvalidInput(_("上传的文件是空的"), field="file")
        dry_run = request.form.get("dry_run") == "1"
        report = IMPORTERS[kind](current_user, filename, data, dry_run=dry_run)
    token = None
    if dry_run and not report.errors and report.created + report.updated:
        token = _keep_upload(kind, filename, data)
    return _report_page(kind, report, token)


@bp.post("/import/apply")
@login_required
def import_apply():
    """Apply the file of a clean dry run, then delete it."""
    require_any_admin(current_user)
    pending = _pending_upload(request.form.get("token", ""))
    path = _uploads() / f"{pending['token']}{pending['suffix']}" if pending else None
    if path is None or not path.is_file():
        flash(_("待导入的文件已失效，请重新上传"), "error")
        return redirect(url_for("admin.imports_page"))
    try:
        with form_errors(_upload_page):
            report = IMPORTERS[pending["kind"]](current_user, pending["filename"], path.read_bytes(),
                                               dry_run=False)
    finally:
        _forget_upload()
    return _report_page(pending["kind"], report)
