"""Redaction (issue 15): the append-only guard lets exactly one change through.

Until now every UPDATE of ``events`` was refused. A redaction (``factledger redact``) must replace
the payload of the event it names by a marker, in the redaction's own append transaction; so the
guard now refuses every UPDATE except one that

* leaves every column but ``payload`` as it was,
* on a row not redacted before (its payload holds no ``"redacted_by":``),
* whose redaction is recorded (an event of type ``redaction_made`` in the stream
  ``redaction:<the row's event_id>``), and
* writes a payload that names that redaction (``"redacted_by":"<its event id>"``).

What the marker holds beyond that is checked by ``verify`` (the residue the redaction records,
see ``ledger.store.verify``). DELETE, TRUNCATE and REPLACE stay refused. On PostgreSQL the
trigger is the second line of defence: only a role granted it (``factledger db
grant-redactor``) holds ``UPDATE (payload)`` on ``events``; the writer and reader roles do not.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "factledger: the events table is append-only"
#: Every column but ``payload``: what a redaction must leave as it was.
_SAME: tuple[str, ...] = (
    "position",
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "stated_at",
    "recorded_at",
    "prev_hash",
    "hash",
)
_MARK = '"redacted_by":'

_SQLITE_ALLOWED = (
    " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _SAME)
    + f" AND instr(OLD.payload, '{_MARK}') = 0"
    + f" AND instr(NEW.payload, '{_MARK}\"' || (SELECT r.event_id FROM events r"
    " WHERE r.stream_id = 'redaction:' || OLD.event_id AND r.type = 'redaction_made')"
    " || '\"') > 0"
)

_PG_FUNCTION = f"""
CREATE FUNCTION factledger_guard_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND ({", ".join(f"NEW.{c}" for c in _SAME)})
         IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in _SAME)})
     AND strpos(OLD.payload, '{_MARK}') = 0
     AND EXISTS (
       SELECT 1 FROM events r
       WHERE r.stream_id = 'redaction:' || OLD.event_id AND r.type = 'redaction_made'
         AND strpos(NEW.payload, '{_MARK}"' || r.event_id || '"') > 0)
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        # coalesce: a NULL (no redaction found) must refuse, never let the update through
        op.execute(
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            f"WHEN coalesce(({_SQLITE_ALLOWED}), 0) = 0 "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE} (only a recorded redaction may replace a "
            "payload)'); END"
        )
        return
    op.execute(_PG_FUNCTION)
    op.execute("DROP TRIGGER IF EXISTS events_no_update_delete ON events")
    op.execute(
        "CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION factledger_guard_change()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute(
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        return
    op.execute("DROP TRIGGER IF EXISTS events_no_update_delete ON events")
    op.execute(
        "CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION factledger_refuse_change()"
    )
    op.execute("DROP FUNCTION IF EXISTS factledger_guard_change()")
