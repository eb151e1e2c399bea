"""No rankings by the back door (DESIGN.md principle 4, issue 4 item 9).

Walks every route of the URL map and every operation of the OpenAPI document and
fails on anything whose path, endpoint or summary suggests per-person activity,
login or online statistics, points, likes, leaderboards or comparisons of people
or units. Then reads real responses and fails on keys that would carry the same
thing (read times, last login, online, rank, score, rates), checks that coverage
stays in tree order whatever the read rates, and that no model stores a person's
last login or presence.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import inspect

from hub import create_app
from hub.extensions import db
from hub.openapi import build_spec
from tests.conftest import base_config

# Words (whole tokens of a path, an endpoint name or a summary) that mean ranking,
# scoring, presence or usage statistics. Short ones match only as whole words.
BANNED_EXACT = {"top", "vs", "rate", "rates", "like", "likes", "liked", "hot", "best", "worst"}
# Longer stems match anywhere inside a token ("toprank", "userscore", "likecount").
BANNED_STEMS = (
    "rank", "leaderboard", "score", "point", "online", "presence", "compar", "versus",
    "stats", "statistic", "kudos", "flower", "badge", "streak", "medal", "trophy", "popular",
    "usage", "engagement", "activity", "activities", "checkin", "clockin", "attendance",
    "percent", "heatmap",
)
# Two words that are harmless apart and a statistic together ("last seen", "read_rate").
BANNED_PAIRS = {"lastseen", "lastlogin", "logincount", "lastactive", "readrate", "checkin", "clockin",
                "logintimes", "onlinetime", "mostread", "leastread", "perperson"}
# The same, written in Chinese (排名, 排行榜, 积分, 点赞, 送花, 在线, 打卡, 签到, 活跃度, 考核, 评比, 得分).
BANNED_CHINESE = ("排名", "排行", "榜", "积分", "点赞", "送花", "在线", "打卡", "签到", "活跃",
                  "考核", "评比", "得分")

# Legitimate words (or whole phrases) that trip the list, each with its reason. Kept
# short: test_the_allow_list_is_not_stale fails when an entry is no longer needed.
ALLOWED = {
    "topic": "话题: the subject of a thread in a channel (contains 'top')",
    "topics": "话题, plural: a channel lists its threads, not a top list",
    "pointer": "a person's own read position in a channel, used for their unread count "
               "and never shown to anyone else (contains 'point')",
    "acknowledge a message (once per person)":
        "ack: a bare 收到 becomes an acknowledgement that counts once per person — a limit on "
        "acks (shown as a count on the message, no list of who), not a per-person statistic",
}

# What may hang under one person's URL: their memberships, roles and password —
# never reads, messages, sessions or activity of that person.
PERSON_SUBRESOURCES = {"memberships", "roles", "password", "active", "transfer",
                       "unlock",          # 解除锁定 (the security admin)
                       "second-factor"}   # 重置两步验证 (the security admin)

# Keys a JSON answer must never carry: read times, last login, presence, ranks,
# scores and rates. Exact keys, and "_"-separated words inside any key.
BANNED_KEYS = {"read_at", "acked_at", "last_login", "last_login_at", "last_seen", "last_seen_at",
               "login_count", "logins", "last_active", "last_active_at", "online", "is_online"}
BANNED_KEY_WORDS = {"rank", "ranking", "score", "scores", "points", "rate", "rates", "percent",
                    "percentage", "online", "presence", "likes", "seen", "leaderboard", "ratio"}


def _tokens(text: str) -> list[str]:
    """Lower-case words of a path, an endpoint or a summary: snake_case, kebab-case
    and camelCase split into words."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return re.findall(r"[a-z0-9]+", text.lower())


def offences(text: str) -> list[str]:
    for phrase in (p for p in ALLOWED if " " in p):
        text = re.sub(r"\s+".join(map(re.escape, phrase.split())), " ", text, flags=re.I)
    words = _tokens(text)
    found = [w for w in words if w not in ALLOWED
             and (w in BANNED_EXACT or any(stem in w for stem in BANNED_STEMS))]
    found += [a + b for a, b in zip(words, words[1:]) if a + b in BANNED_PAIRS]
    found += [word for word in BANNED_CHINESE if word in text]
    return found


