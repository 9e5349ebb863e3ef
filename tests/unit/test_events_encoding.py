"""The fast event encoding (``ledger.codec.encoding`` and ``to_payload``,
``ledger.events.event_id_text``) against the straightforward one it replaced, for arbitrary
events; and the cache it keeps on each event stays invisible."""

from __future__ import annotations

import copy
import pickle
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from ledger import Event, StatementMade
from ledger.codec import encoding, generic_payload, to_payload
from ledger.events import EVENT_NAMESPACE, EVENT_TYPES, event_id, event_id_text, stated_at
from ledger.hashing import canonical_json
from ledger.times import iso, to_micros
from tests.strategies import flatten, histories, slugs


def straightforward_plain(value: Any) -> Any:
    """``ledger.events._plain`` as it was before the fast paths."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value):
            return {k: straightforward_plain(x) for k, x in value}
        return [straightforward_plain(x) for x in value]
    return value


def straightforward_payload(event: Event) -> dict[str, Any]:
    """``to_payload`` as it was before the fast paths: a walk over the attrs fields."""
    return {
        f.name: straightforward_plain(getattr(event, f.name))
        for f in attrs.fields(type(event))
        if f.name != "stated_at"
    }


def straightforward_encoding(event: Event) -> tuple[str, str, str, int | None, str]:
    """What ``append.Prepared.of`` computed before the fast paths."""
    when = stated_at(event)
    return (
        str(uuid.uuid5(EVENT_NAMESPACE, f"{event.TYPE}/{event.key}")),
        event.stream_id,
        event.TYPE,
        None if when is None else to_micros(when),
        canonical_json(straightforward_payload(event)),
    )


@given(histories(max_statements=12))
def test_the_fast_encoding_equals_the_straightforward_one(history: list[list[Event]]) -> None:
    for event in flatten(history):
        assert to_payload(event) == straightforward_payload(event)
        assert list(to_payload(event)) == list(straightforward_payload(event))  # field order
        assert generic_payload(event) == straightforward_payload(event)
        assert tuple(encoding(event)) == straightforward_encoding(event)
        assert event_id_text(event) == str(event_id(event))


class _Keyed:
    """Just what an event id is made of: a type name and a record id."""

    def __init__(self, type_name: str, key: str):
        self.TYPE, self.key = type_name, key


@given(st.sampled_from(sorted(EVENT_TYPES)), slugs(max_size=128))
def test_event_id_text_is_the_uuid5_of_type_and_key(type_name: str, key: str) -> None:
    keyed: Any = _Keyed(type_name, key)
    assert event_id_text(keyed) == str(uuid.uuid5(EVENT_NAMESPACE, f"{type_name}/{key}"))
    assert event_id_text(keyed) == str(event_id(keyed))


@given(histories(max_statements=8))
def test_the_cached_encoding_is_invisible(history: list[list[Event]]) -> None:
    for event in flatten(history):
        bare = copy.copy(event)  # no cache: attrs copies fields only
        first = encoding(event)
        assert encoding(event) is first  # computed once
        assert event == bare and hash(event) == hash(bare) and repr(event) == repr(bare)
        assert attrs.asdict(event) == attrs.asdict(bare)
        assert "_encoding" not in {f.name for f in attrs.fields(type(event))}
        restored = pickle.loads(pickle.dumps(event))
        assert restored == event and tuple(encoding(restored)) == tuple(first)


def test_an_evolved_event_is_encoded_afresh() -> None:
    before = StatementMade("s1", "kcna", "troops", "assert", "2024-10-18", value=1500)
    encoded = encoding(before)
    after = attrs.evolve(before, value=2000)
    assert encoding(after) != encoded
    assert tuple(encoding(after)) == straightforward_encoding(after)
    assert '"value":2000' in encoding(after).payload
