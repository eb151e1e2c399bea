"""Message search (GET /api/v1/search): substrings of Chinese text, in the
channels a person can read only. SQLite serves 3+ character queries from its
FTS5 trigram table and shorter ones with LIKE; PostgreSQL uses pg_trgm. Every
test runs on both backends."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import delete, select, text, update

from hub.channels.models import Message
from hub.channels.search import fts5_phrase, like_pattern
from hub.extensions import db
from hub.migrate import alembic_config, upgrade
from tests.naughty import naughty_strings

CHINA = timezone(timedelta(hours=8))


def unit_channel_id(person, name: str) -> int:
    channels = person.get("/api/v1/channels").get_json()["items"]
    return next(c["id"] for c in channels if c["kind"] == "unit" and c["name"] == name)


def post(person, channel_id: int, body: str) -> dict:
    response = person.post(f"/api/v1/channels/{channel_id}/messages", json={"body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def search(person, q: str, **params) -> list[dict]:
    response = person.get("/api/v1/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def bodies(person, q: str, **params) -> list[str]:
    return [item["body"] for item in search(person, q, **params)]


@pytest.fixture
def village(api):
    """The 麻蓬村委会 secretary, with the id of the village's channel."""
    secretary = api("mp_secretary")
    return secretary, unit_channel_id(secretary, "麻蓬村委会")


def test_one_two_and_three_character_queries_find_substrings(village):
    secretary, channel = village
    for body in ("周五前交防汛值班表", "汛期注意安全", "村委会议改到下午"):
        post(secretary, channel, body)
    assert bodies(secretary, "汛") == ["汛期注意安全", "周五前交防汛值班表"]
    assert bodies(secretary, "防汛") == ["周五前交防汛值班表"]
    assert bodies(secretary, "值班表") == ["周五前交防汛值班表"]
    assert bodies(secretary, "交防汛值") == ["周五前交防汛值班表"]      # the middle of a word
    assert bodies(secretary, "前交防汛值班") == ["周五前交防汛值班表"]
    assert bodies(secretary, "汛值班表格") == []
    assert bodies(secretary, "雨") == []


def test_a_result_is_the_message_with_its_channel_name(village):
    secretary, channel = village
    message = post(secretary, channel, "请查收低保对象名单")
    [item] = search(secretary, "低保")
    assert item == {**message, "channel_name": "麻蓬村委会"}


@pytest.mark.parametrize("q", ["ok", "Ok", "OK", "report ok", "REPORT OK", "rEpOrT"])
def test_latin_letters_match_in_any_case(village, q):
    secretary, channel = village
    post(secretary, channel, "Report OK，材料已上传")
    post(secretary, channel, "没有英文")
    assert bodies(secretary, q) == ["Report OK，材料已上传"]


SPECIAL = ['完成率100%', '完成率100', 'file_name', 'filename', 'say "hi" 村里', "it's 村里",
           "C:\\path\\村", "2*3=6", "x AND y", "NEAR(a b)", "a OR b", "-x +y", "^开头", "col:村",
           "(括号)", "{a b}", "a'b''c"]


@pytest.mark.parametrize("q, expected", [
    ("%", ['完成率100%']),
    ("0%", ['完成率100%']),
    ("率100%", ['完成率100%']),
    ("_", ['file_name']),
    ("e_n", ['file_name']),
    ('"', ['say "hi" 村里']),
    ('"hi"', ['say "hi" 村里']),
    ('y "', ['say "hi" 村里']),
    ("'", ["it's 村里", "a'b''c"]),
    ("''", ["a'b''c"]),
    ("t's", ["it's 村里"]),
    ("\\", ["C:\\path\\村"]),
    ("\\pa", ["C:\\path\\村"]),
    ("h\\村", ["C:\\path\\村"]),
    ("*", ["2*3=6"]),
    ("2*3", ["2*3=6"]),
    ("AND", ["x AND y"]),
    ("x AND", ["x AND y"]),
    ("NEAR(", ["NEAR(a b)"]),
    ("NEAR(a", ["NEAR(a b)"]),
    ("OR", ["a OR b"]),
    ("-x", ["-x +y"]),
    ("^开头", ["^开头"]),
    ("col:", ["col:村"]),
    ("(括号", ["(括号)"]),
    ("{a b}", ["{a b}"]),
    ("NOT", []),
    ('" OR "', []),
    ("*)(", []),
    ("%%%", []),
])
def test_special_characters_are_matched_literally(village, q, expected):
    secretary, channel = village
    for body in SPECIAL:
        post(secretary, channel, body)
    assert sorted(bodies(secretary, q, limit=100)) == sorted(expected)


