"""The story of "Collect once" (DESIGN.md principle 7): the county office asks
石梁镇 and 麻蓬村 for their 2026 resident population; they answer once. When the
statistics bureau later asks for the same figure, the preview flags the open
request, and once sent the units are complete without anyone typing again —
in the API, in the inbox and in the export."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.datarequests.conftest import (TOWN, VILLAGE, add_field, by_field, form, ok, request_body, send,
                                         submit)


def _inbox(person, **query) -> list[dict]:
    items = ok(person.get("/api/v1/inbox", query_string=query))["items"]
    return [i for i in items if i["kind"] == "data_request"]


def test_a_figure_held_once_is_reused_by_a_second_department(api, ids, bureau, village_leader):
    office, town_clerk, village = api("kc_clerk"), api("sl_clerk"), api(village_leader)
    town, village_id = ids.unit(TOWN), ids.unit(VILLAGE)
    population = add_field(office)["id"]
    households = add_field(office, "户籍户数", unit_of_measure="户")["id"]
    audience = {"subtrees": [town]}

    # Before sending: two units asked, nothing held, nothing overlapping.
    preview = ok(office.post("/api/v1/data/requests/preview", json={
        "fields": [population, households], "audience": audience, "period": "2026"}))
    assert preview["units"] == 2 and preview["complete_units"] == 0 and preview["overlaps"] == []
    assert [(f["field_id"], f["held"]) for f in preview["fields"]] == [(population, 0), (households, 0)]

    first = send(office, [population, households], audience)
    assert (first["units"], first["complete_units"]) == (2, 0)
    assert [i["id"] for i in _inbox(town_clerk, unread="1")] == [first["id"]]

    # The town's clerk and the village's leader answer once.
    blank = form(town_clerk, first["id"], town)
    assert (blank["version"], blank["status"]) == (0, "pending")
    assert all(f["value"] is None and f["source"] is None for f in blank["fields"])
    answered = submit(town_clerk, first["id"], town, {population: 23150, households: 8120}, 0)
    assert (answered["version"], answered["status"]) == (1, "submitted")
    submit(village, first["id"], village_id, {population: 1630, households: 512}, 0)
    assert _inbox(town_clerk, unread="1") == [] and _inbox(town_clerk)[0]["read"] is True

    # The statistics bureau asks for the population again: the open request is flagged.
    statistics = api(bureau)
    preview = ok(statistics.post("/api/v1/data/requests/preview",
                                 json={"fields": [population], "audience": audience, "period": "2026"}))
    assert preview["complete_units"] == 2 and preview["fields"][0]["held"] == 2
    assert [(o["request_id"], o["fields"]) for o in preview["overlaps"]] == [(first["id"], [population])]
    refused = statistics.post("/api/v1/data/requests", json=request_body([population], audience))
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "overlap"
    assert [o["request_id"] for o in refused.get_json()["overlaps"]] == [first["id"]]

    # With a reason it goes out — and nobody is asked: every unit holds the figure.
    second = send(statistics, [population], audience, overlap_reason="统计公报需单独留存报送记录")
    assert (second["units"], second["complete_units"]) == (2, 2)
    assert [i["id"] for i in _inbox(town_clerk)] == [first["id"]]
    prefilled = by_field(form(town_clerk, second["id"], town))[population]
    assert prefilled["value"] == 23150
    assert prefilled["source"]["request_id"] == first["id"] and prefilled["source"]["period"] == "2026"
    assert form(statistics, second["id"], village_id)["status"] == "complete"
    status = ok(statistics.get(f"/api/v1/data/requests/{second['id']}/status"))
    assert (status["units"], status["submitted"], status["complete"], status["pending"]) == (2, 0, 2, 0)

    # The export carries the held figures though nobody typed them for this request.
    export = statistics.get(f"/api/v1/data/requests/{second['id']}/export")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("单位编码", "单位", "状态", "常住人口（人）")
    assert rows[1:] == [(TOWN, "石梁镇", "已有数据", 23150), (VILLAGE, "麻蓬村委会", "已有数据", 1630)]


def test_a_closed_request_no_longer_counts_as_open(api, ids, bureau):
    office, statistics = api("kc_clerk"), api(bureau)
    population = add_field(office)["id"]
    audience = {"units": [ids.unit(TOWN)]}
    first = send(office, [population], audience)
    send(statistics, [population], audience, status=409)
    closed = ok(office.post(f"/api/v1/data/requests/{first['id']}/close"))
    assert closed["closed"] is True
    assert send(statistics, [population], audience)["complete_units"] == 0


def test_a_different_period_or_units_do_not_overlap(api, ids, bureau):
    office, statistics = api("kc_clerk"), api(bureau)
    monthly = add_field(office, "新增就业人数", period_kind="month")["id"]
    send(office, [monthly], {"units": [ids.unit(TOWN)]}, period="2026-11")
    assert send(statistics, [monthly], {"units": [ids.unit(TOWN)]}, period="2026-12")["units"] == 1
    assert send(statistics, [monthly], {"units": [ids.unit("330803100")]}, period="2026-11",
                status=403)["error"]["field"] == "audience"          # 衢江区 is beyond 柯城区's reach
    assert send(statistics, [monthly], {"units": [ids.unit(VILLAGE)]}, period="2026-11")["units"] == 1
    # The village lies in the town's subtree asked before: a subtree meets the units below it.
    overlapping = ok(statistics.post("/api/v1/data/requests/preview", json={
        "fields": [monthly], "audience": {"subtrees": [ids.unit(TOWN)]}, "period": "2026-11"}))
    assert len(overlapping["overlaps"]) == 2


def test_system_fields_are_answered_by_hub_and_never_asked(api, ids):
    office, clerk = api("kc_clerk"), api("sl_clerk")
    catalogue = ok(office.get("/api/v1/data/fields", query_string={"q": "人数"}))["items"]
    people = next(f for f in catalogue if f["code"] == "sys.people")
    assert people["system"] is True and people["period_kind"] == "once"
    system = ok(office.get("/api/v1/data/fields?q=sys."))["items"]
    sub_units = next(f for f in system if f["code"] == "sys.sub_units")
    only_system = office.post("/api/v1/data/requests",
                              json=request_body([people["id"]], {"units": [ids.unit(TOWN)]}))
    assert only_system.status_code == 400 and only_system.get_json()["error"]["field"] == "fields"

    area = add_field(office, "耕地面积", kind="number", unit_of_measure="亩")["id"]
    sent = send(office, [people["id"], sub_units["id"], area], {"units": [ids.unit(TOWN)]})
    fields = by_field(form(clerk, sent["id"], ids.unit(TOWN)))
    assert fields[people["id"]]["value"] == 2                 # 周晓梅 and 徐志强
    assert fields[sub_units["id"]]["value"] == 1              # 麻蓬村
    assert fields[people["id"]]["source"]["via"] == "system"
    refused = clerk.put(f"/api/v1/data/requests/{sent['id']}/units/{ids.unit(TOWN)}",
                        json={"values": {str(people["id"]): 5, str(area): 3.5}, "version": 0})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == f"values.{people['id']}"
    done = submit(clerk, sent["id"], ids.unit(TOWN), {area: "1234.5"}, 0)
    assert by_field(done)[area]["value"] == 1234.5
