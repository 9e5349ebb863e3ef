"""The codec: the one place that knows a payload's shape, and how an event type evolves without
breaking a log written before (issue 11).

The evolutions tried here are the two kinds the codec supports: a statement gains an optional
field (``language``), and a source's ``note`` is renamed ``remark`` in a version-2 payload read
through an upcaster. Both are tried against a ledger written in today's format, kept as a fixture.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import IntegrityError, InvalidRecord
from ledger.codec import SHAPES, Codec, Shape, build_recorded, decode, from_payload, to_payload
from ledger.events import (
    EVENT_TYPES,
    Category,
    PolicySet,
    RedactionMade,
    Reliability,
    SourceRegistered,
    StatementMade,
)
from ledger.hashing import canonical_json
from ledger.records import RecordedEvent
from ledger.times import from_micros
from projections import fold as reference
from tests.strategies import flatten, histories

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "ledgers" / "north-korea-2026-11.jsonl"
ROWS: list[dict[str, Any]] = [
    json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()
]


@attrs.frozen
class StatementWithLanguage(StatementMade):
    """A statement as it might read in a later version: the language of its quote, optional."""

    language: str | None = None


@attrs.frozen
class SourceWithRemark:
    """A source as it might read in a later version: ``note`` renamed ``remark``."""

    TYPE = SourceRegistered.TYPE
    source_id: str
    name: str
    category: Category
    affiliation: str | None = None
    reliability: Reliability | None = None
    remark: str | None = None


def _note_to_remark(payload: dict[str, Any]) -> dict[str, Any]:
    payload["remark"] = payload.pop("note")
    return payload


TODAY = Codec(EVENT_TYPES, SHAPES)
WITH_LANGUAGE = Codec(
    {**EVENT_TYPES, StatementMade.TYPE: StatementWithLanguage},
    {**SHAPES, StatementMade.TYPE: Shape(added={"language": None})},
)
WITH_REMARK = Codec(
    {**EVENT_TYPES, SourceRegistered.TYPE: SourceWithRemark},
    {**SHAPES, SourceRegistered.TYPE: Shape(version=2, upcasters={1: _note_to_remark})},
)


def _when(row: dict[str, Any]) -> datetime | None:
    return None if row["stated_at"] is None else from_micros(row["stated_at"])


def _decoded(codec: Codec, row: dict[str, Any]) -> Any:
    return codec.decode(row["type"], json.loads(row["payload"]), _when(row), row["position"])


def _recorded(codec: Codec) -> list[RecordedEvent]:
    return [
        build_recorded(
            r["position"],
            r["event_id"],
            r["stream_id"],
            r["stream_version"],
            from_micros(r["recorded_at"]),
            _decoded(codec, r),
            r["prev_hash"],
            r["hash"],
        )
        for r in ROWS
    ]


#: Event types added after the fixture was written (issue 13: policy records; issue 15:
#: redactions).
ADDED_SINCE = {PolicySet.TYPE, RedactionMade.TYPE}


def test_the_fixture_holds_every_kind_of_event_of_its_day() -> None:
    assert {r["type"] for r in ROWS} == set(EVENT_TYPES) - ADDED_SINCE


def test_a_new_event_type_round_trips_and_leaves_every_old_payload_as_it_was() -> None:
    # A new type is an evolution no stored payload sees: the old rows encode back to their
    # bytes (test above) and the new type starts at version 1, with no "v" in its payload.
    policy = PolicySet(
        "p1",
        authoritative=["court", "international_org"],
        authoritative_sources=["opcw"],
        note="why",
    )
    payload = to_payload(policy)
    assert "v" not in payload and SHAPES[PolicySet.TYPE] == Shape()
    text = canonical_json(payload)
    assert decode(PolicySet.TYPE, json.loads(text), None, 1) == policy
    assert from_payload(PolicySet.TYPE, json.loads(text), None) == policy


def test_every_stored_payload_encodes_back_to_the_bytes_it_was_written_as() -> None:
    for row in ROWS:
        assert canonical_json(to_payload(_decoded(TODAY, row))) == row["payload"]


def test_a_statement_type_that_gains_an_optional_field_reads_an_old_log_as_written() -> None:
    statements = [r for r in ROWS if r["type"] == StatementMade.TYPE]
    assert statements
    for row in statements:
        event = _decoded(WITH_LANGUAGE, row)
        assert isinstance(event, StatementWithLanguage)
        assert event.language is None
        # Not one byte differs, so every hash holds and re-importing an old file is idempotent.
        assert canonical_json(WITH_LANGUAGE.to_payload(event)) == row["payload"]
        validated = WITH_LANGUAGE.from_payload(
            row["type"], json.loads(row["payload"]), event.stated_at
        )
        assert validated == event


def test_a_new_statement_that_uses_the_added_field_writes_it_and_reads_it_back() -> None:
    row = next(r for r in ROWS if r["type"] == StatementMade.TYPE)
    event = attrs.evolve(_decoded(WITH_LANGUAGE, row), language="ko")
    payload = WITH_LANGUAGE.to_payload(event)
    assert payload["language"] == "ko"
    again = WITH_LANGUAGE.decode(
        row["type"], json.loads(canonical_json(payload)), event.stated_at, 1
    )
    assert again == event


def test_an_upcaster_reads_version_1_payloads_in_the_version_2_shape() -> None:
    sources = [r for r in ROWS if r["type"] == SourceRegistered.TYPE]
    assert sources
    for row in sources:
        old = json.loads(row["payload"])
        event = _decoded(WITH_REMARK, row)
        assert type(event) is SourceWithRemark
        assert (event.source_id, event.remark) == (old["source_id"], old["note"])
        written = WITH_REMARK.to_payload(cast(Any, event))  # not an Event of today's
        assert written["v"] == 2
        assert "note" not in written
        assert cast(Any, WITH_REMARK.decode(row["type"], written, None, 1)) == event


def test_a_payload_of_a_version_this_factledger_does_not_know_is_refused_by_name() -> None:
    row = next(r for r in ROWS if r["type"] == SourceRegistered.TYPE)
    payload = {**json.loads(row["payload"]), "v": 3}
    with pytest.raises(IntegrityError, match="reads versions 1 to 1"):
        decode(row["type"], dict(payload), None, row["position"])
    with pytest.raises(InvalidRecord, match="a newer factledger"):
        from_payload(row["type"], payload, None)


def test_the_reference_fold_answers_the_same_through_the_evolved_statement_type() -> None:
    today, evolved = (
        reference.fold(_recorded(WITH_LANGUAGE)),
        reference.fold(_recorded(TODAY)),
    )
    assert today.statements.keys() == evolved.statements.keys()
    for proposition in today.propositions:
        for day in ("2024-10-20", "2024-12-31", "2025-05-01"):
            as_of = datetime.fromisoformat(day).replace(tzinfo=UTC)
            assert reference.verdict_of(today, proposition, as_of) == reference.verdict_of(
                evolved, proposition, as_of
            )


@given(histories(), st.data())
def test_both_decoders_refuse_a_payload_missing_a_field_that_was_never_optional(
    history: Any, data: st.DataObject
) -> None:
    event = data.draw(st.sampled_from(flatten(history)))
    payload = to_payload(event)
    field = data.draw(st.sampled_from(sorted(payload)))
    del payload[field]
    when = event.stated_at if isinstance(event, StatementMade) else None
    with pytest.raises(IntegrityError):
        decode(event.TYPE, dict(payload), when, 7)
    with pytest.raises(InvalidRecord, match=field):
        from_payload(event.TYPE, payload, when)


def test_both_decoders_accept_a_payload_that_leaves_out_a_field_added_later() -> None:
    row = next(r for r in ROWS if r["type"] == StatementMade.TYPE)
    payload = json.loads(row["payload"])
    assert "language" not in payload
    by_trust = WITH_LANGUAGE.decode(row["type"], dict(payload), _when(row), 1)
    by_check = WITH_LANGUAGE.from_payload(row["type"], payload, _when(row))
    assert by_trust == by_check
    assert isinstance(by_check, StatementWithLanguage)
    assert by_check.language is None
