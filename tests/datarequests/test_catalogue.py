"""The shared catalogue (数据目录): searched by a part of a name, added to with
the similar names shown, checked at the edge; naughty strings as field names
and as text values are kept exactly (by the rules of tests/badinput/fields.py)."""
from __future__ import annotations

import pytest

from hub.datarequests.catalogue import similarity
from hub.datarequests.models import NAME_MAX
from tests.badinput.fields import as_json, blns, exact, exercise, line
from tests.datarequests.conftest import TOWN, add_field, ok, send


def test_search_finds_a_part_of_a_chinese_name_and_pages(api):
    office = api("kc_clerk")
    for name in ("常住人口", "户籍人口", "耕地面积", "人口出生数"):
        add_field(office, name)
    found = ok(office.get("/api/v1/data/fields", query_string={"q": "人口"}))
    assert [f["name"] for f in found["items"]] == ["常住人口", "户籍人口", "人口出生数"]
    first = ok(office.get("/api/v1/data/fields", query_string={"q": "人口", "limit": 2}))
    assert len(first["items"]) == 2 and first["next"] == first["items"][-1]["id"]
    rest = ok(office.get("/api/v1/data/fields",
                         query_string={"q": "人口", "limit": 2, "after": first["next"]}))
    assert [f["name"] for f in rest["items"]] == ["人口出生数"] and rest["next"] is None
    assert ok(api("mp_director").get("/api/v1/data/fields?q=%25"))["items"] == []     # % is literal


def test_adding_a_field_names_the_similar_ones(api):
    office = api("kc_clerk")
    resident = add_field(office, "常住人口")
    answer = add_field(office, "常住人口数")
    assert answer["code"].startswith("F") and answer["owner_unit_name"] == "柯城区人民政府办公室"
    assert [f["id"] for f in answer["similar"]] == [resident["id"]]
    similar = add_field(api("sl_leader"), "常住 人口（人）")["similar"]
    assert [f["name"] for f in similar] == ["常住人口", "常住人口数"]
    assert add_field(office, "耕地面积", kind="number", unit_of_measure="亩")["similar"] == []


@pytest.mark.parametrize("a,b,alike", [("常住人口数", "常住人口", True), ("常住人口", "户籍人口", False),
                                       ("耕地面积", "常住人口", False), ("Population", "population ", True),
                                       ("人", "人口", False)])
def test_similarity(a, b, alike):
    assert (similarity(a, b) >= 0.5) is alike


@pytest.mark.parametrize("body,field", [
    ({"kind": "integer", "period_kind": "year"}, "name"),
    ({"name": "x", "kind": "money", "period_kind": "year"}, "kind"),
    ({"name": "x", "kind": "integer", "period_kind": "week"}, "period_kind"),
    ({"name": "x", "kind": "text", "period_kind": "year", "unit_of_measure": "人"}, "unit_of_measure"),
    ({"name": "x", "kind": "choice", "period_kind": "year", "choices": ["是"]}, "choices"),
    ({"name": "x", "kind": "choice", "period_kind": "year", "choices": ["是", "是"]}, "choices"),
    ({"name": "x", "kind": "choice", "period_kind": "year", "choices": "是,否"}, "choices"),
    ({"name": "x", "kind": "text", "period_kind": "year", "choices": ["是", "否"]}, "choices"),
    ({"name": "x", "kind": "text", "period_kind": "year", "code": "sys.people"}, "code"),
    ({"name": "x", "kind": "text", "period_kind": "year", "code": "F00001"}, "code"),
    ({"name": "x", "kind": "text", "period_kind": "year", "code": "编码"}, "code"),
])
def test_a_bad_field_is_a_400_naming_what_is_wrong(api, body, field):
    response = api("kc_clerk").post("/api/v1/data/fields", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_a_code_in_use_is_a_409(api):
    office = api("kc_clerk")
    add_field(office, code="POP-2026")
    again = office.post("/api/v1/data/fields", json={"name": "人口", "kind": "integer", "period_kind": "year",
                                                     "code": "POP-2026"})
    assert again.status_code == 409 and again.get_json()["error"]["field"] == "code"


def test_naughty_strings_as_field_names(api):
    office = api("kc_clerk")

    def send_name(values):
        return office.post("/api/v1/data/fields", **as_json({"name": values["name"], "kind": "text",
                                                              "period_kind": "once"}))

    tally = exercise(blns(), {"name": line(NAME_MAX)}, safe={"name": "名称"}, send=send_name,
                     read_back=lambda response: {"name": response.get_json()["name"]}, name="field name")
    tally.check()
    assert tally.stored > 400


def test_naughty_strings_as_text_values_are_stored_exactly(api, ids):
    office, clerk = api("kc_clerk"), api("sl_clerk")
    field = add_field(office, "备注", kind="text", period_kind="once")["id"]
    request_id = send(office, [field], {"units": [ids.unit(TOWN)]}, period="once")["id"]
    path = f"/api/v1/data/requests/{request_id}/units/{ids.unit(TOWN)}"
    version = [0]

    def send_value(values):
        body = {"values": {str(field): values["value"]}, "version": version[0]}
        response = clerk.put(path, **as_json(body))
        if response.status_code == 200:
            version[0] = response.get_json()["version"]
        return response

    def read_back(response):
        return {"value": response.get_json()["fields"][0]["value"]}

    strings = [s for s in blns() if s]              # "" is no answer: the field keeps its value
    tally = exercise(strings, {"value": exact}, safe={"value": "无"}, send=send_value, read_back=read_back,
                     name="text value", reread=lambda _: read_back(clerk.get(path)))
    tally.check()
    assert tally.stored == len(strings)
