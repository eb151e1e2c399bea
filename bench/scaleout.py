"""Benchmark: throughput from one hub process to two, on PostgreSQL and Redis (issue 6).

    .venv/bin/pip install -r requirements-bench.txt      # once: aiohttp for the load clients
    .venv/bin/python bench/scaleout.py                    # 1 and 2 processes, 20 s each
    .venv/bin/python bench/scaleout.py --procs 1,2,3 --seconds 30 --json /tmp/scaleout.json

Starts PostgreSQL and Redis from Debian's packages on loopback (the test suite's
tests/pg.py and tests/redis_server.py), builds one county with --units
departments of 50 people (a unit channel each) and a bearer token per person,
then for each process count P:

1. starts P hub processes as an operator runs them (`gunicorn -c
   gunicorn.conf.py wsgi:app`, one gevent worker each, HUB_DATABASE_URL and
   HUB_REDIS_URL shared), each on its own loopback port;
2. connects every person's Socket.IO client, person i to process i mod P
   (what a load balancer spreading people over processes gives: every
   channel has members on every process, so each message crosses the Redis
   queue), in one load-client process per hub process
   (bench/realtime_client.py, the lean client);
3. closed loop for --seconds: one sender per department (a python-socketio
   client of its first member, on process k mod P) posts its next message into its
   department's channel as soon as the previous one is acknowledged
   (acknowledged = committed). Throughput = acknowledged messages per second;
   every message is delivered to its 50 members, and the run checks that all
   of them arrived (deliveries/s, latency p50/p99, losses);
4. CPU seconds of every part during the loop — the hub workers, PostgreSQL,
   Redis, the load clients and this driver — from /proc, to name the limit.

The ratio of P=2 to P=1 is the scale-out figure. Everything stays on
127.0.0.1; every wait has a timeout; everything started here is stopped at
the end, also on failure.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import pwd
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtime import (LoadClient, cpu_seconds, machine_busy_seconds, own_cpu_seconds, percentiles,  # noqa: E402
                      sender)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from sqlalchemy import insert, select  # noqa: E402

from hub import create_app  # noqa: E402
from hub.auth.actions import issue_token  # noqa: E402
from hub.channels.actions import ensure_unit_channels  # noqa: E402
from hub.channels.models import Channel, ChannelKind  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.org.models import Membership, Unit, UnitKind, User  # noqa: E402
from tests.cluster import HubProcess, hub_env, wait_until  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

GROUP = 50
START_TIMEOUT = 90.0
CONNECT_TIMEOUT = 240.0
DRAIN_TIMEOUT = 30.0


def build_database(url: str, folder: Path, units: int) -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder / "instance"),
                      "SECRET_KEY": "bench", "DEMO": False, "REDIS_URL": None})
    upgrade(app)
    with app.app_context():
        county = Unit(code="330802", name="柯城区", kind=UnitKind.COUNTY, depth=0)
        db.session.add(county)
        db.session.flush()
        county.path = f"/{county.id}/"
        departments = []
        for k in range(units):
            unit = Unit(code=f"330802-D{k:02d}", name=f"区直部门{k + 1}", kind=UnitKind.DEPARTMENT,
                        parent_id=county.id, depth=1, sort_order=k)
            db.session.add(unit)
            db.session.flush()
            unit.path = f"{county.path}{unit.id}/"
            departments.append(unit.id)
        people = units * GROUP
        db.session.execute(insert(User), [{"login": f"scale{i:05d}", "name": f"干部{i}"} for i in range(people)])
        user_ids = list(db.session.scalars(select(User.id).where(User.login.like("scale%")).order_by(User.login)))
        db.session.execute(insert(Membership), [
            {"user_id": uid, "unit_id": departments[i // GROUP], "position": "科员", "is_primary": True}
            for i, uid in enumerate(user_ids)])
        ensure_unit_channels()
        db.session.commit()
        channel_of = dict(db.session.execute(select(Channel.unit_id, Channel.id)
                                             .where(Channel.kind == ChannelKind.UNIT)).all())
        tokens = [issue_token(db.session.get(User, uid)) for uid in user_ids]
        channels = [channel_of[u] for u in departments]
        db.session.remove()
        db.engine.dispose()
    return {"tokens": tokens, "channels": channels}


def process_tree_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total




def postgres_pids(pg: PostgresServer) -> list[int]:
    """Every process of the postgres user: the postmaster, its backends, writers.
    (A bench machine runs no other PostgreSQL; the run's `other` column would
    show it if it did.)"""
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                found.append(int(entry.name))
        except OSError:
            pass
    return found


async def closed_loop(senders: list, channels: list[int], seconds: float, run: str) -> tuple[list, list[str]]:
    """Each sender posts into its channel, the next message as soon as the last is acknowledged."""
    acks: list[tuple[float, float]] = []          # (sent_at, ms)
    errors: list[str] = []
    end = time.monotonic() + seconds

    async def loop(k: int) -> None:
        seq = 0
        while time.monotonic() < end and len(errors) < 50:
            sent_at = time.time()
            try:
                reply = await senders[k].call("send", {
                    "channel_id": channels[k], "client_msg_id": f"scale-{run}-{k}-{seq}",
                    "body": f"bench scale {k * 1_000_000 + seq} {sent_at:.6f}"}, timeout=30)
            except Exception as problem:              # noqa: BLE001 - counted and reported
                errors.append(f"{type(problem).__name__}: {problem}"[:200])
                continue
            if isinstance(reply, dict) and "id" in reply:
                acks.append((sent_at, (time.time() - sent_at) * 1000))
            else:
                errors.append(str(reply)[:200])
            seq += 1
    await asyncio.gather(*(loop(k) for k in range(len(senders))))
    return acks, errors


async def measure(procs: int, args, data: dict, env: dict, folder: Path, pg: PostgresServer,
                  redis: RedisServer) -> dict:
    hubs = [HubProcess(f"p{n}", folder, env) for n in range(procs)]
    clients: list[LoadClient] = []
    senders: list = []
    try:
        for hub in hubs:
            hub.start()
        for hub in hubs:
            await asyncio.to_thread(wait_until, hub.ready, START_TIMEOUT, f"hub {hub.name}")
        tokens = data["tokens"]
        for n, hub in enumerate(hubs):
            mine = [t for i, t in enumerate(tokens) if i % procs == n]
            tokens_file = folder / f"tokens-{procs}-{n}.json"
            tokens_file.write_text(json.dumps({"tokens": mine}))
            clients.append(await LoadClient.start(hub.url, tokens_file, 0, len(mine), False, 0))
        replies = await asyncio.gather(*(c.read("connected", CONNECT_TIMEOUT) for c in clients))
        connected = sum(len(r["people"]) for r in replies)
        channels = data["channels"]
        for k in range(len(channels)):
            # The sender is the first person of department k; the senders are spread
            # over the processes like everyone else (sender k on process k mod P).
            senders.append(await sender(hubs[k % procs].url, tokens[k * GROUP]))
        await asyncio.sleep(3)

        workers = [hub.worker for hub in hubs]
        redis_pids = [redis.process.pid]
        loaders = [c.process.pid for c in clients]
        before = {"hub": process_tree_cpu(workers), "postgres": process_tree_cpu(postgres_pids(pg)),
                  "redis": process_tree_cpu(redis_pids), "load_clients": process_tree_cpu(loaders),
                  "driver": own_cpu_seconds()}
        busy0 = machine_busy_seconds()
        wall0 = time.monotonic()
        run = uuid.uuid4().hex[:8]
        acks, errors = await closed_loop(senders, channels, args.seconds, run)
        loop_wall = time.monotonic() - wall0
        expected = len(acks) * GROUP
        drain_deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < drain_deadline:
            counts = await asyncio.gather(*(c.ask("count scale", "count") for c in clients))
            if sum(c["n"] for c in counts) >= expected:
                break
            await asyncio.sleep(0.2)
        after = {"hub": process_tree_cpu(workers), "postgres": process_tree_cpu(postgres_pids(pg)),
                 "redis": process_tree_cpu(redis_pids), "load_clients": process_tree_cpu(loaders),
                 "driver": own_cpu_seconds()}
        busy = machine_busy_seconds() - busy0
        wall = time.monotonic() - wall0
        deliveries = [ms for r in await asyncio.gather(*(c.ask("collect scale", "collected", timeout=60)
                                                          for c in clients))
                      for _, ms in r["deliveries"]]
        cpu = {part: round(after[part] - before[part], 2) for part in before}
        # Whatever else ran meanwhile (kernel work not charged to a process, other
        # people's programs): a run with much of it is not a fair measurement.
        cpu["other"] = round(max(busy - sum(cpu.values()), 0.0), 2)
        return {
            "processes": procs, "connected": connected, "senders": len(senders),
            "seconds": round(loop_wall, 2), "messages": len(acks),
            "messages_per_s": round(len(acks) / loop_wall, 1),
            "deliveries_expected": expected, "deliveries_received": len(deliveries),
            "deliveries_per_s": round(len(deliveries) / loop_wall, 1),
            "ack_ms": percentiles([ms for _, ms in acks]), "delivery_ms": percentiles(deliveries),
            "errors": len(errors), "first_errors": errors[:3],
            "cpu_s": cpu, "cpu_wall_s": round(wall, 2),
            "cores_busy": round(busy / wall, 2),
            "hub_cpu_ms_per_message": round(1000 * cpu["hub"] / max(len(acks), 1), 2),
            "postgres_cpu_ms_per_message": round(1000 * cpu["postgres"] / max(len(acks), 1), 2),
        }
    finally:
        await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)
        for s in senders:
            try:
                await asyncio.wait_for(s.disconnect(), 10)
            except Exception:                          # noqa: BLE001 - shutting down
                pass
        for hub in hubs:
            try:
                hub.stop()
            except Exception as problem:               # noqa: BLE001 - keep stopping the others
                print(f"stopping {hub.name}: {problem}", file=sys.stderr)


def report(results: list[dict]) -> None:
    base = results[0]["messages_per_s"] or 1
    print()
    print("| processes | messages/s (acked) | × of 1 | deliveries/s | lost | ack p50 / p99 ms | delivery p50 / p99 ms "
          "| CPU s: hub / PostgreSQL / Redis / load clients / driver / other | cores busy | hub CPU ms per message |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c = r["cpu_s"]
        print(f"| {r['processes']} | {r['messages_per_s']:,.0f} | {r['messages_per_s'] / base:.2f} | "
              f"{r['deliveries_per_s']:,.0f} | {r['deliveries_expected'] - r['deliveries_received']:,} | "
              f"{r['ack_ms'].get('p50', 0):.1f} / {r['ack_ms'].get('p99', 0):.1f} | "
              f"{r['delivery_ms'].get('p50', 0):.1f} / {r['delivery_ms'].get('p99', 0):.1f} | "
              f"{c['hub']:.1f} / {c['postgres']:.1f} / {c['redis']:.1f} / {c['load_clients']:.1f} / {c['driver']:.1f} / {c['other']:.1f} | "
              f"{r['cores_busy']:.2f} of {os.cpu_count()} | {r['hub_cpu_ms_per_message']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procs", default="1,2", help="process counts to measure, in order")
    parser.add_argument("--units", type=int, default=20, help="departments of 50 people (and senders)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each closed loop")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    counts = [int(p) for p in args.procs.split(",")]

    pg, redis = PostgresServer(), RedisServer()
    if not pg.available or not redis.available:
        sys.exit("needs Debian's postgresql and redis-server packages")
    results = []
    with tempfile.TemporaryDirectory(prefix="hub-bench-scale-") as tmp:
        folder = Path(tmp)
        try:
            pg.start()
            redis.start()
            url = pg.create_database("hub_scale")
            started = time.perf_counter()
            data = build_database(url, folder, args.units)
            print(f"setup: {len(data['tokens']):,} people in {args.units} channels in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            env = hub_env(folder, url, redis.url)
            env["HUB_DEMO"] = "0"
            for procs in counts:
                result = asyncio.run(measure(procs, args, data, env, folder, pg, redis))
                print(json.dumps(result), flush=True)
                results.append(result)
        finally:
            redis.stop()
            pg.stop()
    report(results)
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "results": results,
                                         "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                                                     "python": platform.python_version(),
                                                     "date": time.strftime("%Y-%m-%d")}}, indent=2, default=str))


if __name__ == "__main__":
    main()
