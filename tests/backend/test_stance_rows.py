"""The stance rows of projection v2, on SQLite and PostgreSQL: every faster path the projection
takes equals the reference fold, each event changes O(1) rows, chunked and atomic imports leave
the same rows, and ``verify`` finds any change to a derived table.
"""

from __future__ import annotations

import contextlib
import io
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from ledger import (
    CorrectionMade,
    Event,
    Ledger,
    NotFound,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)
from ledger.jsonl.exporter import dumps, to_record
from projections import fold as reference
from projections.beliefs import Verdict
from projections.tables import (
    OPEN,
    belief_checkpoint,
    belief_propositions,
    belief_sources,
    belief_stances,
    key_of,
)
from projections.timeline import intervals
from tests.backend.test_projection_properties import Built, built, scenarios
from tests.conftest import Databases, FakeClock
from tests.helpers import basics, derived_rows, statement
from tests.strategies import flatten, histories, instants

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Scenario = tuple[list[list[Event]], list[bool]]


def fold_verdicts(b: Built, as_of: datetime, known_at: datetime) -> dict[str, Verdict]:
    """The fold's verdict on every proposition known at ``known_at``."""
    events = list(b.ledger.read())
    out = {}
    for proposition in b.propositions:
        with contextlib.suppress(NotFound):
            out[proposition] = reference.believed(
                events, proposition, as_of=as_of, known_at=known_at
            ).verdict
    return out


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_every_proposition_judged_in_one_pass_agrees_with_the_fold(
    databases: Databases, scenario: Scenario, data: st.DataObject
) -> None:
    with built(databases, *scenario) as b:
        as_of = data.draw(instants())
        known_at = data.draw(st.sampled_from(b.known_ats()))
        assert b.ledger.projection.verdicts_at(as_of, known_at) == fold_verdicts(b, as_of, known_at)


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_a_timeline_holds_the_folds_verdict_from_each_interval_on(
    databases: Databases, scenario: Scenario, data: st.DataObject
) -> None:
    with built(databases, *scenario) as b:
        known_at = data.draw(st.sampled_from(b.known_ats()))
        events = list(b.ledger.read())
        for proposition in b.propositions:
            try:
                timeline = intervals(b.ledger.projection, proposition, known_at)
            except NotFound:
                continue
            for before, interval in zip([None, *timeline], timeline, strict=False):
                at_start = reference.believed(
                    events, proposition, as_of=interval.valid_from, known_at=known_at
                )
                assert at_start.verdict == interval.verdict
                if before is not None:
                    assert before.verdict != interval.verdict
                    assert before.valid_to == interval.valid_from


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_diff_names_exactly_the_propositions_whose_status_or_estimates_changed(
    databases: Databases, scenario: Scenario, data: st.DataObject
) -> None:
    with built(databases, *scenario) as b:
        a, z = sorted((data.draw(instants()), data.draw(instants())))
        known_at = b.recorded[-1]
        before, after = fold_verdicts(b, a, known_at), fold_verdicts(b, z, known_at)
        expected = sorted(
            p
            for p in after
            if (before[p].status, before[p].estimates) != (after[p].status, after[p].estimates)
        )
        changes = b.ledger.diff(a, z, known_at=known_at)
        assert [c.proposition for c in changes] == expected
        for change in changes:  # what took effect in between: the whole timeline's, cut
            assert change.because == tuple(
                cause
                for interval in intervals(b.ledger.projection, change.proposition, known_at)
                if a < interval.valid_from <= z
                for cause in interval.because
            )
            assert (change.before.verdict, change.after.verdict) == (
                before[change.proposition],
                after[change.proposition],
            )


# -- each event changes O(1) rows ------------------------------------------------------------


def stance_rows(ledger: Ledger) -> set[tuple[object, ...]]:
    with ledger.store.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(select(belief_stances))}


def test_a_statement_changes_at_most_three_rows_however_hot_its_proposition(
    ledger: Ledger,
) -> None:
    sources = [f"s{i}" for i in range(12)]
    ledger.append([*basics(), *(SourceRegistered(s, s, "media") for s in sources)])
    day = datetime(2024, 1, 1)
    for i in range(240):  # 20 statements from each source, one transaction each
        stance = "assert" if i % 3 else "deny"
        when = (day + timedelta(days=i)).date().isoformat()
        ledger.append([statement(f"x{i}", sources[i % 12], stance, when, value=i, unit="men")])
    before = stance_rows(ledger)
    # Late, back-dated, with a quantity: the costliest kind of statement.
    ledger.append([statement("late", "s3", "assert", "2024-03-15", value=1, unit="men")])
    after = stance_rows(ledger)
    assert len(after - before) <= 3  # its own row, its predecessor's new version, a quantity's
    assert len(before - after) <= 2  # the versions closed
    assert len(after) <= 2 * 241  # never more than two versions per statement here


