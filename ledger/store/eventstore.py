"""The append-only event store (SQLAlchemy Core). It knows events and streams, not beliefs.

Guarantees of :meth:`EventStore.append`, all inside one database transaction:

* all or nothing: a batch is written whole or not at all;
* positions are gapless and strictly increasing, the hash chain linear (writers hold the single
  writer lock of :mod:`ledger.store.backends` from reading the head until commit);
* ``recorded_at`` comes from the store's clock, never the caller, and never decreases;
* an event whose id is already stored with identical content is skipped (idempotent imports);
  the same id with other content is an :class:`EventIdConflict`;
* every source, proposition, document or statement an event names exists earlier in the log or
  earlier in the same batch;
* ``expected_versions`` gives optimistic concurrency per stream;
* before success is reported, the rows are read back in the same transaction: a database
  that silently dropped or replaced them (a rule or trigger on ``events``) raises
  :class:`~ledger.errors.AppendNotStored` and nothing is committed.

:meth:`EventStore.append_batches` keeps the same guarantees for several batches written in one
transaction: more events than fit in memory at once, still all or nothing.
"""

from __future__ import annotations

import json
import json.scanner
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, Select, func, select
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from ledger import codec
from ledger.errors import BusyError, DamagedDatabase, InvalidRecord
from ledger.events import Event, RedactionMade
from ledger.records import AppendResult, Head, RecordedEvent, VerifyReport
from ledger.store import redact
from ledger.store.append import (
    BatchesResult,
    Lookup,
    Prepared,
    Within,
    append_batches_once,
    append_once,
    head_of,
    lookup,
    stream_versions,
)
from ledger.store.backends import reading
from ledger.store.merkle import tree_size
from ledger.store.retry import RetryPolicy
from ledger.store.schema import events as t
from ledger.store.tree import Leaves, rows_with_salts, tree_problem
from ledger.store.verify import verify_rows, with_genesis
from ledger.times import from_micros, to_micros, utc_now

