"""Driver errors, translated once into the ledger's own hierarchy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc

from ledger.errors import BusyError, DamagedDatabase, LedgerError, StoreError

_CONTENTION_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available
# undefined table, undefined column, data corrupted, index corrupted
_DAMAGE_SQLSTATES = {"42P01", "42703", "XX001", "XX002"}
_SQLITE_DAMAGE_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_SQLITE_DAMAGE_TEXTS = ("no such table", "no such column")


def _is_contention(e: sa_exc.DBAPIError) -> bool:
    sqlstate = getattr(e.orig, "sqlstate", None)
    text = str(e.orig).lower()
    return sqlstate in _CONTENTION_SQLSTATES or "locked" in text or "busy" in text


def _is_damage(e: sa_exc.DBAPIError) -> bool:
    """A table or column the ledger needs is missing, or the database file is corrupt."""
    if getattr(e.orig, "sqlstate", None) in _DAMAGE_SQLSTATES:
        return True
    if getattr(e.orig, "sqlite_errorcode", None) in _SQLITE_DAMAGE_CODES:
        return True
    return str(e.orig).lower().startswith(_SQLITE_DAMAGE_TEXTS)


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@contextmanager
def translated() -> Iterator[None]:
    """Translate driver errors once, here, into the ledger's own hierarchy."""
    try:
        yield
    except LedgerError:
        raise
    except sa_exc.DBAPIError as e:
        if _is_damage(e):
            raise DamagedDatabase(f"database error: {_first_line(e.orig)}") from e
        if _is_contention(e):
            raise BusyError(f"the database stayed locked by other writers: {e.orig}") from e
        raise StoreError(f"database error: {e.orig}") from e


@contextmanager
def wrapped(conn: Connection, statement: str, params: Any = None) -> Iterator[None]:
    """Errors of the driver called directly (a cursor, ``COPY``), raised as SQLAlchemy's
    ``DBAPIError``, as a Core statement's would have been, so that :func:`translated` sees
    them alike."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as e:
        raise sa_exc.DBAPIError.instance(statement, params, e, dbapi.Error) from e
