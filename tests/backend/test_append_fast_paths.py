"""The write path's fast lanes against the straightforward ones, on SQLite and PostgreSQL.

``ledger.store.append`` reads the head, stored ids and stream versions in one statement
(:func:`~ledger.store.append.lookup`) and writes with the driver's bulk path (``executemany``, or
``COPY`` on PostgreSQL). Here the log those produce is compared row for row with a plain Python
model of the guarantees (positions, versions, repeats skipped, ``recorded_at`` later than the
last written, the hash chain as ``canonical_json`` of each whole record), and ``lookup`` with the
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
from sqlalchemy import func, select, text

from ledger import (
    BusyError,
    CorrectionMade,
    Event,
    EventIdConflict,
    IntegrityError,
    Ledger,
    RetryPolicy,
    SourceRegistered,
    StoreError,
    UnknownReference,
)
from ledger.errors import AppendNotStored
from ledger.events import EVENT_NAMESPACE, stated_at
from ledger.hashing import GENESIS, canonical_json
from ledger.store import append as ap
from ledger.store import bulk
from ledger.store import eventstore as store_module
from ledger.store.backends import begin_write
from ledger.store.dberrors import translated
from ledger.store.schema import events as t
from ledger.times import to_micros
from tests.conftest import Databases, new_pg_schema
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
        when = to_micros(now) if last is None else max(to_micros(now), last + 1)
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


# -- several batches in one transaction -------------------------------------------------------


class Spy:
    """A ``within`` hook that records the positions of each call's rows."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, conn: Any, rows: Any) -> None:
        self.calls.append([row["position"] for row in rows])
        assert [dict(row) for row in rows] == list(rows[:])  # a sequence of mappings


@PROPERTY
@given(history=replayed_histories(), step=st.integers(-3, 3))
def test_batches_in_one_transaction_write_the_log_of_one_append_of_them_all(
    databases: Databases, history: list[list[Event]], step: int
) -> None:
    clock = SetClock()
    with fresh_ledger(databases, clock) as lg:
        lg.store.append([])  # an empty append writes nothing, and records no time
        clock.now += timedelta(seconds=step)
        spy = Spy()
        result = lg.store.append_batches(history, within=spy)
        stored = [dict(r._mapping) for r in lg.store.read_rows()]
        expected = model([flatten(history)], [clock.now])
        assert stored == expected
        assert lg.verify().ok
        assert (result.appended, result.batches) == (len(expected), len(history))
        assert result.skipped == len(flatten(history)) - len(expected)
        assert result.head == lg.head()
        # within ran once per batch that wrote rows, with that batch's rows, in position order
        assert [p for call in spy.calls for p in call] == [row["position"] for row in expected]
        assert all(call for call in spy.calls) and len(spy.calls) <= len(history)


def test_a_later_batch_may_name_what_an_earlier_one_defined(ledger: Ledger) -> None:
    result = ledger.store.append_batches([basics(), [statement("s1")], [statement("s2")]])
    assert (result.appended, result.batches) == (5, 3)
    assert {e.recorded_at for e in ledger.read()} == {ledger.head().recorded_at}


