"""A value that does not fit its field is a 400 naming the field; what fits is
stored once per (unit, field, period), with its history; a stale version is a
409 carrying the current values."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.datarequests.models import DataValue, DataValueHistory
from hub.datarequests.periods import parse_period
from hub.errors import InvalidInput
from hub.extensions import db
from tests.datarequests.conftest import TOWN, add_field, by_field, form, ok, send, submit


@pytest.fixture
def town_request(api, ids):
    """A request of the county office to 石梁镇 with one field of each kind; the
    town clerk's client, the request and the fields by kind."""
    office = api("kc_clerk")
    fields = {
        "integer": add_field(office, "常住人口"),
        "number": add_field(office, "耕地面积", kind="number", unit_of_measure="亩"),
        "text": add_field(office, "主要产业", kind="text"),
        "date": add_field(office, "换届日期", kind="date"),
        "choice": add_field(office, "是否通燃气", kind="choice", choices=["是", "否", "部分"]),
    }
    sent = send(office, [f["id"] for f in fields.values()], {"units": [ids.unit(TOWN)]})
    return api("sl_clerk"), sent["id"], {kind: f["id"] for kind, f in fields.items()}


GOOD = {"integer": 23150, "number": 1234.5, "text": "茶叶、柑橘", "date": "2026-03-15", "choice": "部分"}

BAD = [
    ("integer", "十二"), ("integer", "1,2"), ("integer", "NaN"), ("integer", -3), ("integer", 12.5),
    ("integer", True), ("integer", "1e3"), ("integer", "１２"), ("integer", [12]),
    ("number", "NaN"), ("number", "Infinity"), ("number", "1,5"), ("number", "3.5亩"), ("number", 10**15),
    ("number", False), ("number", {"v": 1}),
    ("text", 12), ("text", "字" * 2001),
    ("date", "2026-02-30"), ("date", "2026-13-01"), ("date", "20260315"), ("date", "2026/03/15"),
    ("date", 20260315),
    ("choice", "是的"), ("choice", " 是"), ("choice", 1),
]


@pytest.mark.parametrize("kind,value", BAD, ids=[f"{k}-{v!r}"[:40] for k, v in BAD])
def test_a_value_that_does_not_fit_is_a_400_naming_the_field(town_request, ids, kind, value):
    clerk, request_id, fields = town_request
    values = {**{fields[k]: v for k, v in GOOD.items()}, fields[kind]: value}
    answer = submit(clerk, request_id, ids.unit(TOWN), values, 0, status=400)
    assert answer["error"]["field"] == f"values.{fields[kind]}"
    assert form(clerk, request_id, ids.unit(TOWN))["version"] == 0           # nothing stored


