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


@hub_cli.command("create-admin")
@click.argument("login")
@click.argument("password")
@click.option("--name", default="系统管理员", help="Display name.")
def create_admin_command(login: str, password: str, name: str) -> None:
    """Create (or reset) a system administrator."""
    from hub.errors import HubError
    from hub.org.bootstrap import create_admin
    try:
        user, created = create_admin(login, password, name=name)
    except HubError as problem:
        raise click.ClickException(f"{problem.field or ''}: {problem.message}") from None
    click.echo(f"{'created' if created else 'reset'} system administrator {user.login}")


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
    scheduled notices, automatic 催办), under the jobs lease."""
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


def register_commands(app: Flask) -> None:
    app.cli.add_command(hub_cli)
    try:
        from hub.org import imports_cli  # noqa: F401  (attaches import-units / import-people)
    except ImportError:
        pass
