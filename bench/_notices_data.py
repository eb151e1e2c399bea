"""The data bench/notices.py measures against: the whole of Zhejiang, ~106,000
people, a publisher, 10,000 notices visible to one village cadre among 20,000
that are not, and a province-wide notice with 60,000 receipts.

Everything past the unit import is bulk inserts (executemany), with one
password hash computed once: the ORM per row, or argon2 per person, would take
longer than the measurements.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import Column, Integer, MetaData, Table, UniqueConstraint, insert, select

from hub import create_app
from hub.passwords import hash_password
from hub.db import utcnow
from hub.extensions import db
from hub.migrate import upgrade
from hub.notices.models import Notice, NoticeAudience, Receipt
from hub.notices.queries import visible_notices
from hub.org.imports import import_units
from hub.org.models import Membership, Role, RoleGrant, Unit, UnitKind, User

# People per unit, by kind, and their positions (职务), primary membership first.
POSITIONS = {
    UnitKind.PROVINCE: ["科员"] * 10,
    UnitKind.CITY: ["科员"] * 10,
    UnitKind.COUNTY: ["科员"] * 10,
    UnitKind.TOWN: ["党政办文书", "驻村干部"],
    UnitKind.VILLAGE: ["村党组织书记", "村委会主任", "村务监督委员会主任", "村文书"],
}
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡"
            "蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华国庆志强海燕红梅晓东建军文博"
LIVE_COUNTY = "331082"          # 临海市: the county with the most villages (678)
BODY = ("各乡镇（街道）、各有关单位：根据上级部署，现就做好近期防汛防台和安全生产工作通知如下。"
        "一、压实责任，主要负责同志要亲自部署、亲自检查。"
        "二、加强值班值守，严格执行领导带班和24小时值班制度。"
        "三、全面排查隐患，对地质灾害点、危旧房、山塘水库逐一落实责任人。"
        "四、及时报送信息，重要情况第一时间上报。") * 2


@dataclass
class World:
    """Ids the measurements need."""

    people: int
    publisher_id: int
    cadre_id: int                       # a village party secretary in LIVE_COUNTY
    line: dict[str, int]                # the cadre's province, city, county, town, village ids
    live_people: list[int] = field(default_factory=list)   # primary members of LIVE_COUNTY's subtree
    coverage_notice_id: int = 0
    inbox_size: int = 0


def make_app(folder: Path, uri: str) -> Flask:
    """A fresh Hub app on `uri` with the schema at head."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": str(folder / "instance"),
                      "SECRET_KEY": "bench", "DEMO": False, "TESTING": True, "REDIS_URL": None})
    upgrade(app)
    return app


