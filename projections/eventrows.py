"""What the belief projection reads of the log's rows: one place, for every fold.

A window of event rows (``events`` columns in table order, in log order) becomes the stance
operations of :func:`projections.stances.plan_ops` (statements as :class:`Fields`, corrections
as functions of the fields they correct), and the copies of sources and propositions the rules
look up, which are written as they are met. The window fold of an append or a catch-up
(``projections.materialized``) and the fold by chain of a rebuild (``projections.chainfold``)
both read through here, which is one reason they leave the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, update

from ledger import codec as trusted
from ledger.codec import upgraded
from ledger.events import (
    CorrectionMade,
    PropositionDefined,
    RedactionMade,
    SourceRegistered,
    StatementMade,
    corrected,
)
from ledger.hashing import canonical_json
from ledger.store import bulk
from ledger.store.eventstore import (
    _loads,  # the C scanner behind json.loads, for stored payloads
)
from ledger.times import from_micros, to_micros
from projections.stances import Fields
from projections.tables import belief_propositions, belief_sources

STATEMENT = StatementMade.TYPE
CORRECTION = CorrectionMade.TYPE
SOURCE = SourceRegistered.TYPE
PROPOSITION = PropositionDefined.TYPE
REDACTION = RedactionMade.TYPE

T = TypeVar("T")

#: One stance operation, as :func:`projections.stances.plan_ops` takes it.
Op = tuple[str, int, Any]


class Window(NamedTuple):
    ops: list[Op]  # the stance operations, in log order
    targets: set[str]  # the statements its corrections name
    copied: int  # sources and propositions copied


class Copies(NamedTuple):
    """What a window writes besides stance rows, in the order :func:`write_copies` writes it."""

    sources: list[tuple[Any, ...]]  # belief_sources rows
    propositions: list[tuple[Any, ...]]  # belief_propositions rows
    redactions: list[str]  # the payloads of the redactions it holds


def read_window(
    conn: Connection, rows: Sequence[tuple[Any, ...]], *, plain: bool = False
) -> Window:
    """A window's stance operations and correction targets. Its sources and propositions are
    copied into their tables through ``conn`` on the way, and the copies of any it redacts
    replaced by what the log now holds (:func:`recopy`). ``plain``: a statement's fields as a
    plain tuple in :class:`Fields` order, not a Fields (the fold by chain spills them with
    ``marshal``, which writes plain tuples only, and makes them Fields as it folds them)."""
    window, copies = decode_window(rows, plain=plain)
    write_copies(conn, copies)
    return window


def write_copies(conn: Connection, copies: Copies) -> None:
    """A window's copies of sources and propositions written, then its redactions' markers."""
    sources, propositions, redacted = copies
    bulk.insert_many(conn, "belief_sources", ("source_id", "payload", "recorded_at"), sources)
    bulk.insert_many(
        conn, "belief_propositions", ("proposition_id", "payload", "recorded_at"), propositions
    )
    if redacted:
        recopy(conn, redacted)


def decode_window(rows: Sequence[tuple[Any, ...]], *, plain: bool = False) -> tuple[Window, Copies]:
    """:func:`read_window` without the writes: the copies are returned, for a process that
    does not write (``projections.forkroute``) to hand to one that does."""
    sources: list[tuple[Any, ...]] = []
    propositions: list[tuple[Any, ...]] = []
    ops: list[Op] = []
    targets: set[str] = set()
    redacted: list[str] = []
    loads, add, new = _loads, ops.append, tuple.__new__
    for position, _id, _stream, _version, type_, stated, recorded, payload, _prev, _hash in rows:
        if type_ == STATEMENT:
            p = upgraded(STATEMENT, loads(payload))  # the codec owns the payload's shape
            value = p["value"]
            if value is not None:
                # json writes an int as int.__repr__ does, so str() is its canonical text
                value = str(value) if type(value) is int else canonical_json(value)
            f = (
                p["statement_id"],
                p["proposition_id"],
                p["source_id"],
                p["stance"],
                position,
                stated,
                value,
                p["unit"],
            )
            # Fields(*f) without the NamedTuple's Python-level __new__ (5% of a 1M rebuild's
            # samples on PostgreSQL)
            add(("add", recorded, f if plain else new(Fields, f)))
        elif type_ == CORRECTION:
            correction = trusted.decode(type_, loads(payload), None, position)
            assert isinstance(correction, CorrectionMade)
            add(("correct", recorded, (correction.corrects, corrector(correction))))
            targets.add(correction.corrects)
        elif type_ == SOURCE:
            sources.append((loads(payload)["source_id"], payload, recorded))
        elif type_ == PROPOSITION:
            propositions.append((loads(payload)["proposition_id"], payload, recorded))
        elif type_ == REDACTION:
            redacted.append(payload)
    copies = Copies(sources, propositions, redacted)
    return Window(ops, targets, len(sources) + len(propositions)), copies


def recopy(conn: Connection, redactions: list[str]) -> None:
    """The copies of sources and propositions whose events were redacted, replaced by what
    the log now holds for them (the redaction's marker, which the redaction event implies):
    no derived row keeps the removed text, and the rows are those a rebuild writes. The rules
    read none of the removed fields."""
    for payload in redactions:
        redaction = trusted.decode(REDACTION, _loads(payload), None, 0)
        assert isinstance(redaction, RedactionMade)
        if redaction.redacted_type == SOURCE:
            table, column, key = belief_sources, belief_sources.c.source_id, "source_id"
        elif redaction.redacted_type == PROPOSITION:
            table, column = belief_propositions, belief_propositions.c.proposition_id
            key = "proposition_id"
        else:
            continue
        marker = trusted.redacted_payload(redaction)
        conn.execute(update(table).where(column == _loads(marker)[key]).values(payload=marker))


def corrector(correction: CorrectionMade) -> Callable[[Fields], Fields | None]:
    """The correction as a function of a statement's fields (None: withdrawn), through the
    one correction rule (:func:`ledger.events.corrected`)."""

    def correct(f: Fields) -> Fields | None:
        before = StatementMade(
            f.statement_id,
            f.source_id,
            f.proposition_id,
            f.stance,
            from_micros(f.valid_from),
            None if f.value is None else json.loads(f.value),
            f.unit,
        )
        after, withdrawn = corrected(before, False, correction)
        if withdrawn:
            return None
        return Fields(
            after.statement_id,
            after.proposition_id,
            after.source_id,
            after.stance.value,
            f.position,
            to_micros(after.stated_at),
            None if after.value is None else canonical_json(after.value),
            after.unit,
        )

    return correct


def windows(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """``rows`` in lists of ``size`` (the last may be shorter): how every fold reads the log."""
    it = iter(rows)
    while window := list(islice(it, size)):
        yield window
