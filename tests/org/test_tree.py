"""The org tree's actions: create, rename, move a subtree, merge, retire."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.audit import AuditEntry
from hub.errors import Conflict, InvalidInput, NotAllowed
from hub.extensions import db
from hub.org import actions, queries
from hub.org.models import Membership, RoleGrant, Unit


def paths(*codes: str) -> dict[str, tuple[str, int]]:
    units = db.session.scalars(select(Unit).where(Unit.code.in_(codes)))
    return {u.code: (u.path, u.depth) for u in units}


def test_created_unit_gets_its_path_and_depth(cast):
    town = cast.unit("330802100")
    village = actions.create_unit(cast.user("kc_admin"), code="330802100208", name="荞麦坞村委会",
                                  parent=town, kind="village")
    assert village.path == f"{town.path}{village.id}/"
    assert village.depth == town.depth + 1
    assert village.ancestor_ids == town.path_ids


def test_moving_a_unit_moves_its_whole_subtree(cast):
    town, qujiang = cast.unit("330802100"), cast.unit("330803")
    actions.move_unit(cast.user("admin"), town, qujiang)
    db.session.expire_all()
    town, village = cast.unit("330802100"), cast.unit("330802100202")
    assert town.parent_id == qujiang.id
    assert town.path == f"{qujiang.path}{town.id}/" and town.depth == qujiang.depth + 1
    assert village.path == f"{town.path}{village.id}/" and village.depth == town.depth + 1
    under_qujiang = {u.code for u in db.session.scalars(queries.subtree_units(qujiang))}
    assert {"330802100", "330802100202", "330803100"} <= under_qujiang
    under_kecheng = {u.code for u in db.session.scalars(queries.subtree_units(cast.unit("330802")))}
    assert "330802100202" not in under_kecheng


def test_moving_a_unit_under_its_own_descendant_is_409_and_changes_nothing(cast):
    before = paths("330802", "330802100", "330802100202")
    with pytest.raises(Conflict) as refused:
        actions.move_unit(cast.user("admin"), cast.unit("330802"), cast.unit("330802100202"))
    assert refused.value.status == 409
    db.session.rollback()
    assert paths("330802", "330802100", "330802100202") == before


def test_moving_a_unit_under_itself_is_refused(cast):
    with pytest.raises(Conflict):
        actions.move_unit(cast.user("admin"), cast.unit("330802"), cast.unit("330802"))


def test_unit_admin_cannot_move_a_unit_out_of_their_county(cast):
    with pytest.raises(NotAllowed):
        actions.move_unit(cast.user("kc_admin"), cast.unit("330802100"), cast.unit("330803"))


def test_subtree_query_does_not_mix_up_ids_that_share_a_prefix(cast):
    admin = cast.user("admin")
    root = cast.unit("33")
    # Make ids 1x: units whose path segment starts with the same digits as another's.
    made = [actions.create_unit(admin, code=f"T{n}", name=f"测试{n}", parent=root) for n in range(12)]
    first = made[0]
    subtree = {u.id for u in db.session.scalars(queries.subtree_units(first))}
    assert subtree == {first.id}


def test_ancestors_come_root_first(cast):
    names = [u.name for u in queries.ancestors(cast.unit("330802100202"))]
    assert names == ["浙江省", "衢州市", "柯城区", "石梁镇"]


def test_people_under_a_subtree_come_from_one_query(cast):
    logins = {u.login for u in db.session.scalars(queries.people_under(cast.unit("330802")))}
    assert logins == {"kc_admin", "kc_clerk", "kc_leader", "sl_clerk", "sl_leader",
                      "mp_secretary", "mp_director"}


def test_rename_is_audited_with_before_and_after(cast):
    unit = cast.unit("330802100")
    actions.update_unit(cast.user("kc_admin"), unit, name="石梁镇人民政府")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unit.renamed"))
    assert '"石梁镇"' in entry.before and '"石梁镇人民政府"' in entry.after
    assert entry.actor_login == "kc_admin"


@pytest.mark.parametrize("name,problem", [("", "不能为空"), ("   ", "不能为空"),
                                          ("名" * 101, "不能超过"), ("a\x00b", "控制字符"),
                                          ("甲\n乙", "控制字符")])
def test_bad_names_are_refused_with_the_field(cast, name, problem):
    with pytest.raises(InvalidInput) as refused:
        actions.create_unit(cast.user("admin"), code="X1", name=name, parent=cast.unit("33"))
    assert refused.value.field == "name" and problem in refused.value.message


def test_duplicate_code_is_a_conflict(cast):
    with pytest.raises(Conflict) as refused:
        actions.create_unit(cast.user("admin"), code="330802", name="重复", parent=cast.unit("33"))
    assert refused.value.field == "code"


def test_merge_moves_people_and_children_and_retires_the_source(cast):
    admin = cast.user("admin")
    source, target = cast.unit("330802100"), cast.unit("330803100")
    actions.merge_units(admin, source, target)
    db.session.expire_all()
    source, target = cast.unit("330802100"), cast.unit("330803100")
    assert not source.active and source.merged_into_id == target.id
    moved = {m.user.login for m in db.session.scalars(
        select(Membership).where(Membership.unit_id == target.id))}
    assert {"sl_clerk", "sl_leader", "sf_member"} <= moved
    village = cast.unit("330802100202")
    assert village.parent_id == target.id and village.path.startswith(target.path)
    # Roles held in the merged unit end rather than widening to the target.
    assert not db.session.scalars(select(RoleGrant).where(RoleGrant.unit_id == source.id)).all()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unit.merged"))
    assert entry is not None and '"people_moved": 2' in entry.after


def test_merge_into_own_descendant_is_refused(cast):
    with pytest.raises(Conflict):
        actions.merge_units(cast.user("admin"), cast.unit("330802"), cast.unit("330802100"))


def test_retire_is_refused_while_people_or_sub_units_remain(cast):
    admin = cast.user("admin")
    with pytest.raises(Conflict, match="下级单位"):
        actions.retire_unit(admin, cast.unit("330802100"))
    with pytest.raises(Conflict, match="人员"):
        actions.retire_unit(admin, cast.unit("330802100202"))


def test_an_empty_unit_can_be_retired_and_leaves_the_tree(cast):
    admin = cast.user("admin")
    empty = actions.create_unit(admin, code="330802100999", name="撤并村", parent=cast.unit("330802100"))
    actions.retire_unit(admin, empty)
    assert "撤并村" not in {u.name for u in queries.children(cast.unit("330802100").id)}
    assert db.session.get(Unit, empty.id).retired_at is not None