def test_an_append_reads_the_streams_it_writes_to_names_or_expects_not_those_it_opens(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source, proposition, document or statement is version 1 of a stream of its own,
    which exists exactly when the record does: the lookup of its id says so, and its stream is
    not read as well. A correction's stream, the streams records name and the streams whose
    version the caller expects are read; the versions written are the same as ever."""
    read: list[set[str]] = []
    real = ap.lookup

    def spy(conn: Any, ids: Any, streams: Any, ahead: Any = ()) -> ap.Lookup:
        read.append(set(streams))
        return real(conn, ids, streams, ahead)

    monkeypatch.setattr(ap, "lookup", spy)
    ledger.append(basics())
    moved = CorrectionMade("fix", "s1", "a date", changes={"stated_at": "2024-10-19"})
    ledger.append([statement("s1"), moved], expected_versions={"proposition:troops": 1})
    ledger.append([statement("s2")])
    again = ledger.append([statement("s2")])

    assert read == [
        {"source:kcna"},  # named as the proposition's party
        {"source:kr-nis", "proposition:troops", "statement:s1"},
        {"source:kr-nis", "proposition:troops"},
        {"source:kr-nis", "proposition:troops"},
    ]
    assert (len(again.appended), again.skipped) == (0, 1)
    with ledger.store.engine.connect() as conn:
        versions = conn.execute(
            select(t.c.stream_id, t.c.stream_version).where(t.c.stream_id.like("statement:%"))
        ).all()
    assert sorted(versions) == [("statement:s1", 1), ("statement:s1", 2), ("statement:s2", 1)]


@pytest.mark.parametrize("failing", ["conflict", "reference", "within"])
def test_a_refusal_in_any_batch_appends_none_of_them(ledger: Ledger, failing: str) -> None:
    ledger.append([SourceRegistered("kept", "Already here", "media")])
    head = ledger.head()
    thirds: dict[str, list[Event]] = {
        "conflict": [SourceRegistered("kcna", "Someone else entirely", "media")],
        "reference": [statement("s9", source="nobody")],
        "within": [statement("s3")],
    }
    third = thirds[failing]

    def within(conn: Any, rows: Any) -> None:
        if failing == "within" and rows[0]["stream_id"] == "statement:s3":
            raise RuntimeError("the projection failed")

    expected = {"conflict": EventIdConflict, "reference": UnknownReference}
    with pytest.raises(expected.get(failing, RuntimeError)):
        ledger.store.append_batches([basics(), [statement("s1")], third], within=within)
    assert ledger.head() == head
    assert [e.event.key for e in ledger.read()] == ["kept"]


class Contended:
    """Makes the first transaction of ``append_batches`` meet lock contention, after it has
    taken ``after`` batches."""

    def __init__(self, after: int):
        self.after = after
        self.attempts = 0

    def __call__(
        self, engine: Any, recorded_at: Any, batches: Any, within: Any, *, checked_at: Any = None
    ) -> ap.BatchesResult:
        self.attempts += 1
        if self.attempts == 1:
            taken = iter(batches)
            for _ in range(self.after):
                next(taken)
            raise BusyError("the database stayed locked by other writers")
        return ap.append_batches_once(engine, recorded_at, batches, within, checked_at=checked_at)


def test_contention_retries_the_whole_transaction_over_batches_iterated_again(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    contended = Contended(after=2)
    monkeypatch.setattr(store_module, "append_batches_once", contended)
    ledger.store.retry = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
    result = ledger.store.append_batches([basics(), [statement("s1")], [statement("s2")]])
    assert contended.attempts == 2
    assert result.appended == 5 and ledger.head().position == 5
    assert ledger.verify().ok


@pytest.mark.parametrize("after", [0, 1])
def test_a_one_shot_iterator_is_retried_only_if_nothing_was_taken_from_it(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    contended = Contended(after=after)
    monkeypatch.setattr(store_module, "append_batches_once", contended)
    ledger.store.retry = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
    batches: Iterator[list[Event]] = iter([[*basics()], [statement("s1")]])
    if after == 0:
        assert ledger.store.append_batches(batches).appended == 4
    else:
        with pytest.raises(BusyError):
            ledger.store.append_batches(batches)
        assert ledger.head().position == 0
    assert contended.attempts == 2 - after


def test_a_large_transaction_refreshes_the_statistics_of_events(
    ledger: Ledger, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL plans the lookups of the next batches from statistics; without them a long
    import's lookups become scans of the whole table. SQLite is left unanalyzed."""
    monkeypatch.setattr(ap, "ANALYZE_AFTER", 4)
    ledger.store.append_batches([basics(), [statement("s1"), statement("s2")]])
    with ledger.store.engine.connect() as conn:
        if backend == "postgresql":
            tuples = conn.execute(
                text(
                    "SELECT reltuples FROM pg_class WHERE relname = 'events' "
                    "AND relnamespace = current_schema()::regnamespace"
                )
            ).scalar()
            assert tuples == 5
        else:
            stat = conn.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            ).scalar()
            assert stat == 0


# -- what was written is read back before success ---------------------------------------------


