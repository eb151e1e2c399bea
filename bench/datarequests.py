"""Benchmark: data requests (填报) over 丽水市's 2,191 units, and a village clerk
reached by --requests open requests (docs/PERFORMANCE.md "Data requests").

    .venv/bin/pip install -r requirements-bench.txt        # once (bench/notices.py's helpers need aiohttp)
    .venv/bin/python bench/datarequests.py                  # SQLite only
    .venv/bin/python bench/datarequests.py --with-postgres  # and a throwaway PostgreSQL (tests/pg.py)

Builds a fresh database (schema by hub.migrate.upgrade): the 27,036 units of
divisions-zhejiang.csv; five catalogue fields; --requests requests of 丽水市's
office to 丽水市's whole subtree (2,191 units), a year each, 26 years round;
values held (bulk inserted) for every field by half of the units for 2025; and
the clerk of the last village in tree order. Then, each figure p50/p95 over
--runs runs after 3 warm-up runs, each on a fresh session as a request has:

1. preview: units asked, held per field, complete units, overlaps
   (hub.datarequests.queries.preview) for the 2025 request's scope;
2. status: queries.status_report of the 2025 request (2,191 rows in tree order);
3. export: the XLSX of the 2025 request (hub.datarequests.export.workbook);
4. the clerk's inbox source: queries.inbox_data_requests (a first page of 51)
   and queries.pending_count (the inbox's unread number for data requests);
5. the village's form: queries.unit_form.

    .venv/bin/python bench/datarequests.py --scale zhejiang --with-postgres --keep /tmp/dr-keep

issue 15's targets (bench/_datarequests_zhejiang.py builds the world: 10,000,000
held values, a clerk per unit, 300 open requests to 丽水市): the preview, the form,
the status and the export of a 30-field request to 丽水市's 2,191 units, in
process and through the API; create_data_request to 20, 197, 2,191 and 19,856
units against a naive design that also writes a row per (unit, field); the
village clerk's pending_count and inbox. --keep builds the databases once and
reuses them (delete the folder when done); --phases reads,create,inbox.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from notices import measure, request as request_http, run_on_backends, wait_quiet, calibration_ms  # noqa: E402
from realtime import machine_busy_seconds, own_cpu_seconds  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

import _datarequests_zhejiang as zhejiang  # noqa: E402
from _notices_data import make_app  # noqa: E402
from config import Config  # noqa: E402
from hub.auth.actions import issue_token  # noqa: E402
from hub.datarequests import actions, export, queries  # noqa: E402
from hub.datarequests.audience import DataAudience, audience_units  # noqa: E402
from hub.datarequests.drafts import CheckedScope, RequestDraft  # noqa: E402
from hub.datarequests.models import (DataField, DataRequest, DataRequestAudience, DataRequestField,  # noqa: E402
                                     DataValue)
from hub.datarequests.periods import parse_period  # noqa: E402
from hub.db import utcnow  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.org.imports import import_units  # noqa: E402
from hub.org.models import Membership, RoleGrant, Unit, User  # noqa: E402
from hub.org.queries import subtree_clause  # noqa: E402

DIVISIONS = Path(Config.DATA_DIR) / "divisions-zhejiang.csv"
CITY = "3311"                       # 丽水市


def build(args) -> dict:
    """The world described in the module docstring; the ids the measures need."""
    report = import_units(None, args.file.name, args.file.read_bytes())
    city = db.session.scalar(select(Unit).where(Unit.code == CITY))
    units = list(db.session.scalars(select(Unit).where(subtree_clause(city.path)).order_by(Unit.path)))
    village = units[-1]
    clerk = User(login="village.clerk", name="村文书", password_hash="x")
    clerk.memberships.append(Membership(unit=village, position="文书", is_primary=True))
    clerk.roles.append(RoleGrant(role="clerk", unit=village))
    author = User(login="city.clerk", name="市文书", password_hash="x")
    author.memberships.append(Membership(unit=city, position="文书", is_primary=True))
    db.session.add_all([clerk, author])
    fields = [DataField(code=f"F{i:05d}", name=f"指标{i}", kind="integer", period_kind="year", created_at=utcnow())
              for i in range(1, 6)]
    db.session.add_all(fields)
    db.session.flush()
    requests = []
    for i in range(args.requests):
        request = DataRequest(title=f"年报{i}", purpose="统计", period=str(2000 + i % 26), deadline=date(2099, 1, 1),
                              author_id=author.id, unit_id=city.id, created_at=utcnow())
        request.fields = [DataRequestField(field_id=f.id, position=j) for j, f in enumerate(fields)]
        request.audience = [DataRequestAudience(unit_id=city.id, subtree=True)]
        requests.append(request)
    db.session.add_all(requests)
    db.session.flush()
    now = utcnow()
    db.session.execute(insert(DataValue), [
        {"unit_id": u.id, "field_id": f.id, "period": "2025", "value": 100 + u.id % 50, "version": 1,
         "source": "import", "entered_at": now} for u in units[:len(units) // 2] for f in fields])
    db.session.commit()
    target = next(r for r in requests if r.period == "2025")
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return {"units": report.created, "asked": len(units), "request": target.id, "clerk": clerk.id,
            "village": village.id, "city": city.id, "author": author.id, "fields": [f.id for f in fields]}


def run(backend: str, uri: str, folder: Path, args) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    app = make_app(folder, uri)
    with app.app_context():
        world = build(args)
        figures = {"backend": backend, "world": world}

        def scope() -> CheckedScope:
            return CheckedScope(unit=db.session.get(Unit, world["city"]),
                                fields=[db.session.get(DataField, i) for i in world["fields"]],
                                audience=DataAudience(subtrees=[world["city"]]), period=parse_period("2025"))

        def request() -> DataRequest:
            return db.session.get(DataRequest, world["request"])

        def clerk() -> User:
            return db.session.get(User, world["clerk"])

        figures["preview"] = measure(lambda: (lambda checked=scope(): queries.preview(checked)), args.runs)
        figures["status"] = measure(lambda: (lambda r=request(): queries.status_report(r)), args.runs)
        figures["export"] = measure(
            lambda: (lambda r=request(), s=queries.unit_states(request()): export.workbook(r, s)), args.export_runs)
        figures["inbox_page"] = measure(
            lambda: (lambda u=clerk(): queries.inbox_data_requests(u, limit=51)), args.runs)
        figures["pending_count"] = measure(lambda: (lambda u=clerk(): queries.pending_count(u)), args.runs)
        figures["form"] = measure(lambda: (lambda r=request(), u=db.session.get(Unit, world["village"]):
                                           queries.unit_form(r, u)), args.runs)
        db.session.remove()
        db.engine.dispose()
    return figures


def report(figures: dict) -> None:
    print(f"\n{figures['backend']}: {figures['world']}")
    for key in ("preview", "status", "export", "inbox_page", "pending_count", "form"):
        print(f"  {key:14} {figures[key]}")


# ---- --scale zhejiang: issue 15's targets --------------------------------------------------------

def run_zhejiang(backend: str, uri: str, folder: Path, args) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    app = make_app(folder, uri)
    saved = folder / "world.json"
    with app.app_context():
        if saved.exists():
            world = json.loads(saved.read_text())
            print(f"{backend}: reusing the database built in {world['build_s']} s", flush=True)
        else:
            print(f"{backend}: building ...", flush=True)
            world = zhejiang.build(args.file, args.requests)
            saved.write_text(json.dumps(world))
            print(f"{backend}: built in {world['build_s']} s", flush=True)
        zhejiang.drop_created(set())
        world["bytes"] = zhejiang.sqlite_size(uri) if backend == "sqlite" else zhejiang.postgres_size()
        figures: dict[str, Any] = {"backend": backend, "world": world}
        client = app.test_client()
        tokens = {key: issue_token(db.session.get(User, world[key]))
                  for key in ("author", "city_clerk", "village_clerk")}
        db.session.commit()
        for name, phase in (("reads", lambda: zhejiang_reads(world, client, tokens, args)),
                            ("create", lambda: zhejiang_create(world, args)),
                            ("inbox", lambda: zhejiang_inbox(world, client, tokens, args))):
            if args.phases and name not in args.phases:
                continue
            quiet = wait_quiet()
            started, busy, own = time.perf_counter(), machine_busy_seconds(), own_cpu_seconds()
            figures[name] = phase()
            others = machine_busy_seconds() - busy - (own_cpu_seconds() - own)
            figures[f"{name}_machine"] = {**quiet, "calibration_ms": calibration_ms(),
                                          "wall_s": round(time.perf_counter() - started),
                                          "others_cpu_s": round(others, 1)}
            print(f"{backend}: {name}: {json.dumps(figures[f'{name}_machine'])}", flush=True)
        db.session.remove()
        db.engine.dispose()
    return figures


def _scope(world: dict, subtrees: list[int], unit_key: str = "city") -> CheckedScope:
    fields = list(db.session.scalars(select(DataField).where(DataField.id.in_(world["asked"]))
                                     .order_by(DataField.id)))
    return CheckedScope(unit=db.session.get(Unit, world[unit_key]), fields=fields,
                        audience=DataAudience(subtrees=subtrees), period=parse_period(zhejiang.PERIOD))


def zhejiang_reads(world: dict, client, tokens: dict, args) -> dict:
    """Preview, form, status and export of the 30-field request to 丽水市 (in process and over HTTP)."""
    request_id, village = world["request"], world["village"]
    request_ = lambda: db.session.get(DataRequest, request_id)  # noqa: E731
    body = {"fields": world["asked"], "audience": {"subtrees": [world["city"]]}, "period": zhejiang.PERIOD}
    preview = queries.preview(_scope(world, [world["city"]]))
    states = queries.unit_states(request_())
    form = queries.unit_form(request_(), db.session.get(Unit, village))
    assert preview["units"] == world["city_units"] and len(states) == world["city_units"]
    assert form["status"] == "complete" and all(f["value"] is not None for f in form["fields"])
    db.session.remove()
    counts = {s: sum(1 for x in states if x["status"] == s) for s in ("submitted", "complete", "pending")}
    base = f"/api/v1/data/requests/{request_id}"
    runs, export_runs = args.runs, args.export_runs
    return {
        "held": sum(f["held"] for f in preview["fields"]), "complete_units": preview["complete_units"],
        "overlaps": len(preview["overlaps"]), "states": counts,
        "preview": measure(lambda: (lambda c=_scope(world, [world["city"]]): queries.preview(c)), runs),
        "POST /data/requests/preview": measure(lambda: request_http(
            client, "POST", "/api/v1/data/requests/preview", tokens["city_clerk"], body), runs),
        "form": measure(lambda: (lambda r=request_(), u=db.session.get(Unit, village):
                                 queries.unit_form(r, u)), runs),
        "GET form": measure(lambda: request_http(
            client, "GET", f"{base}/units/{village}", tokens["village_clerk"]), runs),
        "status": measure(lambda: (lambda r=request_(): queries.status_report(r)), runs),
        "GET status": measure(lambda: request_http(client, "GET", f"{base}/status", tokens["city_clerk"]), runs),
        "export": measure(lambda: (lambda r=request_(): export.workbook(r, queries.unit_states(r))), export_runs),
        "GET export": measure(lambda: request_http(client, "GET", f"{base}/export", tokens["city_clerk"]),
                              export_runs)}


def zhejiang_create(world: dict, args) -> dict:
    """create_data_request of the 30 fields to audiences of 20 to 19,856 units,
    then the naive design: the same, plus a row per (unit, field) written at send
    time. Each run's request is deleted (untimed) before the next."""
    naive = zhejiang.naive_table()
    made: list[int] = []

    def prepare(subtrees: list[int], fan_out: bool):
        if made:
            zhejiang.drop_created(set())
            made.clear()
        author, checked = db.session.get(User, world["author"]), _scope(world, subtrees, "province")
        draft = RequestDraft(scope=None, title=f"bench-create {len(subtrees)}", purpose="统计",
                             deadline=date(2099, 1, 1), overlap_reason="bench")

        def call():
            request = actions.create_data_request(author, checked, draft)
            made.append(request.id)
            if fan_out:
                rows = [{"request_id": request.id, "unit_id": unit_id, "field_id": field_id, "status": "pending"}
                        for unit_id, *_rest in audience_units(checked.audience)
                        for field_id in world["asked"]]
                db.session.execute(naive.insert(), rows)
                db.session.commit()
        return call

    result = {}
    for label, subtrees in world["audiences"].items():
        units = world["audience_units"][label]
        runs = args.runs if units < 10_000 else max(args.runs // 3, 5)
        naive_runs = max(args.runs // 3, 5) if units < 10_000 else 5
        result[label] = {
            "units": units,
            "create": measure(lambda s=subtrees: prepare(s, False), runs),
            "naive": measure(lambda s=subtrees: prepare(s, True), naive_runs)}
        result[label]["naive rows"] = units * len(world["asked"])
    zhejiang.drop_created(set())
    return result


def zhejiang_inbox(world: dict, client, tokens: dict, args) -> dict:
    clerk = lambda: db.session.get(User, world["village_clerk"])  # noqa: E731
    return {"pending": queries.pending_count(clerk()),
            "pending_count": measure(lambda: (lambda u=clerk(): queries.pending_count(u)), args.runs),
            "inbox_data_requests": measure(
                lambda: (lambda u=clerk(): queries.inbox_data_requests(u, limit=51)), args.runs),
            "GET /api/v1/inbox": measure(lambda: request_http(
                client, "GET", "/api/v1/inbox?limit=50", tokens["village_clerk"]), args.runs)}


def report_zhejiang(figures: dict) -> None:
    def fmt(stats: dict) -> str:
        return f"{stats['p50']:.1f} / {stats['p95']:.1f} (n={stats['n']})"

    world = {k: v for k, v in figures["world"].items() if k not in ("asked", "audiences")}
    print(f"\n{figures['backend']}: {world}")
    reads = figures.get("reads", {})
    for key, stats in reads.items():
        print(f"  {key:32} {fmt(stats) if isinstance(stats, dict) and 'p50' in stats else stats}")
    for label, row in figures.get("create", {}).items():
        print(f"  create {label:10} ({row['units']:>6,} units): ours {fmt(row['create'])}; "
              f"naive ({row['naive rows']:,} rows) {fmt(row['naive'])}")
    for key, stats in figures.get("inbox", {}).items():
        print(f"  {key:32} {fmt(stats) if isinstance(stats, dict) else stats}")
    print(f"  machine: {json.dumps({k: v for k, v in figures.items() if k.endswith('_machine')})}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DIVISIONS)
    parser.add_argument("--postgres", metavar="URL", help="also run on a scratch database on this server")
    parser.add_argument("--with-postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--requests", type=int, default=300, help="open requests reaching the clerk")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--export-runs", type=int, default=5)
    parser.add_argument("--max-wait", type=float, default=600, help="seconds to wait for a quiet machine")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--scale", choices=("lishui", "zhejiang"), default="lishui",
                        help="lishui: 丽水市's 2,191 units, 5 fields (default); zhejiang: issue 15's targets, "
                             "10,000,000 held values")
    parser.add_argument("--keep", type=Path, help="--scale zhejiang: build the databases in this folder once "
                                                  "and reuse them in later runs (delete it when done)")
    parser.add_argument("--phases", default="", help="--scale zhejiang: only these (reads,create,inbox)")
    args = parser.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]
    if args.keep:
        args.keep = args.keep.resolve()
    if args.scale == "zhejiang":
        run_on_backends("datarequests_zhejiang", run_zhejiang, report_zhejiang, args)
    else:
        run_on_backends("datarequests", run, report, args)


if __name__ == "__main__":
    main()