def _app():
    return create_app(base_config(Path(tempfile.mkdtemp(prefix="rankings")), "sqlite://"))


def route_texts() -> list[str]:
    """One line per route: its rule and its endpoint."""
    return [f"{rule.rule} {rule.endpoint}" for rule in _app().url_map.iter_rules()]


def spec_texts() -> list[str]:
    """One line per OpenAPI operation: method, path and summary."""
    spec = build_spec(_app())
    return [f"{method} {path} {operation['summary']}"
            for path, operations in spec["paths"].items() for method, operation in operations.items()]


# ---- The word list works --------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "/api/v1/people/<int:person_id>/ranking", "/api/v1/units/leaderboard", "reports.top_readers",
    "GET /api/v1/stats/logins Login statistics per person", "/api/v1/me/points",
    "/api/v1/messages/<int:message_id>/likes", "/api/v1/people/online", "users.lastSeen",
    "GET /api/v1/units/compare Compare units by read rate", "/api/v1/checkins", "/api/v1/people/activity",
    "GET /api/v1/units/{unit_id} 各单位阅读排名", "/admin/presence", "notices.read_rate",
    "GET /api/v1/notices/{notice_id}/reads Reads per person",
])
def test_the_word_list_catches_a_ranking(text):
    assert offences(text)


@pytest.mark.parametrize("text", [
    "GET /api/v1/channels/{channel_id} A channel with unread, member_count, topics",
    "POST /api/v1/channels/{channel_id}/read Move your read pointer to up_to",
    "POST /api/v1/notices/{notice_id}/ack Acknowledge, 签收 (idempotent)",
    "post /api/v1/messages/{message_id}/ack Acknowledge a message (once per person)",
    "/notices/<int:notice_id>/coverage notices.coverage",
])
def test_the_word_list_lets_legitimate_routes_through(text):
    assert offences(text) == []


# ---- The URL map and the OpenAPI document ------------------------------------------------

def test_no_route_suggests_rankings_presence_or_usage_statistics():
    bad = {text: offences(text) for text in route_texts() if offences(text)}
    assert bad == {}


def test_no_openapi_operation_suggests_rankings_presence_or_usage_statistics():
    bad = {text: offences(text) for text in spec_texts() if offences(text)}
    assert bad == {}


def test_nothing_hangs_under_a_person_but_their_memberships_roles_and_password():
    found = set()
    for rule in _app().url_map.iter_rules():
        match = re.search(r"/(?:people|users|persons)/<[^>]+>/([^/<]+)", rule.rule)
        if match:
            found.add(match.group(1))
    assert found <= PERSON_SUBRESOURCES, found - PERSON_SUBRESOURCES


def test_the_allow_list_is_not_stale():
    texts = route_texts() + spec_texts()
    used = {token for text in texts for token in _tokens(text)}
    used |= {p for p in ALLOWED if " " in p and any(re.search(
        r"\s+".join(map(re.escape, p.split())), t, flags=re.I) for t in texts)}
    assert set(ALLOWED) <= used, set(ALLOWED) - used


# ---- Real answers ------------------------------------------------------------------------

def banned_keys(data, where: str = "") -> list[str]:
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            words = set(str(key).lower().split("_"))
            if key in BANNED_KEYS or words & BANNED_KEY_WORDS:
                found.append(f"{where}.{key}")
            found += banned_keys(value, f"{where}.{key}")
    elif isinstance(data, list):
        for item in data:
            found += banned_keys(item, f"{where}[]")
    return found


