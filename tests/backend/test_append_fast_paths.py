"""The write path's fast lanes against the straightforward ones, on SQLite and PostgreSQL.

``ledger.append`` reads the head, stored ids and stream versions in one statement
(:func:`~ledger.append.lookup`) and writes with the driver's bulk path (``executemany``, or
``COPY`` on PostgreSQL). Here the log those produce is compared row for row with a plain Python
model of the guarantees (positions, versions, repeats skipped, ``recorded_at`` never
decreasing, the hash chain as ``canonical_json`` of each whole record), and ``lookup`` with the
Core queries it replaced.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger import Event, Ledger, StoreError, bulk
from ledger import append as ap
from ledger._dberrors import translated
from ledger.backends import begin_write
from ledger.events import EVENT_NAMESPACE, stated_at
from ledger.hashing import GENESIS, canonical_json
from ledger.schema import events as t
from ledger.times import to_micros
from tests.conftest import Databases
from tests.helpers import basics, statement
from tests.strategies import flatten, replayed_histories, slugs
from tests.unit.test_events_encoding import straightforward_payload

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
START = datetime(2024, 1, 1, tzinfo=UTC)


class SetClock:
    """A clock the test sets before each append (it may go backwards)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def fresh_ledger(databases: Databases, clock: SetClock) -> Iterator[Ledger]:
    lg = Ledger.open(databases.new_url(), clock=clock)
    try:
        yield lg
    finally:
        lg.close()


def model(batches: list[list[Event]], clocks: list[datetime]) -> list[dict[str, Any]]:
    """The rows the log must hold, computed the slow, obvious way."""
    rows: list[dict[str, Any]] = []
    ids: set[str] = set()
    versions: dict[str, int] = {}
    prev, last = GENESIS, None
    for batch, now in zip(batches, clocks, strict=True):
        when = to_micros(now) if last is None else max(to_micros(now), last)
        wrote = False
        for event in batch:
            eid = str(uuid.uuid5(EVENT_NAMESPACE, f"{event.TYPE}/{event.key}"))
            if eid in ids:
                continue  # an identical repeat (the strategy repeats only identical events)
            ids.add(eid)
            versions[event.stream_id] = versions.get(event.stream_id, 0) + 1
            at = stated_at(event)
            record = {
                "event_id": eid,
                "payload": straightforward_payload(event),
                "position": len(rows) + 1,
                "recorded_at": when,
                "stated_at": None if at is None else to_micros(at),
                "stream_id": event.stream_id,
                "stream_version": versions[event.stream_id],
                "type": event.TYPE,
            }
            digest = hashlib.sha256((prev + canonical_json(record)).encode()).hexdigest()
            rows.append(record | {"payload": canonical_json(record["payload"]), "prev_hash": prev})
            rows[-1]["hash"] = prev = digest
            wrote = True
        if wrote:
            last = when
    return rows


@PROPERTY
@given(
    history=replayed_histories(),
    steps=st.lists(st.integers(-3, 3), min_size=40, max_size=40),
    copy_from=st.sampled_from([1, 2, 10**9]),
    in_chunk=st.sampled_from([1, 3, 500]),
)
def test_the_log_written_equals_the_straightforward_model(
    databases: Databases,
    history: list[list[Event]],
    steps: list[int],
    copy_from: int,
    in_chunk: int,
) -> None:
    clock = SetClock()
    clocks = []
    with (
        mock.patch.object(bulk, "COPY_FROM", copy_from),
        mock.patch.object(ap, "_IN_CHUNK", in_chunk),
        fresh_ledger(databases, clock) as lg,
    ):
        results = []
        for batch, step in zip(history, steps, strict=False):
            clock.now += timedelta(seconds=step)  # sometimes backwards: recorded_at must hold
            clocks.append(clock.now)
            results.append(lg.store.append(batch))
        stored = [dict(r._mapping) for r in lg.store.read_rows()]
        expected = model(history, clocks)
        assert stored == expected
        assert lg.verify().ok
        appended = [r for result in results for r in result.appended]
        assert [r.position for r in appended] == [row["position"] for row in expected]
        assert list(lg.store.read()) == appended
        assert sum(r.skipped for r in results) == len(flatten(history)) - len(expected)
        assert results[-1].head == lg.head()


