"""Actions that build on others commit once (issue 14, item 1): a correction, a
签收 or a feedback that also records the reading, a private reply that opens
the direct channel. Before, each committed twice, and a crash between the two
commits left half an action; a correction's event carried version 1."""
from __future__ import annotations

from sqlalchemy import select

from hub.channels.actions import announcement_channel
from hub.channels.messages import MessageDraft, post_message, reply_privately
from hub.channels.models import Channel
from hub.extensions import db, socketio
from hub.notices.actions import NoticeDraft, acknowledge, correct_notice, give_feedback, publish_notice
from hub.notices.models import Notice, Receipt
from tests.cast import PASSWORD
from tests.commits import counted_commits


def _draft(ids_unit: int, summary: str = "12月1日前上报", **extra) -> NoticeDraft:
    return NoticeDraft.from_json({"title": "关于上报防汛物资的通知", "summary": summary, "body": "……",
                                  "audience": {"units": [ids_unit]}, **extra})


def test_a_correction_commits_once_and_its_event_says_what_the_api_says(app, cast):
    village = cast.unit("330802100202")
    old = publish_notice(cast.user("kc_clerk"), _draft(village.id))
    token = app.test_client().post("/api/v1/auth/token", json={"login": "mp_secretary",
                                                               "password": PASSWORD}).get_json()["token"]
    reader = socketio.test_client(app, auth={"token": token})
    reader.get_received()

    with counted_commits() as commits:
        new = correct_notice(cast.user("kc_clerk"), db.session.get(Notice, old.id),
                             _draft(village.id, "改为12月5日前上报"))
    assert commits.count == 1

    pushed = [e["args"][0] for e in reader.get_received() if e["name"] == "notice"]
    db.session.expire_all()
    stored = db.session.get(Notice, new.id)
    assert (stored.version, stored.corrects_id) == (2, old.id)      # what the API answers
    assert [(p["id"], p["version"]) for p in pushed] == [(new.id, 2)]
    assert db.session.get(Notice, old.id).superseded_by_id == new.id
    current = db.session.scalars(select(Notice.id).where(Notice.superseded_by_id.is_(None),
                                                         Notice.id.in_([old.id, new.id]))).all()
    assert current == [new.id]
    reader.disconnect()


def test_acknowledging_and_feedback_record_the_reading_in_the_same_commit(cast):
    village = cast.unit("330802100202")
    notice = publish_notice(cast.user("kc_clerk"), _draft(village.id, requires_ack=True))
    secretary, director = cast.user("mp_secretary"), cast.user("mp_director")

    with counted_commits() as commits:
        acknowledge(secretary, notice)
    assert commits.count == 1
    with counted_commits() as commits:
        give_feedback(director, notice, "duplicate")
    assert commits.count == 1
    rows = db.session.scalars(select(Receipt).where(Receipt.notice_id == notice.id))
    receipts = {r.user_id: r for r in rows}
    assert receipts[secretary.id].read_at is not None and receipts[secretary.id].acked_at is not None
    assert receipts[director.id].read_at is not None and receipts[director.id].feedback_given


def test_a_private_reply_opens_the_direct_channel_and_posts_in_one_commit(cast):
    leader = cast.user("sl_leader")
    channel = announcement_channel(leader, cast.unit("330802100"))
    announcement, _ = post_message(leader, channel, MessageDraft(body="明早八点全镇防汛会议"))
    with counted_commits() as commits:
        reply, created = reply_privately(cast.user("mp_secretary"), announcement,
                                         MessageDraft(body="村里派谁参加？"))
    assert commits.count == 1 and created
    direct = db.session.get(Channel, reply.channel_id)
    assert direct.kind == "direct" and {t.user_id for t in direct.targets} == {
        leader.id, cast.user("mp_secretary").id}
