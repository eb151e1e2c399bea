"""Every string of the Big List of Naughty Strings through every text field of
the JSON API that tests elsewhere do not already cover (unit names:
tests/org/test_naughty_names.py; message bodies: tests/channels/test_naughty_bodies.py;
document titles and comments: tests/documents/test_api_input.py; message search:
tests/channels/test_search.py, marked slow).

Each string is either stored and read back exactly as the field's rule says
(tests/badinput/fields.py, docs/SECURITY.md "Input"), or refused with a 400
naming the field — never a 5xx. Pages that show the stored values never show
markup from them unescaped.

What was stored is read from the write's own answer: the session expires its
objects on commit, so that answer is serialized from a fresh SELECT of the
committed rows (one request per string instead of two keeps the suite fast).
Every twentieth stored string is read again with a GET.
"""
from __future__ import annotations

import pytest

from hub.channels.models import CHANNEL_NAME_MAX, TOPIC_MAX
from hub.documents.models import NOTES_MAX
from hub.notices.models import REASON_MAX, SUMMARY_MAX, TITLE_MAX
from hub.notices.models import CONTACT_MAX
from hub.org.people import NAME_MAX, POSITION_MAX
from tests.badinput.fields import as_json, blns, exact, executable_markup, exercise, line, paragraphs


STRINGS = blns()
MARKUP = [s for s in STRINGS if executable_markup(s)]


def assert_escaped(html: str, values: list[str], where: str) -> None:
    shown_raw = [v for v in values if executable_markup(v) and v in html]
    assert not shown_raw, f"{where} shows markup unescaped: {shown_raw[:3]}"
    assert 'href="javascript:' not in html.lower(), where


def test_markup_strings_are_there_to_be_escaped():
    assert len(STRINGS) > 530 and len(MARKUP) > 40


def test_person_name_and_position(shared_api, shared_ids, browser):
    admin = shared_api("admin")
    person = shared_ids.user("mp_director")
    village = shared_ids.unit("330802100202")

    def send(values):
        return admin.patch(f"/api/v1/people/{person}", **as_json(
            {"unit_id": village, "position": values["position"], "name": values["name"]}))

    def read_back(response):
        data = response.get_json()
        return {"name": data["name"], "position": data["memberships"][0]["position"]}

    shown: list[str] = []

    def on_stored(text, _):
        if executable_markup(text):
            html = secretary.get(f"/directory/units/{village}").get_data(as_text=True)
            shown.append(text)
            assert_escaped(html, [text], "the unit's directory page")

    secretary = browser("mp_secretary")
    tally = exercise(STRINGS, {"name": line(NAME_MAX), "position": line(POSITION_MAX, required=False)},
                     safe={"name": "李秀英", "position": "村委会主任"}, send=send, read_back=read_back,
                     name="person", on_stored=on_stored,
                     reread=lambda _: read_back(admin.get(f"/api/v1/people/{person}")))
    tally.check()
    assert tally.stored > 400 and len(shown) > 40


def test_channel_name_and_purpose(shared_api, shared_ids, browser):
    clerk = shared_api("kc_clerk")
    own_unit = shared_ids.unit("330802-GOV")
    created: list[tuple[int, str]] = []

    def send(values):
        return clerk.post("/api/v1/channels", **as_json(
            {"name": values["name"], "purpose": values["purpose"], "ends_on": "2099-12-31",
             "unit_ids": [own_unit]}))

    def read_back(response):
        data = response.get_json()
        return {"name": data["name"], "purpose": data["purpose"]}

    tally = exercise(STRINGS, {"name": line(CHANNEL_NAME_MAX), "purpose": line(500)},
                     safe={"name": "专项工作群", "purpose": "工作目的"}, send=send, read_back=read_back,
                     name="channel", on_stored=lambda text, r: created.append((r.get_json()["id"], text)),
                     reread=lambda r: read_back(clerk.get(f"/api/v1/channels/{r.get_json()['id']}")))
    tally.check()
    assert tally.stored > 400
    leader = browser("kc_leader")
    html = leader.get("/channels/").get_data(as_text=True)
    assert_escaped(html, [text for _, text in created], "the channel list")
    for channel, text in created:
        if executable_markup(text):
            html = leader.get(f"/channels/{channel}").get_data(as_text=True)
            assert_escaped(html, [text], f"channel page {channel}")


def test_topics(shared_api, shared_ids, browser):
    secretary = shared_api("mp_secretary")
    channel = next(c["id"] for c in secretary.get("/api/v1/channels").get_json()["items"]
                   if c["kind"] == "unit")

    def send(values):
        return secretary.post(f"/api/v1/channels/{channel}/messages",
                              **as_json({"body": "话题测试", "topic": values["topic"]}))

    def read_back(response):
        return {"topic": response.get_json()["topic"]}

    def topic_rule(sent):
        # Only stripped and length-checked (hub/channels/messages.py); blank means no topic.
        value = sent.strip()
        return value if len(value) <= TOPIC_MAX else None

    tally = exercise(STRINGS, {"topic": topic_rule}, safe={"topic": ""}, send=send,
                     read_back=read_back, name="topic", reread=lambda r: {"topic": secretary.get(
                         f"/api/v1/channels/{channel}/messages?after={r.get_json()['id'] - 1}&limit=1"
                     ).get_json()["items"][0]["topic"]})
    tally.check()
    assert tally.stored > 400
    html = browser("mp_director").get(f"/channels/{channel}").get_data(as_text=True)
    assert_escaped(html, MARKUP, "the channel page with its topics")
    for text in MARKUP[:20]:
        if text.strip() and len(text.strip()) <= TOPIC_MAX:
            response = secretary.get(f"/api/v1/channels/{channel}/messages",
                                     query_string={"topic": text.strip(), "after": 0, "limit": 5})
            assert response.status_code == 200 and response.get_json()["items"], text


