"""Backup and restore: the database and the uploaded files in one tar archive.

`flask --app wsgi hub backup [PATH]` writes, safe while the hub runs:

    manifest.json            format, time, schema revision, row counts, audit head,
                             the database file's SHA-256, the files' count and size
    database/hub.sqlite3     SQLite: a copy through the online backup API, or
    database/hub.pgdump      PostgreSQL: `pg_dump -Fc`, from the same snapshot as the counts
    attachments/<name>       every file of instance/attachments (the uploads of
                             messages, notices and documents)

The database is copied first, then the files: a file is written before its row
is committed, so every file the copy refers to is there (a newer upload may come
along as a file without a row, which is harmless).

`flask --app wsgi hub restore PATH` puts it back into an empty database and
attachments folder (--force to overwrite), after checking the manifest, the
schema revision (one this code knows; older ones are upgraded after the restore)
and the database file's digest; then compares the row counts with the manifest
and verifies the audit chain. The instance's secret key is not in the archive.
"""
from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url

from hub.extensions import db

FORMAT = "hub-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/hub.sqlite3"
PG_MEMBER = "database/hub.pgdump"
FILES = "attachments"
# Bookkeeping tables a freshly initialised database already has rows in.
BOOKKEEPING = {"audit_chain", "job_leases"}
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """Backup or restore refused or failed; the message says why (English, for operators)."""


@dataclass
class BackupReport:
    path: Path
    manifest: dict[str, Any]


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    counts: dict[str, int]
    files: int
    upgraded_to: str | None = None
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)
    chain: Any = None            # hub.audit_chain.ChainReport

    @property
    def ok(self) -> bool:
        return not self.mismatches and (self.chain is None or self.chain.ok)


# ---- backup ---------------------------------------------------------------------------

