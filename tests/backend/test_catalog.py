"""``sources()``, ``propositions()`` and ``beliefs()`` are served from indexed tables and one
pass over the projection, and answer exactly as a scan of the log and a question per proposition
would (issue 11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger, PropositionDefined, SourceRegistered
from tests.conftest import Databases, FakeClock
from tests.strategies import histories

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _scanned(lg: Ledger, kind: type, known_at: Any) -> list[Any]:
    return [r.event for r in lg.read(known_at=known_at) if isinstance(r.event, kind)]


@PROPERTY
@given(history=histories(), data=st.data())
def test_sources_and_propositions_equal_a_scan_of_the_log_at_any_known_at(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    clock = FakeClock()
    lg = Ledger.open(databases.new_url(), create=True, clock=clock)
    try:
        for batch in history:
            lg.append(batch)
        last = clock.now
        step = data.draw(st.integers(min_value=0, max_value=len(history) + 1))
        known_at = None if step > len(history) else last - timedelta(seconds=step)
        assert lg.sources(known_at=known_at) == _scanned(lg, SourceRegistered, known_at)
        assert lg.propositions(known_at=known_at) == _scanned(lg, PropositionDefined, known_at)
    finally:
        lg.close()


@PROPERTY
@given(history=histories(), data=st.data())
def test_every_belief_at_once_equals_each_belief_asked_alone(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    clock = FakeClock()
    lg = Ledger.open(databases.new_url(), create=True, clock=clock)
    try:
        for batch in history:
            lg.append(batch)
        as_of = data.draw(st.sampled_from(["2024-10-01", "2024-11-15", "2025-06-30"]))
        known_at = clock.now
        together = lg.beliefs(as_of=as_of, known_at=known_at)
        alone = [
            lg.believed(p.proposition_id, as_of=as_of, known_at=known_at)
            for p in sorted(lg.propositions(), key=lambda p: p.proposition_id)
        ]
        assert together == alone
    finally:
        lg.close()
