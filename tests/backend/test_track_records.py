"""Track records (issue 13): what each source's word has been worth, without hindsight, on
SQLite and PostgreSQL.

The record computed from the projection's stance rows in one pass equals a deliberately plain
computation from the reference fold (a verdict and a scan per source and proposition); nothing
stated after the valid time D, or recorded after the known_at K, changes the record as of D
known at K; and the North Korea example gives the NIS its record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import (
    Event,
    Ledger,
    PropositionDefined,
    RecordedEvent,
    Reliability,
    Stance,
    StatementMade,
    Status,
)
from ledger.events import PolicySet, SourceRegistered
from ledger.times import end_of_day
from projections import fold as reference
from projections.rules import Evidence, Said
from projections.track import Call, Result, grade
from tests.backend.test_policy_records import policy_sets, with_policies
from tests.conftest import Databases, FakeClock
from tests.strategies import DAYS, dates, statements

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"
_SUPPORT = (Stance.ASSERT, Stance.CONFIRM)
_DENIAL = (Stance.DENY, Stance.REFUTE)


def plain_records(
    events: list[RecordedEvent], as_of: datetime, known_at: datetime
) -> dict[str, tuple[str, tuple[Call, ...]]]:
    """The definitions of docs/belief-rules.md, "Track records", computed the plain way from
    the reference fold: for every source and proposition, a scan of what it said. Each source's
    policy name and calls, by source."""
    state = reference.fold(e for e in events if e.recorded_at <= known_at)
    policy = reference.policy_of(state)
    out: dict[str, tuple[str, tuple[Call, ...]]] = {}
    for source in state.sources:
        calls = []
        for p in sorted(state.propositions):
            verdict = reference.verdict_of(state, p, as_of, policy)
            said = sorted(
                (
                    k.said()
                    for k in state.statements.values()
                    if k.proposition_id == p and not k.withdrawn and k.stated_at <= as_of
                ),
                key=lambda s: s.order,
            )
            mine = [s for s in said if s.source == source]
            if not mine:
                continue
            call = _plain_call(p, verdict.status, verdict.decisive, said, mine)
            if call is not None:
                calls.append(call)
        out[source] = (policy.name, tuple(calls))
    return out


def _plain_call(
    p: str, status: Status, decisive: tuple[str, ...], said: list[Said], mine: list[Said]
) -> Call | None:
    if status not in (Status.CONFIRMED, Status.REFUTED):
        live = Evidence.of(mine).live.get(mine[0].source)
        if live is None:
            return None
        return Call(p, Result.OPEN, live.stance, live.statement, live.stated_at)
    resolved_at = min(s.stated_at for s in said if s.statement in decisive)
    prior = [s for s in mine if s.stated_at < resolved_at]
    evidence = Evidence.of(prior)
    source = mine[0].source
    live = evidence.live.get(source)
    common = {"outcome": status, "resolved_at": resolved_at, "resolved_by": decisive}
    if live is None:
        stances = [s for s in prior if s.stance in (*_SUPPORT, *_DENIAL, Stance.RETRACT)]
        last = [s for s in stances if s.stance is not Stance.RETRACT]
        if not last or stances[-1].stance is not Stance.RETRACT:
            return None
        w = last[-1]
        return Call(p, Result.RETRACTED, w.stance, w.statement, w.stated_at, **common)  # type: ignore[arg-type]
    wanted = _SUPPORT if status is Status.CONFIRMED else _DENIAL
    right = live.stance in wanted
    agreeing = [s for s in prior if s.stance in wanted]
    first = agreeing[0] if right else None
    figure = next((s for s in said if s.statement in decisive and s.value is not None), None)
    q = evidence.quantities.get(source)
    estimate = error = None
    if figure is not None and q is not None and q.unit == figure.unit:
        estimate = q.value
        assert estimate is not None and figure.value is not None
        error = abs(estimate - figure.value) / figure.value if figure.value else None
    return Call(
        p,
        Result.RIGHT if right else Result.WRONG,
        live.stance,
        live.statement,
        live.stated_at,
        first_agreed_at=None if first is None else first.stated_at,
        lead_days=None if first is None else (resolved_at - first.stated_at) / timedelta(days=1),
        estimate=estimate,
        figure=None if estimate is None or figure is None else figure.value,
        unit=None if estimate is None or figure is None else figure.unit,
        error=error,
        **common,  # type: ignore[arg-type]
    )


def track(
    ledger: Ledger, as_of: datetime, known_at: datetime
) -> dict[str, tuple[str, tuple[Call, ...]]]:
    return {
        r.source: (r.policy, r.calls) for r in ledger.track_records(as_of=as_of, known_at=known_at)
    }


@contextmanager
def built(
    databases: Databases, history: list[list[Event]], advances: list[bool]
) -> Iterator[tuple[Ledger, FakeClock, list[datetime]]]:
    clock = FakeClock(step=timedelta(0))
    recorded = []
    with Ledger.open(databases.new_url(), clock=clock) as ledger:
        for batch, advance in zip(history, advances, strict=True):
            if advance:
                clock.now += timedelta(seconds=1)
            ledger.append(batch)
            recorded.append(clock.now)
        yield ledger, clock, recorded


@PROPERTY
@given(scenario=with_policies(), data=st.data())
def test_the_track_record_equals_the_plain_computation_from_the_fold(
    databases: Databases, scenario: tuple[list[list[Event]], list[bool]], data: st.DataObject
) -> None:
    with built(databases, *scenario) as (ledger, _, recorded):
        events = list(ledger.read())
        for _ in range(3):
            as_of = end_of_day(data.draw(dates()))
            known_at = data.draw(st.sampled_from(sorted(set(recorded))))
            plain = plain_records(events, as_of, known_at)
            assert track(ledger, as_of, known_at) == plain
            for source, (policy, calls) in plain.items():  # one source: only its propositions
                one = ledger.track_record(source, as_of=as_of, known_at=known_at)
                assert (one.policy, one.calls) == (policy, calls)


def _after(day: date) -> list[date]:
    return [d for d in DAYS if d > day]


@PROPERTY
@given(scenario=with_policies(), data=st.data())
def test_nothing_stated_after_d_or_recorded_after_k_changes_the_record(
    databases: Databases, scenario: tuple[list[list[Event]], list[bool]], data: st.DataObject
) -> None:
    with built(databases, *scenario) as (ledger, clock, _):
        day = data.draw(dates())
        as_of = end_of_day(day)
        known_at = ledger.head().recorded_at  # everything appended so far
        assert known_at is not None
        before = track(ledger, as_of, known_at)
        events = list(ledger.read())
        sources = [e.event.source_id for e in events if isinstance(e.event, SourceRegistered)]
        props = sorted(
            {e.event.proposition_id for e in events if isinstance(e.event, PropositionDefined)}
        )
        later_days = _after(day)
        # statements stated after D, recorded before the next K: the record as of D stays
        if later_days:
            clock.now += timedelta(seconds=1)
            stated_later = [
                StatementMade(
                    f"later-{i}",
                    data.draw(st.sampled_from(sources)),
                    data.draw(st.sampled_from(props)),
                    data.draw(st.sampled_from(Stance)),
                    datetime.combine(data.draw(st.sampled_from(later_days)), time(), tzinfo=UTC),
                    value=data.draw(st.none() | st.integers(0, 100)),
                )
                for i in range(data.draw(st.integers(1, 4)))
            ]
            ledger.append(stated_later)
            assert track(ledger, as_of, clock.now) == before
        # anything recorded after K (statements anywhere in time, a new policy): K's record stays
        clock.now += timedelta(seconds=1)
        anything = data.draw(
            st.lists(statements(sources, props), max_size=4, unique_by=lambda s: s.statement_id)
        )
        taken = {e.event.statement_id for e in events if isinstance(e.event, StatementMade)}
        # new statements only: an id already in the log would be an EventIdConflict
        anything = [
            s
            for s in anything
            if s.statement_id not in taken and not s.statement_id.startswith("later-")
        ]
        ledger.append([*anything, data.draw(policy_sets(sources, "recorded-after-k"))])
        assert track(ledger, as_of, known_at) == before


# -- the rule for grades, and the example -------------------------------------------------------


def test_the_grade_rule() -> None:
    assert grade(2, 0) is Reliability.F  # too few resolved to judge
    assert grade(3, 0) is Reliability.B  # all right, but too short a history for an A
    assert grade(10, 1) is Reliability.A
    assert grade(3, 1) is Reliability.B
    assert grade(2, 2) is Reliability.C
    assert grade(1, 3) is Reliability.D
    assert grade(0, 4) is Reliability.E


def test_the_north_korea_example_gives_the_nis_its_record(ledger: Ledger) -> None:
    ledger.import_jsonl(EXAMPLE)
    nis = ledger.track_record("kr-nis", as_of="2025-05-01")
    assert (nis.right, nis.wrong, nis.open) == (1, 0, 0)
    (call,) = nis.calls
    assert call.proposition == "dprk-troops-in-russia" and call.result is Result.RIGHT
    assert call.resolved_at == datetime(2025, 4, 26, tzinfo=UTC)  # the Russian General Staff
    assert call.first_agreed_at == datetime(2024, 10, 18, tzinfo=UTC)
    assert call.lead_days == 190.0 and nis.lead_days == 190.0
    assert nis.grade is Reliability.F and nis.given is Reliability.B  # one call: too few
    as_dict = nis.to_dict()
    assert (as_dict["right"], as_dict["lead_days"], as_dict["grade"]) == (1, 190.0, "F")
    # as of 2025-01-01 the question had no answer yet: the call is open
    early = ledger.track_record("kr-nis", as_of="2025-01-01")
    assert (early.right, early.wrong, early.open, early.lead_days) == (0, 0, 1, None)
    # the deniers were wrong; the most reliable come first
    records = ledger.track_records(as_of="2025-05-01")
    by_source = {r.source: r for r in records}
    assert by_source["kp-un-mission"].wrong == 2 and by_source["ru-gov"].wrong == 2
    assert records[0].source == "ua-president" and records[0].grade is Reliability.B
    assert [r.grade for r in records] == sorted(
        (r.grade for r in records), key=lambda g: "ABCDEF".index(g.value)
    )


def test_a_policy_changes_what_counts_as_resolved(ledger: Ledger) -> None:
    ledger.append(
        [
            SourceRegistered("opcw", "OPCW", "international_org"),
            SourceRegistered("uk-gov", "UK government", "government"),
            SourceRegistered("ru-mfa", "Russian foreign ministry", "government"),
        ]
    )
    ledger.append(
        [
            PropositionDefined("novichok-used", "A Novichok nerve agent was used"),
            StatementMade(
                "uk", "uk-gov", "novichok-used", "assert", "2018-03-12", value=1, unit="agents"
            ),
            StatementMade("ru", "ru-mfa", "novichok-used", "deny", "2018-03-13"),
            StatementMade(
                "opcw", "opcw", "novichok-used", "confirm", "2018-04-12", value=1, unit="agents"
            ),
        ]
    )
    assert ledger.track_record("uk-gov", as_of="2018-05-01").open == 1
    ledger.append([PolicySet("journalist-v1", authoritative_sources=["opcw"])])
    uk = ledger.track_record("uk-gov", as_of="2018-05-01")
    assert (uk.right, uk.policy, uk.quantity_error) == (1, "journalist-v1", 0.0)
    assert uk.calls[0].lead_days == 31.0
    assert ledger.track_record("ru-mfa", as_of="2018-05-01").wrong == 1
    what_if = ledger.track_record("uk-gov", as_of="2018-05-01", policy=PolicySet("defaults"))
    assert what_if.open == 1 and what_if.policy == "defaults"
