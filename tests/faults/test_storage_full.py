"""Storage full (issue 7, item 6): the database or the upload folder runs out of
space. Writes answer a clear 507 (code storage_full), nothing is half-written,
reads keep working, and writing works again once there is room.

The database case is SQLite's (PRAGMA max_page_count caps the file at its size
now plus a little, on every connection of the app); the upload case mounts a
64 KiB tmpfs on the attachments folder (root only: skipped otherwise).
"""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.extensions import db
from tests.faults import post_until_full, stored_messages

BACKENDS = os.environ.get("HUB_TEST_BACKENDS", "sqlite,postgresql").split(",")


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    """SQLite only: PRAGMA max_page_count is SQLite's (PostgreSQL's disk full, SQLSTATE
    53100, is answered the same way by hub/errors.py but not provoked here)."""
    if "sqlite" not in BACKENDS:
        pytest.skip("SQLite not in HUB_TEST_BACKENDS")
    return request.param


def village_channel(person) -> int:
    return next(c["id"] for c in person.get("/api/v1/channels").get_json()["items"]
                if c["name"] == "麻蓬村委会")


def _cap_database(app, extra_pages: int):
    """Every new connection of the app's engine may grow the file by `extra_pages` at most."""
    with app.app_context():
        pages = db.session.execute(sa.text("PRAGMA page_count")).scalar_one()
        engine = db.engine
        db.session.remove()

        def cap(dbapi_connection, connection_record) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages + extra_pages}")
        sa.event.listen(engine, "connect", cap)
        engine.dispose()
    return engine, cap


def test_sqlite_full_answers_507_and_reads_keep_working(app, api):
    secretary, director = api("mp_secretary"), api("mp_director")
    channel = village_channel(secretary)
    path = f"/api/v1/channels/{channel}/messages"
    first = secretary.post(path, json={"body": "满盘前的消息", "client_msg_id": "before"})
    assert first.status_code == 201
    engine, cap = _cap_database(app, extra_pages=20)

    filled, refused = post_until_full(secretary, path, lambda n: f"第 {n} 条。" + "防汛值班安排" * 1500, 100)
    accepted = [first.get_json()["id"], *filled]
    assert "存储空间已满" in refused.get_json()["error"]["message"]

    # Reads keep working, for the writer and for others, while the disk is full.
    for person in (secretary, director):
        listed = person.get(f"{path}?after=0&limit=100")
        assert listed.status_code == 200, listed.get_data(as_text=True)[:300]
        assert [m["id"] for m in listed.get_json()["items"]] == accepted
        assert person.get("/api/v1/channels").status_code == 200
    # Still full: the next big write is refused the same way, not half-done.
    again = director.post(path, json={"body": "满盘时的另一条消息" + "防汛值班安排" * 1500,
                                      "client_msg_id": "full-2"})
    assert again.status_code == 507

    sa.event.remove(engine, "connect", cap)
    engine.dispose()
    after = director.post(path, json={"body": "腾出空间后的消息", "client_msg_id": "after"})
    assert after.status_code == 201, after.get_data(as_text=True)[:300]
    rows, last = stored_messages(app, channel)
    assert rows == accepted + [after.get_json()["id"]]
    assert last == rows[-1]


def _mount_tiny_tmpfs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a full file system needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(folder)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def test_upload_storage_full_answers_507_and_reads_keep_working(app, api):
    app.config["STORAGE_MIN_FREE_BYTES"] = 0        # no floor: the file system's own ENOSPC
    secretary, director = api("mp_secretary"), api("mp_director")
    channel = village_channel(secretary)
    folder = Path(app.instance_path) / "attachments"
    small = secretary.post("/api/v1/attachments", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "small.csv")},
                           content_type="multipart/form-data")
    assert small.status_code == 201
    before = sorted(p.name for p in folder.iterdir())
    _mount_tiny_tmpfs(folder)
    try:
        kept = secretary.post("/api/v1/attachments",
                              data={"file": (io.BytesIO(b"x,y\n" * 1000), "fits.csv")},
                              content_type="multipart/form-data")
        assert kept.status_code == 201
        big = secretary.post("/api/v1/attachments",
                             data={"file": (io.BytesIO(b"name,phone\n" * 20_000), "值班表.csv")},
                             content_type="multipart/form-data")
        assert big.status_code == 507, big.get_data(as_text=True)[:300]
        assert big.get_json()["error"]["code"] == "storage_full"
        # Nothing half-written: no file left behind, no attachment row.
        assert len(list(folder.iterdir())) == 1            # the one that fitted
        # Reads keep working: the file stored before, messages, the channel list.
        assert director.get(f"/api/v1/channels/{channel}/messages").status_code == 200
        assert secretary.get(f"/api/v1/attachments/{kept.get_json()['id']}").data == b"x,y\n" * 1000
        posted = secretary.post(f"/api/v1/channels/{channel}/messages",
                                json={"body": "附件上传失败，稍后再传", "client_msg_id": "no-room"})
        assert posted.status_code == 201       # the database is elsewhere and not full
    finally:
        subprocess.run(["umount", str(folder)], check=True)
    assert sorted(p.name for p in folder.iterdir()) == before
    with app.app_context():
        count = db.session.execute(sa.text("SELECT count(*) FROM attachments")).scalar_one()
    assert count == 2
