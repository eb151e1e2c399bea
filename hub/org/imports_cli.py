"""`flask --app wsgi hub import-units FILE` / `hub import-people FILE` (API.md "Operations").

Thin around hub.org.imports: the console imports with full rights (actor None).
Exit code 1 when the file had errors (then nothing was applied). hub.cli adds
COMMANDS to the `hub` group; nothing here imports it (no import circle).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import click
from flask.cli import with_appcontext

from hub.errors import HubError
from hub.org import imports
from hub.org.imports_files import count_rows

ERRORS_SHOWN = 200


def _run(importer: Callable[..., imports.ImportReport], label: str, file: Path,
         dry_run: bool) -> None:
    data = file.read_bytes()
    try:
        with click.progressbar(length=max(count_rows(file.name, data), 1), label=label,
                               show_pos=True, file=sys.stderr) as bar:
            report = importer(None, file.name, data, dry_run=dry_run, progress=bar.update)
    except HubError as problem:
        raise click.ClickException(problem.message) from None
    _echo_report(report)
    if report.errors:
        click.get_current_context().exit(1)


def _echo_report(report: imports.ImportReport) -> None:
    state = ("dry run, nothing written" if report.dry_run
             else "applied" if report.applied else "NOT applied")
    click.echo(f"created {report.created}, updated {report.updated}, "
               f"unchanged {report.unchanged}, errors {len(report.errors)} ({state})")
    for error in report.errors[:ERRORS_SHOWN]:
        column = f" [{error.column}]" if error.column else ""
        click.echo(f"row {error.row}{column}: {error.message}", err=True)
    if len(report.errors) > ERRORS_SHOWN:
        click.echo(f"... and {len(report.errors) - ERRORS_SHOWN} more errors", err=True)


_file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path))
_dry_run_option = click.option("--dry-run", is_flag=True,
                               help="Check the file and count, write nothing.")


@click.command("import-units")
@with_appcontext
@_file_argument
@_dry_run_option
def import_units_command(file: Path, dry_run: bool) -> None:
    """Import units from CSV/XLSX: code,name,parent_code[,kind] (all or nothing)."""
    _run(imports.import_units, "导入单位", file, dry_run)


@click.command("import-people")
@with_appcontext
@_file_argument
@_dry_run_option
def import_people_command(file: Path, dry_run: bool) -> None:
    """Import people from CSV/XLSX: login,name,unit_code,position[,password][,roles]."""
    _run(imports.import_people, "导入人员", file, dry_run)


COMMANDS = (import_units_command, import_people_command)
