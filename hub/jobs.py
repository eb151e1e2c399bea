"""Background work: archive task channels whose end date has passed, push
scheduled notices whose publication time has come, chase (催办) the
recipient units still handling a document due by tomorrow, forget the records of
sign-outs older than the absolute session limit, remove files uploaded more than
a day ago (HUB_UNATTACHED_UPLOAD_HOURS) and still attached to nothing, and remove
audit rows older than the retention (HUB_AUDIT_RETENTION_DAYS, at least 190 days).

Every hub (gunicorn) process runs these in a small loop started by wsgi.py, and
`flask --app wsgi hub run-jobs` runs them once. With several processes, the
jobs lease in the database (hub/leases.py) decides which one works: the process
holding it runs a round every 10 minutes and renews it; the others check every
minute and take over once it has expired, at most LEASE_TTL after its holder
died. A process that stops cleanly releases it, and another takes over within
a minute (docs/DEPLOY.md, "Background jobs").
Each job is also safe to run twice at once (each claims its rows with a
conditional UPDATE), which covers a holder that stalls past its lease.
The daily digest needs no job: it is computed when a person opens it.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
from datetime import datetime, timedelta

from flask import Flask

from hub.leases import release_lease, take_lease
from hub.times import TZ

log = logging.getLogger(__name__)
LEASE = "jobs"
FIRST_SECONDS = 5                # the first round, soon after the process starts
INTERVAL_SECONDS = 600           # the lease holder runs a round every 10 minutes
RETRY_SECONDS = 60               # the others look at the lease every minute
# Outlives the wait between two rounds (the holder renews before and after each
# round) with two minutes to spare.
LEASE_TTL = timedelta(seconds=INTERVAL_SECONDS + 120)


def run_due_jobs(*, holder: str | None = None, force: bool = False) -> dict[str, int] | None:
    """Run every job once (inside an app context) if `holder` (this process by
    default) takes or holds the jobs lease; returns what each job did, or None
    when another process holds the lease. `force` runs without the lease."""
    from hub.audit_chain import prune_audit
    from hub.auth.actions import forget_ended_sign_ins
    from hub.channels.actions import archive_ended_channels
    from hub.documents.actions import chase_due
    from hub.files.storage import remove_unattached_uploads
    from hub.notices.actions import announce_due_notices
    if not force and not take_lease(LEASE, ttl=LEASE_TTL, holder=holder):
        return None
    today = datetime.now(TZ).date()
    done = {"archived_channels": archive_ended_channels(today),
            "announced_notices": announce_due_notices(),
            # A unit is chased at most once every 4 hours (chase's own limit),
            # however often the jobs run.
            "chased_documents": chase_due(),
            "forgotten_sign_outs": forget_ended_sign_ins(),
            "removed_uploads": remove_unattached_uploads(),
            # Last: a refusal by the database (a clock far ahead of it) stops only this one.
            "pruned_audit_entries": prune_audit()}
    if not force and not take_lease(LEASE, ttl=LEASE_TTL, holder=holder):
        log.warning("jobs: the round outlasted the lease; another process has taken it over")
    return done


def run_jobs_once(*, force: bool = False) -> dict[str, int] | None:
    """One round for `hub run-jobs`: under the lease, which is released afterwards
    (a later run, from another process, need not wait for it to expire). None when
    a hub process holds the lease: its loop is doing the work."""
    done = run_due_jobs(force=force)
    if done is not None and not force:
        release_lease(LEASE)
    return done


class JobLoop(threading.Thread):
    """The jobs, every INTERVAL_SECONDS while this process holds the lease;
    otherwise a look at the lease every RETRY_SECONDS."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="hub-jobs", daemon=True)
        self.app = app
        self.stopping = threading.Event()

    def run(self) -> None:
        wait = FIRST_SECONDS
        while not self.stopping.wait(wait):
            wait = INTERVAL_SECONDS
            try:
                with self.app.app_context():
                    done = run_due_jobs()
                if done is None:
                    wait = RETRY_SECONDS
                elif any(done.values()):
                    log.info("jobs: %s", done)
            except Exception:                     # keep the loop alive; the next round retries
                log.exception("background jobs failed")

    def stop(self) -> None:
        """Stop looping and release the lease, so that another process takes
        over within a minute instead of when it expires. Safe to repeat."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        # A round under way would take the lease again after the release below
        # (and hold it for its whole TTL): let it finish first.
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=60)
        try:
            with self.app.app_context():
                release_lease(LEASE)
        except Exception:                         # the lease then simply expires
            log.warning("jobs: could not release the lease", exc_info=True)


def start_job_loop(app: Flask) -> JobLoop | None:
    """Start the jobs loop in this process; it stops, releasing the lease, when
    the process exits. Off in tests, and in `flask` commands (which import
    wsgi.py too: `hub run-jobs` is their way to run the jobs)."""
    if (app.config.get("TESTING") or not app.config.get("RUN_JOBS", True)
            or os.environ.get("FLASK_RUN_FROM_CLI") == "true"):
        return None
    loop = JobLoop(app)
    loop.start()
    atexit.register(loop.stop)
    return loop
