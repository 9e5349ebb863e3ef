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
``tests/backend/test_migrations.py`` checks it (a replayed database's catalog and rows equal
one Alembic migrated) and runs Alembic itself (:func:`alembic_only`), as do the tests of old
revisions, downgrades and the ``alembic`` command, which migrate to other revisions or from
databases that are not empty (only ``upgrade(engine)`` to head of an empty database is
replayed).

As with Alembic, openers may race: a replay looks again, holding the writer lock, whether the
database is still empty, and leaves it to Alembic (which finds it at head) if not; one thread
records at a time, and a recording is kept only if it took an empty database to head. A
migration that sends what a replay would not (``executemany``, a ``PRAGMA`` that sets, a
``SELECT`` with effects) fails the recording rather than being dropped; errors are the
ledger's own (``StoreError``), as Alembic's are through ``Ledger.open``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event

from ledger.store import migrate
from ledger.store.backends import writing
from ledger.store.dberrors import translated

Recorded = list[tuple[str, Any]]

#: Statements that change nothing (reads, the reflection Alembic does, transaction control):
#: not replayed (the replay is one transaction of its own).
_NOT_REPLAYED = ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK")
#: ... unless they could change something after all: then recording fails, and the replay
#: must learn to send them (a PRAGMA that sets, a SELECT that calls a function with effects).
_NOT_A_READ = re.compile(r"^\s*PRAGMA\s+[^(]*=|setval|nextval|set_config", re.I)

#: Whether the database is empty, as Alembic would see it: no relation in the schema written
#: to and no revision table anywhere on PostgreSQL's search path.
_EMPTY = {
    "postgresql": (
        "SELECT count(*) = 0 AND to_regclass('alembic_version') IS NULL "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
    ),
    "sqlite": "SELECT count(*) = 0 FROM sqlite_master",
}


class Replayer:
    """``migrate.upgrade`` for the tests: Alembic's statements recorded once per backend,
    replayed on every later empty database migrated to head."""

    def __init__(self, real: Callable[..., None]):
        self.real = real
        self.recorded: dict[str, Recorded] = {}
        self._recording = threading.Lock()

    def __call__(self, engine: Engine, revision: str = "head") -> None:
        if revision not in ("head", migrate.HEAD) or not _is_empty(engine):
            # Alembic's: a reader opens a ledger at head without taking the writer lock
            self.real(engine, revision)
            return
        dialect = engine.dialect.name
        script = self.recorded.get(dialect)
        if script is None:
            with self._recording:
                script = self.recorded.get(dialect)
                if script is None:
                    self.record(engine, revision)
                    return
        if not replay(engine, script):  # not empty (another opener migrated it): Alembic's
            self.real(engine, revision)

    def record(self, engine: Engine, revision: str) -> None:
        """Migrate ``engine`` (found empty) by Alembic, keeping what it sent that changes the
        database, in order, if it went all the way to head (it sends nothing if another
        opener migrated the database meanwhile)."""
        sent: Recorded = []

        def before(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> None:
            if many:
                raise AssertionError(f"a migration sent executemany, not replayed: {statement}")
            if not statement.lstrip().upper().startswith(_NOT_REPLAYED):
                # as the driver got them (a dict or a tuple, often empty)
                sent.append((statement, dict(params) if isinstance(params, dict) else params))
            elif _NOT_A_READ.search(statement):
                raise AssertionError(f"a migration sent a statement not replayed: {statement}")

        event.listen(engine, "before_cursor_execute", before)
        try:
            self.real(engine, revision)
        finally:
            event.remove(engine, "before_cursor_execute", before)
        head = f"version_num='{migrate.HEAD}'"
        if sent and head in sent[-1][0]:
            self.recorded[engine.dialect.name] = sent


def replay(engine: Engine, script: Recorded) -> bool:
    """Send the recorded statements to ``engine`` in one write transaction, if its database is
    empty once the writer lock is held (False, and nothing sent, if it is not)."""
    with writing(engine) as conn:
        if not _empty(conn):
            return False
        for statement, params in script:
            conn.exec_driver_sql(statement, params)
    return True


def _empty(conn: Connection) -> bool:
    return bool(conn.exec_driver_sql(_EMPTY[conn.dialect.name]).scalar())


def _is_empty(engine: Engine) -> bool:
    with translated(), engine.connect() as conn:
        return _empty(conn)


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
