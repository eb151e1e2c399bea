"""Documents through the API: every step allowed and refused, who may open what,
joint documents, 请示 and 批复, reminders and files (API.md "Documents").
Bad input and naughty strings are in test_api_input.py."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from hub.db import utcnow
from hub.documents.models import DocumentRecipient
from hub.extensions import db
from tests.documents.steps import (COUNTY, OFFICE, OTHER_TOWN, TOWN, act, actions_of, dispatched,
                                   make_person, notice, ok, outgoing, refused, set_office_prefix,
                                   upload)
from tests.files import PDF, PNG, docx_bytes


@pytest.fixture(autouse=True)
def office_prefix(app):
    set_office_prefix(app)


# ---- the outgoing flow (发文) --------------------------------------------------------------

def test_outgoing_steps_in_order_by_the_right_roles(api, ids):
    clerk, leader = api("kc_clerk"), api("kc_leader")
    created = ok(clerk.post("/api/v1/documents", json=notice(ids)), 201)
    document = created["id"]
    assert (created["status"], created["number"], created["security"]) == ("draft", None, "非涉密")
    assert actions_of(created) == ["draft"] and created["timeline"][0]["by"] == "吴文书"

    assert "核稿" in refused(act(leader, document, "review"), 403)["message"]
    assert "核稿" in refused(act(leader, document, "sign"), 409)["message"]
    refused(act(clerk, document, "number"), 409)
    ok(act(clerk, document, "review", comment="文字已核。"))
    refused(act(clerk, document, "review"), 409)
    assert "领导" in refused(act(clerk, document, "sign"), 403)["message"]
    refused(act(clerk, document, "dispatch"), 409)
    signed = ok(act(leader, document, "sign", comment="同意印发。"))
    assert signed["status"] == "signed" and signed["written_on"]
    assert signed["issuers"] == [{"unit_id": ids.unit(OFFICE), "name": "柯城区人民政府办公室", "signed": True,
                                  "signer": "郑主任"}]
    refused(act(leader, document, "sign"), 409)
    refused(act(leader, document, "number"), 403)
    numbered = ok(act(clerk, document, "number"))
    year = numbered["number"][5:9]
    assert numbered["number"] == f"柯政办发〔{year}〕1号"
    refused(act(clerk, document, "number"), 409)
    refused(act(leader, document, "dispatch"), 403)
    sent = ok(act(clerk, document, "dispatch"))
    assert sent["status"] == "dispatched" and sent["dispatched_at"]
    refused(act(clerk, document, "dispatch"), 409)
    refused(act(clerk, document, "return", comment="再改改"), 409)
    assert actions_of(sent) == ["draft", "review", "sign", "number", "dispatch"]
    assert [(s["by"], s["comment"]) for s in sent["timeline"][1:3]] == [("吴文书", "文字已核。"),
                                                                         ("郑主任", "同意印发。")]
    assert [(r["unit_id"], r["status"]) for r in sent["recipients"]] == [(ids.unit(TOWN), "pending")]


def test_a_draft_is_edited_by_its_author_and_returned_with_a_reason(api, ids):
    clerk, leader = api("kc_clerk"), api("kc_leader")
    document = ok(clerk.post("/api/v1/documents", json=notice(ids, notes="联系人：吴文书")), 201)["id"]
    edited = ok(clerk.patch(f"/api/v1/documents/{document}", json={
        "title": "关于做好冬季防火工作的通知", "copy_recipients": [ids.unit(OTHER_TOWN)]}))
    assert edited["title"] == "关于做好冬季防火工作的通知" and edited["notes"] == "联系人：吴文书"
    assert edited["main_recipients"] == [ids.unit(TOWN)]
    assert edited["copy_recipients"] == [ids.unit(OTHER_TOWN)]
    refused(leader.patch(f"/api/v1/documents/{document}", json={"title": "改"}), 403)
    refused(api("sl_clerk").patch(f"/api/v1/documents/{document}", json={"title": "改"}), 404)
    ok(act(clerk, document, "review"))
    refused(clerk.patch(f"/api/v1/documents/{document}", json={"title": "改"}), 409)
    refused(act(leader, document, "return"), 400, "comment")
    returned = ok(act(leader, document, "return", comment="请补充责任分工。"))
    assert returned["status"] == "draft" and returned["timeline"][-1]["comment"] == "请补充责任分工。"
    ok(clerk.patch(f"/api/v1/documents/{document}", json={"body": "一、责任分工……"}))
    assert actions_of(ok(clerk.get(f"/api/v1/documents/{document}"))) == ["draft", "edit", "review", "return",
                                                                          "edit"]


# ---- who may open a document --------------------------------------------------------------

@pytest.mark.parametrize("outsider", ["sf_member", "qj_admin", "mp_secretary", "admin"])
def test_outsiders_get_404_for_the_document_its_steps_and_its_files(api, ids, outsider):
    clerk = api("kc_clerk")
    body_file = upload(clerk, "正文.pdf", PDF)
    document = dispatched(api, ids, files=[{"attachment_id": body_file, "is_body": True}])
    person = api(outsider)
    for response in (person.get(f"/api/v1/documents/{document}"),
                     act(person, document, "sign_for"),
                     act(person, document, "remind", unit_id=ids.unit(TOWN)),
                     person.patch(f"/api/v1/documents/{document}", json={"title": "x"}),
                     person.get(f"/api/v1/documents/{document}/status"),
                     person.get(f"/api/v1/documents/{document}/files/{body_file}"),
                     person.get(f"/api/v1/documents/{document}/files/{body_file}?preview=1"),
                     person.get(f"/api/v1/attachments/{body_file}")):
        refused(response, 404)
    assert ok(person.get("/api/v1/documents"))["items"] == []


def test_a_draft_stays_with_the_issuing_office_until_dispatched(api, ids):
    document = ok(api("kc_clerk").post("/api/v1/documents", json=notice(ids)), 201)["id"]
    for login in ("sl_clerk", "sl_leader", "sf_member"):
        refused(api(login).get(f"/api/v1/documents/{document}"), 404)
    ok(api("kc_leader").get(f"/api/v1/documents/{document}"))
    refused(api("kc_leader").get("/api/v1/documents/999999"), 404)
    refused(api("kc_leader").get(f"/api/v1/documents/{10 ** 20}"), 404)


# ---- the incoming flow (收文) at a town ---------------------------------------------------

def test_incoming_steps_at_a_town_in_order_by_the_right_roles(api, ids):
    document = dispatched(api, ids, deadline="2026-12-01")
    clerk, leader, sender = api("sl_clerk"), api("sl_leader"), api("kc_clerk")
    secretary, director = api("mp_secretary"), api("mp_director")

    seen = ok(clerk.get(f"/api/v1/documents/{document}"))
    assert [r["unit_id"] for r in seen["recipients"]] == [ids.unit(TOWN)]
    assert seen["unit_id"] == ids.unit(TOWN)
    refused(leader.get(f"/api/v1/documents/{document}"), 404)        # the leader's turn comes at registration
    assert "签收" in refused(act(clerk, document, "register"), 409)["message"]
    refused(act(sender, document, "sign_for"), 403)                   # the sender is not the town's clerk
    first = ok(act(clerk, document, "sign_for"))
    again = ok(act(clerk, document, "sign_for"))                      # idempotent
    assert actions_of(again).count("sign_for") == 1 and first["recipients"][0]["signed_for_at"]
    assert again["recipients"][0]["signed_for_at"] == first["recipients"][0]["signed_for_at"]

    registered = ok(act(clerk, document, "register"))
    assert registered["recipients"][0]["register_number"].endswith("〕1号")
    refused(act(clerk, document, "register"), 409)
    refused(act(clerk, document, "propose"), 400, "comment")
    refused(act(clerk, document, "assign", user_ids=[ids.user("mp_secretary")]), 409)
    ok(act(clerk, document, "propose", comment="拟请徐书记阅示，交麻蓬村落实。"))
    refused(act(leader, document, "propose", comment="我来拟办"), 403)
    assert "领导" in refused(act(clerk, document, "instruct", comment="同意"), 403)["message"]
    refused(act(clerk, document, "complete"), 409)                    # not instructed yet
    ok(act(leader, document, "instruct", comment="同意拟办意见，请抓紧落实。"))
    refused(act(leader, document, "instruct", comment="再批一次"), 409)

    refused(secretary.get(f"/api/v1/documents/{document}"), 404)      # not in its path yet
    refused(act(clerk, document, "assign", user_ids=[ids.user("sf_member")]), 400, "user_ids")
    refused(act(clerk, document, "assign", user_ids=[]), 400, "user_ids")
    handlers = [ids.user("mp_secretary"), ids.user("mp_director")]
    assigned = ok(act(clerk, document, "assign", user_ids=handlers))
    tasks = assigned["recipients"][0]["tasks"]
    assert [(t["name"], t["kind"], t["lead"]) for t in tasks] == [("王建军", "handle", True),
                                                                   ("李秀英", "handle", False)]
    ok(secretary.get(f"/api/v1/documents/{document}"))
    ok(act(clerk, document, "circulate", user_ids=[ids.user("sl_leader"), ids.user("mp_director")],
           in_order=True))
    assert "轮到" in refused(act(director, document, "mark_read"), 409)["message"]
    refused(act(secretary, document, "mark_read"), 403)               # not circulated to him
    ok(act(leader, document, "mark_read", comment="阅。"))
    ok(act(director, document, "mark_read"))
    refused(act(director, document, "mark_read"), 409)

    ok(act(clerk, document, "remind", comment="请本周内办结"))
    assert refused(act(clerk, document, "remind"), 429)["code"] == "too_soon"
    refused(act(clerk, document, "archive"), 409)
    refused(act(director, document, "complete"), 403)                 # not the lead handler
    ok(act(secretary, document, "complete", comment="已完成隐患排查。"))
    refused(act(secretary, document, "complete"), 409)
    refused(act(secretary, document, "reply"), 400, "comment")
    ok(act(secretary, document, "reply", comment="我村已完成全部隐患排查。"))
    refused(act(secretary, document, "reply", comment="再答复"), 409)
    refused(act(secretary, document, "archive"), 403)
    done = ok(act(clerk, document, "archive"))
    assert done["recipients"][0]["status"] == "archived"
    assert actions_of(done) == [
        "draft", "review", "sign", "number", "dispatch", "sign_for", "register", "propose", "instruct",
        "assign", "circulate", "mark_read", "mark_read", "remind", "complete", "reply", "archive"]

    board = ok(sender.get(f"/api/v1/documents/{document}/status"))["items"]
    assert [(r["name"], r["status"], r["replied"], r["overdue"]) for r in board] == [
        ("石梁镇", "archived", True, False)]
    assert board[0]["signed_for_at"] == first["recipients"][0]["signed_for_at"]
    assert ok(sender.get(f"/api/v1/documents/{document}"))["recipients"][0]["replied"] is True
    refused(clerk.get(f"/api/v1/documents/{document}/status"), 403)   # the board is the sender's


def test_the_sender_reminds_a_unit_at_most_every_four_hours(app, api, ids):
    document = dispatched(api, ids, main_recipients=[ids.unit(TOWN), ids.unit(OTHER_TOWN)])
    sender = api("kc_clerk")
    reminded = ok(act(sender, document, "remind", unit_id=ids.unit(TOWN)))
    assert reminded["timeline"][-1]["action"] == "remind" and "石梁镇" in reminded["timeline"][-1]["detail"]
    error = refused(act(sender, document, "remind", unit_id=ids.unit(TOWN)), 429)
    assert error["code"] == "too_soon" and "4 小时" in error["message"]
    ok(act(sender, document, "remind", unit_id=ids.unit(OTHER_TOWN)))     # another unit: its own clock
    refused(act(sender, document, "remind"), 400, "unit_id")
    refused(act(sender, document, "remind", unit_id=ids.unit(COUNTY)), 400, "unit_id")
    refused(act(sender, document, "remind", unit_id=str(ids.unit(TOWN))), 400, "unit_id")
    refused(act(api("kc_leader"), document, "remind", unit_id=ids.unit(TOWN)), 403)
    board = ok(sender.get(f"/api/v1/documents/{document}/status"))["items"]
    assert all(row["last_reminded_at"] for row in board)
    with app.app_context():
        earlier = utcnow() - timedelta(hours=4, minutes=1)
        db.session.execute(update(DocumentRecipient).values(last_reminded_at=earlier))
        db.session.commit()
    ok(act(sender, document, "remind", unit_id=ids.unit(TOWN)))


def test_a_step_on_a_document_not_yet_dispatched_is_409(api, ids):
    document = ok(api("kc_clerk").post("/api/v1/documents", json=notice(ids)), 201)["id"]
    assert "分发" in refused(act(api("kc_clerk"), document, "sign_for"), 409)["message"]


# ---- joint documents and 请示 → 批复 -------------------------------------------------------

def test_a_joint_document_needs_every_issuers_leader(app, api, ids):
    make_person(app, "kc_head", "柯区长", COUNTY, "区长", "leader")
    clerk, leader, head = api("kc_clerk"), api("kc_leader"), api("kc_head")
    refused(clerk.post("/api/v1/documents", json=notice(ids, joint_issuers=[999999])), 400, "joint_issuers")
    document = ok(clerk.post("/api/v1/documents", json=notice(ids, joint_issuers=[ids.unit(COUNTY)])), 201)
    assert [i["name"] for i in document["issuers"]] == ["柯城区人民政府办公室", "柯城区"]
    ok(head.get(f"/api/v1/documents/{document['id']}"))               # an issuer's leader may open it
    ok(act(clerk, document["id"], "review"))
    half = ok(act(leader, document["id"], "sign"))
    assert half["status"] == "reviewed" and [i["signed"] for i in half["issuers"]] == [True, False]
    assert half["written_on"] is None
    assert "签发过" in refused(act(leader, document["id"], "sign"), 409)["message"]
    refused(act(clerk, document["id"], "number"), 409)
    signed = ok(act(head, document["id"], "sign"))
    assert signed["status"] == "signed" and signed["written_on"]
    assert [i["signer"] for i in signed["issuers"]] == ["郑主任", "柯区长"]
    assert actions_of(signed).count("sign") == 2
    ok(act(clerk, document["id"], "number"))


def test_a_reply_links_to_its_request_and_the_board_shows_it(api, ids):
    town_clerk, town_leader, office = api("sl_clerk"), api("sl_leader"), api("kc_clerk")
    request_body = notice(ids, doc_type="请示", title="关于申请森林防火专项经费的请示",
                          main_recipients=[ids.unit(OFFICE)], urgency="平件")
    asked = ok(town_clerk.post("/api/v1/documents", json=request_body), 201)["id"]
    sent = outgoing(api, asked, clerk="sl_clerk", leader="sl_leader")
    assert sent["number"].startswith("石梁镇〔")                          # no 代字 set: the unit's name
    ok(act(office, asked, "sign_for"))
    ok(act(office, asked, "register"))

    refused(office.post("/api/v1/documents", json=notice(ids, replies_to_id=asked)), 400, "replies_to_id")
    notice_id = dispatched(api, ids)
    refused(office.post("/api/v1/documents", json=notice(ids, doc_type="批复", replies_to_id=notice_id)),
            400, "replies_to_id")
    refused(office.post("/api/v1/documents", json=notice(ids, doc_type="批复", replies_to_id="1")),
            400, "replies_to_id")
    reply = ok(office.post("/api/v1/documents", json=notice(ids, doc_type="批复", replies_to_id=asked,
                                                           title="关于同意拨付森林防火专项经费的批复")), 201)
    assert reply["replies_to_id"] == asked
    board = ok(town_clerk.get(f"/api/v1/documents/{asked}/status"))["items"]
    assert [(r["name"], r["replied"]) for r in board] == [("柯城区人民政府办公室", False)]
    outgoing(api, reply["id"])
    board = ok(town_leader.get(f"/api/v1/documents/{asked}/status"))["items"]
    assert [(r["name"], r["status"], r["replied"]) for r in board] == [
        ("柯城区人民政府办公室", "registered", True)]
    answer = ok(town_clerk.get(f"/api/v1/documents/{reply['id']}"))
    assert answer["replies_to_id"] == asked and answer["doc_type"] == "批复"


# ---- files ----------------------------------------------------------------------------------

def test_files_travel_with_the_document_and_are_fetched_with_access_rechecked(api, ids):
    clerk = api("kc_clerk")
    body_file, annex, photo = upload(clerk, "正文.pdf", PDF), upload(clerk, "排查表.docx", docx_bytes()), \
        upload(clerk, "现场.png", PNG)
    theirs = upload(api("sl_clerk"), "别人的.pdf", PDF)
    bad = [([{"attachment_id": photo, "is_body": True}], "正文"),
           ([{"attachment_id": theirs}], None),
           ([{"attachment_id": body_file, "is_body": True}, {"attachment_id": annex, "is_body": True}], None),
           ([{"attachment_id": annex}, {"attachment_id": annex}], None),
           ([{"attachment_id": annex, "caption": "说" * 201}], None)]
    for files, words in bad:
        error = refused(clerk.post("/api/v1/documents", json=notice(ids, files=files)), 400, "files")
        assert words is None or words in error["message"]
    files = [{"attachment_id": body_file, "is_body": True},
             {"attachment_id": annex, "caption": "附件：森林火灾隐患排查表"},
             {"attachment_id": photo, "caption": "现场照片"}]
    document = ok(clerk.post("/api/v1/documents", json=notice(ids, files=files)), 201)
    assert [(f["filename"], f["is_body"], f["caption"]) for f in document["files"]] == [
        ("正文.pdf", True, None), ("排查表.docx", False, "附件：森林火灾隐患排查表"),
        ("现场.png", False, "现场照片")]
    again = refused(clerk.post("/api/v1/documents", json=notice(ids, files=[{"attachment_id": annex}])),
                    400, "files")
    assert "已被使用" in again["message"]
    channel = next(c["id"] for c in ok(clerk.get("/api/v1/channels"))["items"])
    message = {"body": "见附件", "attachment_ids": [annex]}
    refused(clerk.post(f"/api/v1/channels/{channel}/messages", json=message), 400, "attachment_ids")

    url = f"/api/v1/documents/{document['id']}/files"
    town = api("sl_clerk")
    refused(town.get(f"{url}/{body_file}"), 404)                         # not dispatched yet
    refused(town.get(f"/api/v1/attachments/{body_file}"), 404)
    outgoing(api, document["id"])
    download = town.get(f"{url}/{body_file}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    preview = town.get(f"{url}/{body_file}?preview=1")
    assert preview.status_code == 200 and preview.data == PDF and preview.mimetype == "application/pdf"
    assert preview.headers["Content-Disposition"].startswith("inline")
    assert preview.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    refused(town.get(f"{url}/{annex}?preview=1"), 400, "preview")
    refused(town.get(f"{url}/{photo}?preview=1"), 400, "preview")
    refused(town.get(f"{url}/{body_file}?preview=maybe"), 400, "preview")
    assert town.get(f"{url}/{annex}").data == docx_bytes()
    assert town.get(f"/api/v1/attachments/{annex}").status_code == 200   # the same file, by its own URL
    refused(town.get(f"{url}/{theirs}"), 404)                             # not a file of this document
    refused(town.get(f"{url}/{10 ** 20}"), 404)
    refused(api("sf_member").get(f"{url}/{body_file}"), 404)
    refused(api("mp_secretary").get(f"/api/v1/attachments/{annex}"), 404)
