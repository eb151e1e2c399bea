"""Import of units and people from CSV and XLSX (API.md "Org tree").

The admin pages, the API and the CLI all call the two functions below. The
work lives in imports_units.py and imports_people.py; reading files, the
report and the actor's scope in imports_files.py.

Both imports are all or nothing and idempotent: a file with any row error
writes nothing, and re-importing the same file reports every row unchanged.
When there are errors the counts describe the valid rows (what would have been
done). `progress`, when given, is called with the number of rows just
finished; the calls add up to the number of data rows.
"""
from __future__ import annotations

from hub.org.imports_files import ImportReport, RowError
from hub.org.imports_people import import_people
from hub.org.imports_units import import_units

__all__ = ["ImportReport", "RowError", "import_people", "import_units"]