def test_an_infinite_number_in_the_json_is_a_400(town_request, ids):
    """1e309 parses to infinity: refused by the field, not stored as Infinity."""
    clerk, request_id, fields = town_request
    body = ('{"version": 0, "values": {"%d": 1e309, "%d": 1, "%d": "x", "%d": "2026-01-01", "%d": "是"}}'
            % (fields["number"], fields["integer"], fields["text"], fields["date"], fields["choice"]))
    response = clerk.put(f"/api/v1/data/requests/{request_id}/units/{ids.unit(TOWN)}", data=body,
                         content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == f"values.{fields['number']}"


def test_values_are_stored_typed_with_their_history(app, town_request, ids):
    clerk, request_id, fields = town_request
    town = ids.unit(TOWN)
    values = {fields[k]: v for k, v in GOOD.items()} | {fields["integer"]: "23150"}
    first = submit(clerk, request_id, town, values, 0)
    assert {f["kind"]: f["value"] for f in first["fields"]} == GOOD
    assert first["version"] == 1
    second = submit(clerk, request_id, town, {fields["integer"]: 23201}, 1)  # the others stay held
    assert second["version"] == 2 and by_field(second)[fields["text"]]["value"] == "茶叶、柑橘"
    population = by_field(second)[fields["integer"]]
    assert population["value"] == 23201 and population["source"]["version"] == 2
    with app.app_context():
        held = db.session.scalars(select(DataValue).where(DataValue.unit_id == town)).all()
        assert len(held) == 5 and {v.period for v in held} == {"2026"}
        history = db.session.scalars(select(DataValueHistory.value).where(
            DataValueHistory.field_id == fields["integer"]).order_by(DataValueHistory.version)).all()
        assert history == [23150, 23201]


def test_every_field_must_hold_a_value_after_a_submit(town_request, ids):
    clerk, request_id, fields = town_request
    partial = {fields[k]: v for k, v in GOOD.items() if k != "date"}
    answer = submit(clerk, request_id, ids.unit(TOWN), partial, 0, status=400)
    assert answer["error"]["field"] == f"values.{fields['date']}"
    unknown = submit(clerk, request_id, ids.unit(TOWN), {**partial, fields["date"]: "2026-01-01", 999999: 1},
                     0, status=400)
    assert unknown["error"]["field"] == "values.999999"
    for version in (-1, "1", None, True, 1.0):
        bad = clerk.put(f"/api/v1/data/requests/{request_id}/units/{ids.unit(TOWN)}",
                        json={"values": {}, "version": version})
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "version"


def test_a_stale_version_is_a_409_with_the_current_values(api, town_request, ids):
    clerk, request_id, fields = town_request
    town = ids.unit(TOWN)
    assert form(clerk, request_id, town)["version"] == 0
    submit(clerk, request_id, town, {fields[k]: v for k, v in GOOD.items()}, 0)
    stale = submit(clerk, request_id, town, {fields["integer"]: 1}, 0, status=409)
    assert stale["error"]["code"] == "stale_version"
    assert stale["current"]["version"] == 1
    assert by_field(stale["current"])[fields["integer"]]["value"] == GOOD["integer"]
    assert submit(clerk, request_id, town, {fields["integer"]: 1}, 5, status=409)["current"]["version"] == 1


def test_a_closed_request_takes_no_more_answers(api, town_request, ids):
    clerk, request_id, fields = town_request
    ok(api("kc_clerk").post(f"/api/v1/data/requests/{request_id}/close"))
    answer = submit(clerk, request_id, ids.unit(TOWN), {fields[k]: v for k, v in GOOD.items()}, 0, status=409)
    assert answer["error"]["code"] == "conflict"


@pytest.mark.parametrize("text,kind", [("2026-11", "month"), ("2026-Q4", "quarter"), ("2026-q1", "quarter"),
                                       ("2026", "year"), ("once", "once"), (" 2026 ", "year")])
def test_periods_are_parsed(text, kind):
    assert parse_period(text).kind == kind


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "2026-Q0", "2026年", "26-11", "2026-1",
                                  "1800", "2026-11-01", "ONCE", "", None, 2026, "２０２６"])
def test_bad_periods_are_refused(text):
    with pytest.raises(InvalidInput) as refused:
        parse_period(text)
    assert refused.value.field == "period"


def test_a_field_must_fit_the_requests_period(api, ids):
    office = api("kc_clerk")
    monthly = add_field(office, "新增就业人数", period_kind="month")["id"]
    once = add_field(office, "村级组织成立日期", kind="date", period_kind="once")["id"]
    body = {"title": "月报", "purpose": "就业监测", "fields": [monthly, once], "deadline": "2099-01-01",
            "audience": {"units": [ids.unit(TOWN)]}}
    for period in ("2026", "2026-Q4", "once"):
        refused = office.post("/api/v1/data/requests", json={**body, "period": period})
        assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "fields", period
    sent = ok(office.post("/api/v1/data/requests", json={**body, "period": "2026-11"}), 201)
    answer = form(api("sl_clerk"), sent["id"], ids.unit(TOWN))
    periods = {f["field_id"]: f["period"] for f in answer["fields"]}
    assert periods == {monthly: "2026-11", once: "once"}
