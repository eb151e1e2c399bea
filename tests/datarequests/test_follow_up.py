"""Following a request up without burdening anyone: the inbox of the units
asked (their clerks; leaders where there is no clerk), one reminder per 4 hours
to the pending units only, 重复/不必要 marks counted, and a status with no times
and nothing ranked."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from hub.datarequests.models import DataRequest
from hub.db import utcnow
from hub.extensions import db
from tests.datarequests.conftest import TOWN, VILLAGE, add_field, ok, send, submit
from tests.factories import connect
from tests.test_no_rankings import banned_keys


def _data_items(person, **query) -> list[dict]:
    items = ok(person.get("/api/v1/inbox", query_string=query))["items"]
    return [i for i in items if i["kind"] == "data_request"]


def test_the_inbox_of_the_units_asked(api, ids, village_leader):
    office = api("kc_clerk")
    field = add_field(office)["id"]
    request_id = send(office, [field], {"subtrees": [ids.unit(TOWN)]})["id"]
    town_clerk, town_leader, village = api("sl_clerk"), api("sl_leader"), api(village_leader)
    before = ok(town_clerk.get("/api/v1/inbox"))
    assert before["data_requests_waiting"] == 1
    item = _data_items(town_clerk)[0]
    assert (item["id"], item["read"], item["units"]) == (
        request_id, False, [{"unit_id": ids.unit(TOWN), "name": "石梁镇", "status": "pending"}])
    assert item["from"]["unit_name"] == "柯城区人民政府办公室" and item["period"] == "2026"
    assert _data_items(town_leader) == []                    # the town has a clerk: the leader is not asked
    assert [i["id"] for i in _data_items(village, kind="data_request")] == [request_id]
    assert _data_items(api("mp_director")) == [] and _data_items(office) == []
    submit(town_clerk, request_id, ids.unit(TOWN), {field: 5}, 0)
    after = ok(town_clerk.get("/api/v1/inbox"))
    assert after["unread"] == before["unread"] - 1 and after["data_requests_waiting"] == 0
    assert [i["read"] for i in _data_items(town_clerk)] == [True]
    assert _data_items(town_clerk, unread="1") == []
    assert [i["id"] for i in _data_items(town_clerk, order="unread_first")] == [request_id]
    shown = ok(town_clerk.get(f"/api/v1/data/requests/{request_id}"))
    assert shown["my_units"] == [{"unit_id": ids.unit(TOWN), "name": "石梁镇", "status": "submitted"}]
    assert shown["requesting_side"] is False


def test_sending_pushes_the_item_to_the_clerks_of_the_units_still_to_answer(app, api, ids):
    office = api("kc_clerk")
    field = add_field(office)["id"]
    clerk, leader = connect(app, "sl_clerk"), connect(app, "sl_leader")
    request_id = send(office, [field], {"units": [ids.unit(TOWN)]})["id"]
    pushed = [e["args"][0] for e in clerk.get_received() if e["name"] == "data_request"]
    assert [p["id"] for p in pushed] == [request_id]
    assert [e for e in leader.get_received() if e["name"] == "data_request"] == []
    submit(api("sl_clerk"), request_id, ids.unit(TOWN), {field: 5}, 0)
    # Asked again for the same figure: the town is complete, nobody is pushed anything.
    second = send(office, [field], {"units": [ids.unit(TOWN)]}, overlap_reason="复核")
    assert second["complete_units"] == 1
    assert [e for e in clerk.get_received() if e["name"] == "data_request"] == []
    clerk.disconnect()
    leader.disconnect()


def test_one_reminder_per_four_hours_to_the_pending_units(app, api, ids, village_leader):
    office = api("kc_clerk")
    field = add_field(office)["id"]
    request_id = send(office, [field], {"subtrees": [ids.unit(TOWN)]})["id"]
    submit(api("sl_clerk"), request_id, ids.unit(TOWN), {field: 5}, 0)
    town, village = connect(app, "sl_clerk"), connect(app, village_leader)
    path = f"/api/v1/data/requests/{request_id}/remind"
    assert ok(office.post(path)) == {"reminded": 1}
    assert [e["name"] for e in village.get_received()] == ["reminder"]
    assert town.get_received() == []                       # the town has answered
    again = office.post(path)
    assert again.status_code == 429 and again.get_json()["error"]["code"] == "too_soon"
    with app.app_context():
        earlier = utcnow() - timedelta(hours=4, minutes=1)
        db.session.execute(update(DataRequest).values(last_reminded_at=earlier))
        db.session.commit()
    assert ok(office.post(path)) == {"reminded": 1}
    submit(api(village_leader), request_id, ids.unit(VILLAGE), {field: 6}, 0)
    with app.app_context():
        db.session.execute(update(DataRequest).values(last_reminded_at=None))
        db.session.commit()
    assert office.post(path).status_code == 409              # nobody pending
    town.disconnect()
    village.disconnect()


def test_duplicate_and_unnecessary_marks_are_counted_once_per_unit(api, ids, village_leader):
    office = api("kc_clerk")
    field = add_field(office)["id"]
    request_id = send(office, [field], {"subtrees": [ids.unit(TOWN)]})["id"]
    town_path = f"/api/v1/data/requests/{request_id}/units/{ids.unit(TOWN)}/feedback"
    village_path = f"/api/v1/data/requests/{request_id}/units/{ids.unit(VILLAGE)}/feedback"
    assert ok(api("sl_clerk").post(town_path, json={"kind": "duplicate"})) == {"received": True}
    assert api("sl_leader").post(town_path, json={"kind": "unnecessary"}).status_code == 409
    assert api("sl_clerk").post(village_path, json={"kind": "duplicate"}).status_code == 403
    assert api(village_leader).post(village_path, json={"kind": "sure"}).status_code == 400
    ok(api(village_leader).post(village_path, json={"kind": "unnecessary"}))
    status = ok(office.get(f"/api/v1/data/requests/{request_id}/status"))
    assert status["feedback"] == {"duplicate": 1, "unnecessary": 1}


def test_the_status_has_no_times_and_stays_in_tree_order(api, ids, village_leader):
    office = api("kc_clerk")
    field = add_field(office)["id"]
    request_id = send(office, [field], {"subtrees": [ids.unit(TOWN)]})["id"]
    submit(api(village_leader), request_id, ids.unit(VILLAGE), {field: 6}, 0)     # the village first
    status = ok(office.get(f"/api/v1/data/requests/{request_id}/status"))
    assert [r["name"] for r in status["by_unit"]] == ["石梁镇", "麻蓬村委会"]
    assert banned_keys(status) == []
    keys = {k for row in status["by_unit"] for k in row} | set(status)
    assert not [k for k in keys if k.endswith("_at") or "time" in k]


def test_the_sender_burden_view_counts_what_requesting_units_ask(client, login, api, ids, village_leader):
    office = api("kc_clerk")
    population = add_field(office)["id"]
    first = send(office, [population], {"subtrees": [ids.unit(TOWN)]})["id"]
    submit(api(village_leader), first, ids.unit(VILLAGE), {population: 3}, 0)
    send(office, [population], {"units": [ids.unit(VILLAGE)]}, overlap_reason="复核")    # held: nobody asked
    burden = ok(api("admin").get("/api/v1/burden"))
    office_row = next(i for i in burden["items"] if i["code"] == "330802-GOV")
    this_month = office_row["months"][-1]
    assert (this_month["data_requests"], this_month["data_units_asked"]) == (2, 2)
    assert banned_keys(burden) == []
    login("admin")
    html = client.get("/admin/burden").get_data(as_text=True)
    assert "要求填报的单位" in html


def test_the_sender_burden_view_counts_fields_held_answers_overlaps_and_files(client, login, api, ids,
                                                                             village_leader):
    """Fields asked, answers supplied from held values instead of asked, overlaps
    sent with a reason and file fields asked, per requesting unit and month."""
    office = api("kc_clerk")
    people = add_field(office)["id"]
    area = add_field(office, "耕地面积", kind="number", unit_of_measure="亩")["id"]
    photo = add_field(office, "现场照片", kind="file", period_kind="year")["id"]
    town, village = ids.unit(TOWN), ids.unit(VILLAGE)
    first = send(office, [people, area], {"subtrees": [town]})["id"]             # 2 fields, nothing held
    submit(api(village_leader), first, village, {people: 1630, area: 812.5}, 0)
    submit(api("sl_clerk"), first, town, {people: 23150, area: 1234}, 0)
    # Asked again with a photo: the 4 figures are held (2 units × 2 fields), the photo is not.
    send(office, [people, area, photo], {"subtrees": [town]}, overlap_reason="复核",
         evidence_reason="核实现场")
    month = next(i for i in ok(api("admin").get("/api/v1/burden"))["items"]
                 if i["code"] == "330802-GOV")["months"][-1]
    assert {key: month[key] for key in ("data_requests", "data_fields_asked", "data_answers_held",
                                        "data_overlaps_sent", "data_file_fields")} == {
        "data_requests": 2, "data_fields_asked": 5, "data_answers_held": 4, "data_overlaps_sent": 1,
        "data_file_fields": 1}
    login("admin")
    html = client.get("/admin/burden").get_data(as_text=True)
    for label in ("填报数据项", "用已有数据免填", "说明理由后重复发起", "要求上传材料的数据项"):
        assert label in html
