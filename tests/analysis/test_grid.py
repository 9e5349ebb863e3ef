"""The belief grid: its dates, and that every cell is exactly what ``believed()`` answers for
that proposition, date and known_at, on random ledgers (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Event, InvalidRecord, Ledger, NotFound
from ledger.analysis import belief_grid, grid_dates
from ledger.analysis.grid import COLUMNS
from tests.analysis.conftest import FOCUS, Story
from tests.conftest import Databases, FakeClock
from tests.strategies import grid_days, histories

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_grid_dates_by_day_week_and_month() -> None:
    assert grid_dates("2024-10-30", "2024-11-02", "day") == [
        date(2024, 10, 30),
        date(2024, 10, 31),
        date(2024, 11, 1),
        date(2024, 11, 2),
    ]
    assert grid_dates(date(2024, 10, 1), date(2024, 10, 22), "week") == [
        date(2024, 10, 1) + timedelta(days=7 * i) for i in range(4)
    ]
    # months keep the day of the month, or the month's last day when it is shorter
    assert grid_dates("2024-01-31", "2024-05-01", "month") == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    assert grid_dates("2024-10-18", "2024-10-18") == [date(2024, 10, 18)]


@pytest.mark.parametrize(
    ("start", "end", "every"),
    [
        ("2024-10-18", "2024-10-01", "day"),
        ("2024-10-01", "2024-10-18", "fortnight"),
        ("2024-10-01", "18 October", "day"),
        ("0001-01-01", "9999-12-31", "day"),
    ],
)
def test_grid_dates_refuses_what_makes_no_grid(start: str, end: str, every: str) -> None:
    with pytest.raises(InvalidRecord):
        grid_dates(start, end, every)


def test_the_grid_takes_one_projection_pass_per_date(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = grid_dates("2024-10-01", "2025-05-01", "week")
    calls: list[datetime] = []
    real = story.ledger.projection.verdicts_at

    def counted(as_of: datetime, known_at: datetime, *policy: object) -> dict[str, object]:
        calls.append(as_of)
        return real(as_of, known_at, *policy)  # type: ignore[arg-type, return-value]

    def refuse(*_args: object, **_kw: object) -> None:
        raise AssertionError("the grid must not ask believed() cell by cell")

    monkeypatch.setattr(story.ledger.projection, "verdicts_at", counted)
    monkeypatch.setattr(story.ledger, "believed", refuse)
    cells = belief_grid(story.ledger, days)
    assert len(calls) == len(days)
    assert len(cells) == len(days) * len(story.ledger.propositions())


def test_grid_rows_have_one_time_form(story: Story) -> None:
    cells = belief_grid(story.ledger, ["2024-11-01"], propositions=[FOCUS])
    (row,) = [c.to_row() for c in cells]
    assert list(row) == list(COLUMNS)
    assert row["date"] == "2024-11-01"
    assert row["as_of"] == "2024-11-01T23:59:59.999999Z"
    assert row["known_at"].endswith("Z") and len(row["known_at"]) == len(row["as_of"])
    assert row["status"] == story.ledger.believed(FOCUS, as_of="2024-11-01").status.value


def test_grid_of_an_unknown_proposition_is_not_found(story: Story) -> None:
    with pytest.raises(NotFound):
        belief_grid(story.ledger, ["2024-11-01"], propositions=["no-such-thing"])


@PROPERTY
@given(history=histories(), days=grid_days(), data=st.data())
def test_every_cell_is_what_believed_answers(
    databases: Databases, history: list[list[Event]], days: list[date], data: st.DataObject
) -> None:
    clock = FakeClock(step=timedelta(0))
    recorded: list[datetime] = []
    with Ledger.open(databases.new_url(), clock=clock) as lg:
        for batch in history:
            clock.now += timedelta(seconds=1)
            lg.append(batch)
            recorded.append(clock.now)
        known_at = data.draw(
            st.sampled_from([*recorded, recorded[0] - timedelta(microseconds=1)]) | st.none(),
            label="known_at",
        )
        cells = belief_grid(lg, days, known_at=known_at)
        k = known_at or clock.now
        defined = sorted(p.proposition_id for p in lg.propositions(known_at=k))
        assert len(cells) == len(days) * len(defined)
        for i, when in enumerate(days):
            row = cells[i * len(defined) : (i + 1) * len(defined)]
            assert [c.proposition for c in row] == defined
            for cell in row:
                assert cell.known_at == k.astimezone(UTC)
                belief = lg.believed(cell.proposition, as_of=when, known_at=k)
                assert cell.as_of == belief.as_of.astimezone(UTC)
                assert cell.verdict == belief.verdict
