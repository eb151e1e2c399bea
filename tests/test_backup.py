"""Backup and restore, round trip on SQLite and on PostgreSQL: a backup of a hub
with data and an uploaded file, restored into a fresh database and instance
folder, has the same rows, the same file bytes and an intact audit chain."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select, text

from hub.audit import AuditEntry
from hub.audit_chain import verify_chain
from hub.backup import BackupError, backup, restore
from hub.extensions import db
from tests.files import PDF

MAIN_TABLES = ("units", "users", "memberships", "role_grants", "channels", "messages", "attachments",
               "notices", "audit_entries", "audit_chain")


def fresh_target(backend: str, request, tmp_path: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    return request.getfixturevalue("pg_server").create_database(name)


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in MAIN_TABLES}


def some_data(api, ids) -> bytes:
    """A notice with a PDF attached, a channel message, a few audit rows."""
    clerk = api("kc_clerk")
    uploaded = clerk.post("/api/v1/attachments", data={"file": (io.BytesIO(PDF), "值班表.pdf")},
                          content_type="multipart/form-data").get_json()
    notice = clerk.post("/api/v1/notices", json={
        "title": "关于做好冬季防火工作的通知", "summary": "12月1日前完成排查", "body": "各单位：……",
        "audience": {"subtrees": [ids.unit("330802100")]}, "attachment_ids": [uploaded["id"]]})
    assert notice.status_code == 201, notice.get_json()
    channel = next(c["id"] for c in clerk.get("/api/v1/channels").get_json()["items"]
                   if c["name"] == "柯城区人民政府办公室")
    assert clerk.post(f"/api/v1/channels/{channel}/messages",
                      json={"body": "请各位查收", "client_msg_id": "m-1"}).status_code == 201
    return PDF


def test_backup_and_restore_round_trip(app, api, ids, make_app, backend, request, tmp_path):
    some_data(api, ids)
    before = counts(app)
    assert before["attachments"] == 1 and before["notices"] == 1 and before["messages"] >= 1
    archive = tmp_path / "backups" / "hub.tar"
    result = app.test_cli_runner().invoke(args=["hub", "backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.stat().st_mode & 0o077 == 0                      # its owner's only

    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = tar.getnames()
    assert manifest["backend"] == backend and manifest["schema_revision"]
    assert {t: manifest["counts"][t] for t in MAIN_TABLES} == before
    assert manifest["attachments"] == {"files": 1, "bytes": len(PDF)}
    assert names[0] == "manifest.json" and len([n for n in names if n.startswith("attachments/")]) == 1
    with app.app_context():                                        # the backup is audited, with its digest
        import hashlib
        done = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "system.backup")).one()
        assert json.loads(done.after)["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()

    restored = make_app(fresh_target(backend, request, tmp_path, "hub_restored"),
                        INSTANCE_PATH=str(tmp_path / "restored-instance"))
    result = restored.test_cli_runner().invoke(args=["hub", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output
    after = counts(restored)
    assert {t: n for t, n in after.items() if t != "audit_entries"} == \
        {t: n for t, n in before.items() if t != "audit_entries"}
    assert after["audit_entries"] == before["audit_entries"] + 1   # + the restore's own row
    files = list((tmp_path / "restored-instance" / "attachments").iterdir())
    assert [f.read_bytes() for f in files] == [PDF]
    with restored.app_context():
        report = verify_chain()
        assert report.ok and report.rows == before["audit_entries"] + 1, report.describe()
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert (last.action, last.outcome) == ("system.restore", "success")
    # The restored hub works: its people sign in, and its file downloads.
    client = restored.test_client()
    token = client.post("/api/v1/auth/token", json={"login": "mp_secretary", "password": "Hub-demo-2026"})
    assert token.status_code == 200
    inbox = client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    notice = inbox.get_json()["items"][0]
    assert notice["title"] == "关于做好冬季防火工作的通知"


def test_restore_refuses_a_database_with_data_unless_forced(app, api, ids, tmp_path):
    some_data(api, ids)
    archive = tmp_path / "hub.tar"
    with app.app_context():
        backup(archive)
        with pytest.raises(BackupError, match="not empty"):
            restore(archive)
    result = app.test_cli_runner().invoke(args=["hub", "restore", str(archive)])
    assert result.exit_code != 0 and "--force" in result.output
    # Forced, onto itself: the same data again, and a chain that verifies.
    with app.app_context():
        report = restore(archive, force=True)
        assert report.ok and not report.mismatches, (report.mismatches, report.chain.describe())


def rewrite(archive: Path, target: Path, *, manifest=None, extra: tuple[str, bytes] | None = None,
            damage: str | None = None) -> Path:
    """A copy of `archive` with its manifest changed, a member added or a member's bytes damaged."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            if member.name == damage:
                data = data[:-1] + bytes([data[-1] ^ 1])
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
        if extra:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            copy.addfile(info, io.BytesIO(extra[1]))
    return target


def test_restore_checks_the_archive_before_touching_anything(app, make_app, backend, request, tmp_path):
    archive = tmp_path / "hub.tar"
    with app.app_context():
        backup(archive)
    member = "database/hub.pgdump" if backend == "postgresql" else "database/hub.sqlite3"
    bad = {
        "unknown revision": rewrite(archive, tmp_path / "a.tar",
                                    manifest=lambda m: {**m, "schema_revision": "9999"}),
        "other backend": rewrite(archive, tmp_path / "b.tar", manifest=lambda m: {
            **m, "backend": "sqlite" if backend == "postgresql" else "postgresql"}),
        "damaged database": rewrite(archive, tmp_path / "c.tar", damage=member),
        "path traversal": rewrite(archive, tmp_path / "d.tar", extra=("attachments/../../evil", b"x")),
    }
    (tmp_path / "e.tar").write_bytes(b"not a tar at all")
    target = make_app(fresh_target(backend, request, tmp_path, "hub_untouched"),
                      INSTANCE_PATH=str(tmp_path / "untouched"))
    with target.app_context():
        for what, path in bad.items():
            with pytest.raises(BackupError):
                restore(path)
                pytest.fail(what)
        with pytest.raises(BackupError, match="tar"):
            restore(tmp_path / "e.tar")
        tables = db.session.execute(text(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'units'")
            if backend == "postgresql" else text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'units'")).scalar()
    assert not (tmp_path / "evil").exists() and not (tmp_path / "untouched" / "evil").exists()
    assert tables == 0
