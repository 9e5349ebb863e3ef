"""A rebuild's fold by chain (``projections.chainfold``) leaves the rows the window fold leaves.

The window fold of ``tests/unit/test_stances.py`` is the oracle: it is what every append does,
and its rows are checked there against a plain replay. Here the same random histories
(statements and corrections on four chains, corrections that move a statement to another
source, withdraw it, or change nothing the rules see) are routed window by window, split into
partitions by any assignment of chains, spilled or not, and each partition folded whole: the
rows must be the same, key for key and column for column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import DamagedDatabase
from projections.chainfold import ADD, REMOVE, Partitions, Router, fold_partition
from projections.stances import COLUMNS, Chain, Fields
from tests.unit.test_stances import Event, Table, folded, histories

CHAINS = [(p, s) for p in ("p", "q") for s in ("a", "b")]


def windows_of(events: list[Event], cuts: list[int]) -> Iterator[tuple[list[Event], set[str]]]:
    """The events in windows cut at ``cuts``, each with the statements its corrections name."""
    start = 0
    for cut in [*sorted(set(cuts)), len(events)]:
        if cut > start:
            window = events[start:cut]
            yield window, {what[0] for kind, _, what in window if kind == "correct"}
            start = cut


def table_of(partitions: Partitions, contents: list[list[Any]] | None = None) -> Table:
    """The rows of every partition's fold, by key (each key once); each partition's
    operations are added to ``contents`` if given. Closes ``partitions``."""
    table: Table = {}
    for i in range(partitions.parts):
        ops = list(partitions.read(i))
        if contents is not None:
            contents.append(ops)
        for row in fold_partition(ops):
            values = dict(zip(COLUMNS, row, strict=True))
            key = (values["statement_id"], values["tx_from"])
            assert key not in table, f"two versions of {key}"
            table[key] = values
    partitions.close()
    return table


def by_chain(
    events: list[Event], cuts: list[int], assignment: dict[Chain, int], spill: bool
) -> Table:
    parts = max(assignment.values()) + 1
    partitions = Partitions(parts, buffer=1 if spill else 10_000, place=assignment.__getitem__)
    router = Router({what[0] for kind, _, what in events if kind == "correct"})
    for window, named in windows_of(events, cuts):
        partitions.add(router.route(window, named))
    return table_of(partitions)


assignments = st.lists(st.integers(0, 3), min_size=len(CHAINS), max_size=len(CHAINS)).map(
    lambda parts: dict(zip(CHAINS, parts, strict=True))
)


@settings(max_examples=400, deadline=None)
@given(
    events=histories(),
    cuts=st.lists(st.integers(0, 25), max_size=6),
    assignment=assignments,
    spill=st.booleans(),
)
def test_folding_chain_by_chain_leaves_the_rows_the_window_fold_leaves(
    events: list[Event], cuts: list[int], assignment: dict[Chain, int], spill: bool
) -> None:
    assert by_chain(events, cuts, assignment, spill) == folded(events, [])


def test_a_correction_of_a_statement_not_named_before_the_fold_is_refused() -> None:
    # The fold keeps the fields of the statements correction_targets named, and only those:
    # a correction of any other would be resolved against nothing, so it must not pass.
    router = Router(set())
    correction: Any = ("correct", 1, ("s1", lambda f: None))
    with pytest.raises(DamagedDatabase, match="s1"):
        list(router.route([correction], {"s1"}))


def test_partitions_hand_back_their_operations_in_log_order_spilled_or_not() -> None:
    ops = [(ADD, i, Fields(f"s{i}", "p", "a", "assert", i, i, None, None)) for i in range(7)] + [
        (REMOVE, 9, "s3")
    ]
    for buffer in (1, 3, 100):
        partitions = Partitions(2, buffer=buffer)
        partitions.add((("p", "a"), op) for op in ops)
        got = [op for i in range(2) for op in partitions.read(i)]
        assert got == ops
        partitions.close()
