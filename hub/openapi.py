"""GET /api/v1/openapi.json: the OpenAPI 3 description of the JSON API.

Paths and methods come from the URL map, so nothing that exists is missing;
the words (summary, body, answers) come from OPERATIONS below. A test fails
when a route has no entry here.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app

bp = Blueprint("openapi", __name__)

_ERR = {"$ref": "#/components/responses/Error"}

# (method, path) -> summary, and optionally the JSON body's properties.
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/auth/token"): {"summary": "Sign in, get a bearer token",
                                     "security": [], "body": {"login": "string", "password": "string",
                                                                "totp": "string"}},
    ("DELETE", "/api/v1/auth/token"): {"summary": "Revoke the bearer token used"},
    ("GET", "/api/v1/me"): {"summary": "The signed-in person, with roles"},
    ("PUT", "/api/v1/me/language"): {"summary": "Your own language (zh, en), or null to follow the browser",
                                      "body": {"language": "string"}},
    ("POST", "/api/v1/me/password"): {"summary": "Change your own password",
                                      "body": {"current_password": "string", "new_password": "string"}},
    ("GET", "/api/v1/units"): {"summary": "Find units: ?code= exact, ?q= name or code; none: the roots"},
    ("POST", "/api/v1/units"): {"summary": "Create a unit",
                                "body": {"code": "string", "name": "string", "parent_id": "integer",
                                         "kind": "string", "sort_order": "integer"}},
    ("GET", "/api/v1/units/{unit_id}"): {"summary": "A unit with path, member_count, child_count"},
    ("PATCH", "/api/v1/units/{unit_id}"): {"summary": "Rename, or move (the subtree follows)",
                                           "body": {"name": "string", "parent_id": "integer",
                                                    "kind": "string", "sort_order": "integer"}},
    ("GET", "/api/v1/units/{unit_id}/children"): {"summary": "Active sub-units in order (after=offset)"},
    ("GET", "/api/v1/units/{unit_id}/people"): {"summary": "People of the unit (?subtree=1: and below)"},
    ("POST", "/api/v1/units/{unit_id}/merge"): {"summary": "Merge this unit into target_id",
                                                "body": {"target_id": "integer"}},
    ("POST", "/api/v1/units/{unit_id}/retire"): {"summary": "Retire a unit with no members or sub-units"},
    ("POST", "/api/v1/units/import"): {"summary": "Import units from CSV/XLSX (code,name,parent_code[,kind]); ?dry_run=1",
                                       "multipart": True},
    ("GET", "/api/v1/people"): {"summary": "Search people by name or login (?q=, ?unit_id= subtree)"},
    ("POST", "/api/v1/people"): {"summary": "Create a person",
                                 "body": {"login": "string", "name": "string", "unit_id": "integer",
                                          "position": "string", "password": "string",
                                          "roles": "array"}},
    ("GET", "/api/v1/people/{person_id}"): {"summary": "A person (login and roles for admins in scope)"},
    ("PATCH", "/api/v1/people/{person_id}"): {"summary": "Rename, disable/enable, or transfer (unit_id)",
                                              "body": {"name": "string", "active": "boolean",
                                                       "unit_id": "integer", "position": "string"}},
    ("POST", "/api/v1/people/{person_id}/memberships"): {"summary": "Add a membership (兼职)",
                                                         "body": {"unit_id": "integer", "position": "string",
                                                                  "primary": "boolean"}},
    ("PATCH", "/api/v1/people/{person_id}/memberships/{membership_id}"): {
        "summary": "Change position or make primary", "body": {"position": "string", "primary": "boolean"}},
    ("DELETE", "/api/v1/people/{person_id}/memberships/{membership_id}"): {"summary": "Remove a membership"},
    ("POST", "/api/v1/people/{person_id}/roles"): {"summary": "Grant a role",
                                                   "body": {"role": "string", "unit_id": "integer"}},
    ("DELETE", "/api/v1/people/{person_id}/roles/{grant_id}"): {"summary": "Revoke a role"},
    ("POST", "/api/v1/people/{person_id}/unlock"): {"summary": "Security admin unlocks an account (was_locked)"},
    ("POST", "/api/v1/people/{person_id}/password"): {"summary": "Admin resets a password",
                                                      "body": {"password": "string"}},
    ("POST", "/api/v1/people/import"): {"summary": "Import people from CSV/XLSX (login,name,unit_code,position[,password][,roles]); ?dry_run=1",
                                        "multipart": True},
    ("GET", "/api/v1/audit"): {"summary": "The audit log, newest first (action, actor, target_type, since, until, outcome, before)"},
    ("GET", "/api/v1/audit/export"): {"summary": "The audit log as a CSV download (UTF-8 with BOM; the same "
                                                 "filters; auditor only; the export is audited)"},
    ("GET", "/api/v1/channels"): {"summary": "The caller's channels with unread counts"},
    ("POST", "/api/v1/channels"): {"summary": "Create a task channel (专项工作群)",
                                   "body": {"name": "string", "purpose": "string", "ends_on": "string",
                                            "unit_ids": "array", "subtree_ids": "array", "user_ids": "array"}},
    ("GET", "/api/v1/channels/{channel_id}"): {"summary": "A channel with unread, member_count, topics"},
    ("POST", "/api/v1/channels/direct"): {"summary": "Open (or find) the direct channel with user_id",
                                          "body": {"user_id": "integer"}},
    ("POST", "/api/v1/units/{unit_id}/announcements"): {"summary": "Open the unit's announcement channel (its leaders)"},
    ("GET", "/api/v1/channels/{channel_id}/messages"): {"summary": "Messages: ?after=ID oldest first, or ?before=ID newest first; ?topic="},
    ("POST", "/api/v1/channels/{channel_id}/messages"): {
        "summary": "Post a message; a bare 收到 answers {acknowledged}; same client_msg_id → first message",
        "body": {"body": "string", "topic": "string", "client_msg_id": "string", "html": "string",
                 "reply_to": "integer", "mention_user_ids": "array", "mention_unit_ids": "array",
                 "attachment_ids": "array"}},
    ("PATCH", "/api/v1/messages/{message_id}"): {"summary": "Edit your message (history kept)",
                                                 "body": {"body": "string", "html": "string"}},
    ("POST", "/api/v1/messages/{message_id}/withdraw"): {"summary": "Withdraw (撤回) your message"},
    ("POST", "/api/v1/messages/{message_id}/ack"): {"summary": "Acknowledge a message (once per person)"},
    ("POST", "/api/v1/channels/{channel_id}/read"): {"summary": "Move your read pointer to up_to",
                                                     "body": {"up_to": "integer"}},
    ("POST", "/api/v1/channels/{channel_id}/archive"): {"summary": "Archive a task channel"},
    ("POST", "/api/v1/channels/{channel_id}/decision"): {"summary": "Approve or reject a pending task channel",
                                                         "body": {"approve": "boolean"}},
    ("POST", "/api/v1/channels/{channel_id}/merge"): {"summary": "Merge this task channel into target_id",
                                                      "body": {"target_id": "integer"}},
    ("POST", "/api/v1/attachments"): {"summary": "Upload an attachment (type checked from content)",
                                      "multipart": True},
    ("GET", "/api/v1/attachments/{attachment_id}"): {"summary": "Download an attachment (access re-checked)"},
    ("GET", "/api/v1/me/schedule"): {"summary": "alerts_now, working_now and your schedule (quiet hours)"},
    ("PUT", "/api/v1/me/quiet"): {"summary": "Set (or clear with nulls) your own extra quiet window",
                                  "body": {"start": "string", "end": "string"}},
    ("GET", "/api/v1/units/{unit_id}/working-hours"): {"summary": "Working hours in force for a unit"},
    ("PUT", "/api/v1/units/{unit_id}/working-hours"): {"summary": "Set a unit's working hours (inherited below)",
                                                       "body": {"days": "string", "start": "string", "end": "string"}},
    ("POST", "/api/v1/holidays"): {"summary": "Add a holiday or adjusted working day (all, or a subtree)",
                                   "body": {"day": "string", "name": "string", "unit_id": "integer",
                                            "workday": "boolean"}},
    ("POST", "/api/v1/messages/{message_id}/reply-privately"): {
        "summary": "Reply to a message's author in your direct channel (announcements)",
        "body": {"body": "string", "client_msg_id": "string"}},
    ("GET", "/api/v1/search"): {"summary": "Search messages in your channels: ?q= (1–100 characters), channel_id, author_id, since, until; newest first, before=ID pages"},
    ("POST", "/api/v1/notices/preview"): {"summary": "Preview an audience: {people, units} it reaches now",
                                          "body": {"audience": "object"}},
    ("POST", "/api/v1/notices"): {
        "summary": "Publish a notice (audience: subtrees, units, users, positions)",
        "body": {"title": "string", "summary": "string", "body": "string", "html": "string",
                 "audience": "object", "urgent": "boolean", "urgent_reason": "string",
                 "requires_ack": "boolean", "deadline": "string", "publish_at": "string",
                 "attachment_ids": "array"}},
    ("GET", "/api/v1/notices/{notice_id}"): {"summary": "Open a notice (writes your read receipt)"},
    ("POST", "/api/v1/notices/{notice_id}/read"): {"summary": "Mark read (idempotent)"},
    ("POST", "/api/v1/notices/{notice_id}/ack"): {"summary": "Acknowledge, 签收 (idempotent)"},
    ("GET", "/api/v1/notices/{notice_id}/receipts"): {
        "summary": "Coverage for the publisher: counts by unit in tree order, unread people (after=)"},
    ("POST", "/api/v1/notices/{notice_id}/remind"): {"summary": "Remind the unread (once per 4 hours, else 429)"},
    ("POST", "/api/v1/notices/{notice_id}/correct"): {"summary": "Publish a correction (更正) as a new version",
                                                      "body": {"title": "string", "summary": "string",
                                                               "body": "string", "audience": "object",
                                                               "attachment_ids": "array"}},
    ("POST", "/api/v1/notices/{notice_id}/revoke"): {"summary": "Revoke (撤回) with a note; the record stays",
                                                     "body": {"note": "string"}},
    ("POST", "/api/v1/notices/{notice_id}/feedback"): {"summary": "Anonymous feedback: duplicate, unclear, unnecessary",
                                                       "body": {"kind": "string"}},
    ("POST", "/api/v1/documents"): {
        "summary": "Draft a document (拟稿); 秘密/机密/绝密 are refused (400, field security)",
        "body": {"doc_type": "string", "title": "string", "urgency": "string", "security": "string",
                 "main_recipients": "array", "copy_recipients": "array", "body": "string", "notes": "string",
                 "deadline": "string", "joint_issuers": "array", "replies_to_id": "integer", "files": "array"}},
    ("GET", "/api/v1/documents"): {
        "summary": "Search the documents you may open: q (number or title), doc_type, issuer_id, since, until, "
                   "status; newest first, before=ID pages"},
    ("GET", "/api/v1/documents/{document_id}"): {
        "summary": "A document with number, status, recipients (as you may see them) and timeline "
                   "(steps_after=ID&limit= pages it, with timeline_next)"},
    ("PATCH", "/api/v1/documents/{document_id}"): {
        "summary": "Change a draft (the fields sent replace those of the draft)",
        "body": {"doc_type": "string", "title": "string", "urgency": "string", "security": "string",
                 "main_recipients": "array", "copy_recipients": "array", "body": "string", "notes": "string",
                 "deadline": "string", "joint_issuers": "array", "replies_to_id": "integer", "files": "array"}},
    ("POST", "/api/v1/documents/{document_id}/actions"): {
        "summary": "Take one workflow step (review, return, sign, number, dispatch; sign_for, register, propose, "
                   "instruct, assign, circulate, mark_read, remind, complete, reply, archive): wrong role 403, "
                   "wrong state 409; the sender's remind to unit_id once per 4 hours (429)",
        "body": {"action": "string", "comment": "string", "user_ids": "array", "unit_id": "integer",
                 "in_order": "boolean", "lead_id": "integer"}},
    ("GET", "/api/v1/documents/{document_id}/status"): {
        "summary": "The sender's status board: per recipient unit in tree order (issuing side only)"},
    ("GET", "/api/v1/documents/{document_id}/files/{attachment_id}"): {
        "summary": "Download the body file or an attachment (access re-checked); ?preview=1 shows a PDF inline"},
    ("GET", "/api/v1/data/fields"): {
        "summary": "The shared catalogue of data fields (数据目录): ?q= part of a name or code; after=<id> pages it"},
    ("POST", "/api/v1/data/fields"): {
        "summary": "Add a catalogue field (leaders, clerks); the answer lists fields with similar names (similar)",
        "body": {"name": "string", "kind": "string", "period_kind": "string", "unit_of_measure": "string",
                 "choices": "array", "code": "string"}},
    ("POST", "/api/v1/data/requests/preview"): {
        "summary": "Before sending a data request (填报): units asked, held per field, complete_units, overlaps",
        "body": {"fields": "array", "audience": "object", "period": "string"}},
    ("POST", "/api/v1/data/requests"): {
        "summary": "Send a data request; 409 with overlaps unless overlap_reason; file fields need evidence_reason",
        "body": {"title": "string", "purpose": "string", "fields": "array", "audience": "object",
                 "period": "string", "deadline": "string", "overlap_reason": "string",
                 "evidence_reason": "string"}},
    ("GET", "/api/v1/data/requests/{request_id}"): {
        "summary": "A data request, with the caller's own units it asks (my_units) and their status"},
    ("GET", "/api/v1/data/requests/{request_id}/units/{unit_id}"): {
        "summary": "A unit's form, pre-filled with held values and their source; version for the submit "
                   "(reading another unit's values is audited)"},
    ("PUT", "/api/v1/data/requests/{request_id}/units/{unit_id}"): {
        "summary": "Submit a unit's values with the version read: 400 names a bad value (values.<field_id>), "
                   "409 stale_version carries the current form",
        "body": {"values": "object", "version": "integer"}},
    ("POST", "/api/v1/data/requests/{request_id}/units/{unit_id}/feedback"): {
        "summary": "A unit asked marks the request duplicate (重复) or unnecessary (不必要), once",
        "body": {"kind": "string"}},
    ("GET", "/api/v1/data/requests/{request_id}/status"): {
        "summary": "Requesting side: units, submitted, complete, pending, imported, corrected; by_unit in tree "
                   "order, no times"},
    ("GET", "/api/v1/data/requests/{request_id}/export"): {
        "summary": "Requesting side: XLSX, one row per unit in tree order, one column per field (audited)"},
    ("POST", "/api/v1/data/requests/{request_id}/import"): {
        "summary": "代下级导入: the export's XLSX layout filled in for units at or below the caller's (their "
                   "clerks; leaders where a unit has none); all or nothing, errors by row and column (missing, "
                   "extra or moved columns, merged cells, formulas, bad values); values held with source import; "
                   "?dry_run=1",
        "multipart": True},
    ("GET", "/api/v1/data/requests/{request_id}/import/template"): {
        "summary": "The export's XLSX layout for the units the caller imports for, pre-filled (audited)"},
    ("POST", "/api/v1/data/requests/{request_id}/remind"): {
        "summary": "Requesting side: remind the pending units' clerks (once per 4 hours, else 429)"},
    ("POST", "/api/v1/data/requests/{request_id}/close"): {
        "summary": "Requesting side: close the request (no longer open for overlaps; values stay held)"},
    ("GET", "/api/v1/data/values"): {
        "summary": "向系统找数据: held values of unit_id (subtree=1: and below) for its own and higher units' "
                   "clerks and leaders; period, field_id, after=<offset>; system fields computed"},
    ("POST", "/api/v1/data/values/import"): {
        "summary": "Import held values from CSV/XLSX (unit_code,field_code,period,value) for the units you "
                   "answer; all or nothing, errors by row; ?dry_run=1",
        "multipart": True},
    ("GET", "/api/v1/inbox"): {
        "summary": "One inbox: notices, mentions, direct messages; newest first (before=cursor), "
                   "or unread first with order=unread_first; filters kind, unread, unit_id, needs_ack, overdue, q"},
    ("GET", "/api/v1/inbox/digest"): {
        "summary": "Your daily digest (日报摘要) of ?day=YYYY-MM-DD: notices by sending unit, pending, new messages per channel"},
    ("GET", "/api/v1/burden"): {
        "summary": "Sender burden (发文负担) per sending unit in tree order and month (?months=6; admins)"},
    ("POST", "/api/v1/suggestions"): {"summary": "Leave a suggestion (意见箱); nothing names the writer",
                                      "body": {"body": "string", "contact": "string"}},
    ("GET", "/api/v1/suggestions"): {"summary": "Suggestions received, newest first (system admins; before=ID)"},
    ("GET", "/api/v1/openapi.json"): {"summary": "This document", "security": []},
}

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def api_operations(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every JSON API route, in OpenAPI path syntax."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return sorted(found, key=lambda item: (item[1], item[0]))


def build_spec(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict] = {}
    for method, path in api_operations(app):
        info = OPERATIONS.get((method, path), {"summary": "(undocumented)"})
        operation: dict[str, Any] = {
            "summary": info["summary"],
            "responses": {"200": {"description": "OK"}, "400": _ERR, "401": _ERR,
                          "403": _ERR, "404": _ERR, "409": _ERR, "413": _ERR, "429": _ERR,
                          "503": _ERR, "507": _ERR},
        }
        if method == "POST":
            operation["responses"]["201"] = {"description": "Created"}
        if "security" in info:
            operation["security"] = info["security"]
        params = re.findall(r"{([a-z_]+)}", path)
        if params:
            # Ids are 1 to 2^31-1 (hub/__init__.py IdConverter); others match no route.
            operation["parameters"] = [{"name": p, "in": "path", "required": True,
                                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
                                       for p in params]
        if info.get("body"):
            operation["requestBody"] = {"content": {"application/json": {"schema": {
                "type": "object",
                "properties": {k: {"type": v} for k, v in info["body"].items()}}}}}
        if info.get("multipart"):
            operation["requestBody"] = {"content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"]}}}}
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hub API", "version": "1",
                 "description": "政务协同平台 Hub 的集成接口。错误格式：{\"error\": {\"code\", \"message\", \"field\"?}}。"
                                "A client acts on these codes: 403 password_change_required (only "
                                "POST /api/v1/me/password, GET /api/v1/me and signing out work until the "
                                "password is changed), 429 too_many_requests and too_soon (Retry-After), "
                                "413 over_quota (unattached uploads), 503 server_busy (Retry-After) and "
                                "database_unavailable, 507 storage_full. docs/SECURITY.md lists the limits."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "Error", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                   "field": {"type": "string"}}}}}}}}},
        },
    }


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return build_spec(current_app)


def register(app: Flask) -> None:
    app.register_blueprint(bp)
