"""Least privilege on PostgreSQL: roles that may append and read, or only read.

The append-only triggers stop UPDATE, DELETE and TRUNCATE by anybody who cannot drop them; the
grants here go further, so a writer role holds no UPDATE, DELETE or TRUNCATE privilege on
``events``, ``event_salts`` or ``merkle_nodes`` at all, and a reader role cannot write anything.
The projection tables are derived data, rebuilt from the log, so the writer may change them.
Both functions are idempotent.

The writer lock (:mod:`ledger.store.backends`) is ``LOCK TABLE … IN EXCLUSIVE MODE`` on one of
:data:`~ledger.store.backends.WRITER_LOCK_TABLES`, which needs UPDATE, DELETE or TRUNCATE on it: a
writer is granted UPDATE on each of them that exists, a reader none of these, so a reader can
neither take the lock nor hold it to stall the writers.

On SQLite there are no roles: protect the database file with file-system permissions.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, Engine, text

from ledger.errors import InvalidRecord, LedgerError
from ledger.store.backends import WRITER_LOCK_TABLES, has_roles
from ledger.store.dberrors import translated

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: The log and what is written with it, insert-only: the events, their salts and the Merkle
#: tree's nodes (issue 15).
_LOG = ("events", "event_salts", "merkle_nodes")
_DERIVED = (
    "belief_checkpoint",
    "belief_sources",
    "belief_propositions",
    "belief_stances",
)


def grant_writer(engine: Engine, role: str) -> None:
    """Let ``role`` append events and read everything; never alter or remove an event."""
    with translated(), engine.begin() as conn:
        _prepare(conn, role)
        for table in _LOG:
            conn.execute(text(f"GRANT SELECT, INSERT ON {table} TO {role}"))
            conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}"))
        tables = ", ".join(_DERIVED)
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role}"))
        for table in _existing(conn, WRITER_LOCK_TABLES):
            conn.execute(text(f"GRANT UPDATE ON {table} TO {role}"))


def grant_redactor(engine: Engine, role: str) -> None:
    """What :func:`grant_writer` grants, and the one removal (issue 15, ``factledger redact``):
    ``UPDATE (payload)`` on ``events`` and ``DELETE`` on ``event_salts``. The append-only
    trigger still refuses any update but a recorded redaction's (migration 0009). Granting
    writer or reader afterwards takes both back (revoking a table privilege revokes its column
    privileges too)."""
    grant_writer(engine, role)
    with translated(), engine.begin() as conn:
        conn.execute(text(f"GRANT UPDATE (payload) ON events TO {role}"))
        conn.execute(text(f"GRANT DELETE ON event_salts TO {role}"))


def grant_reader(engine: Engine, role: str) -> None:
    """Let ``role`` read the log and the projections, and nothing else."""
    with translated(), engine.begin() as conn:
        _prepare(conn, role)
        for table in _LOG:
            conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {role}"))
        tables = ", ".join(_DERIVED)
        conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {tables} FROM {role}"))
        for table in _existing(conn, WRITER_LOCK_TABLES):
            conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {role}"))


def _prepare(conn: Connection, role: str) -> None:
    if not has_roles(conn):
        raise LedgerError(
            "database roles are a PostgreSQL feature; on SQLite, protect the database file "
            "with file-system permissions instead"
        )
    if not _ROLE.fullmatch(role):
        raise InvalidRecord(
            f"{role!r} is not a plain role name (lowercase letters, digits, '_')", field="role"
        )
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
    conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}'))


def _existing(conn: Connection, tables: tuple[str, ...]) -> list[str]:
    return [t for t in tables if conn.execute(text("SELECT to_regclass(:t)"), {"t": t}).scalar()]
