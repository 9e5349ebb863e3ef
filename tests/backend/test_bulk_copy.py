"""Stance rows written in bulk: PostgreSQL's ``COPY`` in binary format (the rebuild's and an
append's rows from ``bulk.COPY_FROM`` on) stores exactly what the text format and SQLite's
``executemany`` store, whatever the text holds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Column, MetaData, Table, select

from ledger import Ledger
from ledger.store import bulk
from ledger.store.schema import events
from projections.chainfold import BINARY
from projections.stances import COLUMNS
from projections.tables import OPEN, belief_stances
from tests.strategies import stored_texts

# escapes of the text format among them; ids fit their columns' 128 characters
_TEXT = stored_texts()
_ID = stored_texts(max_size=100)
_MICROS = st.integers(min_value=-(2**62), max_value=OPEN)


@st.composite
def _stance_rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    count = draw(st.integers(min_value=bulk.COPY_FROM, max_value=bulk.COPY_FROM + 8))
    rows = []
    for i in range(count):
        rows.append(
            (
                f"{draw(_ID)}#{i}",  # unique statement ids: (statement_id, tx_from) is a key
                draw(_MICROS),
                draw(st.sampled_from([OPEN, 0])),
                draw(_ID),
                draw(_ID),
                draw(st.sampled_from(["assert", "deny", "retract"])),
                draw(st.integers(min_value=1, max_value=2**63 - 1)),
                draw(_MICROS),
                draw(_MICROS),
                draw(st.none() | _MICROS),
                draw(_MICROS),
                draw(st.integers(min_value=0, max_value=2**62)),
                draw(st.none() | _TEXT),
                draw(st.none() | _TEXT),
            )
        )
    return rows


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=_stance_rows(), binary=st.booleans())
def test_stance_rows_written_in_bulk_read_back_as_written(
    ledger: Ledger, rows: list[tuple[Any, ...]], binary: bool
) -> None:
    with ledger.store.engine.connect() as conn:  # rolled back: the ledger stays as it was
        conn.execute(belief_stances.delete())
        bulk.insert_many(conn, "belief_stances", COLUMNS, rows, binary=BINARY if binary else None)
        stored = conn.execute(select(*(belief_stances.c[name] for name in COLUMNS))).all()
        assert sorted(map(tuple, stored)) == sorted(rows)
        conn.rollback()


def test_binary_copy_types_follow_the_columns_on_postgresql() -> None:
    i, t = "int8", "text"
    assert (t, i, i, t, t, t, i, i, i, i, i, i, t, t) == BINARY  # stances.COLUMNS' order
    # a type with a variant for another database is PostgreSQL's own: position is an
    # integer on SQLite, a bigint on PostgreSQL
    assert bulk.binary_types(events, ("position", "stream_version", "payload")) == (
        "int8",
        "int4",
        "text",
    )
    flags = Table("flags", MetaData(), Column("on", Boolean))
    with pytest.raises(TypeError, match=r"flags\.on"):
        bulk.binary_types(flags, ("on",))
