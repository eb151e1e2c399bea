"""Helpers for the data request tests: a second department (柯城区统计局 with its
clerk), a leader for 麻蓬村 (which has no clerk) and small API shortcuts."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.org.models import Membership, RoleGrant, Unit, User

TOWN, VILLAGE, COUNTY, OFFICE = "330802100", "330802100202", "330802", "330802-GOV"
BUREAU = "330802-TJJ"
DEADLINE = (date.today() + timedelta(days=10)).isoformat()


@pytest.fixture
def bureau(app) -> str:
    """柯城区统计局, a second department of 柯城区, with its clerk `tj_clerk`; returns the login."""
    with app.app_context():
        county = db.session.scalar(select(Unit).where(Unit.code == COUNTY))
        unit = Unit(code=BUREAU, name="柯城区统计局", kind="department", parent=county, sort_order=99)
        db.session.add(unit)
        db.session.flush()
        unit.path, unit.depth = county.path + f"{unit.id}/", county.depth + 1
        hashed = db.session.scalar(select(User.password_hash).where(User.login == "kc_clerk"))
        clerk = User(login="tj_clerk", name="孙统计", password_hash=hashed)
        clerk.memberships.append(Membership(unit=unit, position="统计员", is_primary=True))
        clerk.roles.append(RoleGrant(role="clerk", unit=unit))
        db.session.add(clerk)
        db.session.commit()
    return "tj_clerk"


@pytest.fixture
def village_leader(app) -> str:
    """麻蓬村's 党支部书记 made the village's leader (it has no clerk, so he answers its forms)."""
    with app.app_context():
        village = db.session.scalar(select(Unit).where(Unit.code == VILLAGE))
        person = db.session.scalar(select(User).where(User.login == "mp_secretary"))
        person.roles.append(RoleGrant(role="leader", unit=village))
        db.session.commit()
    return "mp_secretary"


def ok(response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.get_json(silent=True))
    return response.get_json()


def add_field(person, name: str = "常住人口", kind: str = "integer", period_kind: str = "year",
              **extra: Any) -> dict:
    body = {"name": name, "kind": kind, "period_kind": period_kind, **extra}
    if kind in ("integer", "number") and "unit_of_measure" not in extra:
        body["unit_of_measure"] = "人"
    return ok(person.post("/api/v1/data/fields", json=body), 201)


def request_body(fields: list[int], audience: dict, period: str = "2026", **extra: Any) -> dict:
    return {"title": "关于报送2026年人口数据的通知", "purpose": "编制年度统计公报", "fields": fields,
            "audience": audience, "period": period, "deadline": DEADLINE, **extra}


def send(person, fields: list[int], audience: dict, period: str = "2026", status: int = 201,
         **extra: Any) -> dict:
    return ok(person.post("/api/v1/data/requests", json=request_body(fields, audience, period, **extra)),
              status)


def form(person, request_id: int, unit_id: int) -> dict:
    return ok(person.get(f"/api/v1/data/requests/{request_id}/units/{unit_id}"))


def submit(person, request_id: int, unit_id: int, values: dict, version: int, status: int = 200) -> dict:
    return ok(person.put(f"/api/v1/data/requests/{request_id}/units/{unit_id}",
                         json={"values": {str(k): v for k, v in values.items()}, "version": version}), status)


def by_field(answer: dict) -> dict[int, dict]:
    return {f["field_id"]: f for f in answer["fields"]}
