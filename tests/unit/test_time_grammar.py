"""One time grammar: the Python API, the importer and the JSON Schema accept exactly the same texts.

``ledger.times`` holds the grammar (``TIME_GRAMMAR``) and its parser (``parse_iso``, behind
``to_utc`` and ``end_of_day``, which the CLI's ``--as-of`` and ``--known-at`` use too); the
importer checks a time field with that parser; the schema's ``time`` definition is generated
from the grammar. Each test below draws texts near the grammar's edges (a space or a ``t`` for
the ``T``, ``+0900``, ``z``, 1 to 9 fractional digits, second 60, hour 24, offsets beyond
±23:59, dates without times, impossible days, white space around, digits of other scripts, the
last and first days of the calendar with offsets that leave it) and holds the three to one
verdict, and the accepted texts to one instant: Python's own reading of the same text.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger import InvalidRecord, StatementMade
from ledger.jsonl import importer as imp
from ledger.times import OUT_OF_RANGE, TIME_TEXT, end_of_day, parse_iso, time_schema, to_utc

jsonschema = pytest.importorskip("jsonschema")

SCHEMA: dict[str, Any] = json.loads(
    resources.files("ledger.jsonl").joinpath("import-format.schema.json").read_text("utf-8")
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
STATEMENT = {
    "type": "statement",
    "id": "s1",
    "source": "kcna",
    "proposition": "p1",
    "stance": "assert",
}


def two(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(lambda n: f"{n:02d}")


years = st.sampled_from(["0000", "0001", "1900", "2000", "2023", "2024", "9999"]) | st.integers(
    0, 9999
).map(lambda n: f"{n:04d}")
days = st.tuples(years, two(0, 13), two(0, 32)).map("-".join)
edge_days = st.sampled_from(["9999-12-31", "0001-01-01", "9999-12-30", "0001-01-02"])
separators = st.sampled_from(["T", "T", "T", " ", "t", "", "TT", "_"])
fractions = st.integers(1, 9).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))
seconds = st.none() | st.tuples(two(0, 61), st.none() | fractions, st.sampled_from([".", ","]))
clocks = st.tuples(two(0, 25), two(0, 60), seconds).map(
    lambda t: (
        f"{t[0]}:{t[1]}"
        + ("" if t[2] is None else f":{t[2][0]}")
        + ("" if t[2] is None or t[2][1] is None else f"{t[2][2]}{t[2][1]}")
    )
)
offsets = st.one_of(
    st.sampled_from(["", "Z", "z", "+00:00", "-00:00", "UTC", " Z"]),
    st.tuples(st.sampled_from("+-"), two(0, 25), two(0, 61)).map(lambda t: f"{t[0]}{t[1]}:{t[2]}"),
    st.tuples(st.sampled_from("+-"), two(0, 24), two(0, 59)).map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
    st.tuples(st.sampled_from("+-"), two(0, 23)).map("".join),
    st.tuples(st.sampled_from("+-"), two(0, 23), two(0, 59), two(0, 59)).map(
        lambda t: f"{t[0]}{t[1]}:{t[2]}:{t[3]}"
    ),
)
padding = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n", "\u00a0"])
datetimes = st.tuples(days | edge_days, separators, clocks, offsets).map("".join)
near_misses = st.tuples(padding, days | datetimes, padding).map("".join)
other_scripts = datetimes.map(lambda t: t.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))


@st.composite
def valid_texts(draw: st.DrawFn) -> str:
    """Texts in the grammar, every optional part drawn: the calendar's whole range, 0 to 6
    fractional digits, Z or an offset within ±23:59 (some leave years 1 to 9999 in UTC)."""
    when = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    day = f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
    if draw(st.booleans()):
        return day
    clock = f"{when.hour:02d}:{when.minute:02d}"
    digits = draw(st.integers(-1, 6))
    if digits >= 0:
        clock += f":{when.second:02d}"
    if digits > 0:
        clock += "." + f"{when.microsecond:06d}"[:digits]
    minutes = draw(st.integers(-1439, 1439))
    sign = "-" if minutes < 0 else "+"
    offset = draw(st.sampled_from(["Z", f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"]))
    return f"{day}T{clock}{offset}"


def mutated(text: str) -> st.SearchStrategy[str]:
    """``text`` with one character deleted, inserted or replaced."""
    edits = st.sampled_from(["delete", "insert", "replace"])
    at = st.integers(0, len(text) - 1)
    return st.tuples(at, edits, st.characters(codec="ascii")).map(lambda t: edit(text, *t))


def edit(text: str, at: int, how: str, char: str) -> str:
    if how == "delete":
        return text[:at] + text[at + 1 :]
    return text[:at] + char + text[at + (how == "replace") :]


texts = (
    valid_texts()
    | valid_texts().flatmap(mutated)
    | near_misses
    | datetimes
    | other_scripts
    | st.text(max_size=30)
)


def api(text: str) -> datetime | None:
    """The Python API's reading of ``text`` (what the CLI's options use too), or None."""
    try:
        instant = to_utc(text, field="stated_at")
    except InvalidRecord as e:
        assert e.field == "stated_at"
        with pytest.raises(InvalidRecord):
            end_of_day(text, field="as_of")
        return None
    assert end_of_day(text) == instant or len(text) == 10  # a bare date: the end of that day
    return instant


def importer(text: str) -> datetime | None:
    """The importer's reading of ``text`` as a statement's ``stated_at``, or None."""
    event = imp.to_event({**STATEMENT, "stated_at": text})
    if isinstance(event, list):
        assert [p.field for p in event] == ["stated_at"]
        return None
    assert isinstance(event, StatementMade)
    return event.stated_at


def schema_accepts(text: str) -> bool:
    return bool(VALIDATOR.is_valid({**STATEMENT, "stated_at": text}))


def python_reads(text: str) -> datetime:
    """What ``text`` means to Python's own ISO reader: the instant it must be."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    return datetime.fromisoformat(text).astimezone(UTC)


