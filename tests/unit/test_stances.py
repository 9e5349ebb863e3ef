"""The stance-row maintenance of ``projections.stances``, without a database.

A table is modelled as a dict keyed like ``belief_stances`` (statement, tx_from). Events are
folded in windows exactly as ``projections.materialized`` folds them (read the correction
targets by id and each touched chain from its ``since`` on, apply, write back). For random
statements and corrections on a few chains, the rows visible at any (as_of, known_at) must hold
each source's live stance and standing quantity exactly as a plain replay says, and how the
events are cut into windows must not change a single row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.interval_index import ancestors, fork
from projections.stances import (
    COLUMNS,
    NO_COMMENT,
    RETRACT,
    REVISED,
    Batch,
    Fields,
    Version,
    plan_ops,
    revised_values,
)
from projections.tables import OPEN

Table = dict[tuple[str, int], dict[str, Any]]
Event = tuple[str, int, Any]  # as plan_ops takes them

STANCES = ("assert", "deny", "confirm", "refute", RETRACT, NO_COMMENT)


def fold(table: Table, window: list[Event]) -> None:
    targets = {what[0] for kind, _, what in window if kind == "correct"}
    stored = {
        sid: Version.from_row(tuple(r[c] for c in COLUMNS))
        for (sid, _), r in table.items()
        if sid in targets and r["tx_to"] == OPEN
    }
    plan = plan_ops(window, {sid: v.fields for sid, v in stored.items()})
    chained = [
        Version.from_row(tuple(r[c] for c in COLUMNS))
        for r in table.values()
        if r["tx_to"] == OPEN
        and (r["proposition_id"], r["source_id"]) in plan.since
        and r["reach_to"] >= plan.since[(r["proposition_id"], r["source_id"])]
    ]
    batch = Batch(plan, [*stored.values(), *chained])
    batch.apply()
    batch.finish()
    for key in batch.deleted:
        del table[key]
    for row in batch.updated.values():
        revised = revised_values(row)
        key = (revised[-2], revised[-1])
        assert key in table
        table[key].update(zip(REVISED, revised[:-2], strict=True))
    for row in batch.inserted:
        values = dict(zip(COLUMNS, row, strict=True))
        key = (values["statement_id"], values["tx_from"])
        assert key not in table, f"two versions of {key}"
        table[key] = values


def replay(events: list[Event], known_at: int) -> dict[str, Fields]:
    """Every standing statement as corrected by ``known_at``."""
    state: dict[str, Fields | None] = {}
    for kind, at, what in events:
        if at > known_at:
            break
        if kind == "add":
            state[what.statement_id] = what
        else:
            sid, corrected = what
            if state.get(sid) is not None:
                state[sid] = corrected(state[sid])
    return {sid: f for sid, f in state.items() if f is not None}


def expected(
    events: list[Event], as_of: int, known_at: int
) -> tuple[dict[Any, str], dict[Any, str]]:
    """Live stance and standing quantity per chain, by a plain replay in order."""
    live: dict[Any, str] = {}
    quantity: dict[Any, str] = {}
    said = sorted(replay(events, known_at).values(), key=lambda f: (f.valid_from, f.position))
    for f in said:
        if f.valid_from > as_of or f.stance == NO_COMMENT:
            continue
        chain = (f.proposition_id, f.source_id)
        if f.stance == RETRACT:
            live.pop(chain, None)
            quantity.pop(chain, None)
            continue
        live[chain] = f.statement_id
        if f.value is not None:
            quantity[chain] = f.statement_id
    return live, quantity


def projected(table: Table, as_of: int, known_at: int) -> tuple[dict[Any, str], dict[Any, str]]:
    live: dict[Any, str] = {}
    quantity: dict[Any, str] = {}
    for r in table.values():
        if not (r["tx_from"] <= known_at < r["tx_to"]):
            continue
        if not (r["valid_from"] <= as_of < r["reach_to"]):
            continue
        chain = (r["proposition_id"], r["source_id"])
        if r["valid_to"] > as_of and r["stance"] not in (RETRACT, NO_COMMENT):
            assert chain not in live, "two live stances from one source"
            live[chain] = r["statement_id"]
        if r["qty_to"] is not None and r["qty_to"] > as_of:
            assert chain not in quantity, "two standing quantities from one source"
            quantity[chain] = r["statement_id"]
    return live, quantity


# -- strategies --------------------------------------------------------------------------------

DAYS = st.integers(min_value=0, max_value=6)


def _fields(draw: st.DrawFn, sid: str, position: int) -> Fields:
    value = draw(st.one_of(st.none(), st.integers(0, 9).map(str)))
    stance = draw(st.sampled_from(STANCES))
    return Fields(
        sid,
        draw(st.sampled_from(["p", "q"])),
        draw(st.sampled_from(["a", "b"])),
        stance,
        position,
        draw(DAYS),
        value,
        None,
    )


def _corrector(draw: st.DrawFn) -> Callable[[Fields], Fields | None]:
    if draw(st.booleans()):
        return lambda _: None
    change = draw(st.sampled_from(["valid_from", "stance", "value", "source_id", "nothing"]))
    new: Any = {
        "valid_from": DAYS,
        "stance": st.sampled_from(STANCES),
        "value": st.one_of(st.none(), st.integers(0, 9).map(str)),
        "source_id": st.sampled_from(["a", "b"]),
        "nothing": st.none(),
    }[change]
    replacement = draw(new)
    if change == "nothing":
        return lambda f: f
    return lambda f: f._replace(**{change: replacement})


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = []
    at, made = 0, list[str]()
    for position in range(1, draw(st.integers(1, 25)) + 1):
        at += draw(st.sampled_from([0, 1, 1]))
        if made and draw(st.integers(0, 3)) == 0:
            events.append(("correct", at, (draw(st.sampled_from(made)), _corrector(draw))))
        else:
            sid = f"s{position}"
            made.append(sid)
            events.append(("add", at, _fields(draw, sid, position)))
    return events


def folded(events: list[Event], cuts: list[int]) -> Table:
    table: Table = {}
    start = 0
    for cut in [*sorted(set(cuts)), len(events)]:
        if cut > start:
            fold(table, events[start:cut])
            start = cut
    return table


@settings(max_examples=400, deadline=None)
@given(events=histories(), cuts=st.lists(st.integers(0, 25), max_size=6))
def test_rows_visible_at_any_time_hold_what_a_replay_says(
    events: list[Event], cuts: list[int]
) -> None:
    table = folded(events, cuts)
    times = sorted({at for _, at, _ in events} | {-1})
    for known_at in times:
        for as_of in range(-1, 8):
            assert projected(table, as_of, known_at) == expected(events, as_of, known_at)


@settings(max_examples=300, deadline=None)
@given(events=histories(), cuts=st.lists(st.integers(0, 25), max_size=6))
def test_how_the_events_are_cut_into_windows_changes_no_row(
    events: list[Event], cuts: list[int]
) -> None:
    assert folded(events, cuts) == folded(events, [])


@settings(max_examples=300, deadline=None)
@given(events=histories())
def test_every_row_sits_at_the_fork_node_of_its_period(events: list[Event]) -> None:
    for row in folded(events, []).values():
        assert row["reach_to"] == max(row["valid_to"], row["qty_to"] or row["valid_to"])
        assert row["node"] == fork(row["valid_from"], row["reach_to"])


@given(
    start=st.integers(-(2**60), 2**60),
    length=st.one_of(st.integers(0, 2**20), st.integers(0, 2**61), st.just(OPEN)),
    point=st.integers(-(2**60), 2**61),
)
def test_a_period_holds_an_instant_only_at_one_of_the_instants_ancestors(
    start: int, length: int, point: int
) -> None:
    end = min(start + length, OPEN)
    node = fork(start, end)
    left, right = ancestors(point)
    if start <= point < end:
        assert node in left or node in right
    # a query reads ancestors left of the point by their end, right of it by their start
    assert all(n < point + 2**62 for n in left)
    assert all(n >= point + 2**62 for n in right)


def test_a_correction_that_changes_nothing_leaves_the_rows_one_window_would() -> None:
    # Found by review (session 7): the no-op correction's statement, read by id into a batch
    # that touches its chain later in valid time, was relinked past the retraction the batch
    # had not read, and its quantity stood again after the retraction.
    def f(sid: str, pos: int, day: int, stance: str, value: str | None) -> Fields:
        return Fields(sid, "p", "a", stance, pos, day, value, None)

    events: list[Event] = [
        ("add", 1, f("s1", 1, 0, "assert", "1")),  # a quantity from day 0
        ("add", 1, f("s2", 2, 1, RETRACT, None)),  # retracted on day 1: the quantity ends
        ("add", 1, f("s3", 3, 3, "assert", None)),  # a stance without a quantity, day 3
        ("correct", 2, ("s1", lambda same: same)),  # a note: nothing the rules see
        ("add", 2, f("s4", 5, 5, "assert", "2")),  # a new quantity, day 5
    ]
    appended = folded(events, [3])  # as two appends would
    assert appended == folded(events, [])
    for as_of in range(-1, 8):
        assert projected(appended, as_of, 2) == expected(events, as_of, 2)
