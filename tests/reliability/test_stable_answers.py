"""An answer once given never changes (issue 12, item 7).

A write takes its ``recorded_at`` when it starts and becomes visible when it commits. A reader
asking while a long write is in flight must therefore not be told "as known now": the write may
yet commit with an earlier ``recorded_at`` than now. Answers are given as known at the last
committed event at most, and every write is recorded after it, so asking again later for the
``known_at`` an answer named gives that very answer. Both backends; the write in flight is held
open by the projection hook that runs inside its transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from ledger import BeliefState, Ledger
from tests.conftest import FakeClock
from tests.helpers import basics, statement

WAIT = 60  # seconds: a bound on a test that hangs, never reached when it passes


@contextmanager
def write_in_flight(lg: Ledger, events: list[Any]) -> Iterator[threading.Event]:
    """A write of ``events`` that has taken its recorded_at and written its rows, held open
    until the caller leaves the block; yields once the write is that far."""
    written, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        lg.projection.catch_up(conn)
        written.set()
        assert release.wait(WAIT)

    def write() -> None:
        try:
            lg.store.append_batches([events], within=hold)
        except BaseException as e:  # re-raised in the test's thread
            failure.append(e)
            written.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert written.wait(WAIT)
        assert not failure, failure
        yield release
    finally:
        release.set()
        writer.join(WAIT)
    assert not failure, failure


def _same(a: BeliefState, b: BeliefState) -> None:
    assert (a.known_at, a.status, a.verdict) == (b.known_at, b.status, b.verdict)


def test_an_answer_given_during_a_write_is_the_answer_for_its_known_at_afterwards(
    ledger_url: str,
) -> None:
    clock = FakeClock(step=timedelta(seconds=1))
    lg = Ledger.open(ledger_url, create=True, clock=clock)
    try:
        lg.append([*basics(), statement("nis-claims")])
        committed = lg.head().recorded_at
        # The denial's write starts (and takes its recorded_at) before the reader asks.
        with write_in_flight(lg, [statement("kcna-denies", "kcna", "deny", "2024-10-20")]):
            clock.set(clock.now + timedelta(minutes=5))
            during = lg.believed("troops", as_of="2024-12-01")
            asked_for_now = lg.believed("troops", as_of="2024-12-01", known_at=clock.now)
            timeline_during = lg.timeline("troops")
        after = lg.believed("troops", as_of="2024-12-01")
        again = lg.believed("troops", as_of="2024-12-01", known_at=during.known_at)
    finally:
        lg.close()

    assert during.known_at == committed  # the last committed event, not the clock
    assert str(during.status) == "claimed"
    assert str(after.status) == "disputed"  # the write did change the answer once committed
    _same(again, during)
    _same(asked_for_now, during)  # a later known_at is answered, and labelled, as of the head
    assert timeline_during == lg_timeline_at(ledger_url, clock, during.known_at)


def lg_timeline_at(url: str, clock: FakeClock, known_at: Any) -> Any:
    lg = Ledger.open(url, clock=clock)
    try:
        return lg.timeline("troops", known_at=known_at)
    finally:
        lg.close()


def test_a_write_after_a_clock_step_back_is_recorded_after_the_last_one(ledger_url: str) -> None:
    clock = FakeClock(step=timedelta(0))
    lg = Ledger.open(ledger_url, create=True, clock=clock)
    try:
        lg.append([*basics(), statement("nis-claims")])
        answer = lg.believed("troops", as_of="2024-12-01")
        clock.set(clock.now - timedelta(hours=1))  # the clock steps back
        lg.append([statement("kcna-denies", "kcna", "deny", "2024-10-20")])
        again = lg.believed("troops", as_of="2024-12-01", known_at=answer.known_at)
        last = lg.head().recorded_at
    finally:
        lg.close()
    _same(again, answer)
    assert last is not None and answer.known_at < last
