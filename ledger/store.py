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
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, RowMapping, func, insert, select

from ledger import _trusted as trusted
from ledger import hashing
from ledger._dberrors import translated as _translated
from ledger.backends import begin_write
from ledger.errors import (
    ConcurrencyConflict,
    EventIdConflict,
    UnknownReference,
)
from ledger.events import Event, event_id, stated_at, to_payload
from ledger.records import AppendResult, Head, RecordedEvent, VerifyReport
from ledger.retry import RetryPolicy
from ledger.schema import events as t
from ledger.times import from_micros, to_micros, utc_now

PAGE = 2_000
_IN_CHUNK = 500  # bound parameters per IN (...) list, well under every backend's limit
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


@attrs.frozen
class _Prepared:
    """An event encoded once: everything the store compares, orders and hashes."""

    event: Event
    event_id: str
    stream_id: str
    type: str
    stated_at: int | None
    payload: str

    @classmethod
    def of(cls, event: Event) -> _Prepared:
        when = stated_at(event)
        return cls(
            event=event,
            event_id=str(event_id(event)),
            stream_id=event.stream_id,
            type=event.TYPE,
            stated_at=None if when is None else to_micros(when),
            payload=hashing.canonical_json(to_payload(event)),
        )

    def same_content(self, other: Any) -> bool:
        """Equal to a stored row, or another prepared event, in everything that is hashed."""
        return (other.type, other.stream_id, other.stated_at, other.payload) == (
            self.type,
            self.stream_id,
            self.stated_at,
            self.payload,
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
        within: Callable[[Connection], object] | None = None,
    ) -> AppendResult:
        """Append ``events`` as one atomic batch; see the module docstring for the guarantees.

        ``within`` runs inside the same transaction after the rows are written (a projection
        catching up, say): if it raises, nothing is appended. Lock contention is retried by
        ``self.retry``; the whole transaction runs again, which is safe because it is atomic.
        """
        prepared = [_Prepared.of(e) for e in events]
        expected = dict(expected_versions or {})
        return self.retry.run(lambda: self._append_once(prepared, expected, within))

    def _append_once(
        self,
        prepared: list[_Prepared],
        expected: dict[str, int],
        within: Callable[[Connection], object] | None,
    ) -> AppendResult:
        with _translated(), begin_write(self.engine) as conn:
            head = _head(conn)
            fresh, skipped = _drop_repeats(conn, prepared)
            versions = _stream_versions(conn, {p.stream_id for p in fresh} | set(expected))
            _check_expected(versions, expected)
            _check_references(conn, fresh)
            recorded = self._recorded_at(head)
            rows = _chain(fresh, head, versions, recorded)
            if rows:
                conn.execute(insert(t), rows)
                if within is not None:
                    within(conn)
        appended = tuple(_recorded(row, p.event) for row, p in zip(rows, fresh, strict=True))
        new_head = (
            Head(rows[-1]["position"], rows[-1]["hash"], from_micros(recorded)) if rows else head
        )
        return AppendResult(appended=appended, skipped=skipped, head=new_head)

    def _recorded_at(self, head: Head) -> int:
        now = to_micros(self.clock())
        last = -(2**62) if head.recorded_at is None else to_micros(head.recorded_at)
        return max(now, last)

    # -- reading -------------------------------------------------------------------------

    def head(self) -> Head:
        with _translated(), self.engine.connect() as conn:
            return _head(conn)

    def stream_version(self, stream_id: str) -> int:
        with _translated(), self.engine.connect() as conn:
            return _stream_versions(conn, {stream_id}).get(stream_id, 0)

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

    def _verify_genesis(self, checkpoint: tuple[int, str]) -> VerifyReport:
        """A checkpoint of the empty log (position 0) holds only if its hash is the genesis."""
        report = self.verify()
        problem = _genesis_problem(checkpoint)
        if problem is None or not report.ok:
            return report
        return VerifyReport(False, report.checked, report.head, 0, problem)

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
        if checkpoint is not None and checkpoint[0] <= 0:
            return self._verify_genesis(checkpoint)
        prev, position, last_recorded, checked = hashing.GENESIS, 0, -(2**62), 0
        at = checkpoint[0] if checkpoint is not None else -1
        for row in self.read_rows(until=2**62 if until is None else until):
            # The hot loop: plain tuple unpacking and one hash; explain only on a mismatch.
            pos, event_id, stream_id, version, type_, stated, recorded, payload, link, digest = row
            canonical = hashing.canonical_event(
                position=pos,
                event_id=event_id,
                stream_id=stream_id,
                stream_version=version,
                type=type_,
                stated_at=stated,
                recorded_at=recorded,
                payload=payload,
            )
            if (
                pos != position + 1
                or link != prev
                or recorded < last_recorded
                or hashing.chain_hash(prev, canonical) != digest
                or pos == at
            ):
                problem = _row_problem(row, position + 1, prev, last_recorded)
                if problem is None and checkpoint is not None and pos == at:
                    problem = _checkpoint_mismatch(digest, checkpoint)
                if problem is not None:
                    return _bad(checked, position, prev, pos, problem)
            prev, position, last_recorded = digest, pos, recorded
            checked += 1
        head = Head(position, prev, None if checked == 0 else from_micros(last_recorded))
        if checkpoint is not None and checkpoint[0] > position:
            problem = (
                f"the log ends at position {position}, before the checkpoint's {checkpoint[0]}: "
                "its tail is missing"
            )
            return VerifyReport(False, checked, head, position + 1, problem)
        return VerifyReport(True, checked, head)


