"""The store against a model: a Python list of what was appended and a dict of stream versions.

Hypothesis drives a real :class:`ledger.Ledger` (SQLite and PostgreSQL) through appends of valid
batches, idempotent re-appends, stale ``expected_versions``, batches with an unknown reference,
clock moves (forwards and back), reads and verification, and after every step checks that the
log is exactly the model: gapless positions, the head, every stored field and hash.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger import (
    ConcurrencyConflict,
    CorrectionMade,
    Event,
    Ledger,
    PropositionDefined,
    RecordedEvent,
    StatementMade,
    UnknownReference,
    event_id,
)
from ledger.codec import to_payload
from ledger.events import stated_at
from ledger.hashing import GENESIS, canonical_event, canonical_json, chain_hash
from ledger.times import iso, to_micros
from tests.conftest import Databases, FakeClock
from tests.strategies import histories, slugs

START = datetime(2026, 1, 1, tzinfo=UTC)
#: Clock moves between appends: none (ties), the smallest, ordinary ones, and one backwards.
CLOCK_MOVES = (
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(seconds=1),
    timedelta(days=1),
    timedelta(hours=-1),
)
UNKNOWN_KINDS = ("source", "proposition", "document", "parties", "corrects", "set.source")


class Model:
    """What the log must hold: the expected stored events and each stream's version."""

    def __init__(self) -> None:
        self.log: list[RecordedEvent] = []
        self.versions: dict[str, int] = {}

    def ids(self) -> set[object]:
        return {r.event_id for r in self.log}

    def keys(self, event_type: str) -> set[str]:
        return {r.event.key for r in self.log if r.type == event_type}

    def append(self, batch: list[Event], recorded_at: datetime) -> list[RecordedEvent]:
        """Append the events not yet in the log, chained and numbered as the store must."""
        known = self.ids()
        added: list[RecordedEvent] = []
        for event in batch:
            eid = event_id(event)
            if eid in known:
                continue
            known.add(eid)
            version = self.versions.get(event.stream_id, 0) + 1
            self.versions[event.stream_id] = version
            added.append(self._record(event, version, recorded_at))
            self.log.append(added[-1])
        return added

    def _record(self, event: Event, version: int, recorded_at: datetime) -> RecordedEvent:
        position = len(self.log) + 1
        prev = self.log[-1].hash if self.log else GENESIS
        when = stated_at(event)
        canonical = canonical_event(
            position=position,
            event_id=str(event_id(event)),
            stream_id=event.stream_id,
            stream_version=version,
            type=event.TYPE,
            stated_at=None if when is None else to_micros(when),
            recorded_at=to_micros(recorded_at),
            payload=canonical_json(to_payload(event)),
        )
        return RecordedEvent(
            position=position,
            event_id=event_id(event),
            stream_id=event.stream_id,
            stream_version=version,
            recorded_at=recorded_at,
            event=event,
            prev_hash=prev,
            hash=chain_hash(prev, canonical),
        )