_IN_CHUNK = 500  # stream ids per IN (...) list, well under every backend's parameter limit
#: Rows fetched per round trip when streaming a read.
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

    def redact(
        self,
        positions: Sequence[int],
        *,
        reason: str,
        by: str,
        within: Within | None = None,
    ) -> tuple[list[RedactionMade], AppendResult]:
        """Redact the events at ``positions``, all or none: append one
        :class:`~ledger.events.RedactionMade` each and, in the same transaction, replace each
        event's payload with its redaction's marker and delete its salt
        (:mod:`ledger.store.redact`); ``within`` then runs as for :meth:`append`. On SQLite the
        transaction zeroes what it overwrites (``secure_delete``);
        :func:`ledger.store.redact.scrub_file` clears the rest of the file."""
        if len(set(positions)) != len(positions):
            raise InvalidRecord("names the same event twice", field="event")
        with reading(self.engine) as conn:
            redactions = [redact.prepare(conn, p, reason, by) for p in positions]

        def removing(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
            if len(rows) != len(redactions):  # some appended meanwhile by someone else
                raise InvalidRecord(
                    "an event named was redacted by another writer meanwhile: nothing was "
                    "redacted; run the command again for the others",
                    field="event",
                )
            with redact.secure_delete(conn):
                for redaction in redactions:
                    redact.remove(conn, redaction)
                if within is not None:
                    within(conn, rows)

        return redactions, self.append(redactions, within=removing)

    def append_batches(
        self,
        batches: Iterable[Sequence[Event]],
        *,
        within: Within | None = None,
        checked_at: Head | None = None,
    ) -> BatchesResult:
        """Append every batch of ``batches`` in ONE transaction: all of them or none.

        For more events than should be held in memory at once: the batches are taken one at a
        time while the transaction runs, so only one is in memory. The writer lock is taken
        once; every event gets the same ``recorded_at``; the hash chain runs on across
        batches; each batch is checked as :meth:`append` checks one (an event may name one in
        an earlier batch); ``within(conn, rows)`` runs after each batch's rows are written,
        with that batch's rows in position order, as :meth:`append` calls it. Returns counts
        and the new head (:class:`~ledger.store.append.BatchesResult`), not the events.

        Lock contention is retried by ``self.retry``, the whole transaction again, by
        iterating ``batches`` again: pass something that can be iterated more than once (a
        list, or an object whose ``__iter__`` starts over) to have that. A one-shot iterator
        (a generator) is retried only if the contention came before its first batch was taken;
        otherwise the :class:`~ledger.errors.BusyError` is raised.

        ``checked_at`` is for a caller that has checked every batch against the log already,
        at that head (as :meth:`ledger.Ledger.import_jsonl` does before it appends anything):
        no event id among the batches is in the log or repeated among them, and every stream
        an event names is in the log or opened by an earlier event of the batches. While the
        head is still that (read under the writer lock), the append does not look the ids and
        references up again; once it is not (another writer appended in between), every batch
        is checked in full as always. A caller whose claim is false gets what it claimed:
        the unique index still refuses a stored id, but a reference is not checked again.
        """
        one_shot = isinstance(batches, Iterator)
        taken = False

        def tracked() -> Iterator[Sequence[Event]]:
            nonlocal taken
            for batch in batches:
                taken = True
                yield batch
                del batch  # not kept while the next batch is made

        def attempt() -> BatchesResult:
            try:
                return append_batches_once(
                    self.engine, self._recorded_at, tracked(), within, checked_at=checked_at
                )
            except BusyError as e:
                if one_shot and taken:
                    raise _Spent(e) from e
                raise

        try:
            return self.retry.run(attempt)
        except _Spent as spent:
            busy = spent.error
        raise busy  # outside the handler: with its own cause (the driver's error), not _Spent

    def _recorded_at(self, head: Head) -> int:
        """The transaction time of a write: the clock, but always later than the last
        committed event (by a microsecond at least, should the clock lag or step back), so
        that an answer given as known at the last committed event can never change."""
        now = to_micros(self.clock())
        last = -(2**62) if head.recorded_at is None else to_micros(head.recorded_at)
        return max(now, last + 1)

    # -- reading -------------------------------------------------------------------------

    def head(self) -> Head:
        with reading(self.engine) as conn:
            return head_of(conn)

    def stream_version(self, stream_id: str) -> int:
        with reading(self.engine) as conn:
            return stream_versions(conn, {stream_id}).get(stream_id, 0)

    def lookup(self, event_ids: Iterable[str], stream_ids: Iterable[str]) -> Lookup:
        """The head, the stored content of ``event_ids`` and the versions of ``stream_ids``
        (which of them exist), in as few statements as the backend allows: what an importer
        checks a file against before it appends anything."""
        with reading(self.engine) as conn:
            return lookup(conn, event_ids, stream_ids)

    def read(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        stream_id: str | None = None,
        known_at: datetime | None = None,
        page_size: int = PAGE,
    ) -> Iterator[RecordedEvent]:
        """Stream events in position order (memory stays flat: ``page_size`` rows at a time).

        ``after``/``until`` bound positions (exclusive/inclusive); ``until`` defaults to the head
        when reading starts, so a long read sees one consistent prefix of the log even while
        writers append. ``known_at`` keeps events recorded at or before that instant.
        """
        # _decode, written out: this loop is the hot path of every replay. Times go through a
        # memo: one append's events share a recorded_at and statements crowd onto the same
        # days, so most are found there, and equal instants become one shared object.
        memo: dict[int, datetime] = {}
        loads, decode, build = _loads, codec.decode, codec.build_recorded
        with self._rows(after, until, stream_id, known_at, page_size) as rows:
            for (
                position,
                event_id,
                stream,
                version,
                type_,
                stated,
                at,
                payload,
                link,
                digest,
            ) in rows:
                when = None if stated is None else memo.get(stated) or _remember(memo, stated)
                event = decode(type_, loads(payload), when, position)
                recorded_at = memo.get(at) or _remember(memo, at)
                yield build(
                    position, _uuid(event_id), stream, version, recorded_at, event, link, digest
                )

    def read_rows(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        stream_id: str | None = None,
        known_at: datetime | None = None,
        page_size: int = PAGE,
    ) -> Iterator[Any]:
        """Like :meth:`read`, but raw rows (every column of ``events``, in table order, as
        tuples that also name their columns): for verification and bulk projection work."""
        with self._rows(after, until, stream_id, known_at, page_size) as rows:
            yield from rows

    @contextmanager
    def _rows(
        self,
        after: int,
        until: int | None,
        stream_id: str | None,
        known_at: datetime | None,
        page_size: int,
    ) -> Iterator[Iterable[Any]]:
        """The rows of a read, while the ``with`` block lasts.

        One connection and one streaming query for the whole read (a server-side cursor on
        PostgreSQL), fetching ``page_size`` rows at a time; ``until`` defaults to the head as
        read on that same connection, in the same transaction, just before the query.
        """
        if isinstance(self.engine.pool, _SHARED_CONNECTION_POOLS):
            yield self._read_pages(after, until, stream_id, known_at, page_size)
            return
        with reading(self.engine) as conn:
            if until is None:
                until = _last_position(conn)
            query = _query(after, until, stream_id, known_at)
            streaming = conn.execution_options(stream_results=True, yield_per=page_size)
            # Closed explicitly (also when the reader stops early): a server-side cursor
            # left to the garbage collector is a warning on PostgreSQL.
            with streaming.execute(query) as rows:
                yield rows

    def _read_pages(
        self,
        after: int,
        until: int | None,
        stream_id: str | None,
        known_at: datetime | None,
        page_size: int,
    ) -> Iterator[Any]:
        """The rows of a read when every connection of the engine is one and the same (an
        in-memory SQLite database): a page at a time, the connection released in between, so
        that the reader may query or append between rows as it can with a pooled engine."""
        with reading(self.engine) as conn:
            if until is None:
                until = _last_position(conn)
        last = after
        while True:
            with reading(self.engine) as conn:
                query = _query(last, until, stream_id, known_at).limit(page_size)
                page = conn.execute(query).all()
            yield from page
            if len(page) < page_size:
                return
            last = page[-1][0]

    def get(self, stream_id: str, version: int = 1) -> RecordedEvent | None:
        """One event by its stream and version (version 1 is the record itself)."""
        query = select(*_COLUMNS).where(t.c.stream_id == stream_id, t.c.stream_version == version)
        with reading(self.engine) as conn:
            row = conn.execute(query).first()
        return None if row is None else _decode(row)

    def read_streams(
        self, stream_ids: Iterable[str], *, known_at: datetime | None = None, first: bool = False
    ) -> list[RecordedEvent]:
        """The events of ``stream_ids`` (only each stream's first, ``first``) recorded by
        ``known_at``, in position order: index lookups by stream, not a scan of the log."""
        ids = sorted(set(stream_ids))
        rows: list[Any] = []
        with reading(self.engine) as conn:
            for i in range(0, len(ids), _IN_CHUNK):
                query = select(*_COLUMNS).where(t.c.stream_id.in_(ids[i : i + _IN_CHUNK]))
                if first:
                    query = query.where(t.c.stream_version == 1)
                if known_at is not None:
                    query = query.where(t.c.recorded_at <= to_micros(known_at))
                rows.extend(conn.execute(query).all())
        rows.sort(key=lambda row: row[0])  # position
        return [_decode(row) for row in rows]

    # -- verifying -----------------------------------------------------------------------
    def last_position(self) -> int:
        """The position of the last event (0 for an empty log), read without decoding it."""
        with reading(self.engine) as conn:
            return _last_position(conn)

    def last_position_at(self, known_at: datetime) -> int:
        """The last position recorded at or before ``known_at`` (0 if none)."""
        query = select(func.max(t.c.position)).where(t.c.recorded_at <= to_micros(known_at))
        with reading(self.engine) as conn:
            return int(conn.execute(query).scalar() or 0)

    def verify(
        self,
        checkpoint: tuple[int, str] | None = None,
        *,
        until: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> VerifyReport:
        """Re-read the whole log, streaming, and report the first position that is wrong.

        With ``checkpoint`` (a position and hash printed earlier), also check that the log still
        extends it, which is how a truncated tail is caught. ``until`` verifies only the prefix
        up to that position. ``progress`` is told how many rows have been read, every few
        thousand.

        A sound log is read once, in one snapshot, for both the hash chain and the Merkle tree;
        anything that pass cannot prove sends the check to the exact checks, which read the log
        again to name the first position at fault (so ``progress`` then starts again from 0).
        """
        last = 2**62 if until is None else until
        if checkpoint is None or checkpoint[0] > 0:
            at_once = self._verify_in_one_pass(checkpoint, last, progress)
            if at_once is not None:
                return at_once
        return self._verify_exactly(checkpoint, last, progress)

    def _verify_exactly(
        self,
        checkpoint: tuple[int, str] | None,
        last: int,
        progress: Callable[[int], None] | None,
    ) -> VerifyReport:
        """The chain, then the tree, each on its own read of the log, each written to name
        whatever is wrong (the reference ``_verify_in_one_pass`` defers to)."""
        rows = self.read_rows(until=last)
        if progress is not None:
            rows = counted(rows, progress)
        if checkpoint is not None and checkpoint[0] <= 0:
            return with_genesis(verify_rows(rows), checkpoint)
        try:
            with reading(self.engine) as conn:
                # Every redaction, also those recorded after ``until``: the text of a row in the
                # prefix is gone now whenever it was removed. Those redactions are verified by
                # a verify of the whole log; the prefix's own leaves against the tree.
                redactions = redact.recorded(conn)
        except DamagedDatabase:
            redactions = {}  # a table or column gone: the chain's pass reports where, as damage
        report = verify_rows(rows, checkpoint, redact.markers(redactions))
        if report.ok:
            within = sum(1 for p in redactions if p <= report.head.position)
            report = attrs.evolve(report, redacted=within)
        return self._verify_tree(report, redact.digests(redactions))

    def _verify_in_one_pass(
        self,
        checkpoint: tuple[int, str] | None,
        until: int,
        progress: Callable[[int], None] | None,
    ) -> VerifyReport | None:
        """The chain and the Merkle tree checked on one read of the log, in one snapshot: the
        report when both hold, else None, and :meth:`verify` checks again the way that names
        what is wrong (a read of the log for each check, each of them written to explain any
        damage). So a sound log is read once, and a damaged one is explained exactly as before
        (at the cost of a second read, only then)."""
        try:
            with reading(self.engine) as conn:
                redactions = redact.recorded(conn)
                end = min(_last_position(conn), until)
                leaves = Leaves(conn, tree_size(conn), redact.digests(redactions))
                rows: Iterable[Any] = leaves.fed(rows_with_salts(conn, end))
                if progress is not None:
                    rows = counted(rows, progress)
                report = verify_rows(
                    (row[:10] for row in rows), checkpoint, redact.markers(redactions)
                )
                size = min(leaves.limit, report.head.position)
                if not report.ok or leaves.compared(size) is not None:
                    return None
        except Exception:  # whatever stopped this pass, the exact pass reports (or raises)
            return None
        within = sum(1 for p in redactions if p <= report.head.position)
        return attrs.evolve(report, redacted=within)

    def _verify_tree(self, report: VerifyReport, redacted: Mapping[int, str]) -> VerifyReport:
        """A sound chain, then the Merkle tree: every leaf recomputed from the verified rows
        (a redacted row's through the digest its redaction recorded) must give the stored root
        (``ledger.store.tree.tree_problem``)."""
        if not report.ok:
            return report
        with reading(self.engine) as conn:
            found = tree_problem(conn, report.head.position, redacted)
        if found is None:
            return report
        return VerifyReport(False, report.checked, report.head, found[0], found[1])


def counted(
    rows: Iterable[Any], progress: Callable[[int], None], every: int = 5_000
) -> Iterator[Any]:
    """``rows``, telling ``progress`` how many have gone by every ``every`` and at the end."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % every == 0:
            progress(done)
    progress(done)


class _Spent(Exception):
    """A :class:`BusyError` that cannot be retried: the one-shot batches were partly taken."""

    def __init__(self, error: BusyError):
        super().__init__(str(error))
        self.error = error


#: Pools that hand every checkout the same connection: a read must not hold it across yields.
_SHARED_CONNECTION_POOLS = (StaticPool, SingletonThreadPool)


def _last_position(conn: Connection) -> int:
    return int(conn.execute(select(func.max(t.c.position))).scalar() or 0)


def _query(after: int, until: int, stream_id: str | None, known_at: datetime | None) -> Select[Any]:
    query = (
        select(*_COLUMNS).where(t.c.position > after, t.c.position <= until).order_by(t.c.position)
    )
    if stream_id is not None:
        query = query.where(t.c.stream_id == stream_id)
    if known_at is not None:
        query = query.where(t.c.recorded_at <= to_micros(known_at))
    return query


def _decode(row: Any) -> RecordedEvent:
    """One stored row (in ``_COLUMNS`` order) as a :class:`RecordedEvent`."""
    position, event_id, stream, version, type_, stated, recorded_at, payload, link, digest = row
    when = None if stated is None else from_micros(stated)
    event = codec.decode(type_, _loads(payload), when, position)
    return codec.build_recorded(
        position, _uuid(event_id), stream, version, from_micros(recorded_at), event, link, digest
    )


_MEMO_LIMIT = 16_384  # instants; about 1.5 MB at most


def _remember(memo: dict[int, datetime], micros: int) -> datetime:
    """``from_micros(micros)``, kept in ``memo`` (emptied whenever it is full: bounded)."""
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    when = memo[micros] = from_micros(micros)
    return when


# The C scanner behind json.loads (typeshed types make_scanner's argument oddly).
_scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]
)


def _loads(text: str) -> Any:
    """``json.loads(text)``, minus its Python-level wrapping, for the canonical payloads the
    store writes (one JSON value, no white space around it). Anything else goes through
    ``json.loads`` itself, so the result, or the error, is always the same."""
    try:
        value, end = _scan(text, 0)
    except (StopIteration, ValueError, TypeError):
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return value


_UUID = uuid.UUID
_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_new = object.__new__
_set = object.__setattr__


def _uuid(text: str) -> uuid.UUID:
    """``uuid.UUID(text)``, built directly for the plain form the store writes (32 hex digits
    and dashes); anything else goes through ``uuid.UUID`` itself (same result or error)."""
    digits = text.replace("-", "")
    if len(digits) != 32 or not digits.isalnum():
        return _UUID(text)
    value = _new(_UUID)
    _set(value, "int", int(digits, 16))
    _set(value, "is_safe", _SAFE_UNKNOWN)
    return value
