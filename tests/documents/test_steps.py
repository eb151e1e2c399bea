"""The STEPS table (hub/documents/steps.py) is what the code does and what the
docs say: every step, taken from every state of its side that is not one of its
from-states, answers 409 with the row's reason; taken by someone its `who` rule
leaves out, 403 with the row's reason; and docs/DOCUMENTS.md shows the table."""
from __future__ import annotations

from pathlib import Path

import pytest

from hub.documents import actions
from hub.documents.models import Document, DocumentRecipient, DocumentStatus, RecipientStatus
from hub.documents.steps import INCOMING_ORDER, OUTGOING_ORDER, STEPS, steps_markdown
from hub.errors import Conflict, NotAllowed
from hub.extensions import db
from tests.documents.test_flow import draft

DOCS = Path(__file__).resolve().parents[2] / "docs" / "DOCUMENTS.md"
# Someone the `who` rule lets through, for the state checks.
ALLOWED = {"issuer_clerk": "kc_clerk", "issuer_leader": "kc_leader", "issuer_office": "kc_clerk",
           "author_or_issuer_clerk": "kc_clerk", "unit_clerk": "sl_clerk", "unit_leader": "sl_leader",
           "unit_office": "sl_clerk", "lead_or_unit_clerk": "sl_clerk", "handler_or_unit_office": "sl_clerk"}


def _outgoing(cast, state: str) -> Document:
    """A document of 柯城区政府办公室 (to 石梁镇) taken up to `state`."""
    clerk, leader = cast.user("kc_clerk"), cast.user("kc_leader")
    cast.unit("330802-GOV").doc_prefix = "柯政办发"
    document = actions.create_draft(clerk, draft(cast))
    path = [(actions.review, clerk), (actions.sign_off, leader), (actions.assign_number, clerk),
            (actions.dispatch, clerk)]
    for step, person in path[:OUTGOING_ORDER.index(state)]:
        step(person, document)
    return document


def _incoming(cast, state: str) -> DocumentRecipient:
    """石梁镇's copy of a dispatched document, taken up to `state`."""
    clerk, leader = cast.user("sl_clerk"), cast.user("sl_leader")
    document = _outgoing(cast, DocumentStatus.DISPATCHED)
    recipient = actions.recipient_for(clerk, document)
    path = [lambda: actions.sign_for(clerk, recipient), lambda: actions.register(clerk, recipient),
            lambda: actions.propose(clerk, recipient, comment="建议交石梁镇应急办办理"),
            lambda: actions.instruct(leader, recipient, comment="同意"),
            lambda: actions.assign_handlers(clerk, recipient, [clerk.id]),
            lambda: actions.complete(clerk, recipient), lambda: actions.archive(clerk, recipient)]
    for step in path[:INCOMING_ORDER.index(state)]:
        step()
    assert recipient.status == state
    return recipient


def _take(action: str, person, subject):
    """Take the step directly (not through take_step, which first finds the
    person's recipient unit), with what each step needs."""
    if action == "remind_unit":
        return actions.remind_unit(person, subject, subject.recipients[0].unit_id)
    if action == "assign":
        return actions.assign_handlers(person, subject, [person.id], comment="请办理")
    if action == "circulate":
        return actions.circulate(person, subject, [person.id], comment="请阅")
    table = {**actions._OUTGOING_STEPS, **actions._INCOMING_STEPS}
    return table[action](person, subject, comment="意见")


@pytest.mark.parametrize("side", ["outgoing", "incoming"])
def test_every_step_from_every_other_state_answers_the_rows_reason(app, cast, side):
    order = OUTGOING_ORDER if side == "outgoing" else INCOMING_ORDER
    build = _outgoing if side == "outgoing" else _incoming
    subjects = {state: build(cast, state) for state in order}
    checked = []
    with app.test_request_context():
        for action, step in STEPS.items():
            if step.side != side or step.from_states is None:
                continue
            person = cast.user(ALLOWED[step.who])
            for state in order:
                if state in step.from_states:
                    continue
                subject = subjects[state]
                if action == "sign_for":                   # signed for before: nothing changes
                    _take(action, person, subject)
                    assert subject.status == state
                    continue
                with pytest.raises(Conflict) as refused:
                    _take(action, person, subject)
                db.session.rollback()
                assert refused.value.message == step.state_refusal(state), (action, state)
                checked.append((action, state))
    assert len(checked) > 20


@pytest.mark.parametrize("side", ["outgoing", "incoming"])
def test_every_step_by_someone_the_rule_leaves_out_answers_the_rows_reason(app, cast, side):
    outsider = cast.user("mp_secretary")                      # a village cadre with no role
    with app.test_request_context():
        for action, step in STEPS.items():
            if step.side != side:
                continue
            state = step.from_states[0] if step.from_states else RecipientStatus.HANDLING
            subject = (_outgoing if side == "outgoing" else _incoming)(cast, state)
            with pytest.raises(NotAllowed) as refused:
                _take(action, outsider, subject)
            db.session.rollback()
            assert refused.value.message == str(step.refused), action


def test_the_docs_show_the_table(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        table = steps_markdown()
    assert table in DOCS.read_text(encoding="utf-8"), "docs/DOCUMENTS.md: paste steps_markdown() there"
    assert len(table.splitlines()) == len(STEPS) + 2
