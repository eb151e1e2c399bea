"""Benchmark: real time with 2,000 live Socket.IO connections on one hub process (issue 3).

    .venv/bin/pip install -r requirements-bench.txt      # once: aiohttp for the load clients
    .venv/bin/python bench/realtime.py --mode gevent --rt-priority 10
    .venv/bin/python bench/realtime.py --mode threading --threads 2100

Builds a fresh SQLite database in a temp dir (schema by hub.migrate.upgrade):
one unit with 2,000 people, each of whom is also in one of 40 departments of 50
(so there is one 2,000-member unit channel and 40 channels of 50), a bearer token
per person (issued in-process), and 1,000,000 messages spread over the channels
(250,000 in the big one). Then starts the hub as a real server,
`gunicorn -c gunicorn.conf.py wsgi:app` on a free loopback port, in the chosen
mode, and load-client processes (bench/realtime_client.py, 4 x 500 Socket.IO
clients over WebSocket, authenticated with auth={"token": ...}). It measures:

1. connect: time to connect everyone; the worker's RSS before and after,
   per 1,000 idle connections;
2. fan-out: 50 messages, 100 ms apart, sent over a socket (python-socketio's
   client) into the 2,000-member channel; latency of every delivery
   (receive time - send time, same clock) and how many never arrived;
3. sustained: 100 messages/s for 30 s into the 40 channels of 50, each sent by
   a member over a socket; latency of every delivery;
4. page: GET /api/v1/channels/<id>/messages?limit=50 (newest, and ?before= the
   middle of the channel), 200 requests each, with 1,000,000 messages stored;
5. the server's CPU time during 2 and 3 (utime + stime of the worker), and
   the CPU that other processes on the machine used meanwhile.

The machine may be shared: before each phase it waits (--wait-quiet) for other
processes to go quiet, and --rt-priority runs the measured processes ahead of
them. Everything stays on 127.0.0.1, every wait has a timeout, and every
process it started is stopped at the end, also on error. Results go into
docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, update  # noqa: E402

from hub import create_app  # noqa: E402
from hub.auth.actions import issue_token  # noqa: E402
from hub.channels.actions import ensure_unit_channels  # noqa: E402
from hub.channels.models import Channel, ChannelKind, Message  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.org.models import Membership, Unit, UnitKind, User  # noqa: E402

PYTHON = sys.executable
CLIENT = Path(__file__).resolve().parent / "realtime_client.py"
GROUP = 50                          # people per small channel
SERVER_START_TIMEOUT = 90.0
CLIENT_CONNECT_TIMEOUT = 240.0      # all of one process's clients
DELIVERY_TIMEOUT = 30.0             # after the last send, for stragglers
REQUEST_TIMEOUT = 10.0


# --- the database -----------------------------------------------------------------

def build_database(folder: Path, people: int, messages: int) -> dict:
    """Units, people, channels, tokens and messages; returns what the run needs."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'hub.db'}",
                      "INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench",
                      "DEMO": False, "REDIS_URL": None})
    upgrade(app)
    with app.app_context():
        big = Unit(code="BENCH", name="压测县政府", kind=UnitKind.COUNTY, depth=0)
        db.session.add(big)
        db.session.flush()
        big.path = f"/{big.id}/"
        groups = []
        for k in range(people // GROUP):
            unit = Unit(code=f"BENCH{k:03d}", name=f"压测科室{k + 1}", kind=UnitKind.DEPARTMENT,
                        parent_id=big.id, depth=1, sort_order=k)
            db.session.add(unit)
            db.session.flush()
            unit.path = f"{big.path}{unit.id}/"
            groups.append(unit.id)
        db.session.execute(insert(User), [{"login": f"bench{i:05d}", "name": f"压测{i}"}
                                          for i in range(people)])
        user_ids = list(db.session.scalars(select(User.id).where(User.login.like("bench%"))
                                           .order_by(User.login)))
        db.session.execute(insert(Membership), [
            {"user_id": uid, "unit_id": groups[i // GROUP], "position": "科员", "is_primary": True}
            for i, uid in enumerate(user_ids)] + [
            {"user_id": uid, "unit_id": big.id, "position": "干部", "is_primary": False}
            for uid in user_ids])
        ensure_unit_channels()
        db.session.commit()
        channel_of = dict(db.session.execute(select(Channel.unit_id, Channel.id)
                                             .where(Channel.kind == ChannelKind.UNIT)).all())
        big_channel = channel_of[big.id]
        small_channels = [channel_of[u] for u in groups]

        started = time.perf_counter()
        tokens = [issue_token(db.session.get(User, uid)) for uid in user_ids]
        print(f"setup: {people} people, {len(groups)} departments, tokens in "
              f"{time.perf_counter() - started:.1f} s", flush=True)

        middle = None
        if messages:
            started = time.perf_counter()
            middle = _load_messages(big_channel, small_channels, user_ids, messages)
            print(f"setup: {messages:,} messages in {time.perf_counter() - started:.1f} s", flush=True)
        db.session.remove()
        db.engine.dispose()
    return {"tokens": tokens, "big_channel": big_channel, "small_channels": small_channels,
            "middle_id": middle}


def _load_messages(big_channel: int, small_channels: list[int], user_ids: list[int], total: int) -> int:
    """A quarter of `total` into the big channel, the rest round-robin over the
    small ones, oldest first. Plain executemany through the driver, in chunks,
    with created_at in SQLAlchemy's SQLite format (the ORM path takes minutes).
    Returns the id in the middle of the big channel."""
    in_big = total // 4
    start = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=365)
    body = "请各单位于本周五前报送本季度安全生产检查情况，逾期未报的将在通报中列明。"
    sql = ("INSERT INTO messages (channel_id, author_id, topic, body, created_at, ack_count) "
           "VALUES (?, ?, '', ?, ?, 0)")
    connection = db.session.connection()
    chunk: list[tuple] = []
    for n in range(total):
        if n % 4 == 0 and n // 4 < in_big:
            channel, author = big_channel, user_ids[n % len(user_ids)]
        else:
            k = n % len(small_channels)
            channel, author = small_channels[k], user_ids[k * GROUP + n % GROUP]
        created = (start + timedelta(seconds=n * 30)).strftime("%Y-%m-%d %H:%M:%S.%f")
        chunk.append((channel, author, body, created))
        if len(chunk) == 100_000:
            connection.exec_driver_sql(sql, chunk)
            chunk = []
    if chunk:
        connection.exec_driver_sql(sql, chunk)
    for channel in [big_channel, *small_channels]:
        last = db.session.scalar(select(func.max(Message.id)).where(Message.channel_id == channel))
        db.session.execute(update(Channel).where(Channel.id == channel).values(last_message_id=last))
    db.session.commit()
    count = db.session.scalar(select(func.count()).where(Message.channel_id == big_channel))
    return db.session.scalar(select(Message.id).where(Message.channel_id == big_channel)
                             .order_by(Message.id).offset(count // 2).limit(1))


# --- the server -------------------------------------------------------------------

class WorkerGone(RuntimeError):
    """The gunicorn worker the run measures is no longer there (killed or crashed)."""


class Server:
    """`gunicorn -c gunicorn.conf.py wsgi:app` on loopback, and its one worker."""

    def __init__(self, folder: Path, mode: str, threads: int | None, cpus: set[int] | None = None) -> None:
        self.port = _free_port()
        self.log = folder / "gunicorn.log"
        env = dict(os.environ, HUB_BIND=f"127.0.0.1:{self.port}",
                   HUB_INSTANCE_PATH=str(folder / "instance"),
                   HUB_DATABASE_URL=f"sqlite:///{folder / 'hub.db'}", HUB_SECRET_KEY="bench",
                   HUB_DEMO="0", HUB_WORKER="gevent" if mode == "gevent" else "gthread")
        env.pop("HUB_ACCESS_LOG", None)
        if threads:
            env["HUB_THREADS"] = str(threads)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket",
                 "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        self.worker = 0

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.tail()}")
            children = _children(self.process.pid)
            if len(children) == 1:
                try:
                    status, _ = http_get(self.port, "/healthz", None)
                    if status == 200:
                        self.worker = children[0]
                        print(f"server: gunicorn {self.process.pid}, worker {self.worker}, "
                              f"http://127.0.0.1:{self.port}/", flush=True)
                        return
                except OSError:
                    pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn not ready in {SERVER_START_TIMEOUT:.0f} s: {self.tail()}")

    def _proc(self, name: str) -> Path:
        path = Path(f"/proc/{self.worker}/{name}")
        if not path.exists():
            raise WorkerGone(f"worker {self.worker} is gone: "
                             + "; ".join(line[:120] for line in self.problems()[:2]))
        return path

    def rss_mb(self) -> float:
        for line in self._proc("status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def threads(self) -> int:
        return len(os.listdir(self._proc("task")))

    def peak_rss_mb(self) -> float:
        for line in self._proc("status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu(self, *, kernel_only: bool = False) -> float:
        self._proc("stat")
        return cpu_seconds(self.worker, kernel_only=kernel_only)

    def problems(self) -> list[str]:
        """The log lines that say something went wrong (worker timeouts, tracebacks)."""
        if not self.log.exists():
            return []
        marks = ("WORKER TIMEOUT", "CRITICAL", "ERROR", "Error", "Traceback", "killed")
        return [line for line in self.log.read_text(errors="replace").splitlines()
                if any(mark in line for mark in marks)]

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in [*_children(self.process.pid), self.process.pid]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int, *, kernel_only: bool = False) -> float:
    """utime + stime of a process, all threads (or stime alone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[12]) if kernel_only else int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def http_get(port: int, path: str, token: str | None,
             connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        if own:
            connection.close()


# --- the load clients ---------------------------------------------------------------

class LoadClient:
    """One bench/realtime_client.py process and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.people: list[int] = []

    @classmethod
    async def start(cls, url: str, tokens_file: Path, first: int, count: int,
                    library: bool, niceness: int) -> LoadClient:
        process = await asyncio.create_subprocess_exec(
            PYTHON, str(CLIENT), url, str(tokens_file), str(first), str(count),
            *(["--library"] if library else []),
            # The load clients share the two cores with the server: below it,
            # they take what it leaves instead of preempting it mid fan-out.
            preexec_fn=(lambda: os.nice(niceness)) if niceness else None,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**26)
        return cls(process)

    async def read(self, event: str, timeout: float) -> dict:
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            if not line:
                raise RuntimeError("load client exited")
            reply = json.loads(line)
            if reply.get("event") == event:
                return reply

    async def ask(self, command: str, event: str, timeout: float = 30.0) -> dict:
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        return await self.read(event, timeout)

    async def stop(self) -> None:
        if self.process.returncode is None:
            try:
                await self.ask("quit", "bye", timeout=30)
                await asyncio.wait_for(self.process.wait(), 10)
            except Exception:                       # noqa: BLE001 - it is killed below
                pass
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def sender(url: str, token: str):
    """An extra socket for one person, the way a second browser tab would be."""
    import socketio
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    try:
        await asyncio.wait_for(client.connect(url, auth={"token": token}, transports=["websocket"],
                                              wait_timeout=20), 30)
    except BaseException:
        await asyncio.wait_for(client.disconnect(), 10)
        raise
    return client


async def post(client, channel_id: int, kind: str, seq: int, run: str, acks: list, errors: list) -> None:
    sent_at = time.time()
    try:
        reply = await client.call("send", {"channel_id": channel_id, "client_msg_id": f"{kind}-{run}-{seq}",
                                           "body": f"bench {kind} {seq} {sent_at:.6f}"}, timeout=30)
    except Exception as problem:                    # noqa: BLE001 - counted and reported
        errors.append(f"{type(problem).__name__}: {problem}")
        return
    if isinstance(reply, dict) and "id" in reply:
        acks.append((time.time() - sent_at) * 1000)
    else:
        errors.append(str(reply)[:200])


# --- the run ----------------------------------------------------------------------

def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]
    return {"n": len(ordered), "p50": rank(50), "p95": rank(95), "p99": rank(99), "max": ordered[-1]}


async def wait_deliveries(clients: list[LoadClient], kind: str, expected: int, timeout: float) -> int:
    """Until every delivery arrived or `timeout`; returns the connections still open."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await asyncio.gather(*(c.ask(f"count {kind}", "count") for c in clients))
        if sum(c["n"] for c in counts) >= expected or time.monotonic() > deadline:
            return sum(c["connected"] for c in counts)
        await asyncio.sleep(0.5)


async def collect(clients: list[LoadClient], kind: str) -> list[tuple[int, float]]:
    replies = await asyncio.gather(*(c.ask(f"collect {kind}", "collected", timeout=60) for c in clients))
    return [tuple(d) for r in replies for d in r["deliveries"]]


async def wait_for_quiet(server: Server, clients: list[LoadClient], limit: float) -> float:
    """On a shared machine: wait (at most `limit` seconds) until other processes
    use less than a tenth of a core, so they don't skew the phase. Returns the wait."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        pids = [c.process.pid for c in clients]
        busy0, own0 = machine_busy_seconds(), own_cpu_seconds()
        ours0 = server.cpu() + sum(cpu_seconds(p) for p in pids)
        await asyncio.sleep(2)
        others = (machine_busy_seconds() - busy0 - (server.cpu() + sum(cpu_seconds(p) for p in pids) - ours0)
                  - (own_cpu_seconds() - own0))
        if others < 0.2:
            break
    return time.monotonic() - started


async def phase_sends(server: Server, clients: list[LoadClient], schedule: list[tuple[float, object, int]],
                      kind: str, expected: int, run: str) -> dict:
    """Send on schedule (seconds from now, socket, channel), wait for the
    deliveries, and report latencies, losses and CPU."""
    loaders = [c.process.pid for c in clients]
    cpu0, load0, wall0 = server.cpu(), sum(cpu_seconds(p) for p in loaders), time.monotonic()
    kernel0 = server.cpu(kernel_only=True)
    busy0, own0 = machine_busy_seconds(), own_cpu_seconds()
    acks: list[float] = []
    errors: list[str] = []
    tasks = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    for seq, (offset, client, channel_id) in enumerate(schedule):
        delay = start + offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(client, channel_id, kind, seq, run, acks, errors)))
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    sent_for = time.monotonic() - wall0
    still_open = await wait_deliveries(clients, kind, expected, DELIVERY_TIMEOUT)
    wall = time.monotonic() - wall0
    cpu, load = server.cpu() - cpu0, sum(cpu_seconds(p) for p in loaders) - load0
    kernel = server.cpu(kernel_only=True) - kernel0
    # Whatever else ran on the machine meanwhile (other people's tests...):
    # a run with much of it is not a fair measurement.
    others = machine_busy_seconds() - busy0 - cpu - load - (own_cpu_seconds() - own0)
    deliveries = await collect(clients, kind)
    return {"messages": len(schedule), "sent_in_s": sent_for, "expected": expected,
            "received": len(deliveries), "missing": expected - len(deliveries),
            "latency_ms": percentiles([ms for _, ms in deliveries]), "ack_ms": percentiles(acks),
            "send_errors": len(errors), "still_open": still_open, "first_errors": errors[:3], "wall_s": wall,
            "server_cpu_s": cpu, "server_kernel_cpu_s": kernel, "server_cpu_pct": 100 * cpu / wall,
            "clients_cpu_s": load, "other_cpu_s": max(others, 0.0)}


def phase_pages(port: int, token: str, channel_id: int, middle: int | None, requests: int) -> dict:
    results = {}
    paths = {"newest": f"/api/v1/channels/{channel_id}/messages?limit=50"}
    if middle:
        paths["before"] = f"/api/v1/channels/{channel_id}/messages?limit=50&before={middle}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        for name, path in paths.items():
            times, failures = [], 0
            for i in range(requests + 5):            # 5 warm-up requests, not counted
                if failures >= 3 and not times:
                    break                            # the server is not answering: give up
                started = time.perf_counter()
                try:
                    status, body = http_get(port, path, token, connection)
                except OSError:
                    failures += 1
                    connection.close()
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200 or len(json.loads(body)["items"]) != 50:
                    failures += 1
                elif i >= 5:
                    times.append(elapsed)
            results[name] = {"ms": percentiles(times), "failures": failures}
    finally:
        connection.close()
    return results


async def run_load(args, data: dict, server: Server, tokens_file: Path) -> dict:
    url = f"http://127.0.0.1:{server.port}"
    result: dict = {}
    tokens = data["tokens"]
    people = len(tokens)
    clients: list[LoadClient] = []
    senders: list = []
    try:
        # A first socket and a first page load import what the first use imports,
        # so the RSS baseline is the warm server with no load.
        fan_sender = await sender(url, tokens[0])
        senders.append(fan_sender)
        await asyncio.to_thread(phase_pages, server.port, tokens[1], data["big_channel"], None, 1)
        await asyncio.sleep(2)
        rss0, threads0 = server.rss_mb(), server.threads()

        started = time.monotonic()
        per = math.ceil(people / args.procs)
        for first in range(0, people, per):
            clients.append(await LoadClient.start(url, tokens_file, first, min(per, people - first),
                                                  args.library_clients, args.client_nice))
        replies = await asyncio.gather(*(c.read("connected", CLIENT_CONNECT_TIMEOUT) for c in clients))
        wall = time.monotonic() - started
        for client, reply in zip(clients, replies):
            client.people = reply["people"]
        connected = sorted(p for c in clients for p in c.people)
        await asyncio.sleep(5)                       # idle: pings only
        rss1, threads1 = server.rss_mb(), server.threads()
        result["connect"] = {
            "requested": people, "connected": len(connected), "seconds": wall,
            "slowest_process_s": max(r["seconds"] for r in replies),
            "errors": [e for r in replies for e in r["errors"]][:5],
            "rss_before_mb": rss0, "rss_after_mb": rss1,
            "rss_per_1000_mb": (rss1 - rss0) / max(len(connected), 1) * 1000,
            "threads_before": threads0, "threads_after": threads1}
        if args.idle_seconds:
            # Idle sockets still cost something: Engine.IO pings every 25 s, the
            # worker's housekeeping. Measured over a window of pings.
            cpu0, wall0 = server.cpu(), time.monotonic()
            await asyncio.sleep(args.idle_seconds)
            wall = time.monotonic() - wall0
            result["connect"].update(idle_s=wall, idle_cpu_s=server.cpu() - cpu0,
                                     idle_cpu_pct=100 * (server.cpu() - cpu0) / wall,
                                     rss_idle_end_mb=server.rss_mb())
        print(json.dumps({"connect": result["connect"]}, ensure_ascii=False), flush=True)
        if not connected or args.connect_only:
            return result

        run = uuid.uuid4().hex[:8]
        waited = await wait_for_quiet(server, clients, args.wait_quiet)
        schedule = [(i * args.fanout_interval, fan_sender, data["big_channel"]) for i in range(args.fanout)]
        result["fanout"] = await phase_sends(server, clients, schedule, "fanout",
                                             args.fanout * len(connected), run)
        result["fanout"]["waited_s"] = waited
        print(json.dumps({"fanout": result["fanout"]}), flush=True)

        small = data["small_channels"]
        try:
            for k in range(len(small)):
                senders.append(await sender(url, tokens[k * GROUP]))
        except Exception as problem:                 # noqa: BLE001 - reported
            result["sustained"] = {"skipped": f"the senders' sockets could not connect "
                                              f"({type(problem).__name__})"}
        else:
            group_senders = senders[1:]
            in_group = [0] * len(small)
            for person in connected:
                in_group[person // GROUP] += 1
            total = int(args.rate * args.duration)
            schedule = [(i / args.rate, group_senders[i % len(small)], small[i % len(small)])
                        for i in range(total)]
            expected = sum(in_group[i % len(small)] for i in range(total))
            waited = await wait_for_quiet(server, clients, args.wait_quiet)
            result["sustained"] = await phase_sends(server, clients, schedule, "sustained", expected, run)
            result["sustained"]["waited_s"] = waited
        print(json.dumps({"sustained": result["sustained"]}), flush=True)

        await wait_for_quiet(server, clients, args.wait_quiet)
        result["page"] = await asyncio.to_thread(phase_pages, server.port, tokens[1], data["big_channel"],
                                                 data["middle_id"], args.page_requests)
        print(json.dumps({"page": result["page"]}), flush=True)
        return result
    except WorkerGone as gone:
        result["aborted"] = str(gone)
        print(json.dumps({"aborted": result["aborted"]}), flush=True)
        return result
    finally:
        await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)
        for s in senders:
            try:
                await asyncio.wait_for(s.disconnect(), 10)
            except Exception:                        # noqa: BLE001 - shutting down
                pass


def report(args, result: dict) -> None:
    def ms(stats: dict, key: str) -> str:
        return f"{stats[key]:.1f}" if key in stats else "-"

    rows = [("mode", f"{args.mode}" + (f" (HUB_THREADS={args.threads})" if args.threads else "")),
            ("load clients", ("python-socketio AsyncClient" if args.library_clients else "lean")
             + f", nice {args.client_nice}" + (f"; SCHED_RR {args.rt_priority}" if args.rt_priority else ""))]
    c = result.get("connect")
    if c:
        rows += [("connections", f"{c['connected']:,} of {c['requested']:,}"),
                 ("time to connect all", f"{c['seconds']:.1f} s"),
                 ("worker RSS idle → connected", f"{c['rss_before_mb']:.0f} → {c['rss_after_mb']:.0f} MB"),
                 ("RSS per 1,000 idle connections", f"{c['rss_per_1000_mb']:.1f} MB"),
                 ("worker threads idle → connected", f"{c['threads_before']} → {c['threads_after']}")]
        if "idle_cpu_s" in c:
            rows += [("worker CPU with everyone connected and idle",
                      f"{c['idle_cpu_s']:.2f} s in {c['idle_s']:.0f} s ({c['idle_cpu_pct']:.1f} % of a core); "
                      f"RSS at the end {c['rss_idle_end_mb']:.0f} MB")]
    for name, label in (("fanout", "fan-out"), ("sustained", "sustained")):
        p = result.get(name)
        if not p:
            continue
        if "skipped" in p:
            rows.append((label, f"not run: {p['skipped']}"))
            continue
        lat = p["latency_ms"]
        rows += [(f"{label}: messages, deliveries", f"{p['messages']:,}, {p['received']:,} of "
                  f"{p['expected']:,} ({p['missing']:,} missing, {p['send_errors']} send errors, "
                  f"{p['still_open']:,} connections still open)"),
                 (f"{label}: latency p50 / p95 / p99 / max",
                  f"{ms(lat, 'p50')} / {ms(lat, 'p95')} / {ms(lat, 'p99')} / {ms(lat, 'max')} ms"),
                 (f"{label}: sender ack p50 / p99",
                  f"{ms(p['ack_ms'], 'p50')} / {ms(p['ack_ms'], 'p99')} ms"),
                 (f"{label}: server CPU", f"{p['server_cpu_s']:.1f} s in {p['wall_s']:.1f} s "
                  f"({p['server_cpu_pct']:.0f} % of a core); load clients {p['clients_cpu_s']:.1f} s; "
                  f"other processes {p['other_cpu_s']:.1f} s (waited {p.get('waited_s', 0):.0f} s "
                  f"for quiet)")]
    for name, stats in (result.get("page") or {}).items():
        rows.append((f"page of 50 ({name}) p50 / p95",
                     f"{ms(stats['ms'], 'p50')} / {ms(stats['ms'], 'p95')} ms ({stats['failures']} failed)"))
    if result.get("aborted"):
        rows.append(("aborted", result["aborted"]))
    problems = result.get("server_log_problems") or {}
    rows.append(("server log: errors, worker timeouts", str(problems.get("count", 0))
                 + "".join(f"; {line[:100]}" for line in problems.get("first", [])[:2])))
    width = max(len(k) for k, _ in rows)
    print()
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for key, value in rows:
        print(f"| {key.ljust(width)} | {value} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("threading", "gevent"), default="gevent")
    parser.add_argument("--threads", type=int,
                        help="HUB_THREADS for threading mode (default: gunicorn.conf.py's)")
    parser.add_argument("--clients", type=int, default=2000,
                        help="connections (and people); a multiple of 50")
    parser.add_argument("--procs", type=int, default=4, help="load-client processes")
    parser.add_argument("--fanout", type=int, default=50, help="messages into the big channel")
    parser.add_argument("--fanout-interval", type=float, default=0.1, help="seconds between them")
    parser.add_argument("--rate", type=float, default=100, help="messages/s into the 50-member channels")
    parser.add_argument("--duration", type=float, default=30, help="seconds of sustained sending")
    parser.add_argument("--messages", type=int, default=1_000_000, help="stored messages (0: none)")
    parser.add_argument("--page-requests", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=0,
                        help="after connecting, measure the worker's CPU over this many idle seconds")
    parser.add_argument("--connect-only", action="store_true",
                        help="stop after connecting (and --idle-seconds): connections and memory only")
    parser.add_argument("--library-clients", action="store_true",
                        help="python-socketio's AsyncClient for the load, not the lean client")
    parser.add_argument("--wait-quiet", type=float, default=600, metavar="SECONDS",
                        help="before each phase, wait up to this long for other processes to go quiet")
    parser.add_argument("--client-nice", type=int, default=10, metavar="N",
                        help="niceness of the load-client processes (default 10; 0: same as the server)")
    parser.add_argument("--rt-priority", type=int, default=0, metavar="N",
                        help="run the measured processes under SCHED_RR priority N (root; 0: off)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the database in DIR and keep it; reuse it if it is there")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.clients % GROUP or args.clients < GROUP:
        parser.error(f"--clients must be a positive multiple of {GROUP}")

    with tempfile.TemporaryDirectory(prefix="hub-bench-rt-") as tmp:
        folder = args.keep or Path(tmp)
        saved = folder / "bench.json"
        if args.keep and saved.exists():
            data = json.loads(saved.read_text())
            print(f"setup: reusing the database in {folder}", flush=True)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            data = build_database(folder, args.clients, args.messages)
            saved.write_text(json.dumps(data))
        tokens_file = folder / "tokens.json"
        tokens_file.write_text(json.dumps({"tokens": data["tokens"]}))
        if args.rt_priority:
            # A shared machine: the server, the load clients and this process
            # (all started from here on inherit it) go before other people's
            # test runs, as if the machine were ours. The kernel still keeps 5 %
            # of every second for everyone else.
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(args.rt_priority))
        server = Server(folder, args.mode, args.threads)
        try:
            server.wait_ready()
            result = asyncio.run(run_load(args, data, server, tokens_file))
        except BaseException:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            problems = server.problems()
            server.stop()
    result["server_log_problems"] = {"count": len(problems), "first": problems[:5]}
    result["machine"] = {"cpus": os.cpu_count(), "kernel": platform.release(),
                         "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}
    report(args, result)
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, **result},
                                        indent=2, default=str))


if __name__ == "__main__":
    main()