class LedgerMachine(RuleBasedStateMachine):
    """One ledger on a fresh database, compared with :class:`Model` after every step."""

    def __init__(self, new_url: Callable[[], str]) -> None:
        super().__init__()
        self.url = new_url()
        self.clock = FakeClock(START, step=timedelta(0))  # moves only when a rule moves it
        self.ledger = Ledger.open(self.url, clock=self.clock)
        self.model = Model()
        self.pending: list[list[Event]] = []

    def teardown(self) -> None:
        self.ledger.close()

    def _expected_recorded_at(self) -> datetime:
        if not self.model.log:
            return self.clock.now
        # a microsecond past the last recorded event at least (an answer's known_at is final)
        return max(self.clock.now, self.model.log[-1].recorded_at + timedelta(microseconds=1))

    def _assert_unchanged(self, before: int) -> None:
        assert self.ledger.head().position == before == len(self.model.log)

    # -- writing ---------------------------------------------------------------------------

    @initialize(
        history=histories(max_sources=3, max_statements=12, max_corrections=4),
        already=st.integers(0, 3),
    )
    def plan(self, history: list[list[Event]], already: int) -> None:
        """The valid batches this run appends, in order: the first few at once, so most runs
        start from a ledger with a history, the rest as the rules get to them."""
        self.pending = history
        for _ in range(min(already, len(history))):
            self._append_next([], {})

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data())
    def append_next_batch(self, data: st.DataObject) -> None:
        """The next valid batch, with events already stored mixed in (skipped, not repeated)."""
        repeats = self._draw_known(data, max_size=3) if self.model.log else []
        self._append_next(repeats, {}, at=data)

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data())
    def append_next_batch_expecting_versions(self, data: st.DataObject) -> None:
        """The next valid batch, expecting the versions the model has for some streams: the
        batch's own (new ones at 0), and any other stream."""
        streams = sorted({e.stream_id for e in self.pending[0]} | set(self.model.versions))
        chosen = data.draw(st.lists(st.sampled_from(streams), unique=True), label="expect")
        self._append_next([], {s: self.model.versions.get(s, 0) for s in chosen})

    def _append_next(
        self, repeats: list[Event], expected: dict[str, int], at: st.DataObject | None = None
    ) -> None:
        batch = list(self.pending[0])
        for event in repeats:
            where = 0 if at is None else at.draw(st.integers(0, len(batch)), label="at")
            batch.insert(where, event)
        recorded_at = self._expected_recorded_at()

        result = self.ledger.append(batch, expected_versions=expected)

        self.pending.pop(0)
        added = self.model.append(batch, recorded_at)
        assert list(result.appended) == added
        assert result.skipped == len(repeats)
        assert result.head == self.ledger.head()

    @precondition(lambda self: bool(self.model.log))
    @rule(data=st.data())
    def reappend_known_events(self, data: st.DataObject) -> None:
        """Appending events already stored, identical, is a no-op that reports them skipped."""
        batch = self._draw_known(data, max_size=5, min_size=1)
        head = self.ledger.head()

        result = self.ledger.append(batch)

        assert result.appended == ()
        assert result.skipped == len(batch)
        assert result.head == head == self.ledger.head()

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data())
    def a_stale_expected_version_appends_nothing(self, data: st.DataObject) -> None:
        batch = self.pending[0]
        streams = sorted({e.stream_id for e in batch} | set(self.model.versions))
        stream = data.draw(st.sampled_from(streams), label="stream")
        actual = self.model.versions.get(stream, 0)
        wrong = data.draw(st.integers(0, actual + 2).filter(lambda v: v != actual), label="v")
        before = self.ledger.head().position

        with pytest.raises(ConcurrencyConflict) as info:
            self.ledger.append(batch, expected_versions={stream: wrong})

        assert (info.value.stream_id, info.value.expected, info.value.actual) == (
            stream,
            wrong,
            actual,
        )
        self._assert_unchanged(before)

    @rule(data=st.data())
    def an_unknown_reference_appends_nothing(self, data: st.DataObject) -> None:
        """A batch (the next valid one, if any) followed by one event naming a missing record."""
        prefix = list(self.pending[0]) if self.pending else []
        bad, field = self._draw_bad_event(data, prefix)
        before = self.ledger.head().position

        with pytest.raises(UnknownReference) as info:
            self.ledger.append([*prefix, bad])

        assert info.value.field == field
        self._assert_unchanged(before)

    @rule(move=st.sampled_from(CLOCK_MOVES))
    def move_the_clock(self, move: timedelta) -> None:
        """Forwards, not at all, or backwards: recorded_at must still increase write by write."""
        self.clock.set(self.clock.now + move)

    # -- reading ---------------------------------------------------------------------------

    @rule(data=st.data())
    def read_a_position_range(self, data: st.DataObject) -> None:
        n = len(self.model.log)
        after = data.draw(st.integers(0, n + 1), label="after")
        until = data.draw(st.none() | st.integers(0, n + 1), label="until")
        page_size = data.draw(st.integers(1, 4), label="page_size")
        last = n if until is None else until

        read = list(self.ledger.store.read(after=after, until=until, page_size=page_size))

        assert read == [r for r in self.model.log if after < r.position <= last]

    @rule(data=st.data())
    def read_one_stream(self, data: st.DataObject) -> None:
        streams = [*sorted(self.model.versions), "statement:never-recorded"]
        stream = data.draw(st.sampled_from(streams), label="stream")

        read = list(self.ledger.read(stream_id=stream))

        assert read == [r for r in self.model.log if r.stream_id == stream]
        assert [r.stream_version for r in read] == list(range(1, len(read) + 1))
        assert self.ledger.stream_version(stream) == self.model.versions.get(stream, 0)

    @rule(data=st.data())
    def read_as_known_at(self, data: st.DataObject) -> None:
        """known_at keeps what was recorded at or before it: always a prefix of the log."""
        times = [r.recorded_at for r in self.model.log] or [START]
        base = data.draw(st.sampled_from(times), label="base")
        nudge = data.draw(st.sampled_from([-1, 0, 1]), label="nudge")
        cutoff = base + timedelta(microseconds=nudge)
        as_text = data.draw(st.booleans(), label="as_text")

        read = list(self.ledger.read(known_at=iso(cutoff) if as_text else cutoff))

        expected = [r for r in self.model.log if r.recorded_at <= cutoff]
        assert read == expected == self.model.log[: len(expected)]

    @rule(data=st.data(), reopen=st.booleans())
    def verify(self, data: st.DataObject, reopen: bool) -> None:
        """The whole chain verifies (perhaps in a new process: reopened), alone and against a
        checkpoint taken at any position; a wrong hash at the checkpoint is reported there."""
        if reopen:
            self.ledger.close()
            self.ledger = Ledger.open(self.url, clock=self.clock)
        report = self.ledger.verify()
        assert report.ok, report
        assert report.checked == len(self.model.log)
        if self.model.log:
            at = data.draw(st.sampled_from(self.model.log), label="checkpoint")
            assert self.ledger.verify((at.position, at.hash)).ok
            wrong = self.ledger.verify((at.position, GENESIS))
            assert (wrong.ok, wrong.position) == (False, at.position)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def the_head_is_the_end_of_the_model(self) -> None:
        head = self.ledger.head()
        last = self.model.log[-1] if self.model.log else None
        assert head.position == len(self.model.log)
        assert head.hash == (GENESIS if last is None else last.hash)
        assert head.recorded_at == (None if last is None else last.recorded_at)

    @invariant()
    def the_log_is_the_model(self) -> None:
        read = list(self.ledger.read())
        assert [r.position for r in read] == list(range(1, len(read) + 1))  # gapless
        assert read == self.model.log
        times = [r.recorded_at for r in read]
        assert times == sorted(times)

    # -- drawing ---------------------------------------------------------------------------

    def _draw_known(self, data: st.DataObject, *, max_size: int, min_size: int = 0) -> list[Event]:
        known = st.sampled_from([r.event for r in self.model.log])
        return data.draw(st.lists(known, min_size=min_size, max_size=max_size), label="known")

    def _draw_bad_event(self, data: st.DataObject, prefix: list[Event]) -> tuple[Event, str]:
        """An event naming, in the field returned with it, a record that is neither stored nor
        in ``prefix``; any reference the store checks before that field is satisfied."""
        everything = [r.event for r in self.model.log] + prefix
        keys = {(e.TYPE, e.key) for e in everything}
        have: dict[str, list[str]] = {
            k: [] for k in ("source", "proposition", "document", "statement")
        }
        for e in everything:
            kind = e.TYPE.split("_")[0]
            if kind in have:
                have[kind].append(e.key)
        kinds = [k for k in UNKNOWN_KINDS if _possible(k, have)]
        kind = data.draw(st.sampled_from(kinds), label="kind")
        missing = data.draw(slugs().filter(lambda s: all(s not in ks for ks in have.values())))
        return _bad_event(kind, missing, have, data, keys), kind


