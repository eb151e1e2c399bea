"""Automatic 催办 the day before a deadline, run by the background jobs (hub/jobs.py)."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from hub.db import utcnow
from hub.documents import actions
from hub.documents.actions import DocumentDraft
from hub.documents.models import Document, DocumentRecipient, DocumentStep, RecipientStatus
from hub.extensions import db
from hub.jobs import run_due_jobs

TOWN, OTHER_TOWN = "330802100", "330803100"


def beijing_today() -> date:
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()


def in_handling(cast, *, due: date, units: tuple[str, ...] = (TOWN,)) -> tuple[Document, DocumentRecipient]:
    """A document of the county office due on `due`, dispatched to `units`; at 石梁镇
    signed for, registered, instructed and assigned to 王建军 (his part still open)."""
    clerk, leader = cast.user("kc_clerk"), cast.user("kc_leader")
    document = actions.create_draft(clerk, DocumentDraft.from_json({
        "doc_type": "通知", "title": "关于报送森林防火隐患排查情况的通知", "urgency": "平件",
        "main_recipients": [cast.unit(code).id for code in units], "deadline": due.isoformat()}))
    actions.review(clerk, document)
    actions.sign_off(leader, document)
    actions.assign_number(clerk, document)
    actions.dispatch(clerk, document)
    town_clerk = cast.user("sl_clerk")
    recipient = actions.recipient_for(town_clerk, document, cast.unit(TOWN).id)
    actions.sign_for(town_clerk, recipient)
    actions.register(town_clerk, recipient)
    actions.instruct(cast.user("sl_leader"), recipient, comment="请王建军同志牵头办理，按时报送。")
    actions.assign_handlers(town_clerk, recipient, [cast.user("mp_secretary").id])
    assert recipient.status == RecipientStatus.HANDLING
    return document, recipient


def reminders(document: Document) -> list[DocumentStep]:
    return list(db.session.scalars(select(DocumentStep).where(
        DocumentStep.document_id == document.id, DocumentStep.action == "remind").order_by(DocumentStep.id)))


def test_a_unit_handling_a_document_due_tomorrow_is_chased_once_in_four_hours(app, cast):
    document, recipient = in_handling(cast, due=beijing_today() + timedelta(days=1), units=(TOWN, OTHER_TOWN))
    assert run_due_jobs()["chased_documents"] == 1
    [chased] = reminders(document)
    assert chased.actor_id is None and chased.recipient_id == recipient.id      # by the system, at 石梁镇
    assert chased.detail == "截止前自动催办"
    assert run_due_jobs()["chased_documents"] == 0                              # not again within 4 hours
    assert len(reminders(document)) == 1
    # 上方镇 has not even signed for it: nothing to chase there.
    assert {s.recipient_id for s in reminders(document)} == {recipient.id}
    # Four hours later the unit, still handling, is chased again.
    db.session.execute(update(DocumentRecipient).where(DocumentRecipient.id == recipient.id)
                       .values(last_chased_at=utcnow() - timedelta(hours=4, minutes=1)))
    db.session.commit()
    assert run_due_jobs()["chased_documents"] == 1
    assert len(reminders(document)) == 2


def test_units_done_or_with_a_later_deadline_are_not_chased(app, cast):
    tomorrow = beijing_today() + timedelta(days=1)
    done, recipient = in_handling(cast, due=tomorrow)
    actions.complete(cast.user("mp_secretary"), recipient, comment="已完成排查并报送。")
    later, _ = in_handling(cast, due=tomorrow + timedelta(days=1))
    assert run_due_jobs()["chased_documents"] == 0
    assert reminders(done) == [] and reminders(later) == []


def test_the_run_jobs_command_reports_the_chase(app, cast):
    document, _ = in_handling(cast, due=beijing_today() + timedelta(days=1))
    result = app.test_cli_runner().invoke(args=["hub", "run-jobs"])
    assert result.exit_code == 0 and "chased_documents: 1" in result.output
    assert len(reminders(document)) == 1
