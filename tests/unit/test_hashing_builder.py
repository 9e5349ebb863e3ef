"""One builder of the canonical event text, and the bytes it builds have not changed.

``hashing.canonical_event`` (appending, and explaining a bad row) and ``hashing.row_hash`` (the
verify loop) both build their text with ``hashing._canonical``. The two formulas they used before
are kept here, and only here, as the oracle: for any row, the one builder must give exactly their
text and hash, or every stored chain would stop verifying. The committed example ledger is held
to the same oracle, row by row, and its head hash is pinned.
"""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger import Ledger
from ledger.hashing import GENESIS, canonical_event, chain_hash, row_hash
from tests.conftest import FakeClock

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"
#: The head of the example imported at the test clock's first instant (2026-01-01T00:00Z), as
#: the formulas before the one builder computed it.
EXAMPLE_HEAD_HASH = "d32646ef45166c5818b7b69af65ed3c15a17d33e8b0315383edf4074e74b37c5"

_old_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def _old_text(value: Any) -> str:
    return encode_basestring(value) if isinstance(value, str) else _old_dumps(value)


def old_canonical_event(
    position: int,
    event_id: str,
    stream_id: Any,
    stream_version: int,
    type_: Any,
    stated_at: int | None,
    recorded_at: int,
    payload: str,
) -> str:
    """``hashing.canonical_event`` before the one builder (the append path)."""
    return (
        f'{{"event_id":"{event_id}","payload":{payload},"position":{position},'
        f'"recorded_at":{recorded_at},"stated_at":{"null" if stated_at is None else stated_at},'
        f'"stream_id":{_old_text(stream_id)},"stream_version":{stream_version},'
        f'"type":{_old_text(type_)}}}'
    )


def old_row_hash(
    prev_hash: str,
    position: int,
    event_id: str,
    stream_id: Any,
    stream_version: int,
    event_type: Any,
    stated_at: int | None,
    recorded_at: int,
    payload: str,
) -> str:
    """``hashing.row_hash`` before the one builder (the verify path)."""
    quote, dumps = encode_basestring, _old_dumps
    text = (
        f'{prev_hash}{{"event_id":"{event_id}","payload":{payload},"position":{position},'
        f'"recorded_at":{recorded_at},"stated_at":{"null" if stated_at is None else stated_at},'
        f'"stream_id":{quote(stream_id) if type(stream_id) is str else dumps(stream_id)},'
        f'"stream_version":{stream_version},'
        f'"type":{quote(event_type) if type(event_type) is str else dumps(event_type)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Str(str):
    """A ``str`` subclass: the two old formulas told it apart differently."""

    __slots__ = ()


awkward_text = st.text(
    st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Z", "Cc")), max_size=16
)
# What a stored row can hold in the text columns: text, and (damaged) anything else.
column_text = awkward_text | awkward_text.map(Str) | st.integers() | st.none() | st.booleans()
big = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(
    st.text("0123456789abcdef", min_size=64, max_size=64) | st.just(GENESIS),
    big,
    st.uuids().map(str),
    column_text,
    big,
    column_text,
    st.none() | big,
    big,
    awkward_text,
)
def test_the_one_builder_gives_the_old_text_and_hash_for_any_row(
    prev: str,
    position: int,
    event_id: str,
    stream_id: Any,
    version: int,
    type_: Any,
    stated_at: int | None,
    recorded_at: int,
    payload: str,
) -> None:
    row = (position, event_id, stream_id, version, type_, stated_at, recorded_at, payload)
    text = canonical_event(
        position=position,
        event_id=event_id,
        stream_id=stream_id,
        stream_version=version,
        type=type_,
        stated_at=stated_at,
        recorded_at=recorded_at,
        payload=payload,
    )
    assert text == old_canonical_event(*row)
    assert chain_hash(prev, text) == old_row_hash(prev, *row)
    assert row_hash(prev, *row) == old_row_hash(prev, *row)


def test_the_example_ledger_hashes_as_before_row_by_row(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'example.db'}", clock=FakeClock()) as lg:
        lg.import_jsonl(EXAMPLE)
        rows = list(lg.store.read_rows())
        assert lg.verify().ok
    assert len(rows) == 85
    prev = GENESIS
    for position, event_id, stream, version, type_, stated, recorded, payload, link, digest in rows:
        old = (position, event_id, stream, version, type_, stated, recorded, payload)
        assert link == prev
        assert digest == old_row_hash(prev, *old) == row_hash(prev, *old)
        text = canonical_event(
            position=position,
            event_id=event_id,
            stream_id=stream,
            stream_version=version,
            type=type_,
            stated_at=stated,
            recorded_at=recorded,
            payload=payload,
        )
        assert text == old_canonical_event(*old)
        prev = digest
    assert prev == EXAMPLE_HEAD_HASH