def _genesis_problem(checkpoint: tuple[int, str]) -> str | None:
    if checkpoint[0] < 0:
        return f"checkpoint position {checkpoint[0]} is negative: positions start at 1"
    return _checkpoint_mismatch(hashing.GENESIS, checkpoint)


def _checkpoint_mismatch(found: str, checkpoint: tuple[int, str]) -> str | None:
    if found == checkpoint[1]:
        return None
    return f"hash {found[:12]}… differs from the checkpoint's {checkpoint[1][:12]}…"


def _row_problem(row: Any, position: int, prev: str, last_recorded: int) -> str | None:
    if row.position != position:
        return (
            f"expected position {position} next, found {row.position}: "
            "a row is missing or out of order"
        )
    if row.prev_hash != prev:
        return (
            "prev_hash does not link to the previous event's hash: "
            "rows were removed, swapped or inserted"
        )
    canonical = hashing.canonical_event(
        position=row.position,
        event_id=row.event_id,
        stream_id=row.stream_id,
        stream_version=row.stream_version,
        type=row.type,
        stated_at=row.stated_at,
        recorded_at=row.recorded_at,
        payload=row.payload,
    )
    if hashing.chain_hash(prev, canonical) != row.hash:
        return "the stored hash does not match the event's content: the row was edited"
    if row.recorded_at < last_recorded:
        return "recorded_at goes back in time"
    return None


def _bad(checked: int, head_pos: int, head_hash: str, position: int, problem: str) -> VerifyReport:
    return VerifyReport(False, checked, Head(head_pos, head_hash, None), position, problem)


# -- helpers that run inside the write transaction -------------------------------------------


def _head(conn: Connection) -> Head:
    row = conn.execute(
        select(t.c.position, t.c.hash, t.c.recorded_at).order_by(t.c.position.desc()).limit(1)
    ).first()
    if row is None:
        return Head(0, hashing.GENESIS, None)
    return Head(row.position, row.hash, from_micros(row.recorded_at))


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def _drop_repeats(conn: Connection, prepared: list[_Prepared]) -> tuple[list[_Prepared], int]:
    """Split off events already stored (or earlier in the batch) with identical content."""
    ids = sorted({p.event_id for p in prepared})
    stored: dict[str, Any] = {}
    for chunk in _chunks(ids):
        query = select(t.c.event_id, t.c.type, t.c.stream_id, t.c.stated_at, t.c.payload)
        for row in conn.execute(query.where(t.c.event_id.in_(chunk))):
            stored[row.event_id] = row
    fresh: dict[str, _Prepared] = {}
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


def _stream_versions(conn: Connection, stream_ids: set[str]) -> dict[str, int]:
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


def _check_references(conn: Connection, fresh: list[_Prepared]) -> None:
    wanted = sorted({ref for p in fresh for _, ref in p.event.references()})
    known: set[str] = set()
    for chunk in _chunks(wanted):
        query = select(t.c.stream_id).where(t.c.stream_id.in_(chunk), t.c.stream_version == 1)
        known.update(conn.execute(query).scalars())
    for p in fresh:
        for field, ref in p.event.references():
            if ref not in known:
                raise _unknown(p, field, ref)
        known.add(p.stream_id)


def _unknown(p: _Prepared, field: str, ref: str) -> UnknownReference:
    kind, _, key = ref.partition(":")
    return UnknownReference(
        f"{p.type.split('_')[0]} {p.event.key!r} names {kind} {key!r}, which the ledger does not "
        f"have; record the {kind} first (earlier in the file or batch)",
        field=field,
    )


def _chain(
    fresh: list[_Prepared], head: Head, versions: dict[str, int], recorded_at: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    prev, position = head.hash, head.position
    for p in fresh:
        position += 1
        version = versions.get(p.stream_id, 0) + 1
        versions[p.stream_id] = version
        canonical = hashing.canonical_event(
            position=position,
            event_id=p.event_id,
            stream_id=p.stream_id,
            stream_version=version,
            type=p.type,
            stated_at=p.stated_at,
            recorded_at=recorded_at,
            payload=p.payload,
        )
        digest = hashing.chain_hash(prev, canonical)
        rows.append(
            {
                "position": position,
                "event_id": p.event_id,
                "stream_id": p.stream_id,
                "stream_version": version,
                "type": p.type,
                "stated_at": p.stated_at,
                "recorded_at": recorded_at,
                "payload": p.payload,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return rows


def _recorded(row: Mapping[str, Any] | RowMapping, event: Event) -> RecordedEvent:
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


def _decode(row: Any) -> RecordedEvent:
    when = None if row.stated_at is None else from_micros(row.stated_at)
    event = trusted.decode(row.type, json.loads(row.payload), when, row.position)
    return _recorded(row._mapping, event)
