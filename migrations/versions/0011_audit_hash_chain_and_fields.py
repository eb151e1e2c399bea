"""audit hash chain and fields

The audit log gains the actor's unit, the outcome and a hash chain (hub/audit.py),
and its append-only triggers learn one exception: retention may remove rows older
than 190 days that lie before the chain's anchor, which only moves forward.

Existing rows are chained by this migration, in id order, from the genesis hash:
the chain then vouches for their content as it was at the upgrade (nothing could
change them before either: the triggers of 0001 refused it). Their outcome is
derived from the event (`*_failed` failure, a sign-in refused to a locked or
disabled account refused); their unit stays empty, since the unit the actor had
at the time is not known.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import hub.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

RETENTION_FLOOR_DAYS = 190          # written into the triggers: no setting can lower it
BATCH = 1000
NO_DELETE = (f"audit_entries is append-only: retention removes only rows older than "
             f"{RETENTION_FLOOR_DAYS} days, before the chain anchor")
ANCHOR_FORWARD = (f"audit_chain: the anchor only moves forward, to a kept row, "
                  f"over rows older than {RETENTION_FLOOR_DAYS} days")

PG_ENTRIES_GUARD = f"""
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_entries is append-only';
    END IF;
    IF OLD.at >= now() - interval '{RETENTION_FLOOR_DAYS} days'
       OR OLD.id >= COALESCE((SELECT anchor_id FROM audit_chain WHERE id = 1), 0) THEN
        RAISE EXCEPTION '{NO_DELETE}';
    END IF;
    RETURN OLD;
