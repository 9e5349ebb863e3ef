"""Redaction in the store: the one sanctioned removal from the log (issue 15).

A redaction is an ordinary event (:class:`~ledger.events.RedactionMade`) appended to the log; in
its own append transaction the store then replaces the redacted row's ``payload`` with the marker
the redaction implies (:func:`ledger.codec.redacted_payload`) and deletes the row's salt. The
append-only guard (migration 0009) lets exactly that update through and nothing else.

The removed payload can no longer be hashed, so ``verify`` trusts a redacted row by another
route: its payload must be exactly the marker, its ``prev_hash`` must link to the row before (and
the next row's recomputed hash covers its stored hash), and its Merkle leaf, rebuilt from its
metadata and the digest the redaction recorded, must give the stored tree, which every signed
checkpoint vouches for. See ``docs/proofs.md``, *Redaction*.

This module knows nothing of belief rules: the projection refreshes its own copies of a redacted
source or proposition when it folds the redaction event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, Engine, delete, select, update

from ledger import codec
from ledger.errors import IntegrityError, InvalidRecord, StoreError
from ledger.events import RedactionMade
from ledger.store.backends import checkpointer_of
from ledger.store.merkle import NodeTable
from ledger.store.schema import events as t
from ledger.store.schema import streams_of
from ledger.store.tree import event_salts, leaf_of_row, row_with_salt
from ledger.times import from_micros
from ledger.transparency.merkle import NodeId, leaf_hash
from ledger.transparency.offline import payload_digest

#: The redaction streams (``redaction:`` + an event id): a range of the (stream_id,
#: stream_version) index, so finding every redaction reads no other row.
_REDACTIONS = streams_of("redaction")


def prepare(conn: Connection, position: int, reason: str, by: str) -> RedactionMade:
    """The redaction of the event at ``position``, checked against the log: the event exists,
    is not redacted yet, may be redacted (it has free text), and still matches its Merkle leaf
    (so the digest the redaction records is the leaf's)."""
    row = row_with_salt(conn, position)
    if row is None:
        raise InvalidRecord(f"no event at position {position}", field="event")
    type_, payload, salt = row[4], row[7], row[10]
    if codec.is_redacted(payload):
        raise InvalidRecord(f"the event at position {position} is already redacted", field="event")
    if type_ == RedactionMade.TYPE:
        raise InvalidRecord("a redaction cannot be redacted", field="event")
    if salt is None:
        raise IntegrityError(
            f"the event at position {position} has no Merkle leaf yet (no salt): append "
            "anything or run `factledger verify`, then redact"
        )
    salt = bytes(salt)
    (stored,) = NodeTable(conn).hashes([NodeId(0, position - 1)])
    if leaf_hash(leaf_of_row(row, salt)) != stored:
        raise IntegrityError(
            f"the event at position {position} does not match its Merkle leaf: the log was "
            "altered (run `factledger verify`); nothing was redacted"
        )
    event = codec.decode(type_, json.loads(payload), _stated(row[5]), position)
    return RedactionMade(
        event_id=row[1],
        position=position,
        redacted_type=type_,
        reason=reason,
        by=by,
        payload_digest=payload_digest(salt, payload),
        residue=codec.residue_text(event),
    )


def _stated(micros: int | None) -> datetime | None:
    return None if micros is None else from_micros(micros)


def remove(conn: Connection, redaction: RedactionMade) -> None:
    """Replace the redacted row's payload with its marker and delete its salt, in the
    transaction that appended ``redaction`` (the guard looks for it there)."""
    done = conn.execute(
        update(t)
        .where(t.c.position == redaction.position, t.c.event_id == redaction.event_id)
        .values(payload=codec.redacted_payload(redaction))
    )
    if done.rowcount != 1:
        raise IntegrityError(
            f"the event at position {redaction.position} changed while it was being redacted"
        )
    conn.execute(delete(event_salts).where(event_salts.c.position == redaction.position))


class Made(NamedTuple):
    """A redaction as the log holds it: its own position and ``recorded_at``, and the event."""

    position: int
    recorded_at: int
    redaction: RedactionMade


def recorded(conn: Connection, until: int | None = None) -> dict[int, Made]:
    """Every redaction in the log (up to position ``until``), by the position it redacted."""
    query = select(t.c.position, t.c.recorded_at, t.c.payload).where(
        _REDACTIONS, t.c.type == RedactionMade.TYPE
    )
    if until is not None:
        query = query.where(t.c.position <= until)
    out: dict[int, Made] = {}
    for position, recorded_at, payload in conn.execute(query):
        event = codec.decode(RedactionMade.TYPE, json.loads(payload), None, position)
        assert isinstance(event, RedactionMade)
        out[event.position] = Made(position, recorded_at, event)
    return out


def markers(made: Mapping[int, Made]) -> dict[int, tuple[str, str]]:
    """What ``verify`` checks a redacted row against: by position, its event id and the exact
    payload marker."""
    return {p: (m.redaction.event_id, codec.redacted_payload(m.redaction)) for p, m in made.items()}


def digests(made: Mapping[int, Made]) -> dict[int, str]:
    """The payload digest each redaction recorded (what the redacted row's leaf commits to)."""
    return {p: m.redaction.payload_digest for p, m in made.items()}


@contextmanager
def secure_delete(conn: Connection) -> Iterator[None]:
    """SQLite: zero the bytes of whatever this connection deletes or overwrites (cells, freed
    pages), so the redacted text is not left in free space; restored afterwards."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA secure_delete").scalar()
    conn.exec_driver_sql("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA secure_delete = {int(before or 0)}")


def scrub_file(engine: Engine) -> bool:
    """SQLite: rewrite the database file (``VACUUM``) so that no page, free page or the
    write-ahead log still holds removed text, then truncate the WAL. Text deleted before the
    redaction (a projection rebuilt earlier, say) is in free pages until this runs. Returns
    False on PostgreSQL, which cannot promise it (see docs/proofs.md)."""
    if engine.dialect.name != "sqlite":
        return False
    # The ledger's own checkpointer thread (ledger.store.checkpointer) is stopped first, and
    # waited for: a checkpoint of its under way would make the TRUNCATE below return busy,
    # leaving the WAL, and whatever old pages it holds, as it was. A later write restarts it.
    copier = checkpointer_of(engine)
    if copier is not None:
        copier.close()
    raw = engine.raw_connection()  # VACUUM runs outside any transaction: no BEGIN of ours
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA secure_delete = ON")
        try:
            cursor.execute("VACUUM")
            busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            cursor.execute("PRAGMA secure_delete = OFF")
    finally:
        raw.close()
    if busy:
        raise StoreError(
            "the database file was rewritten, but its write-ahead log could not be emptied: "
            "another connection to this ledger (another Ledger object, thread or process, "
            "reading or writing) held it; "
            "the log may still hold the removed text until it is: call Ledger.scrub() again "
            "once they are done"
        )
    return True
