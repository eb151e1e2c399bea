"""Operations commands: `flask --app wsgi hub ...` (API.md "Operations")."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

hub_cli = AppGroup("hub", help="Hub operations: schema, admins, imports, demo data.")


def init_db() -> str:
    """Create or upgrade the schema to the newest migration (safe to repeat)."""
    from hub.migrate import upgrade
    return upgrade(current_app)


@hub_cli.command("init")
def init_command() -> None:
    """Create or upgrade the database schema (Alembic)."""
    revision = init_db()
    click.echo(f"database ready at revision {revision}")


DUTY_NAMES = {"admin": "system administrator", "security_admin": "security administrator",
              "auditor": "auditor"}


@hub_cli.command("create-admin")
@click.argument("login")
@click.argument("password")
@click.option("--name", default=None, help="Display name (default: the duty's Chinese name).")
@click.option("--role", "role", type=click.Choice(list(DUTY_NAMES)), default="admin", show_default=True,
              help="The duty (三员分立): admin (org and people), security_admin (roles, locks) "
                   "or auditor (the audit log). Each must be a different person.")
def create_admin_command(login: str, password: str, name: str | None, role: str) -> None:
    """Issue (or reset the password of) a system administrator, security
    administrator or auditor. Accounts are issued, never self-registered."""
    from hub.errors import HubError
    from hub.org.bootstrap import create_admin
    try:
        user, created = create_admin(login, password, name=name, role=role)
    except HubError as problem:
        raise click.ClickException(f"{problem.field or ''}: {problem.message}") from None
    click.echo(f"{'created' if created else 'reset'} {DUTY_NAMES[role]} {user.login}")


@hub_cli.command("seed-demo")
@click.option("--county", default=None, help="Administrative code of the demo county.")
def seed_demo_command(county: str | None) -> None:
    """Load a real county's units and a cast of demo people (idempotent)."""
    from hub.demo import seed_demo
    report = seed_demo(county or current_app.config["DEMO_COUNTY"])
    click.echo(report.describe())


@hub_cli.command("run-jobs")
@click.option("--force", is_flag=True,
              help="Run even while a hub process holds the jobs lease (the jobs are safe to overlap).")
def run_jobs_command(force: bool) -> None:
    """Run the background jobs once (archive ended task channels, announce
    scheduled notices, automatic 催办, audit retention), under the jobs lease."""
    from hub.jobs import LEASE, run_jobs_once
    from hub.leases import lease_holder
    done = run_jobs_once(force=force)
    if done is None:
        holder, until = lease_holder(LEASE) or ("another process", None)
        until_text = f" until {until:%Y-%m-%d %H:%M:%S} UTC" if until else ""
        click.echo(f"skipped: {holder} holds the jobs lease{until_text} and runs the jobs "
                   "(--force runs them here anyway)")
        return
    for job, count in done.items():
        click.echo(f"{job}: {count}")


@hub_cli.command("audit-verify")
def audit_verify_command() -> None:
    """Check the audit log's hash chain from its anchor to its head; names the
    first broken row and exits 1 if there is one. The run is itself audited."""
    from hub.audit_chain import record_verification, verify_chain
    report = verify_chain()
    record_verification(report)
    click.echo(report.describe())
    if not report.ok:
        raise SystemExit(1)


@hub_cli.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, writable=True))
def backup_command(path: str | None) -> None:
    """Back up the database and the uploaded files into one tar archive (PATH, or
    instance/backups/hub-backup-<time>.tar). Safe while the hub runs."""
    from hub.backup import BackupError, backup
    try:
        report = backup(path)
    except BackupError as problem:
        raise click.ClickException(str(problem)) from None
    manifest = report.manifest
    click.echo(f"backup written to {report.path}")
    click.echo(f"  schema revision {manifest['schema_revision']}, "
               f"{sum(manifest['counts'].values())} rows in {len(manifest['counts'])} tables, "
               f"{manifest['attachments']['files']} files ({manifest['attachments']['bytes']} bytes)")
    click.echo(f"  audit head #{manifest['audit']['head_id']} {manifest['audit']['head_hash']}")


@hub_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite a database and attachments folder that are not empty.")
def restore_command(path: str, force: bool) -> None:
    """Restore a backup archive into this hub's (empty) database and instance
    folder. Stop the hub first. Checks the manifest and the schema revision,
    then the row counts and the audit chain."""
    from hub.backup import BackupError, restore
    try:
        report = restore(path, force=force)
    except BackupError as problem:
        raise click.ClickException(str(problem)) from None
    manifest = report.manifest
    click.echo(f"restored the backup of {manifest['created_at']} (schema revision "
               f"{manifest['schema_revision']}): {sum(report.counts.values())} rows, {report.files} files")
    if report.upgraded_to:
        click.echo(f"  schema upgraded to revision {report.upgraded_to}")
    for table, (expected, found) in report.mismatches.items():
        click.echo(f"  MISMATCH {table}: the backup had {expected} rows, the database now has {found}")
    click.echo(f"  {report.chain.describe()}")
    if not report.ok:
        raise SystemExit(1)


def register_commands(app: Flask) -> None:
    from hub.org.imports_cli import COMMANDS as IMPORT_COMMANDS
    for command in IMPORT_COMMANDS:
        hub_cli.add_command(command)
    app.cli.add_command(hub_cli)
