"""The event leaf (issue 15): the fast form :func:`offline.event_leaf` writes exactly the
canonical JSON object of its definition, for any text (escapes, non-ASCII, surrogate-free
Unicode) and any integers; an event shown in a proof gives its leaf back; the payload digest is
salted."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.transparency import offline
from ledger.transparency.offline import _leaf_object

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
INT = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(
    event_id=TEXT,
    digest=TEXT,
    position=INT,
    recorded_at=INT,
    stated_at=st.none() | INT,
    stream_id=TEXT,
    type_=TEXT,
    version=INT,
)
def test_the_fast_leaf_is_the_canonical_object(
    event_id: str,
    digest: str,
    position: int,
    recorded_at: int,
    stated_at: int | None,
    stream_id: str,
    type_: str,
    version: int,
) -> None:
    fields: dict[str, Any] = {
        "event_id": event_id,
        "payload_digest": digest,
        "position": position,
        "recorded_at": recorded_at,
        "stated_at": stated_at,
        "stream_id": stream_id,
        "stream_version": version,
        "type": type_,
    }
    leaf = offline.event_leaf(**fields)
    assert leaf == _leaf_object(**fields)
    assert json.loads(leaf) == fields | {"v": offline.LEAF_VERSION}
    assert list(json.loads(leaf)) == list(offline.LEAF_FIELDS)


@given(payload=TEXT, salt=st.binary(min_size=16, max_size=16))
def test_an_event_shown_gives_its_leaf_and_the_digest_is_salted(payload: str, salt: bytes) -> None:
    event: dict[str, Any] = {
        "position": 7,
        "event_id": "e",
        "stream_id": "statement:s",
        "stream_version": 1,
        "type": "statement_made",
        "stated_at": None,
        "recorded_at": 1,
        "payload": payload,
        "salt": base64.b64encode(salt).decode(),
    }
    digest = offline.payload_digest(salt, payload)
    assert digest != offline.payload_digest(b"", payload)
    meta = {k: v for k, v in event.items() if k not in {"payload", "salt"}}
    assert offline.leaf_of_event(event) == offline.event_leaf(**meta, payload_digest=digest)
    redacted = meta | {"payload_digest": digest}
    assert offline.leaf_of_event(redacted) == offline.leaf_of_event(event)