@pytest.mark.slow
def test_naughty_strings_never_cause_a_server_error_and_find_themselves(village):
    secretary, channel = village
    for string in naughty_strings():
        # Lone surrogates cannot travel in JSON or a URL: send what a client could.
        string = string.encode("utf-8", errors="replace").decode("utf-8")
        posted = secretary.post(f"/api/v1/channels/{channel}/messages", json={"body": string})
        assert posted.status_code < 500, string
        response = secretary.get("/api/v1/search", query_string={
            "q": string, "before": posted.get_json()["id"] + 1 if posted.status_code == 201 else ""})
        assert response.status_code in (200, 400), string
        if response.status_code == 400:
            assert response.get_json()["error"]["field"] == "q"
        elif posted.status_code == 201:
            # The newest match up to the message just posted is that message.
            assert response.get_json()["items"][0]["id"] == posted.get_json()["id"], string


def test_withdrawn_messages_are_not_found(village):
    secretary, channel = village
    message = post(secretary, channel, "周五前交防汛值班表")
    post(secretary, channel, "防汛物资清单")
    secretary.post(f"/api/v1/messages/{message['id']}/withdraw")
    for q in ("值", "值班", "值班表", "交防汛"):
        assert bodies(secretary, q) == []
    assert bodies(secretary, "防汛") == ["防汛物资清单"]


def test_edits_are_reflected(village):
    secretary, channel = village
    message = post(secretary, channel, "明天九点开会")
    secretary.patch(f"/api/v1/messages/{message['id']}", json={"body": "明天十点开会"})
    for old in ("九", "九点", "九点开"):
        assert bodies(secretary, old) == []
    for new in ("十", "十点", "十点开", "明天十点开会"):
        assert bodies(secretary, new) == ["明天十点开会"]


def test_other_peoples_channels_never_leak(api, village, ids):
    secretary, channel = village
    post(secretary, channel, "周五前交防汛值班表")
    direct = secretary.post("/api/v1/channels/direct", json={"user_id": ids.user("sl_leader")}).get_json()
    post(secretary, direct["id"], "徐书记，防汛值班表已交")
    assert len(search(secretary, "防汛值班表")) == 2
    assert bodies(api("sl_leader"), "防汛值班表") == ["徐书记，防汛值班表已交"]
    assert bodies(api("mp_director"), "防汛值班表") == ["周五前交防汛值班表"]
    for outsider in (api("sf_member"), api("sl_clerk"), api("kc_admin"), api("admin")):
        for q in ("汛", "防汛", "防汛值班表", "表"):
            assert search(outsider, q) == []
    for hidden in (channel, direct["id"]):
        response = api("sf_member").get("/api/v1/search", query_string={"q": "防汛", "channel_id": hidden})
        assert response.status_code == 404


def test_archived_channels_are_still_searchable(api, ids):
    clerk = api("sl_clerk")
    created = clerk.post("/api/v1/channels", json={
        "name": "材料报送", "purpose": "收集材料", "ends_on": datetime.now(CHINA).date().isoformat(),
        "unit_ids": [ids.unit("330802100")]}).get_json()
    post(clerk, created["id"], "请报送秸秆禁烧材料")
    assert clerk.post(f"/api/v1/channels/{created['id']}/archive").status_code == 200
    for q in ("秸", "秸秆禁烧"):
        assert [(i["body"], i["channel_name"]) for i in search(api("sl_leader"), q)] == [
            ("请报送秸秆禁烧材料", "材料报送")]