def straightforward_lookup(lg: Ledger, ids: set[str], streams: set[str]) -> ap.Lookup:
    """What lookup() answers, by the Core queries it replaced."""
    with lg.store.engine.connect() as conn:
        head = ap.head_of(conn)
        stored = {
            r.event_id: ap.Stored(r.type, r.stream_id, r.stated_at, r.payload)
            for r in conn.execute(
                select(t.c.event_id, t.c.type, t.c.stream_id, t.c.stated_at, t.c.payload).where(
                    t.c.event_id.in_(sorted(ids))
                )
            )
        }
        versions = dict(
            conn.execute(
                select(t.c.stream_id, func.max(t.c.stream_version))
                .where(t.c.stream_id.in_(sorted(streams)))
                .group_by(t.c.stream_id)
            ).all()
        )
        known = set(
            conn.execute(
                select(t.c.stream_id).where(
                    t.c.stream_id.in_(sorted(streams)), t.c.stream_version == 1
                )
            ).scalars()
        )
    return ap.Lookup(head, stored, versions, known)


@PROPERTY
@given(
    history=replayed_histories(max_statements=8),
    absent=st.lists(slugs(), max_size=4),
    pick=st.randoms(use_true_random=False),
    in_chunk=st.sampled_from([1, 2, 500]),
)
def test_lookup_answers_as_the_core_queries_do(
    databases: Databases,
    history: list[list[Event]],
    absent: list[str],
    pick: Any,
    in_chunk: int,
) -> None:
    clock = SetClock()
    with fresh_ledger(databases, clock) as lg:
        empty_ids = {str(uuid.uuid4())}
        with lg.store.engine.connect() as conn:
            assert ap.lookup(conn, empty_ids, {"source:x"}) == straightforward_lookup(
                lg, empty_ids, {"source:x"}
            )
        for batch in history:
            lg.store.append(batch)
        events = flatten(history)
        chosen = [e for e in events if pick.random() < 0.6]
        ids = {str(uuid.uuid5(EVENT_NAMESPACE, f"{e.TYPE}/{e.key}")) for e in chosen}
        ids |= {str(uuid.uuid5(EVENT_NAMESPACE, f"statement_made/{a}")) for a in absent}
        streams = {e.stream_id for e in chosen} | {f"statement:{a}" for a in absent}
        streams |= {ref for e in chosen for _, ref in e.references()}
        with mock.patch.object(ap, "_IN_CHUNK", in_chunk), lg.store.engine.connect() as conn:
            found = ap.lookup(conn, ids, streams)
        assert found == straightforward_lookup(lg, ids, streams)
        assert found.head == lg.head()


def test_the_columns_written_are_the_table_columns() -> None:
    assert set(ap.COLUMNS) == {c.name for c in t.columns}
    assert len(ap.COLUMNS) == len(t.columns)


@pytest.mark.parametrize("rows", [1, 40])
def test_a_refused_bulk_insert_is_a_store_error_and_writes_nothing(
    ledger: Ledger, rows: int
) -> None:
    """Both insert paths (one row; COPY or executemany) report a database refusal the way
    SQLAlchemy-wrapped errors are reported, and the transaction rolls back."""
    ledger.append(basics())
    head = ledger.head()
    row = (1, str(uuid.uuid4()), "source:dup", 1, "source_registered", None, 0, "{}", "0", "0")
    values = [row] + [
        (head.position + i, str(uuid.uuid4()), f"source:x{i}", 1, *row[4:]) for i in range(1, rows)
    ]
    with pytest.raises(StoreError), translated(), begin_write(ledger.store.engine) as conn:
        ap.insert_rows(conn, values)  # position 1 is taken
    assert ledger.head() == head
    assert ledger.verify().ok


def test_prepared_takes_the_events_own_encoding() -> None:
    event = statement("s1", value=1500, unit="troops")
    p = ap.Prepared.of(event)
    assert (p.event_id, p.stream_id, p.type, p.stated_at) == (
        str(uuid.uuid5(EVENT_NAMESPACE, f"statement_made/{event.key}")),
        "statement:s1",
        "statement_made",
        to_micros(datetime(2024, 10, 18, tzinfo=UTC)),
    )
    assert json.loads(p.payload) == straightforward_payload(event)
    assert attrs.evolve(p, event=event) == p
