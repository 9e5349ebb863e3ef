"""Redactions as the API shows them: what was redacted, when, by whom and why (issue 15).

The removal itself is the store's (:mod:`ledger.store.redact`); this module names events the way
users do (an event id, ``TYPE/KEY`` or a record id) and lists the redactions a ledger holds. See
``docs/proofs.md``, *Redaction*.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import select

from ledger.events import FREE_TEXT
from ledger.records import RecordedEvent
from ledger.store.append import Within
from ledger.store.backends import reading
from ledger.store.eventstore import EventStore
from ledger.store.redact import recorded
from ledger.store.schema import events as t
from ledger.store.tree import position_of
from ledger.times import from_micros, iso, to_micros
from projections.beliefs import BeliefState


@attrs.frozen
class Redaction:
    """One redaction: the event whose free text it removed, and when, by whom and why."""

    #: The redacted event: its position, id, stream (``statement:…``) and type.
    position: int
    event_id: str
    stream_id: str
    type: str
    #: The fields whose text was removed (``ledger.events.FREE_TEXT`` of its type).
    fields: tuple[str, ...]
    #: The redaction event: its position and ``recorded_at`` (when the text was removed).
    redaction_position: int
    redacted_at: datetime
    by: str
    reason: str

    @property
    def record_id(self) -> str:
        """The record id the redacted event was filed under (``statement:x`` gives ``x``)."""
        return self.stream_id.partition(":")[2]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the CLI's ``--json``)."""
        return {
            "position": self.position,
            "event_id": self.event_id,
            "stream_id": self.stream_id,
            "type": self.type,
            "fields": list(self.fields),
            "redaction_position": self.redaction_position,
            "redacted_at": iso(self.redacted_at),
            "by": self.by,
            "reason": self.reason,
        }


def redact(
    store: EventStore,
    idents: Sequence[str],
    *,
    reason: str,
    by: str,
    within: Within | None = None,
) -> list[Redaction]:
    """Redact the events named by ``idents`` (see :func:`ledger.store.tree.position_of`) in one
    transaction: all of them or none."""
    with reading(store.engine) as conn:
        positions = [position_of(conn, ident) for ident in idents]
    store.redact(positions, reason=reason, by=by, within=within)
    made = {r.position: r for r in redactions(store)}
    return [made[p] for p in positions]


def redactions(store: EventStore, *, known_at: datetime | None = None) -> list[Redaction]:
    """Every redaction recorded by ``known_at`` (default: all), in the order they were made."""
    bound = None if known_at is None else to_micros(known_at)
    with reading(store.engine) as conn:
        made = {p: m for p, m in recorded(conn).items() if bound is None or m.recorded_at <= bound}
        if not made:
            return []
        meta = {
            row.position: row
            for row in conn.execute(
                select(t.c.position, t.c.stream_id, t.c.type).where(t.c.position.in_(list(made)))
            )
        }
    out = [
        Redaction(
            position=p,
            event_id=m.redaction.event_id,
            stream_id=meta[p].stream_id,
            type=meta[p].type,
            fields=FREE_TEXT.get(meta[p].type, ()),
            redaction_position=m.position,
            redacted_at=from_micros(m.recorded_at),
            by=m.redaction.by,
            reason=m.redaction.reason,
        )
        for p, m in made.items()
    ]
    return sorted(out, key=lambda r: r.redaction_position)


def in_answer(
    found: Sequence[Redaction], state: BeliefState, events: Sequence[RecordedEvent]
) -> list[Redaction]:
    """The redactions that touch an answer: of the proposition's definition, of a source whose
    stance it shows, or of an event of its history (``events``: :meth:`Ledger.history`), so
    that the answer can say where its text was removed and when."""
    streams = {f"proposition:{state.proposition}"}
    v = state.verdict
    shown = (*v.supporters, *v.deniers, *v.confirmers, *v.refuters)
    streams |= {f"source:{s.source}" for s in shown}
    positions = {e.position for e in events}
    return [r for r in found if r.position in positions or r.stream_id in streams]
