"""The demo: a real county, its departments and a plausible, deterministic cast."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub import create_app
from hub.demo import DEMO_PASSWORD, demo_logins, seed_demo
from hub.extensions import db
from hub.migrate import upgrade
from hub.org.models import Membership, Unit, UnitKind, User
from tests.conftest import base_config


def fresh_app(tmp_path, name: str):
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / name}"))
    upgrade(app)
    return app


def cast_of(app) -> list[tuple[str, str]]:
    with app.app_context():
        return list(db.session.execute(select(User.login, User.name).order_by(User.login)))


def figures_of(app) -> list[tuple]:
    from hub.datarequests.models import DataField, DataValue
    with app.app_context():
        return [(code, field, period, repr(value)) for code, field, period, value in db.session.execute(
            select(Unit.code, DataField.code, DataValue.period, DataValue.value)
            .join(Unit, Unit.id == DataValue.unit_id).join(DataField, DataField.id == DataValue.field_id)
            .order_by(Unit.code, DataField.code, DataValue.period))]


def test_demo_loads_kecheng_with_plausible_people(tmp_path):
    app = fresh_app(tmp_path, "demo.db")
    with app.app_context():
        report = seed_demo("330802")
        assert report.units > 300 and report.people > 600
        county = db.session.scalar(select(Unit).where(Unit.code == "330802"))
        assert county.name == "柯城区"
        assert [u.name for u in db.session.scalars(select(Unit).where(Unit.depth == 0))] == ["浙江省"]
        village = db.session.scalar(select(Unit).where(Unit.code == "330802100202"))
        positions = set(db.session.scalars(select(Membership.position)
                                           .where(Membership.unit_id == village.id)))
        assert positions == {"党支部书记", "村委会主任"}
        names = set(db.session.scalars(select(Unit.name).where(Unit.kind == UnitKind.VILLAGE)))
        assert not {n for n in names if n.endswith("居委会")}              # one way per level
        assert all(n.endswith(("村委会", "社区")) for n in names), sorted(names)[:5]
        town = db.session.scalar(select(Unit).where(Unit.code == "330802100"))
        town_positions = set(db.session.scalars(select(Membership.position)
                                                .where(Membership.unit_id == town.id)))
        assert {"党委书记", "镇长", "党政办文书"} <= town_positions
        departments = db.session.scalar(select(func.count()).select_from(Unit)
                                        .where(Unit.kind == UnitKind.DEPARTMENT))
        assert departments == 10
        assert seed_demo("330802").already_loaded
        logins = dict(demo_logins())
        assert list(logins)[:4] == ["admin", "county.admin", "security.admin", "auditor"]
        assert "（安全管理员）" in logins["security.admin"] and "（安全审计员）" in logins["auditor"]
        duties = {login: {g.role for g in db.session.scalar(select(User).where(User.login == login)).roles}
                  for login in ("admin", "security.admin", "auditor")}
        assert duties == {"admin": {"admin"}, "security.admin": {"security_admin"}, "auditor": {"auditor"}}
    response = app.test_client().post("/api/v1/auth/token",
                                      json={"login": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 200


def test_demo_holds_figures_and_two_open_requests_one_overlapping(tmp_path):
    """The demo's data requests: a catalogue of real figures, values held for
    last year and last quarter, 区民政局's request and 区农业农村局's overlapping
    one (with its reason), each with units submitted, complete and pending; 麻蓬村's
    党支部书记 (a demo login) finds one to answer, pre-filled."""
    from hub.datarequests import queries
    from hub.datarequests.models import DataField, DataRequest, DataValue
    from hub.demo_datarequests import last_quarter
    from hub.times import beijing_today

    app = fresh_app(tmp_path, "demo.db")
    with app.app_context():
        seed_demo("330802")
        names = set(db.session.scalars(select(DataField.name).where(DataField.system.is_(False))))
        assert len(names) >= 20 and {"常住人口", "户籍人口", "耕地面积", "低保户数", "专职网格员人数",
                                     "村集体经济总收入", "村委会成立日期"} <= names
        today = beijing_today()
        periods = dict(db.session.execute(select(DataValue.period, func.count())
                                          .group_by(DataValue.period)).all())
        assert periods[str(today.year - 1)] > 2000 and periods[last_quarter(today)] > 500
        assert periods["once"] > 500
        civil, agriculture = db.session.scalars(select(DataRequest).order_by(DataRequest.id)).all()
        assert civil.unit.name == "柯城区民政局" and agriculture.unit.name == "柯城区农业农村局"
        assert civil.overlap_reason is None and "民政局" in agriculture.overlap_reason
        for request in (civil, agriculture):
            status = queries.status_report(request)
            assert status["submitted"] > 3 and status["complete"] > 20 and status["pending"] > 3, status
        clerk = db.session.scalar(select(User).where(User.login == "330802100202.sj"))
        inbox = queries.inbox_data_requests(clerk, limit=10)
        assert [(item["title"], item["read"]) for item in inbox] == [(agriculture.title, False)]
        village = db.session.scalar(select(Unit).where(Unit.code == "330802100202"))
        form = queries.unit_form(agriculture, village)
        held = [f for f in form["fields"] if f["value"] is not None]
        assert form["status"] == "pending" and len(held) == len(form["fields"]) - 1
        assert all(f["source"]["via"] == "import" for f in held)
        # A figure a village typed for 区民政局 is held for 区农业农村局: nobody types it again.
        answered = [db.session.get(Unit, row["unit_id"]) for row in queries.unit_states(agriculture)
                    if row["status"] != "pending"]
        assert any(f["source"] and f["source"]["request_id"] == civil.id
                   for unit in answered for f in queries.unit_form(agriculture, unit)["fields"])


def test_demo_cast_is_the_same_every_time(tmp_path):
    first, second = fresh_app(tmp_path, "a.db"), fresh_app(tmp_path, "b.db")
    for app in (first, second):
        with app.app_context():
            seed_demo("330802")
    assert cast_of(first) == cast_of(second)
    assert figures_of(first) == figures_of(second) and len(figures_of(first)) > 5000


def test_first_start_loads_the_demo_once_and_prints_url_and_logins(tmp_path):
    from hub.startup import first_start
    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'start.db'}"), "DEMO": True,
              "DEMO_COUNTY": "330802"}
    banner = first_start(bind="0.0.0.0:5000", config=config)
    assert "http://127.0.0.1:5000/" in banner and "柯城区" in banner
    assert "admin" in banner and DEMO_PASSWORD in banner
    again = first_start(bind="127.0.0.1:5000", config=config)
    assert "已加载演示数据" not in again


def test_first_start_without_demo_stays_empty(tmp_path):
    from hub.startup import first_start
    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}"), "DEMO": False}
    banner = first_start(bind="127.0.0.1:5000", config=config)
    assert "演示账号" not in banner
    app = create_app(config)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def _first_start(n: int, config: dict) -> str:
    from hub.startup import first_start
    return first_start(bind=f"127.0.0.1:{5000 + n}", config=config)


def test_processes_starting_together_on_postgresql_take_turns(backend, request, tmp_path):
    """Three hub processes' first start on one empty PostgreSQL database: one
    migrates and loads the demo, the others wait and find it done."""
    if backend != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite serves one process")
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    uri = request.getfixturevalue("pg_server").create_database("hub_startup_race")
    config = {**base_config(tmp_path, uri), "DEMO": True, "DEMO_COUNTY": "330802"}
    # Real processes, as gunicorn starts them (threads would also trip CPython 3.11's
    # "AST constructor recursion depth mismatch" when three apps compile their routes at once).
    pool = ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn"))
    try:     # without the lock the starts deadlock on each other's DDL: fail, don't hang
        banners = list(pool.map(_first_start, range(3), [config] * 3, timeout=180))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert sum("柯城区" in banner and "演示账号" in banner for banner in banners) == 3
    app = create_app(config)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "330802")) == 1
        db.engine.dispose()


def test_the_village_secretary_finds_a_lived_in_week(tmp_path):
    """The first sign-in is not an empty inbox (issue 16): notices read and unread
    (one to acknowledge), channel talk under a topic with a mention, a task channel
    near its end, and the data request waiting."""
    from hub.inbox.queries import inbox_page
    app = fresh_app(tmp_path, "week.db")
    with app.app_context():
        seed_demo("330802")
        secretary = db.session.scalar(select(User).where(User.login == "330802100202.sj"))
        page = inbox_page(secretary, limit=30)
        kinds = [(i["kind"], i["read"]) for i in page["items"]]
        assert kinds.count(("notice", False)) == 2 and kinds.count(("notice", True)) == 1
        assert ("mention", False) in kinds and ("data_request", False) in kinds
        assert any(i["kind"] == "notice" and i.get("requires_ack") for i in page["items"])
        from hub.channels.models import Channel, ChannelKind, Message
        task = db.session.scalar(select(Channel).where(Channel.kind == ChannelKind.TASK,
                                                       Channel.name == "冬季森林防火巡查"))
        assert task.state == "active" and task.ends_on is not None
        topics = set(db.session.scalars(select(Message.topic).where(Message.topic == "防火巡查")))
        assert topics == {"防火巡查"}

