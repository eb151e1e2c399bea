"""Two hub processes on one PostgreSQL and one Redis: cross-process delivery.

The cluster (tests/cluster.py) runs what an operator runs: two
`gunicorn -c gunicorn.conf.py wsgi:app` processes with gevent workers, sharing
HUB_DATABASE_URL, HUB_REDIS_URL and HUB_SECRET_KEY, each on its own loopback
port, with the demo county loaded (passwords Demo@2026). Clients are real:
python-socketio's Client over WebSocket and HTTP over loopback.

These run once, on PostgreSQL only (the cluster brings its own database on the
suite's PostgreSQL server), and are skipped with HUB_TEST_BACKENDS=sqlite.
Without redis-server they are skipped too, unless HUB_REQUIRE_REDIS=1 (CI).
"""
from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from tests.cluster import Cluster, request, running_cluster
from tests.redis_server import require_redis

BACKENDS = os.environ.get("HUB_TEST_BACKENDS", "sqlite,postgresql").split(",")
pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS,
                                reason="the cluster runs on PostgreSQL (HUB_TEST_BACKENDS)")

SETTLE = 0.7            # seconds to wait after a delivery for a duplicate to show up
TOWN, VILLAGE = "330802100", "330802100202"     # 石梁镇 and its 麻蓬村委会


@pytest.fixture(scope="module")
def cluster(pg_server, tmp_path_factory):
    require_redis()
    with running_cluster(pg_server, tmp_path_factory.mktemp("cluster")) as running:
        yield running


def unit_id(cluster: Cluster, code: str) -> int:
    return cluster.api(cluster.a, "admin", "GET", f"/api/v1/units?code={code}")["items"][0]["id"]


def user_id(cluster: Cluster, login: str) -> int:
    status, body = request(cluster.a, "POST", "/api/v1/auth/token",
                           body={"login": login, "password": "Demo@2026"})
    assert status == 200, body
    return body["user"]["id"]


def office_channel(cluster: Cluster) -> int:
    """The unit channel of 柯城区政府办公室 (d02.*, and admin)."""
    channels = cluster.api(cluster.a, "d02.clerk", "GET", "/api/v1/channels")["items"]
    return next(c["id"] for c in channels if c["kind"] == "unit" and c["name"] == "柯城区政府办公室")


def by_client_id(client_msg_id: str):
    return lambda data: isinstance(data, dict) and data.get("client_msg_id") == client_msg_id


def by_id(item_id: int, **fields):
    return lambda data: (isinstance(data, dict) and data.get("id") == item_id
                         and all(data.get(k) == v for k, v in fields.items()))


def test_a_message_sent_on_a_reaches_members_on_b_once_and_nobody_else(cluster):
    channel = office_channel(cluster)
    # The outsider really is one: the office channel is not theirs.
    assert request(cluster.b, "GET", f"/api/v1/channels/{channel}/messages",
                   token=cluster.token(f"{TOWN}.ws"))[0] in (403, 404)
    with cluster.socket(cluster.a, "d02.clerk") as sender, \
            cluster.socket(cluster.a, "d02.leader") as member_a, \
            cluster.socket(cluster.b, "d02.staff1") as member_b, \
            cluster.socket(cluster.b, f"{TOWN}.ws") as outsider_b:
        client_msg_id = uuid.uuid4().hex
        answer = sender.call("send", {"channel_id": channel, "client_msg_id": client_msg_id,
                                      "body": "请各科室周五前报送值班表"})
        assert isinstance(answer.get("id"), int), answer
        for member in (member_b, member_a, sender):
            got = member.wait_for("message", by_client_id(client_msg_id))
            assert (got["id"], got["channel_id"]) == (answer["id"], channel)
        time.sleep(SETTLE)
        for member in (member_b, member_a, sender):
            assert len(member.received("message", by_client_id(client_msg_id))) == 1
        assert outsider_b.received("message") == []