def default_backup_path() -> Path:
    folder = Path(current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return folder / f"hub-backup-{stamp}.tar"


def attachments_folder() -> Path:
    return Path(current_app.instance_path) / "attachments"


def backup(path: Path | str | None = None) -> BackupReport:
    """Write a backup archive to `path` (a default name under instance/backups
    when None; `.tar.gz` compresses). Readable only by its owner: it holds every
    record, password hashes included. Audited (system.backup) with its digest."""
    from hub.audit import FAILURE, record_audit
    path = Path(path) if path else default_backup_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(prefix="hub-backup-") as work:
            if db.engine.dialect.name == "postgresql":
                member, dump, snapshot = PG_MEMBER, Path(work) / "hub.pgdump", _pg_dump
            else:
                member, dump, snapshot = SQLITE_MEMBER, Path(work) / "hub.sqlite3", _sqlite_copy
            revision, counts, audit = snapshot(dump)
            folder = attachments_folder()
            files = sorted(p for p in folder.iterdir() if p.is_file() and _FILE_NAME.match(p.name)) \
                if folder.is_dir() else []
            manifest = {
                "format": FORMAT, "version": VERSION,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "backend": db.engine.dialect.name, "schema_revision": revision,
                "database": {"member": member, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
                "counts": counts, "audit": audit,
                "attachments": {"files": len(files), "bytes": sum(p.stat().st_size for p in files)},
            }
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, \
                    tarfile.open(fileobj=raw, mode="w:gz" if path.name.endswith(".gz") else "w") as archive:
                body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(datetime.now().timestamp()), 0o600
                archive.addfile(info, io.BytesIO(body))
                archive.add(dump, arcname=member, recursive=False)
                for file in files:
                    archive.add(file, arcname=f"{FILES}/{file.name}", recursive=False)
        os.replace(partial, path)
    except Exception as problem:
        partial.unlink(missing_ok=True)
        db.session.rollback()
        record_audit(None, "system.backup", actor_login="(cli)", target_label=path.name,
                     outcome=FAILURE, after={"error": str(problem)[:500]})
        db.session.commit()
        raise
    record_audit(None, "system.backup", actor_login="(cli)", target_label=path.name,
                 after={"sha256": _sha256(path), "bytes": path.stat().st_size,
                        "schema_revision": manifest["schema_revision"],
                        "audit_head": manifest["audit"]["head_id"], "files": len(files)})
    db.session.commit()
    return BackupReport(path=path, manifest=manifest)


def _sqlite_copy(target: Path) -> tuple[str | None, dict[str, int], dict[str, Any]]:
    """SQLite's online backup API: a consistent copy while the hub keeps writing
    (one step, so no writer can make it start over). Counts come from the copy."""
    source_path = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not source_path or source_path == ":memory:":
        raise BackupError("the SQLite database is in memory: nothing to back up")
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return _revision(connection), _counts(connection), _audit_head(connection)
    finally:
        engine.dispose()


def _pg_dump(target: Path) -> tuple[str | None, dict[str, int], dict[str, Any]]:
    """pg_dump -Fc from a snapshot this process exported, so the counts in the
    manifest are those of the dump exactly."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        revision, counts, audit = _revision(connection), _counts(connection), _audit_head(connection)
        _run_pg_tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                     f"--snapshot={snapshot}", f"--file={target}")
        connection.rollback()
    return revision, counts, audit


def _counts(connection: Connection) -> dict[str, int]:
    present = set(inspect(connection).get_table_names())
    return {table.name: connection.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
            for table in db.metadata.sorted_tables if table.name in present}


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _audit_head(connection: Connection) -> dict[str, Any]:
    row = connection.execute(text("SELECT head_id, head_hash FROM audit_chain WHERE id = 1")).first()
    return {"head_id": row.head_id if row else None, "head_hash": row.head_hash if row else None}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ---- PostgreSQL tools -----------------------------------------------------------------

def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: from HUB_PG_BIN_DIR, else the newest Debian
    /usr/lib/postgresql/<version>/bin, else PATH. Its major version must be at
    least the server's."""
    configured = current_app.config.get("PG_BIN_DIR")
    if configured:
        candidate = Path(configured) / name
        if not candidate.exists():
            raise BackupError(f"{name} not found in HUB_PG_BIN_DIR={configured}")
        return str(candidate)
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: [int(part) if part.isdigit() else 0
                                     for part in Path(p).parent.parent.name.split(".")], reverse=True)
    found = versions[0] if versions else shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install PostgreSQL's client tools or set HUB_PG_BIN_DIR")
    return found


def _run_pg_tool(name: str, *args: str) -> None:
    """Run pg_dump / pg_restore on the hub's database. The password goes through
    the environment (PGPASSWORD), never the command line."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    dbname = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    result = subprocess.run([pg_tool(name), *args, f"--dbname={dbname}"], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise BackupError(f"{name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


# ---- restore --------------------------------------------------------------------------

def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
        manifest = json.loads(archive.extractfile(member).read())       # type: ignore[union-attr]
    except (KeyError, AttributeError, ValueError):
        raise BackupError("not a hub backup: no readable manifest.json") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"not a hub backup of format {FORMAT} {VERSION}: "
                          f"{manifest.get('format')!r} {manifest.get('version')!r}")
    return manifest


def known_revisions() -> list[str]:
    """The schema revisions this code's migrations know, newest first."""
    from alembic.script import ScriptDirectory
    from hub.migrate import alembic_config
    scripts = ScriptDirectory.from_config(alembic_config(current_app))
    return [script.revision for script in scripts.walk_revisions()]


def database_has_data() -> list[str]:
    """The hub tables that hold rows (bookkeeping tables aside)."""
    with db.engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        return [table.name for table in db.metadata.sorted_tables
                if table.name in present and table.name not in BOOKKEEPING
                and connection.execute(text(f'SELECT 1 FROM "{table.name}" LIMIT 1')).first()]


def restore(path: Path | str, *, force: bool = False) -> RestoreReport:
    """Restore a backup archive into this hub's database and attachments folder.
    Refuses a database with data in it, or an attachments folder with files,
    unless `force`. Stop the hub's processes first."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    try:
        archive = tarfile.open(path, mode="r:*")
    except tarfile.TarError as problem:
        raise BackupError(f"not a readable tar archive: {problem}") from None
    with archive:
        manifest = read_manifest(archive)
        _check_members(archive, manifest)
        backend = db.engine.dialect.name
        if manifest.get("backend") != backend:
            raise BackupError(f"the backup is of a {manifest.get('backend')} database; "
                              f"this hub runs on {backend}")
        revisions = known_revisions()
        revision = manifest.get("schema_revision")
        if revision not in revisions:
            raise BackupError(f"the backup's schema revision {revision!r} is unknown to this hub "
                              f"(newest known: {revisions[0]}): restore it with the hub version that made it")
        if not force:
            busy = database_has_data()
            if busy:
                raise BackupError(f"the database is not empty ({', '.join(busy[:5])} have rows): "
                                  "restore into an empty one, or use --force to overwrite it")
            folder = attachments_folder()
            if folder.is_dir() and any(p.is_file() for p in folder.iterdir()):
                raise BackupError(f"{folder} already has files: restore into an empty instance "
                                  "folder, or use --force")
        with tempfile.TemporaryDirectory(prefix="hub-restore-") as work:
            dump = _extract_database(archive, manifest, Path(work))
            db.session.remove()
            db.engine.dispose()
            if backend == "postgresql":
                _run_pg_tool("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                             "--single-transaction", "--exit-on-error", str(dump))
            else:
                _sqlite_restore(dump)
        files = _extract_files(archive)
    db.engine.dispose()
    with db.engine.connect() as connection:
        counts = _counts(connection)
    report = RestoreReport(manifest=manifest, counts=counts, files=files)
    report.mismatches = {name: (expected, counts.get(name, 0))
                         for name, expected in manifest.get("counts", {}).items()
                         if counts.get(name, 0) != expected}
    if revision != revisions[0]:
        from hub.migrate import upgrade
        report.upgraded_to = upgrade(current_app)
    from hub.audit import FAILURE, SUCCESS, record_audit
    from hub.audit_chain import verify_chain
    report.chain = verify_chain()
    head = manifest.get("audit", {}).get("head_hash")
    if report.chain.ok and head and report.chain.head_hash != head:
        report.chain.problem = "the restored chain's head differs from the backup's manifest"
    record_audit(None, "system.restore", actor_login="(cli)", target_label=path.name,
                 outcome=SUCCESS if report.ok else FAILURE,
                 after={"sha256": _sha256(path), "created_at": manifest.get("created_at"),
                        "schema_revision": revision, "files": files,
                        "mismatches": {k: list(v) for k, v in report.mismatches.items()},
                        "audit_chain": report.chain.as_json()})
    db.session.commit()
    return report


def _extract_database(archive: tarfile.TarFile, manifest: dict[str, Any], work: Path) -> Path:
    expected = manifest.get("database", {})
    member_name = expected.get("member")
    if member_name not in (SQLITE_MEMBER, PG_MEMBER):
        raise BackupError(f"the manifest names no database file it knows: {member_name!r}")
    try:
        member = archive.getmember(member_name)
    except KeyError:
        raise BackupError(f"the archive has no {member_name}") from None
    source = archive.extractfile(member) if member.isfile() else None
    if source is None:
        raise BackupError(f"{member_name} in the archive is not a file")
    target = work / Path(member_name).name
    with open(target, "wb") as handle:
        shutil.copyfileobj(source, handle, _CHUNK)
    if _sha256(target) != expected.get("sha256"):
        raise BackupError(f"{member_name} does not match the manifest's SHA-256: the archive is damaged")
    return target


def _sqlite_restore(dump: Path) -> None:
    """Copy the backup into the configured SQLite file through the backup API
    (page by page, into the file and its WAL as SQLite keeps them)."""
    target_path = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not target_path or target_path == ":memory:":
        raise BackupError("the SQLite database is in memory: nowhere to restore to")
    source = sqlite3.connect(dump)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the database file in the archive fails SQLite's integrity check")
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _check_members(archive: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    """Before anything is written: the archive holds the manifest, the database
    file it names and plain attachment files, nothing else (no links, no paths
    leading out of the attachments folder)."""
    database = manifest.get("database", {}).get("member")
    for member in archive.getmembers():
        name = member.name
        if name in (MANIFEST, database) and member.isfile():
            continue
        plain = name[len(FILES) + 1:] if name.startswith(f"{FILES}/") else ""
        if not (member.isfile() and _FILE_NAME.match(plain) and plain not in (".", "..")):
            raise BackupError(f"refusing the archive: unexpected member {name!r} "
                              "(only manifest.json, the database file and attachments/<file>)")


def _extract_files(archive: tarfile.TarFile) -> int:
    """The attachments, by plain file name only (checked by _check_members)."""
    folder = attachments_folder()
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for member in archive.getmembers():
        if not member.name.startswith(f"{FILES}/"):
            continue
        name = member.name[len(FILES) + 1:]
        source = archive.extractfile(member)
        target = folder / name
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(source, handle, _CHUNK)            # type: ignore[arg-type]
        count += 1
    return count
