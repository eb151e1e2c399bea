"""Documents in the one inbox (API.md: kind "document"): a dispatched document
is an item for the recipient unit's clerks, then for the leader, the handlers
and the readers it reaches; it is unread while it waits for the person."""
from __future__ import annotations

import re

from tests.documents.test_views import YEAR, api_step, dispatched, draft
from tests.factories import page, publish_to_town as publish
from tests.inbox.test_views import rows

TOWN = "330802100"


def inbox(api, login: str, query: str = "") -> dict:
    response = api(login).get(f"/api/v1/inbox{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def kinds(data: dict) -> list[tuple[str, int]]:
    return [(i["kind"], i["id"]) for i in data["items"]]


def documents_of(data: dict) -> list[tuple[int, bool, str]]:
    return [(i["id"], i["read"], i["summary"]) for i in data["items"] if i["kind"] == "document"]


def test_a_dispatched_document_waits_in_the_town_clerks_inbox(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    number = f"柯政办发〔{YEAR}〕1号"
    data = inbox(api, "sl_clerk")
    item = data["items"][0]
    assert (item["kind"], item["id"], item["read"]) == ("document", document, False)
    assert item["title"] == "关于做好2026年冬季森林防火工作的通知"
    assert item["summary"] == f"{number} · 通知 · 待签收"
    assert item["from"]["name"] == "柯城区人民政府办公室" and item["at"]
    assert data["unread"] == 1 and data["documents_waiting"] == 1
    login("sl_clerk")
    html = page(client, "/inbox/")
    assert rows(html) == [("document", str(document))]
    assert f'href="/documents/{document}"' in html and f"{number} · 通知 · 待签收" in html
    assert '<span class="item-unread">未读</span>' in html
    assert '<span class="tag tag-urgent">加急</span>' in html
    assert "待办公文 1 件" in html and "通知都已读过" in html
    # Signing for is the first step; the clerk still registers and proposes.
    api_step(api, document, "sl_clerk", "sign_for")
    assert documents_of(inbox(api, "sl_clerk")) == [(document, False, f"{number} · 通知 · 待登记")]
    api_step(api, document, "sl_clerk", "register")
    assert documents_of(inbox(api, "sl_clerk")) == [(document, False, f"{number} · 通知 · 待拟办")]
    api_step(api, document, "sl_clerk", "propose", comment="拟请徐书记阅示")
    assert documents_of(inbox(api, "sl_clerk")) == [(document, True, f"{number} · 通知 · 已拟办")]
    assert inbox(api, "sl_clerk")["unread"] == 0
    html = page(client, "/inbox/")
    assert '<span class="item-unread">未读</span>' not in html and "待办公文" not in html


def test_the_leader_gets_it_after_registration_and_it_waits_after_the_proposal(app, api, ids):
    document = dispatched(app, api, ids)
    assert documents_of(inbox(api, "sl_leader")) == []
    api_step(api, document, "sl_clerk", "sign_for")
    api_step(api, document, "sl_clerk", "register")
    assert [(i, read) for i, read, _ in documents_of(inbox(api, "sl_leader"))] == [(document, True)]
    api_step(api, document, "sl_clerk", "propose", comment="拟请徐书记阅示")
    assert [(i, read) for i, read, _ in documents_of(inbox(api, "sl_leader"))] == [(document, False)]
    assert documents_of(inbox(api, "sl_leader"))[0][2].endswith("待批办")
    assert inbox(api, "sl_leader", "?unread=1")["items"][0]["id"] == document
    api_step(api, document, "sl_leader", "instruct", comment="同意")
    assert [(i, read) for i, read, _ in documents_of(inbox(api, "sl_leader"))] == [(document, True)]


def test_a_reader_gets_it_when_circulated_and_reads_it(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    for action in ("sign_for", "register"):
        api_step(api, document, "sl_clerk", action)
    assert documents_of(inbox(api, "mp_secretary")) == []
    api_step(api, document, "sl_clerk", "circulate", user_ids=[ids.user("mp_secretary")])
    (item,) = documents_of(inbox(api, "mp_secretary"))
    assert item[:2] == (document, False) and item[2].endswith("待阅")
    login("mp_secretary")
    html = page(client, "/inbox/?kind=document")
    assert rows(html) == [("document", str(document))] and "待阅" in html
    api_step(api, document, "mp_secretary", "mark_read", comment="阅")
    assert documents_of(inbox(api, "mp_secretary"))[0][1] is True
    # Handlers, too: an assignment is an item to do.
    api_step(api, document, "sl_leader", "instruct", comment="同意")
    api_step(api, document, "sl_clerk", "assign", user_ids=[ids.user("mp_director")])
    (item,) = documents_of(inbox(api, "mp_director"))
    assert item[:2] == (document, False) and item[2].endswith("待办理")


def test_the_issuing_office_finds_its_drafts_waiting_and_outsiders_nothing(app, api, ids):
    document = draft(api, ids)
    assert documents_of(inbox(api, "kc_clerk")) == [(document, False, "通知 · 待核稿")]
    assert documents_of(inbox(api, "kc_leader")) == []
    api_step(api, document, "kc_clerk", "review")
    assert documents_of(inbox(api, "kc_leader")) == [(document, False, "通知 · 待签发")]
    for outsider in ("sf_member", "qj_admin", "mp_secretary"):
        assert documents_of(inbox(api, outsider)) == [], outsider


def test_unread_first_and_the_unread_filter_include_documents(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    notice = publish(api, ids, title="关于冬季防火值班的通知")           # newer than the document
    api("sl_clerk").post(f"/api/v1/notices/{notice}/read")
    newest = [(i["kind"], i["id"]) for i in inbox(api, "sl_clerk")["items"]]
    assert newest == [("notice", notice), ("document", document)]
    unread_first = [(i["kind"], i["id"]) for i in inbox(api, "sl_clerk", "?order=unread_first")["items"]]
    assert unread_first == [("document", document), ("notice", notice)]
    assert kinds(inbox(api, "sl_clerk", "?unread=1")) == [("document", document)]
    login("sl_clerk")
    assert rows(page(client, "/inbox/?order=unread_first")) == [
        ("document", str(document)), ("notice", str(notice))]
    assert rows(page(client, "/inbox/?unread=1")) == [("document", str(document))]
    # Paged one at a time, unread first, the cursor crosses from documents to notices.
    first = inbox(api, "sl_clerk", "?order=unread_first&limit=1")
    assert [i["id"] for i in first["items"]] == [document] and first["next"]
    second = inbox(api, "sl_clerk", f"?order=unread_first&limit=1&before={first['next']}")
    assert [(i["kind"], i["id"]) for i in second["items"]] == [("notice", notice)]
    # Newest first, one at a time.
    first = inbox(api, "sl_clerk", "?limit=1")
    second = inbox(api, "sl_clerk", f"?limit=1&before={first['next']}")
    assert [i["kind"] for i in first["items"] + second["items"]] == ["notice", "document"]


def test_the_kind_filter_and_search(app, client, login, api, ids):
    document = dispatched(app, api, ids)
    notice = publish(api, ids)
    assert kinds(inbox(api, "sl_clerk", "?kind=document")) == [("document", document)]
    assert kinds(inbox(api, "sl_clerk", "?kind=notice")) == [("notice", notice)]
    assert [i["id"] for i in inbox(api, "sl_clerk", "?q=森林防火")["items"]] == [document]
    assert [i["id"] for i in inbox(api, "sl_clerk", "?q=柯政办发")["items"]] == [document]
    assert inbox(api, "sl_clerk", "?kind=document&needs_ack=1")["items"] == []
    assert api("sl_clerk").get("/api/v1/inbox?kind=公文").status_code == 400
    login("sl_clerk")
    html = page(client, "/inbox/?kind=document")
    assert rows(html) == [("document", str(document))]
    assert '<option value="document" selected>公文</option>' in html
    nav = r'<nav aria-label="主导航" class="mainnav">.*?href="/documents/"[^>]*>公文</a>'
    assert re.search(nav, html, re.S)
