"""Import of units and people from CSV and XLSX (API.md "Org tree").

INTERFACE ONLY — being implemented. Signatures are fixed; the admin pages,
the API and the CLI all call these two functions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from hub.org.models import User


@dataclass
class RowError:
    row: int            # row number as a spreadsheet shows it: header = 1, first data row = 2
    message: str        # Chinese, names the column
    column: str | None = None


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False       # True only when every row was valid and not a dry run
    dry_run: bool = False

    def as_json(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": [{"row": e.row, "message": e.message, **({"column": e.column} if e.column else {})}
                           for e in self.errors],
                "applied": self.applied, "dry_run": self.dry_run}


def import_units(actor: User | None, filename: str, data: bytes, *, dry_run: bool = False,
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    """actor None = the console (CLI), with full rights."""
    raise NotImplementedError


def import_people(actor: User | None, filename: str, data: bytes, *, dry_run: bool = False,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    raise NotImplementedError