def test_notice_fields_and_revoke_note(shared_api, shared_ids, browser):
    leader = shared_api("kc_leader")
    reader = shared_api("mp_secretary")
    audience = {"users": [shared_ids.user("mp_secretary")]}
    notes = {"stored": 0, "refused": 0, "wrong": []}
    note_rule = line(REASON_MAX)
    page = browser("mp_secretary")

    def send(values):
        return leader.post("/api/v1/notices", **as_json(
            {"title": values["title"], "summary": values["summary"], "body": values["body"],
             "urgent": True, "urgent_reason": values["urgent_reason"], "audience": audience}))

    def read_back(response):
        data = response.get_json()
        return {k: data[k] for k in ("title", "summary", "body", "urgent_reason")}

    def on_stored(text, response):
        notice = response.get_json()["id"]
        if executable_markup(text):
            assert_escaped(page.get(f"/notices/{notice}").get_data(as_text=True), [text], f"notice {notice}")
        revoked = leader.post(f"/api/v1/notices/{notice}/revoke", **as_json({"note": text}))
        expected = note_rule(text)
        if expected is None:
            ok = revoked.status_code == 400 and revoked.get_json()["error"]["field"] == "note"
            notes["refused"] += ok
        else:
            ok = revoked.status_code == 200 and revoked.get_json()["revoke_note"] == expected
            notes["stored"] += ok
        if not ok:
            notes["wrong"].append((text, revoked.status_code))

    tally = exercise(STRINGS, {"title": line(TITLE_MAX), "summary": line(SUMMARY_MAX), "body": exact,
                               "urgent_reason": line(REASON_MAX)},
                     safe={"title": "通知", "summary": "摘要", "body": "", "urgent_reason": "紧急"},
                     send=send, read_back=read_back, name="notice", on_stored=on_stored,
                     reread=lambda r: read_back(reader.get(f"/api/v1/notices/{r.get_json()['id']}")))
    tally.check()
    assert tally.stored > 400
    assert not notes["wrong"], notes["wrong"][:5]
    assert notes["stored"] > 400 and notes["refused"] > 0
    assert_escaped(page.get("/inbox/").get_data(as_text=True), MARKUP, "the inbox")


def test_document_body_and_notes(shared_api, shared_ids, browser):
    clerk = shared_api("kc_clerk")
    town = shared_ids.unit("330802100")
    page = browser("kc_clerk")

    def send(values):
        return clerk.post("/api/v1/documents", **as_json(
            {"doc_type": "通知", "title": "关于坏输入的通知", "main_recipients": [town],
             "body": values["body"], "notes": values["notes"]}))

    def read_back(response):
        data = response.get_json()
        return {"body": data["body"], "notes": data["notes"]}

    def on_stored(text, response):
        if executable_markup(text):
            document = response.get_json()["id"]
            assert_escaped(page.get(f"/documents/{document}").get_data(as_text=True), [text],
                           f"document {document}")

    # Blank notes are no notes (read back as null): the blank strings are left out here.
    tally = exercise([s for s in STRINGS if s.strip()], {"body": exact, "notes": paragraphs(NOTES_MAX)},
                     safe={"body": "", "notes": "附注"}, send=send, read_back=read_back,
                     name="document", on_stored=on_stored,
                     reread=lambda r: read_back(clerk.get(f"/api/v1/documents/{r.get_json()['id']}")))
    tally.check()
    assert tally.stored > 400


def test_suggestion_body_and_contact(shared_api):
    # Suggestions can be read by system admins only, and nothing names the writer.
    writer, admin = shared_api("mp_director"), shared_api("admin")

    def send(values):
        return writer.post("/api/v1/suggestions", **as_json({"body": values["body"],
                                                             "contact": values["contact"]}))

    def read_back(_):
        item = admin.get("/api/v1/suggestions?limit=1").get_json()["items"][0]
        return {"body": item["body"], "contact": item["contact"] or ""}

    tally = exercise(STRINGS, {"body": paragraphs(2000), "contact": line(CONTACT_MAX, required=False)},
                     safe={"body": "意见", "contact": ""}, send=send, read_back=read_back,
                     name="suggestion")
    tally.check()
    assert tally.stored > 400


@pytest.mark.parametrize("path,field", [
    ("/api/v1/units", "q"), ("/api/v1/people", "q"), ("/api/v1/documents", "q"), ("/api/v1/inbox", "q"),
])
def test_searches_answer_200_or_a_400_naming_q(shared_api, path, field):
    clerk = shared_api("kc_clerk")
    answers = {200: 0, 400: 0}
    for text in STRINGS:
        response = clerk.get(path, query_string={field: text})
        assert response.status_code in (200, 400), (text, response.status_code)
        if response.status_code == 400:
            assert response.get_json()["error"]["field"] == field, (text, response.get_json())
        answers[response.status_code] += 1
    assert answers[200] > 400