def discard_inserts(engine: Any, how: str) -> None:
    """Make the database drop every insert into ``events`` silently, as the owner can: a rule
    (PostgreSQL; plain INSERTs only, COPY ignores rules) or a trigger (both backends)."""
    with engine.begin() as conn:
        if how == "rule":
            conn.execute(text("CREATE RULE r AS ON INSERT TO events DO INSTEAD NOTHING"))
        elif conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER drop_inserts BEFORE INSERT ON events "
                    "BEGIN SELECT RAISE(IGNORE); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION drop_row() RETURNS trigger LANGUAGE plpgsql "
                    "AS $$ BEGIN RETURN NULL; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER drop_inserts BEFORE INSERT ON events "
                    "FOR EACH ROW EXECUTE FUNCTION drop_row()"
                )
            )


def assert_discarded(ledger: Ledger, rows: int) -> None:
    """An append of ``rows`` statements fails with AppendNotStored and leaves the log as it was,
    as does the same in two batches of one transaction."""
    head = ledger.head()
    batch = [statement(f"s{i}") for i in range(rows)]
    with pytest.raises(AppendNotStored) as info:
        ledger.append(batch)
    assert str(info.value).startswith(
        f"the database did not store the append: {rows} rows were inserted at positions "
        f"{head.position + 1} to {head.position + rows}, but 0 rows are there at those "
        f"positions and the head is {head.position} "
    )
    assert isinstance(info.value, IntegrityError)
    with pytest.raises(AppendNotStored):
        ledger.store.append_batches([batch[:1], batch[1:]])
    assert ledger.head() == head
    assert ledger.verify().ok


@pytest.mark.parametrize("rows", [1, 40])  # one INSERT; COPY or executemany
def test_an_append_a_trigger_silently_discarded_is_an_error_not_a_success(
    ledger: Ledger, rows: int
) -> None:
    ledger.append(basics())
    discard_inserts(ledger.store.engine, "trigger")
    assert_discarded(ledger, rows)


_COLUMNS = (
    "position, event_id, stream_id, stream_version, type, stated_at, recorded_at, payload, "
    "prev_hash, hash"
)
_FAR = 1_000_000


def add_a_row_beyond_each_insert(engine: Any) -> None:
    """Make the database store, after each row inserted into ``events``, a copy of it far past
    the new head (another id and stream), as a trigger of the owner's can."""
    copy = (
        f"INSERT INTO events ({_COLUMNS}) VALUES (NEW.position + {_FAR}, "
        "substr(NEW.event_id, 1, 30) || '-copy', NEW.stream_id || ':copy', NEW.stream_version, "
        "NEW.type, NEW.stated_at, NEW.recorded_at, NEW.payload, NEW.prev_hash, NEW.hash)"
    )
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                f"CREATE TRIGGER add_row AFTER INSERT ON events WHEN NEW.position < {_FAR} "
                f"BEGIN {copy}; END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION add_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.position < {_FAR} THEN {copy}; END IF; RETURN NULL; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER add_row AFTER INSERT ON events "
                "FOR EACH ROW EXECUTE FUNCTION add_row()"
            )


def test_an_append_that_left_a_row_past_its_last_is_an_error_not_a_success(
    ledger: Ledger,
) -> None:
    """Every row the append wrote is there with its hash, but the log's head is not its last
    row: a row was stored past it. The check bounds its count to the append's positions (so
    that a plan made once expects a few rows) and reads the head of the whole log apart."""
    ledger.append(basics())
    head = ledger.head()
    add_a_row_beyond_each_insert(ledger.store.engine)
    with pytest.raises(AppendNotStored) as info:
        ledger.append([statement("s-extra")])
    assert (
        f"but 1 rows are there at those positions and the head is {head.position + 1 + _FAR} "
        in str(info.value)
    )
    assert ledger.head() == head
    assert ledger.verify().ok


@pytest.mark.postgresql
def test_an_append_a_rule_silently_discarded_is_an_error_not_a_success() -> None:
    """``CREATE RULE ... DO INSTEAD NOTHING``: a plain INSERT is dropped, and reported; COPY
    does not apply rules, so a bulk append is stored, and succeeds."""
    url, drop = new_pg_schema()
    try:
        with Ledger.open(url) as ledger:
            ledger.append(basics())
            discard_inserts(ledger.store.engine, "rule")
            assert_discarded(ledger, 1)
            head = ledger.head()
            batch = [statement(f"s{i}") for i in range(bulk.COPY_FROM)]
            assert ledger.append(batch).head.position == head.position + bulk.COPY_FROM
            assert ledger.verify().ok
    finally:
        drop()
