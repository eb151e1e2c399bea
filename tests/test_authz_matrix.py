"""The authorization matrix (issue 7): every HTTP route and every Socket.IO event
× ten personas, in one table, each cell exercised with a real request.

Columns, in PERSONAS order: anonymous; a member (麻蓬村); a member of a sibling
unit (上方镇, in the other county); the clerk and the leader of 石梁镇; the unit
admin of 柯城区 (whose subtree holds every object the rows name) and of 衢江区
(a sibling subtree); the system admin; the security admin; the auditor.

Cells: "ok" — the access check let the caller through (2xx, a redirect that is
not to the login page, or a refusal of the input or the state after it: 400,
409, 413, 429; the bodies are chosen so that rows change little); "L" — sign in
first (401 from the API, a redirect to /auth/login from a page); "403" — the
caller can see the object but lacks the role for the action; "404" — the object
is outside the caller's reach, so its id reveals nothing.

The objects (see `world`) live in 柯城区: the town 石梁镇 ({town}), its village
麻蓬村 ({village}) with the person 李秀英 ({person}), a task channel of 石梁镇
({channel}) with a message and a file, a notice of 石梁镇's leader, a document the
county office dispatched to 石梁镇 ({doc_in}) and a draft of 石梁镇 ({doc_draft}).

The matrix runs once per backend on one database shared by the module; a row
whose request would change what later requests see prepares a fresh object for
each persona. A route or event without a row fails the first test, and so does
a row whose route is gone.
"""
from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from collections.abc import Mapping
from typing import Any, Callable

import pytest
from sqlalchemy import select

from hub import create_app
from hub.db import utcnow
from hub.extensions import db, socketio
from hub.org.models import RoleGrant, Unit, User
from tests.cast import PASSWORD, seed_cast
from tests.conftest import BACKENDS, _migrate, _ran, base_config

PERSONAS = ("anon", "member", "sibling", "clerk", "leader", "unit_admin", "sibling_admin", "admin",
            "security_admin", "auditor")
LOGINS = {"anon": None, "member": "mp_secretary", "sibling": "sf_member", "clerk": "sl_clerk",
          "leader": "sl_leader", "unit_admin": "kc_admin", "sibling_admin": "qj_admin", "admin": "admin",
          "security_admin": "sec_admin", "auditor": "auditor"}
TOWN, VILLAGE, COUNTY, OFFICE = "330802100", "330802100202", "330802", "330802-GOV"

# Expectations that many rows share (columns as PERSONAS).
OPEN = "ok ok ok ok ok ok ok ok ok ok"                       # no sign-in needed
SIGNED_IN = "L ok ok ok ok ok ok ok ok ok"                   # anyone signed in
PEOPLE_ADMINS = "L 403 403 403 403 ok ok ok 403 403"         # the org/people duty, no object
MANAGES_KECHENG = "L 403 403 403 403 ok 404 ok 403 403"      # an object of 柯城区, org/people duty
GRANTS_IN_KECHENG = "L 403 403 403 403 ok 404 403 ok 403"    # roles of a person of 柯城区
SECURITY_ADMIN = "L 403 403 403 403 403 403 403 ok 403"
AUDITOR = "L 403 403 403 403 403 403 403 403 ok"
SYSTEM_ADMIN = "L 403 403 403 403 403 403 ok 403 403"
IN_CHANNEL = "L ok 404 ok ok 404 404 404 404 404"           # readers of the task channel
AT_RECIPIENT = "L 404 404 ok ok 404 404 404 404 404"         # 石梁镇's clerk and leader
NOTICE_READERS = "L ok 404 ok ok ok 404 ok 404 404"          # audience, publisher, its admins
FOLLOWS_UP = "L 403 404 403 ok ok 404 ok 404 404"            # publisher and its unit's admins
PUBLISHERS = "L 403 403 ok ok 403 403 ok 403 403"            # leaders, clerks, the system admin
HAS_A_UNIT = "L ok ok ok ok ok ok ok 403 403"                # drafting needs a unit


@dataclass(frozen=True)
class Row:
    """One route or event: the ten cells, and the request that tests them."""

    expect: str
    path: str = ""                                   # {names} come from the world (and prepare)
    json: Any = None
    data: Any = None                                 # a dict, or a callable (fresh file objects)
    prepare: Callable[["World"], dict] | None = None  # fresh objects, before each persona's request
    fresh: bool = False                              # its own session or token (the request ends it)
    signs_out: bool = False                          # success is the way to the sign-in page


def csv_file(text: str) -> Callable[[], dict]:
    return lambda: {"file": (io.BytesIO(text.encode()), "import.csv")}


def text_file() -> dict:
    return {"file": (io.BytesIO("防汛值班表".encode()), "值班表.txt")}


# ---- Fresh objects for rows that would change shared ones ----------------------------------------

def _clerk_grant(world: World) -> dict:
    """李秀英 holds 文书 at 麻蓬村 again, for the revoke rows."""
    with world.app.app_context():
        person = db.session.get(User, world.ids["person"])
        grant = next((g for g in person.roles if g.role == "clerk"), None)
        if grant is None:
            grant = RoleGrant(role="clerk", unit_id=world.ids["village"])
            person.roles.append(grant)
            db.session.commit()
        return {"grant": grant.id}


def _locked(world: World) -> dict:
    """李秀英's account is locked (five failed sign-ins), for the unlock rows."""
    with world.app.app_context():
        db.session.get(User, world.ids["person"]).locked_until = utcnow() + timedelta(minutes=30)
        db.session.commit()
    return {}


def _own_message(world: World) -> dict:
    """A new message of 石梁镇's clerk in the task channel, for the withdraw rows."""
    number = world.next_number()
    response = world.api["clerk"].post(f"/api/v1/channels/{world.ids['channel']}/messages",
                                       json={"body": f"第{number}次水位报告", "client_msg_id": f"w{number}"})
    return {"own_message": response.get_json()["id"]}


def _task_channels(world: World) -> dict:
    """Two new task channels of 石梁镇's leader, in 石梁镇 itself (so active at
    once), for the archive and merge rows."""
    town = [world.ids["town"]]
    return {"spare": world.task_channel("leader", unit_ids=town),
            "spare_target": world.task_channel("leader", unit_ids=town)}


def _data_request(world: World) -> dict:
    """A new data request of 石梁镇's leader to 麻蓬村, for the close rows."""
    number = world.next_number()
    response = world.api["leader"].post("/api/v1/data/requests", json={
        "title": f"村级人口年报{number}", "purpose": "年度统计", "fields": [world.ids["data_field"]],
        "audience": {"units": [world.ids["village"]]}, "period": "2025", "overlap_reason": "逐次核对",
        "deadline": (date.today() + timedelta(days=10)).isoformat()})
    assert response.status_code == 201, response.get_json()
    return {"spare_request": response.get_json()["id"]}


