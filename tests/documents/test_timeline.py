"""The document's path as a timeline on its page: an ordered list of steps (what,
which unit, who, when), oldest first, a page at a time, the next pages through
GET /documents/<id>/timeline with the same access as the page."""
from __future__ import annotations

import re

from hub.documents import views
from tests.documents.steps import TOWN, act, dispatched, ok
from tests.factories import page


def actions(html: str) -> list[str]:
    return re.findall(r'<li class="tl-item" data-action="([a-z_]+)"', html)



def test_the_timeline_is_an_ordered_list_of_who_did_what_when(client, login, api, ids):
    document = dispatched(api, ids)
    ok(act(api("sl_clerk"), document, "sign_for"))
    login("kc_clerk")
    html = page(client, f"/documents/{document}")
    timeline = html.split('<ol class="timeline" data-timeline>')[1].split("</ol>")[0]
    assert actions(timeline) == ["draft", "review", "sign", "number", "dispatch", "sign_for"]
    last = timeline.split('data-action="sign_for"')[1]
    assert '<span class="tl-unit">石梁镇</span>' in last and '<span class="tl-who">周晓梅</span>' in last
    assert re.search(r'<time datetime="[^"]+">', last) and "tl-more" not in timeline


def test_many_steps_come_a_page_at_a_time(client, login, api, ids, monkeypatch):
    document = dispatched(api, ids)
    ok(act(api("sl_clerk"), document, "sign_for"))
    monkeypatch.setattr(views, "TIMELINE_PAGE", 4)
    login("kc_clerk")
    html = page(client, f"/documents/{document}")
    assert actions(html) == ["draft", "review", "sign", "number"]
    more = re.search(r'<li class="tl-more"><a href="([^"]+)"\s+data-steps-more="([^"]+)">', html)
    assert more, "no link to the next steps"
    page_link, fragment_link = (m.replace("&amp;", "&") for m in more.groups())
    assert "steps_after=" in page_link and page_link.endswith("#timeline")
    rest = page(client, fragment_link)
    assert actions(rest) == ["dispatch", "sign_for"] and "tl-more" not in rest
    assert "<html" not in rest
    # Without JavaScript the link opens the page at the next steps.
    second = page(client, page_link.split("#")[0])
    assert actions(second) == ["dispatch", "sign_for"] and "从第一步看起" in second


def test_a_recipient_sees_only_its_own_units_steps_and_outsiders_get_404(client, login, api, ids):
    document = dispatched(api, ids, main_recipients=[ids.unit(TOWN), ids.unit("330803100")])
    ok(act(api("sl_clerk"), document, "sign_for"))
    ok(act(api("sl_clerk"), document, "register"))
    login("sl_clerk")
    steps = page(client, f"/documents/{document}/timeline?steps_after=1")
    assert "上方镇" not in steps and actions(steps)[-2:] == ["sign_for", "register"]
    login("mp_secretary")                        # not in the document's path
    page(client, f"/documents/{document}/timeline", status=404)


def test_the_api_pages_the_timeline_on_request_and_is_unchanged_without(api, ids):
    document = dispatched(api, ids)
    ok(act(api("sl_clerk"), document, "sign_for"))
    office = api("kc_clerk")
    whole = ok(office.get(f"/api/v1/documents/{document}"))
    assert [s["action"] for s in whole["timeline"]] == ["draft", "review", "sign", "number", "dispatch",
                                                        "sign_for"]
    assert "timeline_next" not in whole
    first = ok(office.get(f"/api/v1/documents/{document}?steps_after=0&limit=4"))
    assert [s["action"] for s in first["timeline"]] == ["draft", "review", "sign", "number"]
    assert first["timeline_next"] == first["timeline"][-1]["id"]
    rest = ok(office.get(f"/api/v1/documents/{document}?steps_after={first['timeline_next']}&limit=4"))
    assert [s["action"] for s in rest["timeline"]] == ["dispatch", "sign_for"]
    assert rest["timeline_next"] is None
    assert rest["title"] == whole["title"] and rest["recipients"] == whole["recipients"]
    bad = office.get(f"/api/v1/documents/{document}?steps_after=x")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "steps_after"
