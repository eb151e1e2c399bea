"""A file field: asking for files needs a stated reason (留痕 is a burden); the
file is the answerer's own upload, kept with the value's history, and opened
by exactly those who may read the value."""
from __future__ import annotations

from tests.channels.test_attachments import upload
from tests.datarequests.conftest import TOWN, add_field, by_field, ok, request_body, send, submit
from tests.files import PDF


def test_a_file_field_needs_a_reason_and_is_read_by_those_who_read_the_value(api, ids):
    office, clerk = api("kc_clerk"), api("sl_clerk")
    photo = add_field(office, "整改照片", kind="file", period_kind="once")["id"]
    town = ids.unit(TOWN)
    body = request_body([photo], {"units": [town]}, period="once")
    refused = office.post("/api/v1/data/requests", json=body)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "evidence_reason"
    request_id = send(office, [photo], {"units": [town]}, period="once",
                      evidence_reason="上级督查要求核验整改现场")["id"]
    theirs = upload(api("sl_leader"), "别人的.pdf", PDF).get_json()["id"]
    wrong = submit(clerk, request_id, town, {photo: theirs}, 0, status=400)
    assert wrong["error"]["field"] == f"values.{photo}"
    mine = upload(clerk, "整改报告.pdf", PDF).get_json()["id"]
    answered = submit(clerk, request_id, town, {photo: mine}, 0)
    held = by_field(answered)[photo]
    assert held["value"] == mine and held["file"]["filename"] == "整改报告.pdf"
    for reader in ("sl_clerk", "sl_leader", "kc_clerk"):           # own unit, its leader, the requesting side
        assert api(reader).get(f"/api/v1/attachments/{mine}").status_code == 200, reader
    for outsider in ("mp_director", "sf_member", "kc_admin"):
        assert api(outsider).get(f"/api/v1/attachments/{mine}").status_code == 404, outsider
    again = upload(clerk, "整改报告2.pdf", PDF).get_json()["id"]
    assert ok(clerk.put(f"/api/v1/data/requests/{request_id}/units/{town}",
                        json={"values": {str(photo): mine}, "version": 1}))["version"] == 2   # same file
    submit(clerk, request_id, town, {photo: again}, 2)
    # The old version's file stays, for those who read the value.
    assert api("kc_clerk").get(f"/api/v1/attachments/{mine}").status_code == 200
