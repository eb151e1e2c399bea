"""Audit retention: rows older than the setting go, from the oldest end, and the
chain still verifies; nothing younger than 190 days can go, whatever the setting
says, because the database itself refuses."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from hub import create_app
from hub.audit import AuditChain, AuditEntry
from hub.audit_chain import prune_audit, verify_chain
from hub.db import utcnow
from hub.extensions import db
from hub.jobs import run_due_jobs
from tests.conftest import base_config
from tests.test_audit_chain import behind_the_triggers

AGES = [400, 380, 300, 189, 100, 10]     # days


def age_rows(app, ages=AGES) -> list[int]:
    """One row per age (oldest first, as the log would have them), then today's."""
    now = utcnow()
    with app.app_context():
        for days in ages:
            db.session.add(AuditEntry(at=now - timedelta(days=days), action="auth.login",
                                      actor_login=f"aged{days}"))
            db.session.commit()
        return list(db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def logins(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.actor_login).order_by(AuditEntry.id)))


def test_old_rows_go_young_rows_stay_and_the_chain_still_verifies(app):
    ids = age_rows(app)
    with app.app_context():
        assert prune_audit(days=365) == 2
        assert logins(app)[:4] == ["aged300", "aged189", "aged100", "aged10"]
        pruned = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.pruned")).one()
        assert (pruned.actor_login, pruned.outcome) == ("(retention)", "success")
        assert '"removed": 2' in pruned.after and f'"anchor_id": {ids[2]}' in pruned.after
        chain = db.session.get(AuditChain, 1)
        assert chain.anchor_id == ids[2]
        report = verify_chain()
        assert report.ok and report.anchored and report.first_id == ids[2], report.describe()

        # A setting under the floor (as if the startup check were bypassed) still keeps 190 days.
        assert prune_audit(days=30) == 1
        assert logins(app)[:3] == ["aged189", "aged100", "aged10"]
        assert prune_audit(days=30) == 0
        assert verify_chain().ok


def test_the_database_refuses_to_remove_young_rows_whatever_asks(app):
    ids = age_rows(app)
    young, old = ids[3], ids[0]                                     # 189 and 400 days old
    with app.app_context():
        attempts = [
            ("DELETE FROM audit_entries WHERE id = :id", {"id": young}),
            # The old end, but the anchor has not moved past it.
            ("DELETE FROM audit_entries WHERE id = :id", {"id": old}),
            # Moving the anchor over a young row, to delete it afterwards.
            ("UPDATE audit_chain SET anchor_id = :id, anchor_prev_hash = "
             "(SELECT prev_hash FROM audit_entries WHERE id = :id)", {"id": ids[4]}),
            # Moving the anchor to a row with a different prev_hash.
            ("UPDATE audit_chain SET anchor_id = :id, anchor_prev_hash = 'x'", {"id": ids[1]}),
            ("UPDATE audit_entries SET at = at WHERE id = :id", {"id": old}),
        ]
        for statement, params in attempts:
            with pytest.raises(DBAPIError):
                db.session.execute(text(statement), params)
                db.session.commit()
            db.session.rollback()
        # The legitimate way, by hand: anchor first (over old rows only), then delete below it.
        db.session.execute(text("UPDATE audit_chain SET anchor_id = :id, anchor_prev_hash = "
                                "(SELECT prev_hash FROM audit_entries WHERE id = :id)"), {"id": ids[2]})
        db.session.execute(text("DELETE FROM audit_entries WHERE id < :id"), {"id": ids[2]})
        db.session.commit()
        # ... and the anchor never moves back.
        with pytest.raises(DBAPIError):
            db.session.execute(text("UPDATE audit_chain SET anchor_id = NULL, anchor_prev_hash = NULL"))
            db.session.commit()
        db.session.rollback()
        assert verify_chain().ok
    assert len(logins(app)) == len(ids) - 2


def test_retention_below_190_days_is_refused_at_startup(tmp_path):
    for days in (0, 30, 189):
        with pytest.raises(ValueError, match="190"):
            create_app({**base_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"),
                        "AUDIT_RETENTION_DAYS": days})
    create_app({**base_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"), "AUDIT_RETENTION_DAYS": 190})


def test_the_jobs_round_prunes_with_the_configured_retention(make_app, database_uri):
    app = make_app(database_uri, AUDIT_RETENTION_DAYS=200)
    age_rows(app)
    with app.app_context():
        assert run_due_jobs(force=True)["pruned_audit_entries"] == 3
        assert run_due_jobs(force=True)["pruned_audit_entries"] == 0
        assert verify_chain().ok
    assert logins(app)[:3] == ["aged189", "aged100", "aged10"]


def test_retention_works_in_batches_from_the_oldest_end(app):
    age_rows(app, ages=[400, 399, 398, 397, 396, 10])
    with app.app_context():
        assert prune_audit(days=365, batch=2) == 2
        assert prune_audit(days=365, batch=2) == 2
        assert prune_audit(days=365, batch=2) == 1
        assert prune_audit(days=365, batch=2) == 0
        assert verify_chain().ok
    assert [login for login in logins(app) if login.startswith("aged")] == ["aged10"]


def test_rows_that_do_not_verify_are_not_pruned(app):
    ids = age_rows(app)
    behind_the_triggers(app, "UPDATE audit_entries SET actor_login = 'edited' WHERE id = :id", id=ids[1])
    with app.app_context():
        assert prune_audit(days=365) == 0              # the evidence stays
    assert logins(app)[:2] == ["aged400", "edited"]
