"""New test databases migrated to head by the migrations' own statements, replayed.

Nearly every test starts from an empty database that ``Ledger.open`` migrates to head, and a
property test makes dozens of them. Through Alembic that took 0.07 s on SQLite and 0.15-0.2 s
on PostgreSQL each (twelve revisions: loading them, building each operation, some seventy
statements), about half the time of the PostgreSQL property tests.

So, in each test process and for each backend, the first empty database is migrated by Alembic
while every statement it sends is recorded; every later empty database migrated to head gets
the same statements in the same order, in one transaction, straight through the driver. The
schema is the same by construction: the statements are those Alembic sent to an empty database
(literal values inline, nothing in them names the database or schema, and nothing a migration
reads from an empty database can differ from one to the next).
``tests/backend/test_migrations.py`` checks it (a replayed database's catalog equals one
Alembic migrated) and runs Alembic itself (:func:`alembic_only`), as do the tests of old
revisions, downgrades and the ``alembic`` command, which migrate to other revisions or from
databases that are not empty (only ``upgrade(engine)`` to head of an empty database is
replayed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from ledger.store import migrate
from ledger.store.backends import writing

Recorded = list[tuple[str, Any]]

#: Statements that change nothing (reads, the reflection Alembic does, transaction control):
#: not replayed (the replay is one transaction of its own).
_NOT_REPLAYED = ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK")

_EMPTY = {
    "postgresql": (
        "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
    ),
    "sqlite": "SELECT count(*) FROM sqlite_master",
}


class Replayer:
    """``migrate.upgrade`` for the tests: Alembic's statements recorded once per backend,
    replayed on every later empty database migrated to head."""

    def __init__(self, real: Callable[..., None]):
        self.real = real
        self.recorded: dict[str, Recorded] = {}

    def __call__(self, engine: Engine, revision: str = "head") -> None:
        dialect = engine.dialect.name
        if revision not in ("head", migrate.HEAD) or not _empty(engine):
            self.real(engine, revision)
            return
        script = self.recorded.get(dialect)
        if script is None:
            self.recorded[dialect] = self.record(engine, revision)
        else:
            replay(engine, script)

    def record(self, engine: Engine, revision: str) -> Recorded:
        """Migrate ``engine`` by Alembic; what it sent that changes the database, in order."""
        sent: Recorded = []

        def before(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> None:
            if not statement.lstrip().upper().startswith(_NOT_REPLAYED):
                # as the driver got them (a dict or a tuple, often empty)
                sent.append((statement, dict(params) if isinstance(params, dict) else params))

        event.listen(engine, "before_cursor_execute", before)
        try:
            self.real(engine, revision)
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return sent


def replay(engine: Engine, script: Recorded) -> None:
    """Send the recorded statements to ``engine`` in one write transaction."""
    with writing(engine) as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for statement, params in script:
                cursor.execute(statement, params)
        finally:
            cursor.close()


def _empty(engine: Engine) -> bool:
    probe = _EMPTY.get(engine.dialect.name)
    if probe is None:
        return False
    with engine.connect() as conn:
        return conn.exec_driver_sql(probe).scalar() == 0


#: The one replayer of this process (installed by ``tests/conftest.py``).
REPLAYER = Replayer(migrate.upgrade)


@contextmanager
def alembic_only() -> Iterator[None]:
    """Within: ``migrate.upgrade`` is Alembic's, always."""
    installed = migrate.upgrade
    migrate.upgrade = REPLAYER.real
    try:
        yield
    finally:
        migrate.upgrade = installed
