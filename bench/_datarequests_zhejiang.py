"""The world of `bench/datarequests.py --scale zhejiang` (issue 15's performance
targets): the 27,036 units of Zhejiang, a clerk for every unit, 200 catalogue
fields, 10,000,000 held values (200 fields x 25,000 villages x 2 years), and
--requests open requests to 丽水市 that reach one village's clerk.

Everything past the unit import is bulk: the people by executemany with one
password hash, and the held values by one INSERT ... SELECT over a table of the
25,000 holding villages crossed with the fields and the two years (the
secondary indexes of data_values are dropped first and built once after).
With --keep the database is built once and reused by later runs.
"""
from __future__ import annotations

import random
import time
from datetime import date
from pathlib import Path

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, UniqueConstraint, cast, func, insert, \
    literal, select, text, union_all

from hub.datarequests.models import (DataField, DataRequest, DataRequestAudience, DataRequestField,
                                     DataRequestUnit, DataValue)
from hub.db import utcnow
from hub.extensions import db
from hub.org.imports import import_units
from hub.org.models import Membership, Role, RoleGrant, Unit, UnitKind, User
from hub.passwords import hash_password

VILLAGES = 25_000            # of Zhejiang's 25,547: one in ~47 holds nothing
FIELDS = 200
YEARS = ("2024", "2025")
ASKED = 30                   # fields of the measured request
PERIOD = "2025"
CITY = "3311"                # 丽水市: the measured request's audience (2,191 units)
# Audiences of the create measurement, by subtree root codes (units in the subtrees).
CREATE_AUDIENCES = {
    "town": ["330105009"],                                          # 祥符街道: 20 units
    "county": ["330105"],                                           # 拱墅区: 197
    "city": [CITY],                                                 # 丽水市: 2,191
    "six cities": ["3301", "3302", "3303", "3307", "3310", CITY],   # 19,856
}


def holders_table() -> Table:
    return Table("bench_holders", MetaData(), Column("unit_id", Integer, primary_key=True))


def naive_table() -> Table:
    """The naive design's rows, written at send time: one per (request, unit,
    field), with the unit's state for that field and the value once answered."""
    return Table("bench_naive_request_values", MetaData(),
                 Column("id", Integer, primary_key=True),
                 Column("request_id", Integer, nullable=False),
                 Column("unit_id", Integer, nullable=False),
                 Column("field_id", Integer, nullable=False),
                 Column("status", String(10), nullable=False),
                 Column("value", JSON),
                 UniqueConstraint("request_id", "unit_id", "field_id"))


def _people(units: list) -> None:
    """One clerk (文书) per unit, and their primary memberships and role grants."""
    password_hash = hash_password("Bench-2026-datarequests")
    db.session.execute(insert(User.__table__), [
        {"login": f"c{u.id:06d}", "name": f"文书{u.id}", "password_hash": password_hash} for u in units])
    ids = dict(db.session.execute(select(User.login, User.id).where(User.login.like("c%"))).all())
    db.session.execute(insert(Membership.__table__), [
        {"user_id": ids[f"c{u.id:06d}"], "unit_id": u.id, "position": "文书", "is_primary": True}
        for u in units])
    db.session.execute(insert(RoleGrant.__table__), [
        {"user_id": ids[f"c{u.id:06d}"], "unit_id": u.id, "role": Role.CLERK} for u in units])


def _fields() -> list[int]:
    now = utcnow()
    names = ["常住人口", "户籍人口", "户数", "耕地面积", "村集体经济收入", "低保户数", "60岁以上老人数", "党员人数"]
    rows = [{"code": f"Z{i:03d}", "name": f"{names[i % len(names)]}（{i:03d}）", "kind": "integer",
             "period_kind": "year", "created_at": now, "system": False} for i in range(1, FIELDS + 1)]
    db.session.execute(insert(DataField.__table__), rows)
    return list(db.session.scalars(select(DataField.id).where(DataField.code.like("Z%")).order_by(DataField.id)))


def _values(villages: list[int]) -> int:
    """10,000,000 held values in one INSERT ... SELECT, in the unique key's order."""
    connection = db.session.connection()
    dialect = db.engine.dialect.name
    holders = holders_table()
    holders.create(connection)
    connection.execute(insert(holders), [{"unit_id": i} for i in sorted(villages)])
    table = DataValue.__table__
    secondary = list(table.indexes)
    for index in secondary:
        index.drop(connection)
    if dialect == "sqlite":
        connection.exec_driver_sql("PRAGMA cache_size = -1000000")      # 1 GB for this connection
    fields = select(DataField.id).where(DataField.code.like("Z%")).subquery("f")
    years = union_all(*(select(literal(y).label("period")) for y in YEARS)).subquery("p")
    number = 100 + (holders.c.unit_id * 7 + fields.c.id * 13) % 900
    value = cast(number, String) if dialect == "sqlite" else cast(cast(number, String), JSON)
    now = literal(utcnow(), type_=table.c.entered_at.type)
    source = select(holders.c.unit_id, fields.c.id, years.c.period, value, now, literal("import"), literal(1)) \
        .select_from(holders).join(fields, literal(True)).join(years, literal(True)) \
        .order_by(holders.c.unit_id, fields.c.id, years.c.period)
    connection.execute(insert(table).from_select(
        ["unit_id", "field_id", "period", "value", "entered_at", "source", "version"], source))
    for index in secondary:
        index.create(connection)
    return connection.scalar(select(func.count()).select_from(table))


