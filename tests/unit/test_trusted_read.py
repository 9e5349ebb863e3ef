"""The read path's shortcuts give what the straightforward calls give, for any input.

``EventStore.read`` decodes every stored row through a handful of shortcuts: the C JSON scanner
instead of ``json.loads``, a UUID built directly instead of through ``uuid.UUID``, a generated
slot builder instead of attrs' ``__init__``, a cheaper ``from_micros``, and interned ids. Each is
held here to the plain call it replaces: the same value, or the same error.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import Event, IntegrityError, RecordedEvent, StatementMade
from ledger.codec import build_recorded, decode, to_payload
from ledger.hashing import canonical_json
from ledger.store import eventstore as store
from ledger.store.eventstore import _loads, _remember, _uuid
from ledger.times import from_micros
from tests.strategies import flatten, histories

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_MICROS = -62_135_596_800_000_000  # 0001-01-01T00:00Z
_MAX_MICROS = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


def outcome(call: Any, *args: Any) -> tuple[str, Any]:
    """What a call gives: its value, or the type of the error it raises."""
    try:
        return "value", call(*args)
    except Exception as e:  # any error: the comparison is of its type
        return "error", type(e)


json_texts = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
).map(lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True))


@given(json_texts)
def test_loads_equals_json_loads_on_canonical_text(text: str) -> None:
    assert _loads(text) == json.loads(text)


@given(
    st.one_of(
        json_texts.map(lambda t: f" {t}\n"),  # white space around: json.loads allows it
        json_texts.map(lambda t: t + "x"),  # trailing garbage
        json_texts.map(lambda t: t[: len(t) // 2]),  # cut short
        st.text(max_size=20),
    )
)
def test_loads_gives_json_loads_result_or_error_on_any_text(text: str) -> None:
    assert outcome(_loads, text) == outcome(json.loads, text)


def test_loads_refuses_what_json_loads_refuses() -> None:
    for bad in ["", "{", "nul", '{"a":1}}', "NaN1"]:
        assert outcome(_loads, bad) == outcome(json.loads, bad)


@given(st.uuids())
def test_uuid_equals_uuid_uuid_in_every_respect(value: uuid.UUID) -> None:
    text = str(value)
    fast, slow = _uuid(text), uuid.UUID(text)
    assert fast == slow
    assert type(fast) is uuid.UUID
    assert (fast.int, fast.is_safe, hash(fast), str(fast), repr(fast)) == (
        slow.int,
        slow.is_safe,
        hash(slow),
        str(slow),
        repr(slow),
    )
    assert fast.version == slow.version


@given(
    st.one_of(
        st.uuids().map(lambda u: "{" + str(u) + "}"),
        st.uuids().map(lambda u: "urn:uuid:" + str(u)),
        st.uuids().map(lambda u: u.hex.upper()),
        st.uuids().map(lambda u: str(u)[:-1]),
        st.uuids().map(lambda u: str(u)[:-1] + "g"),
        st.text(max_size=40),
    )
)
def test_uuid_of_any_other_text_is_what_uuid_uuid_makes_of_it(text: str) -> None:
    assert outcome(_uuid, text) == outcome(uuid.UUID, text)


@given(st.integers(min_value=_MIN_MICROS, max_value=_MAX_MICROS))
def test_from_micros_equals_the_keyword_form(micros: int) -> None:
    assert from_micros(micros) == _EPOCH + timedelta(microseconds=micros)
    assert from_micros(micros).tzinfo is UTC


@pytest.mark.parametrize("micros", [_MIN_MICROS - 1, _MAX_MICROS + 1, 2**62])
def test_from_micros_out_of_range_is_an_overflow_as_before(micros: int) -> None:
    with pytest.raises(OverflowError):
        from_micros(micros)
    with pytest.raises(OverflowError):
        _EPOCH + timedelta(microseconds=micros)


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=60))
def test_the_instant_memo_gives_from_micros_and_stays_bounded(values: list[int]) -> None:
    limit = 5  # small, so that the memo fills up and is emptied many times
    memo: dict[int, datetime] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "_MEMO_LIMIT", limit)
        for micros in values:
            when = memo.get(micros) or _remember(memo, micros)
            assert when == from_micros(micros)
            assert len(memo) <= limit
    assert limit < store._MEMO_LIMIT


@given(
    st.integers(),
    st.uuids(),
    st.text(),
    st.integers(),
    st.datetimes(timezones=st.just(UTC)),
    st.text(),
    st.text(),
)
def test_build_recorded_equals_the_attrs_constructor(
    position: int,
    eid: uuid.UUID,
    stream: str,
    version: int,
    when: datetime,
    link: str,
    digest: str,
) -> None:
    event = StatementMade("s1", "kcna", "p", "assert", "2024-10-18")
    fast = build_recorded(position, eid, stream, version, when, event, link, digest)
    slow = RecordedEvent(position, eid, stream, version, when, event, link, digest)
    assert fast == slow
    assert attrs.asdict(fast, recurse=False) == attrs.asdict(slow, recurse=False)
    assert type(fast) is RecordedEvent
    assert hash(fast) == hash(slow)


def stored(event: Event) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(canonical_json(to_payload(event)))
    return parsed


def test_a_payload_with_a_field_too_many_or_too_few_is_an_integrity_error() -> None:
    event = StatementMade("s1", "kcna", "p", "assert", "2024-10-18")
    extra = stored(event) | {"colour": "red"}
    with pytest.raises(IntegrityError, match="position 3"):
        decode(event.TYPE, extra, event.stated_at, 3)
    short = stored(event)
    del short["note"]
    with pytest.raises(IntegrityError, match="position 4"):
        decode(event.TYPE, short, event.stated_at, 4)


@given(histories(max_documents=3, max_corrections=6))
def test_decoded_ids_are_shared_between_events_and_equal_to_the_originals(
    history: list[list[Event]],
) -> None:
    events = flatten(history)
    decoded = [decode(e.TYPE, stored(e), getattr(e, "stated_at", None), 1) for e in events]
    assert decoded == events
    by_value: dict[str, str] = {}
    for e in decoded:
        if isinstance(e, StatementMade):
            for value in (e.source_id, e.proposition_id, e.unit, e.document_id):
                if value is not None:
                    assert by_value.setdefault(value, value) is value  # one object per id
