"""Times: aware UTC everywhere, bare dates as midnight (or end of day for query bounds), exact
integer microseconds in storage, one canonical text form."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import InvalidRecord
from ledger.times import end_of_day, from_micros, iso, parse_iso, to_micros, to_utc
from tests.strategies import instants

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
aware = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]),
)


def test_a_bare_date_is_midnight_utc() -> None:
    assert to_utc(date(2024, 10, 18)) == datetime(2024, 10, 18, tzinfo=UTC)
    assert to_utc("2024-10-18") == datetime(2024, 10, 18, tzinfo=UTC)


def test_an_aware_datetime_is_converted_to_utc() -> None:
    kst = datetime(2024, 10, 18, 1, 0, tzinfo=timezone(timedelta(hours=9)))
    converted = to_utc(kst)
    assert converted == datetime(2024, 10, 17, 16, 0, tzinfo=UTC)
    assert converted.tzinfo is UTC


def test_a_naive_datetime_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidRecord, match=r"naive datetime .* has no time zone") as info:
        to_utc(datetime(2024, 10, 18, 9), field="published_at")
    assert info.value.field == "published_at"


@pytest.mark.parametrize("text", ["18/10/2024", "2024-13-01", "yesterday", "2024-10-18T25:00Z"])
def test_text_that_is_not_iso_is_refused(text: str) -> None:
    with pytest.raises(InvalidRecord, match="is not an ISO date"):
        to_utc(text)


def test_a_value_that_is_not_a_time_is_refused() -> None:
    with pytest.raises(InvalidRecord, match="expected a date or datetime, got int"):
        to_utc(1729209600)  # type: ignore[arg-type]


def test_parse_iso_reads_ten_characters_as_a_date_and_more_as_a_datetime() -> None:
    assert parse_iso("2024-10-18") == date(2024, 10, 18)
    assert parse_iso("2024-10-18T00:00:00+00:00") == datetime(2024, 10, 18, tzinfo=UTC)


def test_end_of_day_makes_a_bare_date_include_the_whole_day() -> None:
    last = datetime(2024, 10, 18, 23, 59, 59, 999_999, tzinfo=UTC)
    assert end_of_day(date(2024, 10, 18)) == last
    assert end_of_day("2024-10-18") == last


def test_end_of_day_leaves_an_instant_alone() -> None:
    noon = datetime(2024, 10, 18, 12, tzinfo=UTC)
    assert end_of_day(noon) == noon
    assert end_of_day("2024-10-18T12:00:00Z") == noon


def test_micros_count_from_the_unix_epoch() -> None:
    assert to_micros(EPOCH) == 0
    assert to_micros(datetime(2024, 10, 18, tzinfo=UTC)) == 1_729_209_600_000_000
    assert to_micros(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1
    assert from_micros(-1) == datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


@given(aware)
def test_micros_round_trip_exactly(when: datetime) -> None:
    assert from_micros(to_micros(when)) == when
    assert from_micros(to_micros(when)).tzinfo is UTC


@given(aware, aware)
def test_micros_order_like_the_instants(a: datetime, b: datetime) -> None:
    assert (to_micros(a) < to_micros(b)) == (a < b)
    assert (to_micros(a) == to_micros(b)) == (a == b)


def test_iso_is_utc_with_six_digits_and_z() -> None:
    kst = datetime(2024, 10, 18, 9, 0, 0, 5, tzinfo=timezone(timedelta(hours=9)))
    assert iso(kst) == "2024-10-18T00:00:00.000005Z"


def test_iso_pads_years_before_1000() -> None:
    assert iso(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05.000000Z"


@given(aware)
def test_iso_text_reads_back_as_the_same_instant(when: datetime) -> None:
    text = iso(when)
    assert len(text) == 27
    assert to_utc(text) == when


@given(instants())
def test_the_shared_strategy_draws_aware_instants_on_the_day_pool(when: datetime) -> None:
    assert when.utcoffset() is not None
    assert to_utc(when) == when


@pytest.mark.parametrize(
    "text", ["2024-W43-1", "20241018", "2024-10-18T12", "2024-10-18T12:00:00+5", "18/10/2024"]
)
def test_only_the_documented_iso_forms_are_read(text: str) -> None:
    with pytest.raises(InvalidRecord, match="not an ISO date"):
        to_utc(text)


def test_an_offset_that_leaves_the_calendar_is_a_clear_error_not_an_overflow() -> None:
    with pytest.raises(InvalidRecord, match="outside years 1 to 9999"):
        to_utc("9999-12-31T23:00:00-05:00")


def test_the_end_of_the_last_representable_day_is_still_representable() -> None:
    assert end_of_day("9999-12-31") == datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["2024-10-18 12:00+09:00", "2024-10-18T12:00+0900", "2024-10-18T12:00+09:00:30"]
)
def test_forms_the_import_format_refuses_are_refused_by_the_api_too(text: str) -> None:
    for parse in (to_utc, end_of_day):
        with pytest.raises(InvalidRecord, match="is not YYYY-MM-DD or YYYY-MM-DDTHH:MM") as info:
            parse(text, field="known_at")
        assert info.value.field == "known_at"


def test_a_bare_date_and_its_datetime_at_midnight_utc_are_the_same_instant() -> None:
    assert to_utc("2024-10-18") == to_utc("2024-10-18T00:00Z") == to_utc("2024-10-18T09:00+09:00")
