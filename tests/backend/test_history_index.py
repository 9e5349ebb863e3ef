"""``Ledger.history`` is served by index lookups (the stance rows, then each statement's
stream), and equals a scan of the log that follows each statement's proposition transaction by
transaction (issue 11: ``history`` from indexed tables, not log scans)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import CorrectionMade, Ledger, PropositionDefined, RecordedEvent, StatementMade
from ledger.events import corrected
from tests.conftest import Databases, FakeClock
from tests.helpers import basics, statement
from tests.strategies import histories

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def scanned(log: list[RecordedEvent], proposition: str) -> list[RecordedEvent]:
    """The oracle: the proposition's definition and every event of each statement that stood
    under it once a transaction had committed (corrections applied by the one rule)."""
    current: dict[str, tuple[StatementMade, bool]] = {}
    stood: set[str] = set()
    for _, transaction in groupby(log, key=lambda r: r.recorded_at):
        for r in transaction:
            e = r.event
            if isinstance(e, StatementMade):
                current[e.statement_id] = (e, False)
            elif isinstance(e, CorrectionMade):
                current[e.corrects] = corrected(*current[e.corrects], e)
        stood |= {
            sid
            for sid, (s, withdrawn) in current.items()
            if s.proposition_id == proposition and not withdrawn
        }
    streams = {f"proposition:{proposition}", *(f"statement:{sid}" for sid in stood)}
    return [r for r in log if r.stream_id in streams]


@PROPERTY
@given(history=histories(), data=st.data())
def test_history_from_the_index_equals_the_scan_at_any_known_at(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    clock = FakeClock()
    lg = Ledger.open(databases.new_url(), create=True, clock=clock)
    try:
        for batch in history:
            lg.append(batch)
        log = list(lg.read())
        known_at = data.draw(st.sampled_from([r.recorded_at for r in log]))
        prefix = [r for r in log if r.recorded_at <= known_at]
        for proposition in lg.propositions(known_at=known_at):
            p = proposition.proposition_id
            assert lg.history(p, known_at=known_at) == scanned(prefix, p)
    finally:
        lg.close()


def test_a_statement_moved_away_in_the_transaction_that_filed_it_never_stood_there(
    ledger: Ledger,
) -> None:
    other = PropositionDefined("other", "Another claim")
    move = CorrectionMade(
        "fix", "misfiled", "filed under the wrong claim", {"proposition": "other"}
    )
    ledger.append([*basics(), other, statement("misfiled"), move])
    ledger.append([statement("kept", "kr-nis", "confirm", "2024-11-01")])

    def statements(events: list[RecordedEvent]) -> set[str]:
        return {e.event.statement_id for e in events if isinstance(e.event, StatementMade)}

    assert statements(ledger.history("troops")) == {"kept"}
    moved = ledger.history("other")
    assert statements(moved) == {"misfiled"}
    assert [type(e.event) for e in moved] == [PropositionDefined, StatementMade, CorrectionMade]
