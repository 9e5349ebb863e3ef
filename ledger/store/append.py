"""Appending to the log: the write transactions behind :meth:`EventStore.append` and
:meth:`EventStore.append_batches`.

Everything here runs inside one database transaction that holds the writer lock of
:mod:`ledger.store.backends` from reading the head until commit; see :mod:`ledger.store.eventstore`
for the guarantees it keeps. Before a transaction reports success it reads back what it wrote (the
number of rows past the old head, and the new head's position and hash), so a database that silently
drops inserts (a rule or trigger on ``events``) is an :class:`AppendNotStored`, never a success.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, overload

import attrs
from sqlalchemy import Connection, Engine, RowMapping, bindparam, case, func, select

from ledger import hashing
from ledger.codec import encoding, same_payload
from ledger.errors import AppendNotStored, ConcurrencyConflict, EventIdConflict, UnknownReference
from ledger.events import OPENS_OWN_STREAM, Event
from ledger.records import AppendResult, Head, RecordedEvent
from ledger.store import bulk, tree
from ledger.store.backends import (
    GENERIC_PLANS_UP_TO,
    binds_arrays,
    refresh_statistics,
    size_write_cache,
    writing,
)
from ledger.store.schema import EVENT_COLUMNS
from ledger.store.schema import events as t
from ledger.times import from_micros

_IN_CHUNK = 500  # bound parameters per IN (...) list, well under every backend's limit
#: Once a transaction has written this many rows, PostgreSQL's planner statistics for
#: ``events`` are refreshed (see :func:`ledger.store.backends.refresh_statistics`): the lookups
#: of the next batches would otherwise be planned as scans of the whole table.
ANALYZE_AFTER = 10_000

#: Runs inside the append transaction after the rows are written, with the connection and the
#: rows just inserted (mappings of the ``events`` columns, in position order: a :class:`Rows`).
Within = Callable[[Connection, Sequence[Mapping[str, Any]]], object]

#: The columns of ``events`` in table order (:data:`ledger.store.schema.EVENT_COLUMNS`).
COLUMNS = EVENT_COLUMNS

#: A read that ``within`` will make, named before the append's rows are written: a ``SELECT`` of
#: one text column and its parameters (see :class:`ReadsAhead`).
Read = tuple[str, Sequence[Any]]


class ReadsAhead(Protocol):
    """What a ``within`` (or the object it is a bound method of) may offer to save round trips:
    the reads it will make, given the events of an append, before anything is written. On
    PostgreSQL the store sends them in its own first statement (the lookup), and ``within``
    finds each one's rows (text, in no particular order) in ``rows.ahead`` (see :class:`Rows`).
    Only for reads whose answer the append's own writes cannot change (the log's tables are
    all the store writes before ``within`` runs); ``within`` decides whether what it read
    ahead still serves."""

    def reads_ahead(self, conn: Connection, events: Sequence[Event]) -> Sequence[Read]: ...


@attrs.frozen
class Prepared:
    """An event encoded once: everything the store compares, orders and hashes."""

    event: Event
    event_id: str
    stream_id: str
    type: str
    stated_at: int | None
    payload: str

    @classmethod
    def of(cls, event: Event) -> Prepared:
        # The encoding is cached on the event (see ledger.codec.encoding): an importer that
        # has checked the file against the ledger already paid for it.
        e = encoding(event)
        return cls(event, e.event_id, e.stream_id, e.type, e.stated_at, e.payload)

    def same_content(self, other: Any) -> bool:
        """Equal to a stored row, or another prepared event, in everything that is hashed."""
        return (other.type, other.stream_id, other.stated_at) == (
            self.type,
            self.stream_id,
            self.stated_at,
        ) and (
            other.payload == self.payload or same_payload(other.payload, self.payload, self.event)
        )


class Stored(NamedTuple):
    """What the log holds for an event id: the parts :meth:`Prepared.same_content` compares."""

    type: str
    stream_id: str
    stated_at: int | None
    payload: str


@attrs.frozen
class Lookup:
    """What one append needs to know about the log, read in as few statements as possible."""

    head: Head
    stored: dict[str, Stored]  # event id -> stored content, for the ids asked about
    versions: dict[str, int]  # stream -> its last version, for the streams asked about that exist
    known: set[str]  # of those streams, the ones whose version 1 is stored (they exist)
    ahead: list[list[str]] = attrs.Factory(list)  # the rows of each read ahead, if any


def append_once(
    engine: Engine,
    recorded_at: Callable[[Head], int],
    prepared: list[Prepared],
    expected: dict[str, int],
    within: Within | None,
) -> AppendResult:
    """One attempt at appending ``prepared`` atomically (the caller retries on lock contention)."""
    with writing(engine, generic_plans=len(prepared) <= GENERIC_PLANS_UP_TO) as conn:
        written = _write(conn, recorded_at, prepared, expected, within)
        if len(written.rows) >= ANALYZE_AFTER:
            refresh_statistics(conn, ["events"])
    appended = tuple(
        _recorded(row, p.event) for row, p in zip(written.rows.values, written.fresh, strict=True)
    )
    return AppendResult(appended=appended, skipped=written.skipped, head=written.after)


@attrs.frozen
class BatchesResult:
    """What one :meth:`~ledger.store.eventstore.EventStore.append_batches` did, in one transaction:
    the events it wrote and the identical ones it skipped, over how many batches, and the head after
    it. (Counts, not the events: a batched append is made for more than fits in memory.)
    """

    appended: int
    skipped: int
    batches: int
    head: Head


def append_batches_once(
    engine: Engine,
    recorded_at: Callable[[Head], int],
    batches: Iterable[Sequence[Event]],
    within: Within | None,
    *,
    checked_at: Head | None = None,
) -> BatchesResult:
    """One attempt at appending every batch of ``batches`` in one transaction, all or nothing.

    The writer lock is taken once; every batch gets the same ``recorded_at`` (from the clock
    and the head the first batch's lookup reads, under the lock), the hash chain runs on from
    batch to batch, and ``within(conn, rows)`` runs after each batch's rows are written, with
    that batch's rows in position order, exactly as :func:`append_once` calls it. Each batch is
    checked as an append is (repeats skipped, ids never reused, references earlier in the log,
    in an earlier batch or earlier in the batch): the transaction reads its own earlier
    batches.

    ``checked_at``: the caller checked every batch against the log at that head (see
    :func:`_write`); it holds for the first batch if the head is still that, and for each
    later one if it held for the one before (the log has grown by the batches alone since).
    """
    appended = skipped = count = unanalyzed = 0
    head: Head | None = None
    when: int | None = None

    def stamp(first: Head) -> int:
        # The clock is read once, from the head the first batch's lookup read under the lock
        # (a statement of its own for the head was one round trip more per import).
        nonlocal when
        if when is None:
            when = recorded_at(first)
        return when

    with writing(engine) as conn:
        for batch in batches:
            prepared = [Prepared.of(e) for e in batch]
            written = _write(conn, stamp, prepared, {}, within, checked_at=checked_at)
            head = written.after
            checked_at = head if written.trusted else None
            count += 1
            skipped += written.skipped
            if written.rows:
                appended += len(written.rows)
                unanalyzed += len(written.rows)
                if unanalyzed >= ANALYZE_AFTER:
                    refresh_statistics(conn, ["events"])
                    unanalyzed = 0
            del batch, prepared, written  # before the next batch is taken: one in memory
        if head is None:  # no batch at all
            head = head_of(conn)
    return BatchesResult(appended=appended, skipped=skipped, batches=count, head=head)


@attrs.frozen
class _Written:
    before: Head  # the head before this batch
    when: int  # its recorded_at
    fresh: list[Prepared]  # the events written, in position order
    rows: Rows  # their rows
    skipped: int
    trusted: bool  # the caller's check held (``checked_at`` was the head): no ids looked up

    @property
    def after(self) -> Head:
        """The head this batch left."""
        if not self.rows.values:
            return self.before
        last = self.rows.values[-1]
        return Head(last[0], last[-1], from_micros(self.when))


def _write(
    conn: Connection,
    recorded_at: Callable[[Head], int],
    prepared: list[Prepared],
    expected: Mapping[str, int],
    within: Within | None,
    *,
    checked_at: Head | None = None,
) -> _Written:
    """Check ``prepared`` against the log, write its new rows, read them back, run ``within``.

    ``checked_at``: the head of the log at which the caller (an importer) checked these events
    already: none of their ids was in the log, and every stream they name was there or is
    opened earlier in ``prepared``. The log is append-only and hash-chained, so if its head is
    still that (position and hash, read under the writer lock) the check still holds, and only
    the versions of the streams the events write to are read, not the ids and references
    again: at 100k events that second lookup of a delivery's 1,000 ids and 300 references was
    some 4% of the delivery, and it grows with the log. Otherwise the append checks everything
    as always (a second statement).
    """
    size_write_cache(conn, len(prepared))
    ahead = _reads_ahead(conn, within, prepared)
    found = None
    if checked_at is not None:
        found = lookup(conn, (), _streams_written(prepared, expected), ahead)
        if (found.head.position, found.head.hash) != (checked_at.position, checked_at.hash):
            found = None
    trusted = found is not None
    if found is None:
        streams = _streams_to_look_up(prepared, expected)
        found = lookup(conn, {p.event_id for p in prepared}, streams, ahead)
    fresh, skipped = _drop_repeats(found.stored, prepared)
    versions = found.versions
    _check_expected(versions, expected)
    if not trusted:
        _check_references(found.known, fresh)
    when = recorded_at(found.head)
    rows = Rows(_chain(fresh, found.head, versions, when), found.ahead)
    if rows:
        insert_rows(conn, rows.values)
        check_written(conn, found.head, rows)
        tree.extend(conn, found.head.position, rows.values)  # salts and Merkle leaves
        if within is not None:
            within(conn, rows)
    return _Written(found.head, when, fresh, rows, skipped, trusted)


def _streams_written(prepared: Sequence[Prepared], expected: Mapping[str, int]) -> set[str]:
    """The streams whose versions an append needs to number its events: those they write to,
    but not those they open (:data:`ledger.events.OPENS_OWN_STREAM`), and those it expects a
    version of."""
    streams = {p.stream_id for p in prepared if p.type not in OPENS_OWN_STREAM}
    streams.update(expected)
    return streams


def _streams_to_look_up(prepared: Sequence[Prepared], expected: Mapping[str, int]) -> set[str]:
    """The streams whose versions an append must read: those its events write to, those it
    expects a version of, and those its events name; but not the streams its events open
    themselves (:data:`ledger.events.OPENS_OWN_STREAM`). Such a stream exists exactly when its
    event does, which the lookup of the event ids already says: a stored one is a repeat,
    skipped; a fresh one opens its stream at version 1. (Were a stream found otherwise, by
    rows written around the store, the unique index on stream and version refuses the
    append.) A delivery of 1,000 statements reads some 1,300
    streams instead of 2,300, and a single statement two instead of three."""
    streams = _streams_written(prepared, expected)
    streams.update(ref for p in prepared for _, ref in p.event.references())
    return streams


# One statement: the rows from past the old head to the new one, counted, the hash stored at
# the new head, and the head of the whole log (an index's last entry). Bounded on both sides so
# that a plan made once for all values (PostgreSQL, a small write: see begin_write) expects a
# few rows: with the lower bound alone it expected a third of the log, and at 1M events read it
# with parallel workers, 5 ms for a statement that reads one row (0.02 ms now). Built once:
# building it for every write cost more than SQLite took to run it.
_WRITTEN = select(
    func.count(),
    func.max(case((t.c.position == bindparam("last"), t.c.hash))),
    select(func.max(t.c.position)).scalar_subquery(),
).where(t.c.position > bindparam("before"), t.c.position <= bindparam("last"))


def check_written(conn: Connection, before: Head, rows: Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`AppendNotStored` unless the log holds exactly ``rows`` past ``before``:
    as many rows after the old head as were written, the last of them the new head, with the
    hash computed for it. Read in the writing transaction, before anything is reported."""
    first, last = rows[0], rows[-1]
    count, stored_hash, top = conn.execute(
        _WRITTEN, {"last": last["position"], "before": before.position}
    ).one()
    if count == len(rows) and top == last["position"] and stored_hash == last["hash"]:
        return
    head = head_of(conn)
    raise AppendNotStored(
        f"the database did not store the append: {len(rows)} rows were inserted at positions "
        f"{first['position']} to {last['position']}, but {count} rows are there at those "
        f"positions and the head is {head.position} {head.hash[:12]}…; a rule or trigger "
        "on the events table may be discarding or rewriting inserts. Nothing was appended."
    )


def head_of(conn: Connection) -> Head:
    row = conn.execute(
        select(t.c.position, t.c.hash, t.c.recorded_at).order_by(t.c.position.desc()).limit(1)
    ).first()
    if row is None:
        return Head(0, hashing.GENESIS, None)
    return Head(row.position, row.hash, from_micros(row.recorded_at))


# -- reading what an append needs, in one statement ---------------------------------------------
#
# One UNION ALL of up to three parts, each row tagged with its part: the head; the stored
# content of the event ids asked about; the last (and first) version of each stream asked
# about. Columns: tag, event_id, type, stream_id, two integers, payload. On PostgreSQL the ids
# and streams go as two array parameters, so any batch is one statement; SQLite gets IN (...)
# lists of at most _IN_CHUNK, the head in the first statement only.

_HEAD_PART = (
    "SELECT 0 AS tag, CAST(NULL AS TEXT) AS a, CAST(NULL AS TEXT) AS b, hash AS c, "
    "CAST(position AS BIGINT) AS n1, CAST(recorded_at AS BIGINT) AS n2, CAST(NULL AS TEXT) AS d "
    "FROM (SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS h"
)
_STORED_PART = (
    "SELECT 1, event_id, type, stream_id, stated_at, NULL, payload FROM events "
    "WHERE event_id {match}"
)
_STREAM_PART = (
    "SELECT 2, NULL, NULL, stream_id, max(stream_version), min(stream_version), NULL "
    "FROM events WHERE stream_id {match} GROUP BY stream_id"
)
# On PostgreSQL each stream is one probe of the (stream_id, stream_version) index, joined
# laterally so that no plan can do otherwise: with `stream_id = ANY(...)` the planner judged a
# delivery's ~2,300 streams dearer to probe than to scan for, and read the whole log twice per
# import (the check, then the append): 34 of 41 ms of this statement at 100k events, growing
# with the log.
_PG_STREAM_PART = (
    "SELECT 2, NULL, NULL, s.id, v.hi, v.lo, NULL FROM unnest(CAST(%s AS TEXT[])) AS s(id) "
    "CROSS JOIN LATERAL (SELECT max(stream_version) AS hi, min(stream_version) AS lo "
    "FROM events WHERE stream_id = s.id) AS v WHERE v.hi IS NOT NULL"
)
# The event ids likewise: each one probe of the event_id index. With `event_id = ANY(...)` the
# planner judged a delivery's 1,000 ids (and an import batch's 5,000) dearer to probe than to
# scan for, and read the whole log twice per import again: at 65k events 14.5 of the 18.5 ms
# this statement took on the server, per delivery, growing with the log. (LIMIT 1 keeps the
# subquery from being pulled up into a join the planner could turn back into a scan; the ids
# are unique, so it drops nothing.)
_PG_STORED_PART = (
    "SELECT 1, e.event_id, e.type, e.stream_id, e.stated_at, NULL, e.payload "
    "FROM unnest(CAST(%s AS TEXT[])) AS i(id) CROSS JOIN LATERAL (SELECT event_id, type, "
    "stream_id, stated_at, payload FROM events WHERE event_id = i.id LIMIT 1) AS e"
)
_PG_LOOKUP = " UNION ALL ".join((_HEAD_PART, _PG_STORED_PART, _PG_STREAM_PART))


def lookup(
    conn: Connection,
    event_ids: Iterable[str],
    stream_ids: Iterable[str],
    ahead: Sequence[Read] = (),
) -> Lookup:
    """The head, the stored content of ``event_ids`` and the versions of ``stream_ids``; and
    on PostgreSQL, in the same statement, the rows of the reads ``ahead`` (:class:`ReadsAhead`;
    ignored elsewhere)."""
    ids, streams = sorted(event_ids), sorted(stream_ids)
    ahead_rows: list[list[str]] = []
    if binds_arrays(conn):
        pg_sql, pg_params = _PG_LOOKUP, [ids, streams]
        for i, (read, read_params) in enumerate(ahead):
            # Tagged after the lookup's own parts; the read's one column goes where the
            # payload does (text).
            pg_sql += (
                f" UNION ALL SELECT {_AHEAD + i}, NULL, NULL, NULL, NULL, NULL, x.r "
                f"FROM ({read}) AS x(r)"
            )
            pg_params += read_params
            ahead_rows.append([])
        statements: Iterable[tuple[str, Sequence[Any]]] = [(pg_sql, tuple(pg_params))]
    else:
        statements = _qmark_lookups(ids, streams)
    head = Head(0, hashing.GENESIS, None)
    stored: dict[str, Stored] = {}
    versions: dict[str, int] = {}
    known: set[str] = set()
    for sql, params in statements:
        for tag, a, b, c, n1, n2, d in _all_rows(conn, sql, params):
            if tag == 0:
                head = Head(n1, c, from_micros(n2))
            elif tag == 1:
                stored[a] = Stored(b, c, n1, d)
            elif tag == 2:
                versions[c] = n1
                if n2 == 1:
                    known.add(c)
            else:
                ahead_rows[tag - _AHEAD].append(d)
    return Lookup(head, stored, versions, known, ahead_rows)


_AHEAD = 3  # the tag of the first read ahead's rows


def _all_rows(conn: Connection, sql: str, params: Sequence[Any]) -> Sequence[Any]:
    """Every row of a lookup statement, fetched at once: a delivery's lookup answers some 2,300
    rows, and taking them one at a time was 1.5-2 ms of each of an import's two lookups on
    PostgreSQL (through SQLAlchemy still, whose events see every statement)."""
    return conn.exec_driver_sql(sql, params).fetchall()


def _reads_ahead(conn: Connection, within: Within | None, prepared: list[Prepared]) -> list[Read]:
    """The reads ``within`` names ahead (:class:`ReadsAhead`), where they save a round trip
    (PostgreSQL): the lookup can carry them."""
    if within is None or not binds_arrays(conn):
        return []
    offers = getattr(getattr(within, "__self__", within), "reads_ahead", None)
    if offers is None:
        return []
    return list(offers(conn, [p.event for p in prepared]))


def _qmark_lookups(ids: list[str], streams: list[str]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    id_chunks, stream_chunks = list(_chunks(ids)), list(_chunks(streams))
    for i in range(max(1, len(id_chunks), len(stream_chunks))):
        parts = [_HEAD_PART] if i == 0 else []
        params: list[str] = []
        for part, chunks in ((_STORED_PART, id_chunks), (_STREAM_PART, stream_chunks)):
            if i < len(chunks):
                parts.append(part.format(match=f"IN ({', '.join('?' * len(chunks[i]))})"))
                params.extend(chunks[i])
        yield " UNION ALL ".join(parts), tuple(params)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def _drop_repeats(
    stored: Mapping[str, Stored], prepared: list[Prepared]
) -> tuple[list[Prepared], int]:
    """Split off events already stored (or earlier in the batch) with identical content."""
    fresh: dict[str, Prepared] = {}
    skipped = 0
    for p in prepared:
        earlier: Any = stored.get(p.event_id) or fresh.get(p.event_id)
        if earlier is None:
            fresh[p.event_id] = p
        elif p.same_content(earlier):
            skipped += 1
        else:
            raise EventIdConflict(
                f"{p.type} {p.event.key!r} was already recorded with different content; "
                "ids are never reused: give the new record a new id, or append a correction"
            )
    return list(fresh.values()), skipped


def stream_versions(conn: Connection, stream_ids: set[str]) -> dict[str, int]:
    versions: dict[str, int] = {}
    for chunk in _chunks(sorted(stream_ids)):
        query = (
            select(t.c.stream_id, func.max(t.c.stream_version))
            .where(t.c.stream_id.in_(chunk))
            .group_by(t.c.stream_id)
        )
        versions.update({sid: v for sid, v in conn.execute(query)})
    return versions


def _check_expected(versions: Mapping[str, int], expected: Mapping[str, int]) -> None:
    for stream_id, want in expected.items():
        actual = versions.get(stream_id, 0)
        if actual != want:
            raise ConcurrencyConflict(stream_id, want, actual)


def _check_references(known: set[str], fresh: list[Prepared]) -> None:
    known = set(known)
    for p in fresh:
        for field, ref in p.event.references():
            if ref not in known:
                raise _unknown(p, field, ref)
        known.add(p.stream_id)


# -- writing ----------------------------------------------------------------------------------


def insert_rows(conn: Connection, values: Sequence[tuple[Any, ...]]) -> None:
    """Insert event rows (tuples in :data:`COLUMNS` order) with the driver's bulk path."""
    bulk.insert_many(conn, "events", COLUMNS, values)


def _unknown(p: Prepared, field: str, ref: str) -> UnknownReference:
    kind, _, key = ref.partition(":")
    return UnknownReference(
        f"{p.type.split('_')[0]} {p.event.key!r} names {kind} {key!r}, which the ledger does not "
        f"have; record the {kind} first (earlier in the file or batch)",
        field=field,
    )


class Rows(Sequence[dict[str, Any]]):
    """The rows one batch wrote: the tuples inserted (:attr:`values`, in :data:`COLUMNS`
    order), seen as a sequence of dicts of column to value, each made when it is read. (Dicts
    kept for a whole batch would take as much memory again as the tuples.) :attr:`ahead`: the
    rows of the reads ``within`` named ahead, one list per read (:class:`ReadsAhead`), empty
    when none were sent."""

    __slots__ = ("ahead", "values")

    def __init__(self, values: list[tuple[Any, ...]], ahead: list[list[str]] | None = None):
        self.values = values
        self.ahead = [] if ahead is None else ahead

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [dict(zip(COLUMNS, row, strict=True)) for row in self.values[index]]
        return dict(zip(COLUMNS, self.values[index], strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.values:
            yield dict(zip(COLUMNS, row, strict=True))


def _chain(
    fresh: list[Prepared], head: Head, versions: dict[str, int], recorded_at: int
) -> list[tuple[Any, ...]]:
    """The rows to write, as tuples in :data:`COLUMNS` order."""
    values: list[tuple[Any, ...]] = []
    prev, position = head.hash, head.position
    canonical_event, chain_hash = hashing.canonical_event, hashing.chain_hash
    for p in fresh:
        position += 1
        version = versions.get(p.stream_id, 0) + 1
        versions[p.stream_id] = version
        canonical = canonical_event(
            position=position,
            event_id=p.event_id,
            stream_id=p.stream_id,
            stream_version=version,
            type=p.type,
            stated_at=p.stated_at,
            recorded_at=recorded_at,
            payload=p.payload,
        )
        digest = chain_hash(prev, canonical)
        values.append(
            (
                position,
                p.event_id,
                p.stream_id,
                version,
                p.type,
                p.stated_at,
                recorded_at,
                p.payload,
                prev,
                digest,
            )
        )
        prev = digest
    return values


def _recorded(row: tuple[Any, ...], event: Event) -> RecordedEvent:
    """A row just written (a tuple in :data:`COLUMNS` order) as a :class:`RecordedEvent`."""
    position, event_id, stream, version, _, _, recorded_at, _, prev, digest = row
    return RecordedEvent(
        position=position,
        event_id=uuid.UUID(event_id),
        stream_id=stream,
        stream_version=version,
        recorded_at=from_micros(recorded_at),
        event=event,
        prev_hash=prev,
        hash=digest,
    )


def recorded(row: Mapping[str, Any] | RowMapping, event: Event) -> RecordedEvent:
    return RecordedEvent(
        position=row["position"],
        event_id=uuid.UUID(row["event_id"]),
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        recorded_at=from_micros(row["recorded_at"]),
        event=event,
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
