"""Hub's own bad input, beyond blns: bidi overrides in file names, "收 到" and
"收\\u200b到", CJK Extension B names, 〔〕 and [] in document numbers, NUL and lone
surrogates in JSON bodies, and formula injection in exports."""
from __future__ import annotations

import csv
import io
import json
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.validation import BIDI_CONTROLS
from hub.org.models import Unit
from tests.badinput.fields import as_json
from tests.documents.steps import notice, ok, outgoing, upload

EXT_B = "𠀀𪚥"          # U+20000 and U+2A6A5: outside the BMP, four bytes in UTF-8


def unit_channel(person) -> int:
    return next(c["id"] for c in person.get("/api/v1/channels").get_json()["items"] if c["kind"] == "unit")


# ---- U+202E in file names --------------------------------------------------------------------

def download_name(disposition: str) -> str:
    """The name a browser saves a download under: filename* (RFC 6266) when
    given, else filename. Always an attachment, never with a bidi control."""
    assert disposition.startswith("attachment;"), disposition
    if "filename*=UTF-8''" in disposition:
        name = unquote(disposition.split("filename*=UTF-8''")[-1])
    else:
        name = disposition.split("filename=")[-1].strip('"')
    assert not any(c in name for c in BIDI_CONTROLS), disposition
    return name


@pytest.mark.parametrize("sent,kept", [
    ("invoice\u202etxt.exe", None),                  # the real extension is .exe: refused
    ("invoice\u202efdp.txt", "invoicefdp.txt"),       # shown as "invoicetxt.pdf" if kept
    ("\u2067报告\u2069.txt", "报告.txt"),
    ("../../etc/passwd\u200f.txt", "passwd.txt"),
    (f"{EXT_B}名单.csv", f"{EXT_B}名单.csv"),
])
def test_bidi_controls_are_dropped_from_file_names(shared_api, sent, kept):
    person = shared_api("mp_secretary")
    response = person.post("/api/v1/attachments", data={"file": (io.BytesIO(b"hello"), sent)},
                           content_type="multipart/form-data")
    if kept is None:
        assert response.status_code == 400 and response.get_json()["error"]["field"] == "file"
        return
    assert response.status_code == 201, response.get_json()
    attachment = response.get_json()
    assert attachment["filename"] == kept
    download = person.get(f"/api/v1/attachments/{attachment['id']}")
    assert download.status_code == 200
    assert download_name(download.headers["Content-Disposition"]) == kept


def test_a_document_file_downloads_under_its_cleaned_name(shared_api, shared_ids):
    clerk = shared_api("kc_clerk")
    attachment = upload(clerk, "通知\u202efdp.txt", "正文".encode())
    draft = ok(clerk.post("/api/v1/documents", json=notice(
        shared_ids, files=[{"attachment_id": attachment, "caption": "附件\u202e说明"}])), 201)
    download = clerk.get(f"/api/v1/documents/{draft['id']}/files/{attachment}")
    assert download.status_code == 200
    assert download_name(download.headers["Content-Disposition"]) == "通知fdp.txt"


# ---- 收 到 and 收\u200b到 ---------------------------------------------------------------------

@pytest.mark.parametrize("reply", ["收 到", "收\u200b到", "收\u2060到", "\ufeff收到", "收　到"])
def test_spaced_and_zero_width_shou_dao_are_acknowledgements(shared_api, reply):
    """They look like "收到" to everyone, so they are one: recorded as an
    acknowledgement of the newest message by someone else, not posted."""
    director, secretary = shared_api("mp_director"), shared_api("mp_secretary")
    channel = unit_channel(secretary)
    posted = ok(director.post(f"/api/v1/channels/{channel}/messages", json={"body": "明早八点开会"}), 201)
    answer = ok(secretary.post(f"/api/v1/channels/{channel}/messages", **as_json({"body": reply})))
    assert answer["acknowledged"] == posted["id"] or answer["acknowledged"]["id"] == posted["id"]
    newest = secretary.get(f"/api/v1/channels/{channel}/messages?limit=1").get_json()["items"]
    assert newest[-1]["id"] == posted["id"]


@pytest.mark.parametrize("reply", ["收到\u200b请假", "收\u200b到了吗？", "收 到 明天交"])
def test_shou_dao_with_more_words_is_a_message(shared_api, reply):
    secretary = shared_api("mp_secretary")
    channel = unit_channel(secretary)
    message = ok(secretary.post(f"/api/v1/channels/{channel}/messages", **as_json({"body": reply})), 201)
    assert message["body"] == reply


# ---- CJK Extension B ------------------------------------------------------------------------