# ---- The table ------------------------------------------------------------------------------------

MATRIX: dict[str, Row] = {
    # Signing in (accounts are issued: there is no sign-up route)
    "GET /auth/login": Row(OPEN, "/auth/login"),
    "POST /auth/login": Row(OPEN, "/auth/login", data={"login": "kc_leader", "password": PASSWORD},
                            fresh=True),
    "POST /auth/logout": Row(SIGNED_IN, "/auth/logout", fresh=True, signs_out=True),
    "GET /auth/password": Row(SIGNED_IN, "/auth/password"),
    "POST /auth/password": Row(
        SIGNED_IN, "/auth/password", data={"current_password": "wrong", "new_password": "x",
        "confirm_password": "x"}),
    # Open: on the sign-in page it sets this browser's cookie; signed in, the person's own setting.
    "POST /auth/language": Row(OPEN, "/auth/language", data={"language": "klingon"}),
    "GET /login": Row("L L L L L L L L L L", "/login"),  # typed by hand: to /auth/login, for anyone
    "GET /auth/verify": Row(SIGNED_IN, "/auth/verify"),
    "POST /auth/verify": Row(SIGNED_IN, "/auth/verify", data={"code": "000000"}),
    "GET /auth/second-factor": Row(SIGNED_IN, "/auth/second-factor"),
    "POST /auth/second-factor": Row(SIGNED_IN, "/auth/second-factor", data={"code": "000000"}),
    "POST /api/v1/auth/token": Row(
        OPEN, "/api/v1/auth/token", json={"login": "kc_leader", "password": PASSWORD}, fresh=True),
    "DELETE /api/v1/auth/token": Row(SIGNED_IN, "/api/v1/auth/token", fresh=True),
    "GET /api/v1/me": Row(SIGNED_IN, "/api/v1/me"),
    "POST /api/v1/me/password": Row(SIGNED_IN, "/api/v1/me/password",
                                    json={"current_password": "wrong", "new_password": "x"}),
    "PUT /api/v1/me/language": Row(SIGNED_IN, "/api/v1/me/language", json={"language": "klingon"}),
    "GET /api/v1/me/schedule": Row(SIGNED_IN, "/api/v1/me/schedule"),
    "PUT /api/v1/me/quiet": Row(SIGNED_IN, "/api/v1/me/quiet", json={"start": "25:00", "end": "07:00"}),
    "GET /healthz": Row(OPEN, "/healthz"),
    "GET /static/<path:filename>": Row(OPEN, "/static/css/hub.css"),
    "GET /sw.js": Row(OPEN, "/sw.js"),                   # the installable app (hub/pwa.py)
    "GET /offline": Row(OPEN, "/offline"),
    "GET /api/v1/openapi.json": Row(OPEN, "/api/v1/openapi.json"),

    # The directory: everyone signed in reads the tree and who is where
    "GET /": Row(SIGNED_IN, "/"),                         # the inbox
    "GET /me": Row(SIGNED_IN, "/me"),
    "GET /directory": Row(SIGNED_IN, "/directory?q=石梁"),
    "GET /directory/units/<int:unit_id>": Row(SIGNED_IN, "/directory/units/{town}"),
    "GET /api/v1/units": Row(SIGNED_IN, "/api/v1/units?q=石梁"),
    "GET /api/v1/units/<int:unit_id>": Row(SIGNED_IN, "/api/v1/units/{town}"),
    "GET /api/v1/units/<int:unit_id>/children": Row(SIGNED_IN, "/api/v1/units/{town}/children"),
    "GET /api/v1/units/<int:unit_id>/people": Row(SIGNED_IN, "/api/v1/units/{village}/people"),
    "GET /api/v1/units/<int:unit_id>/working-hours": Row(SIGNED_IN, "/api/v1/units/{town}/working-hours"),
    "GET /api/v1/people": Row(SIGNED_IN, "/api/v1/people?q=李秀英"),
    "GET /api/v1/people/<int:person_id>": Row(SIGNED_IN, "/api/v1/people/{person}"),

    # The org tree and people: the system admin, and unit admins in their subtree
    "GET /admin/": Row("L 403 403 403 403 ok ok ok ok ok", "/admin/"),   # the other duties: redirected
    "GET /admin/units/choices": Row("L 403 403 403 403 ok ok ok ok 403", "/admin/units/choices?q=石梁"),
    "GET /admin/units/<id:unit_id>": Row(MANAGES_KECHENG, "/admin/units/{town}"),
    "POST /admin/units/<id:unit_id>": Row(MANAGES_KECHENG, "/admin/units/{town}",
                                          data={"name": "石梁镇", "kind": "town"}),
    "POST /admin/units/<id:unit_id>/children": Row(MANAGES_KECHENG, "/admin/units/{town}/children",
                                                   data={"code": "", "name": "新村"}),
    "POST /admin/units/<id:unit_id>/move": Row(MANAGES_KECHENG, "/admin/units/{town}/move",
                                               data={"parent_id": "{county}"}),
    "GET /admin/units/<id:unit_id>/merge": Row(
        MANAGES_KECHENG, "/admin/units/{town}/merge?target_id={village}"),
    "POST /admin/units/<id:unit_id>/merge": Row(MANAGES_KECHENG, "/admin/units/{town}/merge",
                                                data={"target_id": "{town}"}),
    "POST /admin/units/<id:unit_id>/retire": Row(MANAGES_KECHENG, "/admin/units/{town}/retire"),
    "POST /admin/units": Row(SYSTEM_ADMIN, "/admin/units", data={"code": "", "name": "新省"}),
    "GET /admin/people/new": Row(PEOPLE_ADMINS, "/admin/people/new"),
    "POST /admin/people/new": Row(MANAGES_KECHENG, "/admin/people/new",
                                  data={"unit_id": "{village}", "login": "?", "name": "新人"}),
    "GET /admin/people/<id:person_id>": Row("L 403 403 403 403 ok 404 ok ok 403", "/admin/people/{person}"),
    "POST /admin/people/<id:person_id>": Row(
        MANAGES_KECHENG, "/admin/people/{person}", data={"name": "李秀英"}),
    "POST /admin/people/<id:person_id>/active": Row(MANAGES_KECHENG, "/admin/people/{person}/active",
                                                    data={"active": "maybe"}),
    "POST /admin/people/<id:person_id>/transfer": Row(MANAGES_KECHENG, "/admin/people/{person}/transfer"),
    "POST /admin/people/<id:person_id>/memberships": Row(
        MANAGES_KECHENG, "/admin/people/{person}/memberships"),
    "POST /admin/people/<id:person_id>/memberships/<id:membership_id>": Row(
        MANAGES_KECHENG, "/admin/people/{person}/memberships/{membership}", data={"position": "村委会主任"}),
    "POST /admin/people/<id:person_id>/memberships/<id:membership_id>/remove": Row(
        MANAGES_KECHENG, "/admin/people/{person}/memberships/{membership}/remove"),
    "POST /admin/people/<id:person_id>/password": Row(
        MANAGES_KECHENG, "/admin/people/{person}/password",
        data={"password": "Aa-1234567", "confirm_password": "different"}),
    "GET /admin/import": Row(PEOPLE_ADMINS, "/admin/import"),
    "GET /admin/import/template/<kind>.xlsx": Row(PEOPLE_ADMINS, "/admin/import/template/people.xlsx"),
    "POST /admin/import": Row(PEOPLE_ADMINS, "/admin/import", data={"kind": "units"}),
    "POST /admin/import/apply": Row(PEOPLE_ADMINS, "/admin/import/apply", data={"token": "x" * 32}),
    "POST /api/v1/units": Row(
        MANAGES_KECHENG, "/api/v1/units", json={"code": "", "name": "新村", "parent_id": "{town}"}),
    "PATCH /api/v1/units/<int:unit_id>": Row(
        MANAGES_KECHENG, "/api/v1/units/{town}", json={"name": "石梁镇"}),
    "POST /api/v1/units/<int:unit_id>/merge": Row(MANAGES_KECHENG, "/api/v1/units/{town}/merge",
                                                  json={"target_id": "{town}"}),
    "POST /api/v1/units/<int:unit_id>/retire": Row(MANAGES_KECHENG, "/api/v1/units/{town}/retire"),
    "PUT /api/v1/units/<int:unit_id>/working-hours": Row(
        MANAGES_KECHENG, "/api/v1/units/{town}/working-hours", json={"days": "often"}),
    "POST /api/v1/holidays": Row(
        MANAGES_KECHENG, "/api/v1/holidays", json={"unit_id": "{town}", "day": "soon"}),
    "POST /api/v1/people": Row(MANAGES_KECHENG, "/api/v1/people",
                               json={"unit_id": "{village}", "login": "?", "name": "新人"}),
    "PATCH /api/v1/people/<int:person_id>": Row(
        MANAGES_KECHENG, "/api/v1/people/{person}", json={"name": "李秀英"}),
    "POST /api/v1/people/<int:person_id>/memberships": Row(
        MANAGES_KECHENG, "/api/v1/people/{person}/memberships", json={"unit_id": "{village}"}),
    "PATCH /api/v1/people/<int:person_id>/memberships/<int:membership_id>": Row(
        MANAGES_KECHENG, "/api/v1/people/{person}/memberships/{membership}", json={"position": "村委会主任"}),
    "DELETE /api/v1/people/<int:person_id>/memberships/<int:membership_id>": Row(
        MANAGES_KECHENG, "/api/v1/people/{person}/memberships/{membership}"),
    "POST /api/v1/people/<int:person_id>/password": Row(MANAGES_KECHENG, "/api/v1/people/{person}/password",
                                                        json={"password": "weak"}),
    "POST /api/v1/units/import": Row(PEOPLE_ADMINS, "/api/v1/units/import?dry_run=1",
                                     data=csv_file("code,name,parent_code\n")),
    "POST /api/v1/people/import": Row(PEOPLE_ADMINS, "/api/v1/people/import?dry_run=1",
                                      data=csv_file("login,name,unit_code,position\n")),

    # Roles and locks: the security admin; unit admins grant clerk and leader in their subtree
    "GET /admin/security": Row(SECURITY_ADMIN, "/admin/security?q=李"),
    "POST /admin/people/<id:person_id>/roles": Row(GRANTS_IN_KECHENG, "/admin/people/{person}/roles",
                                                   data={"role": "clerk", "unit_id": "{village}"}),
    "POST /admin/people/<id:person_id>/roles/<id:grant_id>/revoke": Row(
        GRANTS_IN_KECHENG, "/admin/people/{person}/roles/{grant}/revoke", prepare=_clerk_grant),
    "POST /admin/people/<id:person_id>/unlock": Row("L 403 403 403 403 403 404 403 ok 403",
                                                    "/admin/people/{person}/unlock", prepare=_locked),
    "POST /api/v1/people/<int:person_id>/unlock": Row("L 403 403 403 403 403 404 403 ok 403",
                                                      "/api/v1/people/{person}/unlock", prepare=_locked),
    "POST /admin/people/<id:person_id>/second-factor/reset": Row(
        SECURITY_ADMIN, "/admin/people/{person}/second-factor/reset"),
    "POST /api/v1/people/<int:person_id>/roles": Row(GRANTS_IN_KECHENG, "/api/v1/people/{person}/roles",
                                                     json={"role": "clerk", "unit_id": "{village}"}),
    "DELETE /api/v1/people/<int:person_id>/roles/<int:grant_id>": Row(
        GRANTS_IN_KECHENG, "/api/v1/people/{person}/roles/{grant}", prepare=_clerk_grant),

    # The audit log: the auditor, and nobody else
    "GET /admin/audit": Row(AUDITOR, "/admin/audit"),
    "GET /api/v1/audit": Row(AUDITOR, "/api/v1/audit"),
    "GET /admin/audit/export": Row(AUDITOR, "/admin/audit/export"),
    "GET /api/v1/audit/export": Row(AUDITOR, "/api/v1/audit/export"),

    # Reports for admins, the suggestion box for the platform's operators
    "GET /admin/burden": Row(PEOPLE_ADMINS, "/admin/burden"),
    "GET /api/v1/burden": Row(PEOPLE_ADMINS, "/api/v1/burden"),
    "GET /suggestions": Row(SIGNED_IN, "/suggestions"),
    "POST /suggestions": Row(SIGNED_IN, "/suggestions", data={"body": ""}),
    "GET /suggestions/received": Row(SYSTEM_ADMIN, "/suggestions/received"),
    "POST /api/v1/suggestions": Row(SIGNED_IN, "/api/v1/suggestions", json={"body": ""}),
    "GET /api/v1/suggestions": Row(SYSTEM_ADMIN, "/api/v1/suggestions"),

    # The inbox and the digest: one's own
    "GET /inbox/": Row(SIGNED_IN, "/inbox/"),
    "GET /inbox/digest": Row(SIGNED_IN, "/inbox/digest"),
    "GET /api/v1/inbox": Row(SIGNED_IN, "/api/v1/inbox"),
    "GET /api/v1/inbox/digest": Row(SIGNED_IN, "/api/v1/inbox/digest"),

    # Channels: readers of the channel; the register for admins
    "GET /channels/": Row(SIGNED_IN, "/channels/"),
    "GET /channels/units/choices": Row(SIGNED_IN, "/channels/units/choices?q=石梁"),
    "POST /channels/tasks": Row(SIGNED_IN, "/channels/tasks", data={"name": ""}),
    "POST /channels/direct": Row(SIGNED_IN, "/channels/direct", data={"user_id": "{person}"}),
    "POST /channels/announce/<int:unit_id>": Row("L 403 403 403 ok 403 403 403 403 403",
                                                 "/channels/announce/{town}"),
    "GET /channels/<int:channel_id>": Row(IN_CHANNEL, "/channels/{channel}"),
    "GET /channels/<int:channel_id>/mentions": Row(IN_CHANNEL, "/channels/{channel}/mentions?q=李"),
    "POST /channels/<int:channel_id>/messages": Row(IN_CHANNEL, "/channels/{channel}/messages",
                                                    data={"body": "收到"}),
    "POST /channels/messages/<int:message_id>/ack": Row(IN_CHANNEL, "/channels/messages/{message}/ack"),
    "POST /channels/messages/<int:message_id>/edit": Row("L 403 404 ok 403 404 404 404 404 404",
                                                         "/channels/messages/{message}/edit",
                                                         data={"body": "今晚八点开始防汛值班"}),
    "POST /channels/messages/<int:message_id>/withdraw": Row("L 403 404 ok 403 404 404 404 404 404",
                                                             "/channels/messages/{own_message}/withdraw",
                                                             prepare=_own_message),
    "GET /channels/register": Row(PEOPLE_ADMINS, "/channels/register"),
    "POST /channels/register/<int:channel_id>/archive": Row(
        MANAGES_KECHENG, "/channels/register/{spare}/archive", prepare=_task_channels),
    "POST /channels/register/<int:channel_id>/merge": Row(MANAGES_KECHENG, "/channels/register/{spare}/merge",
                                                          data={"target_id": "{spare_target}"},
                                                          prepare=_task_channels),
    "POST /channels/register/<int:channel_id>/decision": Row(MANAGES_KECHENG,
                                                             "/channels/register/{pending}/decision",
                                                             data={"approve": "0"}),
    "GET /api/v1/channels": Row(SIGNED_IN, "/api/v1/channels"),
    "POST /api/v1/channels": Row(SIGNED_IN, "/api/v1/channels", json={"name": ""}),
    "POST /api/v1/channels/direct": Row(SIGNED_IN, "/api/v1/channels/direct", json={"user_id": "{person}"}),
    "POST /api/v1/units/<int:unit_id>/announcements": Row("L 403 403 403 ok 403 403 403 403 403",
                                                          "/api/v1/units/{town}/announcements"),
    "GET /api/v1/channels/<int:channel_id>": Row(IN_CHANNEL, "/api/v1/channels/{channel}"),
    "GET /api/v1/channels/<int:channel_id>/messages": Row(IN_CHANNEL, "/api/v1/channels/{channel}/messages"),
    "POST /api/v1/channels/<int:channel_id>/messages": Row(IN_CHANNEL, "/api/v1/channels/{channel}/messages",
                                                           json={"body": "收到", "client_msg_id": "ack-1"}),
    "POST /api/v1/channels/<int:channel_id>/read": Row(IN_CHANNEL, "/api/v1/channels/{channel}/read",
                                                       json={"up_to": "{message}"}),
    "POST /api/v1/channels/<int:channel_id>/archive": Row("L 404 404 403 ok 404 404 404 404 404",
                                                          "/api/v1/channels/{spare}/archive",
                                                          prepare=_task_channels),
    "POST /api/v1/channels/<int:channel_id>/merge": Row(
        "L 404 404 403 ok 404 404 404 404 404", "/api/v1/channels/{spare}/merge",
        json={"target_id": "{spare_target}"}, prepare=_task_channels),
    "POST /api/v1/channels/<int:channel_id>/decision": Row(
        MANAGES_KECHENG, "/api/v1/channels/{pending}/decision", json={"approve": False}),
    "PATCH /api/v1/messages/<int:message_id>": Row(
        "L 403 404 ok 403 404 404 404 404 404", "/api/v1/messages/{message}",
        json={"body": "今晚八点开始防汛值班"}),
    "POST /api/v1/messages/<int:message_id>/ack": Row(IN_CHANNEL, "/api/v1/messages/{message}/ack"),
    "POST /api/v1/messages/<int:message_id>/reply-privately": Row(
        IN_CHANNEL, "/api/v1/messages/{message}/reply-privately", json={"body": "请问几点交班？"}),
    "POST /api/v1/messages/<int:message_id>/withdraw": Row("L 403 404 ok 403 404 404 404 404 404",
                                                           "/api/v1/messages/{own_message}/withdraw",
                                                           prepare=_own_message),
    "POST /api/v1/attachments": Row(SIGNED_IN, "/api/v1/attachments", data=text_file),
    "GET /api/v1/attachments/<int:attachment_id>": Row(IN_CHANNEL, "/api/v1/attachments/{attachment}"),
    "GET /api/v1/search": Row(IN_CHANNEL, "/api/v1/search?q=防汛&channel_id={channel}"),

    # Notices: the audience reads; the publisher and its unit's admins follow up
    "GET /notices/": Row(SIGNED_IN, "/notices/"),
    "GET /notices/new": Row(PUBLISHERS, "/notices/new"),
    "POST /notices/new": Row(PUBLISHERS, "/notices/new", data={"title": "", "audience_units": "{village}"}),
    "GET /notices/units/choices": Row(SIGNED_IN, "/notices/units/choices?q=麻蓬"),
    "GET /notices/people/choices": Row(SIGNED_IN, "/notices/people/choices?q=李"),
    "GET /notices/positions": Row(SIGNED_IN, "/notices/positions?unit_id={town}"),
    "GET /notices/<int:notice_id>": Row(NOTICE_READERS, "/notices/{notice}"),
    "POST /notices/<int:notice_id>/ack": Row(NOTICE_READERS, "/notices/{notice}/ack"),
    "POST /notices/<int:notice_id>/feedback": Row(
        NOTICE_READERS, "/notices/{notice}/feedback", data={"kind": ""}),
    "GET /notices/<int:notice_id>/coverage": Row(FOLLOWS_UP, "/notices/{notice}/coverage"),
    "GET /notices/<int:notice_id>/coverage/units": Row(FOLLOWS_UP, "/notices/{notice}/coverage/units"),
    "GET /notices/<int:notice_id>/coverage/units/<int:unit_id>": Row(
        FOLLOWS_UP, "/notices/{notice}/coverage/units/{town}"),
    "POST /notices/<int:notice_id>/remind": Row(FOLLOWS_UP, "/notices/{notice}/remind"),
    "GET /notices/<int:notice_id>/correct": Row(FOLLOWS_UP, "/notices/{notice}/correct"),
    "POST /notices/<int:notice_id>/correct": Row(FOLLOWS_UP, "/notices/{notice}/correct", data={"title": ""}),
    "GET /notices/<int:notice_id>/revoke": Row(FOLLOWS_UP, "/notices/{notice}/revoke"),
    "POST /notices/<int:notice_id>/revoke": Row(FOLLOWS_UP, "/notices/{notice}/revoke", data={"note": ""}),
    "POST /api/v1/notices/preview": Row(
        SIGNED_IN, "/api/v1/notices/preview", json={"audience": {"units": "x"}}),
    "POST /api/v1/notices": Row(PUBLISHERS, "/api/v1/notices",
                                json={"title": "关于防汛值班的通知", "summary": "今晚起值班",
                                      "audience": {"units": ["{village}"]}}),
    "GET /api/v1/notices/<int:notice_id>": Row(NOTICE_READERS, "/api/v1/notices/{notice}"),
    "POST /api/v1/notices/<int:notice_id>/read": Row(NOTICE_READERS, "/api/v1/notices/{notice}/read"),
    "POST /api/v1/notices/<int:notice_id>/ack": Row(NOTICE_READERS, "/api/v1/notices/{notice}/ack"),
    "POST /api/v1/notices/<int:notice_id>/feedback": Row(NOTICE_READERS, "/api/v1/notices/{notice}/feedback",
                                                         json={}),
    "GET /api/v1/notices/<int:notice_id>/receipts": Row(FOLLOWS_UP, "/api/v1/notices/{notice}/receipts"),
    "POST /api/v1/notices/<int:notice_id>/remind": Row(FOLLOWS_UP, "/api/v1/notices/{notice}/remind"),
    "POST /api/v1/notices/<int:notice_id>/correct": Row(
        FOLLOWS_UP, "/api/v1/notices/{notice}/correct", json={}),
    "POST /api/v1/notices/<int:notice_id>/revoke": Row(
        FOLLOWS_UP, "/api/v1/notices/{notice}/revoke", json={}),

    # Documents: the people in a document's path, and its issuing office
    "GET /documents/": Row(SIGNED_IN, "/documents/"),
    "GET /documents/new": Row(HAS_A_UNIT, "/documents/new"),
    "POST /documents/new": Row(HAS_A_UNIT, "/documents/new", data={"title": ""}),
    "GET /documents/units/choices": Row(SIGNED_IN, "/documents/units/choices?parent_id={town}"),
    "GET /documents/<int:document_id>": Row(AT_RECIPIENT, "/documents/{doc_in}"),
    "POST /documents/<int:document_id>/step": Row(AT_RECIPIENT, "/documents/{doc_in}/step",
                                                  data={"action": "fly"}),
    "GET /documents/<int:document_id>/people": Row(AT_RECIPIENT, "/documents/{doc_in}/people?q=李"),
    "GET /documents/<int:document_id>/sheet": Row(AT_RECIPIENT, "/documents/{doc_in}/sheet"),
    "GET /documents/<int:document_id>/timeline": Row(AT_RECIPIENT, "/documents/{doc_in}/timeline"),
    "GET /documents/<int:document_id>/board": Row("L 404 404 403 403 404 404 404 404 404",
                                                  "/documents/{doc_in}/board"),
    "GET /documents/<int:document_id>/edit": Row("L 404 404 ok 403 404 404 404 404 404",
                                                 "/documents/{doc_draft}/edit"),
    "POST /documents/<int:document_id>/edit": Row("L 404 404 ok 403 404 404 404 404 404",
                                                  "/documents/{doc_draft}/edit", data={"title": ""}),
    "POST /api/v1/documents": Row(SIGNED_IN, "/api/v1/documents", json={"doc_type": "布告"}),
    "GET /api/v1/documents": Row(SIGNED_IN, "/api/v1/documents?q=防汛"),
    "GET /api/v1/documents/<int:document_id>": Row(AT_RECIPIENT, "/api/v1/documents/{doc_in}"),
    "PATCH /api/v1/documents/<int:document_id>": Row("L 404 404 ok 403 404 404 404 404 404",
                                                     "/api/v1/documents/{doc_draft}",
                                                     json={"title": "关于拨付防汛经费的请示"}),
    "POST /api/v1/documents/<int:document_id>/actions": Row(
        AT_RECIPIENT, "/api/v1/documents/{doc_in}/actions", json={"action": "fly"}),
    "GET /api/v1/documents/<int:document_id>/status": Row("L 404 404 403 403 404 404 404 404 404",
                                                          "/api/v1/documents/{doc_in}/status"),
    "GET /api/v1/documents/<int:document_id>/files/<int:attachment_id>": Row(
        AT_RECIPIENT, "/api/v1/documents/{doc_in}/files/{doc_file}"),

    # Data requests (填报): the catalogue for everyone; the units asked (石梁镇's clerk and leader
    # read, its clerk answers); the requesting side (of {town_request}: 石梁镇) follows up
    "GET /api/v1/data/fields": Row(SIGNED_IN, "/api/v1/data/fields?q=人口"),
    "POST /api/v1/data/fields": Row(PUBLISHERS, "/api/v1/data/fields", json={"name": ""}),
    "POST /api/v1/data/requests/preview": Row(
        PUBLISHERS, "/api/v1/data/requests/preview",
        json={"fields": ["{data_field}"], "audience": {"units": ["{village}"]}, "period": "2026"}),
    "POST /api/v1/data/requests": Row(PUBLISHERS, "/api/v1/data/requests",
                                      json={"title": "", "fields": ["{data_field}"]}),
    "GET /api/v1/data/requests/<int:request_id>": Row(AT_RECIPIENT, "/api/v1/data/requests/{data_request}"),
    "GET /api/v1/data/requests/<int:request_id>/units/<int:unit_id>": Row(
        AT_RECIPIENT, "/api/v1/data/requests/{data_request}/units/{town}"),
    "PUT /api/v1/data/requests/<int:request_id>/units/<int:unit_id>": Row(
        "L 404 404 ok 403 404 404 404 404 404", "/api/v1/data/requests/{data_request}/units/{town}",
        json={"values": {}, "version": "first"}),
    "POST /api/v1/data/requests/<int:request_id>/units/<int:unit_id>/feedback": Row(
        AT_RECIPIENT, "/api/v1/data/requests/{data_request}/units/{town}/feedback", json={"kind": "boring"}),
    "GET /api/v1/data/requests/<int:request_id>/status": Row(
        AT_RECIPIENT, "/api/v1/data/requests/{town_request}/status"),
    "GET /api/v1/data/requests/<int:request_id>/export": Row(
        AT_RECIPIENT, "/api/v1/data/requests/{town_request}/export"),
    "POST /api/v1/data/requests/<int:request_id>/remind": Row(
        AT_RECIPIENT, "/api/v1/data/requests/{town_request}/remind"),
    "POST /api/v1/data/requests/<int:request_id>/close": Row(
        AT_RECIPIENT, "/api/v1/data/requests/{spare_request}/close", prepare=_data_request),
    "POST /api/v1/data/requests/<int:request_id>/import": Row(
        "L 404 404 ok 403 404 404 404 404 404", "/api/v1/data/requests/{data_request}/import?dry_run=1",
        data=csv_file("unit_code\n")),
    "GET /api/v1/data/requests/<int:request_id>/import/template": Row(
        "L 404 404 ok 403 404 404 404 404 404", "/api/v1/data/requests/{data_request}/import/template"),
    "POST /api/v1/data/values/import": Row("L 403 403 ok 403 403 403 403 403 403",
                                           "/api/v1/data/values/import?dry_run=1",
                                           data=csv_file("unit_code,field_code,period,value\n")),
    "GET /data/": Row(SIGNED_IN, "/data/"),
    "GET /data/import": Row("L 403 403 ok 403 403 403 403 403 403", "/data/import"),
    "POST /data/import": Row("L 403 403 ok 403 403 403 403 403 403", "/data/import",
                             data=csv_file("unit_code,field_code,period,value\n")),
    "GET /data/new": Row(PUBLISHERS, "/data/new"),
    "POST /data/new": Row(PUBLISHERS, "/data/new", data={"step": "find", "field_q": "人口"}),
    "POST /data/new/check": Row(PUBLISHERS, "/data/new/check", data={"period": "2026"}),
    "GET /data/requests/<int:request_id>": Row(AT_RECIPIENT, "/data/requests/{data_request}"),
    "GET /data/requests/<int:request_id>/units/<int:unit_id>": Row(
        AT_RECIPIENT, "/data/requests/{data_request}/units/{town}"),
    "POST /data/requests/<int:request_id>/units/<int:unit_id>": Row(
        "L 404 404 ok 403 404 404 404 404 404", "/data/requests/{data_request}/units/{town}",
        data={"version": "first"}),
    "POST /data/requests/<int:request_id>/units/<int:unit_id>/feedback": Row(
        AT_RECIPIENT, "/data/requests/{data_request}/units/{town}/feedback", data={"kind": "boring"}),
    "POST /data/requests/<int:request_id>/import": Row(
        "L 404 404 ok 403 404 404 404 404 404", "/data/requests/{data_request}/import",
        data=lambda: {"file": (io.BytesIO(b"unit_code\n"), "x.csv"), "dry_run": "1"}),
    "POST /data/requests/<int:request_id>/remind": Row(AT_RECIPIENT, "/data/requests/{town_request}/remind"),
    "POST /data/requests/<int:request_id>/close": Row(
        AT_RECIPIENT, "/data/requests/{spare_request}/close", prepare=_data_request),
    "GET /api/v1/data/values": Row("L 403 403 ok ok 403 403 403 403 403",
                                   "/api/v1/data/values?unit_id={town}&subtree=1"),

    # Real time: connecting needs a sign-in; a message goes only to a channel one reads
    "SOCKET connect": Row(SIGNED_IN),
    "SOCKET send": Row(IN_CHANNEL),
}


