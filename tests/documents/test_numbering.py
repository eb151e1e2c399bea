"""Concurrency: 发文字号 stay unique and gapless when many documents are numbered
at once, and two steps taken at once on one document cannot both win.

The parallel requests run in threads, each with its own test client, token and
database session, against a real SQLite file (whose writers queue on the
database lock) and a real PostgreSQL (whose writers queue on the counter row).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from hub.documents import actions
from hub.documents.actions import DocumentDraft
from hub.documents.models import Document
from hub.errors import Conflict
from hub.extensions import db
from hub.org.models import Unit, User

N = 12


def person(login: str) -> User:
    return db.session.scalar(select(User).where(User.login == login))


def unit(code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def drafts(app, count: int, *, until: str) -> list[int]:
    """`count` drafts of the county office to 石梁镇, taken through the outgoing
    steps up to `until` ("draft", "signed" or "dispatched")."""
    with app.app_context():
        clerk, leader = person("kc_clerk"), person("kc_leader")
        unit("330802-GOV").doc_prefix = "柯政办发"
        made = []
        for n in range(count):
            document = actions.create_draft(clerk, DocumentDraft.from_json({
                "doc_type": "通知", "title": f"关于做好第{n + 1}批防汛物资储备的通知",
                "main_recipients": [unit("330802100").id]}))
            if until != "draft":
                actions.review(clerk, document)
                actions.sign_off(leader, document)
            if until == "dispatched":
                actions.assign_number(clerk, document)
                actions.dispatch(clerk, document)
            made.append(document.id)
        return made


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:        # re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    if errors:
        raise errors[0]
    return results


def step(client, document_id: int, action: str) -> Callable[[], tuple[int, dict]]:
    def call() -> tuple[int, dict]:
        response = client.post(f"/api/v1/documents/{document_id}/actions", json={"action": action})
        return response.status_code, response.get_json()
    return call


def test_numbers_given_in_parallel_are_exactly_one_to_n(app, api):
    documents = drafts(app, N, until="signed")
    clerks = [api("kc_clerk") for _ in documents]          # each thread its own client and token
    results = in_parallel([step(clerk, document, "number") for clerk, document in zip(clerks, documents)])
    assert [status for status, _ in results] == [200] * N, [body for _, body in results]
    numbers = [body["number"] for _, body in results]
    with app.app_context():
        stored = db.session.execute(select(Document.number_year, Document.number_seq)
                                    .where(Document.id.in_(documents))).all()
    assert sorted(seq for _, seq in stored) == list(range(1, N + 1))
    assert len({year for year, _ in stored}) == 1
    year = stored[0][0]
    assert sorted(numbers, key=lambda n: int(n.split("〕")[1][:-1])) == [
        f"柯政办发〔{year}〕{seq}号" for seq in range(1, N + 1)]
    # The next one continues the sequence: nothing was skipped or given twice.
    later = drafts(app, 1, until="signed")[0]
    status, body = step(api("kc_clerk"), later, "number")()
    assert status == 200 and body["number"] == f"柯政办发〔{year}〕{N + 1}号"


def test_two_reviews_at_once_one_wins_the_other_is_409(app, api):
    for document in drafts(app, 3, until="draft"):
        results = in_parallel([step(api("kc_clerk"), document, "review") for _ in range(2)])
        assert sorted(status for status, _ in results) == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["error"]["code"] == "conflict" and loser["error"]["message"]
        timeline = next(body for status, body in results if status == 200)["timeline"]
        assert [s["action"] for s in timeline] == ["draft", "review"]


def test_two_sign_fors_at_once_leave_one_entry(app, api):
    for document in drafts(app, 3, until="dispatched"):
        results = in_parallel([step(api("sl_clerk"), document, "sign_for") for _ in range(2)])
        statuses = sorted(status for status, _ in results)
        # Serialized, the second is an idempotent 200; overlapping, it loses with 409.
        assert statuses in ([200, 200], [200, 409]), results
        shown = api("sl_clerk").get(f"/api/v1/documents/{document}").get_json()
        assert [s["action"] for s in shown["timeline"]].count("sign_for") == 1
        assert shown["recipients"][0]["status"] == "signed_for"


def test_a_step_on_a_stale_copy_loses_with_409(app):
    """Two sessions hold the same recipient unit; the first to commit wins."""
    document_id = drafts(app, 1, until="dispatched")[0]
    with app.app_context():
        late = actions.recipient_for(person("sl_clerk"), db.session.get(Document, document_id))
        assert late.status == "pending"
        with app.app_context():                             # another request, another session
            early = actions.recipient_for(person("sl_clerk"), db.session.get(Document, document_id))
            actions.sign_for(person("sl_clerk"), early)
        with pytest.raises(Conflict):
            actions.sign_for(person("sl_clerk"), late)
        db.session.rollback()
        steps = [s.action for s in db.session.get(Document, document_id).steps]
        assert steps.count("sign_for") == 1


def test_a_stale_write_anywhere_in_a_request_is_a_409_not_a_500(app):
    @app.get("/api/v1/stale-probe")
    def stale_probe():
        raise StaleDataError("UPDATE statement on table 'documents' expected to update 1 row(s); "
                             "0 were matched.")

    response = app.test_client().get("/api/v1/stale-probe")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
