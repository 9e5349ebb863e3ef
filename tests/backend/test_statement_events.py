"""``Ledger.statement_events`` (index lookups) against the log scan of ``Ledger.history``: what
``believe`` shows of retractions and corrections is the same either way, but for the two
documented differences: the index reads where a statement moved in was first filed (so the move
shows), and it leaves out a statement moved away in the transaction that filed it (issue 11:
served from indexed tables, not log scans)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import CorrectionMade, Ledger, PropositionDefined, StatementMade
from ledger.cli.revisions import revisions
from tests.conftest import Databases, FakeClock
from tests.helpers import basics, statement
from tests.strategies import flatten, histories

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(history=histories(), data=st.data())
def test_what_believe_shows_of_revisions_is_the_same_from_the_index_as_from_a_scan(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    lg = Ledger.open(databases.new_url(), create=True, clock=FakeClock())
    try:
        for event in flatten(history):  # one event per transaction: every filing stands once
            lg.append([event])
        for proposition in lg.propositions():
            p = proposition.proposition_id
            as_of = data.draw(st.sampled_from(["2024-10-01", "2024-12-31", "2025-06-30"]))
            state = lg.believed(p, as_of=as_of)
            events = lg.statement_events(p)
            scanned = revisions(lg.history(p), p, state.as_of)
            indexed = revisions(events, p, state.as_of)
            assert indexed.retractions == scanned.retractions
            # The index also reads where a statement moved in was first filed, which the scan
            # leaves out; so it shows the corrections that moved it here, and only those more.
            filed_elsewhere = {
                e.event.statement_id
                for e in events
                if isinstance(e.event, StatementMade) and e.event.proposition_id != p
            }
            more = [c for c in indexed.corrections if c not in scanned.corrections]
            assert [c for c in indexed.corrections if c not in more] == list(scanned.corrections)
            assert all(c.correction.corrects in filed_elsewhere for c in more)
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

    def statements(events: list[Any]) -> set[str]:
        return {e.event.statement_id for e in events if isinstance(e.event, StatementMade)}

    assert statements(ledger.statement_events("troops")) == {"kept"}
    assert statements(ledger.history("troops")) == {"misfiled", "kept"}  # the log names it
    moved = ledger.statement_events("other")
    assert statements(moved) == {"misfiled"}
    assert [type(e.event) for e in moved] == [StatementMade, CorrectionMade]
