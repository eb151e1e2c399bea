"""Benchmark: notices and the inbox with the whole of Zhejiang and ~106,000 people (issue 4).

    .venv/bin/pip install -r requirements-bench.txt       # once: aiohttp for the live clients
    .venv/bin/python bench/notices.py                      # SQLite only
    .venv/bin/python bench/notices.py --with-postgres      # and a throwaway PostgreSQL (tests/pg.py)
    .venv/bin/python bench/notices.py --postgres URL       # and a scratch database on URL's server

Builds a fresh database (schema by hub.migrate.upgrade): the 27,036 units of
divisions-zhejiang.csv (hub.org.imports.import_units), 4 people per village, 2
per town, 10 per county, city and the province (105,982, bulk inserted with one
password hash), and a clerk of the province who publishes (bench/_notices_data.py).
Then, each figure p50/p95/p99 over --runs runs after 3 warm-up runs:

1. inbox: 10,000 notices visible to one village cadre among 30,000 (400,000
   receipts of other people on them), 70 % read by the cadre;
   hub.inbox.queries.inbox_page first page and a page 5,000 deep, and GET /api/v1/inbox;
2. coverage: a notice to the whole province with 60,000 receipts; queries.coverage,
   unread_people(limit=50), GET /api/v1/notices/<id>/receipts;
3. publish: hub.notices.actions.publish_notice in-process to a village, a county,
   a city and the province (subtrees), then POST /api/v1/notices, and reach() alone;
4. fan-out on write, for comparison: the same publish plus one row per recipient
   into a scratch table shaped like Zulip's UserMessage (executemany);
5. live: gunicorn -c gunicorn.conf.py on a free loopback port (gevent, then
   threading), 2,000 Socket.IO clients of the county 临海市 in 4 processes (the
   lean client of bench/realtime_client.py), --live-rounds notices published to
   the county through the API; latency = the client's receive time - the
   publish request's start.

Before measuring it waits for the 1-minute load to be at most 1.0 (10 minutes at
most), and before each phase for other processes to go quiet. Every process it
starts is stopped at the end, also on error. Results go into docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import aiohttp

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import realtime_client  # noqa: E402
from realtime import (LoadClient, Server, collect, machine_busy_seconds, own_cpu_seconds,  # noqa: E402
                      percentiles, wait_deliveries)
from sqlalchemy import select  # noqa: E402

import _notices_data as data  # noqa: E402
from config import Config  # noqa: E402
from hub.auth.actions import issue_token  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.inbox.queries import inbox_page  # noqa: E402
from hub.notices import queries, unread  # noqa: E402
from hub.notices.coverage import coverage as read_coverage, unread_people  # noqa: E402
from hub.notices.actions import NoticeDraft, publish_notice  # noqa: E402
from hub.notices.audience import Audience, assigned_memberships, reach  # noqa: E402
from hub.notices.models import Notice  # noqa: E402
from hub.org.models import User  # noqa: E402

DIVISIONS = Path(Config.DATA_DIR) / "divisions-zhejiang.csv"
WARMUP = 3
LIVE_PEOPLE = 2000
LIVE_PROCS = 4
SERVER_READY_TIMEOUT = 120.0
CONNECT_TIMEOUT = 240.0
DELIVERY_TIMEOUT = 30.0


# --- the machine --------------------------------------------------------------------

def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_load(limit: float = 600.0, poll: float = 30.0) -> dict:
    """Until the 1-minute load is at most 1.0, polling every `poll` s, `limit` s at most."""
    started = time.monotonic()
    while load1() > 1.0 and time.monotonic() - started < limit:
        print(f"waiting: load {load1():.2f} > 1.0", flush=True)
        time.sleep(poll)
    return {"load1": load1(), "waited_s": round(time.monotonic() - started)}


def wait_quiet(limit: float = 60.0) -> dict:
    """Until other processes use less than 0.15 of a core over 2 s (this process
    and its idle children use ~none), `limit` s at most. Returns what it saw."""
    started = time.monotonic()
    while True:
        busy = machine_busy_seconds()
        time.sleep(2)
        others = machine_busy_seconds() - busy
        if others < 0.3 or time.monotonic() - started > limit:
            return {"load1": load1(), "others_cores": round(others / 2, 2),
                    "waited_s": round(time.monotonic() - started)}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    versions = {name: metadata.version(name) for name in
                ("flask", "sqlalchemy", "psycopg", "flask-socketio", "python-engineio", "gevent", "gunicorn")}
    return {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, **versions,
            "date": time.strftime("%Y-%m-%d %H:%M")}


def calibration_ms() -> float:
    """A fixed pure-Python loop, best of 3: how fast this core is right now
    (the machine is shared and its speed varies between runs)."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        sum(range(10_000_000))
        best = min(best, (time.perf_counter() - started) * 1000)
    return round(best, 1)


