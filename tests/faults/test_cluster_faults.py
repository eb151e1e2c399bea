"""Fault tests on a real cluster (issue 7, item 6): PostgreSQL, Redis and two
gevent hub processes (tests/cluster.py), all on loopback.

The bar is always the same: no acknowledged message lost, none duplicated,
nothing half-written (a message and its channel's last_message_id are one
commit). Each test leaves the cluster whole again (both hubs serving and
subscribed to Redis) for the next one, and records its figures in FIGURES;
with HUB_FAULTS_REPORT=<file> they are also written there as JSON at the end
(docs/RELIABILITY.md "Faults" quotes the last run).

These run once, on PostgreSQL only (skipped with HUB_TEST_BACKENDS=sqlite), on
a PostgreSQL server of their own (tests/faults/conftest.py).
"""
from __future__ import annotations

import json
import os
import socket
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import (Cluster, HubProcess, request, start_postgres, start_redis, stop_postgres,
                           stop_redis, wait_until)
from tests.faults.conftest import needs_cluster

pytestmark = needs_cluster

FIGURES: dict[str, dict[str, Any]] = {}
OFFICE = ["admin", "d02.leader", "d02.clerk", "d02.staff1", "d02.staff2"]   # 柯城区政府办公室
SEND_TIMEOUT = 3.0          # a send not acknowledged by then is retried (same client_msg_id)


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    text = json.dumps(FIGURES, ensure_ascii=False, indent=2)
    print(f"\nfault test figures:\n{text}")
    if os.environ.get("HUB_FAULTS_REPORT"):
        with open(os.environ["HUB_FAULTS_REPORT"], "w") as out:
            out.write(text + "\n")


@pytest.fixture
def whole(cluster: Cluster) -> Cluster:
    """The cluster with both hubs serving and listening on Redis, before and after the test."""
    _wait_whole(cluster)
    yield cluster
    _wait_whole(cluster)


def _wait_whole(cluster: Cluster) -> None:
    for process in (cluster.a, cluster.b):
        if process.process is None or process.process.poll() is not None:
            process.restart()
        wait_until(process.ready, 60, f"hub {process.name} serving")
    wait_until(lambda: cluster.queue_subscribers() >= 2, 60, "both hubs subscribed to Redis")


def office_channel(cluster: Cluster) -> int:
    channels = cluster.api(cluster.a, "d02.clerk", "GET", "/api/v1/channels")["items"]
    return next(c["id"] for c in channels if c["kind"] == "unit" and c["name"] == "柯城区政府办公室")


def catch_up(cluster: Cluster, process: HubProcess, login: str, channel: int, after: int) -> list[dict]:
    """Every message after `after`, oldest first, page by page, as a reconnecting client does."""
    found: list[dict] = []
    cursor: int | None = after
    while cursor is not None:
        page = cluster.api(process, login, "GET",
                           f"/api/v1/channels/{channel}/messages?after={cursor}&limit=100")
        found += page["items"]
        cursor = page["next"]
    return found


def database_rows(cluster: Cluster, prefix: str) -> dict[str, list[int]]:
    """client_msg_id -> ids of the rows with it, for the messages whose id starts with `prefix`."""
    import psycopg
    rows: dict[str, list[int]] = {}
    with psycopg.connect(cluster.database_url, connect_timeout=10) as connection:
        for client_msg_id, message_id in connection.execute(
                "SELECT client_msg_id, id FROM messages WHERE client_msg_id LIKE %s", (prefix + "%",)):
            rows.setdefault(client_msg_id, []).append(message_id)
    return rows


def assert_channel_consistent(cluster: Cluster, channel: int) -> None:
    """Nothing half-written: the channel's last_message_id is its newest message."""
    import psycopg
    with psycopg.connect(cluster.database_url, connect_timeout=10) as connection:
        last, newest = connection.execute(
            "SELECT c.last_message_id, (SELECT max(id) FROM messages m WHERE m.channel_id = c.id) "
            "FROM channels c WHERE c.id = %s", (channel,)).fetchone()
    assert last == newest, (last, newest)


