"""PostgreSQL's disk full (issue 7, item 6): the messages table lives in a
tablespace on a small tmpfs, which fills up. The write that does not fit is
refused with a clear 507 (PostgreSQL's disk_full, SQLSTATE 53100, from the
real server), nothing is half-written, reads keep working, and once the file
system has room again (remounted bigger) writing works with no hub restart.

Needs root (mount) and Debian's PostgreSQL; skipped otherwise, failed in CI
when PostgreSQL is missing (tests/pg.py).
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from hub.extensions import db
from tests.conftest import BACKENDS, _migrate
from tests.faults import post_until_full, stored_messages
from tests.pg import running_postgres


@pytest.fixture(params=["postgresql"])
def backend(request) -> str:
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL not in HUB_TEST_BACKENDS")
    return request.param


def _mount(folder: Path, size: str, *, remount: bool = False) -> subprocess.CompletedProcess:
    owner = pwd.getpwnam("postgres")
    options = f"size={size},mode=0700,uid={owner.pw_uid},gid={owner.pw_gid}"
    if remount:
        options = "remount," + options
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)


@pytest.fixture
def small_disk_database(backend):
    """(database URL, the tmpfs folder): a fresh database on its own server whose
    messages table and indexes are in a tablespace on a 1 MiB tmpfs."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user (Debian's postgresql package)")
    folder = Path(tempfile.mkdtemp(prefix="hub-pg-small-"))
    mounted = _mount(folder, "1m")
    if mounted.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        with running_postgres() as server:
            url = server.create_database("hub_full")
            yield url, folder, server
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _messages_onto(url: str, folder: Path) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE TABLESPACE small LOCATION '{folder}'")
        connection.execute("ALTER TABLE messages SET TABLESPACE small")
        for (index,) in connection.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'messages'"):
            connection.execute(f'ALTER INDEX "{index}" SET TABLESPACE small')


@pytest.fixture
def database_uri(small_disk_database, tmp_path) -> str:
    """The suite's `app` and `api` fixtures, on the small-disk database."""
    url = small_disk_database[0]
    _migrate(tmp_path / "migrate", url)
    return url


def test_postgresql_disk_full_answers_507_and_reads_keep_working(small_disk_database, app, api):
    url, folder, _server = small_disk_database
    _messages_onto(url, folder)              # after the cast was seeded (the `app` fixture)
    secretary, director = api("mp_secretary"), api("mp_director")
    secretary, director = api("mp_secretary"), api("mp_director")
    channel = next(c["id"] for c in secretary.get("/api/v1/channels").get_json()["items"]
                   if c["name"] == "麻蓬村委会")
    path = f"/api/v1/channels/{channel}/messages"

    # Random text: PostgreSQL compresses repetitive text, and the disk must fill.
    accepted, _refused = post_until_full(secretary, path,
                                         lambda n: f"第 {n} 条 " + secrets.token_hex(2000), 2000)
    assert accepted, "nothing fitted before the disk was full"

    # Reads keep working for everyone while the disk is full; the refused one is nowhere.
    for person in (secretary, director):
        listed = person.get(f"{path}?after=0&limit=100")
        assert listed.status_code == 200, listed.get_data(as_text=True)[:300]
        assert [m["id"] for m in listed.get_json()["items"]] == accepted[:100]
    again = director.post(path, json={"body": secrets.token_hex(2000), "client_msg_id": "full-2"})
    assert again.status_code == 507

    # Room again (the administrator grows the volume): writing works, no restart.
    assert _mount(folder, "8m", remount=True).returncode == 0
    after = director.post(path, json={"body": "扩容后的消息", "client_msg_id": "after"})
    assert after.status_code == 201, after.get_data(as_text=True)[:300]
    rows, last = stored_messages(app, channel)
    with app.app_context():
        client_ids = set(db.session.execute(sa.text("SELECT client_msg_id FROM messages")).scalars())
    assert rows == accepted + [after.get_json()["id"]]
    assert last == rows[-1]
    assert "full-2" not in client_ids and f"fill-{len(accepted)}" not in client_ids
