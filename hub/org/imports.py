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

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from hub.org import imports_people, imports_units
from hub.org.imports_files import ImportReport, RowError
from hub.org.imports_people import import_people
from hub.org.imports_units import import_units

__all__ = ["ImportReport", "RowError", "import_people", "import_units", "template_workbook"]

# One example row per template: a town of the demo county and its village clerk.
EXAMPLES = {
    "units": (imports_units.TEMPLATE_HEADER, ("330802100", "石梁镇", "330802", "乡镇（街道）")),
    "people": (imports_people.TEMPLATE_HEADER,
               ("330802100202.ws", "王淑芬", "330802100202", "村文书", "", "文书")),
}


def template_workbook(kind: str) -> bytes:
    """The XLSX to fill in for importing `kind` ("units" or "people"): Chinese
    headers as the import reads them, one example row, every cell text (codes
    keep their leading zeros), and columns wide enough to read."""
    header, example = EXAMPLES[kind]
    book = Workbook()
    sheet = book.active
    sheet.title = "单位" if kind == "units" else "人员"
    sheet.append(header)
    sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        for cell in column:
            cell.number_format = "@"
        sheet.column_dimensions[column[0].column_letter].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
