"""The verify loop's shortcuts against the straightforward checks, for any rows.

``hashing.row_hash`` hashes a row in one step; ``verify.verify_rows`` runs every check in one
tuple loop and explains a failure afterwards. Both are held to the plain forms: the two-step
``chain_hash(prev, canonical_event(...))``, and a loop that asks ``_row_problem`` of every row.
Chains here are built by hand, so that any row can be edited, removed or moved.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.hashing import GENESIS, canonical_event, chain_hash, row_hash
from ledger.records import VerifyReport
from ledger.store.verify import _row_problem, verify_rows

Row = tuple[Any, ...]

awkward_text = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Z", "Cc")), max_size=12
)


@given(
    st.text(max_size=64),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.uuids().map(str),
    awkward_text,
    st.integers(min_value=-(2**31), max_value=2**31),
    awkward_text,
    st.none() | st.integers(min_value=-(2**62), max_value=2**62),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.text(max_size=40),
)
def test_row_hash_equals_chain_hash_of_canonical_event(
    prev: str,
    position: int,
    event_id: str,
    stream_id: str,
    version: int,
    type_: str,
    stated_at: int | None,
    recorded_at: int,
    payload: str,
) -> None:
    canonical = canonical_event(
        position=position,
        event_id=event_id,
        stream_id=stream_id,
        stream_version=version,
        type=type_,
        stated_at=stated_at,
        recorded_at=recorded_at,
        payload=payload,
    )
    fast = row_hash(
        prev, position, event_id, stream_id, version, type_, stated_at, recorded_at, payload
    )
    assert fast == chain_hash(prev, canonical)


def chain(contents: list[tuple[str, str, int | None, int, str]]) -> list[Row]:
    """Rows of a valid log holding ``contents`` (stream, type, stated_at, recorded step,
    payload), in every column of ``events``."""
    rows: list[Row] = []
    prev, recorded = GENESIS, 0
    for position, (stream, type_, stated, step, payload) in enumerate(contents, start=1):
        recorded += step
        event_id = str(uuid.UUID(int=position))
        canonical = canonical_event(
            position=position,
            event_id=event_id,
            stream_id=stream,
            stream_version=1,
            type=type_,
            stated_at=stated,
            recorded_at=recorded,
            payload=payload,
        )
        digest = chain_hash(prev, canonical)
        rows.append((position, event_id, stream, 1, type_, stated, recorded, payload, prev, digest))
        prev = digest
    return rows


contents = st.lists(
    st.tuples(
        awkward_text,
        st.sampled_from(["statement_made", "source_registered"]),
        st.none() | st.integers(min_value=0, max_value=10**15),
        st.integers(min_value=0, max_value=3),
        st.sampled_from(['{"a":1}', '{"b":"x"}', "[]"]),
    ),
    min_size=1,
    max_size=8,
)


def straightforward(rows: list[Row]) -> tuple[bool, int, int | None, str | None]:
    """What verify must report, checking one row at a time the slow way."""
    prev, position, last_recorded, checked = GENESIS, 0, -(2**62), 0
    for row in rows:
        problem = _row_problem(row, position + 1, prev, last_recorded)
        if problem is not None:
            return False, checked, row[0], problem
        prev, position, last_recorded = row[9], row[0], row[6]
        checked += 1
    return True, checked, None, None


def summary(report: VerifyReport) -> tuple[bool, int, int | None, str | None]:
    return report.ok, report.checked, report.position, report.problem


@st.composite
def tampered(draw: st.DrawFn) -> list[Row]:
    """A valid chain, then one edit: a column changed, a row removed, or two rows swapped."""
    rows = chain(draw(contents))
    kind = draw(st.sampled_from(["edit", "remove", "swap", "none"]))
    i = draw(st.integers(0, len(rows) - 1))
    if kind == "edit":
        column = draw(st.integers(0, 9))
        row = list(rows[i])
        old = row[column]
        if isinstance(old, int) and not isinstance(old, bool):
            row[column] = old + draw(st.sampled_from([-1, 1]))
        elif old is None:
            row[column] = 0
        else:
            row[column] = old + "x"
        rows[i] = tuple(row)
    elif kind == "remove":
        del rows[i]
    elif kind == "swap" and len(rows) > 1:
        j = draw(st.integers(0, len(rows) - 1).filter(lambda j: j != i))
        rows[i], rows[j] = rows[j], rows[i]
    return rows


@given(contents)
def test_an_intact_chain_verifies(contents_: list[tuple[str, str, int | None, int, str]]) -> None:
    rows = chain(contents_)
    report = verify_rows(rows)
    assert report.ok and report.checked == len(rows)
    assert report.head.position == len(rows) and report.head.hash == rows[-1][9]


@given(tampered())
def test_verify_reports_what_the_row_by_row_checks_report(rows: list[Row]) -> None:
    assert summary(verify_rows(rows)) == straightforward(rows)


@given(contents, st.data())
def test_any_single_edit_is_caught_at_the_edited_row(
    contents_: list[tuple[str, str, int | None, int, str]], data: st.DataObject
) -> None:
    rows = chain(contents_)
    i = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from([0, 1, 2, 3, 4, 6, 7, 8, 9]))  # all but stated_at
    row = list(rows[i])
    row[column] = row[column] + 1 if isinstance(row[column], int) else row[column] + "x"
    rows[i] = tuple(row)
    report = verify_rows(rows)
    assert not report.ok
    assert report.checked == i  # every row before the edited one checked, none after