def _possible(kind: str, have: dict[str, list[str]]) -> bool:
    if kind in ("source", "parties", "corrects"):
        return True
    if kind in ("proposition", "document"):
        return bool(have["source"] and (kind == "proposition" or have["proposition"]))
    return bool(have["statement"])  # set.source


def _bad_event(
    kind: str,
    missing: str,
    have: dict[str, list[str]],
    data: st.DataObject,
    taken: set[tuple[str, str]],
) -> Event:
    def pick(what: str) -> str:
        return data.draw(st.sampled_from(have[what]), label=what)

    def new_id(event_type: str) -> str:
        return data.draw(slugs().filter(lambda s: (event_type, s) not in taken), label="id")

    if kind == "parties":
        return PropositionDefined(new_id("proposition_defined"), "p", parties=[missing])
    if kind == "corrects":
        return CorrectionMade(new_id("correction_made"), missing, "r", withdraw=True)
    if kind == "set.source":
        fix = {"source": missing}
        return CorrectionMade(new_id("correction_made"), pick("statement"), "r", changes=fix)
    sid = new_id("statement_made")
    source = missing if kind == "source" else pick("source")
    named = kind != "proposition" and have["proposition"]  # checked after the source anyway
    prop = pick("proposition") if named else missing
    doc = missing if kind == "document" else None
    return StatementMade(sid, source, prop, "assert", "2024-10-18", document_id=doc)


def test_the_store_behaves_like_a_list_of_events(databases: Databases) -> None:
    # Hypothesis documents the factory as any zero-argument callable but annotates it as a class.
    run_state_machine_as_test(
        lambda: LedgerMachine(databases.new_url),  # type: ignore[arg-type]
        settings=settings(max_examples=25, stateful_step_count=20, deadline=None),
    )
