"""The streaming read path against the straightforward one, on SQLite and PostgreSQL.

``EventStore.read`` streams one query over one connection and decodes rows through shortcuts.
The oracle here is the plain way: select every row, keep those the bounds allow in Python, and
build each event with the *validating* constructors (``codec.from_payload``) and each record
with ``append.recorded``. Whatever the history and the bounds, both give equal lists; the
reference fold over either gives an equal state. Reads started before appends see exactly the
prefix that existed when they started, on every backend and on an in-memory SQLite database,
whose single shared connection the read must not hold while the caller works.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ledger import Event, Ledger, RecordedEvent
from ledger.codec import from_payload
from ledger.store.append import recorded
from ledger.store.eventstore import _COLUMNS
from ledger.store.schema import events as t
from ledger.times import from_micros, to_micros
from projections import fold as reference
from tests.conftest import Databases, FakeClock
from tests.helpers import basics, statement
from tests.strategies import histories

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextmanager
def built(url: str, history: list[list[Event]]) -> Iterator[Ledger]:
    clock = FakeClock(step=timedelta(seconds=1))
    with Ledger.open(url, clock=clock) as ledger:
        for batch in history:
            ledger.append(batch)
        yield ledger


def plain_rows(ledger: Ledger) -> list[tuple[Any, ...]]:
    with ledger.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*_COLUMNS).order_by(t.c.position))]


def allowed(
    row: tuple[Any, ...],
    after: int,
    until: int | None,
    stream_id: str | None,
    known_at: datetime | None,
) -> bool:
    position, _, stream, _, _, _, recorded_at, *_ = row
    return (
        position > after
        and (until is None or position <= until)
        and (stream_id is None or stream == stream_id)
        and (known_at is None or recorded_at <= to_micros(known_at))
    )


def straightforward(row: tuple[Any, ...]) -> RecordedEvent:
    """A stored row decoded the slow, validating way."""
    mapping = dict(zip([c.name for c in _COLUMNS], row, strict=True))
    when = None if mapping["stated_at"] is None else from_micros(mapping["stated_at"])
    event = from_payload(mapping["type"], json.loads(mapping["payload"]), when)
    return recorded(mapping, event)


@st.composite
def bounds(draw: st.DrawFn) -> dict[str, Any]:
    """Read bounds: any of after, until, a stream, a known_at, a page size (small, so that a
    read crosses many fetches)."""
    return {
        "after": draw(st.integers(0, 12)),
        "until": draw(st.none() | st.integers(0, 40)),
        "stream": draw(st.none() | st.integers(0, 40)),  # index of a stored row's stream
        "known_at": draw(st.none() | st.integers(-1, 12)),  # seconds after the first append
        "page_size": draw(st.integers(1, 5)),
    }


@PROPERTY
@given(histories(max_documents=2, max_corrections=5), bounds())
def test_read_equals_the_straightforward_decode_for_any_history_and_bounds(
    databases: Databases, history: list[list[Event]], b: dict[str, Any]
) -> None:
    with built(databases.new_url(), history) as ledger:
        rows = plain_rows(ledger)
        stream_id = None if b["stream"] is None else rows[b["stream"] % len(rows)][2]
        first = from_micros(rows[0][6])
        known_at = None if b["known_at"] is None else first + timedelta(seconds=b["known_at"])
        args = (b["after"], b["until"], stream_id, known_at)
        expected_rows = [r for r in rows if allowed(r, *args)]
        kwargs = {
            "after": b["after"],
            "until": b["until"],
            "stream_id": stream_id,
            "known_at": known_at,
            "page_size": b["page_size"],
        }

        assert [tuple(r) for r in ledger.store.read_rows(**kwargs)] == expected_rows
        fast = list(ledger.store.read(**kwargs))
        assert fast == [straightforward(r) for r in expected_rows]
        for got, row in zip(fast, expected_rows, strict=True):
            assert type(got.event) is type(straightforward(row).event)
            assert str(got.event_id) == row[1]


@PROPERTY
@given(histories(max_documents=2, max_corrections=6))
def test_the_reference_fold_over_the_fast_read_equals_it_over_validated_events(
    databases: Databases, history: list[list[Event]]
) -> None:
    with built(databases.new_url(), history) as ledger:
        slow = reference.fold(straightforward(r) for r in plain_rows(ledger))
        fast = reference.fold(ledger.store.read(page_size=3))
        assert fast == slow
        assert (fast.position, fast.hash) == (ledger.head().position, ledger.head().hash)


@PROPERTY
@given(histories(max_documents=1, max_corrections=3))
def test_an_in_memory_ledger_reads_as_a_file_or_server_one(
    databases: Databases, history: list[list[Event]]
) -> None:
    """The in-memory database is read a page at a time (its one connection is shared); the
    result is the same as the streamed read of the same history."""
    with built(databases.new_url(), history) as streamed, built("sqlite://", history) as paged:
        for page_size in (1, 2, 1000):
            assert list(paged.store.read(page_size=page_size)) == list(streamed.store.read())
        assert list(paged.store.read_rows(page_size=2)) == [
            tuple(r) for r in streamed.store.read_rows()
        ]


def in_memory() -> Ledger:
    return Ledger.open("sqlite://", clock=FakeClock())


def appends_while_reading(lg: Ledger) -> None:
    lg.append([*basics(), statement("s0")])
    before = list(lg.read())

    reading = lg.store.read(page_size=1)
    seen = [next(reading)]
    for i in range(1, 6):  # appends between the rows the read hands out
        lg.append([statement(f"s{i}")])
        seen.extend(e for e in [next(reading, None)] if e is not None)
    seen.extend(reading)

    assert seen == before
    assert lg.head().position == len(before) + 5
    assert list(lg.read()) == [*before, *list(lg.read(after=len(before)))]


def test_a_read_sees_the_prefix_that_existed_when_it_started(ledger: Ledger) -> None:
    appends_while_reading(ledger)


def test_an_in_memory_read_sees_its_prefix_and_lets_the_caller_append() -> None:
    with in_memory() as lg:
        appends_while_reading(lg)


def queries_while_reading(lg: Ledger) -> None:
    lg.append([*basics(), statement("s1"), statement("s2", "kcna", "deny")])
    pairs = [(e.position, lg.store.get(e.stream_id, e.stream_version)) for e in lg.read()]
    assert [p for p, _ in pairs] == [1, 2, 3, 4, 5]
    assert [e for _, e in pairs] == list(lg.read())
    assert lg.verify().ok


def test_a_read_may_query_the_ledger_between_rows(ledger: Ledger) -> None:
    queries_while_reading(ledger)


def test_an_in_memory_read_may_query_the_ledger_between_rows() -> None:
    with in_memory() as lg:
        queries_while_reading(lg)


def test_a_read_stopped_early_gives_its_connection_back(ledger: Ledger) -> None:
    ledger.append([*basics(), *[statement(f"s{i}") for i in range(20)]])
    pool = ledger.store.engine.pool
    reading = ledger.store.read(page_size=2)
    assert next(reading).position == 1
    assert pool.checkedout() == 1  # type: ignore[attr-defined]
    del reading  # a reader that stops early and drops the read: the generator is closed
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
    assert [e.position for e in ledger.read(after=20)] == [21, 22, 23]


def test_get_returns_what_read_returns(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1", value=1500, unit="troops")])
    for e in ledger.read():
        assert ledger.store.get(e.stream_id, e.stream_version) == e
    assert ledger.store.get("statement:none") is None