def test_a_notice_published_on_b_reaches_recipients_on_a_and_b_once_each(cluster):
    town, village_secretary = unit_id(cluster, TOWN), user_id(cluster, f"{VILLAGE}.sj")
    with cluster.socket(cluster.a, f"{TOWN}.ws") as town_clerk_a, \
            cluster.socket(cluster.b, f"{VILLAGE}.sj") as village_b, \
            cluster.socket(cluster.a, "d05.staff1") as outsider_a:
        notice = cluster.api(cluster.b, f"{TOWN}.sj", "POST", "/api/v1/notices", body={
            "title": "关于做好森林防火巡查的通知", "summary": "各村本周完成一次防火巡查",
            "body": "各村（社区）：……",
            # The village secretary is in both parts of the audience: still one event.
            "audience": {"subtrees": [town], "users": [village_secretary]}}, expect=201)
        for recipient in (town_clerk_a, village_b):
            recipient.wait_for("notice", by_id(notice["id"]))
        time.sleep(SETTLE)
        for recipient in (town_clerk_a, village_b):
            assert len(recipient.received("notice", by_id(notice["id"]))) == 1
        assert outsider_a.received("notice") == []


def test_a_document_dispatched_on_a_reaches_the_recipient_clerk_on_b(cluster):
    town = unit_id(cluster, TOWN)
    draft = cluster.api(cluster.a, "d02.clerk", "POST", "/api/v1/documents", body={
        "doc_type": "通知", "title": "关于开展冬季消防安全检查的通知", "urgency": "平件",
        "security": "非涉密", "main_recipients": [town], "body": "石梁镇人民政府：……"}, expect=201)
    path = f"/api/v1/documents/{draft['id']}/actions"
    for login, action in [("d02.clerk", "review"), ("d02.leader", "sign"), ("d02.clerk", "number")]:
        cluster.api(cluster.a, login, "POST", path, body={"action": action})
    with cluster.socket(cluster.b, f"{TOWN}.ws") as town_clerk_b, \
            cluster.socket(cluster.b, "d05.clerk") as other_clerk_b:
        cluster.api(cluster.a, "d02.clerk", "POST", path, body={"action": "dispatch"})
        got = town_clerk_b.wait_for("document", by_id(draft["id"], action="dispatch"))
        assert got["status"]
        time.sleep(SETTLE)
        assert len(town_clerk_b.received("document", by_id(draft["id"]))) == 1
        assert other_clerk_b.received("document", by_id(draft["id"])) == []
    inbox = cluster.api(cluster.b, f"{TOWN}.ws", "GET", "/api/v1/inbox")["items"]
    assert any(i["kind"] == "document" and i["id"] == draft["id"] for i in inbox)


def test_a_client_moving_from_a_to_b_catches_up_with_nothing_lost(cluster):
    channel = office_channel(cluster)
    messages = f"/api/v1/channels/{channel}/messages"

    def post(process, body: str, client_msg_id: str, expect: int = 201) -> dict:
        return cluster.api(process, "d02.clerk", "POST", messages,
                           body={"body": body, "client_msg_id": client_msg_id}, expect=expect)

    with cluster.socket(cluster.a, "d02.staff2") as reader:
        seen = [post(cluster.a, f"在线消息 {n}", f"live-{n}-{uuid.uuid4().hex}") for n in range(3)]
        for message in seen:
            reader.wait_for("message", by_id(message["id"]))
        last_seen = max(m["id"] for m in seen)

    # Offline: sent through both processes, one of them over a socket.
    missed = []
    for n, process in enumerate([cluster.b, cluster.a, cluster.b, cluster.a]):
        missed.append(post(process, f"离线消息 {n}", f"missed-{n}-{uuid.uuid4().hex}"))
    with cluster.socket(cluster.b, "d02.clerk") as sender_b:
        client_msg_id = f"missed-socket-{uuid.uuid4().hex}"
        answer = sender_b.call("send", {"channel_id": channel, "body": "离线消息 socket",
                                        "client_msg_id": client_msg_id})
        missed.append({"id": answer["id"], "client_msg_id": client_msg_id})
    # A retry of a missed send through the other process is the same message.
    retried = post(cluster.b, "离线消息 1", missed[1]["client_msg_id"], expect=200)
    assert retried["id"] == missed[1]["id"]

    with cluster.socket(cluster.b, "d02.staff2") as reader:
        caught_up = cluster.api(cluster.b, "d02.staff2", "GET", f"{messages}?after={last_seen}")
        assert [(m["id"], m["client_msg_id"]) for m in caught_up["items"]] == \
            [(m["id"], m["client_msg_id"]) for m in missed]
        assert caught_up["next"] is None
        # And live again, on the other process: a message sent through A arrives.
        after = post(cluster.a, "重新连接后的消息", f"after-{uuid.uuid4().hex}")
        reader.wait_for("message", by_id(after["id"]))


