"""Appending a batch to the log: the write transaction behind :meth:`EventStore.append`.

Everything here runs inside one database transaction that holds the writer lock of
:mod:`ledger.backends` from reading the head until commit; see :mod:`ledger.store` for the
guarantees it keeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, RowMapping, func, insert, select

from ledger import hashing
from ledger._dberrors import translated as _translated
from ledger.backends import begin_write
from ledger.errors import ConcurrencyConflict, EventIdConflict, UnknownReference
from ledger.events import Event, event_id, stated_at, to_payload
from ledger.records import AppendResult, Head, RecordedEvent
from ledger.schema import events as t
from ledger.times import from_micros, to_micros

_IN_CHUNK = 500  # bound parameters per IN (...) list, well under every backend's limit

#: Runs inside the append transaction after the rows are written, with the connection and the
#: rows just inserted (dicts of the ``events`` columns, in position order).
Within = Callable[[Connection, Sequence[Mapping[str, Any]]], object]


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


def append_once(
    engine: Engine,
    recorded_at: Callable[[Head], int],
    prepared: list[Prepared],
    expected: dict[str, int],
    within: Within | None,
) -> AppendResult:
    """One attempt at appending ``prepared`` atomically (the caller retries on lock contention)."""
    with _translated(), begin_write(engine) as conn:
        head = head_of(conn)
        fresh, skipped = _drop_repeats(conn, prepared)
        versions = stream_versions(conn, {p.stream_id for p in fresh} | set(expected))
        _check_expected(versions, expected)
        _check_references(conn, fresh)
        when = recorded_at(head)
        rows = _chain(fresh, head, versions, when)
        if rows:
            conn.execute(insert(t), rows)
            if within is not None:
                within(conn, rows)
    appended = tuple(recorded(row, p.event) for row, p in zip(rows, fresh, strict=True))
    new_head = Head(rows[-1]["position"], rows[-1]["hash"], from_micros(when)) if rows else head
    return AppendResult(appended=appended, skipped=skipped, head=new_head)


def head_of(conn: Connection) -> Head:
    row = conn.execute(
        select(t.c.position, t.c.hash, t.c.recorded_at).order_by(t.c.position.desc()).limit(1)
    ).first()
    if row is None:
        return Head(0, hashing.GENESIS, None)
    return Head(row.position, row.hash, from_micros(row.recorded_at))


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def _drop_repeats(conn: Connection, prepared: list[Prepared]) -> tuple[list[Prepared], int]:
    """Split off events already stored (or earlier in the batch) with identical content."""
    ids = sorted({p.event_id for p in prepared})
    stored: dict[str, Any] = {}
    for chunk in _chunks(ids):
        query = select(t.c.event_id, t.c.type, t.c.stream_id, t.c.stated_at, t.c.payload)
        for row in conn.execute(query.where(t.c.event_id.in_(chunk))):
            stored[row.event_id] = row
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


def _check_references(conn: Connection, fresh: list[Prepared]) -> None:
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


def _unknown(p: Prepared, field: str, ref: str) -> UnknownReference:
    kind, _, key = ref.partition(":")
    return UnknownReference(
        f"{p.type.split('_')[0]} {p.event.key!r} names {kind} {key!r}, which the ledger does not "
        f"have; record the {kind} first (earlier in the file or batch)",
        field=field,
    )


def _chain(
    fresh: list[Prepared], head: Head, versions: dict[str, int], recorded_at: int
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
