"""Benchmark: the peer workload of the Synapse peer bench, run against Hub (issue 6).

    .venv/bin/pip install -r requirements-bench.txt      # once: aiohttp for the load clients
    .venv/bin/python bench/peer.py                        # N=200 members, M=50 messages
    .venv/bin/python bench/peer.py --users 50 --json /tmp/hub-n50.json
    .venv/bin/python bench/peer.py --synapse bench/peer_synapse/n200-open-run1.json

The same workload as the peer's `bench.py`, step for step, in Hub's own terms:

1. Setup. A fresh SQLite database holding one county and its system admin
   (nothing else). Over HTTP, as an operator would: the admin creates the
   unit (`POST /api/v1/units`: its channel comes with it — Matrix's "create
   room"), imports N+1 people into it from a CSV with an initial password
   (`POST /api/v1/people/import`: they are members of the unit channel at
   once — Matrix's register, invite and join), then every person signs in
   (`POST /api/v1/auth/token`, argon2id, 10 in flight) and loads what a client
   loads first (`GET /api/v1/channels` and `GET /api/v1/inbox`, 10 in flight:
   the initial sync). N members connect over Socket.IO (one load-client
   process, bench/realtime_client.py), the sender on its own socket, then 2 s
   to settle.
2. Fan-out, open loop: message k goes out over the sender's socket (`send`,
   acknowledged after commit) at t0 + k * interval whether or not earlier sends
   were acknowledged. Delivery latency = the member's receipt time - that
   send's start; send latency = until the acknowledgement.
3. Notice to everyone: 2 s after the channel is quiet, the sender (the unit's
   leader) publishes a notice to the unit (`POST /api/v1/notices`); the time
   until the last of the N members has the `notice` event. Three times, 2 s
   apart; the median is reported.
4. Read receipts for the last notice: every member POSTs
   `/api/v1/notices/{id}/read`, 20 in flight. "Sender saw all": the sender's
   socket gets `receipt` events and, like the publisher's page, re-reads the
   counts (`GET /api/v1/notices/{id}/receipts`, one request at a time) until
   they show all N. "Query": one fresh GET of the same counts.
5. Resources: the worker's CPU seconds (utime + stime) per phase and in all,
   its RSS at each mark and its peak (VmHWM), from /proc.

As in the peer's run: the server (one gunicorn gevent worker) is pinned to
CPU 0 and everything else (this driver, the load client) to CPU 1 (--no-pin
to share both); percentiles interpolate linearly between closest ranks (the
numpy default). Everything stays on 127.0.0.1, every wait has a timeout and
the whole run a deadline (--max-seconds), and every process started here is
stopped at the end. Prints one JSON line with the peer's keys (setup,
send_latency_ms, fanout.delivery_latency_ms, notice_to_everyone, receipts,
resources) and, given --synapse, a table of both side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtime import (ROOT, LoadClient, Server, WorkerGone, cpu_seconds, own_cpu_seconds,  # noqa: E402
                      sender)

sys.path.insert(0, str(ROOT))
from hub import create_app  # noqa: E402
from hub.auth.actions import issue_token  # noqa: E402
from hub.passwords import hash_password  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.org.models import Membership, Role, RoleGrant, Unit, UnitKind, User  # noqa: E402

PASSWORD = "Peer@Bench2026"
REQUEST_TIMEOUT = 60.0
CONNECT_TIMEOUT = 240.0


def pct(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), as the peer's bench."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low = math.floor(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summ(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50": round(pct(ms, 50), 1), "p95": round(pct(ms, 95), 1),
            "p99": round(pct(ms, 99), 1), "max": round(max(ms), 1), "mean": round(statistics.fmean(ms), 1)}


# --- the database: one county and its admin; the rest is done over HTTP ---------------

def build_database(folder: Path) -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'hub.db'}",
                      "INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench",
                      "DEMO": False, "REDIS_URL": None})
    upgrade(app)
    with app.app_context():
        county = Unit(code="330802", name="柯城区", kind=UnitKind.COUNTY, depth=0)
        db.session.add(county)
        db.session.flush()
        county.path = f"/{county.id}/"
        admin = User(login="peer.admin", name="系统管理员", password_hash=hash_password(PASSWORD))
        admin.memberships.append(Membership(unit=county, position="系统管理员", is_primary=True))
        admin.roles.append(RoleGrant(role=Role.ADMIN, unit=None))
        db.session.add(admin)
        db.session.commit()
        data = {"county_id": county.id, "admin_token": issue_token(admin)}
        db.session.remove()
        db.engine.dispose()
    return data


# --- the run --------------------------------------------------------------------------

class Bench:
    def __init__(self, args, server: Server, data: dict, folder: Path) -> None:
        self.args = args
        self.server = server
        self.data = data
        self.folder = folder
        self.base = f"http://127.0.0.1:{server.port}"
        self.marks: list[tuple[str, float, float, float, float]] = []
        self.clients: list[LoadClient] = []
        self.errors: list[str] = []
        self.http: aiohttp.ClientSession | None = None
        self.sender_socket = None
        self.final_resources: dict = {}

    def mark(self, name: str) -> None:
        client_cpu = own_cpu_seconds() + sum(cpu_seconds(c.process.pid) for c in self.clients
                                             if c.process.returncode is None)
        self.marks.append((name, time.perf_counter(), self.server.cpu(), client_cpu, self.server.rss_mb()))
        print(f"[hub-peer] {name}", file=sys.stderr, flush=True)

    def span(self, first: str, last: str) -> float:
        at = {m[0]: m[1] for m in self.marks}
        return at[last] - at[first]

    async def req(self, method: str, path: str, token: str, **kwargs) -> tuple[float, dict]:
        started = time.perf_counter()
        async with self.http.request(method, self.base + path, headers={"Authorization": f"Bearer {token}"},
                                     **kwargs) as response:
            body = await response.json(content_type=None)
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {str(body)[:200]}")
        return (time.perf_counter() - started) * 1000, body

    async def bounded(self, items: list, work, limit: int) -> list[float]:
        """Run work(item) for every item, at most `limit` in flight; the latencies in ms."""
        gate = asyncio.Semaphore(limit)

        async def one(item):
            async with gate:
                started = time.perf_counter()
                await work(item)
                return (time.perf_counter() - started) * 1000
        return list(await asyncio.gather(*(one(item) for item in items)))

    async def run(self) -> dict:
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                          timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
        try:
            return await asyncio.wait_for(self._run(), self.args.max_seconds)
        finally:
            self.final_resources = self.resources()
            if self.clients:
                await asyncio.gather(*(c.stop() for c in self.clients), return_exceptions=True)
            if self.sender_socket is not None:
                await asyncio.wait_for(self.sender_socket.disconnect(), 10)
            await self.http.close()

    async def _run(self) -> dict:
        a = self.args
        admin = self.data["admin_token"]
        self.mark("start")

        # Setup: the unit (and with it its channel), the people, their sign-in.
        create_ms, unit = await self.req("POST", "/api/v1/units", admin, json={
            "parent_id": self.data["county_id"], "code": "330802-PEER", "name": "区森林防火专班",
            "kind": "department"})
        logins = ["peer.sender"] + [f"peer.m{i:04d}" for i in range(a.users)]
        table = io.StringIO()
        writer = csv.writer(table)
        writer.writerow(["login", "name", "unit_code", "position", "password", "roles"])
        for i, login in enumerate(logins):
            writer.writerow([login, "专班负责人" if i == 0 else f"专班成员{i}", "330802-PEER",
                             "负责人" if i == 0 else "成员", PASSWORD, "leader" if i == 0 else "member"])
        form = aiohttp.FormData()
        form.add_field("file", table.getvalue().encode(), filename="people.csv", content_type="text/csv")
        import_ms, report = await self.req("POST", "/api/v1/people/import", admin, data=form)
        if report.get("errors") or report.get("created") != len(logins):
            raise RuntimeError(f"import: {report}")
        self.mark("registered")
        tokens: dict[str, str] = {}

        async def sign_in(login: str) -> None:
            _, answer = await self.req("POST", "/api/v1/auth/token", "", json={"login": login,
                                                                                "password": PASSWORD})
            tokens[login] = answer["token"]
        sign_in_ms = await self.bounded(logins, sign_in, a.concurrency)
        self.mark("signed_in")
        _, channels = await self.req("GET", "/api/v1/channels", tokens["peer.sender"])
        channel = next(c["id"] for c in channels["items"] if c.get("unit_id") == unit["id"])

        async def initial_load(login: str) -> None:
            await self.req("GET", "/api/v1/channels", tokens[login])
            await self.req("GET", "/api/v1/inbox?limit=50", tokens[login])
        initial_ms = await self.bounded(logins, initial_load, a.concurrency)
        self.mark("initial_synced")

        members = [tokens[login] for login in logins[1:]]
        tokens_file = self.folder / "tokens.json"
        tokens_file.write_text(json.dumps({"tokens": members}))
        self.clients.append(await LoadClient.start(self.base, tokens_file, 0, len(members), False, 0))
        connected = await self.clients[0].read("connected", CONNECT_TIMEOUT)
        if len(connected["people"]) != len(members):
            raise RuntimeError(f"connected {len(connected['people'])} of {len(members)}: {connected['errors']}")
        self.sender_socket = await sender(self.base, tokens["peer.sender"])
        receipts_seen: asyncio.Event = asyncio.Event()
        self.sender_socket.on("receipt", lambda data: receipts_seen.set())
        self.mark("connected")
        await asyncio.sleep(a.settle_s)
        self.mark("settled")

        fanout, send_ms = await self.fanout(channel)
        self.mark("fanout_done")
        notices = await self.notices(tokens["peer.sender"], unit["id"])
        self.mark("notices_done")
        receipts = await self.receipts(tokens, logins, notices[-1]["id"], receipts_seen)
        self.mark("receipts_done")
        times_to_all = [n["time_to_all_ms"] for n in notices if n["time_to_all_ms"] is not None]
        return {
            "ok": not self.errors,
            "setup": {
                "create_unit_ms": round(create_ms, 1),
                "import_people_ms": round(import_ms, 1),
                "register_s": round(self.span("start", "registered"), 2),
                "sign_in_s": round(self.span("registered", "signed_in"), 2),
                "sign_in_latency_ms": summ(sign_in_ms),
                "register_and_join_total_s": round(self.span("start", "signed_in"), 2),
                "initial_sync_s": round(self.span("signed_in", "initial_synced"), 2),
                "initial_sync_latency_ms": summ(initial_ms),
                "connect_sockets_s": round(self.span("initial_synced", "connected"), 2),
            },
            "send_latency_ms": summ(send_ms),
            "fanout": fanout,
            "notice_to_everyone": {
                "runs": notices,
                "time_to_all_ms_median": round(pct(times_to_all, 50), 1) if times_to_all else None,
                "time_to_all_ms_max": round(max(times_to_all), 1) if times_to_all else None,
            },
            "receipts": receipts,
        }

    async def fanout(self, channel: int) -> tuple[dict, list[float]]:
        """M messages over the sender's socket, open loop; every member's receipt of each."""
        a = self.args
        run = uuid.uuid4().hex[:8]
        loop = asyncio.get_running_loop()
        start = loop.time()
        acks: dict[int, float] = {}
        started_at: dict[int, float] = {}
        lags: list[float] = []

        async def send(seq: int) -> None:
            started_at[seq] = time.time()
            began = time.perf_counter()
            try:
                reply = await self.sender_socket.call("send", {
                    "channel_id": channel, "client_msg_id": f"peer-{run}-{seq}",
                    "body": f"bench fanout {seq} {started_at[seq]:.6f}"}, timeout=30)
            except Exception as problem:                    # noqa: BLE001 - reported
                self.errors.append(f"send {seq}: {type(problem).__name__}: {problem}")
                return
            if isinstance(reply, dict) and "id" in reply:
                acks[seq] = (time.perf_counter() - began) * 1000
            else:
                self.errors.append(f"send {seq}: {str(reply)[:200]}")

        tasks = []
        for seq in range(a.messages):
            delay = start + seq * a.interval_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            lags.append(max(loop.time() - (start + seq * a.interval_ms / 1000), 0.0))
            tasks.append(asyncio.create_task(send(seq)))
        last_send = loop.time()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        sends_done = loop.time()
        expected = a.users * a.messages
        drain_deadline = time.monotonic() + a.fanout_wait_s
        while time.monotonic() < drain_deadline:
            count = await self.clients[0].ask("count fanout", "count")
            if count["n"] >= expected:
                break
            await asyncio.sleep(0.05)
        drained = loop.time()
        deliveries = (await self.clients[0].ask("collect fanout", "collected", timeout=60))["deliveries"]
        latencies = [ms for _, ms in deliveries]
        by_message: dict[int, list[float]] = {}
        for seq, ms in deliveries:
            by_message.setdefault(seq, []).append(ms)
        to_all = [max(v) for v in by_message.values() if len(v) == a.users]
        return {
            "deliveries_expected": expected,
            "deliveries_received": len(deliveries),
            "all_delivered": len(deliveries) == expected and len(acks) == a.messages,
            "send_mode": "open",
            "send_span_s": round(last_send - start, 2),
            "max_send_start_lag_ms": round(max(lags) * 1000, 1) if lags else None,
            "all_sends_returned_s": round(sends_done - start, 2),
            "delivery_latency_ms": summ(latencies),
            "per_message_time_to_all_ms": summ(to_all),
            "drain_after_last_send_s": round(drained - last_send, 2),
        }, [acks[k] for k in sorted(acks)]

    async def notices(self, token: str, unit_id: int) -> list[dict]:
        """Notices to the whole unit, one at a time after a quiet gap; until all N have each."""
        a = self.args
        runs = []
        for r in range(a.notices):
            await asyncio.sleep(a.quiet_s)
            sent = time.time()
            send_ms, notice = await self.req("POST", "/api/v1/notices", token, json={
                "title": f"关于做好今冬森林防火值守工作的通知（{r + 1}）",
                "summary": "各成员本周内落实值守安排，节假日保持通讯畅通。",
                "body": "请各成员按照值守表落实到岗，遇有火情立即报告。",
                "audience": {"units": [unit_id]}})
            wait_until = time.monotonic() + a.notice_wait_s
            while time.monotonic() < wait_until:
                count = await self.clients[0].ask("count notice", "count")
                if count["n"] >= a.users * (r + 1):
                    break
                await asyncio.sleep(0.02)
            runs.append({"id": notice["id"], "sent_at": sent, "send_ms": round(send_ms, 1),
                         "audience_count": notice.get("audience_count")})
        arrivals = (await self.clients[0].ask("collect notice", "collected", timeout=60))["deliveries"]
        for run in runs:
            lats = [at - run["sent_at"] * 1000 for notice_id, at in arrivals if notice_id == run["id"]]
            run.update(received_by=len(lats), p50_ms=round(pct(lats, 50), 1) if lats else None,
                       time_to_all_ms=round(max(lats), 1) if len(lats) == a.users else None)
            del run["sent_at"]
        return runs

    async def receipts(self, tokens: dict[str, str], logins: list[str], notice_id: int,
                       seen: asyncio.Event) -> dict:
        a = self.args
        await asyncio.sleep(a.quiet_s)
        sender_token = tokens[logins[0]]
        path = f"/api/v1/notices/{notice_id}/receipts"
        seen.clear()
        saw_all: list[float] = []
        reads = 0
        started = time.perf_counter()

        async def follow() -> None:
            """The publisher's page: on each `receipt` event, re-read the counts."""
            nonlocal reads
            while True:
                await seen.wait()
                seen.clear()
                _, counts = await self.req("GET", path, sender_token)
                reads += 1
                if counts["read_count"] >= a.users:
                    saw_all.append(time.perf_counter())
                    return

        watcher = asyncio.create_task(follow())

        async def read(login: str) -> None:
            await self.req("POST", f"/api/v1/notices/{notice_id}/read", tokens[login])
        post_ms = await self.bounded(logins[1:], read, a.receipt_concurrency)
        posted = time.perf_counter()
        try:
            await asyncio.wait_for(watcher, a.receipt_wait_s)
        except asyncio.TimeoutError:
            self.errors.append("the publisher did not see every receipt in time")
        query_ms, counts = await self.req("GET", path, sender_token)
        return {
            "post_latency_ms": summ(post_ms),
            "all_posted_ms": round((posted - started) * 1000, 1),
            "sender_saw_all_ms": round((saw_all[0] - started) * 1000, 1) if saw_all else None,
            "sender_count_requests": reads,
            "query_ms": round(query_ms, 1),
            "query_readers_found": counts["read_count"],
            "note": "Hub lists who has read a notice: GET /api/v1/notices/{id}/receipts (counts by unit "
                    "and the unread, paginated); the publisher's socket gets a `receipt` event when they change.",
        }

    def resources(self) -> dict:
        out: dict = {"server_cpu_s_by_phase": {}, "client_cpu_s_by_phase": {}}
        for (_, t0, s0, c0, _), (name, t1, s1, c1, _) in zip(self.marks, self.marks[1:]):
            out["server_cpu_s_by_phase"][name] = {"cpu_s": round(s1 - s0, 2), "wall_s": round(t1 - t0, 2),
                                                  "cpu_util": round((s1 - s0) / max(t1 - t0, 1e-9), 2)}
            out["client_cpu_s_by_phase"][name] = round(c1 - c0, 2)
        if self.marks:
            out["server_cpu_s_total"] = round(self.marks[-1][2] - self.marks[0][2], 2)
            out["client_cpu_s_total"] = round(self.marks[-1][3] - self.marks[0][3], 2)
            out["server_rss_mb_at_marks"] = {m[0]: round(m[4], 1) for m in self.marks}
        try:
            out["server_peak_rss_mb"] = round(self.server.peak_rss_mb(), 1)
        except WorkerGone:
            pass
        return out


