"""The rebuild's own routing loop (``Partitions.route``) puts into each partition what
``Router.route`` gives, and the fold of its partitions leaves the rows the window fold leaves.

A rebuild routes statements whose fields are plain tuples (``read_window(plain=True)``) with
:meth:`projections.chainfold.Partitions.route`, one loop for routing and placing, which spills
a window's share of each partition at the window's end. ``tests/unit/test_chainfold.py`` checks
the fold of ``Router.route``'s operations against the window fold; here the same random
histories (statements and corrections on four chains) go through the rebuild's loop, with any
windows, any assignment of chains to partitions (or the hash) and any buffer.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.chainfold import Partitions, Router
from projections.stances import Chain
from tests.unit.test_chainfold import CHAINS, assignments, by_chain, table_of, windows_of
from tests.unit.test_stances import Event, Table, folded, histories


def plain(events: list[Event]) -> list[Event]:
    """The events as a rebuild reads them: a statement's fields a plain tuple."""
    return [(kind, at, tuple(what) if kind == "add" else what) for kind, at, what in events]


def routed(
    events: list[Event], cuts: list[int], assignment: dict[Chain, int] | None, buffer: int
) -> tuple[list[list[Any]], Table]:
    """Each partition's operations and the rows of their fold, routed by the rebuild's loop
    (``assignment`` None: chains placed by their hash, in three partitions)."""
    parts = 3 if assignment is None else max(assignment.values()) + 1
    place = None if assignment is None else assignment.__getitem__
    partitions = Partitions(parts, buffer=buffer, place=place)
    router = Router({what[0] for kind, _, what in events if kind == "correct"})
    for window, named in windows_of(events, cuts):
        partitions.route(router, window, named)
    contents: list[list[Any]] = []
    return contents, table_of(partitions, contents)


@settings(max_examples=300, deadline=None)
@given(
    events=histories(),
    cuts=st.lists(st.integers(0, 25), max_size=6),
    assignment=st.none() | assignments,
    buffer=st.sampled_from([1, 2, 10_000]),
)
def test_the_rebuilds_routing_loop_leaves_the_rows_the_window_fold_leaves(
    events: list[Event], cuts: list[int], assignment: dict[Chain, int] | None, buffer: int
) -> None:
    contents, table = routed(plain(events), cuts, assignment, buffer)
    assert table == folded(events, [])
    if assignment is not None:
        # operation for operation what Router.route gives, spilled or not
        parts = max(assignment.values()) + 1
        expected = Partitions(parts, buffer=10_000, place=assignment.__getitem__)
        router = Router({what[0] for kind, _, what in events if kind == "correct"})
        start = 0
        for cut in [*sorted(set(cuts)), len(events)]:
            if cut > start:
                window = plain(events)[start:cut]
                expected.add(router.route(window, {w[0] for k, _, w in window if k == "correct"}))
                start = cut
        assert contents == [list(expected.read(i)) for i in range(parts)]
        assert table == by_chain(events, cuts, assignment, spill=False)


def test_chains_share_nothing_across_partitions() -> None:
    # every chain lands in exactly one partition, by hash too
    partitions = Partitions(3)
    router = Router(set())
    ops: list[Event] = [
        ("add", i, (f"s{i}", p, s, "assert", i, i, None, None))
        for i, (p, s) in enumerate(CHAINS * 5)
    ]
    partitions.route(router, ops, set())
    seen: dict[Chain, int] = {}
    for i in range(3):
        for _, _, f in partitions.read(i):
            assert seen.setdefault((f[1], f[2]), i) == i
    assert len(seen) == len(CHAINS)
    partitions.close()
