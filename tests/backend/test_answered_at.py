"""``Ledger.answered_at``: the one rule for the transaction time an answer is given for, used by
the API and by the analysis tools alike (a grid asked by default is the grid for the last
committed event, so asking it again later at its ``known_at`` gives it again)."""

from __future__ import annotations

from datetime import timedelta

from ledger import Ledger
from ledger.analysis import belief_grid
from tests.conftest import FakeClock
from tests.helpers import basics, statement


def test_an_answer_is_given_for_the_last_committed_event_at_most(ledger_url: str) -> None:
    clock = FakeClock(step=timedelta(seconds=1))
    with Ledger.open(ledger_url, create=True, clock=clock) as lg:
        empty = lg.answered_at()  # an empty ledger: now, by the clock
        assert empty < clock.now
        lg.append([*basics(), statement("nis-claims")])
        committed = lg.head().recorded_at
        assert committed is not None
        clock.set(clock.now + timedelta(hours=1))
        assert lg.answered_at() == committed
        assert lg.answered_at(clock.now) == committed  # later than the head: the head
        earlier = committed - timedelta(minutes=1)
        assert lg.answered_at(earlier) == earlier


def test_a_grid_asked_by_default_is_the_grid_for_its_known_at_after_later_writes(
    ledger_url: str,
) -> None:
    clock = FakeClock(step=timedelta(seconds=1))
    with Ledger.open(ledger_url, create=True, clock=clock) as lg:
        lg.append([*basics(), statement("nis-claims")])
        clock.set(clock.now + timedelta(hours=1))
        first = belief_grid(lg, ["2024-12-01"])
        assert {c.known_at for c in first} == {lg.head().recorded_at}
        lg.append([statement("kcna-denies", "kcna", "deny", "2024-10-20")])
        again = belief_grid(lg, ["2024-12-01"], known_at=first[0].known_at)
        now = belief_grid(lg, ["2024-12-01"])
    assert [c.verdict for c in again] == [c.verdict for c in first]
    assert [str(c.status) for c in now] == ["disputed"]  # the later write did change it