def test_extension_b_names_round_trip_and_are_found(shared_api, shared_ids, browser):
    admin = shared_api("admin")
    unit = ok(admin.post("/api/v1/units", **as_json(
        {"code": "EXTB1", "name": f"{EXT_B}村", "parent_id": shared_ids.unit("330802100")})), 201)
    assert unit["name"] == f"{EXT_B}村"
    person = ok(admin.post("/api/v1/people", **as_json(
        {"login": "extb.one", "name": f"王{EXT_B}", "unit_id": unit["id"], "position": f"{EXT_B}主任"})), 201)
    again = ok(admin.get(f"/api/v1/people/{person['id']}"))
    assert again["name"] == f"王{EXT_B}" and again["memberships"][0]["position"] == f"{EXT_B}主任"
    assert again["memberships"][0]["unit_name"] == f"{EXT_B}村"
    found = ok(admin.get("/api/v1/people", query_string={"q": "𪚥"}))["items"]
    assert [p["id"] for p in found] == [person["id"]]
    units = ok(admin.get("/api/v1/units", query_string={"q": "𠀀"}))["items"]
    assert [u["id"] for u in units] == [unit["id"]]
    # Length is counted in characters, not UTF-16 units or bytes: 64 of them fit a name.
    long_name = ok(admin.patch(f"/api/v1/people/{person['id']}", **as_json({"name": "𪚥" * 64})))
    assert long_name["name"] == "𪚥" * 64
    too_long = admin.patch(f"/api/v1/people/{person['id']}", **as_json({"name": "𪚥" * 65}))
    assert too_long.status_code == 400 and too_long.get_json()["error"]["field"] == "name"
    html = browser("admin").get(f"/directory/units/{unit['id']}").get_data(as_text=True)
    assert "𪚥" * 64 in html and f"{EXT_B}村" in html


# ---- 〔〕 and [] in document numbers -------------------------------------------------------------

def test_document_numbers_with_either_bracket(shared_app, shared_api, shared_ids):
    with shared_app.app_context():
        db.session.scalar(select(Unit).where(Unit.code == "330802-GOV")).doc_prefix = "柯政办发"
        db.session.commit()
    clerk = shared_api("kc_clerk")
    title = "关于转发〔2026〕号文和[2026]号文的通知"
    draft = ok(clerk.post("/api/v1/documents", **as_json(notice(shared_ids, title=title))), 201)
    assert draft["title"] == title                         # titles are kept exactly, brackets too
    numbered = outgoing(shared_api, draft["id"])
    number = numbered["number"]
    assert number.startswith("柯政办发〔") and number.endswith("号")
    typed_forms = [number] + [number.replace("〔", left).replace("〕", right)
                              for left, right in ("[]", "【】", "［］")]
    for typed in typed_forms:
        found = ok(clerk.get("/api/v1/documents", query_string={"q": typed}))["items"]
        assert draft["id"] in [d["id"] for d in found], typed
    # A title search with ASCII brackets still matches the title as written.
    found = ok(clerk.get("/api/v1/documents", query_string={"q": "[2026]号文"}))["items"]
    assert draft["id"] in [d["id"] for d in found]


# ---- NUL and lone surrogates ----------------------------------------------------------------------

@pytest.mark.parametrize("path,payload,field", [
    ("/api/v1/channels/{channel}/messages", {"body": "a\u0000b"}, "body"),
    ("/api/v1/channels/{channel}/messages", {"body": "ok", "topic": "t\u0000"}, "topic"),
    ("/api/v1/channels/{channel}/messages", {"body": "\ud800"}, "body"),
    ("/api/v1/suggestions", {"body": "意见\udfff"}, "body"),
    ("/api/v1/suggestions", {"body": "意见", "contact": "\u0000"}, "contact"),
    ("/api/v1/suggestions", {"body": "意见", "\u0000": "x"}, "body"),
    ("/api/v1/suggestions", {"body": "意见", "con\u0000tact": "x"}, "contact"),
])
def test_nul_and_lone_surrogates_are_400_naming_the_field(shared_api, path, payload, field):
    secretary = shared_api("mp_secretary")
    channel = unit_channel(secretary)
    # ensure_ascii: "\\ud800" escapes are valid JSON text even though the string is not valid Unicode.
    response = secretary.post(path.format(channel=channel), data=json.dumps(payload),
                              content_type="application/json")
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_nul_in_notice_and_document_bodies_is_400(shared_api, shared_ids):
    leader, clerk = shared_api("kc_leader"), shared_api("kc_clerk")
    response = leader.post("/api/v1/notices", json={
        "title": "通知", "summary": "摘要", "body": "正文\u0000",
        "audience": {"users": [shared_ids.user("mp_secretary")]}})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "body"
    response = clerk.post("/api/v1/documents", json=notice(shared_ids, body="\u0000"))
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "body"
    response = clerk.get("/api/v1/units", query_string={"q": "a\u0000"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "q"


# ---- Formula injection in exports -------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+1", "-2+3", "@SUM(A1:A2)",
            "＝１＋１", "=cmd|' /C calc'!A0"]


def test_formula_cells_in_the_audit_export_are_quoted(shared_api, shared_ids):
    """The only CSV/XLSX export is the audit log's (hub/audit_export.py; being
    added at the time of writing: skipped where it is not there yet)."""
    export = pytest.importorskip("hub.audit_export")
    admin, auditor = shared_api("admin"), shared_api("auditor")
    for n, name in enumerate(FORMULAS):
        ok(admin.post("/api/v1/units", **as_json({"code": f"F{n}", "name": name,
                                                   "parent_id": shared_ids.unit("330802100")})), 201)
    response = auditor.get("/api/v1/audit/export", query_string={"action": "unit.created"})
    if response.status_code == 404 and not hasattr(export, "safe_cell"):
        pytest.skip("no audit export route yet")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")]
    labels = [cell for cell in cells if cell.lstrip("'") in FORMULAS]
    assert sorted(label.lstrip("'") for label in labels) == sorted(FORMULAS)
    assert all(label.startswith("'") for label in labels)