END $$ LANGUAGE plpgsql"""

PG_CHAIN_GUARD = f"""
CREATE FUNCTION audit_chain_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_chain cannot be removed';
    END IF;
    IF NEW.anchor_id IS DISTINCT FROM OLD.anchor_id
       OR NEW.anchor_prev_hash IS DISTINCT FROM OLD.anchor_prev_hash THEN
        IF NEW.anchor_id IS NULL
           OR (OLD.anchor_id IS NOT NULL AND NEW.anchor_id <= OLD.anchor_id)
           OR EXISTS (SELECT 1 FROM audit_entries WHERE id < NEW.anchor_id
                      AND at >= now() - interval '{RETENTION_FLOOR_DAYS} days')
           OR NOT EXISTS (SELECT 1 FROM audit_entries WHERE id = NEW.anchor_id
                          AND prev_hash = NEW.anchor_prev_hash) THEN
            RAISE EXCEPTION '{ANCHOR_FORWARD}';
        END IF;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql"""

# SQLite keeps `at` as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), which compares as text.
SQLITE_CUTOFF = f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-{RETENTION_FLOOR_DAYS} days')"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
    WHEN OLD.at >= {SQLITE_CUTOFF}
      OR OLD.id >= COALESCE((SELECT anchor_id FROM audit_chain WHERE id = 1), 0)
    BEGIN SELECT RAISE(ABORT, '{NO_DELETE}'); END""",
    f"""CREATE TRIGGER audit_chain_anchor_forward
    BEFORE UPDATE OF anchor_id, anchor_prev_hash ON audit_chain
    WHEN NEW.anchor_id IS NOT OLD.anchor_id OR NEW.anchor_prev_hash IS NOT OLD.anchor_prev_hash
    BEGIN SELECT CASE WHEN
        NEW.anchor_id IS NULL
        OR (OLD.anchor_id IS NOT NULL AND NEW.anchor_id <= OLD.anchor_id)
        OR EXISTS (SELECT 1 FROM audit_entries WHERE id < NEW.anchor_id AND at >= {SQLITE_CUTOFF})
        OR NOT EXISTS (SELECT 1 FROM audit_entries
                       WHERE id = NEW.anchor_id AND prev_hash = NEW.anchor_prev_hash)
    THEN RAISE(ABORT, '{ANCHOR_FORWARD}')
    END; END""",
    """CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'audit_chain cannot be removed'); END""",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _drop_old_delete_trigger(postgres)
    op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.Column('head_hash', sa.String(length=64), nullable=True),
    sa.Column('anchor_id', sa.Integer(), nullable=True),
    sa.Column('anchor_prev_hash', sa.String(length=64), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('actor_unit', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), server_default='success',
                                      nullable=False))
        batch_op.add_column(sa.Column('hash_algorithm', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    if postgres:
        # UPDATE is still refused by the 0001 trigger: chain the rows without it.
        op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    head_id, head_hash = _chain_existing_rows()
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('hash_algorithm', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_check_constraint(op.f('ck_audit_entries_known_outcome'),
                                         "outcome in ('success','failure','refused')")
    op.execute(sa.text("INSERT INTO audit_chain (id, head_id, head_hash) VALUES (1, :id, :hash)")
               .bindparams(id=head_id, hash=head_hash))
    if postgres:
        op.execute(PG_ENTRIES_GUARD)
        op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
        op.execute(PG_CHAIN_GUARD)
        op.execute("""CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain
                      FOR EACH ROW EXECUTE FUNCTION audit_chain_guard()""")
    else:
        op.execute("""CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
                      BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END""")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def _drop_old_delete_trigger(postgres: bool) -> None:
    if not postgres:
        # The batch operations below recreate the table on SQLite, which drops its
        # triggers anyway; both are created again at the end.
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")


def _chain_existing_rows() -> tuple[int | None, str | None]:
    """Fill outcome and the chain for the rows already there, in id order."""
    from hub.audit import GENESIS, default_outcome, hash_algorithm, row_hash
    import json
    entries = sa.table(
        'audit_entries', sa.column('id', sa.Integer()), sa.column('at', hub.db.UTCDateTime()),
        *(sa.column(name) for name in ('actor_id', 'actor_login', 'actor_unit_id', 'actor_unit',
                                       'action', 'outcome', 'target_type', 'target_id',
                                       'target_label', 'before', 'after', 'ip', 'user_agent',
                                       'hash_algorithm', 'prev_hash', 'hash')))
    connection = op.get_bind()
    algorithm = hash_algorithm()
    previous, last_id, after_id = GENESIS, None, 0
    while True:
        rows = connection.execute(sa.select(entries).where(entries.c.id > after_id)
                                  .order_by(entries.c.id).limit(BATCH)).mappings().all()
        if not rows:
            break
        changes = []
        for row in rows:
            row = dict(row)
            try:
                after = json.loads(row['after']) if row['after'] else None
            except ValueError:
                after = None
            row.update(outcome=default_outcome(row['action'], after if isinstance(after, dict) else None),
                       hash_algorithm=algorithm, prev_hash=previous)
            row['hash'] = row_hash(row)
            changes.append({'b_id': row['id'], 'outcome': row['outcome'], 'hash_algorithm': algorithm,
                            'prev_hash': previous, 'hash': row['hash']})
            previous, last_id = row['hash'], row['id']
        connection.execute(entries.update().where(entries.c.id == sa.bindparam('b_id'))
                           .values(outcome=sa.bindparam('outcome'),
                                   hash_algorithm=sa.bindparam('hash_algorithm'),
                                   prev_hash=sa.bindparam('prev_hash'), hash=sa.bindparam('hash')),
                           changes)
        after_id = rows[-1]['id']
    return last_id, (previous if last_id is not None else None)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_chain_guard ON audit_chain")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_guard()")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
    else:
        for name in ("audit_entries_no_update", "audit_entries_no_delete",
                     "audit_chain_anchor_forward", "audit_chain_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entries_known_outcome'), type_='check')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('hash_algorithm')
        batch_op.drop_column('outcome')
        batch_op.drop_column('actor_unit')
        batch_op.drop_column('actor_unit_id')
    op.drop_table('audit_chain')
    # Back to 0001's rule: no UPDATE, no DELETE at all.
    if postgres:
        op.execute("""
            CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_entries is append-only';
            END $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries
                BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END""")
