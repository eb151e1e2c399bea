"""A correction after submitting is a new version, visible to every request
that used the old value (issue 15 §4, hub/datarequests/corrections.py): the
form's source names the version the request used, and the status and the
export flag the unit — whether the correction came through another request, a
resubmit or an import."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.datarequests.conftest import TOWN, add_field, by_field, form, ok, send, submit


def _status_row(person, request_id: int, unit_id: int) -> tuple[dict, dict]:
    status = ok(person.get(f"/api/v1/data/requests/{request_id}/status"))
    return status, next(r for r in status["by_unit"] if r["unit_id"] == unit_id)


def _export_state(person, request_id: int) -> str:
    response = person.get(f"/api/v1/data/requests/{request_id}/export")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return sheet.cell(row=2, column=3).value


def _values_import(person, csv: str):
    return ok(person.post("/api/v1/data/values/import",
                          data={"file": (io.BytesIO(csv.encode()), "数据.csv")},
                          content_type="multipart/form-data"))


def test_a_value_corrected_through_another_request_shows_in_the_first(api, ids, bureau):
    office, statistics, clerk = api("kc_clerk"), api(bureau), api("sl_clerk")
    people = add_field(office, code="POP")["id"]
    town = ids.unit(TOWN)
    first = send(office, [people], {"units": [town]})["id"]
    submit(clerk, first, town, {people: 23150}, 0)
    source = by_field(form(office, first, town))[people]["source"]
    assert source["version"] == 1 and "corrected" not in source
    assert _status_row(office, first, town)[0]["corrected"] == 0
    assert _export_state(office, first) == "已填报"

    second = send(statistics, [people], {"units": [town]}, overlap_reason="核对常住人口")["id"]
    assert form(clerk, second, town)["status"] == "complete"
    submit(clerk, second, town, {people: 23201}, 0)                  # corrected through the second

    answer = form(office, first, town)
    field = by_field(answer)[people]
    assert field["value"] == 23201 and answer["status"] == "submitted"
    assert field["source"]["version"] == 2 and field["source"]["request_id"] == second
    assert field["source"]["corrected"]["version"] == 1 and field["source"]["corrected"]["value"] == 23150
    status, row = _status_row(office, first, town)
    assert status["corrected"] == 1 and row["corrected"] == 1
    assert _export_state(office, first) == "已填报（其后有更正）"
    # The second request used the new value: nothing is corrected for it.
    assert "corrected" not in by_field(form(statistics, second, town))[people]["source"]
    assert _status_row(statistics, second, town)[0]["corrected"] == 0

    # The town confirms the new value in the first request: it now uses version 2.
    submit(clerk, first, town, {people: 23201}, 1)
    assert "corrected" not in by_field(form(office, first, town))[people]["source"]
    assert _status_row(office, first, town)[0]["corrected"] == 0


def test_a_value_held_when_a_request_was_sent_then_imported_anew(api, ids, bureau):
    """A unit complete without being asked used what it held when the request
    was sent; a later import of a new figure is a correction for that request."""
    office, statistics, clerk = api("kc_clerk"), api(bureau), api("sl_clerk")
    people = add_field(office, code="POP")["id"]
    town = ids.unit(TOWN)
    assert _values_import(clerk, f"unit_code,field_code,period,value\n{TOWN},POP,2026,23150\n")["applied"]
    request_id = send(statistics, [people], {"units": [town]})["id"]
    assert form(clerk, request_id, town)["status"] == "complete"
    assert _status_row(statistics, request_id, town)[0]["corrected"] == 0
    again = _values_import(clerk, f"unit_code,field_code,period,value\n{TOWN},POP,2026,23160\n")
    assert again["updated"] == 1
    field = by_field(form(statistics, request_id, town))[people]
    assert field["source"]["via"] == "import"
    assert (field["source"]["corrected"]["version"], field["source"]["corrected"]["value"]) == (1, 23150)
    status, row = _status_row(statistics, request_id, town)
    assert (status["corrected"], row["status"], row["corrected"]) == (1, "complete", 1)
    assert _export_state(statistics, request_id) == "已有数据（其后有更正）"


def test_a_value_first_held_after_the_request_is_no_correction(api, ids):
    office, clerk = api("kc_clerk"), api("sl_clerk")
    people = add_field(office, code="POP")["id"]
    town = ids.unit(TOWN)
    request_id = send(office, [people], {"units": [town]})["id"]
    _values_import(clerk, f"unit_code,field_code,period,value\n{TOWN},POP,2026,23150\n")
    _values_import(clerk, f"unit_code,field_code,period,value\n{TOWN},POP,2026,23160\n")
    answer = form(office, request_id, town)
    assert answer["status"] == "complete" and "corrected" not in by_field(answer)[people]["source"]
    assert _status_row(office, request_id, town)[0]["corrected"] == 0


def test_the_answer_page_names_the_version_the_request_used(client, login, api, ids, bureau):
    office, statistics, clerk = api("kc_clerk"), api(bureau), api("sl_clerk")
    people = add_field(office, code="POP")["id"]
    town = ids.unit(TOWN)
    first = send(office, [people], {"units": [town]})["id"]
    submit(clerk, first, town, {people: 23150}, 0)
    second = send(statistics, [people], {"units": [town]}, overlap_reason="核对")["id"]
    submit(clerk, second, town, {people: 23201}, 0)
    login("kc_clerk")
    page = client.get(f"/data/requests/{first}/units/{town}").get_data(as_text=True)
    assert "本任务采用的是第 1 版（23150），之后已更正为第 2 版" in page
    shown = client.get(f"/data/requests/{first}").get_data(as_text=True)
    assert "其后有更正 1" in shown
