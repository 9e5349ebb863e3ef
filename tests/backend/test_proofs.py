"""Signed checkpoints and proofs from a ledger (issue 15, phase 2), on SQLite and PostgreSQL:
every event is proven by its id against a signed checkpoint and the proof verifies offline;
consistency proofs between checkpoints verify; any flipped bit in a proof fails; a ledger
rewritten behind the tree, or cut short, no longer extends a checkpoint held elsewhere; a
checkpoint made on one backend holds for the same log loaded into the other."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from ledger import Ledger, StatementMade
from ledger.errors import InvalidRecord, NotFound
from ledger.proofs import CheckpointNotExtended
from ledger.store import tree
from ledger.store.schema import events
from ledger.store.tree import event_salts
from ledger.transparency import SigningKey, offline
from tests.conftest import Databases, FakeClock
from tests.helpers import basics, drop_guards, raw, statement

KEY = SigningKey("example.org/claims", bytes(range(32)))
TRUSTED = [KEY.verifier]


def _grown(lg: Ledger, count: int) -> None:
    lg.append(basics())
    lg.append([statement(f"s{i}") for i in range(count)])


def test_a_signed_checkpoint_names_the_tree_and_the_chain_head(ledger: Ledger) -> None:
    _grown(ledger, 4)
    note = ledger.checkpoint_note(KEY)

    cp = offline.open_checkpoint(note, TRUSTED)
    head = ledger.head()
    assert (cp.origin, cp.size, head.position) == ("example.org/claims", 7, 7)
    assert cp.extensions == (f"factledger-chain 7:{head.hash}",)
    assert ledger.verify_checkpoint(note, keys=TRUSTED).ok


def test_every_event_is_proven_by_any_of_its_names(ledger: Ledger) -> None:
    _grown(ledger, 5)
    note = ledger.checkpoint_note(KEY)
    recorded = list(ledger.read())
    for r in recorded:
        names = [str(r.event_id), f"{r.event.TYPE}/{r.event.key}"]
        for name in names:
            proof = ledger.prove(name, note, keys=TRUSTED)
            assert proof.index == r.position - 1
            assert proof.verify(TRUSTED, require_event=True).size == len(recorded)
            again = offline.InclusionProof.from_json(json.loads(json.dumps(proof.to_json())))
            assert again.verify(TRUSTED, require_event=True).size == len(recorded)
    assert ledger.prove("s3", note).event == ledger.prove("statement_made/s3", note).event
    shown = ledger.prove("s3", note).event
    assert shown is not None and json.loads(str(shown["payload"]))["statement_id"] == "s3"


def test_a_name_of_no_event_or_of_two_is_refused(ledger: Ledger) -> None:
    ledger.append(basics())
    note = ledger.checkpoint_note(KEY)
    with pytest.raises(NotFound, match="no event 'nowhere'"):
        ledger.prove("nowhere", note)
    ledger.append([StatementMade("kcna", "kcna", "troops", "deny", "2024-10-18")])
    note = ledger.checkpoint_note(KEY)
    with pytest.raises(InvalidRecord, match="names 2 events"):
        ledger.prove("kcna", note)
    assert ledger.prove("statement_made/kcna", note).index == 3


def test_an_event_after_the_checkpoint_needs_a_newer_one(ledger: Ledger) -> None:
    ledger.append(basics())
    note = ledger.checkpoint_note(KEY)
    ledger.append([statement("s1")])
    with pytest.raises(NotFound, match="after the checkpoint's 3 events"):
        ledger.prove("s1", note)
    assert ledger.prove("kcna", note).verify(TRUSTED, require_event=True).size == 3


def test_consistency_proofs_between_checkpoints_verify(ledger: Ledger) -> None:
    ledger.append(basics())
    notes = [ledger.checkpoint_note(KEY)]
    for i in range(6):
        ledger.append([statement(f"s{i}"), statement(f"t{i}")])
        notes.append(ledger.checkpoint_note(KEY))
    for old in notes:
        for new in notes[notes.index(old) :]:
            proof = ledger.prove_consistency(old, new, keys=TRUSTED)
            proof.verify(TRUSTED)
            offline.ConsistencyProof.from_json(json.loads(json.dumps(proof.to_json()))).verify(
                TRUSTED
            )
    with pytest.raises(InvalidRecord, match="oldest first"):
        ledger.prove_consistency(notes[-1], notes[0])


@pytest.fixture(scope="module")
def proven(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Any]]:
    """One proof of a statement and one consistency proof, as JSON (made once: a flipped bit
    changes the document, never the ledger)."""
    dbs = Databases("sqlite", tmp_path_factory)
    with Ledger.open(dbs.new_url(), clock=FakeClock()) as lg:
        _grown(lg, 10)
        old = lg.checkpoint_note(KEY)
        lg.append([statement("late")])
        new = lg.checkpoint_note(KEY)
        yield {
            "inclusion": lg.prove("s6", new).to_json(),
            "consistency": lg.prove_consistency(old, new).to_json(),
        }
    dbs.cleanup()


def _flip(value: Any, path: list[Any], bit: int) -> Any:
    """``value`` with one bit flipped in the string, number or base64 it holds at ``path``."""
    if path:
        head, *rest = path
        copy = dict(value) if isinstance(value, dict) else list(value)
        copy[head] = _flip(value[head], rest, bit)
        return copy
    if isinstance(value, bool) or value is None:
        return not value if isinstance(value, bool) else 1
    if isinstance(value, int):
        return value ^ (1 << (bit % 20))
    try:
        raw_bytes = base64.b64decode(value, validate=True)
        if base64.b64encode(raw_bytes).decode() != value or not raw_bytes:
            raise ValueError
    except ValueError:
        data = bytearray(value.encode("utf-8"))
        data[bit // 8 % len(data)] ^= 1 << (bit % 8)
        return data.decode("utf-8", errors="replace")
    flipped = bytearray(raw_bytes)
    flipped[bit // 8 % len(flipped)] ^= 1 << (bit % 8)
    return base64.b64encode(bytes(flipped)).decode()


def _places(doc: Any, prefix: list[Any] | None = None) -> list[list[Any]]:
    prefix = prefix or []
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _places(v, [*prefix, k])]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in _places(v, [*prefix, i])]
    return [prefix]


def _check(kind: str, doc: dict[str, Any]) -> None:
    if kind == "inclusion":
        offline.InclusionProof.from_json(doc).verify(TRUSTED, require_event=True)
    else:
        offline.ConsistencyProof.from_json(doc).verify(TRUSTED)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(data=st.data(), kind=st.sampled_from(["inclusion", "consistency"]))
def test_a_flipped_bit_anywhere_in_a_proof_fails(
    proven: dict[str, Any], data: st.DataObject, kind: str
) -> None:
    doc = proven[kind]
    _check(kind, doc)  # the proof as made holds
    place = data.draw(st.sampled_from(_places(doc)), label="where")
    bit = data.draw(st.integers(min_value=0, max_value=10_000), label="bit")
    forged = _flip(doc, place, bit)
    if forged == doc:  # a flip the text form cannot hold (an invalid UTF-8 byte replaced back)
        return
    with pytest.raises(offline.VerificationError):
        _check(kind, forged)


def test_a_ledger_rewritten_with_its_tree_no_longer_extends_a_checkpoint(
    ledger: Ledger,
) -> None:
    _grown(ledger, 4)
    note = ledger.checkpoint_note(KEY)
    engine = ledger.store.engine
    drop_guards(engine)
    raw(engine, "DELETE FROM events WHERE position = 7")
    raw(engine, "DELETE FROM event_salts WHERE position = 7")
    raw(engine, "DELETE FROM merkle_nodes")
    with engine.begin() as conn:  # the forger rebuilds the tree of the shortened log
        tree.catch_up(conn, 0, 6)
    ledger.rebuild()
    assert ledger.verify().ok  # nothing in the database shows the cut

    report = ledger.verify_checkpoint(note, keys=TRUSTED)

    assert (report.ok, report.position) == (False, 7)
    assert "the log ends at position 6, before the checkpoint's 7" in str(report.problem)
    with pytest.raises(CheckpointNotExtended, match="tree has 6"):
        ledger.prove("s0", note)


def test_a_rewritten_event_is_caught_by_the_checkpoint_root(ledger: Ledger) -> None:
    _grown(ledger, 4)
    note = ledger.checkpoint_note(KEY)
    with ledger.store.engine.connect() as conn:
        salt = conn.execute(select(event_salts.c.salt).where(event_salts.c.position == 5)).scalar()
    raw(ledger.store.engine, "DELETE FROM merkle_nodes")
    raw(ledger.store.engine, "UPDATE event_salts SET salt = :s WHERE position = 5", s=b"1" * 16)
    with ledger.store.engine.begin() as conn:
        tree.catch_up(conn, 0, 7)
    assert salt != b"1" * 16 and ledger.verify().ok  # the tree agrees with the edited salt

    report = ledger.verify_checkpoint(note)

    assert report.ok is False and "another root than the checkpoint's" in str(report.problem)


def test_a_note_by_another_key_is_refused_when_keys_are_given(ledger: Ledger) -> None:
    ledger.append(basics())
    other = SigningKey.generate("example.org/claims")
    note = ledger.checkpoint_note(other)
    with pytest.raises(InvalidRecord, match="no signature by a trusted key"):
        ledger.verify_checkpoint(note, keys=TRUSTED)
    assert ledger.verify_checkpoint(note).ok  # unchecked, the note still describes this log


@pytest.mark.parametrize(
    ("here", "there"),
    [
        pytest.param("sqlite", "postgresql", marks=pytest.mark.postgresql),
        pytest.param("postgresql", "sqlite", marks=pytest.mark.postgresql),
    ],
)
def test_a_checkpoint_made_on_one_backend_holds_for_the_same_log_on_the_other(
    here: str, there: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    made, copied = Databases(here, tmp_path_factory), Databases(there, tmp_path_factory)
    try:
        with Ledger.open(made.new_url(), clock=FakeClock()) as first:
            _grown(first, 9)
            note = first.checkpoint_note(KEY)
            proof = first.prove("s4", note).to_json()
            with first.store.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(select(events))]
                salts = [dict(r._mapping) for r in conn.execute(select(event_salts))]
        with Ledger.open(copied.new_url(), clock=FakeClock()) as second:
            with second.store.engine.begin() as conn:  # the log and its salts, row for row
                conn.execute(events.insert(), rows)
                conn.execute(event_salts.insert(), salts)
                assert conn.execute(text("SELECT count(*) FROM merkle_nodes")).scalar() == 0

            assert second.checkpoint_note(KEY) == note  # same tree, same signature
            assert second.verify_checkpoint(note, keys=TRUSTED).ok
            assert second.prove("s4", note).to_json() == proof
    finally:
        made.cleanup()
        copied.cleanup()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def grown(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Ledger, list[str]]]:
    """A ledger grown one event at a time, with a signed checkpoint at every size."""
    dbs = Databases(request.param, tmp_path_factory)
    lg = Ledger.open(dbs.new_url(), clock=FakeClock())
    notes = []
    for event in [*basics(), *(statement(f"s{i}") for i in range(GROWN - 3))]:
        lg.append([event])
        notes.append(lg.checkpoint_note(KEY))
    yield lg, notes
    lg.close()
    dbs.cleanup()


GROWN = 70


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.tuples(*[st.integers(min_value=1, max_value=GROWN)] * 2), data=st.data())
def test_proofs_from_the_store_verify_for_any_sizes_and_index(
    grown: tuple[Ledger, list[str]], sizes: tuple[int, int], data: st.DataObject
) -> None:
    lg, notes = grown
    old, new = sorted(sizes)
    index = data.draw(st.integers(min_value=0, max_value=new - 1), label="index")
    event_id = next(lg.read(after=index, until=index + 1)).event_id

    proof = lg.prove(str(event_id), notes[new - 1], keys=TRUSTED)

    assert (proof.index, proof.tree_size) == (index, new)
    assert proof.verify(TRUSTED, require_event=True).size == new
    lg.prove_consistency(notes[old - 1], notes[new - 1], keys=TRUSTED).verify(TRUSTED)


def test_a_tree_behind_the_log_is_named_as_such_and_built_by_a_checkpoint(ledger: Ledger) -> None:
    _grown(ledger, 3)
    note = ledger.checkpoint_note(KEY)
    raw(ledger.store.engine, "DELETE FROM merkle_nodes")  # as if the rows had been copied in

    with pytest.raises(CheckpointNotExtended, match="the tree is behind the log"):
        ledger.prove("s1", note)
    assert ledger.checkpoint_note(KEY) == note  # taking one builds the tree from the log again
    assert ledger.prove("s1", note).verify(TRUSTED, require_event=True).size == 6
