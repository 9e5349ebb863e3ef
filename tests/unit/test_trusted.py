"""The read path's fast decoder builds exactly what the validating constructors build."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from ledger import Event, IntegrityError
from ledger.codec import decode, from_payload, to_payload
from ledger.events import stated_at
from ledger.hashing import canonical_json
from tests.strategies import flatten, histories


def stored(event: Event) -> dict[str, object]:
    """The payload as the store keeps it: canonical JSON text, parsed back."""
    parsed: dict[str, object] = json.loads(canonical_json(to_payload(event)))
    return parsed


@given(histories(max_documents=3, max_corrections=8))
def test_the_trusted_decoder_equals_the_validating_one_for_any_event(
    history: list[list[Event]],
) -> None:
    for event in flatten(history):
        fast = decode(event.TYPE, stored(event), stated_at(event), 1)
        assert fast == event
        assert fast == from_payload(event.TYPE, stored(event), stated_at(event))
        assert type(fast) is type(event)


def test_a_payload_altered_behind_the_ledgers_back_is_an_integrity_error() -> None:
    with pytest.raises(IntegrityError, match=r"position 7.*run verify"):
        decode("statement_made", {"stance": "shrug"}, None, 7)
    with pytest.raises(IntegrityError, match="position 8"):
        decode("no_such_type", {}, None, 8)
