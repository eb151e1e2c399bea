"""Channel actions called directly: announcements, mentions, merges, membership."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.channels import actions, queries
from hub.channels.messages import MessageDraft, post_message
from hub.channels.models import Channel, ChannelKind, Mention
from hub.errors import InvalidInput, NotAllowed
from hub.extensions import db
from hub.org import actions as org_actions
from hub.org import people


def test_every_unit_has_a_channel_named_after_it_including_new_ones(cast):
    unit = org_actions.create_unit(cast.user("kc_admin"), code="330802100208", name="荞麦坞村委会",
                                   parent=cast.unit("330802100"), kind="village")
    channel = queries.unit_channel(unit.id)
    assert channel is not None and channel.name == "荞麦坞村委会"
    assert actions.ensure_unit_channels() == 0


def test_unit_channel_members_are_the_units_own_people(cast):
    channel = queries.unit_channel(cast.unit("330802100").id)
    logins = {u.login for u in db.session.scalars(queries.members(channel))}
    assert logins == {"sl_clerk", "sl_leader"}


def test_announcements_reach_the_subtree_and_only_leaders_post(cast):
    town = cast.unit("330802100")
    with pytest.raises(NotAllowed):
        actions.announcement_channel(cast.user("sl_clerk"), town)
    channel = actions.announcement_channel(cast.user("sl_leader"), town)
    assert channel.kind == ChannelKind.ANNOUNCE
    readers = {u.login for u in db.session.scalars(queries.members(channel))}
    assert readers == {"sl_clerk", "sl_leader", "mp_secretary", "mp_director"}
    assert queries.can_post(cast.user("sl_leader"), channel)
    assert not queries.can_post(cast.user("mp_secretary"), channel)
    assert queries.can_read(cast.user("mp_secretary"), channel)
    with pytest.raises(NotAllowed):
        post_message(cast.user("mp_secretary"), channel, MessageDraft(body="村里有意见"))


def test_mentions_reach_members_only(cast):
    channel = queries.unit_channel(cast.unit("330802100202").id)
    author, colleague = cast.user("mp_secretary"), cast.user("mp_director")
    message, _ = post_message(author, channel, MessageDraft(body="@李秀英 请核对名单",
                                                            mention_users=[colleague.id]))
    assert [m.user_id for m in db.session.scalars(select(Mention).where(
        Mention.message_id == message.id))] == [colleague.id]
    with pytest.raises(InvalidInput) as refused:
        post_message(author, channel, MessageDraft(body="@陈国平", mention_users=[cast.user("sf_member").id]))
    assert refused.value.field == "mention_user_ids"


def test_unit_merge_archives_the_old_channel_and_moves_task_targets(cast):
    admin = cast.user("admin")
    village = cast.unit("330802100202")
    old = queries.unit_channel(village.id)
    task = actions.create_task_channel(cast.user("sl_leader"), actions.TaskDraft(
        name="人居环境", purpose="整治", ends_on=__import__("datetime").date(2030, 1, 1),
        unit_ids=[village.id]))
    org_actions.merge_units(admin, cast.unit("330802100202"), cast.unit("330802100"))
    db.session.expire_all()
    old = db.session.get(Channel, old.id)
    assert old.state == "archived" and old.merged_into_id == queries.unit_channel(
        cast.unit("330802100").id).id
    moved = db.session.get(Channel, task.id)
    assert [t.unit_id for t in moved.targets if t.unit_id] == [cast.unit("330802100").id]
    town_channel = queries.unit_channel(cast.unit("330802100").id)
    assert "mp_secretary" in {u.login for u in db.session.scalars(queries.members(town_channel))}


def test_moving_a_person_moves_their_channels(cast):
    person = cast.user("mp_director")
    people.transfer_person(cast.user("kc_admin"), person, cast.unit("330802100"), position="干部")
    names = {c.name for c in db.session.scalars(queries.readable_channels(cast.user("mp_director")))}
    assert names == {"石梁镇"}


def test_task_channel_within_own_unit_needs_no_approval(cast):
    clerk = cast.user("sl_clerk")
    channel = actions.create_task_channel(clerk, actions.TaskDraft(
        name="材料", purpose="报送", ends_on=__import__("datetime").date(2030, 1, 1),
        user_ids=[cast.user("sl_leader").id]))
    assert channel.state == "active"


def test_task_channel_needs_purpose_and_a_future_end_date(cast):
    with pytest.raises(InvalidInput) as refused:
        actions.TaskDraft.from_json({"name": "x", "purpose": "", "ends_on": "2030-01-01"})
    assert refused.value.field == "purpose"
    with pytest.raises(InvalidInput) as refused:
        actions.create_task_channel(cast.user("sl_clerk"), actions.TaskDraft.from_json(
            {"name": "x", "purpose": "y", "ends_on": "2001-01-01"}))
    assert refused.value.field == "ends_on"
