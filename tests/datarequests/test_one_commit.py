"""Each data request action commits once (tests/commits.py counts real commits),
and a refused one commits nothing: no half-sent request, no value without its
history."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.datarequests import actions
from hub.datarequests.audience import DataAudience
from hub.datarequests.catalogue import FieldDraft
from hub.datarequests.drafts import RequestDraft, check_scope
from hub.datarequests.models import DataRequest, DataValue, DataValueHistory
from hub.errors import HubError
from hub.extensions import db
from tests.commits import counted_commits
from tests.datarequests.conftest import DEADLINE, TOWN


def _draft(field_ids: list[int], audience: DataAudience, **extra) -> RequestDraft:
    return RequestDraft.from_json({"title": "人口年报", "purpose": "年度公报", "fields": field_ids,
                                   "audience": {"subtrees": audience.subtrees, "units": audience.units},
                                   "period": "2026", "deadline": DEADLINE, **extra})


def test_every_action_commits_once(cast):
    office, clerk = cast.user("kc_clerk"), cast.user("sl_clerk")
    town = cast.unit(TOWN)
    with counted_commits() as commits:
        field = actions.add_field(office, office.primary_unit, FieldDraft.from_json(
            {"name": "常住人口", "kind": "integer", "period_kind": "year"}))
    assert commits.count == 1 and field.code == f"F{field.id:05d}"
    draft = _draft([field.id], DataAudience(units=[town.id]))
    checked = check_scope(office, office.primary_unit, draft.scope)
    with counted_commits() as commits:
        request = actions.create_data_request(office, checked, draft)
    assert commits.count == 1
    with counted_commits() as commits:
        assert actions.submit_unit_form(clerk, request, town, values={str(field.id): 12}, version=0) == 1
    assert commits.count == 1
    for action, args in ((actions.record_values_read, {"unit": town, "request": request}),
                         (actions.record_export, {"request": request})):
        with counted_commits() as commits:
            action(office, **args)
        assert commits.count == 1


def test_a_refused_submit_leaves_nothing_behind(cast):
    office, clerk = cast.user("kc_clerk"), cast.user("sl_clerk")
    town = cast.unit(TOWN)
    fields = [actions.add_field(office, office.primary_unit, FieldDraft.from_json(
        {"name": name, "kind": "integer", "period_kind": "year"})) for name in ("常住人口", "户籍人口")]
    draft = _draft([f.id for f in fields], DataAudience(units=[town.id]))
    checked = check_scope(office, office.primary_unit, draft.scope)
    request = actions.create_data_request(office, checked, draft)
    with counted_commits() as commits, pytest.raises(HubError):
        actions.submit_unit_form(clerk, request, town, version=0,
                                 values={str(fields[0].id): 12, str(fields[1].id): "十二"})
    db.session.rollback()
    assert commits.count == 0
    assert db.session.scalar(select(func.count(DataValue.id))) == 0
    assert db.session.scalar(select(func.count(DataValueHistory.id))) == 0
    with counted_commits() as commits, pytest.raises(HubError):
        actions.create_data_request(office, checked, draft)
    db.session.rollback()
    assert commits.count == 0 and db.session.scalar(select(func.count(DataRequest.id))) == 1