def test_filter_by_channel(api, village, ids):
    secretary, channel = village
    direct = secretary.post("/api/v1/channels/direct", json={"user_id": ids.user("sl_leader")}).get_json()
    post(secretary, channel, "村里的防汛值班表")
    post(secretary, direct["id"], "私信里的防汛值班表")
    for q in ("汛", "防汛值班表"):
        assert bodies(secretary, q, channel_id=channel) == ["村里的防汛值班表"]
        assert bodies(secretary, q, channel_id=direct["id"]) == ["私信里的防汛值班表"]
    assert secretary.get("/api/v1/search", query_string={"q": "汛", "channel_id": 99999}).status_code == 404
    bad = secretary.get("/api/v1/search", query_string={"q": "汛", "channel_id": "村"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "channel_id"


def test_filter_by_author(api, village, ids):
    secretary, channel = village
    post(secretary, channel, "书记：防汛值班表")
    post(api("mp_director"), channel, "主任：防汛值班表")
    for q in ("汛", "防汛值班表"):
        assert bodies(secretary, q, author_id=ids.user("mp_director")) == ["主任：防汛值班表"]
        assert bodies(secretary, q, author_id=ids.user("mp_secretary")) == ["书记：防汛值班表"]
        assert bodies(secretary, q, author_id=ids.user("sf_member")) == []


def test_filter_by_date(app, village):
    secretary, channel = village
    old = post(secretary, channel, "去年的防汛值班表")
    post(secretary, channel, "今年的防汛值班表")
    with app.app_context():
        db.session.execute(update(Message).where(Message.id == old["id"])
                           .values(created_at=datetime(2025, 7, 1, 8, tzinfo=CHINA)))
        db.session.commit()
    new_year = datetime(2026, 1, 1, tzinfo=CHINA).isoformat()
    for q in ("汛", "防汛值班表"):
        assert bodies(secretary, q, since=new_year) == ["今年的防汛值班表"]
        assert bodies(secretary, q, until=new_year) == ["去年的防汛值班表"]
        assert bodies(secretary, q, since="2025-07-01T08:00:00+08:00",
                      until="2025-07-01T00:00:01Z") == ["去年的防汛值班表"]
        assert bodies(secretary, q, since="2025-07-01T00:00:00.000001+00:00") == ["今年的防汛值班表"]
    for value in ("yesterday", "2026-01-01T00:00:00"):            # not ISO 8601 with an offset
        response = secretary.get("/api/v1/search", query_string={"q": "汛", "since": value})
        assert response.status_code == 400 and response.get_json()["error"]["field"] == "since"


@pytest.mark.parametrize("q", ["汛", "防汛值班"])
def test_results_are_paged_newest_first(village, q):
    secretary, channel = village
    posted = [post(secretary, channel, f"第{n}份防汛值班表")["id"] for n in range(5)]
    post(secretary, channel, "无关")
    seen, cursor = [], ""
    while True:
        page = secretary.get("/api/v1/search", query_string={"q": q, "limit": 2, "before": cursor}).get_json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        if page["next"] is None:
            break
        cursor = page["next"]
    assert seen == posted[::-1]


@pytest.mark.parametrize("params, field", [
    ({}, "q"), ({"q": ""}, "q"), ({"q": "   "}, "q"), ({"q": "汛" * 101}, "q"),
    ({"q": "汛\n期"}, "q"), ({"q": "a\x00b"}, "q"),
    ({"q": "汛", "limit": 0}, "limit"), ({"q": "汛", "limit": 201}, "limit"),
    ({"q": "汛", "before": "x"}, "before"), ({"q": "汛", "author_id": "x"}, "author_id"),
    ({"q": "汛", "until": "2026-13-01T00:00:00+08:00"}, "until"),
])
def test_bad_parameters_are_400_naming_the_field(village, params, field):
    secretary, _ = village
    response = secretary.get("/api/v1/search", query_string=params)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_a_hundred_characters_is_the_longest_query(village):
    secretary, channel = village
    body = "汛" * 100
    post(secretary, channel, body)
    assert bodies(secretary, " " + body + " ") == [body]


def test_search_needs_a_signed_in_person(api):
    assert api(None).get("/api/v1/search?q=汛").status_code == 401


def test_like_and_fts5_quoting():
    assert like_pattern("100%_\\x") == "%100\\%\\_\\\\x%"
    assert fts5_phrase('say "hi"') == '"say ""hi"""'


def test_the_migration_indexes_existing_messages_and_downgrades_cleanly(app, village, backend):
    secretary, channel = village
    kept = post(secretary, channel, "迁移前的防汛值班表")
    gone = post(secretary, channel, "迁移前撤回的防汛值班表")
    secretary.post(f"/api/v1/messages/{gone['id']}/withdraw")
    with app.app_context():
        db.session.remove()
        command.downgrade(alembic_config(app), "0003")
        assert search_objects(backend) == []
    upgrade(app)
    with app.app_context():
        assert search_objects(backend) != []
    for q in ("汛", "防汛值班表"):
        assert [item["id"] for item in search(secretary, q)] == [kept["id"]]


def search_objects(backend: str) -> list[str]:
    if backend == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE name LIKE 'message_search%'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_messages_body_trgm'"
    return list(db.session.scalars(text(sql)))


def test_sqlite_index_stays_consistent_through_edits_withdrawals_and_deletes(app, village, backend):
    if backend != "sqlite":
        pytest.skip("SQLite's FTS5 table only")
    secretary, channel = village
    made = [post(secretary, channel, f"第{n}条防汛消息") for n in range(4)]
    secretary.patch(f"/api/v1/messages/{made[0]['id']}", json={"body": "改过的防汛消息"})
    secretary.post(f"/api/v1/messages/{made[1]['id']}/withdraw")
    secretary.patch(f"/api/v1/messages/{made[2]['id']}", json={"body": "第2条防汛消息"})  # unchanged text
    with app.app_context():
        db.session.execute(delete(Message).where(Message.id.in_([made[1]["id"], made[3]["id"]])))
        db.session.commit()
        db.session.execute(text("INSERT INTO message_search (message_search) VALUES ('integrity-check')"))
        indexed = db.session.scalars(
            select(text("rowid")).select_from(text("message_search"))
            .where(text("message_search MATCH '\"防汛消息\"'")).order_by(text("rowid"))).all()
    assert indexed == [made[0]["id"], made[2]["id"]]
    assert [item["id"] for item in search(secretary, "防汛消息")] == [made[2]["id"], made[0]["id"]]