def _name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + \
        GIVEN[(n // 7) % len(GIVEN)]


def build_world(csv_path: Path) -> World:
    """Import the province, then insert the people (one primary membership each,
    town 驻村干部 also in a village of their town) and the province clerk."""
    report = import_units(None, csv_path.name, csv_path.read_bytes())
    assert report.applied and not report.errors, report.errors[:3]
    units = db.session.execute(select(Unit.id, Unit.code, Unit.kind, Unit.parent_id, Unit.path)
                               .order_by(Unit.path)).all()
    first_village_of: dict[int, int] = {}
    for unit in units:
        if unit.kind == UnitKind.VILLAGE:
            first_village_of.setdefault(unit.parent_id, unit.id)

    password_hash = hash_password("Bench-2026-notices")
    users, places = [], []                 # places[i]: [(unit_id, position, is_primary), ...]
    for unit in units:
        for k, position in enumerate(POSITIONS.get(unit.kind, [])):
            users.append({"login": f"z{len(users):06d}", "name": _name(len(users)),
                          "password_hash": password_hash})
            place = [(unit.id, position, True)]
            if position == "驻村干部" and unit.id in first_village_of:
                place.append((first_village_of[unit.id], "驻村干部", False))
            places.append(place)
    db.session.execute(insert(User.__table__), users)
    ids = dict(db.session.execute(select(User.login, User.id).where(User.login.like("z%"))).all())
    db.session.execute(insert(Membership.__table__), [
        {"user_id": ids[u["login"]], "unit_id": unit_id, "position": position, "is_primary": primary}
        for u, place in zip(users, places) for unit_id, position, primary in place])

    by_code = {u.code: u.id for u in units}
    publisher = User(login="bench_clerk", name="省府办机要员", password_hash=password_hash)
    publisher.memberships.append(Membership(unit_id=by_code["33"], position="机要员", is_primary=True))
    publisher.roles.append(RoleGrant(role=Role.CLERK, unit_id=by_code["33"]))
    db.session.add(publisher)
    db.session.commit()

    county = db.session.get(Unit, by_code[LIVE_COUNTY])
    village = db.session.get(Unit, next(u.id for u in units if u.kind == UnitKind.VILLAGE
                                        and u.path.startswith(county.path)))
    cadre_id = db.session.scalar(select(Membership.user_id).where(
        Membership.unit_id == village.id, Membership.position == "村党组织书记"))
    line = dict(zip(("province", "city", "county", "town", "village"), village.path_ids))
    live_people = list(db.session.scalars(
        select(Membership.user_id).join(Unit, Unit.id == Membership.unit_id)
        .where(Unit.path.startswith(county.path), Membership.is_primary.is_(True))
        .order_by(Membership.user_id)))
    return World(people=len(users) + 1, publisher_id=publisher.id, cadre_id=cadre_id, line=line,
                 live_people=live_people)


def _notice_rows(world: World, targets: list[dict], rng: random.Random) -> None:
    """Insert one past notice per target (an audience row's fields plus the
    publishing unit), spread over two years, and its audience row."""
    now = utcnow()
    rows = [{"author_id": world.publisher_id, "unit_id": t.pop("from_unit"),
             "title": f"关于做好第{n % 97 + 1}批重点工作的通知", "summary": "请于截止前完成并报送情况。",
             "body": BODY, "requires_ack": n % 5 == 0, "announced": True,
             "publish_at": now - timedelta(seconds=rng.randint(3600, 730 * 86400)),
             "created_at": now - timedelta(days=731)} for n, t in enumerate(targets)]
    ids = list(db.session.scalars(insert(Notice).returning(Notice.id, sort_by_parameter_order=True), rows))
    db.session.execute(insert(NoticeAudience.__table__),
                       [{"notice_id": i, "user_id": None, "unit_id": None, "subtree": False,
                         "position": None, **t} for i, t in zip(ids, targets)])


def add_inbox_notices(world: World, *, visible: int = 10_000, hidden: int = 20_000,
                      read_share: float = 0.7, seed: int = 4) -> None:
    """`visible` notices reaching the cadre (most to the subtrees above them, a
    few to their village, their position or them by name), `hidden` notices to
    other parts of the province, and receipts for `read_share` of the visible."""
    rng = random.Random(seed)
    line = world.line
    mix = [(0.20, {"unit_id": line["province"], "subtree": True}, line["province"]),
           (0.25, {"unit_id": line["city"], "subtree": True}, line["city"]),
           (0.25, {"unit_id": line["county"], "subtree": True}, line["county"]),
           (0.05, {"unit_id": line["county"], "subtree": True, "position": "村党组织书记"}, line["county"]),
           (0.19, {"unit_id": line["town"], "subtree": True}, line["town"]),
           (0.05, {"unit_id": line["village"]}, line["village"]),
           (0.01, {"user_id": world.cadre_id}, line["town"])]
    targets = []
    for share, target, source in mix:
        targets += [dict(target, from_unit=source) for _ in range(round(share * visible))]
    del targets[visible:]
    units = db.session.execute(select(Unit.id, Unit.kind, Unit.path)).all()
    mine = set(line.values())
    elsewhere = {kind: [u for u in units if u.kind == kind and not any(
        f"/{i}/" in u.path for i in (line["city"], line["county"], line["town"], line["village"]))]
        for kind in (UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWN, UnitKind.VILLAGE)}
    for n in range(hidden):
        kind = (UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWN, UnitKind.VILLAGE)[n % 4]
        unit = rng.choice(elsewhere[kind])
        assert unit.id not in mine
        targets.append({"unit_id": unit.id, "subtree": True, "from_unit": unit.id})
    order = list(range(len(targets)))
    rng.shuffle(order)                       # visible and hidden interleaved in id order
    _notice_rows(world, [targets[i] for i in order], rng)
    db.session.commit()

    user = db.session.get(User, world.cadre_id)
    seen = list(db.session.execute(visible_notices(user).with_only_columns(Notice.id, Notice.publish_at)))
    world.inbox_size = len(seen)
    read = rng.sample(seen, int(len(seen) * read_share))
    db.session.execute(insert(Receipt.__table__), [
        {"notice_id": i, "user_id": world.cadre_id, "read_at": at + timedelta(minutes=30),
         "acked_at": None, "feedback_given": False} for i, at in read])
    db.session.commit()


def add_background_receipts(world: World, *, count: int = 400_000, seed: int = 4) -> None:
    """Receipts of other people on the past notices, so that the receipts table is
    not just the one notice's (a planner would scan a small table whole)."""
    rng = random.Random(seed)
    notices = list(db.session.scalars(select(Notice.id)))
    people = list(db.session.scalars(select(User.id).where(User.login.like("z%"), User.id != world.cadre_id)))
    pairs = {(rng.choice(notices), rng.choice(people)) for _ in range(count)}
    read_at = utcnow() - timedelta(days=1)
    db.session.execute(insert(Receipt.__table__), [
        {"notice_id": n, "user_id": u, "read_at": read_at, "acked_at": None, "feedback_given": False}
        for n, u in sorted(pairs)])
    db.session.commit()


def add_coverage_notice(world: World, *, reads: int = 60_000, acks: int = 40_000, seed: int = 4) -> None:
    """One notice to the whole province (requires 签收), read by `reads` of its
    audience, `acks` of whom acknowledged it."""
    rng = random.Random(seed)
    now = utcnow()
    notice = Notice(author_id=world.publisher_id, unit_id=world.line["province"],
                    title="关于开展全省安全生产大检查的通知", summary="全省各级各单位开展安全生产大检查。",
                    body=BODY, requires_ack=True, announced=True, publish_at=now - timedelta(days=1),
                    created_at=now - timedelta(days=1),
                    audience=[NoticeAudience(unit_id=world.line["province"], subtree=True)])
    db.session.add(notice)
    db.session.commit()
    everyone = list(db.session.scalars(select(User.id).where(User.login.like("z%"))))
    readers = rng.sample(everyone, reads)
    db.session.execute(insert(Receipt.__table__), [
        {"notice_id": notice.id, "user_id": u, "read_at": now - timedelta(hours=rng.randint(1, 23)),
         "acked_at": now if k < acks else None, "feedback_given": False}
        for k, u in enumerate(readers)])
    db.session.commit()
    world.coverage_notice_id = notice.id


def fanout_table() -> Table:
    """The fan-out-on-write comparison's scratch table: one row per recipient
    per notice, shaped like Zulip's UserMessage (id, user, message, flags)."""
    table = Table("bench_fanout_rows", MetaData(),
                  Column("id", Integer, primary_key=True),
                  Column("user_id", Integer, nullable=False),
                  Column("notice_id", Integer, nullable=False),
                  Column("flags", Integer, nullable=False, default=0),
                  UniqueConstraint("user_id", "notice_id"))
    table.create(db.session.connection())
    db.session.commit()
    return table


def analyze() -> None:
    """PostgreSQL: fresh planner statistics and visibility maps after the bulk
    loads (VACUUM ANALYZE), as autovacuum would leave them within a minute in
    production; without the visibility map an index-only scan still visits the
    table. SQLite: nothing (Hub never runs
    ANALYZE there, so the planner works without statistics, as in production)."""
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
