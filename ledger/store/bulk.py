"""Bulk inserts below SQLAlchemy's generic executemany: the driver's own fast paths.

``COPY ... FROM STDIN`` on PostgreSQL (psycopg 3) from :data:`COPY_FROM` rows on, otherwise one
DBAPI ``executemany`` of plain tuples (through the driver's own cursor on SQLite:
:mod:`ledger.store.driver`). Used by the append path for ``events`` and by the belief
projection for its derived tables. Errors are raised as SQLAlchemy's ``DBAPIError``, so callers'
error translation (``ledger.store.dberrors``) sees what a Core insert would have raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from ledger.store import driver
from ledger.store.backends import copies, placeholder
from ledger.store.dberrors import wrapped

#: From this many rows on, PostgreSQL gets ``COPY`` instead of ``executemany``.
COPY_FROM = 16


def insert_many(
    conn: Connection, table: str, columns: Sequence[str], values: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``values`` (tuples in ``columns`` order) into ``table`` in one driver call."""
    if not values:
        return
    names = ", ".join(columns)
    if len(values) >= COPY_FROM and copies(conn):
        _copy(conn, f"COPY {table} ({names}) FROM STDIN", values)
        return
    mark = placeholder(conn)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))})"
    driver.run_many(conn, sql, values)


def _copy(conn: Connection, statement: str, values: Sequence[tuple[Any, ...]]) -> None:
    with wrapped(conn, statement):
        driver: Any = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