def test_answers_carry_no_read_times_logins_presence_ranks_or_rates(api, ids):
    office = api("kc_clerk")
    notice = office.post("/api/v1/notices", json={
        "title": "冬季防火", "summary": "排查隐患", "body": "……", "requires_ack": True,
        "audience": {"subtrees": [ids.unit("330802")]}}).get_json()["id"]
    reader = api("mp_secretary")
    reader.get(f"/api/v1/notices/{notice}")
    reader.post(f"/api/v1/notices/{notice}/ack")
    reader.post(f"/api/v1/notices/{notice}/feedback", json={"kind": "unclear"})
    channel = reader.get("/api/v1/channels").get_json()["items"][0]["id"]
    reader.post(f"/api/v1/channels/{channel}/messages", json={"body": "请大家看通知", "client_msg_id": "k1"})
    api("mp_director").post(f"/api/v1/channels/{channel}/messages", json={"body": "收到"})
    answers = {
        "receipts": office.get(f"/api/v1/notices/{notice}/receipts"),
        "burden": api("admin").get("/api/v1/burden"),
        "channels": reader.get("/api/v1/channels"),
        "channel": reader.get(f"/api/v1/channels/{channel}"),
        "messages": reader.get(f"/api/v1/channels/{channel}/messages?after=0"),
        "person (directory)": api("mp_director").get(f"/api/v1/people/{ids.user('mp_secretary')}"),
        "person (admin)": api("kc_admin").get(f"/api/v1/people/{ids.user('mp_secretary')}"),
        "me": reader.get("/api/v1/me"),
        "unit people": api("kc_admin").get(f"/api/v1/units/{ids.unit('330802')}/people?subtree=1"),
        "inbox": reader.get("/api/v1/inbox"),
        "digest": reader.get("/api/v1/inbox/digest"),
        "notice": reader.get(f"/api/v1/notices/{notice}"),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
        assert banned_keys(response.get_json()) == [], name


def test_coverage_stays_in_tree_order_whatever_the_read_rates(api, ids):
    """The later units read more (柯城区政府办 0 of 3, 石梁镇 1 of 2, 麻蓬村 2 of 2):
    sorted by rate the list would be reversed; it must stay in tree order."""
    office = api("kc_clerk")
    notice = office.post("/api/v1/notices", json={
        "title": "冬季防火", "summary": "排查隐患", "body": "……",
        "audience": {"subtrees": [ids.unit("330802")]}}).get_json()["id"]
    for login in ("sl_leader", "mp_secretary", "mp_director"):
        assert api(login).get(f"/api/v1/notices/{notice}").status_code == 200
    by_unit = office.get(f"/api/v1/notices/{notice}/receipts").get_json()["by_unit"]
    assert [(r["name"], r["audience"], r["read"]) for r in by_unit] == [
        ("柯城区人民政府办公室", 3, 0), ("石梁镇", 2, 1), ("麻蓬村委会", 2, 2)]
    paths = {}
    for row in by_unit:
        unit = office.get(f"/api/v1/units/{row['unit_id']}").get_json()
        paths[row["unit_id"]] = "/" + "".join(f"{i}/" for i in unit["path"] + [unit["id"]])
    in_tree_order = sorted(by_unit, key=lambda r: paths[r["unit_id"]])       # units.path order
    assert [r["unit_id"] for r in by_unit] == [r["unit_id"] for r in in_tree_order]


PRESENCE_COLUMN = re.compile(r"last_?login|last_?seen|login_?count|online|presence|last_?active|"
                             r"last_?activity|seen_at|logged_in|login_at|check_?in|points|score|rank")


def test_no_model_keeps_a_last_login_or_presence(app):
    import hub.models  # noqa: F401
    from hub.org.models import User
    user_columns = [c.key for c in inspect(User).columns]
    assert [c for c in user_columns if PRESENCE_COLUMN.search(c)] == []
    everywhere = [f"{table.name}.{column.name}" for table in db.metadata.sorted_tables
                  for column in table.columns if PRESENCE_COLUMN.search(column.name)]
    assert everywhere == []
    tables = [t.name for t in db.metadata.sorted_tables if offences(t.name.replace("_", " "))]
    assert tables == []


def test_the_signed_in_person_sees_no_login_history(api, ids):
    me = api("mp_secretary").get("/api/v1/me").get_json()
    person = api("admin").get(f"/api/v1/people/{ids.user('mp_secretary')}").get_json()
    for body in (me, person):
        text = " ".join(str(k) for k in _all_keys(body))
        assert not re.search(r"login_(?:at|count|history)|last_|online|seen", text), text


def _all_keys(data) -> list[str]:
    if isinstance(data, dict):
        return list(data) + [k for v in data.values() for k in _all_keys(v)]
    if isinstance(data, list):
        return [k for v in data for k in _all_keys(v)]
    return []
