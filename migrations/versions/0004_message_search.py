"""message search: FTS5 trigram index (SQLite), pg_trgm GIN index (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Neither object is in the models' metadata (they are dialect-specific), so
tests/test_app.py::test_migrations_match_the_models leaves them out of its
comparison, and autogenerate must never be trusted to keep or drop them.

SQLite: `message_search` is a contentless FTS5 table (the text lives only in
messages.body) whose rowid is messages.id. It holds exactly the messages that
are not withdrawn; the triggers below keep it so. A contentless table can only
forget a row when given the exact text it indexed, which the triggers have
(old.body). WARNING for later migrations: a batch ("move and copy") alter of
`messages` on SQLite drops and recreates the table, and its triggers with it:
such a migration must recreate the three triggers and refill the index.
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE message_search USING fts5(body, content='', tokenize='trigram')",
    """CREATE TRIGGER message_search_insert AFTER INSERT ON messages
       WHEN new.withdrawn_at IS NULL BEGIN
         INSERT INTO message_search (rowid, body) VALUES (new.id, new.body);
       END""",
    """CREATE TRIGGER message_search_delete AFTER DELETE ON messages
       WHEN old.withdrawn_at IS NULL BEGIN
         INSERT INTO message_search (message_search, rowid, body)
         VALUES ('delete', old.id, old.body);
       END""",
    # An edit replaces the indexed text; a withdrawal removes it; both may
    # happen in one UPDATE, and a no-op UPDATE deletes and re-adds the same text.
    """CREATE TRIGGER message_search_update AFTER UPDATE OF id, body, withdrawn_at ON messages
       BEGIN
         INSERT INTO message_search (message_search, rowid, body)
         SELECT 'delete', old.id, old.body WHERE old.withdrawn_at IS NULL;
         INSERT INTO message_search (rowid, body)
         SELECT new.id, new.body WHERE new.withdrawn_at IS NULL;
       END""",
    "INSERT INTO message_search (rowid, body) SELECT id, body FROM messages WHERE withdrawn_at IS NULL",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS message_search_update",
    "DROP TRIGGER IF EXISTS message_search_delete",
    "DROP TRIGGER IF EXISTS message_search_insert",
    "DROP TABLE IF EXISTS message_search",
]

# pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create
# it without superuser. Trigrams of CJK text need a UTF-8 ctype (not "C").
POSTGRESQL_UPGRADE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_messages_body_trgm ON messages USING gin (body gin_trgm_ops)",
]

POSTGRESQL_DOWNGRADE = [
    "DROP INDEX IF EXISTS ix_messages_body_trgm",
    # The extension may have been there before, or be used by something else
    # since: drop it only if nothing depends on it.
    """DO $$ BEGIN
         DROP EXTENSION IF EXISTS pg_trgm;
       EXCEPTION WHEN dependent_objects_still_exist THEN NULL;
       END $$""",
]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
