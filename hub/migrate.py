"""Alembic, driven from the app: `hub init` upgrades to head (safe to repeat)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from flask import Flask

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(app: Flask) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["flask_app"] = app
    return config


def upgrade(app: Flask, revision: str = "head") -> str:
    """Upgrade the schema to `revision`; at head, also add any system field of the
    data catalogue the migrations do not seed yet (hub/datarequests/system.py)."""
    import hub.models  # noqa: F401
    with app.app_context():
        command.upgrade(alembic_config(app), revision)
        if revision == "head":
            from hub.datarequests.system import ensure_system_fields
            from hub.extensions import db
            ensure_system_fields()
            db.session.commit()
        return current_revision(app) or "base"


def current_revision(app: Flask) -> str | None:
    from hub.extensions import db
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