def post(cluster: Cluster, process: HubProcess, login: str, channel: int, client_msg_id: str,
         body: str = "测试消息") -> tuple[int, Any]:
    return request(process, "POST", f"/api/v1/channels/{channel}/messages", token=cluster.token(login),
                   body={"body": body, "client_msg_id": client_msg_id})


# -- kill -9 during a burst ------------------------------------------------------------------


class RetryingSender(threading.Thread):
    """One client: sends its messages one by one over Socket.IO; a send not
    acknowledged (the connection dropped, no answer in SEND_TIMEOUT, an error
    answer) is sent again with the same client_msg_id, over a new connection to
    whichever hub answers, until acknowledged."""

    def __init__(self, cluster: Cluster, login: str, home: HubProcess, channel: int,
                 client_msg_ids: list[str], deadline: float) -> None:
        super().__init__(daemon=True)
        self.cluster, self.login, self.channel = cluster, login, channel
        self.order = [home, cluster.b if home is cluster.a else cluster.a]
        self.client_msg_ids, self.deadline = client_msg_ids, deadline
        self.acked: dict[str, int] = {}
        self.retries = self.reconnects = 0
        self.problems: list[str] = []
        self.client = None
        self.process = home

    def _connect(self) -> None:
        import socketio
        while time.monotonic() < self.deadline:
            for process in self.order:
                client = socketio.Client(reconnection=False, request_timeout=5)
                try:
                    client.connect(process.url, auth={"token": self.cluster.token(self.login)},
                                   transports=["websocket"], wait_timeout=5)
                except Exception:
                    continue
                self.client, self.process = client, process
                # Next time, try the other hub first (the one just left may be down).
                self.order = [p for p in self.order if p is not process] + [process]
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.login}: no hub to connect to")

    def _drop(self) -> None:
        if self.client is not None:
            try:
                self.client.disconnect()
            except Exception:
                pass
            self.client = None
            self.reconnects += 1

    def run(self) -> None:
        try:
            for client_msg_id in self.client_msg_ids:
                attempt = 0
                while client_msg_id not in self.acked:
                    if time.monotonic() > self.deadline:
                        raise TimeoutError(f"{self.login}: {client_msg_id} never acknowledged")
                    if attempt:
                        self.retries += 1
                    attempt += 1
                    if self.client is None or not self.client.connected:
                        self._drop()
                        self._connect()
                    try:
                        answer = self.client.call("send", {"channel_id": self.channel,
                                                           "client_msg_id": client_msg_id,
                                                           "body": f"突发消息 {client_msg_id}"},
                                                  timeout=SEND_TIMEOUT)
                    except Exception:
                        self._drop()
                        continue
                    if isinstance(answer, dict) and isinstance(answer.get("id"), int) \
                            and answer.get("client_msg_id") == client_msg_id:
                        self.acked[client_msg_id] = answer["id"]
                    else:
                        self.problems.append(repr(answer))
                        time.sleep(0.2)
        except Exception as problem:
            self.problems.append(repr(problem))
        finally:
            if self.client is not None:
                try:
                    self.client.disconnect()
                except Exception:
                    pass


