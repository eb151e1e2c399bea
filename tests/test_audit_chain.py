"""The audit log's fields and hash chain: every row chained at commit, in order,
by one appender at a time; an edited, removed or added row is found, on SQLite
and on PostgreSQL."""
from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from hub import create_app
from hub.audit import (FAILURE, GENESIS, REFUSED, SUCCESS, AuditChain, AuditEntry, canonical,
                       record_audit, row_hash)
from hub.audit_chain import verify_chain
from hub.extensions import db
from tests.conftest import base_config

SQLITE_TRIGGERS = ("audit_entries_no_update", "audit_entries_no_delete", "audit_chain_anchor_forward",
                   "audit_chain_no_delete")


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return rows


def behind_the_triggers(app, sql, **params) -> None:
    """Change the log the way only someone with the database's keys could: with
    the append-only triggers out of the way (PostgreSQL: replica mode for this
    transaction; SQLite: the triggers dropped from this test's own file)."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for name in SQLITE_TRIGGERS:
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        connection.execute(text(sql) if isinstance(sql, str) else sql, params)


def make_rows(app, count: int) -> list[int]:
    with app.app_context():
        for number in range(count):
            record_audit(None, "auth.login_failed", actor_login=f"probe{number}",
                         target_label=f"probe{number}", after={"reason": "unknown_login"})
            db.session.commit()
    return [e.id for e in entries(app)]


def test_the_canonical_form_is_fixed():
    """Changing the serialization would make every stored hash wrong: this pins it."""
    row = {"prev_hash": GENESIS, "hash_algorithm": "sha256",
           "at": datetime(2026, 11, 22, 1, 2, 3, 456789, tzinfo=timezone.utc), "actor_id": 7,
           "actor_login": "kc_clerk", "actor_unit_id": 3, "actor_unit": "柯城区人民政府办公室",
           "action": "notice.published", "outcome": "success", "target_type": "notice",
           "target_id": 12, "target_label": "关于做好冬季防火工作的通知", "before": None,
           "after": '{"title": "x"}', "ip": "10.0.0.9", "user_agent": "Mozilla/5.0"}
    assert canonical(row) == (
        '["hub-audit-v1","' + GENESIS + '","sha256","2026-11-22T01:02:03.456789Z",7,"kc_clerk",3,'
        '"柯城区人民政府办公室","notice.published","success","notice",12,"关于做好冬季防火工作的通知",'
        'null,"{\\"title\\": \\"x\\"}","10.0.0.9","Mozilla/5.0"]').encode()
    assert row_hash(row) == hashlib.sha256(canonical(row)).hexdigest()
    # The same instant in another zone is the same row.
    beijing = dict(row, at=row["at"].astimezone(timezone(timedelta(hours=8))))
    assert row_hash(beijing) == row_hash(row)


def test_sign_ins_record_unit_address_agent_and_outcome(app, client, login):
    login("kc_clerk")
    client.post("/auth/logout")
    client.post("/auth/login", data={"login": "kc_clerk", "password": "wrong"},
                headers={"User-Agent": "Probe/1.0"})
    client.post("/auth/login", data={"login": "nobody", "password": "wrong"})
    with app.app_context():
        from hub.org.models import User
        db.session.scalar(select(User).where(User.login == "sl_clerk")).active = False
        db.session.commit()
    client.post("/auth/login", data={"login": "sl_clerk", "password": "Hub-demo-2026"})
    rows = [(e.action, e.actor_login, e.actor_unit, e.outcome) for e in entries(app)]
    assert rows[:5] == [("auth.login", "kc_clerk", "柯城区人民政府办公室", SUCCESS),
                        ("auth.logout", "kc_clerk", "柯城区人民政府办公室", SUCCESS),
                        ("auth.login_failed", "kc_clerk", "柯城区人民政府办公室", FAILURE),
                        ("auth.login_failed", "nobody", None, FAILURE),
                        ("auth.login_failed", "sl_clerk", "石梁镇", REFUSED)]
    failed = entries(app)[2]
    assert failed.ip == "127.0.0.1" and failed.user_agent == "Probe/1.0"
    assert failed.at.tzinfo is not None and abs(datetime.now(timezone.utc) - failed.at) < timedelta(minutes=1)
    with app.app_context():
        unit_id = db.session.execute(text("SELECT id FROM units WHERE code = '330802-GOV'")).scalar()
    assert failed.actor_unit_id == unit_id


def test_every_row_is_chained_in_order_and_the_chain_verifies(app, cast, client, login):
    login("kc_clerk")                                            # through a request
    record_audit(None, "unit.imported", actor_login="(demo)", target_label="柯城区")
    record_audit(cast.user("admin"), "unit.renamed", cast.unit("330802100"),
                 before={"name": "石梁镇"}, after={"name": "石梁镇人民政府"})
    db.session.commit()                                          # two rows in one commit
    db.session.add(AuditEntry(action="unit.updated", actor_login="admin",   # straight to the session
                              at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    db.session.commit()
    rows = entries(app)
    algorithm = "sm3" if "sm3" in hashlib.algorithms_available else "sha256"
    assert [r.action for r in rows] == ["auth.login", "unit.imported", "unit.renamed", "unit.updated"]
    assert rows[0].prev_hash == GENESIS
    assert all(r.prev_hash == before.hash for before, r in zip(rows, rows[1:]))
    assert all(r.hash_algorithm == algorithm and len(r.hash) == 64 for r in rows)
    assert all(r.hash == row_hash({n: getattr(r, n) for n in r.__table__.columns.keys()}) for r in rows)
    chain = db.session.get(AuditChain, 1)
    assert (chain.head_id, chain.head_hash) == (rows[-1].id, rows[-1].hash)
    report = verify_chain()
    assert report.ok and report.rows == 4 and report.head_hash == rows[-1].hash, report.describe()


def test_a_rolled_back_transaction_leaves_no_row(app, cast):
    record_audit(None, "auth.login_failed", actor_login="ghost")
    db.session.rollback()
    record_audit(None, "auth.login_failed", actor_login="kept")
    db.session.commit()
    assert [e.actor_login for e in entries(app)] == ["kept"]
    assert verify_chain().ok


def test_an_edited_row_is_found_by_the_verification(app):
    ids = make_rows(app, 5)
    behind_the_triggers(app, "UPDATE audit_entries SET actor_login = 'someone_else' WHERE id = :id",
                        id=ids[2])
    with app.app_context():
        report = verify_chain()
    assert not report.ok and report.broken_id == ids[2] and "content" in report.problem
    assert report.rows == 2

    result = app.test_cli_runner().invoke(args=["hub", "audit-verify"])
    assert result.exit_code == 1 and f"BROKEN at row #{ids[2]}" in result.output
    verified = entries(app)[-1]             # the verification itself is in the log
    assert (verified.action, verified.outcome) == ("audit.verified", FAILURE)


def test_an_edit_that_recomputes_the_hash_breaks_the_next_link(app):
    ids = make_rows(app, 4)
    forged = next(e for e in entries(app) if e.id == ids[1])
    fields = {n: getattr(forged, n) for n in forged.__table__.columns.keys()}
    fields["actor_login"] = "someone_else"
    behind_the_triggers(app, "UPDATE audit_entries SET actor_login = 'someone_else', hash = :hash "
                        "WHERE id = :id", hash=row_hash(fields), id=ids[1])
    with app.app_context():
        report = verify_chain()
    assert report.broken_id == ids[2] and "prev_hash" in report.problem


def test_a_removed_row_is_found_at_the_row_after_it(app):
    ids = make_rows(app, 5)
    behind_the_triggers(app, "DELETE FROM audit_entries WHERE id = :id", id=ids[1])
    with app.app_context():
        report = verify_chain()
    assert report.broken_id == ids[2] and "prev_hash" in report.problem and report.rows == 1


def test_the_newest_rows_removed_show_at_the_head(app):
    ids = make_rows(app, 3)
    behind_the_triggers(app, "DELETE FROM audit_entries WHERE id = :id", id=ids[-1])
    with app.app_context():
        report = verify_chain()
    assert not report.ok and "head" in report.problem and report.rows == 2


def test_a_well_formed_row_added_past_the_head_shows_too(app):
    make_rows(app, 2)
    last = entries(app)[-1]
    forged = {n: getattr(last, n) for n in last.__table__.columns.keys()}
    forged.update(id=last.id + 1, prev_hash=last.hash, actor_login="intruder")
    forged["hash"] = row_hash(forged)
    behind_the_triggers(app, AuditEntry.__table__.insert().values(**forged))
    with app.app_context():
        report = verify_chain()
    assert not report.ok and "head" in report.problem


def test_the_cli_reports_an_intact_chain(app):
    make_rows(app, 3)
    result = app.test_cli_runner().invoke(args=["hub", "audit-verify"])
    assert result.exit_code == 0 and "audit chain intact: 3 rows" in result.output


def test_the_log_stays_append_only(cast):
    record_audit(None, "auth.login_failed", actor_login="x")
    db.session.commit()
    for statement in ("UPDATE audit_entries SET action = 'forged'", "DELETE FROM audit_entries",
                      "UPDATE audit_entries SET hash = 'x'", "DELETE FROM audit_chain"):
        with pytest.raises(DBAPIError):
            db.session.execute(text(statement))
            db.session.commit()
        db.session.rollback()
    assert verify_chain().ok


def test_two_processes_appending_at_once_do_not_fork_the_chain(make_app, database_uri):
    apps = [make_app(database_uri), make_app(database_uri)]
    start = threading.Barrier(len(apps))
    problems = []

    def append(app, name: str) -> None:
        try:
            with app.app_context():
                start.wait()
                for number in range(25):
                    record_audit(None, "auth.login_failed", actor_login=name, target_label=str(number))
                    db.session.commit()
        except Exception as problem:               # surfaced below
            problems.append(problem)

    threads = [threading.Thread(target=append, args=(app, f"writer{n}")) for n, app in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    rows = entries(apps[0])
    assert len(rows) == 50 and {r.actor_login for r in rows} == {"writer0", "writer1"}
    assert all(r.prev_hash == before.hash for before, r in zip(rows, rows[1:]))
    with apps[0].app_context():
        assert verify_chain().ok


def test_the_algorithm_is_configurable_and_stored_per_row(make_app, database_uri):
    first = make_app(database_uri, AUDIT_HASH="sha256")
    make_rows(first, 2)
    if "sm3" in hashlib.algorithms_available:
        second = make_app(database_uri, AUDIT_HASH="sm3")
        make_rows(second, 1)
        rows = entries(second)
        assert [r.hash_algorithm for r in rows] == ["sha256", "sha256", "sm3"]
        assert rows[2].hash == hashlib.new("sm3", canonical(
            {n: getattr(rows[2], n) for n in rows[2].__table__.columns.keys()})).hexdigest()
    with first.app_context():
        assert verify_chain().ok


@pytest.mark.parametrize("setting", ["md5", "sha-1", "SM4"])
def test_an_unknown_algorithm_is_refused_at_startup(tmp_path, setting):
    with pytest.raises(ValueError, match="HUB_AUDIT_HASH"):
        create_app({**base_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"), "AUDIT_HASH": setting})


# ---- migration 0011 on a log that already has rows ----

def old_database(backend, request, tmp_path, name: str):
    """An app on a new database migrated to 0010 (before the chain), with three rows."""
    import sqlalchemy as sa
    from hub.db import UTCDateTime
    from hub.migrate import upgrade
    uri = (f"sqlite:///{tmp_path / f'{name}.db'}" if backend == "sqlite"
           else request.getfixturevalue("pg_server").create_database(name))
    app = create_app(base_config(tmp_path, uri))
    upgrade(app, "0010")
    old = sa.table("audit_entries", sa.column("at", UTCDateTime()), sa.column("action"),
                   sa.column("actor_login"), sa.column("after"))
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(old.insert(), [
            {"at": datetime(2026, 1, 1, 8, tzinfo=timezone.utc), "action": "auth.login", "actor_login": "a",
             "after": None},
            {"at": datetime(2026, 1, 2, 8, tzinfo=timezone.utc), "action": "auth.login_failed",
             "actor_login": "b", "after": '{"reason": "bad_password"}'},
            {"at": datetime(2026, 1, 3, 8, tzinfo=timezone.utc), "action": "auth.login_failed",
             "actor_login": "c", "after": '{"reason": "locked"}'}])
    return app


def test_the_migration_chains_the_rows_already_there(backend, request, tmp_path):
    from hub.migrate import upgrade
    app = old_database(backend, request, tmp_path, "hub_before_0011")
    try:
        upgrade(app)
        rows = entries(app)
        assert [(r.actor_login, r.outcome) for r in rows] == [("a", SUCCESS), ("b", FAILURE), ("c", REFUSED)]
        assert rows[0].prev_hash == GENESIS and rows[1].prev_hash == rows[0].hash
        with app.app_context():
            assert verify_chain().ok
            record_audit(None, "auth.login", actor_login="d")   # and the chain goes on from there
            db.session.commit()
            report = verify_chain()
            assert report.ok and report.rows == 4
            with pytest.raises(DBAPIError):                      # still append-only
                db.session.execute(text("UPDATE audit_entries SET actor_login = 'x'"))
                db.session.commit()
            db.session.rollback()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_migration_goes_down_to_the_old_rule_and_up_again(backend, request, tmp_path):
    from alembic import command
    from hub.migrate import alembic_config, upgrade
    app = old_database(backend, request, tmp_path, "hub_down_0011")
    try:
        upgrade(app)
        with app.app_context():
            command.downgrade(alembic_config(app), "0010")
            for statement in ("UPDATE audit_entries SET actor_login = 'x'", "DELETE FROM audit_entries"):
                with pytest.raises(DBAPIError):                  # 0001's rule is back
                    db.session.execute(text(statement))
                    db.session.commit()
                db.session.rollback()
        upgrade(app)
        with app.app_context():
            assert verify_chain().ok and verify_chain().rows == 3
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
