"""Demo data: a real county's tree with departments and a plausible cast.

The county comes from the NBS division list (by default 柯城区, 330802, shipped
in hub/demo_data/); departments and people are generated with a fixed seed, so
every start produces the same names. Loading is idempotent.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from hub.audit import record_audit
from hub.demo_datarequests import seed_data_requests
from hub.demo_week import seed_week
from hub.passwords import hash_password
from hub.extensions import db
from hub.org.actions import units_created
from hub.org.models import Membership, Role, RoleGrant, Unit, UnitKind, User

DEMO_PASSWORD = "Demo@2026"
DATA = Path(__file__).resolve().parent / "demo_data"

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱严")
GIVEN = ("建国 志强 秀英 丽华 海燕 国平 晓梅 文杰 建华 伟 芳 敏 静 磊 洋 勇 军 杰 娟 涛 明 超 霞 平 刚 桂英 "
         "玉兰 红梅 春燕 志刚 建军 小红 晓东 亚萍 卫东 国强 金凤 丽娟 海涛 雪梅 振华 永明 爱华 建平 少华 "
         "慧敏 思远 子涵 浩然 雨欣 嘉怡 宇航 梓萱 一鸣 俊杰 晨曦 若曦 文博 佳琪 天宇 诗雨").split()

# (code suffix, name, leader position, clerk position)
DEPARTMENTS = [
    ("D01", "区委办公室", "主任", "机要员"),
    ("D02", "区政府办公室", "主任", "文书"),
    ("D03", "区委组织部", "部长", "文书"),
    ("D04", "区发展和改革局", "局长", "办公室文书"),
    ("D05", "区教育局", "局长", "办公室文书"),
    ("D06", "区财政局", "局长", "办公室文书"),
    ("D07", "区农业农村局", "局长", "办公室文书"),
    ("D08", "区应急管理局", "局长", "办公室文书"),
    ("D09", "区卫生健康局", "局长", "办公室文书"),
    ("D10", "区民政局", "局长", "办公室文书"),
]
# Departments whose people are named after everyone else's, so that adding one
# leaves every earlier demo name as it was.
LATER_DEPARTMENTS = ("D10",)
STAFF_POSITIONS = ("科员", "副主任科员", "四级主任科员")
# 发文机关代字 after the county's first character, e.g. 柯政办发〔2026〕12号.
DOC_PREFIXES = {"": "政发", "D01": "委办发", "D02": "政办发", "D03": "组发", "D04": "发改",
                "D05": "教", "D06": "财", "D07": "农", "D08": "应急", "D09": "卫健", "D10": "民"}


@dataclass
class DemoReport:
    county: str
    units: int = 0
    people: int = 0
    already_loaded: bool = False

    def describe(self) -> str:
        if self.already_loaded:
            return f"演示数据已存在（{self.county}），未重复加载"
        return f"已加载演示数据：{self.county}，{self.units} 个单位，{self.people} 名人员"


class _Names:
    """Deterministic, plausible, mostly distinct Chinese names."""

    def __init__(self, seed: str) -> None:
        self.random = random.Random(seed)
        self.used: set[str] = set()

    def next(self) -> str:
        for _ in range(50):
            name = self.random.choice(SURNAMES) + self.random.choice(GIVEN)
            if name not in self.used:
                break
        self.used.add(name)
        return name


def division_rows(county: str) -> list[dict[str, str]]:
    """The county, its ancestors and its whole subtree, from the shipped slice
    or from a province file in DATA_DIR (hub/demo_data by default)."""
    shipped = DATA / f"divisions-{county}.csv"
    if shipped.exists():
        source = shipped
    else:
        data_dir = Path(current_app.config["DATA_DIR"])
        source = next((p for p in sorted(data_dir.glob("divisions-*.csv"))
                       if any(line.startswith(county + ",") for line in p.open(encoding="utf-8"))),
                      None)
        if source is None:
            raise SystemExit(f"no division data for county {county} in {data_dir}")
    ancestors = {county[:2], county[:4]}
    with source.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle)
                if row["code"] in ancestors or row["code"].startswith(county)]


def seed_demo(county: str) -> DemoReport:
    """Load the county (with ancestors), its departments and people. Idempotent."""
    rows = division_rows(county)
    county_name = next(r["name"] for r in rows if r["code"] == county)
    report = DemoReport(county=f"{county_name}（{county}）")
    if db.session.scalar(select(User.id).where(User.login == "admin")) is not None:
        report.already_loaded = True
        return report

    units = _load_units(rows, county)
    report.units = len(units)
    password_hash = hash_password(DEMO_PASSWORD)   # one hash for the whole demo cast
    people = _cast_people(units, county, password_hash)
    db.session.add_all(people)
    db.session.flush()
    report.people = len(people)
    units_created.send(None)
    record_audit(None, "unit.imported", actor_login="(demo)", target_label=report.county,
                 after={"units": report.units, "people": report.people})
    db.session.commit()
    _demo_documents(units, county)
    seed_data_requests(county, {suffix: units[f"{county}-{suffix}"] for suffix, *_ in DEPARTMENTS})
    seed_week(county)
    return report


def _load_units(rows: list[dict[str, str]], county: str) -> dict[str, Unit]:
    units: dict[str, Unit] = {u.code: u for u in db.session.scalars(select(Unit))}
    order: dict[str, int] = {}

    def add(code: str, name: str, parent_code: str | None, kind: str) -> None:
        if code in units:
            return
        parent = units.get(parent_code) if parent_code else None
        order[parent_code or ""] = order.get(parent_code or "", 0) + 1
        unit = Unit(code=code, name=name, kind=kind, parent=parent,
                    sort_order=order[parent_code or ""])
        db.session.add(unit)
        db.session.flush()
        unit.path = (parent.path if parent else "/") + f"{unit.id}/"
        unit.depth = parent.depth + 1 if parent else 0
        units[code] = unit

    for row in sorted(rows, key=lambda r: len(r["code"])):
        if len(row["code"]) > 6:
            continue
        add(row["code"], row["name"], row["parent_code"] or None, row["level"])
        if row["code"] == county:
            units[county].doc_prefix = _doc_prefix(units[county], county, row["name"])
            for suffix, name, _, _ in DEPARTMENTS:
                add(f"{county}-{suffix}", _county_prefix(row["name"]) + name, county,
                    UnitKind.DEPARTMENT)
                units[f"{county}-{suffix}"].doc_prefix = _doc_prefix(units[f"{county}-{suffix}"], county,
                                                                     row["name"])
    for row in rows:   # towns before villages, each in file order
        if len(row["code"]) == 9:
            add(row["code"], row["name"], row["parent_code"], row["level"])
            units[row["code"]].doc_prefix = _doc_prefix(units[row["code"]], county, "")
    for row in rows:
        if len(row["code"]) == 12:
            add(row["code"], _village_name(row["name"]), row["parent_code"], row["level"])
    return units


def _village_name(name: str) -> str:
    """One way of writing a level: the statistics list names some communities
    "…社区" and others "…社区居委会"; the demo calls them all "…社区" (villages
    stay "…村委会", as the list has every one of them)."""
    return name.removesuffix("居委会") if name.endswith("社区居委会") else name


def _doc_prefix(unit: Unit, county: str, county_name: str) -> str | None:
    """A real-looking 发文机关代字: 柯政办发 for the office, 石梁政发 for a town."""
    if unit.code == county or unit.code.startswith(f"{county}-"):
        return county_name[0] + DOC_PREFIXES[unit.code[len(county) + 1:]]
    if unit.kind == UnitKind.TOWN:
        if unit.name.endswith("街道"):
            return unit.name[:-2][:4] + "街发"
        return unit.name[:-1][:4] + "政发"
    return None


def _county_prefix(county_name: str) -> str:
    # 区委办公室 under 柯城区 reads "柯城区委办公室"; 区教育局 reads "柯城区教育局".
    return county_name[:-1]


def _person(login: str, name: str, unit: Unit, position: str, password_hash: str,
            roles: tuple[tuple[str, Unit | None], ...] = ()) -> User:
    user = User(login=login, name=name, password_hash=password_hash)
    user.memberships.append(Membership(unit=unit, position=position, is_primary=True))
    for role, role_unit in roles:
        user.roles.append(RoleGrant(role=role, unit=role_unit))
    return user


def _cast_people(units: dict[str, Unit], county: str, password_hash: str) -> list[User]:
    names = _Names(county)
    top = units[county]
    office = units[f"{county}-D02"]
    people = [
        _person("admin", "系统管理员", office, "信息中心工程师", password_hash, ((Role.ADMIN, None),)),
        _person("county.admin", names.next(), units[f"{county}-D03"], "组织科科长", password_hash,
                ((Role.UNIT_ADMIN, top),)),
        _person("county.secretary", names.next(), top, "区委书记", password_hash, ((Role.LEADER, top),)),
        _person("county.head", names.next(), top, "区长", password_hash, ((Role.LEADER, top),)),
    ]
    for department in DEPARTMENTS:
        if department[0] not in LATER_DEPARTMENTS:
            people += _department_people(units, county, department, names, password_hash)
    # The other two of the three duties (三员分立), named like `admin`: not
    # drawn from the name generator, so everyone else keeps their demo name.
    people += [
        _person("security.admin", "安全管理员", units[f"{county}-D01"], "网络安全管理员", password_hash,
                ((Role.SECURITY_ADMIN, None),)),
        _person("auditor", "安全审计员", units[f"{county}-D01"], "安全审计员", password_hash,
                ((Role.AUDITOR, None),)),
    ]
    for code, unit in units.items():
        if unit.kind == UnitKind.TOWN and code.startswith(county):
            head = "街道办事处主任" if unit.name.endswith("街道") else (
                "乡长" if unit.name.endswith("乡") else "镇长")
            secretary = "街道党工委书记" if unit.name.endswith("街道") else "党委书记"
            people += [
                _person(f"{code}.sj", names.next(), unit, secretary, password_hash,
                        ((Role.LEADER, unit),)),
                _person(f"{code}.zz", names.next(), unit, head, password_hash,
                        ((Role.LEADER, unit),)),
                _person(f"{code}.ws", names.next(), unit, "党政办文书", password_hash,
                        ((Role.CLERK, unit),)),
                _person(f"{code}.zw", names.next(), unit, "组织委员", password_hash),
            ]
        elif unit.kind == UnitKind.VILLAGE:
            community = not unit.name.endswith(("村委会", "村民委员会"))
            people += [
                _person(f"{code}.sj", names.next(), unit,
                        "社区党组织书记" if community else "党支部书记", password_hash,
                        ((Role.LEADER, unit),)),
                _person(f"{code}.zr", names.next(), unit,
                        "居委会主任" if community else "村委会主任", password_hash),
            ]
    for department in DEPARTMENTS:
        if department[0] in LATER_DEPARTMENTS:
            people += _department_people(units, county, department, names, password_hash)
    return people


def _department_people(units: dict[str, Unit], county: str, department: tuple[str, str, str, str],
                       names: _Names, password_hash: str) -> list[User]:
    suffix, _, leader_position, clerk_position = department
    dept = units[f"{county}-{suffix}"]
    key = suffix.lower()
    people = [_person(f"{key}.leader", names.next(), dept, leader_position, password_hash,
                      ((Role.LEADER, dept),)),
              _person(f"{key}.clerk", names.next(), dept, clerk_position, password_hash,
                      ((Role.CLERK, dept),))]
    for n, position in enumerate(STAFF_POSITIONS[:2], start=1):
        people.append(_person(f"{key}.staff{n}", names.next(), dept, position, password_hash))
    return people


def _demo_documents(units: dict[str, Unit], county: str) -> None:
    """A few documents in realistic states, taken through the real steps so that
    their timelines are real: a 通知 dispatched to five towns (one has it
    instructed and handed out, two signed for it, two not yet), a town's 请示 the
    county office has signed for, and a draft waiting for the office's review."""
    from hub.documents import actions
    from hub.documents.actions import DocumentDraft

    def person(login: str) -> User:
        return db.session.scalar(select(User).where(User.login == login))

    towns = [u for code, u in units.items() if u.kind == UnitKind.TOWN and code.startswith(county)
             and not u.name.endswith("街道")][:5]
    office = units[f"{county}-D02"]
    if not towns:
        return
    clerk, leader = person("d02.clerk"), person("d02.leader")
    fire = actions.create_draft(clerk, DocumentDraft.from_json({
        "doc_type": "通知", "title": "关于做好2026年冬季森林防火工作的通知", "urgency": "加急",
        "main_recipients": [t.id for t in towns], "copy_recipients": [units[f"{county}-D08"].id],
        "notes": "联系人：区政府办公室，电话 0570-8888888",
        "body": "各乡镇人民政府，区应急管理局：\n\n入冬以来，我区降水偏少，森林火险等级持续偏高。"
                "为切实做好今冬明春森林防火工作，现将有关事项通知如下：\n一、压实防火责任。各乡镇要落实属地管理责任，"
                "于12月10日前完成辖区内森林火灾隐患排查。\n二、加强野外火源管控。……\n三、做好应急准备。……"}))
    actions.review(clerk, fire, comment="文字已核，格式符合要求。")
    actions.sign_off(leader, fire, comment="同意印发。")
    actions.assign_number(clerk, fire)
    actions.dispatch(clerk, fire)
    for n, town in enumerate(towns[:3]):
        town_clerk = person(f"{town.code}.ws")
        recipient = actions.recipient_for(town_clerk, fire, town.id)
        actions.sign_for(town_clerk, recipient)
        if n < 2:
            actions.register(town_clerk, recipient)
        if n == 0:
            secretary = person(f"{town.code}.sj")
            actions.propose(town_clerk, recipient,
                            comment=f"拟请{secretary.name}书记阅示，交组织委员牵头落实。")
            actions.instruct(secretary, recipient, comment="同意。请各村抓紧排查，12月10日前报结果。")
            actions.assign_handlers(town_clerk, recipient, [person(f"{town.code}.zw").id])
            actions.circulate(town_clerk, recipient, [person(f"{town.code}.zz").id])

    town = towns[0]
    town_clerk = person(f"{town.code}.ws")
    ask = actions.create_draft(town_clerk, DocumentDraft.from_json({
        "doc_type": "请示", "title": "关于申请拨付森林防火专项经费的请示", "main_recipients": [office.id],
        "body": f"区政府办公室：\n\n为做好今冬明春森林防火工作，{town.name}拟新建防火隔离带 12 公里、"
                "添置风力灭火机 20 台，共需经费 46 万元。妥否，请批示。"}))
    actions.review(town_clerk, ask)
    actions.sign_off(person(f"{town.code}.sj"), ask)
    actions.assign_number(town_clerk, ask)
    actions.dispatch(town_clerk, ask)
    actions.sign_for(clerk, actions.recipient_for(clerk, ask, office.id))

    actions.create_draft(person("d02.staff1"), DocumentDraft.from_json({
        "doc_type": "通知", "title": "关于开展岁末年初安全生产大检查的通知",
        "main_recipients": [t.id for t in towns], "copy_recipients": [units[f"{county}-D08"].id],
        "body": "各乡镇人民政府：\n\n为切实做好岁末年初安全生产工作，经区政府同意，"
                "决定在全区开展安全生产大检查。……"}))


def demo_logins() -> list[tuple[str, str]]:
    """A few demo accounts of different roles, for the start-up banner."""
    wanted = ["admin", "county.admin", "security.admin", "auditor", "d02.leader", "d02.clerk"]
    # A town clerk and leader, and a village (not a community) secretary.
    town = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.TOWN,
                                                Unit.name.like("%镇")).order_by(Unit.path))
    if town is not None:
        wanted += [f"{town.code}.sj", f"{town.code}.ws"]
        village = db.session.scalar(select(Unit).where(
            Unit.parent_id == town.id, Unit.name.like("%村委会")).order_by(Unit.sort_order))
        if village is not None:
            wanted += [f"{village.code}.sj", f"{village.code}.zr"]
    found = []
    for login in wanted:
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            continue
        membership = user.primary_membership
        label = f"{user.name} · {membership.unit.name} {membership.position}" if membership else user.name
        role = next((g.label for g in user.roles), "成员")
        found.append((login, f"{label}（{role}）"))
    return found
