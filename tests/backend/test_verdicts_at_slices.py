"""``MaterializedProjection.verdicts_at`` over a slice of propositions, on SQLite and PostgreSQL:
the verdicts of any set of propositions are those of all of them, and every proposition's are
read a slice at a time (a few scans a slice), never all rows at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import projections.materialized
from ledger import Ledger, PropositionDefined, SourceRegistered, StatementMade
from tests.backend.test_projection_properties import built, scenarios
from tests.backend.test_stance_rows import PROPERTY, Scenario
from tests.conftest import Databases
from tests.strategies import instants

NAMES = [f"p{i}" for i in range(7)]


def seven_propositions(ledger: Ledger) -> None:
    """Seven propositions, each with a supporter and (every other one) a denier."""
    ledger.append(
        [
            SourceRegistered("kr-nis", "National Intelligence Service", "intelligence", "kr"),
            SourceRegistered("kcna", "Korean Central News Agency", "state_media", "kp"),
            *(PropositionDefined(p, f"claim {p}", parties=["kcna"]) for p in NAMES),
        ]
    )
    for i, p in enumerate(NAMES):
        said = [StatementMade(f"{p}-a", "kr-nis", p, "assert", "2024-10-18", value=i, unit="men")]
        if i % 2:
            said.append(StatementMade(f"{p}-d", "kcna", p, "deny", "2024-10-20"))
        ledger.append(said)


@pytest.fixture
def story(ledger: Ledger) -> Ledger:
    seven_propositions(ledger)
    return ledger


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_verdicts_of_some_propositions_are_those_of_all_of_them(
    databases: Databases, scenario: Scenario, data: st.DataObject
) -> None:
    with built(databases, *scenario) as b:
        as_of = data.draw(instants())
        known_at = data.draw(st.sampled_from(b.known_ats()))
        every = b.ledger.projection.verdicts_at(as_of, known_at)
        some = data.draw(st.lists(st.sampled_from([*b.propositions, "never-defined"])))

        asked = b.ledger.projection.verdicts_at(as_of, known_at, propositions=some)

        assert asked == {p: v for p, v in every.items() if p in some}
        assert list(asked) == sorted(asked)


def test_every_verdict_is_read_a_slice_at_a_time(
    story: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    real = projections.materialized._Everything

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, conn: Any, a: int, k: int, ids: Any, *, shared: bool):
            seen.append(list(ids))
            super().__init__(conn, a, k, ids, shared=shared)

    monkeypatch.setattr(projections.materialized, "_SLICE", 3)
    monkeypatch.setattr(projections.materialized, "_Everything", Counted)
    now = story.now()

    assert list(story.projection.verdicts_at(now, now)) == NAMES
    assert seen == [NAMES[:3], NAMES[3:6], NAMES[6:]]


def test_a_slice_asked_leaves_the_caches_of_answers_alone(story: Ledger) -> None:
    """A pass over every proposition, a slice at a time, would only flood them."""
    projections.materialized._SAID.clear()
    projections.materialized._PROPOSITIONS.clear()
    now = story.now()

    story.projection.verdicts_at(now, now, propositions=NAMES)

    assert not projections.materialized._SAID
    assert not projections.materialized._PROPOSITIONS


def test_a_diff_reads_the_changed_propositions_statements_a_slice_at_a_time(
    story: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``diff`` names what took effect between its dates from the changed propositions'
    statements, read a slice of them at a time (two statements a slice), never one by one."""
    expected = story.diff("2024-10-19", "2024-10-21")
    changed = NAMES[1::2]  # each odd one got its denial on the 20th
    assert [c.proposition for c in expected] == changed
    assert [[c.statement for c in change.because] for change in expected] == [
        [f"{p}-d"] for p in changed
    ]
    sliced: list[list[str]] = []
    real = projections.materialized._chunks

    def recorded(items: Any, size: int = 500) -> Any:
        if list(items) == changed:
            sliced.extend(list(chunk) for chunk in real(items, size))
        return real(items, size)

    monkeypatch.setattr(projections.materialized, "_IN", 2)
    monkeypatch.setattr(projections.materialized, "_chunks", recorded)

    assert story.diff("2024-10-19", "2024-10-21") == expected
    assert sliced == [changed[:2], changed[2:]]
