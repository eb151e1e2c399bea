"""Background work: archive task channels whose end date has passed, push
scheduled notices whose publication time has come, and chase (催办) the
recipient units still handling a document due by tomorrow.

The embedded hub runs these in a small loop inside the server process (started
by wsgi.py); `flask --app wsgi hub run-jobs` runs them once, for cron. Each job
is idempotent, so a run that repeats or overlaps does no harm. (Exactly-once
across several processes comes with the scale-out work.)
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

log = logging.getLogger(__name__)
TZ = ZoneInfo("Asia/Shanghai")
INTERVAL_SECONDS = 600


def run_due_jobs() -> dict[str, int]:
    """Run every job once (inside an app context); returns what each did."""
    from hub.channels.actions import archive_ended_channels
    from hub.documents.actions import chase_due
    from hub.notices.actions import announce_due_notices
    today = datetime.now(TZ).date()
    return {"archived_channels": archive_ended_channels(today),
            "announced_notices": announce_due_notices(),
            # A unit is chased at most once every 4 hours (chase's own limit),
            # however often the jobs run.
            "chased_documents": chase_due()}


def start_job_loop(app: Flask) -> threading.Thread | None:
    """A daemon loop running the jobs every 10 minutes (off in tests)."""
    if app.config.get("TESTING") or not app.config.get("RUN_JOBS", True):
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(5 if not hasattr(loop, "ran") else INTERVAL_SECONDS):
            loop.ran = True
            try:
                with app.app_context():
                    done = run_due_jobs()
                if any(done.values()):
                    log.info("jobs: %s", done)
            except Exception:                     # keep the loop alive; the next run retries
                log.exception("background jobs failed")

    thread = threading.Thread(target=loop, name="hub-jobs", daemon=True)
    thread.start()
    return thread
