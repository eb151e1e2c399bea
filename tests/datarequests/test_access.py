"""Who sees what (docs/DATA.md): a held value is read by its own unit's clerks
and leaders, by those of the units above it, and by the requesting side for the
fields and units of its requests; every read of another unit's values and every
export is audited. Answering is for the unit's clerks (its leaders if it has none)."""
from __future__ import annotations

from sqlalchemy import select

from hub.audit import AuditEntry
from hub.extensions import db
from tests.datarequests.conftest import TOWN, VILLAGE, add_field, form, ok, send, submit


def _audited(app, action: str) -> list[tuple[str, dict | None]]:
    import json
    with app.app_context():
        rows = db.session.execute(select(AuditEntry.actor_login, AuditEntry.after)
                                  .where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        return [(login, json.loads(after) if after else None) for login, after in rows]


def _town_subtree_request(api, ids) -> tuple[int, int]:
    office = api("kc_clerk")
    field = add_field(office)["id"]
    return send(office, [field], {"subtrees": [ids.unit(TOWN)]})["id"], field


def test_who_reads_a_units_form(app, api, ids, village_leader):
    request_id, field = _town_subtree_request(api, ids)
    town, village = ids.unit(TOWN), ids.unit(VILLAGE)
    submit(api(village_leader), request_id, village, {field: 1630}, 0)
    for login in ("kc_clerk", "sl_clerk", "sl_leader", village_leader):      # requester, above, own
        assert form(api(login), request_id, village)["fields"][0]["value"] == 1630, login
    for login in ("mp_director", "sf_member", "kc_admin", "admin", "auditor", "kc_leader"):
        response = api(login).get(f"/api/v1/data/requests/{request_id}/units/{village}")
        expected = 200 if login == "kc_leader" else 404                  # the requesting office's leader
        assert response.status_code == expected, login
    # The village's leader reads the request, but not the town's form (above him).
    assert api(village_leader).get(f"/api/v1/data/requests/{request_id}").status_code == 200
    assert api(village_leader).get(f"/api/v1/data/requests/{request_id}/units/{town}").status_code == 404
    # Reads of another unit's values are audited; a unit reading its own is not.
    readers = [login for login, after in _audited(app, "data.values_read") if after["unit_id"] == village]
    assert readers == ["kc_clerk", "sl_clerk", "sl_leader", "kc_leader"]


def test_who_answers_and_who_follows_up(app, api, ids, village_leader):
    request_id, field = _town_subtree_request(api, ids)
    town, village = ids.unit(TOWN), ids.unit(VILLAGE)
    path = f"/api/v1/data/requests/{request_id}"
    # 石梁镇 has a clerk: its leader reads but does not answer; the village's leader answers (no clerk).
    empty = {"values": {}, "version": 0}
    assert api("sl_leader").put(f"{path}/units/{town}", json=empty).status_code == 403
    assert api("sl_clerk").put(f"{path}/units/{village}", json=empty).status_code == 403
    submit(api(village_leader), request_id, village, {field: 7}, 0)
    for login in ("sl_clerk", "sl_leader", village_leader):
        for tail in ("/status", "/export"):
            assert api(login).get(path + tail).status_code == 403, (login, tail)
        assert api(login).post(path + "/remind").status_code == 403
        assert api(login).post(path + "/close").status_code == 403
    for login in ("mp_director", "admin", "kc_admin"):
        assert api(login).get(path + "/status").status_code == 404, login
    office = api("kc_clerk")
    status = ok(office.get(path + "/status"))
    assert [(r["name"], r["units"], r["submitted"], r["status"]) for r in status["by_unit"]] == [
        ("石梁镇", 2, 1, "pending"), ("麻蓬村委会", 1, 1, "submitted")]
    assert office.get(path + "/export").status_code == 200
    assert [login for login, _ in _audited(app, "data_request.exported")] == ["kc_clerk"]


def test_the_values_table_of_a_subtree(app, api, ids, village_leader):
    request_id, field = _town_subtree_request(api, ids)
    village = ids.unit(VILLAGE)
    submit(api(village_leader), request_id, village, {field: 1630}, 0)
    town_clerk = api("sl_clerk")
    table = ok(town_clerk.get("/api/v1/data/values", query_string={"unit_id": ids.unit(TOWN), "subtree": "1",
                                                                   "period": "2026"}))
    rows = [(r["unit_name"], r["name"], r["value"]) for r in table["items"]]
    assert rows == [("麻蓬村委会", "常住人口", 1630)]
    assert {r["code"] for r in table["system"]} >= {"sys.people", "sys.sub_units"}
    own = ok(api(village_leader).get("/api/v1/data/values", query_string={"unit_id": village}))
    assert [r["value"] for r in own["items"]] == [1630]
    assert [login for login, _ in _audited(app, "data.values_read")] == ["sl_clerk"]
    for login in ("mp_director", "sf_member", "kc_admin", "kc_clerk"):
        response = api(login).get("/api/v1/data/values", query_string={"unit_id": village})
        assert response.status_code == 403, login
    assert town_clerk.get("/api/v1/data/values?unit_id=x").status_code == 400
    assert town_clerk.get(f"/api/v1/data/values?unit_id={village}&period=2026-13").status_code == 400


def test_composing_is_for_leaders_and_clerks_within_their_reach(api, ids):
    field = add_field(api("kc_clerk"))["id"]
    for login in ("mp_director", "kc_admin", "auditor"):
        assert api(login).post("/api/v1/data/fields", json={"name": "x"}).status_code == 403, login
        response = api(login).post("/api/v1/data/requests/preview", json={})
        assert response.status_code == 403, login
    town_leader = api("sl_leader")
    assert send(town_leader, [field], {"units": [ids.unit(VILLAGE)]})["units"] == 1
    beyond = send(town_leader, [field], {"units": [ids.unit(TOWN), ids.unit("330802")]}, status=403)
    assert beyond["error"]["field"] == "audience"
    assert send(api("admin"), [field], {"subtrees": [ids.unit("330803")]})["units"] == 2


def test_a_request_nobody_in_reach_asks_is_a_404_alike_for_a_missing_one(api, ids):
    request_id, _field = _town_subtree_request(api, ids)
    outsider = api("sf_member")
    hidden = outsider.get(f"/api/v1/data/requests/{request_id}")
    missing = outsider.get("/api/v1/data/requests/2147483647")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
