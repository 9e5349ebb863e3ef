"""Properties of the belief projections, for random histories, on SQLite and PostgreSQL.

The reference fold is the oracle: whatever the history (back-dated statements, corrections,
equal timestamps, batches sharing one recorded_at), the materialized projection answers exactly
as the fold does, for any (as_of, known_at).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Event, Ledger, NotFound, PropositionDefined, RecordedEvent
from projections import fold as reference
from projections.beliefs import Verdict
from tests.conftest import Databases, FakeClock
from tests.helpers import derived_rows
from tests.strategies import histories, instants

ONE_US = timedelta(microseconds=1)
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Built:
    """A ledger with a history appended, and when each batch was recorded."""

    def __init__(self, ledger: Ledger, clock: FakeClock, recorded: list[datetime]):
        self.ledger = ledger
        self.clock = clock
        self.recorded = recorded
        self.propositions = sorted(
            {
                e.event.proposition_id
                for e in ledger.read()
                if isinstance(e.event, PropositionDefined)
            }
        )

    def known_ats(self) -> list[datetime]:
        """Interesting transaction times: each batch's instant, and just before and after it."""
        times = {t + d for t in self.recorded for d in (-ONE_US, timedelta(0), ONE_US)}
        return sorted(times)


@contextmanager
def built(
    databases: Databases, history: list[list[Event]], advances: list[bool]
) -> Iterator[Built]:
    """Append ``history`` batch by batch; a batch whose advance is False shares the previous
    batch's recorded_at (two transactions in the same microsecond)."""
    clock = FakeClock(step=timedelta(0))
    recorded = []
    with Ledger.open(databases.new_url(), clock=clock) as ledger:
        for batch, advance in zip(history, advances, strict=True):
            if advance:
                clock.now += timedelta(seconds=1)
            ledger.append(batch)
            recorded.append(clock.now)
        yield Built(ledger, clock, recorded)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[list[Event]], list[bool]]:
    history = draw(histories())
    advances = draw(st.lists(st.booleans(), min_size=len(history), max_size=len(history)))
    return history, advances


def answer(
    events: list[RecordedEvent], proposition: str, as_of: datetime, known_at: datetime
) -> Verdict | None:
    """The reference fold's verdict, or None where the proposition did not exist yet."""
    try:
        return reference.believed(events, proposition, as_of=as_of, known_at=known_at).verdict
    except NotFound:
        return None


def projected(
    ledger: Ledger, proposition: str, as_of: datetime, known_at: datetime
) -> Verdict | None:
    try:
        return ledger.believed(proposition, as_of=as_of, known_at=known_at).verdict
    except NotFound:
        return None


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_the_materialized_projection_agrees_with_the_reference_fold(
    databases: Databases, scenario: tuple[list[list[Event]], list[bool]], data: st.DataObject
) -> None:
    with built(databases, *scenario) as b:
        events = list(b.ledger.read())
        queries = data.draw(
            st.lists(st.tuples(instants(), st.sampled_from(b.known_ats())), min_size=1, max_size=6)
        )
        for as_of, known_at in queries:
            for proposition in b.propositions:
                expected = answer(events, proposition, as_of, known_at)
                assert projected(b.ledger, proposition, as_of, known_at) == expected


@PROPERTY
@given(scenario=scenarios())
def test_incremental_catch_up_equals_a_full_rebuild(
    databases: Databases, scenario: tuple[list[list[Event]], list[bool]]
) -> None:
    with built(databases, *scenario) as b:
        incremental = derived_rows(b.ledger)
        b.ledger.rebuild()
        assert derived_rows(b.ledger) == incremental


@PROPERTY
@given(scenario=scenarios())
def test_re_appending_the_same_events_changes_nothing(
    databases: Databases, scenario: tuple[list[list[Event]], list[bool]]
) -> None:
    history, _ = scenario
    with built(databases, *scenario) as b:
        head, rows = b.ledger.head(), derived_rows(b.ledger)
        b.clock.now += timedelta(days=1)
        for batch in history:
            assert b.ledger.append(batch).appended == ()
        assert b.ledger.head() == head
        assert derived_rows(b.ledger) == rows


@PROPERTY
@given(scenario=scenarios(), as_ofs=st.lists(instants(), min_size=1, max_size=3))
def test_appending_later_never_changes_an_answer_for_an_earlier_known_at(
    databases: Databases, scenario: tuple[list[list[Event]], list[bool]], as_ofs: list[datetime]
) -> None:
    history, advances = scenario
    clock = FakeClock(step=timedelta(0))
    seen: dict[tuple[str, datetime, datetime], Verdict | None] = {}
    with Ledger.open(databases.new_url(), clock=clock) as ledger:
        names: set[str] = set()
        for batch, advance in zip(history, advances, strict=True):
            if advance:
                clock.now += timedelta(seconds=1)
            ledger.append(batch)
            names |= {e.proposition_id for e in batch if isinstance(e, PropositionDefined)}
            for proposition in names:
                for as_of in as_ofs:
                    seen[proposition, as_of, clock.now] = projected(
                        ledger, proposition, as_of, clock.now
                    )
            clock.now += timedelta(seconds=1)  # answers were given strictly before what follows
        for (proposition, as_of, known_at), verdict in seen.items():
            assert projected(ledger, proposition, as_of, known_at) == verdict