def test_kill_9_of_a_hub_during_a_burst_loses_and_duplicates_nothing(whole):
    cluster = whole
    channel = office_channel(cluster)
    run = uuid.uuid4().hex[:8]
    prefix = f"burst-{run}-"
    clients, per_client = 20, 50
    deadline = time.monotonic() + 120
    senders = []
    for n in range(clients):
        ids = [f"{prefix}{n:02d}-{i:03d}" for i in range(per_client)]
        senders.append(RetryingSender(cluster, OFFICE[n % len(OFFICE)], cluster.a if n % 2 else cluster.b,
                                      channel, ids, deadline))
    for login in OFFICE:
        cluster.token(login)
    started = time.monotonic()
    for sender in senders:
        sender.start()
    acked = lambda: sum(len(s.acked) for s in senders)     # noqa: E731
    wait_until(lambda: acked() >= 300, 60, "300 acknowledgements before the kill")
    acked_at_kill = acked()
    cluster.b.kill()
    killed_at = time.monotonic()
    restart_seconds = cluster.b.restart()
    for sender in senders:
        sender.join(timeout=max(1.0, deadline - time.monotonic()))
    elapsed = time.monotonic() - started

    problems = [p for s in senders for p in s.problems]
    assert all(not s.is_alive() for s in senders), "a sender is stuck"
    acknowledged = {cid: mid for s in senders for cid, mid in s.acked.items()}
    assert len(acknowledged) == clients * per_client, (len(acknowledged), problems[:5])
    rows = database_rows(cluster, prefix)
    duplicated = {cid: ids for cid, ids in rows.items() if len(ids) != 1}
    lost = [cid for cid in acknowledged if cid not in rows]
    wrong = [cid for cid, mid in acknowledged.items() if rows.get(cid, [mid])[0] != mid]
    assert (lost, duplicated, wrong) == ([], {}, [])
    assert len(rows) == clients * per_client
    assert_channel_consistent(cluster, channel)
    # The catch-up view agrees: every message exactly once.
    listed = [m["client_msg_id"] for m in catch_up(cluster, cluster.a, "d02.staff1", channel,
                                                   min(acknowledged.values()) - 1)
              if (m["client_msg_id"] or "").startswith(prefix)]
    assert sorted(listed) == sorted(acknowledged)
    FIGURES["kill_9_burst"] = {
        "clients": clients, "messages": clients * per_client, "acknowledged": len(acknowledged),
        "in_database": len(rows), "lost": len(lost), "duplicated": len(duplicated),
        "acked_before_kill": acked_at_kill, "retries": sum(s.retries for s in senders),
        "reconnects": sum(s.reconnects for s in senders), "error_answers": len(problems),
        "restart_seconds": round(restart_seconds, 1), "burst_seconds": round(elapsed, 1),
        "after_kill_seconds": round(time.monotonic() - killed_at, 1)}


# -- SIGTERM during traffic ------------------------------------------------------------------


def _lock_waiters(database_url: str) -> int:
    import psycopg
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as watcher:
        return watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()[0]


