"""An answer finds the stance rows in force at its instant one of two ways: by reading every row
in force of the proposition (one index range, for a proposition with at most
``materialized._SCAN_UP_TO`` of them), or by probing the interval tree (some sixty index
lookups, whatever the proposition's size). Which one is a matter of speed, never of the answer:
both agree with the reference fold for random histories and any (as_of, known_at), on both
backends; a proposition with one row more than a scan reads is answered by the tree (and asked
there straight away afterwards); a stale hint (a small proposition sent to the tree) changes
nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.answer_paths import EveryProposition
from ledger import (
    CorrectionMade,
    Event,
    Ledger,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)
from projections import fold as reference
from projections import materialized
from tests.backend.test_projection_properties import (
    PROPERTY,
    answer,
    built,
    projected,
    scenarios,
)
from tests.conftest import Databases, FakeClock
from tests.strategies import instants


@pytest.fixture
def fresh_hints(ledger: Ledger) -> set[str]:
    """The ledger's hint (empty: a new ledger has seen no busy proposition)."""
    assert not ledger.projection.busy
    return ledger.projection.busy


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_a_scan_and_the_tree_give_the_reference_folds_answer(
    databases: Databases,
    scenario: tuple[list[list[Event]], list[bool]],
    data: st.DataObject,
) -> None:
    with built(databases, *scenario) as b:
        events = list(b.ledger.read())
        queries = data.draw(
            st.lists(st.tuples(instants(), st.sampled_from(b.known_ats())), min_size=1, max_size=6)
        )
        nothing_busy: set[str] = set()
        for hints in (nothing_busy, EveryProposition()):
            b.ledger.projection.busy = hints  # each example's ledger is its own
            for as_of, known_at in queries:
                for proposition in b.propositions:
                    expected = answer(events, proposition, as_of, known_at)
                    assert projected(b.ledger, proposition, as_of, known_at) == expected


def _crowded(ledger: Ledger, clock: FakeClock, rows: int) -> tuple[datetime, datetime]:
    """A proposition ``crowd`` with ``rows`` rows in force (one statement from each of as many
    sources, so none revises another), then a correction that closes one version of the
    first statement (so a past known_at reads a closed version too). Returns an as_of after
    every statement (all of them in the answer) and the known_at before the correction."""
    ledger.append(
        [
            PropositionDefined("crowd", "Many sources on one story"),
            *(SourceRegistered(f"c{i:03d}", f"S{i}", "media", "ua", "C") for i in range(rows)),
        ]
    )
    day = datetime(2024, 10, 1, tzinfo=UTC)
    ledger.append(
        [
            StatementMade(
                f"crowd-{i:03d}",
                f"c{i:03d}",
                "crowd",
                ("assert", "deny", "confirm", "refute", "no_comment")[i % 5],
                day + timedelta(hours=i),
                value=None if i % 3 else i,
            )
            for i in range(rows)
        ]
    )
    before = ledger.head().recorded_at
    assert before is not None
    clock.now += timedelta(days=1)
    ledger.append([CorrectionMade("fix", "crowd-000", "misread", changes={"stance": "deny"})])
    return day + timedelta(hours=rows), before


@pytest.mark.parametrize(
    ("rows", "busy"),
    [(materialized._SCAN_UP_TO, False), (materialized._SCAN_UP_TO + 1, True), (300, True)],
)
def test_a_proposition_with_more_rows_than_a_scan_reads_is_answered_by_the_tree(
    ledger: Ledger, clock: FakeClock, fresh_hints: set[str], rows: int, busy: bool
) -> None:
    as_of, before = _crowded(ledger, clock, rows)
    events = list(ledger.read())
    for known_at in (before, None):
        got = ledger.believed("crowd", as_of=as_of, known_at=known_at)
        expected = reference.believed(events, "crowd", as_of=as_of, known_at=got.known_at)
        assert got.verdict == expected.verdict
        assert ("crowd" in fresh_hints) is busy
    v = ledger.believed("crowd", as_of=as_of).verdict
    speaking = len(v.supporters) + len(v.deniers) + len(v.confirmers) + len(v.refuters)
    assert speaking > 100  # the answer read the crowd, not a part of it


def test_a_stale_hint_changes_no_answer(
    ledger: Ledger, clock: FakeClock, fresh_hints: set[str]
) -> None:
    as_of, before = _crowded(ledger, clock, 12)
    scanned = [ledger.believed("crowd", as_of=as_of, known_at=k) for k in (before, None)]
    assert "crowd" not in fresh_hints
    fresh_hints.add("crowd")  # as if it had been busy once
    probed = [ledger.believed("crowd", as_of=as_of, known_at=k) for k in (before, None)]
    assert probed == scanned
    assert scanned[0].verdict != scanned[1].verdict  # the correction is seen at one of them


def test_each_ledger_keeps_its_own_hint(
    ledger: Ledger,
    clock: FakeClock,
    databases: Databases,
    fresh_hints: set[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two ledgers in one process with a proposition of the same id: busy in one, small in
    the other. Finding it busy in the first sends no answer of the second to the tree."""
    as_of, _ = _crowded(ledger, clock, materialized._SCAN_UP_TO + 1)
    ledger.believed("crowd", as_of=as_of)
    assert "crowd" in fresh_hints
    ways: list[bool] = []
    read = materialized._read_answer

    def recorded(*args: Any, scan: bool) -> Any:
        ways.append(scan)
        return read(*args, scan=scan)

    other_clock = FakeClock()
    with Ledger.open(databases.new_url(), clock=other_clock) as other:
        small_as_of, _ = _crowded(other, other_clock, 12)
        monkeypatch.setattr(materialized, "_read_answer", recorded)
        got = other.believed("crowd", as_of=small_as_of)
        assert ways == [True]  # one statement, by the scan
        assert other.projection.busy == set()
        events = list(other.read())
        expected = reference.believed(events, "crowd", as_of=small_as_of, known_at=got.known_at)
        assert got.verdict == expected.verdict


@pytest.mark.parametrize("hints", [set(), EveryProposition()], ids=["scan", "tree"])
def test_a_past_known_at_does_not_see_a_statement_recorded_after_it(
    ledger: Ledger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, hints: set[str]
) -> None:
    monkeypatch.setattr(ledger.projection, "busy", hints)
    as_of, _ = _crowded(ledger, clock, 12)
    before = ledger.head().recorded_at
    clock.now += timedelta(days=1)
    # a row in force that no closed version stands for: only its tx_from keeps it out
    ledger.append(
        [
            SourceRegistered("late", "Late source", "media", "ua", "C"),
            StatementMade("late-1", "late", "crowd", "deny", as_of - timedelta(hours=1)),
        ]
    )
    events = list(ledger.read())
    then = ledger.believed("crowd", as_of=as_of, known_at=before)
    expected = reference.believed(events, "crowd", as_of=as_of, known_at=then.known_at)
    assert then.verdict == expected.verdict
    assert "late" not in {s.source for s in then.verdict.deniers}
    assert "late" in {s.source for s in ledger.believed("crowd", as_of=as_of).verdict.deniers}
