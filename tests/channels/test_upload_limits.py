"""Uploads cannot fill the disk (issue 13, finding 7): a per-person quota on
files not yet attached to anything, a job that removes them after a day, and a
507 while free space is still left (HUB_STORAGE_MIN_FREE_MB)."""
from __future__ import annotations

import io
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from hub.db import utcnow
from hub.extensions import db
from hub.files.models import Attachment
from hub.jobs import run_due_jobs
from tests.channels.test_attachments import upload, village_channel


def stored(app) -> set[str]:
    folder = Path(app.instance_path) / "attachments"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Attachment))


def refused(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == code and error["field"] == "file", error
    return error["message"]


def test_the_count_of_unattached_uploads_is_capped_per_person(app, api):
    app.config["UPLOAD_QUOTA_FILES"] = 3
    secretary, director = api("mp_secretary"), api("mp_director")
    first = [upload(secretary, f"表{n}.txt", "防汛值班".encode()).get_json()["id"] for n in range(3)]
    message = refused(upload(secretary, "表4.txt", b"one too many"), 413, "over_quota")
    assert "上限" in message
    assert rows(app) == 3
    # Another person has a quota of their own.
    assert upload(director, "通知.txt", b"hello").status_code == 201
    # Sending one frees its place.
    channel = village_channel(secretary)
    sent = secretary.post(f"/api/v1/channels/{channel}/messages",
                          json={"body": "值班表", "attachment_ids": [first[0]]})
    assert sent.status_code == 201, sent.get_json()
    assert upload(secretary, "表4.txt", b"now it fits").status_code == 201


def test_the_bytes_of_unattached_uploads_are_capped_per_person(app, api):
    app.config["UPLOAD_QUOTA_BYTES"] = 1000
    secretary = api("mp_secretary")
    assert upload(secretary, "a.txt", b"x" * 600).status_code == 201
    message = refused(upload(secretary, "b.txt", b"y" * 600), 413, "over_quota")
    assert "MB" in message
    assert upload(secretary, "c.txt", b"z" * 400).status_code == 201
    assert rows(app) == 2


def test_the_quota_holds_on_the_page_upload_path_too(app, api, client, login):
    app.config["UPLOAD_QUOTA_FILES"] = 1
    secretary = api("mp_secretary")
    assert upload(secretary, "a.txt", b"first").status_code == 201
    channel = village_channel(secretary)
    login("mp_secretary")
    page = client.post(f"/channels/{channel}/messages",
                       data={"body": "附件见后", "file": (io.BytesIO(b"second"), "b.txt")},
                       content_type="multipart/form-data")
    assert page.status_code == 413, page.status_code
    assert "上限" in page.get_data(as_text=True)
    assert rows(app) == 1


def test_uploads_are_refused_with_507_before_the_disk_is_full(app, api):
    secretary = api("mp_secretary")
    assert upload(secretary, "a.txt", b"fits").status_code == 201
    before = stored(app)
    free = shutil.disk_usage(Path(app.instance_path) / "attachments").free
    app.config["STORAGE_MIN_FREE_BYTES"] = free + 1024**3      # a floor above what is free
    message = refused(upload(secretary, "b.txt", b"does not"), 507, "storage_full")
    assert "存储空间" in message
    assert stored(app) == before and rows(app) == 1              # nothing written, no row
    # Reads and messages keep working.
    channel = village_channel(secretary)
    assert secretary.post(f"/api/v1/channels/{channel}/messages",
                          json={"body": "稍后再传", "client_msg_id": "later"}).status_code == 201
    app.config["STORAGE_MIN_FREE_BYTES"] = 0
    assert upload(secretary, "b.txt", b"room again").status_code == 201


def _age(app, attachment_ids: list[int], hours: int) -> None:
    with app.app_context():
        db.session.execute(update(Attachment).where(Attachment.id.in_(attachment_ids))
                           .values(created_at=utcnow() - timedelta(hours=hours)))
        db.session.commit()


def test_the_job_removes_unattached_uploads_older_than_a_day_and_keeps_the_rest(app, api, ids):
    secretary, leader = api("mp_secretary"), api("sl_leader")
    channel = village_channel(secretary)
    old_unused = upload(secretary, "old.txt", b"forgotten").get_json()["id"]
    old_sent = upload(secretary, "sent.txt", b"on a message").get_json()["id"]
    old_notice = upload(leader, "notice.txt", b"on a notice").get_json()["id"]
    recent = upload(secretary, "recent.txt", b"still being written").get_json()["id"]
    assert secretary.post(f"/api/v1/channels/{channel}/messages",
                          json={"body": "见附件", "attachment_ids": [old_sent]}).status_code == 201
    published = leader.post("/api/v1/notices", json={
        "title": "关于防汛值班的通知", "summary": "今晚起值班", "attachment_ids": [old_notice],
        "audience": {"units": [ids.unit("330802100202")]}})
    assert published.status_code == 201, published.get_json()
    _age(app, [old_unused, old_sent, old_notice], hours=25)
    _age(app, [recent], hours=23)
    folder = Path(app.instance_path) / "attachments"
    with app.app_context():
        names = dict(db.session.execute(select(Attachment.id, Attachment.storage_name)).all())
    # A file left by a crash between the commit and the unlink: no row, a day old.
    orphan, fresh_orphan = folder / ("0" * 32), folder / ("1" * 32)
    orphan.write_bytes(b"orphan")
    fresh_orphan.write_bytes(b"being written")
    two_days_ago = time.time() - 2 * 86400
    os.utime(orphan, (two_days_ago, two_days_ago))

    with app.app_context():
        done = run_due_jobs()
    assert done["removed_uploads"] == 2                          # the old unused one and the orphan
    with app.app_context():
        left = set(db.session.scalars(select(Attachment.id)))
    assert left == {old_sent, old_notice, recent}
    assert stored(app) == {names[old_sent], names[old_notice], names[recent], fresh_orphan.name}
    assert secretary.get(f"/api/v1/attachments/{old_unused}").status_code == 404
    assert api("mp_director").get(f"/api/v1/attachments/{old_sent}").data == b"on a message"
    with app.app_context():
        assert run_due_jobs()["removed_uploads"] == 0          # nothing more, the second time


def test_a_file_attached_while_the_job_runs_is_either_kept_with_its_message_or_refused(
        make_app, database_uri, app, api):
    """The job and a message attaching the same day-old upload, at once, from two
    processes: either the message carries the file and it is still on disk, or
    the message is refused and the file is gone — never a message whose file is gone."""
    from tests.test_jobs_lease import at_once
    other = make_app(database_uri)
    secretary = api("mp_secretary")
    channel = village_channel(secretary)
    sender = other.test_client()
    for round_ in range(4):
        attachment = upload(secretary, f"表{round_}.txt", b"duty roster").get_json()["id"]
        _age(app, [attachment], hours=25)
        with app.app_context():
            name = db.session.get(Attachment, attachment).storage_name
        path = Path(app.instance_path) / "attachments" / name

        def send():
            return sender.post(f"/api/v1/channels/{channel}/messages", headers={
                "Authorization": f"Bearer {secretary.token}"},
                json={"body": "值班表", "attachment_ids": [attachment], "client_msg_id": f"race{round_}"})

        removed, response = at_once((app, lambda: run_due_jobs(force=True)["removed_uploads"]), (other, send))
        if response.status_code == 201:
            assert removed == 0 and path.exists()
            assert [a["id"] for a in response.get_json()["attachments"]] == [attachment]
        else:
            assert response.status_code in (400, 409), response.get_json()
            assert removed == 1 and not path.exists()


def test_a_file_put_on_a_notice_while_the_job_runs_is_either_kept_or_refused(make_app, database_uri, app,
                                                                            api, ids):
    """The same race with a notice, which carries files through a row of its own
    (a foreign key, not a column of the upload): never a 500, never a notice whose file is gone."""
    from tests.test_jobs_lease import at_once
    other = make_app(database_uri)
    leader = api("sl_leader")
    sender = other.test_client()
    for round_ in range(4):
        attachment = upload(leader, f"通知{round_}.txt", b"notice file").get_json()["id"]
        _age(app, [attachment], hours=25)
        with app.app_context():
            name = db.session.get(Attachment, attachment).storage_name
        path = Path(app.instance_path) / "attachments" / name

        def publish():
            return sender.post("/api/v1/notices", headers={"Authorization": f"Bearer {leader.token}"}, json={
                "title": f"关于防汛值班的通知{round_}", "summary": "今晚起值班",
                "attachment_ids": [attachment], "audience": {"units": [ids.unit("330802100202")]}})

        removed, response = at_once((app, lambda: run_due_jobs(force=True)["removed_uploads"]),
                                    (other, publish))
        if response.status_code == 201:
            assert removed == 0 and path.exists()
            assert [a["id"] for a in response.get_json()["attachments"]] == [attachment]
        else:
            assert response.status_code in (400, 409), response.get_json()
            assert removed == 1 and not path.exists()