def test_a_membership_changed_on_a_moves_the_persons_sockets_on_b(cluster):
    """Added to a unit through process A, a person connected to B receives that
    unit's channel at once; removed again, they stop receiving it — no reconnect."""
    staff = user_id(cluster, "d02.staff1")
    town = unit_id(cluster, TOWN)
    channels = cluster.api(cluster.a, f"{TOWN}.ws", "GET", "/api/v1/channels")["items"]
    town_channel = next(c["id"] for c in channels if c["kind"] == "unit" and c["name"] == "石梁镇")
    with cluster.socket(cluster.b, "d02.staff1") as staff_b, cluster.socket(cluster.a, f"{TOWN}.ws") as clerk:
        def say(body: str) -> str:
            client_msg_id = uuid.uuid4().hex
            answer = clerk.call("send", {"channel_id": town_channel, "client_msg_id": client_msg_id,
                                         "body": body})
            assert isinstance(answer.get("id"), int), answer
            clerk.wait_for("message", by_client_id(client_msg_id))
            return client_msg_id

        before = say("调整前的消息")
        person = cluster.api(cluster.a, "admin", "POST", f"/api/v1/people/{staff}/memberships",
                             body={"unit_id": town, "position": "驻镇联络员"})
        membership = next(m["id"] for m in person["memberships"] if m["unit_id"] == town)
        during = say("加入后的消息")
        staff_b.wait_for("message", by_client_id(during))
        cluster.api(cluster.a, "admin", "DELETE", f"/api/v1/people/{staff}/memberships/{membership}")
        after = say("移出后的消息")
        time.sleep(SETTLE)
        assert staff_b.received("message", by_client_id(before)) == []
        assert staff_b.received("message", by_client_id(after)) == []


def test_a_request_waiting_on_the_database_does_not_block_the_process(cluster):
    """Under gevent, psycopg waits for PostgreSQL cooperatively (the worker's
    monkey-patched select), so one process serves others while requests wait.

    Two bearer-token requests to A are held by a table lock on api_tokens (taken
    here, outside the hub). Both must reach PostgreSQL at once (a blocking
    driver would stop the whole worker at the first), and /healthz must answer
    while they wait."""
    import psycopg
    token = cluster.token("d02.clerk")
    with psycopg.connect(cluster.database_url, autocommit=False, connect_timeout=10) as blocker:
        blocker.execute("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")
        results: list[tuple[int, float]] = []
        started = time.monotonic()

        def held_request() -> None:
            status, _ = request(cluster.a, "GET", "/api/v1/channels", token=token, timeout=30)
            results.append((status, time.monotonic() - started))

        threads = [threading.Thread(target=held_request, daemon=True) for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            waiting = _wait_for_lock_waiters(cluster.database_url, 2, timeout=10)
            assert waiting == 2, f"{waiting} request(s) reached PostgreSQL: the worker blocked"
            assert results == []
            ping_started = time.monotonic()
            assert request(cluster.a, "GET", "/healthz", timeout=10)[0] == 200
            assert time.monotonic() - ping_started < 1.0
        finally:
            blocker.rollback()                      # let the held requests go
        for thread in threads:
            thread.join(timeout=20)
    assert [status for status, _ in results] == [200, 200]


def _wait_for_lock_waiters(database_url: str, wanted: int, timeout: float) -> int:
    """How many other sessions wait on a lock in this database (polls until `wanted`)."""
    import psycopg
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as watcher:
        while True:
            count = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()[0]
            if count >= wanted or time.monotonic() > deadline:
                return count
            time.sleep(0.05)