# -- chunked and atomic imports ----------------------------------------------------------------


def example_file() -> str:
    with open("examples/north-korea-troops.jsonl", encoding="utf-8") as f:
        return f.read()


def imported(databases: Databases, *, chunk_size: int | None, step: timedelta) -> Ledger:
    lg = Ledger.open(databases.new_url(), clock=FakeClock(step=step))
    if chunk_size is None:
        lg.import_jsonl(io.StringIO(example_file()), atomic=True)
    else:
        lg.import_jsonl(io.StringIO(example_file()), chunk_size=chunk_size)
    return lg


def _in_force(lg: Ledger) -> list[tuple[object, ...]]:
    """The stance rows in force, without their transaction times (which differ: a chunked
    import is several transactions, each recorded after the last)."""
    c = belief_stances.c
    columns = [col for col in belief_stances.c if col.name not in ("tx_from", "tx_to")]
    with lg.store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*columns).where(c.tx_to == OPEN)))


@pytest.mark.parametrize("chunk_size", [1, 7, 40])
@pytest.mark.parametrize("step", [timedelta(0), timedelta(seconds=1)])
def test_chunked_imports_leave_the_same_rows_in_force_and_answers_as_an_atomic_one(
    databases: Databases, chunk_size: int, step: timedelta
) -> None:
    atomic = imported(databases, chunk_size=None, step=step)
    chunked = imported(databases, chunk_size=chunk_size, step=step)
    try:
        assert_alike(chunked, atomic, ("2024-10-20", "2024-11-05", "2025-05-01"))
    finally:
        atomic.close()
        chunked.close()


def assert_alike(chunked: Ledger, atomic: Ledger, dates: tuple[str, ...]) -> None:
    """The same rows in force, the same propositions, the same answers at each of ``dates``."""
    assert _in_force(chunked) == _in_force(atomic)
    assert [p.proposition_id for p in chunked.propositions()] == [
        p.proposition_id for p in atomic.propositions()
    ]
    for as_of in dates:
        assert [b.verdict for b in chunked.beliefs(as_of=as_of)] == [
            b.verdict for b in atomic.beliefs(as_of=as_of)
        ]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(), chunk_size=st.integers(min_value=1, max_value=6))
def test_chunked_and_atomic_imports_of_any_history_leave_the_same_rows_in_force_and_answers(
    databases: Databases, history: list[list[Event]], chunk_size: int
) -> None:
    text = "".join(dumps(to_record(event)) + "\n" for event in flatten(history))
    atomic = Ledger.open(databases.new_url(), clock=FakeClock())
    chunked = Ledger.open(databases.new_url(), clock=FakeClock())
    try:
        atomic.import_jsonl(io.StringIO(text), atomic=True)
        chunked.import_jsonl(io.StringIO(text), chunk_size=chunk_size)
        assert_alike(chunked, atomic, ("2000-01-01", "2024-10-20", "2030-01-01"))
    finally:
        atomic.close()
        chunked.close()


# -- verify proves the derived tables ----------------------------------------------------------

_TABLES = {
    "belief_stances": belief_stances,
    "belief_sources": belief_sources,
    "belief_propositions": belief_propositions,
    "belief_checkpoint": belief_checkpoint,
}


@st.composite
def damages(draw: st.DrawFn) -> tuple[str, str, int]:
    """A table, a change (delete a row, change a column, add a copy), and which row."""
    table = draw(st.sampled_from(sorted(_TABLES)))
    columns = [c.name for c in _TABLES[table].columns]
    # A copy of the checkpoint under another name is no projection's checkpoint: nothing reads
    # it, and nothing any answer gives depends on it.
    copies = [] if table == "belief_checkpoint" else ["duplicate"]
    kind = draw(st.sampled_from(["delete", *copies, *columns]))
    return table, kind, draw(st.integers(min_value=0, max_value=10_000))


def _changed(value: object) -> object:
    if value is None:
        return 7
    if isinstance(value, int):
        return value + 1
    text = str(value)
    return text[:-1] + "x" if len(text) >= 64 else text + "x"  # a hash keeps its column's width


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(damage=damages())
def test_verify_finds_any_single_row_change_to_a_derived_table_and_rebuild_repairs_it(
    databases: Databases, damage: tuple[str, str, int]
) -> None:
    table_name, kind, which = damage
    table = _TABLES[table_name]
    with Ledger.open(databases.new_url(), clock=FakeClock()) as lg:
        lg.import_jsonl(io.StringIO(example_file()))
        assert lg.verify().ok
        keys = [c.name for c in key_of(table)]
        with lg.store.engine.begin() as conn:
            rows = conn.execute(select(table).order_by(*key_of(table))).all()
            row = rows[which % len(rows)]._asdict()
            where = " AND ".join(f"{k} = :k_{k}" for k in keys)
            params = {f"k_{k}": row[k] for k in keys}
            if kind == "delete":
                conn.execute(text(f"DELETE FROM {table_name} WHERE {where}"), params)
            elif kind == "duplicate":
                copy = dict(row)
                if "tx_from" in copy:
                    copy["tx_from"] -= 1
                else:
                    copy[keys[0]] = str(copy[keys[0]]) + "-copy"
                conn.execute(table.insert().values(**copy))
            else:
                new = _changed(row[kind])
                conn.execute(
                    text(f"UPDATE {table_name} SET {kind} = :new WHERE {where}"),
                    {"new": new, **params},
                )
        report = lg.verify()
        assert not report.ok
        named = "checkpoint" if table is belief_checkpoint else table_name
        assert named in str(report.problem)
        lg.rebuild()
        assert lg.verify().ok