def build(csv_path: Path, requests: int, log=print) -> dict:
    """The world in the module docstring; returns the ids the measurements need (JSON-able)."""
    started = time.perf_counter()
    report = import_units(None, csv_path.name, csv_path.read_bytes())
    assert report.applied and not report.errors, report.errors[:3]
    units = db.session.execute(select(Unit.id, Unit.code, Unit.kind, Unit.path).order_by(Unit.path)).all()
    by_code = {u.code: u for u in units}
    _people(units)
    db.session.commit()
    log(f"  units and clerks: {time.perf_counter() - started:.0f} s")

    all_villages = [u for u in units if u.kind == UnitKind.VILLAGE]
    skipped = {all_villages[round(k * len(all_villages) / (len(all_villages) - VILLAGES))].id
               for k in range(len(all_villages) - VILLAGES)}
    villages = [u.id for u in all_villages if u.id not in skipped]
    assert len(villages) == VILLAGES, len(villages)
    field_ids = _fields()
    db.session.commit()
    count = _values(villages)
    db.session.commit()
    log(f"  {count:,} held values: {time.perf_counter() - started:.0f} s")

    city = by_code[CITY]
    province = units[0]
    clerk_of = dict(db.session.execute(select(RoleGrant.unit_id, RoleGrant.user_id)
                                       .where(RoleGrant.role == Role.CLERK)).all())
    rng = random.Random(15)
    asked = field_ids[:ASKED]
    now = utcnow()
    open_requests = []
    for i in range(requests):
        period = str(2000 + i % 26)
        chosen = asked if period == PERIOD else sorted(rng.sample(field_ids, ASKED))
        request = DataRequest(title=f"年报{i}", purpose="统计", period=period, deadline=date(2099, 1, 1),
                              author_id=clerk_of[city.id], unit_id=city.id, created_at=now,
                              overlap_reason="bench" if period == PERIOD else None)
        request.fields = [DataRequestField(field_id=f, position=j) for j, f in enumerate(chosen)]
        request.audience = [DataRequestAudience(unit_id=city.id, subtree=True)]
        open_requests.append(request)
    target = DataRequest(title="2025年度基层基础数据", purpose="统计", period=PERIOD, deadline=date(2099, 1, 1),
                         author_id=clerk_of[city.id], unit_id=city.id, created_at=now, overlap_reason="bench")
    target.fields = [DataRequestField(field_id=f, position=j) for j, f in enumerate(asked)]
    target.audience = [DataRequestAudience(unit_id=city.id, subtree=True)]
    db.session.add_all([*open_requests, target])
    db.session.flush()
    in_city = [u for u in units if u.path.startswith(city.path)]
    holding = set(villages)
    # Half of the units that hold nothing (towns, counties, the city, skipped villages) have submitted.
    empty = [u.id for u in in_city if u.id not in holding]
    db.session.execute(insert(DataRequestUnit.__table__), [
        {"request_id": target.id, "unit_id": u, "status": "submitted", "version": 1,
         "submitted_by_id": clerk_of[u], "submitted_at": now} for u in empty[::2]])
    db.session.commit()
    village = next(u for u in reversed(in_city) if u.id in holding)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    naive_table().create(db.session.connection())
    db.session.commit()
    audiences = {label: [by_code[c].id for c in codes] for label, codes in CREATE_AUDIENCES.items()}
    sizes = {label: sum(1 for u in units if any(u.path.startswith(by_code[c].path) for c in codes))
             for label, codes in CREATE_AUDIENCES.items()}
    return {"units": len(units), "values": count, "fields": len(field_ids), "asked": asked,
            "open_requests": requests, "request": target.id, "city": city.id, "city_units": len(in_city),
            "province": province.id, "author": clerk_of[province.id], "city_clerk": clerk_of[city.id],
            "village": village.id, "village_clerk": clerk_of[village.id],
            "audiences": audiences, "audience_units": sizes,
            "build_s": round(time.perf_counter() - started)}


def drop_created(keep_ids: set[int]) -> None:
    """Remove requests made by the create measurements (and their naive rows)."""
    made = list(db.session.scalars(select(DataRequest).where(DataRequest.title.like("bench-create%"))))
    naive = naive_table()
    for request in made:
        if request.id not in keep_ids:
            db.session.execute(naive.delete().where(naive.c.request_id == request.id))
            db.session.delete(request)
    db.session.commit()


def sqlite_size(uri: str) -> int:
    path = Path(uri.removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def postgres_size() -> int:
    return db.session.scalar(text("SELECT pg_database_size(current_database())"))
