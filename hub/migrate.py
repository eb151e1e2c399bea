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
    import hub.models  # noqa: F401
    with app.app_context():
        command.upgrade(alembic_config(app), revision)
        return current_revision(app) or "base"


def current_revision(app: Flask) -> str | None:
    from hub.extensions import db
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