# ---- The world the rows act on ---------------------------------------------------------------------

@dataclass
class World:
    app: Any
    ids: dict[str, int]
    web: dict[str, Any] = field(default_factory=dict)      # persona -> test client with a session
    api: dict[str, Any] = field(default_factory=dict)      # persona -> ApiClient (bearer token)
    tokens: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def next_number(self) -> int:
        self.counter += 1
        return self.counter

    def task_channel(self, persona: str, **targets: list[int]) -> int:
        """A task channel created by `persona`, reaching 石梁镇's subtree unless told otherwise."""
        number = self.next_number()
        body = {"name": f"防汛专班{number}", "purpose": "汛期值班与信息报送",
                "ends_on": (date.today() + timedelta(days=30)).isoformat(),
                **(targets or {"subtree_ids": [self.ids["town"]]})}
        response = self.api[persona].post("/api/v1/channels", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]


class Bearer:
    """A test client that sends one bearer token (or none)."""

    def __init__(self, client, token: str | None) -> None:
        self.client, self.token = client, token

    def open(self, path: str, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.client.open(path, headers=headers, **kw)

    def get(self, path: str, **kw):
        return self.open(path, method="GET", **kw)

    def post(self, path: str, **kw):
        return self.open(path, method="POST", **kw)


def sign_in(app, login: str | None):
    """A session client and a bearer client for `login` (None: anonymous)."""
    web, api = app.test_client(), app.test_client()
    if login is None:
        return web, Bearer(api, None), None
    response = web.post("/auth/login", data={"login": login, "password": PASSWORD})
    assert response.status_code == 302, login
    token = api.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD}).get_json()["token"]
    return web, Bearer(api, token), token


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def build_world(app) -> World:
    """The cast, and the objects of 柯城区 the rows act on, made through the API."""
    with app.app_context():
        unit = {code: db.session.scalar(select(Unit.id).where(Unit.code == code))
                for code in (TOWN, VILLAGE, COUNTY, OFFICE)}
        db.session.get(Unit, unit[OFFICE]).doc_prefix = "柯政办发"
        db.session.commit()
        person = db.session.scalar(select(User).where(User.login == "mp_director"))
        ids = {"town": unit[TOWN], "village": unit[VILLAGE], "county": unit[COUNTY], "office": unit[OFFICE],
               "person": person.id, "membership": person.memberships[0].id}
    world = World(app=app, ids=ids)
    for persona, login in LOGINS.items():
        world.web[persona], world.api[persona], world.tokens[persona] = sign_in(app, login)
    for extra in ("kc_clerk", "kc_leader"):
        world.api[extra] = sign_in(app, extra)[1]
    clerk, leader = world.api["clerk"], world.api["leader"]

    # 石梁镇's leader asks for a channel reaching the whole town, villages too: 柯城区's admin approves.
    ids["channel"] = world.task_channel("leader")
    _ok(world.api["unit_admin"].post(f"/api/v1/channels/{ids['channel']}/decision", json={"approve": True}))
    attachment = _ok(clerk.post("/api/v1/attachments", data=text_file(),
                                content_type="multipart/form-data"), 201)
    ids["attachment"] = attachment["id"]
    ids["message"] = _ok(clerk.post(f"/api/v1/channels/{ids['channel']}/messages", json={
        "body": "今晚八点开始防汛值班", "client_msg_id": "duty-1",
        "attachment_ids": [attachment["id"]]}), 201)["id"]
    # 麻蓬村's secretary asks for a channel reaching beyond 麻蓬村: it waits for 柯城区's admins.
    ids["pending"] = world.task_channel("member", unit_ids=[ids["town"]])

    ids["notice"] = _ok(leader.post("/api/v1/notices", json={
        "title": "关于做好汛期值班的通知", "summary": "各村今晚起二十四小时值班", "body": "……",
        "audience": {"subtrees": [ids["town"]]}, "requires_ack": True}), 201)["id"]

    office_clerk, office_leader = world.api["kc_clerk"], world.api["kc_leader"]
    doc_file = _ok(office_clerk.post("/api/v1/attachments", data=text_file(),
                                     content_type="multipart/form-data"), 201)["id"]
    doc_in = _ok(office_clerk.post("/api/v1/documents", json={
        "doc_type": "通知", "title": "关于做好防汛工作的通知", "urgency": "加急", "security": "非涉密",
        "main_recipients": [ids["town"]], "body": "各乡镇：……",
        "files": [{"attachment_id": doc_file, "caption": "值班表"}]}), 201)["id"]
    for person_api, action in ((office_clerk, "review"), (office_leader, "sign"), (office_clerk, "number"),
                               (office_clerk, "dispatch"), (clerk, "sign_for"), (clerk, "register")):
        _ok(person_api.post(f"/api/v1/documents/{doc_in}/actions", json={"action": action}))
    ids.update(doc_in=doc_in, doc_file=doc_file)
    ids["doc_draft"] = _ok(clerk.post("/api/v1/documents", json={
        "doc_type": "请示", "title": "关于拨付防汛经费的请示", "urgency": "平件", "security": "非涉密",
        "main_recipients": [ids["county"]], "body": "区政府：……"}), 201)["id"]

    # 填报: the county office asks 石梁镇's subtree; 石梁镇 asks 麻蓬村 (a field each, no overlap).
    deadline = (date.today() + timedelta(days=10)).isoformat()
    fields = [_ok(office_clerk.post("/api/v1/data/fields", json={
        "name": name, "kind": "integer", "period_kind": "year", "unit_of_measure": "人"}), 201)["id"]
        for name in ("常住人口", "60岁以上人口")]
    ids["data_field"] = fields[1]
    ids["data_request"] = _ok(office_clerk.post("/api/v1/data/requests", json={
        "title": "关于报送常住人口的通知", "purpose": "年度统计公报", "fields": [fields[0]],
        "audience": {"subtrees": [ids["town"]]}, "period": "2026", "deadline": deadline}), 201)["id"]
    ids["town_request"] = _ok(leader.post("/api/v1/data/requests", json={
        "title": "关于报送老年人口的通知", "purpose": "养老服务规划", "fields": [fields[1]],
        "audience": {"units": [ids["village"]]}, "period": "2026", "deadline": deadline}), 201)["id"]
    return world


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory, password_hash):
    """One app and database for the whole matrix, per backend."""
    folder = tmp_path_factory.mktemp(f"authz-{request.param}")
    if request.param == "sqlite":
        path = folder / "hub.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        uri = f"sqlite:///{path}"
    else:
        uri = request.getfixturevalue("pg_server").create_database("hub_authz")
        _migrate(folder, uri)
    app = create_app(base_config(folder, uri))
    with app.app_context():
        seed_cast(password_hash)
    yield build_world(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def counted(request):
    """Count the matrix's tests in the suite's per-backend summary (CI checks it)."""
    if "world" in request.fixturenames:
        _ran[request.node.callspec.params["world"]] += 1


# ---- Running a row -----------------------------------------------------------------------------------

def outcome(response) -> str:
    """The cell a response falls in (see the module docstring)."""
    status = response.status_code
    if status == 401 or (300 <= status < 400 and "/auth/login" in response.headers.get("Location", "")):
        return "L"
    if status in (403, 404):
        return str(status)
    if status < 400 or status in (400, 409, 413, 429):
        return "ok"
    return str(status)


def _fill(value: Any, ids: dict[str, int]) -> Any:
    """Put the world's ids into a body: "{town}" becomes the id (an int in JSON)."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def row_request(row: Row, ids: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The path and the body of a row's request, with the world's ids filled in
    (the rule tests of tests/test_authz_*.py send the same requests)."""
    path = row.path.format_map(ids)
    kwargs: dict[str, Any] = {}
    if row.json is not None:
        kwargs["json"] = _fill(row.json, ids)
    elif row.data is not None:
        data = row.data() if callable(row.data) else row.data
        kwargs["data"] = {key: str(_fill(value, ids)) if isinstance(value, str) else value
                          for key, value in data.items()}
    return path, kwargs


def http_cell(world: World, method: str, row: Row, persona: str) -> tuple[str, str]:
    """Send the row's request as `persona`; the cell it falls in, and what was seen."""
    ids = dict(world.ids)
    if row.prepare is not None:
        ids.update(row.prepare(world))
    path, kwargs = row_request(row, ids)
    api = path.startswith("/api/")
    if row.fresh:
        web, bearer, _ = sign_in(world.app, LOGINS[persona])
        client = bearer if api else web
    else:
        client = world.api[persona] if api else world.web[persona]
    response = client.open(path, method=method, **kwargs)
    cell = outcome(response)
    if row.signs_out and LOGINS[persona] is not None and response.headers.get("Location") == "/auth/login":
        cell = "ok"
    return cell, f"{response.status_code} {method} {path}"


def socket_cell(world: World, event: str, persona: str) -> tuple[str, str]:
    """Connect as `persona` (by token), and for `send` post to the task channel."""
    token = world.tokens[persona]
    client = socketio.test_client(world.app, auth={"token": token} if token else None)
    try:
        if not client.is_connected():
            return "L", "refused"
        if event == "connect":
            return "ok", "connected"
        number = world.next_number()
        answer = client.emit("send", {"channel_id": world.ids["channel"], "body": f"水位正常{number}",
                                      "client_msg_id": f"s{number}"}, callback=True)
        code = (answer.get("error") or {}).get("code")
        cell = {"not_found": "404", "not_allowed": "403", None: "ok"}.get(code, code)
        return cell, str(answer)
    finally:
        if client.is_connected():
            client.disconnect()


# ---- The tests ----------------------------------------------------------------------------------------

def test_every_route_and_event_has_a_row(world):
    """A new route or event fails here until its row says who may use it."""
    app = world.app
    served = {f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    served |= {f"SOCKET {event}" for event in socketio.server.handlers.get("/", {})}
    missing, stale = sorted(served - set(MATRIX)), sorted(set(MATRIX) - served)
    assert missing == [], f"routes or events without a row in MATRIX: {missing}"
    assert stale == [], f"rows of MATRIX for routes or events that no longer exist: {stale}"
    for key, row in MATRIX.items():
        assert len(row.expect.split()) == len(PERSONAS), key


@pytest.mark.parametrize("key", list(MATRIX))
def test_the_matrix(world, key):
    row = MATRIX[key]
    expected = dict(zip(PERSONAS, row.expect.split()))
    wrong = []
    method, target = key.split(" ", 1)
    for persona in PERSONAS:
        if method == "SOCKET":
            got, detail = socket_cell(world, target, persona)
        else:
            got, detail = http_cell(world, method, row, persona)
        if got != expected[persona]:
            wrong.append(f"{persona} ({LOGINS[persona]}): expected {expected[persona]}, got {got} — {detail}")
    assert wrong == [], "\n".join(wrong)


def test_only_signing_in_is_open_to_anonymous_callers():
    """No sign-up anywhere: the rows open to anonymous callers are signing in,
    the API description, the health check, static files and the web app's service
    worker and offline page (which show nobody's data), and the sign-in page's
    language switch (a cookie of the browser)."""
    open_rows = {key for key, row in MATRIX.items() if row.expect.split()[0] != "L"}
    assert open_rows == {"GET /auth/login", "POST /auth/login", "POST /auth/language",
                         "POST /api/v1/auth/token", "GET /api/v1/openapi.json", "GET /healthz",
                         "GET /static/<path:filename>", "GET /sw.js", "GET /offline"}


# ---- Moving out of a unit ends its access at once ------------------------------------------------------

def _unit_channel(person, name: str) -> int:
    channels = person.get("/api/v1/channels").get_json()["items"]
    return next(c["id"] for c in channels if c["kind"] == "unit" and c["name"] == name)


def _payload(event: dict) -> dict:
    # The test client keeps a "message" event's one argument as it is, other events' in a list.
    return event["args"][0] if isinstance(event["args"], list) else event["args"]


def test_a_person_moved_out_of_a_unit_loses_it_on_the_next_request_and_event(app, api, ids):
    secretary = api("mp_secretary")
    village = _unit_channel(secretary, "麻蓬村委会")
    page = app.test_client()
    page.post("/auth/login", data={"login": "mp_secretary", "password": PASSWORD})
    live = socketio.test_client(app, auth={"token": secretary.token})
    assert secretary.get(f"/api/v1/channels/{village}/messages").status_code == 200
    assert page.get(f"/channels/{village}").status_code == 200
    assert "id" in live.emit("send", {"channel_id": village, "body": "今晚我值班", "client_msg_id": "m1"},
                             callback=True)
    live.get_received()
    api("mp_director").post(f"/api/v1/channels/{village}/messages",
                            json={"body": "辛苦了", "client_msg_id": "d0"})
    assert [_payload(e)["body"] for e in live.get_received() if e["name"] == "message"] == ["辛苦了"]

    moved = api("admin").patch(f"/api/v1/people/{ids.user('mp_secretary')}",
                               json={"unit_id": ids.unit("330803100"), "position": "干事"})
    assert moved.status_code == 200

    assert secretary.get(f"/api/v1/channels/{village}/messages").status_code == 404
    assert page.get(f"/channels/{village}").status_code == 404
    answer = live.emit("send", {"channel_id": village, "body": "还在吗", "client_msg_id": "m2"},
                       callback=True)
    assert answer["error"]["code"] == "not_found"
    api("mp_director").post(f"/api/v1/channels/{village}/messages",
                            json={"body": "明早八点村委会议", "client_msg_id": "d1"})
    assert [e for e in live.get_received() if e["name"] == "message"] == []      # nor pushed to
    town = _unit_channel(secretary, "上方镇")
    assert "id" in live.emit("send", {"channel_id": town, "body": "报到", "client_msg_id": "m3"},
                             callback=True)
    live.disconnect()


def test_a_clerk_moved_out_loses_the_units_documents_on_the_next_request(app, api, ids):
    with app.app_context():
        db.session.scalar(select(Unit).where(Unit.code == OFFICE)).doc_prefix = "柯政办发"
        db.session.commit()
    office_clerk, office_leader = api("kc_clerk"), api("kc_leader")
    document = _ok(office_clerk.post("/api/v1/documents", json={
        "doc_type": "通知", "title": "关于做好防汛工作的通知", "urgency": "加急", "security": "非涉密",
        "main_recipients": [ids.unit(TOWN)], "body": "各乡镇：……"}), 201)["id"]
    for person, action in ((office_clerk, "review"), (office_leader, "sign"), (office_clerk, "number"),
                           (office_clerk, "dispatch")):
        _ok(person.post(f"/api/v1/documents/{document}/actions", json={"action": action}))
    clerk = api("sl_clerk")
    assert clerk.get(f"/api/v1/documents/{document}").status_code == 200
    moved = api("kc_admin").patch(f"/api/v1/people/{ids.user('sl_clerk')}",
                                  json={"unit_id": ids.unit(VILLAGE), "position": "村文书"})
    assert moved.status_code == 200
    assert clerk.get(f"/api/v1/documents/{document}").status_code == 404
    assert clerk.post(f"/api/v1/documents/{document}/actions", json={"action": "sign_for"}).status_code == 404


def test_a_form_naming_a_document_one_cannot_open_shows_nothing_of_it(app, api, login, client, ids):
    """The draft form re-rendered (查找) with a 请示 id typed in: its title shows
    only to someone who may open that document."""
    asked = _ok(api("sl_clerk").post("/api/v1/documents", json={
        "doc_type": "请示", "title": "关于拨付防汛经费的请示", "urgency": "平件", "security": "非涉密",
        "main_recipients": [ids.unit(COUNTY)], "body": "区政府：……"}), 201)["id"]
    form = {"doc_type": "批复", "title": "", "replies_to_id": str(asked), "find": "1"}
    login("sf_member")
    assert "拨付防汛经费" not in client.post("/documents/new", data=form).get_data(as_text=True)
    client.post("/auth/logout")
    login("sl_clerk")
    assert "拨付防汛经费" in client.post("/documents/new", data=form).get_data(as_text=True)
