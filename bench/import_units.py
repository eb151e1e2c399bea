"""Benchmark: import a whole province's divisions (27,036 units) and re-import it.

    .venv/bin/python bench/import_units.py [--file CSV] [--postgres URL]

Creates a fresh SQLite database in a temp dir (schema by hub.migrate.upgrade),
imports the file as the console, prints seconds and rows/s, then re-imports
it (every row unchanged) and prints that time. With --postgres URL the same
runs on PostgreSQL, in a scratch database created next to URL's database and
dropped afterwards. Results go into docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import Config  # noqa: E402
from hub import create_app  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.org.imports import ImportReport, import_units  # noqa: E402

DEFAULT_FILE = Path(Config.DATA_DIR) / "divisions-zhejiang.csv"


def timed_import(path: Path) -> tuple[float, ImportReport]:
    data = path.read_bytes()
    started = time.perf_counter()
    report = import_units(None, path.name, data)
    return time.perf_counter() - started, report


def run(label: str, uri: str, path: Path, folder: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": str(folder / "instance"),
                      "SECRET_KEY": "bench", "DEMO": False, "REDIS_URL": None})
    upgrade(app)
    with app.app_context():
        rows = max(len(path.read_bytes().splitlines()) - 1, 1)
        first, report = timed_import(path)
        assert report.applied and not report.errors, report.errors[:5]
        print(f"{label}: first import  {first:6.2f} s  {rows / first:8.0f} rows/s  "
              f"(created {report.created})")
        again, report = timed_import(path)
        assert report.unchanged == rows and report.created == report.updated == 0
        print(f"{label}: re-import     {again:6.2f} s  {rows / again:8.0f} rows/s  "
              f"(unchanged {report.unchanged})")
        db.session.remove()
        db.engine.dispose()


def scratch_postgres(url: str) -> tuple[str, callable]:
    """A new empty database on URL's server, and a function that drops it."""
    import psycopg
    from sqlalchemy.engine import make_url
    name = f"hub_bench_{uuid.uuid4().hex[:8]}"
    base = make_url(url).set(drivername="postgresql")
    admin_url = base.render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        folder = Path(tmp)
        run("sqlite", f"sqlite:///{folder / 'bench.db'}", args.file, folder)
        if args.postgres:
            uri, drop = scratch_postgres(args.postgres)
            try:
                run("postgresql", uri, args.file, folder)
            finally:
                drop()


if __name__ == "__main__":
    main()
