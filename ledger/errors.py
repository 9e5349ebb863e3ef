"""One exception hierarchy, rooted in :class:`LedgerError`.

Errors caused by the caller also subclass the matching builtin (``ValueError``, ``LookupError``)
so generic handlers keep working. Driver errors are translated once, at the store's transaction
boundary; nothing above the store sees a raw DBAPI exception.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error this package raises on purpose."""


class InvalidRecord(LedgerError, ValueError):
    """An event or import record is malformed: a bad id, time, stance, quantity or field.

    ``field`` names the offending field when one is to blame; ``location`` is filled in by the
    importer with ``file:line`` so the message tells a person exactly where to look.
    """

    def __init__(self, message: str, *, field: str | None = None, location: str | None = None):
        self.field = field
        self.location = location
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f"field {_clip(self.field)!r}: " if self.field is not None else ""
        return f"{where}{what}{self.reason}"

    def at(self, location: str) -> InvalidRecord:
        """The same error, placed at ``location`` (for example ``data.jsonl:12``)."""
        return InvalidRecord(self.reason, field=self.field, location=location)


def _clip(name: str, limit: int = 80) -> str:
    """A field name as a message shows it: hostile input may send a megabyte-long key."""
    return name if len(name) <= limit else name[:limit] + "…"


class UnknownReference(InvalidRecord):
    """An event names a source, proposition, document or event the ledger has never seen."""


class EventIdConflict(LedgerError, ValueError):
    """The same event id was appended again with different content (ids are never reused)."""


class ConcurrencyConflict(LedgerError):
    """A stream was not at the version the writer expected: somebody else appended first.

    Re-read the stream and decide again; retrying blindly would defeat optimistic concurrency.
    """

    def __init__(self, stream_id: str, expected: int, actual: int):
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, but the append expected {expected}"
        )


class NotFound(LedgerError, LookupError):
    """A proposition, source or event that was asked for does not exist in the ledger."""


class IntegrityError(LedgerError):
    """The stored log is not what was appended: a hash, link or order is wrong."""


class StoreError(LedgerError):
    """The database failed in a way the caller cannot fix by changing the request."""


class BusyError(StoreError):
    """The database stayed locked by other writers for longer than the retry policy allows."""


class AppendNotStored(IntegrityError):
    """An append read its rows back, in its own transaction, and they were not there as written:
    something in the database (a rule or trigger on ``events``) discarded or replaced them.
    Nothing was committed; the append reported no success."""


class LockTimeout(BusyError):
    """A writer waited for the writer lock as long as it was allowed to (``lock_timeout``) and
    gave up; the message says who held the lock, as far as the database lets this role see."""

    def __init__(self, message: str, *, holder: str, waited: float):
        self.holder = holder
        self.waited = waited
        super().__init__(message)


class ConnectTimeout(StoreError):
    """The database server did not complete a connection within the connect timeout."""


class DamagedDatabase(StoreError):
    """A table or column the ledger needs is missing, or the database file is corrupt: the
    database was changed outside the ledger's migrations. ``verify`` reports it as damage."""
