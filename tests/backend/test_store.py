"""The append-only store, specified once and run on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from ledger import (
    ConcurrencyConflict,
    CorrectionMade,
    DocumentRegistered,
    EventIdConflict,
    Ledger,
    StatementMade,
    UnknownReference,
)
from ledger.hashing import GENESIS
from tests.conftest import FakeClock
from tests.helpers import basics, drop_guards, raw, statement


def test_a_batch_gets_gapless_positions_and_a_linked_hash_chain(ledger: Ledger) -> None:
    result = ledger.append([*basics(), statement("s1"), statement("s2", "kcna", "deny")])

    positions = [e.position for e in result.appended]
    assert positions == [1, 2, 3, 4, 5]
    assert result.appended[0].prev_hash == GENESIS
    for before, after in zip(result.appended, result.appended[1:], strict=False):
        assert after.prev_hash == before.hash
    assert ledger.head().position == 5
    assert ledger.head().hash == result.appended[-1].hash
    assert ledger.verify().ok


def test_events_read_back_equal_to_what_was_appended(ledger: Ledger) -> None:
    appended = ledger.append([*basics(), statement("s1", value=1500, unit="troops")]).appended

    assert list(ledger.read()) == list(appended)


def test_recorded_at_comes_from_the_store_and_always_increases_between_writes(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.append(basics())
    clock.set(datetime(2020, 1, 1, tzinfo=UTC))  # the clock jumps back
    ledger.append([statement("s1")])

    times = [e.recorded_at for e in ledger.read()]
    assert times == sorted(times)
    # Not moved backwards: one microsecond past the last recorded time, so that nothing written
    # later can be recorded at an instant an answer was already given for.
    assert times[-1] == times[0] + timedelta(microseconds=1)


def test_one_batch_shares_one_recorded_at(ledger: Ledger) -> None:
    appended = ledger.append([*basics(), statement("s1")]).appended
    assert len({e.recorded_at for e in appended}) == 1


def test_reappending_identical_events_appends_nothing(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1")])
    head = ledger.head()

    again = ledger.append([*basics(), statement("s1")])

    assert again.appended == () and again.skipped == 4
    assert ledger.head() == head


def test_a_batch_mixing_new_and_known_events_appends_only_the_new(ledger: Ledger) -> None:
    ledger.append(basics())
    result = ledger.append([*basics(), statement("s1")])
    assert [e.event.key for e in result.appended] == ["s1"]
    assert result.skipped == 3


def test_the_same_id_with_different_content_is_refused(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1", value=1500, unit="troops")])
    head = ledger.head()

    with pytest.raises(EventIdConflict, match="'s1'"):
        ledger.append([statement("s2"), statement("s1", value=12000, unit="troops")])

    assert ledger.head() == head


def test_a_repeated_id_inside_one_batch_must_be_identical(ledger: Ledger) -> None:
    with pytest.raises(EventIdConflict):
        ledger.append([*basics(), statement("s1"), statement("s1", stance="deny")])
    assert ledger.head().position == 0


def test_a_statement_may_name_sources_registered_earlier_in_the_same_batch(
    ledger: Ledger,
) -> None:
    assert len(ledger.append([*basics(), statement("s1")]).appended) == 4


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (statement("s9", source="nobody"), "source"),
        (StatementMade("s9", "kr-nis", "no-such-prop", "assert", "2024-10-18"), "proposition"),
        (statement("s9", document_id="no-doc", quote="words"), "document"),
        (CorrectionMade("fix", "no-such-statement", "typo", withdraw=True), "corrects"),
    ],
)
def test_an_unknown_reference_names_its_field_and_appends_nothing(
    ledger: Ledger, event: StatementMade | CorrectionMade, field: str
) -> None:
    ledger.append(basics())
    head = ledger.head()

    with pytest.raises(UnknownReference) as info:
        ledger.append([statement("fine"), event])

    assert info.value.field == field
    assert ledger.head() == head


def test_a_reference_to_a_record_later_in_the_batch_is_refused(ledger: Ledger) -> None:
    source, other, prop = basics()
    with pytest.raises(UnknownReference):
        ledger.append([source, statement("s1", "kcna"), other, prop])


def test_a_correction_joins_the_stream_of_the_statement_it_corrects(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1")])
    fix = CorrectionMade("fix-1", "s1", "wrong date", changes={"stated_at": "2024-10-21"})

    recorded = ledger.append([fix]).appended[0]

    assert (recorded.stream_id, recorded.stream_version) == ("statement:s1", 2)
    assert [e.event for e in ledger.read(stream_id="statement:s1")] == [statement("s1"), fix]


def test_a_stale_expected_version_raises_a_typed_conflict(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1")])
    fix1 = CorrectionMade("fix-1", "s1", "typo", changes={"value": 3})
    fix2 = CorrectionMade("fix-2", "s1", "typo", changes={"value": 4})
    ledger.append([fix1], expected_versions={"statement:s1": 1})

    with pytest.raises(ConcurrencyConflict) as info:
        ledger.append([fix2], expected_versions={"statement:s1": 1})

    assert (info.value.expected, info.value.actual) == (1, 2)
    assert ledger.stream_version("statement:s1") == 2


def test_expecting_version_zero_means_the_stream_must_not_exist(ledger: Ledger) -> None:
    ledger.append(basics(), expected_versions={"source:kr-nis": 0})
    with pytest.raises(ConcurrencyConflict):
        ledger.append([statement("s1")], expected_versions={"source:kr-nis": 0})


def test_reads_by_position_range_stream_and_known_at(ledger: Ledger, clock: FakeClock) -> None:
    clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    ledger.append(basics())  # positions 1-3 at 2026-01-01
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    ledger.append([statement("s1"), statement("s2", "kcna", "deny")])  # 4-5 at 2026-02-01

    assert [e.position for e in ledger.read(after=2, until=4)] == [3, 4]
    assert [e.event.key for e in ledger.read(stream_id="statement:s2")] == ["s2"]
    assert [e.position for e in ledger.read(known_at="2026-01-15")] == [1, 2, 3]
    assert [e.position for e in ledger.read(known_at=datetime(2026, 2, 1, tzinfo=UTC))] == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_a_long_read_pages_through_the_log_in_order(ledger: Ledger) -> None:
    ledger.append([*basics(), *(statement(f"s{i}") for i in range(25))])
    read = list(ledger.store.read(page_size=4))
    assert [e.position for e in read] == list(range(1, 29))


def test_a_document_keeps_its_text_and_hash(ledger: Ledger) -> None:
    body = "KCNA: troops were sent on the order of Kim Jong-un. 조선중앙통신"
    doc = DocumentRegistered("004", "Title", hashlib.sha256(body.encode()).hexdigest(), text=body)
    ledger.append([doc])
    assert next(ledger.read()).event == doc


def test_the_database_refuses_update_and_delete_on_events(ledger: Ledger) -> None:
    ledger.append(basics())
    engine = ledger.store.engine
    for sql in ("UPDATE events SET payload = '{}'", "DELETE FROM events"):
        with pytest.raises(sa_exc.DBAPIError, match="append-only"):
            raw(engine, sql)
    if engine.dialect.name == "postgresql":
        with pytest.raises(sa_exc.DBAPIError, match="append-only"):
            raw(engine, "TRUNCATE events")
    assert ledger.verify().ok and ledger.head().position == 3


def test_verify_names_the_exact_position_of_an_edited_payload(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1", value=1500, unit="troops"), statement("s2")])
    drop_guards(ledger.store.engine)
    raw(
        ledger.store.engine,
        "UPDATE events SET payload = REPLACE(payload, '1500', '15000') WHERE position = 4",
    )

    report = ledger.verify()

    assert not report.ok
    assert report.position == 4
    assert "edited" in (report.problem or "")


def test_verify_catches_an_edited_stated_at(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2")])
    drop_guards(ledger.store.engine)
    raw(ledger.store.engine, "UPDATE events SET stated_at = stated_at + 1 WHERE position = 5")
    assert ledger.verify().position == 5


def test_verify_catches_a_deleted_row(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2")])
    drop_guards(ledger.store.engine)
    raw(ledger.store.engine, "DELETE FROM events WHERE position = 3")
    report = ledger.verify()
    assert (report.ok, report.position) == (False, 4)


def test_verify_catches_two_swapped_rows(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2")])
    drop_guards(ledger.store.engine)
    columns = "event_id, stream_id, stream_version, type, stated_at, recorded_at, payload, hash"
    engine = ledger.store.engine
    with engine.begin() as conn:
        rows = conn.execute(
            text(f"SELECT {columns}, position FROM events WHERE position IN (4, 5)")
        ).all()
        conn.execute(text("DELETE FROM events WHERE position IN (4, 5)"))
        for row, position in zip(rows, (5, 4), strict=True):
            values = dict(row._mapping, position=position)
            conn.execute(
                text(
                    f"INSERT INTO events ({columns}, position, prev_hash) VALUES "
                    "(:event_id, :stream_id, :stream_version, :type, :stated_at, :recorded_at, "
                    ":payload, :hash, :position, 'x')"
                ),
                values,
            )
    assert ledger.verify().position == 4


def test_a_truncated_tail_is_caught_against_a_checkpoint(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2")])
    checkpoint = (ledger.head().position, ledger.head().hash)
    assert ledger.verify(checkpoint).ok
    drop_guards(ledger.store.engine)
    raw(ledger.store.engine, "DELETE FROM events WHERE position >= 4")
    assert ledger.store.verify().ok  # the chain alone is a valid shorter log,
    assert not ledger.verify().ok  # but the projection's checkpoint says it was longer...
    ledger.rebuild()  # ...until a forger rebuilds the projection from the shorter log

    assert ledger.verify().ok  # a clean prefix is indistinguishable from a shorter log...
    report = ledger.verify(checkpoint)  # ...unless you kept its head
    assert not report.ok and report.position == 4
    assert "tail" in (report.problem or "")


def test_verify_of_an_empty_ledger_passes(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok and report.checked == 0 and report.head.hash == GENESIS


def test_reopening_a_ledger_keeps_its_events(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as first:
        first.append(basics())
    with Ledger.open(ledger_url) as second:
        assert second.head().position == 3
        assert second.verify().ok


def test_recorded_times_round_trip_to_the_microsecond(ledger: Ledger, clock: FakeClock) -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    clock.set(when)
    clock.step = timedelta(0)
    ledger.append(basics())
    assert {e.recorded_at for e in ledger.read()} == {when}
