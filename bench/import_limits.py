"""Benchmark: what a wide XLSX costs the unit import (issue 13, finding 8).

    .venv/bin/python bench/import_limits.py [--rows 40000] [--columns 150]

Writes an XLSX of ROWS data rows × COLUMNS columns (code,name,parent_code and
filler columns; written once into a temp dir and reused), then imports it as a
dry run (hub.org.imports.import_units, the console as actor) in a child process
per case, and prints the wall time, peak memory (max RSS) and the answer:

- "as sent": the sheet with its <dimension> element, as Excel writes it;
- "no dimension": the same sheet with the <dimension> element removed, so that
  the columns are found only while reading the rows;
- each again with the check of the unpacked size turned off, to see the
  column limit at work on its own.

Results go into docs/PERFORMANCE.md ("Import limits").
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_xlsx(path: Path, rows: int, columns: int) -> None:
    from openpyxl import Workbook
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    filler = [f"备注{c}" for c in range(columns - 3)]
    sheet.append(["code", "name", "parent_code"] + [f"extra{c}" for c in range(columns - 3)])
    for row in range(rows):
        sheet.append([f"B{row:06d}", f"第{row}村", ""] + filler)
    workbook.save(path)


def without_dimension(source: Path, target: Path) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data, count=1)
            new.writestr(item, data)


def measure(path: Path, unpacked_check: bool) -> dict:
    """In this (child) process: import the file as a dry run."""
    from hub import create_app
    from hub.errors import HubError
    from hub.migrate import upgrade
    from hub.org.imports import import_units
    folder = Path(tempfile.mkdtemp())
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'hub.db'}",
                      "INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench", "DEMO": False,
                      "REDIS_URL": None,
                      **({} if unpacked_check else {"IMPORT_MAX_UNPACKED_BYTES": 2**40})})
    upgrade(app)
    data = path.read_bytes()
    with app.app_context():
        started = time.perf_counter()
        try:
            report = import_units(None, path.name, data, dry_run=True)
            answer = f"read; {len(report.errors)} row errors"
        except HubError as problem:
            answer = f"{problem.status} {problem.field}: {problem.message}"
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "answer": answer}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--columns", type=int, default=150)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--no-unpacked-check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure), not args.no_unpacked_check), ensure_ascii=False))
        return
    folder = Path(tempfile.gettempdir()) / "hub-bench-import-limits"
    folder.mkdir(exist_ok=True)
    sent = folder / f"wide-{args.rows}x{args.columns}.xlsx"
    if not sent.exists():
        started = time.perf_counter()
        write_xlsx(sent, args.rows, args.columns)
        print(f"wrote {sent} ({sent.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s")
    bare = folder / f"wide-{args.rows}x{args.columns}-nodim.xlsx"
    if not bare.exists():
        without_dimension(sent, bare)
    for label, path, extra in (("as sent", sent, []), ("no dimension", bare, []),
                               ("as sent, unpacked size not checked", sent, ["--no-unpacked-check"]),
                               ("no dimension, unpacked size not checked", bare, ["--no-unpacked-check"])):
        child = subprocess.run([sys.executable, __file__, "--measure", str(path), *extra],
                               capture_output=True, text=True, check=True)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{args.rows} × {args.columns}, {label}: {result['seconds']:6.2f} s, "
              f"peak {result['max_rss_mb']:5.0f} MB — {result['answer']}")


if __name__ == "__main__":
    main()
