"""Background jobs with several hub processes: the jobs lease lets exactly one
run each round, and each job claims its rows so that two runs at once act once.

"Two processes" are two app instances (each with its own engine and session)
on the same database, working in two threads that start together."""
from __future__ import annotations

import threading
import time
from datetime import date, timedelta

from sqlalchemy import func, select, update

from hub.audit import AuditEntry
from hub.channels.actions import archive_ended_channels
from hub.channels.models import Channel, ChannelState
from hub.db import utcnow
from hub.documents.actions import chase_due
from hub.extensions import db
from hub.jobs import LEASE, LEASE_TTL, JobLoop, run_due_jobs
from hub.leases import JobLease, lease_holder, process_holder, release_lease, take_lease
from hub.notices.actions import announce_due_notices
from hub.notices.models import Notice
from tests.documents.test_jobs import beijing_today, in_handling, reminders
from tests.factories import connect

VILLAGE = "330802100202"        # 麻蓬村, where mp_secretary works
TOWN = "330802100"


def at_once(*calls):
    """Run each (app, function) in its own thread and app context, all released
    together; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, app, function):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = function()
            except BaseException as error:          # noqa: BLE001 (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(index, app, function))
               for index, (app, function) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    assert errors == []
    return results




def due_notices(app, api, ids, count: int) -> list[int]:
    """`count` notices to 麻蓬村 scheduled for tomorrow, then made due a minute ago."""
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    made = []
    for n in range(count):
        response = api("kc_clerk").post("/api/v1/notices", json={
            "title": f"定时通知{n}", "summary": "要点", "body": "正文", "publish_at": tomorrow,
            "audience": {"units": [ids.unit(VILLAGE)]}})
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json()["id"])
    with app.app_context():
        db.session.execute(update(Notice).where(Notice.id.in_(made))
                           .values(publish_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    return made


def pushed(socket) -> list[int]:
    return sorted(e["args"][0]["id"] for e in socket.get_received() if e["name"] == "notice")


# ---- The lease ----------------------------------------------------------------------------

def test_two_processes_racing_for_a_round_only_one_runs_it(app, make_app, database_uri, api, ids):
    other = make_app(database_uri)
    socket = connect(app, "mp_secretary")
    notices = due_notices(app, api, ids, 2)
    for attempt in range(3):
        first, second = at_once((app, lambda: run_due_jobs(holder="hub-a")),
                                (other, lambda: run_due_jobs(holder="hub-b")))
        ran = [result for result in (first, second) if result is not None]
        assert len(ran) == 1, (attempt, first, second)
        assert ran[0]["announced_notices"] == (2 if attempt == 0 else 0)
        with app.app_context():                      # both stop, as after a clean shutdown
            release_lease(LEASE, holder="hub-a")
            release_lease(LEASE, holder="hub-b")
    assert pushed(socket) == notices                 # each once, whoever ran the round


def test_while_one_process_holds_the_lease_the_others_skip_their_rounds(cast):
    assert take_lease(LEASE, ttl=LEASE_TTL, holder="hub-a")
    assert run_due_jobs(holder="hub-b") is None
    assert run_due_jobs(holder="hub-a") is not None        # the holder itself runs, and renews
    assert lease_holder(LEASE)[0] == "hub-a"


def test_an_expired_lease_is_taken_over(cast):
    start, ttl = utcnow(), timedelta(minutes=12)
    assert take_lease("jobs", ttl=ttl, holder="hub-a", now=start)
    assert not take_lease("jobs", ttl=ttl, holder="hub-b", now=start + ttl - timedelta(seconds=1))
    # hub-a died: once its lease has expired, hub-b takes over, and hub-a cannot take it back.
    assert take_lease("jobs", ttl=ttl, holder="hub-b", now=start + ttl)
    assert not take_lease("jobs", ttl=ttl, holder="hub-a", now=start + ttl + timedelta(seconds=1))
    holder, until = lease_holder("jobs")
    assert holder == "hub-b" and until == start + 2 * ttl


def test_the_holder_renews_its_lease(cast):
    start, ttl = utcnow(), timedelta(minutes=12)
    assert take_lease("jobs", ttl=ttl, holder="hub-a", now=start)
    assert take_lease("jobs", ttl=ttl, holder="hub-a", now=start + ttl - timedelta(seconds=1))
    assert not take_lease("jobs", ttl=ttl, holder="hub-b", now=start + ttl + timedelta(seconds=1))
    assert take_lease("jobs", ttl=ttl, holder="hub-b", now=start + 2 * ttl)
    assert db.session.scalar(select(func.count()).select_from(JobLease)) == 1


def test_a_released_lease_is_free_at_once_so_a_restart_loses_no_round(cast):
    assert take_lease(LEASE, ttl=LEASE_TTL, holder="hub-a")
    assert not take_lease(LEASE, ttl=LEASE_TTL, holder="hub-b")
    assert not release_lease(LEASE, holder="hub-b")         # only the holder can release
    assert release_lease(LEASE, holder="hub-a")
    assert take_lease(LEASE, ttl=LEASE_TTL, holder="hub-b")


def test_leases_of_different_names_are_independent(cast):
    assert take_lease("jobs", ttl=LEASE_TTL, holder="hub-a")
    assert take_lease("other-work", ttl=LEASE_TTL, holder="hub-b")


def test_the_loop_runs_rounds_while_it_holds_the_lease_and_releases_it_when_stopped(
        app, api, ids, monkeypatch):
    monkeypatch.setattr("hub.jobs.FIRST_SECONDS", 0.01)
    socket = connect(app, "mp_secretary")
    notices = due_notices(app, api, ids, 1)
    loop = JobLoop(app)
    loop.start()
    try:
        received, deadline = [], time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
            received = pushed(socket)
        assert received == notices
        with app.app_context():
            holder, until = lease_holder(LEASE)
            assert holder == process_holder() and until > utcnow()
    finally:
        loop.stop()
        loop.join(timeout=10)
    assert not loop.is_alive()
    with app.app_context():                                 # released: the next process takes it at once
        assert lease_holder(LEASE)[1] <= utcnow()
        assert take_lease(LEASE, ttl=LEASE_TTL, holder="hub-b")
    loop.stop()                                             # again (atexit): nothing happens
    with app.app_context():
        assert lease_holder(LEASE)[0] == "hub-b"


# ---- `hub run-jobs` -----------------------------------------------------------------------

def test_run_jobs_skips_while_a_hub_process_holds_the_lease_unless_forced(app, api, ids):
    [notice] = due_notices(app, api, ids, 1)
    with app.app_context():
        take_lease(LEASE, ttl=LEASE_TTL, holder="hub-a")
    result = app.test_cli_runner().invoke(args=["hub", "run-jobs"])
    assert result.exit_code == 0 and "skipped: hub-a holds the jobs lease" in result.output
    with app.app_context():
        assert db.session.get(Notice, notice).announced is False
    result = app.test_cli_runner().invoke(args=["hub", "run-jobs", "--force"])
    assert result.exit_code == 0 and "announced_notices: 1" in result.output
    with app.app_context():
        assert lease_holder(LEASE)[0] == "hub-a"           # --force leaves the lease alone


def test_run_jobs_releases_the_lease_after_its_round(app):
    result = app.test_cli_runner().invoke(args=["hub", "run-jobs"])
    assert result.exit_code == 0 and "archived_channels: 0" in result.output
    with app.app_context():                                 # a hub process may take it at once
        assert take_lease(LEASE, ttl=LEASE_TTL, holder="hub-a")


# ---- Each job acts once, even when two processes run it at once --------------------------

def test_announce_twice_at_once_pushes_each_notice_once(app, make_app, database_uri, api, ids):
    other = make_app(database_uri)
    socket = connect(app, "mp_secretary")
    notices = due_notices(app, api, ids, 3)
    counts = at_once((app, announce_due_notices), (other, announce_due_notices))
    assert sorted(counts) in ([0, 3], [1, 2]) and sum(counts) == 3
    assert pushed(socket) == notices
    with app.app_context():
        assert announce_due_notices() == 0
    assert pushed(socket) == []


def test_archive_twice_at_once_archives_and_audits_each_channel_once(app, make_app, database_uri, api, ids):
    other = make_app(database_uri)
    made = []
    for name in ("秋收", "防汛"):
        response = api("sl_clerk").post("/api/v1/channels", json={
            "name": name, "purpose": f"{name}进度", "ends_on": date.today().isoformat(),
            "unit_ids": [ids.unit(TOWN)]})
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json()["id"])
    tomorrow = date.today() + timedelta(days=1)
    counts = at_once((app, lambda: archive_ended_channels(tomorrow)),
                     (other, lambda: archive_ended_channels(tomorrow)))
    assert sum(counts) == 2
    with app.app_context():
        assert {db.session.get(Channel, c).state for c in made} == {ChannelState.ARCHIVED}
        audited = db.session.scalars(select(AuditEntry.target_id).where(
            AuditEntry.action == "channel.archived")).all()
    assert sorted(int(t) for t in audited) == made


def test_chase_twice_at_once_chases_a_unit_once(app, make_app, database_uri, cast):
    other = make_app(database_uri)
    document, _ = in_handling(cast, due=beijing_today() + timedelta(days=1))
    document_id = document.id
    db.session.commit()
    counts = at_once((app, chase_due), (other, chase_due))
    assert sorted(counts) == [0, 1]
    db.session.expire_all()
    assert len(reminders(db.session.get(type(document), document_id))) == 1
