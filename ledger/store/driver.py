"""Statements straight through the driver's cursor on SQLite, for the few every append runs.

SQLAlchemy's execution of a driver-level statement (``exec_driver_sql``) adds 5-15 us to what
SQLite's own cursor takes for a small one (an ``UPDATE`` of one row: 5.4 against 0.9 us), and a
single append runs a dozen of them; a Core statement adds its compiled-cache lookup too. On
PostgreSQL the round trip to the server dwarfs that, and the append path has its own shapes
there (one statement for the projection's write), so these go through SQLAlchemy as before.

Errors are raised as SQLAlchemy's ``DBAPIError`` (:func:`ledger.store.dberrors.wrapped`), as
the same statement through SQLAlchemy would have raised them, so callers translate them alike.
The statements run inside the connection's transaction: SQLAlchemy began it (``writing`` or
``reading``) and ends it; the cursor is the same connection's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from ledger.store.dberrors import wrapped


def _raw(conn: Connection) -> Any:
    return conn.connection.driver_connection if conn.dialect.name == "sqlite" else None


def rows(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Every row of ``sql`` (the driver's parameter style), as the driver's tuples."""
    raw = _raw(conn)
    if raw is None:
        return list(conn.exec_driver_sql(sql, tuple(params)).fetchall())
    with wrapped(conn, sql, params):
        found: list[Any] = raw.execute(sql, params).fetchall()
    return found


def run(conn: Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """Run one statement; the rows it changed."""
    raw = _raw(conn)
    if raw is None:
        return int(conn.exec_driver_sql(sql, tuple(params)).rowcount)
    with wrapped(conn, sql, params):
        return int(raw.execute(sql, params).rowcount)


def run_many(conn: Connection, sql: str, seq: Sequence[Sequence[Any]]) -> None:
    """Run one statement once for each parameter tuple of ``seq`` (``executemany``)."""
    if not seq:
        return
    raw = _raw(conn)
    if raw is None:
        conn.exec_driver_sql(sql, list(seq) if len(seq) > 1 else tuple(seq[0]))
        return
    with wrapped(conn, sql, seq):
        raw.executemany(sql, seq)
