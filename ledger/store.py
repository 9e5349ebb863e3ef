"""The append-only event store (SQLAlchemy Core). It knows events and streams, not beliefs.

Guarantees of :meth:`EventStore.append`, all inside one database transaction:

* all or nothing: a batch is written whole or not at all;
* positions are gapless and strictly increasing, the hash chain linear (writers hold the single
  writer lock of :mod:`ledger.backends` from reading the head until commit);
* ``recorded_at`` comes from the store's clock, never the caller, and never decreases;
* an event whose id is already stored with identical content is skipped (idempotent imports);
  the same id with other content is an :class:`EventIdConflict`;
* every source, proposition, document or statement an event names exists earlier in the log or
  earlier in the same batch;
* ``expected_versions`` gives optimistic concurrency per stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from ledger import _trusted as trusted
from ledger._dberrors import translated as _translated
from ledger.append import Prepared, Within, append_once, head_of, recorded, stream_versions
from ledger.events import Event
from ledger.records import AppendResult, Head, RecordedEvent, VerifyReport
from ledger.retry import RetryPolicy
from ledger.schema import events as t
from ledger.times import from_micros, to_micros, utc_now
from ledger.verify import verify_rows, with_genesis

PAGE = 2_000
_COLUMNS = (
    t.c.position,
    t.c.event_id,
    t.c.stream_id,
    t.c.stream_version,
    t.c.type,
    t.c.stated_at,
    t.c.recorded_at,
    t.c.payload,
    t.c.prev_hash,
    t.c.hash,
)


class EventStore:
    """Append, read and verify the log in one SQL database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so one shared default is safe
    ):
        self.engine = engine
        self.clock = clock
        self.retry = retry

    # -- writing -------------------------------------------------------------------------

    def append(
        self,
        events: Iterable[Event],
        *,
        expected_versions: Mapping[str, int] | None = None,
        within: Within | None = None,
    ) -> AppendResult:
        """Append ``events`` as one atomic batch; see the module docstring for the guarantees.

        ``within`` runs inside the same transaction after the rows are written, with the
        connection and the rows just written (a projection catching up, say): if it raises,
        nothing is appended. Lock contention is retried by ``self.retry``; the whole
        transaction runs again, which is safe because it is atomic.
        """
        prepared = [Prepared.of(e) for e in events]
        expected = dict(expected_versions or {})
        return self.retry.run(
            lambda: append_once(self.engine, self._recorded_at, prepared, expected, within)
        )

    def _recorded_at(self, head: Head) -> int:
        now = to_micros(self.clock())
        last = -(2**62) if head.recorded_at is None else to_micros(head.recorded_at)
        return max(now, last)

    # -- reading -------------------------------------------------------------------------

    def head(self) -> Head:
        with _translated(), self.engine.connect() as conn:
            return head_of(conn)

    def stream_version(self, stream_id: str) -> int:
        with _translated(), self.engine.connect() as conn:
            return stream_versions(conn, {stream_id}).get(stream_id, 0)

    def read(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        stream_id: str | None = None,
        known_at: datetime | None = None,
        page_size: int = PAGE,
    ) -> Iterator[RecordedEvent]:
        """Stream events in position order, a page at a time (memory stays flat).

        ``after``/``until`` bound positions (exclusive/inclusive); ``until`` defaults to the head
        when reading starts, so a long read sees one consistent prefix of the log even while
        writers append. ``known_at`` keeps events recorded at or before that instant.
        """
        for row in self.read_rows(
            after=after, until=until, stream_id=stream_id, known_at=known_at, page_size=page_size
        ):
            yield _decode(row)

    def read_rows(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        stream_id: str | None = None,
        known_at: datetime | None = None,
        page_size: int = PAGE,
    ) -> Iterator[Any]:
        """Like :meth:`read`, but raw rows: for verification and bulk projection work."""
        if until is None:
            until = self.head().position
        query = select(*_COLUMNS).where(t.c.position <= until).order_by(t.c.position)
        if stream_id is not None:
            query = query.where(t.c.stream_id == stream_id)
        if known_at is not None:
            query = query.where(t.c.recorded_at <= to_micros(known_at))
        last = after
        while True:
            with _translated(), self.engine.connect() as conn:
                page = conn.execute(query.where(t.c.position > last).limit(page_size)).all()
            yield from page
            if len(page) < page_size:
                return
            last = page[-1].position

    def get(self, stream_id: str, version: int = 1) -> RecordedEvent | None:
        """One event by its stream and version (version 1 is the record itself)."""
        query = select(*_COLUMNS).where(t.c.stream_id == stream_id, t.c.stream_version == version)
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _decode(row)

    # -- verifying -----------------------------------------------------------------------
    def last_position_at(self, known_at: datetime) -> int:
        """The last position recorded at or before ``known_at`` (0 if none)."""
        query = select(func.max(t.c.position)).where(t.c.recorded_at <= to_micros(known_at))
        with _translated(), self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def verify(
        self, checkpoint: tuple[int, str] | None = None, *, until: int | None = None
    ) -> VerifyReport:
        """Re-read the whole log, streaming, and report the first position that is wrong.

        With ``checkpoint`` (a position and hash printed earlier), also check that the log still
        extends it, which is how a truncated tail is caught. ``until`` verifies only the prefix
        up to that position.
        """
        rows = self.read_rows(until=2**62 if until is None else until)
        if checkpoint is not None and checkpoint[0] <= 0:
            return with_genesis(verify_rows(rows), checkpoint)
        return verify_rows(rows, checkpoint)


def _decode(row: Any) -> RecordedEvent:
    when = None if row.stated_at is None else from_micros(row.stated_at)
    event = trusted.decode(row.type, json.loads(row.payload), when, row.position)
    return recorded(row._mapping, event)