# --- the side-by-side table -------------------------------------------------------------

def side_by_side(hub: dict, peer: dict) -> str:
    def lat(d: dict) -> str:
        return " / ".join(f"{d.get(k, float('nan')):,.1f}" for k in ("p50", "p95", "p99", "max"))

    def get(result: dict, *keys, default=None):
        for key in keys:
            if not isinstance(result, dict) or key not in result:
                return default
            result = result[key]
        return result

    rows = []
    h, s = hub["fanout"]["delivery_latency_ms"], peer["fanout"]["delivery_latency_ms"]
    rows.append(("fan-out delivery p50 / p95 / p99 / max ms", lat(s), lat(h), f"p99 {s['p99'] / h['p99']:,.0f}× lower"))
    h, s = hub["send_latency_ms"], peer["send_latency_ms"]
    rows.append(("send latency p50 / p95 / p99 / max ms", lat(s), lat(h), f"p99 {s['p99'] / h['p99']:,.0f}× lower"))
    rows.append(("deliveries", f"{peer['fanout']['deliveries_received']:,} of {peer['fanout']['deliveries_expected']:,}",
                 f"{hub['fanout']['deliveries_received']:,} of {hub['fanout']['deliveries_expected']:,}", ""))
    h, s = (get(hub, "notice_to_everyone", "time_to_all_ms_median"),
            get(peer, "notice_to_everyone", "time_to_all_ms_median"))
    rows.append(("notice to everyone, until all N have it (median of 3) ms", f"{s:,.0f}", f"{h:,.0f}",
                 f"{s / h:,.0f}× less" if s and h else ""))
    h, s = hub["setup"], peer["setup"]
    rows.append(("set up the members s (Synapse: register + room + invite + join; Hub: unit + import + sign-in)",
                 f"{s['register_and_join_total_s']:,.1f}", f"{h['register_and_join_total_s']:,.1f}", ""))
    rows.append(("initial sync of N+1 s", f"{s['initial_sync_s']:,.1f}", f"{h['initial_sync_s']:,.1f}", ""))
    h, s = hub["receipts"], peer["receipts"]
    rows.append(("receipt POST p50 / p99 ms", f"{s['post_latency_ms']['p50']:,.0f} / {s['post_latency_ms']['p99']:,.0f}",
                 f"{h['post_latency_ms']['p50']:,.0f} / {h['post_latency_ms']['p99']:,.0f}", ""))
    rows.append(("all N receipts posted / sender saw all N ms",
                 f"{s['all_posted_ms']:,.0f} / {s.get('sender_saw_all_ms') or float('nan'):,.0f}",
                 f"{h['all_posted_ms']:,.0f} / {h.get('sender_saw_all_ms') or float('nan'):,.0f}", ""))
    rows.append(("who has read it: query ms (readers found)",
                 f"{s['query_initial_sync_ms']:,.0f} ({s['query_readers_found']})",
                 f"{h['query_ms']:,.0f} ({h['query_readers_found']})", ""))
    hr, sr = hub["resources"], peer["resources"]
    rows.append(("server CPU s, whole run", f"{sr.get('server_cpu_s_total', float('nan')):,.1f}",
                 f"{hr['server_cpu_s_total']:,.1f}", ""))
    fan_h = hr["server_cpu_s_by_phase"].get("fanout_done", {})
    fan_s = sr["server_cpu_s_by_phase"].get("fanout_done", {})
    rows.append(("server CPU in the fan-out: CPU s / wall s", f"{fan_s.get('cpu_s', 0):.1f} / {fan_s.get('wall_s', 0):.1f}",
                 f"{fan_h.get('cpu_s', 0):.1f} / {fan_h.get('wall_s', 0):.1f}", ""))
    peak_s = max((v for v in (sr.get("server_rss_mb_at_marks") or {}).values() if v), default=float("nan"))
    peak_s = get(sr, "server_mem_end", "peak_rss_mb", default=peak_s)
    rows.append(("server peak RSS MB", f"{peak_s:,.0f}", f"{hr.get('server_peak_rss_mb', float('nan')):,.0f}", ""))
    lines = ["| measure | Synapse | Hub | ratio |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="members N (plus one sender)")
    parser.add_argument("--messages", type=int, default=50, help="messages M")
    parser.add_argument("--interval-ms", type=float, default=100)
    parser.add_argument("--notices", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=10, help="setup requests in flight")
    parser.add_argument("--receipt-concurrency", type=int, default=20)
    parser.add_argument("--settle-s", type=float, default=2.0)
    parser.add_argument("--quiet-s", type=float, default=2.0)
    parser.add_argument("--fanout-wait-s", type=float, default=60.0)
    parser.add_argument("--notice-wait-s", type=float, default=30.0)
    parser.add_argument("--receipt-wait-s", type=float, default=60.0)
    parser.add_argument("--max-seconds", type=float, default=480.0, help="deadline for the whole run")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server to CPU 0 and the rest to CPU 1")
    parser.add_argument("--label", default=time.strftime("%Y%m%dT%H%M%S"))
    parser.add_argument("--json", type=Path, help="also write the full result here")
    parser.add_argument("--synapse", type=Path, help="a result JSON of the peer's bench, for the table")
    args = parser.parse_args()
    pinned = not args.no_pin and os.cpu_count() and os.cpu_count() >= 2

    with tempfile.TemporaryDirectory(prefix="hub-bench-peer-") as tmp:
        folder = Path(tmp)
        data = build_database(folder)
        server = Server(folder, "gevent", None, cpus={0} if pinned else None)
        if pinned:
            os.sched_setaffinity(0, {1})                # this driver and the load client it starts
        started = time.perf_counter()
        bench = None
        try:
            server.wait_ready()
            bench = Bench(args, server, data, folder)
            result = asyncio.run(bench.run())
        except BaseException:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            resources = bench.final_resources if bench else {}
            problems = server.problems()
            server.stop()
    result.update({
        "peer": "hub", "label": args.label, "n_users": args.users, "m_messages": args.messages,
        "interval_ms": args.interval_ms, "notices": args.notices, "concurrency": args.concurrency,
        "receipt_concurrency": args.receipt_concurrency, "wall_s": round(time.perf_counter() - started, 2),
        "resources": resources, "errors": bench.errors + problems[:5],
        "server": {"worker": "gunicorn, one gevent worker", "database": "SQLite", "pinned_cpu": 0 if pinned else None},
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                    "date": time.strftime("%Y-%m-%d")},
    })
    print(json.dumps(result, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    if args.synapse:
        print()
        print(side_by_side(result, json.loads(args.synapse.read_text())))


if __name__ == "__main__":
    main()
