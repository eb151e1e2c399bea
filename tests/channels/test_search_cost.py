"""Issue 13, finding 14: a query too short for the trigram index reads only the
newest SEARCH_SHORT_QUERY_SCAN messages the searcher can read; the answer says
so (`partial`) and `next` goes on with the older ones. (The per-person rate
limit is tested in tests/auth/test_throttle.py.)"""
from __future__ import annotations

import pytest

from tests.channels.test_search import post, unit_channel_id


@pytest.fixture
def app(make_app, database_uri):
    return make_app(database_uri, SEARCH_SHORT_QUERY_SCAN=5)


def test_a_short_query_reads_the_newest_messages_only_and_pages_on(app, api):
    secretary = api("mp_secretary")
    channel = unit_channel_id(secretary, "麻蓬村委会")
    for body in ("鑫源公司来访", "鑫源回访记录", "值班", "值班", "值班", "值班", "值班", "值班"):
        post(secretary, channel, body)
    first = secretary.get("/api/v1/search", query_string={"q": "鑫"}).get_json()
    assert first["items"] == [] and first["partial"] is True and first["next"]
    older = secretary.get("/api/v1/search", query_string={"q": "鑫", "before": first["next"]}).get_json()
    assert [item["body"] for item in older["items"]] == ["鑫源回访记录", "鑫源公司来访"]
    assert older["partial"] is False                   # fewer than five were left to read
    full = secretary.get("/api/v1/search", query_string={"q": "鑫源公"}).get_json()
    assert [item["body"] for item in full["items"]] == ["鑫源公司来访"] and full["partial"] is False