def test_sigterm_lets_in_flight_requests_finish(whole):
    """Requests held in flight (a table lock on api_tokens, taken outside the hub)
    when hub b gets SIGTERM all finish with 2xx once the lock goes; b then exits."""
    import psycopg
    cluster = whole
    channel = office_channel(cluster)
    prefix = f"term-{uuid.uuid4().hex[:8]}-"
    token = cluster.token("d02.clerk")
    results: list[tuple[str, int]] = []

    def read() -> None:
        status, _ = request(cluster.b, "GET", "/api/v1/channels", token=token, timeout=40)
        results.append(("read", status))

    def write(n: int) -> None:
        status, _ = post(cluster, cluster.b, "d02.clerk", channel, f"{prefix}{n}")
        results.append((f"{prefix}{n}", status))

    threads = [threading.Thread(target=read, daemon=True) for _ in range(3)] + \
              [threading.Thread(target=write, args=(n,), daemon=True) for n in range(3)]
    with psycopg.connect(cluster.database_url, autocommit=False, connect_timeout=10) as blocker:
        blocker.execute("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        try:
            wait_until(lambda: _lock_waiters(cluster.database_url) >= len(threads), 15,
                       "the requests waiting in PostgreSQL")
            cluster.b.terminate()
            terminated = time.monotonic()
            time.sleep(1.5)                    # the worker is shutting down, requests in flight
            assert results == []
            assert cluster.b.process.poll() is None, "hub b exited with requests in flight"
        finally:
            blocker.rollback()
    for thread in threads:
        thread.join(timeout=30)
    cluster.b.process.wait(timeout=40)
    exit_seconds = time.monotonic() - terminated
    assert sorted(status for _, status in results) == [200] * 3 + [201] * 3, results
    rows = database_rows(cluster, prefix)
    assert sorted(rows) == sorted(f"{prefix}{n}" for n in range(3))
    assert all(len(ids) == 1 for ids in rows.values())
    assert_channel_consistent(cluster, channel)
    FIGURES["sigterm"] = {"in_flight": len(threads), "finished_2xx": len(results),
                          "exit_seconds_after_sigterm": round(exit_seconds, 1),
                          "restart_seconds": round(cluster.b.restart(), 1)}


# -- Redis restart during a fan-out ----------------------------------------------------------


def test_redis_restart_during_a_fan_out_keeps_publishing_and_clients_catch_up(whole):
    cluster = whole
    channel = office_channel(cluster)
    prefix = f"redis-{uuid.uuid4().hex[:8]}-"
    with cluster.socket(cluster.a, "d02.staff1") as reader_a, \
            cluster.socket(cluster.b, "d02.staff2") as reader_b, \
            cluster.socket(cluster.b, "d02.leader") as sender:
        readers = [reader_a, reader_b]
        before = []
        for n in range(5):
            status, body = post(cluster, (cluster.a, cluster.b)[n % 2], "d02.clerk", channel,
                                f"{prefix}before-{n}")
            assert status == 201, body
            before.append(body["id"])
        for reader in readers:
            for message_id in before:
                reader.wait_for("message", lambda data, i=message_id: data.get("id") == i)
        last_seen = max(before)

        stop_redis(cluster.redis)
        outage_started = time.monotonic()
        during, timings = [], []
        for n in range(10):
            started = time.monotonic()
            if n % 3 == 2:      # over the socket too: acknowledged after the commit
                client_msg_id = f"{prefix}during-{n}"
                answer = sender.call("send", {"channel_id": channel, "client_msg_id": client_msg_id,
                                              "body": "Redis 中断期间的消息"})
                assert isinstance(answer.get("id"), int), answer
                during.append(answer["id"])
            else:
                status, body = post(cluster, (cluster.a, cluster.b)[n % 2], "d02.clerk", channel,
                                    f"{prefix}during-{n}")
                assert status == 201, body
                during.append(body["id"])
            timings.append(time.monotonic() - started)
            time.sleep(0.2)         # Redis stays down about 2 s, as a restart would
        outage = time.monotonic() - outage_started
        start_redis(cluster.redis)
        back = time.monotonic()
        wait_until(lambda: cluster.queue_subscribers() >= 2, 30, "both hubs subscribed again")
        resubscribed = time.monotonic() - back

        after = []
        for n in range(5):
            status, body = post(cluster, (cluster.a, cluster.b)[n % 2], "d02.clerk", channel,
                                f"{prefix}after-{n}")
            assert status == 201, body
            after.append(body["id"])
        for reader in readers:      # live again, on both hubs
            for message_id in after:
                reader.wait_for("message", lambda data, i=message_id: data.get("id") == i)
        live_during = sum(1 for r in readers for i in during
                          if r.received("message", lambda data, i=i: data.get("id") == i))
        # Catching up: exactly every message after the last one seen, once, in order.
        for reader, process, login in ((reader_a, cluster.a, "d02.staff1"),
                                       (reader_b, cluster.b, "d02.staff2")):
            caught = [m["id"] for m in catch_up(cluster, process, login, channel, last_seen)]
            assert caught == during + after
    rows = database_rows(cluster, prefix)
    assert len(rows) == 20 and all(len(ids) == 1 for ids in rows.values())
    assert_channel_consistent(cluster, channel)
    FIGURES["redis_restart"] = {
        "sends_during_outage": len(during), "acknowledged_during_outage": len(during),
        "outage_seconds": round(outage, 1), "slowest_send_ms": round(max(timings) * 1000),
        # Each hub still delivers its own emits to its own sockets; the other hub's are
        # what the readers catch up on.
        "delivered_live_during_outage": f"{live_during} of {len(during) * len(readers)}",
        "resubscribed_seconds": round(resubscribed, 1),
        "caught_up_exactly": True}


# -- PostgreSQL restart ----------------------------------------------------------------------


def test_postgresql_restart_answers_503_then_recovers_without_a_hub_restart(whole):
    cluster = whole
    channel = office_channel(cluster)
    prefix = f"pg-{uuid.uuid4().hex[:8]}-"
    token = cluster.token("d02.clerk")
    workers = (cluster.a.worker, cluster.b.worker)
    status, body = post(cluster, cluster.a, "d02.clerk", channel, f"{prefix}before")
    assert status == 201, body

    socket_answers = []
    with cluster.socket(cluster.a, "d02.clerk") as sock:
        options = stop_postgres(cluster.pg)
        outage = []
        try:
            for process in (cluster.a, cluster.b):
                outage.append(request(process, "GET", "/api/v1/channels", token=token))
                outage.append(post(cluster, process, "d02.clerk", channel, f"{prefix}during-{process.name}"))
                assert request(process, "GET", "/healthz")[0] == 200     # the process itself is fine
            # A socket's send is answered too (not left to time out), and says why.
            socket_answers.append(sock.call("send", {"channel_id": channel, "body": f"{prefix}socket",
                                                     "client_msg_id": f"{prefix}socket"}))
        finally:
            start_postgres(cluster.pg, options)
    back = time.monotonic()
    for status, body in outage:
        assert status == 503, (status, body)
        assert body["error"]["code"] == "database_unavailable", body
    assert [answer["error"]["code"] for answer in socket_answers] == ["database_unavailable"], socket_answers

    recovered: dict[str, float] = {}
    while len(recovered) < 2 and time.monotonic() - back < 10:
        for process in (cluster.a, cluster.b):
            if process.name not in recovered \
                    and request(process, "GET", "/api/v1/channels", token=token)[0] == 200:
                recovered[process.name] = time.monotonic() - back
        time.sleep(0.05)
    assert len(recovered) == 2 and max(recovered.values()) < 5, recovered
    assert (cluster.a.worker_pid(), cluster.b.worker_pid()) == workers, "a hub was restarted"
    for process in (cluster.a, cluster.b):
        status, body = post(cluster, process, "d02.clerk", channel, f"{prefix}after-{process.name}")
        assert status == 201, body
    rows = database_rows(cluster, prefix)
    assert sorted(rows) == sorted([f"{prefix}before", f"{prefix}after-a", f"{prefix}after-b"])
    assert_channel_consistent(cluster, channel)
    FIGURES["postgresql_restart"] = {
        "requests_during_outage": len(outage), "answered_503": len(outage),
        "socket_sends_answered_database_unavailable": len(socket_answers),
        "recovery_seconds": {name: round(seconds, 2) for name, seconds in sorted(recovered.items())},
        "hub_restarted": False}


# -- a client offline catches up exactly -----------------------------------------------------


LONG = pytest.mark.skipif(os.environ.get("HUB_FAULTS_LONG") != "1",
                          reason="15 minutes of waiting: HUB_FAULTS_LONG=1 runs it")


@pytest.mark.parametrize("offline", [pytest.param(30, id="30s"),
                                     pytest.param(900, id="15min", marks=[pytest.mark.slow, LONG])])
def test_a_client_offline_catches_up_exactly(whole, offline):
    """Offline for `offline` seconds while a message a second (one every 30th of the
    time for the long case) goes through both hubs; back on the other hub, the client
    fetches `after=<last id seen>` and has exactly those, in order, then is live again."""
    cluster = whole
    channel = office_channel(cluster)
    prefix = f"offline-{offline}-{uuid.uuid4().hex[:6]}-"
    with cluster.socket(cluster.a, "d02.staff1") as reader:
        status, body = post(cluster, cluster.a, "d02.clerk", channel, f"{prefix}seen")
        assert status == 201, body
        reader.wait_for("message", lambda data: data.get("id") == body["id"])
        last_seen = body["id"]
    went_offline = time.monotonic()
    missed = []
    interval = max(1.0, offline / 30)
    n = 0
    while time.monotonic() - went_offline < offline:
        status, body = post(cluster, (cluster.a, cluster.b)[n % 2], "d02.clerk", channel, f"{prefix}{n}")
        assert status == 201, body
        missed.append(body["id"])
        n += 1
        time.sleep(max(0.0, went_offline + n * interval - time.monotonic()))
    with cluster.socket(cluster.b, "d02.staff1") as reader:
        caught = [m["id"] for m in catch_up(cluster, cluster.b, "d02.staff1", channel, last_seen)]
        assert caught == missed
        status, body = post(cluster, cluster.a, "d02.clerk", channel, f"{prefix}live")
        assert status == 201, body
        reader.wait_for("message", lambda data: data.get("id") == body["id"])
    FIGURES[f"offline_{offline}s"] = {"offline_seconds": round(time.monotonic() - went_offline),
                                      "missed": len(missed), "caught_up": len(caught)}


# -- a slow consumer -------------------------------------------------------------------------


class StalledSocket:
    """A Socket.IO client that connects, then never reads again: a tiny receive
    buffer, and the server's writes to it pile up."""

    def __init__(self, process: HubProcess, token: str) -> None:
        import websocket
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{process.port}/socket.io/?EIO=4&transport=websocket", timeout=10,
            sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
        assert self.ws.recv().startswith("0")                   # engine.io open
        self.ws.send("40" + json.dumps({"token": token}))
        assert self.ws.recv().startswith("40")                  # socket.io connected

    def unread_bytes(self) -> int:
        import fcntl
        import struct
        import termios
        raw = fcntl.ioctl(self.ws.sock.fileno(), termios.FIONREAD, struct.pack("i", 0))
        return struct.unpack("i", raw)[0]

    def server_unsent_bytes(self, process: HubProcess) -> int:
        """What the hub has written to this client that is still in its own send
        queue (the kernel's, /proc/net/tcp tx_queue)."""
        mine = self.ws.sock.getsockname()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
            if int(local, 16) == process.port and int(remote, 16) == mine:
                return int(fields[4].split(":")[0], 16)
        return 0

    def close(self) -> None:
        self.ws.sock.close()


def _time_arrivals(reader) -> None:
    """Note when each message reaches `reader` (its own handler, ahead of the catch-all)."""
    reader.arrivals = {}

    def on_message(data):
        reader.arrivals.setdefault(data["id"], time.time())
        reader._record("message", data)
    reader.client.on("message", on_message)


def _latencies(cluster: Cluster, channel: int, readers, prefix: str, count: int) -> list[float]:
    """Send `count` messages of BODY_MAX characters (about 60 KB on the wire, JSON
    escapes them) through hub a; each reader's delay until it got each one."""
    body = "延迟测试" * 2500
    sent: dict[int, float] = {}
    for n in range(count):
        started = time.time()
        status, answer = post(cluster, cluster.a, "d02.clerk", channel, f"{prefix}{n}", body=body)
        assert status == 201, answer
        sent[answer["id"]] = started
        time.sleep(0.02)
    delays = []
    for reader in readers:
        for message_id, started in sent.items():
            reader.wait_for("message", lambda data, i=message_id: data.get("id") == i)
        arrived = reader.arrivals
        delays += [arrived[message_id] - started for message_id, started in sent.items()]
    return delays


def test_a_slow_consumer_does_not_slow_the_others(whole):
    cluster = whole
    channel = office_channel(cluster)
    prefix = f"slow-{uuid.uuid4().hex[:6]}-"
    with cluster.socket(cluster.a, "d02.staff1") as on_a, cluster.socket(cluster.b, "d02.staff2") as on_b:
        for reader in (on_a, on_b):
            _time_arrivals(reader)
        baseline = _latencies(cluster, channel, (on_a, on_b), prefix + "base-", 40)
        stalled = StalledSocket(cluster.a, cluster.token("d02.leader"))
        try:
            loaded = _latencies(cluster, channel, (on_a, on_b), prefix + "stalled-", 100)
            unread, unsent = stalled.unread_bytes(), stalled.server_unsent_bytes(cluster.a)
        finally:
            stalled.close()
    assert unread > 0, "the stalled client read everything: it was not slow"
    # 100 messages of ~60 KB: megabytes wait in the hub's send queue for the
    # stalled client (its kernel send buffer fills) while the others are served.
    assert unsent > 1_000_000, unsent

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]
    assert p95(loaded) < max(0.5, 3 * p95(baseline)), (p95(baseline), p95(loaded))
    assert _healthy(cluster.a)
    FIGURES["slow_consumer"] = {
        "messages": {"baseline": 40, "with_stalled_client": 100}, "body_characters": 10_000,
        "readers": 2, "hub_unsent_to_stalled_client_bytes": unsent,
        "baseline_p50_ms": round(statistics.median(baseline) * 1000, 1),
        "baseline_p95_ms": round(p95(baseline) * 1000, 1),
        "with_stalled_client_p50_ms": round(statistics.median(loaded) * 1000, 1),
        "with_stalled_client_p95_ms": round(p95(loaded) * 1000, 1),
        "stalled_client_unread_bytes": unread}


def _healthy(process: HubProcess) -> bool:
    return request(process, "GET", "/healthz", timeout=5)[0] == 200
