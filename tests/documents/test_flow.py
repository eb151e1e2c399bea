"""The whole document flow through the domain actions, step by step."""
from __future__ import annotations

import pytest

from hub.documents import actions, queries
from hub.documents.actions import DocumentDraft
from hub.documents.models import DocumentStatus, RecipientStatus
from hub.errors import Conflict, InvalidInput, NotAllowed, NotFound, TooSoon
from hub.extensions import db


def draft(cast, **fields) -> DocumentDraft:
    data = {"doc_type": "通知", "title": "关于做好2026年冬季森林防火工作的通知", "urgency": "加急",
            "main_recipients": [cast.unit("330802100").id], "body": "各乡镇（街道）：……"}
    data.update(fields)
    return DocumentDraft.from_json(data)


def dispatched(cast):
    office = cast.unit("330802-GOV")
    office.doc_prefix = "柯政办发"
    document = actions.create_draft(cast.user("kc_clerk"), draft(cast))
    actions.review(cast.user("kc_clerk"), document)
    actions.sign_off(cast.user("kc_leader"), document)
    actions.assign_number(cast.user("kc_clerk"), document)
    actions.dispatch(cast.user("kc_clerk"), document)
    return document


def test_outgoing_flow_numbers_and_dispatches(app, cast):
    document = dispatched(cast)
    assert document.status == DocumentStatus.DISPATCHED
    assert document.number.startswith("柯政办发〔20") and document.number.endswith("〕1号")
    assert [s.action for s in document.steps] == ["draft", "review", "sign", "number", "dispatch"]
    assert document.written_on is not None
    second = actions.create_draft(cast.user("kc_clerk"), draft(cast))
    actions.review(cast.user("kc_clerk"), second)
    actions.sign_off(cast.user("kc_leader"), second)
    actions.assign_number(cast.user("kc_clerk"), second)
    assert second.number_seq == 2


def test_steps_out_of_order_or_by_the_wrong_role_are_refused(app, cast):
    document = actions.create_draft(cast.user("kc_clerk"), draft(cast))
    with pytest.raises(Conflict):
        actions.sign_off(cast.user("kc_leader"), document)           # not reviewed yet
    with pytest.raises(NotAllowed):
        actions.review(cast.user("kc_leader"), document)             # a leader does not 核稿
    actions.review(cast.user("kc_clerk"), document)
    with pytest.raises(NotAllowed):
        actions.sign_off(cast.user("kc_clerk"), document)            # only a leader signs off
    with pytest.raises(Conflict):
        actions.dispatch(cast.user("kc_clerk"), document)            # not numbered


def test_incoming_flow_at_a_town(app, cast):
    document = dispatched(cast)
    clerk, leader = cast.user("sl_clerk"), cast.user("sl_leader")
    assert queries.access_document(clerk, document.id) is document
    with pytest.raises(NotFound):
        queries.access_document(cast.user("mp_secretary"), document.id)
    with pytest.raises(NotFound):
        queries.access_document(cast.user("sf_member"), document.id)
    items = queries.inbox_documents(clerk, limit=10)
    assert [(i.document.id, i.waiting) for i in items] == [(document.id, True)]
    recipient = actions.recipient_for(clerk, document)
    with pytest.raises(NotAllowed):
        actions.sign_for(leader, recipient)
    actions.sign_for(clerk, recipient)
    actions.sign_for(clerk, recipient)                                # idempotent
    assert [s.action for s in document.steps].count("sign_for") == 1
    actions.register(clerk, recipient)
    assert recipient.register_seq == 1
    actions.propose(clerk, recipient, comment="拟请徐书记阅示，交党政办落实。")
    with pytest.raises(NotAllowed):
        actions.instruct(clerk, recipient, comment="同意")
    actions.instruct(leader, recipient, comment="同意拟办意见，请抓紧落实。")
    mp, md = cast.user("mp_secretary"), cast.user("mp_director")
    actions.assign_handlers(clerk, recipient, [mp.id, md.id])
    actions.circulate(clerk, recipient, [leader.id, clerk.id], in_order=True)
    with pytest.raises(Conflict):
        actions.mark_read(clerk, recipient)                          # not their turn yet
    actions.mark_read(leader, recipient, comment="阅")
    actions.mark_read(clerk, recipient)
    assert queries.access_document(mp, document.id) is document      # a handler is in its path now
    with pytest.raises(NotAllowed):
        actions.complete(md, recipient)                               # not the lead
    actions.chase(clerk, recipient)
    with pytest.raises(TooSoon):
        actions.chase(clerk, recipient)
    actions.complete(mp, recipient, comment="已完成排查。")
    actions.reply(mp, recipient, comment="我镇已完成全部隐患排查。")
    actions.archive(clerk, recipient)
    assert recipient.status == RecipientStatus.ARCHIVED
    board = queries.status_board(document)
    assert [(r["name"], r["status"], r["replied"]) for r in board] == [("石梁镇", "archived", True)]


def test_classified_documents_are_refused(app, cast):
    for level in ("秘密", "机密", "绝密"):
        with pytest.raises(InvalidInput) as refused:
            draft(cast, security=level)
        assert refused.value.field == "security" and level in refused.value.message


def test_concurrent_steps_cannot_both_win(app, cast):
    document = actions.create_draft(cast.user("kc_clerk"), draft(cast))
    # Another session reviews the same document meanwhile.
    other = db.session.get_bind()
    from sqlalchemy import update
    from hub.documents.models import Document
    with other.begin() as connection:
        connection.execute(update(Document).where(Document.id == document.id)
                           .values(status="reviewed", version=Document.version + 1))
    with pytest.raises(Conflict):
        actions.review(cast.user("kc_clerk"), document)
