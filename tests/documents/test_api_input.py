"""Documents through the API, bad input: classified levels, recipients outside
the tree or retired, malformed drafts, steps and searches (400 naming the field,
never a 500), and naughty strings stored exactly."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.org.models import Unit
from hub.validation import text_problem
from tests.documents.steps import (OFFICE, OTHER_TOWN, TOWN, act, dispatched, notice, ok, refused,
                                   set_office_prefix)
from tests.naughty import naughty_strings


@pytest.fixture(autouse=True)
def office_prefix(app):
    set_office_prefix(app)


# ---- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["秘密", "机密", "绝密"])
def test_classified_documents_are_refused(api, ids, level):
    clerk = api("kc_clerk")
    error = refused(clerk.post("/api/v1/documents", json=notice(ids, security=level)), 400, "security")
    assert level in error["message"] and "非涉密" in error["message"]
    draft = ok(clerk.post("/api/v1/documents", json=notice(ids)), 201)["id"]
    refused(clerk.patch(f"/api/v1/documents/{draft}", json={"security": level}), 400, "security")
    assert ok(clerk.get(f"/api/v1/documents/{draft}"))["security"] == "非涉密"


def test_recipients_that_do_not_exist_or_are_retired_are_refused(app, api, ids):
    clerk = api("kc_clerk")
    for field in ("main_recipients", "copy_recipients"):
        refused(clerk.post("/api/v1/documents", json=notice(ids, **{field: [999999]})), 400, field)
    document = ok(clerk.post("/api/v1/documents", json=notice(ids, copy_recipients=[ids.unit(OTHER_TOWN)])),
                  201)
    with app.app_context():
        db.session.scalar(select(Unit).where(Unit.code == OTHER_TOWN)).active = False
        db.session.commit()
    refused(clerk.post("/api/v1/documents", json=notice(ids, main_recipients=[ids.unit(OTHER_TOWN)])),
            400, "main_recipients")
    refused(clerk.post("/api/v1/documents", json=notice(ids, copy_recipients=[ids.unit(OTHER_TOWN)])),
            400, "copy_recipients")
    ok(act(clerk, document["id"], "review"))                # retired after drafting: dispatch says so
    ok(act(api("kc_leader"), document["id"], "sign"))
    ok(act(clerk, document["id"], "number"))
    assert "上方镇" in refused(act(clerk, document["id"], "dispatch"), 409)["message"]


@pytest.mark.parametrize("change,field", [
    ({"doc_type": "公函"}, "doc_type"),
    ({"doc_type": ["通知"]}, "doc_type"),
    ({"urgency": "急"}, "urgency"),
    ({"security": "内部"}, "security"),
    ({"security": None}, "security"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "题" * 201}, "title"),
    ({"title": 123}, "title"),
    ({"title": "a\x00b"}, "title"),
    ({"body": 123}, "body"),
    ({"notes": ["x"]}, "notes"),
    ({"deadline": "2026-13-01"}, "deadline"),
    ({"deadline": 20261201}, "deadline"),
    ({"main_recipients": []}, "main_recipients"),
    ({"main_recipients": "1,2"}, "main_recipients"),
    ({"main_recipients": ["1"]}, "main_recipients"),
    ({"main_recipients": [10 ** 12]}, "main_recipients"),
    ({"copy_recipients": {"id": 1}}, "copy_recipients"),
    ({"joint_issuers": "x"}, "joint_issuers"),
    ({"replies_to_id": True}, "replies_to_id"),
    ({"replies_to_id": 10 ** 12}, "replies_to_id"),
    ({"files": "x"}, "files"),
    ({"files": [{"attachment_id": "1"}]}, "files"),
    ({"files": [{"attachment_id": 10 ** 12}]}, "files"),
    ({"files": [{"attachment_id": 999999}]}, "files"),
    ({"files": [1]}, "files"),
])
def test_a_bad_draft_is_400_naming_the_field(api, ids, change, field):
    refused(api("kc_clerk").post("/api/v1/documents", json=notice(ids, **change)), 400, field)


def test_a_body_that_is_not_an_object_is_400(api):
    clerk = api("kc_clerk")
    refused(clerk.post("/api/v1/documents", json=["通知"]), 400, "body")
    refused(clerk.post("/api/v1/documents", data="{", content_type="application/json"), 400, "body")


@pytest.mark.parametrize("fields,field", [
    ({"action": "fly"}, "action"),
    ({"action": None}, "action"),
    ({"action": ["sign_for"]}, "action"),
    ({"action": "assign", "user_ids": "1,2"}, "user_ids"),
    ({"action": "assign", "user_ids": [True]}, "user_ids"),
    ({"action": "sign_for", "unit_id": "abc"}, "unit_id"),
    ({"action": "sign_for", "unit_id": "5"}, "unit_id"),
    ({"action": "sign_for", "unit_id": 1.5}, "unit_id"),
    ({"action": "circulate", "in_order": "maybe"}, "in_order"),
    ({"action": "assign", "lead_id": True}, "lead_id"),
    ({"action": "sign_for", "comment": 123}, "comment"),
    ({"action": "sign_for", "comment": "意" * 2001}, "comment"),
    ({"action": "sign_for", "comment": "a\x00b"}, "comment"),
])
def test_a_bad_step_is_400_naming_the_field(api, ids, fields, field):
    document = dispatched(api, ids)
    refused(api("sl_clerk").post(f"/api/v1/documents/{document}/actions", json=fields), 400, field)


# ---- search ---------------------------------------------------------------------------------

def test_search_by_number_title_type_issuer_date_and_status(api, ids):
    clerk = api("kc_clerk")
    first = dispatched(api, ids)
    second = ok(clerk.post("/api/v1/documents", json=notice(ids, doc_type="函",
                                                            title="关于商请协助开展防汛检查的函")), 201)["id"]

    def found(person=clerk, **args) -> list[int]:
        return [item["id"] for item in ok(person.get("/api/v1/documents", query_string=args))["items"]]

    number = ok(clerk.get(f"/api/v1/documents/{first}"))["number"]
    assert found() == [second, first]
    assert found(q=number) == [first] and found(q="防汛") == [second]
    assert found(doc_type="函") == [second] and found(status="dispatched") == [first]
    assert found(issuer_id=ids.unit(OFFICE)) == [second, first] and found(issuer_id=ids.unit(TOWN)) == []
    assert found(since="2000-01-01", until="2999-12-31") == [second, first]
    assert found(until="2000-01-01") == []
    assert found(q="100%_\\") == []
    assert found(api("sl_clerk")) == [first]                  # the town sees what reached it, not the draft
    assert found(api("sf_member")) == []
    paged = ok(clerk.get("/api/v1/documents?limit=1"))
    assert [i["id"] for i in paged["items"]] == [second] and paged["next"] == second
    rest = ok(clerk.get(f"/api/v1/documents?limit=1&before={paged['next']}"))
    assert [i["id"] for i in rest["items"]] == [first] and rest["next"] is None


@pytest.mark.parametrize("query,field", [
    ("since=2026-02-30", "since"), ("until=yesterday", "until"), ("status=flying", "status"),
    ("doc_type=公函", "doc_type"), ("issuer_id=x", "issuer_id"), ("limit=0", "limit"), ("before=x", "before"),
    ("q=a%00b", "q"), ("q=" + "x" * 101, "q"),
])
def test_a_bad_search_is_400_naming_the_field(api, query, field):
    refused(api("kc_clerk").get(f"/api/v1/documents?{query}"), 400, field)


# ---- naughty strings ------------------------------------------------------------------------

def test_naughty_titles_and_comments_are_stored_exactly_or_refused_cleanly(api, ids):
    clerk = api("kc_clerk")
    town = ids.unit(TOWN)
    stored_titles = stored_comments = 0
    for raw in naughty_strings():
        # Lone surrogates cannot travel in UTF-8 JSON; send what a client could send.
        text = raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
        payload = {"doc_type": "通知", "title": text, "main_recipients": [town]}
        response = clerk.post("/api/v1/documents", content_type="application/json",
                              data=json.dumps(payload, ensure_ascii=False).encode("utf-8"))
        title = text.strip()
        if text_problem(title, max_length=200) is not None:
            refused(response, 400, "title")
            continue
        document = ok(response, 201)
        assert document["title"] == title
        stored_titles += 1
        step = clerk.post(f"/api/v1/documents/{document['id']}/actions",
                          data=json.dumps({"action": "review", "comment": text}, ensure_ascii=False).encode(),
                          content_type="application/json")
        comment = text.replace("\r\n", "\n").strip()
        if text_problem(comment.replace("\n", " ").replace("\t", " "), max_length=2000, required=False):
            refused(step, 400, "comment")
            continue
        reviewed = ok(step)
        assert reviewed["timeline"][-1]["comment"] == (comment or None)
        stored_comments += 1
    assert stored_titles > 400 and stored_comments > 400
    listed = {item["title"] for item in ok(clerk.get("/api/v1/documents?limit=200"))["items"]}
    assert len(listed) > 150
