"""The reference fold keeps its statements as columns (``projections.fold.Statements``) and
applies corrections when the statements are next read. Here it is held to the plain fold it
replaced: a dict of every statement as an event, each correction applied through
``ledger.events.corrected`` the moment it is folded in. Whatever the history, and wherever
the fold is read between events, both hold the same statements (the fields the rules read,
the position, withdrawn or not) and give the same verdict on every proposition. Corrections
of a statement's document, quote or note are mixed in: the columns do not keep them, so they
must change nothing the rules see.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.events import CorrectionMade, Event, StatementMade, corrected
from ledger.records import RecordedEvent
from projections import fold as reference
from projections.rules import DEFAULT_POLICY, Evidence, Said, named
from tests.strategies import DAYS, flatten, histories, slugs, texts

_AS_OF = [datetime.combine(day, datetime.max.time(), tzinfo=UTC) for day in DAYS[::3]]


@st.composite
def with_text_corrections(draw: st.DrawFn) -> list[Event]:
    """A history's events in order, with corrections of documents, quotes and notes of
    statements already made inserted anywhere after them."""
    events = flatten(draw(histories(max_corrections=8)))
    for n in range(draw(st.integers(0, 4))):
        made = [i for i, e in enumerate(events) if isinstance(e, StatementMade)]
        if not made:
            break
        at = draw(st.sampled_from(made))
        target = events[at]
        assert isinstance(target, StatementMade)
        changes = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "document": st.none() | slugs(),
                    "quote": st.none() | texts(),
                    "note": st.none() | texts(),
                },
            ).filter(bool)
        )
        correction = CorrectionMade(
            correction_id=f"text-{n}",
            corrects=target.statement_id,
            reason="a text correction",
            changes=changes,
        )
        events.insert(draw(st.integers(at + 1, len(events))), correction)
    return events


def _recorded(events: list[Event]) -> list[RecordedEvent]:
    """The events as a log would return them (only what the fold reads matters here)."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        RecordedEvent(i, uuid.uuid4(), "s", 1, at, e, f"{i - 1}", f"{i}")
        for i, e in enumerate(events, 1)
    ]


def _plain(events: list[RecordedEvent]) -> dict[str, tuple[StatementMade, int, bool]]:
    """The plain fold of the statements: the event, its position, whether it is withdrawn."""
    known: dict[str, tuple[StatementMade, int, bool]] = {}
    for r in events:
        e = r.event
        if isinstance(e, StatementMade):
            known[e.statement_id] = (e, r.position, False)
        elif isinstance(e, CorrectionMade):
            statement, position, withdrawn = known[e.corrects]
            statement, withdrawn = corrected(statement, withdrawn, e)
            known[e.corrects] = (statement, position, withdrawn)
    return known


def _rows(known: dict[str, tuple[StatementMade, int, bool]]) -> list[tuple[object, ...]]:
    return [
        (
            s.statement_id,
            s.source_id,
            s.proposition_id,
            s.stance,
            s.stated_at,
            position,
            s.value,
            s.unit,
            withdrawn,
        )
        for s, position, withdrawn in known.values()
    ]


def _columns(state: reference.FoldState) -> list[tuple[object, ...]]:
    return [
        (
            k.statement_id,
            k.source_id,
            k.proposition_id,
            k.stance,
            k.stated_at,
            k.position,
            k.value,
            k.unit,
            k.withdrawn,
        )
        for k in state.statements.values()
    ]


@settings(max_examples=200, deadline=None)
@given(with_text_corrections(), st.data())
def test_the_columns_hold_what_the_plain_fold_holds_wherever_they_are_read(
    events: list[Event], data: st.DataObject
) -> None:
    recorded = _recorded(events)
    reads = set(data.draw(st.lists(st.integers(0, len(recorded)), max_size=4)))
    state = reference.FoldState()
    for i, r in enumerate(recorded):
        if i in reads:  # a read in the middle applies the corrections queued so far
            assert _columns(state) == _rows(_plain(recorded[:i]))
        state = reference.step(state, r)
    plain = _plain(recorded)
    assert _columns(state) == _rows(plain)
    assert state.statements.keys() == list(plain)
    assert len(state.statements) == len(plain)
    grouped = reference.by_proposition(state)
    for proposition, definition in state.propositions.items():
        for as_of in _AS_OF:
            said = [
                Said(s.statement_id, s.source_id, s.stance, s.stated_at, p, s.value, s.unit)
                for s, p, withdrawn in plain.values()
                if s.proposition_id == proposition and not withdrawn and s.stated_at <= as_of
            ]
            expected = named(DEFAULT_POLICY).verdict(definition, state.sources, Evidence.of(said))
            assert reference.verdict_of(state, proposition, as_of) == expected
            rows = grouped.get(proposition, ())
            assert reference.verdict_of(state, proposition, as_of, rows=rows) == expected


def test_a_correction_of_a_statement_never_made_fails_as_the_dict_of_statements_did() -> None:
    correction = CorrectionMade(
        correction_id="c", corrects="nowhere", reason="r", changes={"note": "n"}
    )
    state = reference.fold(_recorded([correction]))
    with pytest.raises(KeyError, match="nowhere"):
        list(state.statements.values())