@settings(max_examples=800)
@given(texts)
@example("2024-10-18 12:00+09:00")
@example("2024-10-18T12:00+0900")
@example("2024-10-18T12:00:60Z")
@example("2024-10-18T24:00Z")
@example("2024-10-18T12:00:00.1234567Z")
@example("2024-10-18t12:00z")
@example("2024-10-18\n")
@example("2024-02-29")
@example("2023-02-29")
@example("1900-02-29")
@example("0000-01-01")
@example("9999-12-31T23:59:59.999999-00:00")
@example("9999-12-31T18:59-05:00")
@example("9999-12-31T19:00-05:00")
@example("0001-01-01T00:31+00:31")
@example("0001-01-01T00:30:59+00:31")
def test_the_api_the_importer_and_the_schema_accept_the_same_texts_as_the_same_instant(
    text: str,
) -> None:
    instant = api(text)
    assert importer(text) == instant
    assert schema_accepts(text) == (instant is not None)
    if instant is not None:
        assert instant == python_reads(text)
        assert TIME_TEXT.fullmatch(text)


@given(
    edge_days,
    st.integers(0, 1439),
    st.none() | two(0, 59),
    st.sampled_from("+-"),
    st.integers(0, 1439),
)
def test_the_schema_refuses_exactly_the_texts_that_leave_years_1_to_9999_in_utc(
    day: str, local: int, second: str | None, sign: str, offset: int
) -> None:
    clock = f"{local // 60:02d}:{local % 60:02d}" + ("" if second is None else f":{second}")
    text = f"{day}T{clock}{sign}{offset // 60:02d}:{offset % 60:02d}"
    instant = api(text)
    assert (instant is None) == (re.match(OUT_OF_RANGE, text) is not None)
    assert schema_accepts(text) == (instant is not None)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_range_pattern_agrees_with_arithmetic_at_both_ends_of_the_calendar(day: str) -> None:
    minutes = ["00", "01", "09", "10", "29", "30", "31", "49", "50", "51", "59"]
    for hour in range(24):
        for minute in minutes:
            for sign in "+-":
                for off_hour in range(24):
                    for off_minute in minutes:
                        text = f"{day}T{hour:02d}:{minute}{sign}{off_hour:02d}:{off_minute}"
                        local = datetime.fromisoformat(text)
                        try:
                            local.astimezone(UTC)
                            outside = False
                        except OverflowError:
                            outside = True
                        assert (re.match(OUT_OF_RANGE, text) is not None) == outside, text


def test_the_schema_time_definition_is_the_one_generated_from_the_grammar() -> None:
    assert SCHEMA["$defs"]["time"] == time_schema(), (
        "regenerate: $defs.time = ledger.times.time_schema() in "
        "ledger/jsonl/import-format.schema.json"
    )


def test_every_time_field_of_the_schema_is_the_one_time_definition() -> None:
    defs = SCHEMA["$defs"]
    time = {"$ref": "#/$defs/time"}
    assert defs["statement"]["properties"]["stated_at"] == time
    assert defs["correction"]["properties"]["set"]["properties"]["stated_at"] == time
    assert defs["document"]["properties"]["published_at"]["anyOf"][0] == time
    assert {f.name for fs in imp.FIELDS.values() for f in fs} & {"stated_at", "published_at"} == (
        imp.TIME_FIELDS
    )


@pytest.mark.parametrize(
    ("text", "accepted", "instant"),
    [
        ("2024-10-18 12:00+09:00", "2024-10-18T12:00+09:00", datetime(2024, 10, 18, 3, tzinfo=UTC)),
        ("2024-10-18T12:00+0900", "2024-10-18T12:00+09:00", datetime(2024, 10, 18, 3, tzinfo=UTC)),
        ("2024-10-18t12:00z", "2024-10-18T12:00Z", datetime(2024, 10, 18, 12, tzinfo=UTC)),
        (" 2024-10-18 ", "2024-10-18", datetime(2024, 10, 18, tzinfo=UTC)),
    ],
)
def test_a_refused_near_miss_names_the_field_and_the_text_that_is_accepted(
    text: str, accepted: str, instant: datetime
) -> None:
    with pytest.raises(InvalidRecord) as info:
        to_utc(text, field="stated_at")
    assert info.value.field == "stated_at"
    assert str(info.value).startswith(f"field 'stated_at': {text!r} is not ")
    assert str(info.value).endswith(f"; write {accepted!r}")
    assert to_utc(accepted) == instant


def test_a_refused_form_without_an_accepted_equivalent_shows_an_example() -> None:
    with pytest.raises(
        InvalidRecord, match=r", e\.g\. '2024-10-18T09:30:00\+09:00' or '2024-10-18'$"
    ):
        parse_iso("2024-10-18T12:00+09:00:30", field="known_at")
