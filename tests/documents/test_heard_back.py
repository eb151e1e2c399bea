"""The sender hears back (issue 16, item 9): a 答复 or 办结 at a recipient unit
reaches the issuing office's clerk and the drafter — a `document` event sent
after the step's commit, and an unread inbox item until they open the document —
and the reply's text is on the status board."""
from __future__ import annotations

from hub.documents import actions
from hub.documents.models import Document, DocumentRecipient
from hub.extensions import db
from hub.org.models import User
from tests.commits import counted_commits
from tests.documents.test_views import api_step, dispatched
from tests.factories import connect, page
from tests.inbox.test_documents_in_inbox import documents_of, inbox


def handling(app, api, ids) -> int:
    document = dispatched(app, api, ids)
    for action in ("sign_for", "register"):
        api_step(api, document, "sl_clerk", action)
    api_step(api, document, "sl_leader", "instruct", comment="请王建军落实。",
             user_ids=[ids.user("mp_secretary")])
    return document


def document_events(client) -> list[dict]:
    return [e["args"][0] for e in client.get_received() if e["name"] == "document"]


def test_a_reply_reaches_the_senders_clerk_live_and_in_the_inbox(app, client, login, api, ids):
    document = handling(app, api, ids)
    assert documents_of(inbox(api, "kc_clerk")) == []
    sender = connect(app, "kc_clerk")
    with app.app_context():
        person = db.session.scalar(db.select(User).where(User.login == "mp_secretary"))
        recipient = db.session.scalar(db.select(DocumentRecipient)
                                      .where(DocumentRecipient.document_id == document))
        with counted_commits() as commits:
            actions.reply(person, recipient, comment="我村已完成排查，未发现隐患。")
        assert commits.count == 1
    events = document_events(sender)
    town = ids.unit("330802100")
    assert [(e["id"], e["action"], e["unit_id"]) for e in events] == [(document, "reply", town)]
    data = inbox(api, "kc_clerk")
    assert [(d, read, summary.split(" · ")[-1]) for d, read, summary in documents_of(data)] == \
        [(document, False, "1 个单位答复")]
    assert data["documents_waiting"] == 1
    api_step(api, document, "mp_secretary", "complete", comment="已办结。")
    assert documents_of(inbox(api, "kc_clerk"))[0][2].endswith("1 个单位答复，1 个单位办结")
    # The drafter hears back too; a leader of the issuing office is not chased with it.
    assert len(documents_of(inbox(api, "kc_clerk"))) == 1
    assert documents_of(inbox(api, "kc_leader")) == []
    # The board shows the reply's text; opening the document reads the news.
    login("kc_clerk")
    html = page(client, f"/documents/{document}")
    board = html.split('id="board"')[1]
    assert "我村已完成排查，未发现隐患。" in board
    assert documents_of(inbox(api, "kc_clerk")) == []
    assert inbox(api, "kc_clerk")["documents_waiting"] == 0
    assert client.get(f"/documents/{document}/board").get_json()["items"][0]["reply"] == \
        "我村已完成排查，未发现隐患。"


def test_news_after_the_last_look_is_news_again(app, client, login, api, ids):
    document = handling(app, api, ids)
    api_step(api, document, "mp_secretary", "complete")
    login("kc_clerk")
    page(client, f"/documents/{document}")
    assert documents_of(inbox(api, "kc_clerk")) == []
    page(client, f"/documents/{document}")                 # nothing new: nothing written
    api_step(api, document, "sl_clerk", "reply", comment="补充答复。")
    assert [(d, read) for d, read, _s in documents_of(inbox(api, "kc_clerk"))] == [(document, False)]
    assert documents_of(inbox(api, "kc_clerk", "?unread=1"))[0][0] == document
    assert documents_of(inbox(api, "kc_clerk", "?q=森林防火"))[0][0] == document
    assert documents_of(inbox(api, "kc_clerk", "?q=没有这个词")) == []
    with app.app_context():
        assert db.session.get(Document, document) is not None
