"""The declarative base, the UTC datetime type and small helpers every model uses."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    SQLite hands back naive values even for DateTime(timezone=True); this
    re-attaches UTC so comparisons behave the same on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use hub.db.utcnow()")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def path_string(length: int = 255) -> String:
    """A string compared byte by byte on every backend (for materialized paths).

    PostgreSQL's default collation may ignore punctuation when comparing; "C"
    keeps the range scans over unit paths exact and index-backed.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Base(DeclarativeBase):
    # One registry carrying both the naming convention and the UTC datetime
    # mapping (Flask-SQLAlchemy subclasses the base, which rules out a plain
    # per-class type_annotation_map).
    registry = registry(metadata=MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }), type_annotation_map={datetime: UTCDateTime()})


def insert_ignore(session, model, values: dict, **execution_options) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL; True if a row
    was inserted. The unique constraint decides, so concurrent callers race safely
    (and no SAVEPOINT is needed, which pysqlite handles badly)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # RETURNING, not rowcount: psycopg reports -1 for this statement.
    statement = insert(model).values(**values).on_conflict_do_nothing()
    primary_key = model.__table__.primary_key.columns.values()[0]
    return session.execute(statement.returning(primary_key),
                           execution_options=execution_options).first() is not None