def test_factledger_verify_exits_1_and_names_the_proposition_of_an_edited_stance_row(
    databases: Databases,
) -> None:
    from tests.cli.conftest import run  # noqa: PLC0415 - the CLI's runner, for this one test

    url = databases.new_url()
    with Ledger.open(url) as lg:
        lg.import_jsonl(io.StringIO(example_file()))
        with lg.store.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE belief_stances SET stance = 'deny' "
                    "WHERE statement_id = 'kcna-confirms-russia-2025-04-28'"
                )
            )
    result = run(["--db", url, "verify"])
    assert result.exit_code == 1
    assert "belief_stances" in result.output
    assert "dprk-troops-in-russia" in result.output
    assert "factledger rebuild" in result.output
    assert run(["--db", url, "rebuild"]).exit_code == 0
    assert run(["--db", url, "verify"]).exit_code == 0


def test_a_dropped_derived_table_is_reported_as_damage_not_raised(databases: Databases) -> None:
    with Ledger.open(databases.new_url()) as lg:
        lg.import_jsonl(io.StringIO(example_file()))
        with lg.store.engine.begin() as conn:
            conn.execute(text("DROP TABLE belief_stances"))
        report = lg.verify()
        assert not report.ok
        assert "derived tables damaged" in str(report.problem)
        assert "belief_stances" in str(report.problem)


@pytest.mark.parametrize("count", [3, 8, 9, 20])
def test_many_retractions_and_no_comments_are_all_read_when_the_policy_asks(
    ledger: Ledger, count: int
) -> None:
    """An answer reads a few retractions and no-comments in its own statement and the rest on
    demand: whichever way, the verdict is the fold's."""
    sources = [SourceRegistered(f"r{i}", f"R{i}", "media") for i in range(count)]
    ledger.append([*basics(), *sources])
    for i in range(count):
        day = f"2024-01-{i + 1:02d}"
        ledger.append([statement(f"a{i}", f"r{i}", "assert", day)])
        ledger.append([statement(f"x{i}", f"r{i}", "retract", day)])
    ledger.append([statement(f"n{i}", f"r{i}", "no_comment", "2024-02-01") for i in range(count)])
    events = list(ledger.read())
    for as_of in ("2023-12-31", "2024-01-05", "2024-03-01"):
        got = ledger.believed("troops", as_of=as_of)
        want = reference.believed(events, "troops", as_of=got.as_of, known_at=got.known_at)
        assert got.verdict == want.verdict
    final = ledger.believed("troops", as_of="2024-03-01")
    assert final.status.value == "retracted"
    assert len(final.decisive) == count
    ledger.append([PropositionDefined("quiet", "Nobody will say")])
    ledger.append(
        [StatementMade(f"q{i}", f"r{i}", "quiet", "no_comment", "2024-02-02") for i in range(count)]
    )
    quiet = ledger.believed("quiet", as_of="2024-03-01")
    assert quiet.explanation == f"unknown: no source takes a stance ({count} declined to comment)"


def test_appends_after_a_correction_that_changes_nothing_leave_the_rows_a_rebuild_leaves(
    ledger: Ledger,
) -> None:
    # Found by review (session 7): the correction (a source set to the one it had) read its
    # statement by id into the append's batch, which relinked it past the retraction it had
    # not read; the quantity stood again after the retraction, and verify said TAMPERED.
    ledger.append(basics())
    ledger.append(
        [
            statement("s1", when="2024-10-01", value=100, unit="troops"),
            statement("s2", stance="retract", when="2024-10-02"),
            statement("s3", when="2024-10-04"),
        ]
    )
    ledger.append(
        [
            CorrectionMade("c1", "s1", "a typo in the note", changes={"source": "kr-nis"}),
            statement("s4", when="2024-10-06", value=200, unit="troops"),
        ]
    )
    appended = derived_rows(ledger)
    assert ledger.verify().ok
    ledger.rebuild()
    assert derived_rows(ledger) == appended
    got = ledger.believed("troops", as_of="2024-10-05")
    want = reference.believed(ledger.read(), "troops", as_of=got.as_of, known_at=got.known_at)
    assert got == want
