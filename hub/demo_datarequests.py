"""Demo data requests (填报): a catalogue of the figures a county asks its
villages for, values the towns imported for last year and last quarter, and
two open requests — 区民政局's, and 区农业农村局's that overlaps it and says why —
with some villages submitted, some complete from what they held, some pending.

Everything is generated with a fixed seed from the units' codes, so every
start holds the same figures. Held values are written in bulk (as a town's
import writes them: source "import", no request); the requests and the few
submits go through the real actions, so their rules and audit rows are real.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, select

from hub.audit import record_audit
from hub.datarequests import actions
from hub.datarequests.access import composing_unit
from hub.datarequests.drafts import RequestDraft, check_scope
from hub.datarequests.models import DataField, DataRequest, DataValue, DataValueHistory, ValueSource
from hub.extensions import db
from hub.org.models import Unit, UnitKind, User
from hub.times import beijing_today

# (code, name, kind, unit of measure, period kind, owner department, choices)
CATALOGUE = [
    ("JC001", "常住人口", "integer", "人", "year", "D02", None),
    ("JC002", "户籍人口", "integer", "人", "year", "D02", None),
    ("JC003", "户籍户数", "integer", "户", "year", "D02", None),
    ("JC004", "村民小组数", "integer", "个", "once", "D02", None),
    ("JC005", "村委会成立日期", "date", None, "once", "D02", None),
    ("JC006", "村庄类型", "choice", None, "once", "D02",
     ["集聚提升类", "城郊融合类", "特色保护类", "搬迁撤并类"]),
    ("JC007", "便民服务中心地址", "text", None, "once", "D02", None),
    ("MZ001", "低保户数", "integer", "户", "quarter", "D10", None),
    ("MZ002", "低保人数", "integer", "人", "quarter", "D10", None),
    ("MZ003", "特困供养人数", "integer", "人", "quarter", "D10", None),
    ("MZ004", "60周岁以上老年人数", "integer", "人", "year", "D10", None),
    ("MZ005", "持证残疾人数", "integer", "人", "year", "D10", None),
    ("NY001", "耕地面积", "number", "亩", "year", "D07", None),
    ("NY002", "粮食播种面积", "number", "亩", "year", "D07", None),
    ("NY003", "村集体经济总收入", "number", "万元", "year", "D07", None),
    ("NY004", "村集体经营性收入", "number", "万元", "year", "D07", None),
    ("NY005", "农村居民人均可支配收入", "number", "元", "year", "D07", None),
    ("NY006", "外出务工人数", "integer", "人", "year", "D07", None),     # never asked yet: held by nobody
    ("ZF001", "网格数", "integer", "个", "quarter", "D01", None),
    ("ZF002", "专职网格员人数", "integer", "人", "quarter", "D01", None),
    ("YJ001", "应急物资储备点照片", "file", None, "once", "D08", None),  # a file: never held here
]
NOT_HELD = {"NY006", "YJ001"}
# Fields that make a town's own figure as the sum of its villages'.
SUMMED = {"JC001", "JC002", "JC003", "MZ001", "MZ002", "MZ003", "MZ004", "MZ005", "NY001", "NY002", "NY003",
          "NY004", "NY006", "ZF001", "ZF002"}

CIVIL_AFFAIRS_TOWNS = ("100", "101", "205")           # 石梁镇, 航埠镇, 黄家乡
AGRICULTURE_TOWNS = ("100", "210", "211")            # 石梁镇, 九华乡, 沟溪乡
CIVIL_AFFAIRS_FIELDS = ("JC001", "JC002", "MZ004", "MZ005")
AGRICULTURE_FIELDS = ("JC002", "JC003", "NY001", "NY003", "NY004")
# 麻蓬村, whose 党支部书记 is a demo login: complete for 区民政局, one figure to give 区农业农村局.
FIXED_GAPS = {"330802100202": {"NY004"}}


@dataclass
class DemoRequests:
    fields: int = 0
    values: int = 0
    requests: int = 0


def last_quarter(today: date) -> str:
    quarter = (today.month - 1) // 3          # the quarter before this one, 0 meaning last year's Q4
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


def seed_data_requests(county: str, departments: dict[str, Unit]) -> DemoRequests:
    """The catalogue, the held values and the two open requests (for a county
    whose towns have villages; otherwise only the catalogue)."""
    today = beijing_today()
    year, quarter = str(today.year - 1), last_quarter(today)
    report = DemoRequests()
    fields = _catalogue(departments)
    report.fields = len(fields)
    # Plain rows: the units loaded by the caller are expired by its commit.
    units = db.session.execute(select(Unit.id, Unit.code, Unit.name, Unit.parent_id, Unit.kind)
                               .where(Unit.code.like(f"{county}%"))).all()
    towns = {u.code: u for u in units if u.kind == UnitKind.TOWN}
    villages: dict[int, list] = {}
    for unit in units:
        villages.setdefault(unit.parent_id, []).append(unit)
    rows = []
    for town in towns.values():
        figures = {v.code: _figures(v.code, v.name) for v in villages.get(town.id, [])}
        for village in villages.get(town.id, []):
            rows += _held(village.id, figures[village.code], fields, year, quarter, _gaps(village.code))
        rows += _held(town.id, _town_figures(figures), fields, year, quarter, set())
    report.values = _hold_all(rows, today)
    record_audit(None, "data.values_imported", actor_login="(demo)", target_label="演示数据",
                 after={"values": report.values})
    db.session.commit()
    if all(f"{county}{t}" in towns for t in CIVIL_AFFAIRS_TOWNS + AGRICULTURE_TOWNS):
        report.requests = _requests(county, towns, villages, fields, year, today)
    return report


def _catalogue(departments: dict[str, Unit]) -> dict[str, DataField]:
    day = beijing_today() - timedelta(days=300)
    created = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)
    fields = {}
    for code, name, kind, measure, period_kind, owner, choices in CATALOGUE:
        fields[code] = DataField(code=code, name=name, kind=kind, unit_of_measure=measure, choices=choices,
                                 period_kind=period_kind, owner_unit_id=departments[owner].id,
                                 created_at=created, system=False)
    db.session.add_all(fields.values())
    db.session.flush()
    return fields


def _figures(code: str, name: str) -> dict[str, object]:
    """A village's (or community's) plausible figures, the same on every start."""
    rng = random.Random(code)
    community = not name.endswith(("村委会", "村民委员会"))
    registered = rng.randint(2500, 9000) if community else rng.randint(600, 3600)
    resident = round(registered * (rng.uniform(1.0, 1.3) if community else rng.uniform(0.72, 1.02)))
    arable = round(rng.uniform(0, 40), 1) if community else round(rng.uniform(300, 3200), 1)
    income = round(rng.uniform(60, 420) if community else rng.uniform(25, 260), 2)
    subsistence = max(1, round(registered * rng.uniform(0.004, 0.02) / 1.6))
    grids = max(1, round(resident / rng.uniform(600, 1200)))
    founded = (date(1984, 1, 1) + timedelta(days=rng.randint(0, 1500)) if rng.random() < 0.6
               else date(2019, 3, 1) + timedelta(days=rng.randint(0, 300)))   # merged in 2019's adjustment
    short = name.removesuffix("村民委员会").removesuffix("村委会").removesuffix("居委会")
    return {"JC001": resident, "JC002": registered, "JC003": round(registered / rng.uniform(2.6, 3.2)),
            "JC004": rng.randint(3, 8) if community else rng.randint(4, 18), "JC005": founded.isoformat(),
            "JC006": "城郊融合类" if community else rng.choice(["集聚提升类", "集聚提升类", "特色保护类",
                                                          "城郊融合类", "搬迁撤并类"]),
            "JC007": f"{short}{rng.choice(['文化礼堂', '党群服务中心', '村民中心'])}一楼",
            "MZ001": subsistence, "MZ002": round(subsistence * rng.uniform(1.2, 1.8)),
            "MZ003": rng.randint(0, 6), "MZ004": round(registered * rng.uniform(0.21, 0.31)),
            "MZ005": round(registered * rng.uniform(0.018, 0.04)),
            "NY001": arable, "NY002": round(arable * rng.uniform(0.4, 0.9), 1), "NY003": income,
            "NY004": round(income * rng.uniform(0.35, 0.8), 2),
            "NY005": rng.randint(29000, 46000) if not community else rng.randint(52000, 68000),
            "ZF001": grids, "ZF002": grids + rng.randint(0, 2)}


def _town_figures(villages: dict[str, dict[str, object]]) -> dict[str, object]:
    sums: dict[str, object] = {}
    for code in SUMMED - NOT_HELD:
        total = sum(figures[code] for figures in villages.values())
        sums[code] = round(total, 2) if isinstance(total, float) else total
    return sums


def _gaps(code: str) -> set[str]:
    """Figures a village does not hold yet, so that the requests find some pending:
    one village in five lacks 持证残疾人数, one in four 村集体经营性收入, one in
    seven 户籍人口 (typed later through 区民政局's form, then reused)."""
    if code in FIXED_GAPS:
        return FIXED_GAPS[code]
    rng = random.Random(code + "-gaps")
    gaps = set()
    if rng.random() < 0.2:
        gaps.add("MZ005")
    if rng.random() < 0.25:
        gaps.add("NY004")
    if rng.random() < 0.15:
        gaps.add("JC002")
    return gaps


def _held(unit_id: int, figures: dict[str, object], fields: dict[str, DataField], year: str, quarter: str,
          gaps: set[str]) -> list[dict]:
    periods = {"year": year, "quarter": quarter, "once": "once"}
    return [{"unit_id": unit_id, "field_id": fields[code].id, "period": periods[fields[code].period_kind],
             "value": value}
            for code, value in figures.items() if code not in gaps and code not in NOT_HELD]


def _hold_all(rows: list[dict], today: date) -> int:
    """Write the values, then their first versions from them in one INSERT ...
    SELECT, as imported by the towns a while ago (by the demo: no person)."""
    if not rows:
        return 0
    at = datetime.combine(today - timedelta(days=40), datetime.min.time(), tzinfo=timezone.utc)
    common = {"entered_by_id": None, "entered_at": at, "request_id": None, "source": ValueSource.IMPORT,
              "version": 1}
    db.session.execute(insert(DataValue), [{**row, **common} for row in rows])
    columns = ("unit_id", "field_id", "period", "value", "version", "entered_by_id", "entered_at",
               "request_id", "source")
    db.session.execute(insert(DataValueHistory).from_select(
        ("value_id", *columns), select(DataValue.id, *(getattr(DataValue, c) for c in columns))))
    return len(rows)


def _requests(county: str, towns: dict, villages: dict[int, list], fields: dict[str, DataField], year: str,
              today: date) -> int:
    """区民政局's request, a few villages answering it (typing what they lacked),
    then 区农业农村局's, which overlaps it on 户籍人口 and says why."""
    civil, agriculture = _person("d10.clerk"), _person("d07.clerk")
    if civil is None or agriculture is None:
        return 0
    deadline = (today + timedelta(days=14)).isoformat()
    first = _send(civil, {
        "title": f"关于报送{year}年度村（社区）人口和社会救助基本情况的通知",
        "purpose": "用于编制全区养老服务设施布局规划和残疾人两项补贴资金测算。系统中已有的数据会自动带出，"
                   "请核对后提交；已有全部数据的村（社区）无需填报。",
        "period": year, "deadline": deadline, "fields": [fields[c].id for c in CIVIL_AFFAIRS_FIELDS],
        "audience": {"subtrees": [towns[f"{county}{t}"].id for t in CIVIL_AFFAIRS_TOWNS]}})
    typed = _answer_some(first, CIVIL_AFFAIRS_FIELDS, county, CIVIL_AFFAIRS_TOWNS, towns, villages, fields,
                         typed=set())
    second = _send(agriculture, {
        "title": f"关于报送{year}年度农村集体经济收益分配统计年报数据的通知",
        "purpose": "农经统计年报，数据报送省农业农村厅。已有数据会自动带出，请重点核对村集体经营性收入。",
        "period": year, "deadline": deadline, "fields": [fields[c].id for c in AGRICULTURE_FIELDS],
        "audience": {"subtrees": [towns[f"{county}{t}"].id for t in AGRICULTURE_TOWNS]},
        "overlap_reason": "农经年报须按农业农村部口径报送户籍人口，已与区民政局沟通，各村核对带出的数据即可"})
    _answer_some(second, AGRICULTURE_FIELDS, county, AGRICULTURE_TOWNS, towns, villages, fields, typed=typed)
    return 2


def _answer_some(request: DataRequest, asked: tuple[str, ...], county: str, town_codes: tuple[str, ...],
                 towns: dict, villages: dict[int, list], fields: dict[str, DataField],
                 typed: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Two in three of the villages that lack something submit it, typing only
    what they lacked (and what no earlier form of theirs gave); the others stay
    pending, and so does every village of FIXED_GAPS. Returns what was typed,
    as (village code, field code), `typed` included."""
    typed = set(typed)
    for town in town_codes:
        for village in sorted(villages.get(towns[f"{county}{town}"].id, []), key=lambda v: v.code):
            gaps = {c for c in _gaps(village.code) & set(asked) if (village.code, c) not in typed}
            skip = random.Random(village.code + request.title).random() < 1 / 3
            if not gaps or skip or village.code in FIXED_GAPS:
                continue
            figures = _figures(village.code, village.name)
            actions.submit_unit_form(_person(f"{village.code}.sj"), request, db.session.get(Unit, village.id),
                                     values={str(fields[c].id): figures[c] for c in gaps}, version=0)
            typed |= {(village.code, c) for c in gaps}
    return typed


def _send(author: User, body: dict) -> DataRequest:
    draft = RequestDraft.from_json(body)
    checked = check_scope(author, composing_unit(author), draft.scope)
    return actions.create_data_request(author, checked, draft)


def _person(login: str) -> User | None:
    return db.session.scalar(select(User).where(User.login == login))
