"""Held values follow a unit merge (hub/datarequests/hooks.py): when a village
is merged into another, its values move to the unit it was merged into wherever
that unit holds nothing for the (field, period); where both hold one, the
target's stays and the source's is kept, with its history, under the retired
source. The move is part of the merge's one commit."""
from __future__ import annotations

from sqlalchemy import select

from hub.audit import AuditEntry
from hub.datarequests.models import DataValue, DataValueHistory
from hub.extensions import db
from hub.org import actions as org_actions
from hub.org.models import Unit, User
from tests.commits import counted_commits
from tests.datarequests.conftest import TOWN, VILLAGE, add_field, by_field, form, ok, send, submit


def _new_village(app, code: str, name: str) -> int:
    with app.app_context():
        town = db.session.scalar(select(Unit).where(Unit.code == TOWN))
        unit = Unit(code=code, name=name, kind="village", parent=town, sort_order=50)
        db.session.add(unit)
        db.session.flush()
        unit.path, unit.depth = town.path + f"{unit.id}/", town.depth + 1
        db.session.commit()
        return unit.id


def test_a_merged_villages_values_move_to_the_unit_it_joined(app, api, ids, village_leader):
    office, town_clerk = api("kc_clerk"), api("sl_clerk")
    people = add_field(office, "常住人口")["id"]
    area = add_field(office, "耕地面积", kind="number", unit_of_measure="亩")["id"]
    village, other = ids.unit(VILLAGE), _new_village(app, "330802100203", "上村")
    # 麻蓬村 answers both fields; 上村 holds one of them already.
    first = send(office, [people, area], {"units": [village, other]})["id"]
    submit(api(village_leader), first, village, {people: 1630, area: 812.5}, 0)
    with app.app_context():
        db.session.add(DataValue(unit_id=other, field_id=people, period="2026", value=900, version=1))
        db.session.commit()
    with app.app_context():
        source, target = db.session.get(Unit, village), db.session.get(Unit, other)
        admin = db.session.scalar(select(User).where(User.login == "admin"))
        with counted_commits() as commits:
            org_actions.merge_units(admin, source, target)
        assert commits.count == 1
    with app.app_context():
        held = {(v.unit_id, v.field_id): v.value for v in db.session.scalars(select(DataValue))}
        assert held == {(other, people): 900, (other, area): 812.5, (village, people): 1630}
        moved = db.session.scalars(select(DataValueHistory.unit_id)
                                   .where(DataValueHistory.field_id == area)).all()
        assert moved == [other]                                   # its history went with it
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "data.values_moved"))
        assert entry is not None and '"moved": 1' in entry.after and '"kept_with_source": 1' in entry.after
    # A later request to the merged village's new unit finds the area held there.
    second = send(office, [area], {"units": [other]}, period="2026", overlap_reason="合并后核对")
    assert second["complete_units"] == 1
    answer = form(town_clerk, second["id"], other)
    assert by_field(answer)[area]["value"] == 812.5 and answer["status"] == "complete"


def test_a_village_merged_into_its_town_through_the_api(app, api, ids, village_leader):
    office = api("kc_clerk")
    people = add_field(office)["id"]
    village, town = ids.unit(VILLAGE), ids.unit(TOWN)
    request_id = send(office, [people], {"units": [village]})["id"]
    submit(api(village_leader), request_id, village, {people: 1630}, 0)
    refused = api("qj_admin").post(f"/api/v1/units/{village}/merge", json={"target_id": town})
    assert refused.status_code in (403, 404)
    with app.app_context():
        assert db.session.scalar(select(DataValue.unit_id)) == village
    ok(api("admin").post(f"/api/v1/units/{village}/merge", json={"target_id": town}))
    with app.app_context():
        assert db.session.scalar(select(DataValue.unit_id)) == town
    later = send(office, [people], {"units": [town]}, overlap_reason="撤村并镇后核对")
    assert later["complete_units"] == 1
