"""The canonical encoding and the hash chain.

The golden test pins the exact text and hash of one event: any change to the encoding, however
small, makes every stored chain unverifiable, so it must fail here loudly and first.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import CorrectionMade, StatementMade, event_id
from ledger.codec import to_payload
from ledger.hashing import GENESIS, canonical_event, canonical_json, chain_hash
from ledger.times import to_micros

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(), json_values, max_size=6)

GOLDEN_STATEMENT = StatementMade(
    "kcna-confirms",
    "kcna",
    "dprk-troops-in-russia",
    "confirm",
    "2025-04-28",
    value=11000.0,
    unit="troops",
    note="조선중앙통신: «dispatched»",
)
GOLDEN_CANONICAL = (
    '{"event_id":"6950df4c-dd23-5fc9-a3ef-224f8269ead2",'
    '"payload":{"document_id":null,"note":"조선중앙통신: «dispatched»",'
    '"proposition_id":"dprk-troops-in-russia","quote":null,"source_id":"kcna",'
    '"stance":"confirm","statement_id":"kcna-confirms","unit":"troops","value":11000},'
    '"position":7,"recorded_at":1767268800250000,"stated_at":1745798400000000,'
    '"stream_id":"statement:kcna-confirms","stream_version":1,"type":"statement_made"}'
)
GOLDEN_HASH = "14f6ae46f00b1e25df7c2f293c905c7331ee0298d99e73f9fefc7dd92ef2aebe"


def golden_canonical() -> str:
    event = GOLDEN_STATEMENT
    return canonical_event(
        position=7,
        event_id=str(event_id(event)),
        stream_id=event.stream_id,
        stream_version=1,
        type=event.TYPE,
        stated_at=to_micros(event.stated_at),
        recorded_at=to_micros(datetime(2026, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC)),
        payload=canonical_json(to_payload(event)),
    )


def test_golden_the_canonical_text_of_one_event_is_pinned() -> None:
    assert golden_canonical() == GOLDEN_CANONICAL


def test_golden_the_hash_of_one_event_is_pinned() -> None:
    assert chain_hash(GENESIS, golden_canonical()) == GOLDEN_HASH
    # ...and is plain sha256 over the previous hash's hex digits followed by the UTF-8 text.
    expected = hashlib.sha256((GENESIS + GOLDEN_CANONICAL).encode("utf-8")).hexdigest()
    assert expected == GOLDEN_HASH


def test_golden_a_correction_payload_sorts_its_changes_and_writes_times_as_utc_text() -> None:
    fix = CorrectionMade(
        "fix-1", "s1", "wrong day", changes={"value": 1500.0, "stated_at": "2024-10-21T09:00+09:00"}
    )
    assert canonical_json(to_payload(fix)) == (
        '{"changes":{"stated_at":"2024-10-21T00:00:00.000000Z","value":1500},'
        '"correction_id":"fix-1","corrects":"s1","reason":"wrong day","withdraw":false}'
    )


def test_the_genesis_hash_is_64_zeros() -> None:
    assert GENESIS == "0" * 64


@given(
    position=st.integers(min_value=1, max_value=2**62),
    eid=st.uuids(),
    stream_id=st.text(),
    stream_version=st.integers(min_value=1, max_value=2**31),
    type_=st.text(),
    stated_at=st.none() | st.integers(min_value=-(2**62), max_value=2**62),
    recorded_at=st.integers(min_value=-(2**62), max_value=2**62),
    payload=payloads,
)
def test_canonical_event_equals_canonical_json_of_the_whole_record(
    position: int,
    eid: uuid.UUID,
    stream_id: str,
    stream_version: int,
    type_: str,
    stated_at: int | None,
    recorded_at: int,
    payload: dict[str, Any],
) -> None:
    record = {
        "position": position,
        "event_id": str(eid),
        "stream_id": stream_id,
        "stream_version": stream_version,
        "type": type_,
        "stated_at": stated_at,
        "recorded_at": recorded_at,
        "payload": payload,
    }
    built = canonical_event(
        position=position,
        event_id=str(eid),
        stream_id=stream_id,
        stream_version=stream_version,
        type=type_,
        stated_at=stated_at,
        recorded_at=recorded_at,
        payload=canonical_json(payload),
    )
    assert built == canonical_json(record)
    assert json.loads(built) == json.loads(canonical_json(record))


def test_keys_are_sorted_and_there_is_no_white_space() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": None, "c": True}]}) == (
        '{"a":[1,{"c":true,"d":null}],"b":1}'
    )


def test_non_ascii_text_stays_unescaped() -> None:
    text = canonical_json({"note": "조선중앙통신 é ß — «»"})
    assert text == '{"note":"조선중앙통신 é ß — «»"}'
    assert "\\u" not in text


def test_control_characters_and_quotes_are_escaped_as_json_requires() -> None:
    assert canonical_json('say "hi"\n') == '"say \\"hi\\"\\n"'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"value": bad})


def test_floats_use_the_shortest_round_trip_form() -> None:
    assert canonical_json([0.1, 1e16, 1.5, 2.0]) == "[0.1,1e+16,1.5,2.0]"


def test_chain_hash_is_sha256_of_the_previous_hash_and_the_text() -> None:
    assert chain_hash("ab" * 32, "{}") == hashlib.sha256(("ab" * 32 + "{}").encode()).hexdigest()
    assert chain_hash(GENESIS, "{}") != chain_hash("1" * 64, "{}")
