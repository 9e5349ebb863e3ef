"""SQLite: refuse an INSERT that would replace an existing event (REPLACE INTO, INSERT OR REPLACE).

SQLite resolves such a conflict by deleting the old row, and fires no DELETE trigger for it
unless ``recursive_triggers`` is on, so 0001's triggers alone let ``REPLACE INTO events`` rewrite
history. This trigger aborts any insert that collides with a stored position, event id or stream
version before SQLite gets to resolve anything. The store never inserts such a row (it drops
repeats first), so legitimate appends never reach it. PostgreSQL needs nothing: its upsert runs
the UPDATE trigger, which refuses.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TRIGGER events_no_replace BEFORE INSERT ON events "
        "WHEN EXISTS (SELECT 1 FROM events WHERE position = NEW.position "
        "OR event_id = NEW.event_id "
        "OR (stream_id = NEW.stream_id AND stream_version = NEW.stream_version)) "
        "BEGIN SELECT RAISE(ABORT, 'factledger: the events table is append-only "
        "(an insert may not replace an event)'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_replace")