# --- in-process measurements ------------------------------------------------------------

def measure(prepare: Callable[[], Callable[[], Any]], runs: int) -> dict:
    """Milliseconds of the callable `prepare()` returns, on a fresh session each
    run (as a request has); `prepare` itself is not timed."""
    times = []
    for i in range(WARMUP + runs):
        db.session.remove()
        call = prepare()
        started = time.perf_counter()
        call()
        if i >= WARMUP:
            times.append((time.perf_counter() - started) * 1000)
    db.session.remove()
    return percentiles(times)


def request(client, method: str, path: str, token: str, body: dict | None = None,
            status: int = 200) -> Callable[[], Any]:
    def call():
        # A fresh app context per request, as a server has: Flask-Login keeps
        # the signed-in user on `g`, which would otherwise outlive the request.
        with client.application.app_context():
            response = client.open(path, method=method, json=body,
                                   headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, (path, response.status_code, response.get_data()[:300])
    return call


def phase_inbox(world: data.World, client, token: str, runs: int) -> dict:
    user = lambda: db.session.get(User, world.cadre_id)  # noqa: E731
    ordered = (queries.visible_notices(user()).where(Notice.superseded_by_id.is_(None))
               .order_by(Notice.publish_at.desc(), Notice.id.desc()))
    deep = db.session.scalars(ordered.offset(world.inbox_size // 2).limit(1)).one()
    cursor = f"{deep.publish_at.timestamp():.6f}:notice:{deep.id}"
    first = inbox_page(user(), limit=50)
    assert len(first["items"]) == 50 and len(inbox_page(user(), limit=50, before=cursor)["items"]) == 50
    return {
        "visible": world.inbox_size, "unread": first["unread"],
        "inbox_page first": measure(lambda: (lambda u=user(): inbox_page(u, limit=50)), runs),
        "inbox_page deep": measure(lambda: (lambda u=user(): inbox_page(u, limit=50, before=cursor)), runs),
        "  inbox_notices first": measure(lambda: (lambda u=user(): queries.inbox_notices(u, limit=51)), runs),
        "  unread_count (kept)": measure(lambda: (lambda u=user(): unread.unread_count(u)), runs),
        "  unread_count (counted afresh)": measure(lambda: (lambda u=user(): unread.count_afresh(u)), runs),
        "GET /api/v1/inbox": measure(lambda: request(client, "GET", "/api/v1/inbox?limit=50", token), runs),
        "GET /api/v1/inbox deep": measure(lambda: request(
            client, "GET", f"/api/v1/inbox?limit=50&before={cursor}", token), runs)}


def phase_coverage(world: data.World, client, token: str, runs: int) -> dict:
    notice = lambda: db.session.get(Notice, world.coverage_notice_id)  # noqa: E731
    cover = read_coverage(notice())
    assert (cover.audience_count, cover.read_count) == (world.people, 60_000), cover.audience_count
    return {"audience": cover.audience_count, "read": cover.read_count, "units": len(cover.by_unit),
            "coverage": measure(lambda: (lambda n=notice(): read_coverage(n)), runs),
            "unread_people": measure(lambda: (lambda n=notice(): unread_people(n, limit=50)), runs),
            "GET /api/v1/notices/<id>/receipts": measure(lambda: request(
                client, "GET", f"/api/v1/notices/{world.coverage_notice_id}/receipts", token), runs)}


def draft(unit_id: int, summary: str = "请各单位认真贯彻落实。") -> NoticeDraft:
    return NoticeDraft(title="关于做好防汛防台工作的紧急通知", summary=summary, body=data.BODY,
                       audience=Audience(subtrees=[unit_id]))


def audiences(world: data.World) -> dict[str, tuple[int, int]]:
    """label -> (unit id, people reached)."""
    return {label: (world.line[label], reach(Audience(subtrees=[world.line[label]]))[0])
            for label in ("village", "county", "city", "province")}


def phase_publish(world: data.World, client, token: str, runs: int) -> dict:
    author = lambda: db.session.get(User, world.publisher_id)  # noqa: E731
    result = {}
    for label, (unit_id, people) in audiences(world).items():
        body = {"title": "关于做好防汛防台工作的紧急通知", "summary": "请各单位认真贯彻落实。",
                "body": data.BODY, "audience": {"subtrees": [unit_id]}}
        result[label] = {
            "people": people,
            "publish_notice": measure(
                lambda: (lambda a=author(), d=draft(unit_id): publish_notice(a, d)), runs),
            "POST /api/v1/notices": measure(
                lambda: request(client, "POST", "/api/v1/notices", token, body, 201), runs),
            "reach()": measure(lambda: (lambda: reach(Audience(subtrees=[unit_id]))), runs)}
    return result


def phase_fanout(world: data.World, runs: int, published: dict) -> dict:
    """publish_notice, then one row per recipient in the same run (a second
    transaction: publish_notice commits its own). The cost per 2,000 recipients
    is the median over the plain publish_notice's median, scaled."""
    table = data.fanout_table()
    author = lambda: db.session.get(User, world.publisher_id)  # noqa: E731

    def publish_and_fan_out(author: User, notice_draft: NoticeDraft) -> None:
        notice = publish_notice(author, notice_draft)
        people = assigned_memberships(notice_draft.audience).subquery()
        recipients = db.session.scalars(select(people.c.user_id)).all()
        db.session.execute(table.insert(), [{"user_id": u, "notice_id": notice.id, "flags": 0}
                                            for u in recipients])
        db.session.commit()

    result = {}
    for label, (unit_id, people) in audiences(world).items():
        n = runs if people < 10_000 else max(runs // 5, 5)
        stats = measure(lambda: (lambda a=author(), d=draft(unit_id): publish_and_fan_out(a, d)), n)
        result[label] = {"people": people, "publish + fan-out": stats}
        if people >= 2000:
            extra = stats["p50"] - published[label]["publish_notice"]["p50"]
            result[label]["added per 2,000 recipients"] = {"p50": extra / people * 2000}
    return result


# --- live delivery ---------------------------------------------------------------

class NoticeClient(realtime_client.LeanClient):
    """bench/realtime_client.py's lean client, counting `notice` events. The
    summary of a bench notice reads "bench notice SEQ SENT_AT", which its
    Deliveries parses as it does a message body."""

    async def read(self) -> None:
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                text = frame.data
                if text == "2":
                    await self.ws.send_str("3")
                elif text.startswith('42["notice",'):
                    now = time.time()
                    self.deliveries.on_message({"body": json.loads(text[2:])[1].get("summary")}, now)
                elif text.startswith("41") or text == "1":
                    break
        finally:
            self.connected = False


def client_main(argv: list[str]) -> None:
    """`notices.py client URL TOKENS_JSON FIRST COUNT`: realtime_client's process
    and line protocol, with NoticeClient as its lean client."""
    realtime_client.LeanClient = NoticeClient      # main() builds its clients from this name
    asyncio.run(realtime_client.main(argv[0], argv[1], int(argv[2]), int(argv[3]), False))


class NoticeLoadClient(LoadClient):
    @classmethod
    async def start(cls, url: str, tokens_file: Path, first: int, count: int) -> NoticeLoadClient:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "client", url, str(tokens_file), str(first),
            str(count), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**26)
        return cls(process)


class HubServer(Server):
    """realtime.py's gunicorn wrapper, on this run's database (SQLite or PostgreSQL)."""

    def __init__(self, folder: Path, uri: str, mode: str) -> None:
        self.port = _free_port()
        self.log = folder / f"gunicorn-{mode}.log"
        env = dict(os.environ, HUB_BIND=f"127.0.0.1:{self.port}", HUB_INSTANCE_PATH=str(folder / "server"),
                   HUB_DATABASE_URL=uri, HUB_SECRET_KEY="bench", HUB_DEMO="0",
                   HUB_WORKER="gevent" if mode == "gevent" else "gthread",
                   HUB_THREADS=str(LIVE_PEOPLE + 100))   # threading: a thread per open WebSocket
        env.pop("HUB_ACCESS_LOG", None)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket",
                 "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.worker = 0


def _free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_notice(port: int, token: str, unit_id: int, seq: int) -> tuple[int, float]:
    """POST /api/v1/notices; the summary carries the send time. (status, ms)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        sent_at = time.time()
        body = {"title": "关于做好防汛防台工作的紧急通知", "summary": f"bench notice {seq} {sent_at:.6f}",
                "body": data.BODY, "audience": {"subtrees": [unit_id]}}
        connection.request("POST", "/api/v1/notices", body=json.dumps(body).encode(),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status, (time.time() - sent_at) * 1000
    finally:
        connection.close()


async def live_round_trip(server: Server, tokens_file: Path, people: int, publisher_token: str,
                          unit_id: int, rounds: int) -> dict:
    url = f"http://127.0.0.1:{server.port}"
    clients: list[LoadClient] = []
    try:
        started = time.monotonic()
        per = math.ceil(people / LIVE_PROCS)
        for first in range(0, people, per):
            clients.append(await NoticeLoadClient.start(url, tokens_file, first, min(per, people - first)))
        replies = await asyncio.gather(*(c.read("connected", CONNECT_TIMEOUT) for c in clients))
        connected = sum(len(r["people"]) for r in replies)
        result: dict[str, Any] = {"connected": connected, "connect_s": round(time.monotonic() - started, 1),
                                  "connect_errors": [e for r in replies for e in r["errors"]][:3],
                                  "rounds": []}
        print(f"live: {connected} of {people} connected in {result['connect_s']} s", flush=True)
        cpu0 = server.cpu()
        for seq in range(rounds):
            quiet = await asyncio.to_thread(wait_quiet, 10)
            status, ms = await asyncio.to_thread(post_notice, server.port, publisher_token, unit_id, seq)
            assert status == 201, status
            still_open = await wait_deliveries(clients, "notice", connected * (seq + 1), DELIVERY_TIMEOUT)
            result["rounds"].append({"post_ms": round(ms, 1), "still_open": still_open, **quiet})
        result["server_cpu_s"] = round(server.cpu() - cpu0, 2)
        deliveries = await collect(clients, "notice")
        for seq, entry in enumerate(result["rounds"]):
            got = [ms for s, ms in deliveries if s == seq]
            entry.update(latency_ms=percentiles(got), missing=connected - len(got))
        result["latency_ms"] = percentiles([ms for _, ms in deliveries])
        result["missing"] = connected * rounds - len(deliveries)
        return result
    finally:
        await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)


def phase_live(world: data.World, folder: Path, uri: str, modes: list[str], rounds: int) -> dict:
    people = world.live_people[:LIVE_PEOPLE]
    tokens = [issue_token(db.session.get(User, uid)) for uid in people]
    publisher_token = issue_token(db.session.get(User, world.publisher_id))
    tokens_file = folder / "live-tokens.json"
    tokens_file.write_text(json.dumps({"tokens": tokens}))
    db.session.remove()
    db.engine.dispose()                 # the server has the database to itself
    result = {}
    for mode in modes:
        server = HubServer(folder, uri, mode)
        try:
            server.wait_ready()
            result[mode] = asyncio.run(live_round_trip(server, tokens_file, len(tokens), publisher_token,
                                                       world.line["county"], rounds))
        except BaseException:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            problems = server.problems()
            server.stop()
        result[mode]["server_log_problems"] = problems[:3]
        print(f"live {mode}: {json.dumps(result[mode]['latency_ms'])}", flush=True)
    return result


# --- the run -------------------------------------------------------------------------

def run(label: str, uri: str, folder: Path, args) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    app = data.make_app(folder, uri)
    result: dict[str, Any] = {"backend": label}
    with app.app_context():
        started = time.perf_counter()
        world = data.build_world(args.file)
        data.add_inbox_notices(world)
        data.add_background_receipts(world)
        data.add_coverage_notice(world)
        data.analyze()
        result["setup_s"] = round(time.perf_counter() - started, 1)
        result["people"] = world.people
        print(f"{label}: {world.people:,} people, {world.inbox_size:,} notices visible to the cadre, "
              f"built in {result['setup_s']} s", flush=True)
        client = app.test_client()
        publisher_token = issue_token(db.session.get(User, world.publisher_id))
        cadre_token = issue_token(db.session.get(User, world.cadre_id))
        phases = [("inbox", lambda: phase_inbox(world, client, cadre_token, args.runs)),
                  ("coverage", lambda: phase_coverage(world, client, publisher_token, args.coverage_runs)),
                  ("publish", lambda: phase_publish(world, client, publisher_token, args.runs)),
                  ("fanout", lambda: phase_fanout(world, args.runs, result["publish"]))]
        for name, phase in phases:
            if args.phases and name not in args.phases:
                continue
            quiet = wait_quiet()
            started, busy, own = time.perf_counter(), machine_busy_seconds(), own_cpu_seconds()
            result[name] = phase()
            wall = time.perf_counter() - started
            # CPU the rest of the machine used meanwhile (a PostgreSQL server included).
            others = machine_busy_seconds() - busy - (own_cpu_seconds() - own)
            result[f"{name}_machine"] = {**quiet, "calibration_ms": calibration_ms(), "wall_s": round(wall),
                                         "others_cpu_s": round(others, 1)}
            print(f"{label}: {name}: {json.dumps(result[f'{name}_machine'])}", flush=True)
        if args.live_modes:
            result["live"] = phase_live(world, folder, uri, args.live_modes, args.live_rounds)
        db.session.remove()
        db.engine.dispose()
    return result


def report(result: dict) -> None:
    """Markdown tables of one backend's figures."""
    def fmt(stats: dict) -> str:
        return " | ".join(f"{stats[k]:.1f}" if k in stats else "-" for k in ("p50", "p95", "p99", "max"))

    print(f"\n### {result['backend']} ({result['people']:,} people; setup {result['setup_s']} s)\n")
    print("| measure | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|")
    for phase in ("inbox", "coverage"):
        for key, stats in result.get(phase, {}).items():
            if isinstance(stats, dict):
                print(f"| {phase}: {key.strip()} | {stats['n']} | {fmt(stats)} |")
    for phase in ("publish", "fanout"):
        for audience, figures in result.get(phase, {}).items():
            for key, stats in figures.items():
                if isinstance(stats, dict) and "n" in stats:
                    print(f"| {phase} {audience} ({figures['people']:,}): {key} | {stats['n']} | "
                          f"{fmt(stats)} |")
                elif isinstance(stats, dict):
                    print(f"| {phase} {audience}: {key} | | {stats['p50']:.1f} | | | |")
    for mode, live in (result.get("live") or {}).items():
        print(f"| live {mode}: {live['connected']} connected, {live['missing']} missing | "
              f"{live['latency_ms'].get('n', 0)} | {fmt(live['latency_ms'])} |")
        for seq, entry in enumerate(live["rounds"]):
            print(f"| live {mode} round {seq}: POST {entry['post_ms']} ms, missing {entry['missing']} | "
                  f"{entry['latency_ms'].get('n', 0)} | {fmt(entry['latency_ms'])} |")
    machine_state = {k[:-8]: v for k, v in result.items() if k.endswith("_machine")}
    print(f"\nthe machine during each phase: {json.dumps(machine_state)}")


def main() -> None:
    if sys.argv[1:2] == ["client"]:
        client_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DIVISIONS)
    parser.add_argument("--postgres", metavar="URL", help="also run on a scratch database on this server")
    parser.add_argument("--with-postgres", action="store_true",
                        help="also run on a throwaway PostgreSQL started as tests/pg.py does")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--coverage-runs", type=int, default=20)
    parser.add_argument("--live-modes", default="gevent,threading",
                        help="comma-separated gunicorn modes for the live phase ('' to skip it)")
    parser.add_argument("--live-rounds", type=int, default=5, help="notices published in the live phase")
    parser.add_argument("--max-wait", type=float, default=600,
                        help="seconds to wait at the start for the 1-minute load to drop to 1.0")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--phases", default="", help="comma-separated: only these of inbox, coverage, publish, "
                        "fanout (default: all)")
    args = parser.parse_args()
    args.live_modes = [m for m in args.live_modes.split(",") if m]
    args.phases = [p for p in args.phases.split(",") if p]

    run_on_backends("notices", run, report, args)


def run_on_backends(name: str, run, report, args) -> None:
    """Run `run(backend, uri, folder, args)` on SQLite (unless --skip-sqlite) and on
    PostgreSQL (--postgres URL, or --with-postgres: a throwaway server), printing
    each backend's figures with `report` and writing them all to --json as they
    come, so that a later failure loses nothing already measured. Shared by
    bench/documents.py."""
    def save() -> None:
        report(results["backends"][-1])
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))

    results = {"machine": machine(), "start": wait_for_load(args.max_wait), "backends": []}
    results["start"]["calibration_ms"] = calibration_ms()
    print(f"machine: {json.dumps(results['machine'], ensure_ascii=False)}; {results['start']}", flush=True)
    started = time.monotonic()
    keep = getattr(args, "keep", None)         # a folder kept between runs (its databases are reused)
    with contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory(
            prefix=f"hub-bench-{name}-") as tmp:
        folder = Path(tmp)
        if not args.skip_sqlite:
            results["backends"].append(run("sqlite", f"sqlite:///{folder / 'sqlite' / 'hub.db'}",
                                           folder / "sqlite", args))
            save()
        postgres, drop = None, None
        try:
            if args.postgres:
                from import_units import scratch_postgres
                uri, drop = scratch_postgres(args.postgres)
            elif args.with_postgres and keep:
                postgres = KeptPostgres(folder / "postgresql-server")
                postgres.start()
                uri = postgres.database(f"hub_bench_{name}")
            elif args.with_postgres:
                from tests.pg import PostgresServer
                postgres = PostgresServer()
                postgres.start()
                uri = postgres.create_database(f"hub_bench_{name}")
            if args.postgres or args.with_postgres:
                results["postgresql_version"] = _postgres_version(uri)
                results["backends"].append(run("postgresql", uri, folder / "postgresql", args))
                save()
        finally:
            if drop:
                drop()
            if postgres:
                postgres.stop()
    results["wall_s"] = round(time.monotonic() - started)
    print(f"\nwall time {results['wall_s']} s; {json.dumps(results['machine'], ensure_ascii=False)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))


class KeptPostgres:
    """tests/pg.py's throwaway server, but in a folder that outlives the run
    (--keep): initialised once, started and stopped by each run, its databases kept."""

    def __init__(self, folder: Path) -> None:
        from tests.pg import PostgresServer
        self.server = PostgresServer()
        os.rmdir(self.server.dir)                 # the temp dir it made: this one lives in `folder`
        folder.mkdir(parents=True, exist_ok=True)
        self.server.dir, self.server.data = folder, folder / "data"

    def start(self) -> None:
        server = self.server
        if (server.data / "PG_VERSION").exists():
            server.initdb = "true"                # initialised by an earlier run
        server.start()

    def database(self, name: str) -> str:
        import psycopg
        with psycopg.connect(self.server.url(), autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                connection.execute(f'CREATE DATABASE "{name}"')
        return self.server.url(name)

    def stop(self) -> None:
        self.server._run(self.server.pg_ctl, "-D", str(self.server.data), "-m", "fast", "stop")


def _postgres_version(uri: str) -> str:
    import psycopg
    with psycopg.connect(uri) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


if __name__ == "__main__":
    main()
