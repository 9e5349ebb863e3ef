"""Driver errors, translated once into the ledger's own hierarchy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from ledger.errors import BusyError, LedgerError, StoreError

_CONTENTION_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available


def _is_contention(e: sa_exc.DBAPIError) -> bool:
    sqlstate = getattr(e.orig, "sqlstate", None)
    text = str(e.orig).lower()
    return sqlstate in _CONTENTION_SQLSTATES or "locked" in text or "busy" in text


@contextmanager
def translated() -> Iterator[None]:
    """Translate driver errors once, here, into the ledger's own hierarchy."""
    try:
        yield
    except LedgerError:
        raise
    except sa_exc.DBAPIError as e:
        if _is_contention(e):
            raise BusyError(f"the database stayed locked by other writers: {e.orig}") from e
        raise StoreError(f"database error: {e.orig}") from e
