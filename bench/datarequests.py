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
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from notices import measure, run_on_backends  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from _notices_data import make_app  # noqa: E402
from config import Config  # noqa: E402
from hub.datarequests import export, queries  # noqa: E402
from hub.datarequests.audience import DataAudience  # noqa: E402
from hub.datarequests.drafts import CheckedScope  # noqa: E402
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
    run_on_backends("datarequests", run, report, parser.parse_args())


if __name__ == "__main__":
    main()
