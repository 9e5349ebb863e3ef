"""What ``believe`` shows beside the verdict: the retractions and the corrections.

The verdict counts each source's live stance only, so a source that asserted and then
retracted is simply absent from it ("nobody supports it"), and a corrected statement is shown
as corrected. :func:`revisions` reads the proposition's own events (``Ledger.history``, as known
at the answer's ``known_at``) and says what was taken back and what was corrected, so the answer
can show them instead of hiding them. Corrections go through the ledger's one correction rule
(:func:`ledger.events.corrected`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ledger.events import CorrectionMade, Stance, StatementMade, corrected
from ledger.records import RecordedEvent
from ledger.times import iso


@attrs.frozen
class Retraction:
    """A source's retraction stated by the answer's date, and the statement of that source it
    took back (its latest earlier stance on the proposition, if the ledger has one)."""

    statement: StatementMade
    retracts: StatementMade | None

    def to_dict(self) -> dict[str, Any]:
        s, r = self.statement, self.retracts
        return {
            "source": s.source_id,
            "stance": s.stance.value,
            "stated_at": iso(s.stated_at),
            "statement": s.statement_id,
            "retracts": None
            if r is None
            else {
                "statement": r.statement_id,
                "stance": r.stance.value,
                "stated_at": iso(r.stated_at),
            },
        }


@attrs.frozen
class Correction:
    """A correction of one of the proposition's statements, as the log holds it."""

    correction: CorrectionMade
    statement: StatementMade  # the statement as it read just before this correction
    position: int
    recorded_at: datetime

    def to_dict(self) -> dict[str, Any]:
        c = self.correction
        return {
            "correction": c.correction_id,
            "statement": c.corrects,
            "source": self.statement.source_id,
            "withdraws": c.withdraw,
            "set": {name: _plain(value) for name, value in c.changes},
            "reason": c.reason,
            "position": self.position,
            "recorded_at": iso(self.recorded_at),
        }


@attrs.frozen
class Revisions:
    """Every retraction stated by a date (as the rules' evidence holds them), and the
    corrections of the statements stated by then (or moved by a correction from or to a date
    by then)."""

    retractions: tuple[Retraction, ...] = ()
    corrections: tuple[Correction, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "retractions": [r.to_dict() for r in self.retractions],
            "corrections": [c.to_dict() for c in self.corrections],
        }


@attrs.define
class _Known:
    original: StatementMade
    position: int
    current: StatementMade
    withdrawn: bool = False


def revisions(events: Iterable[RecordedEvent], proposition: str, as_of: datetime) -> Revisions:
    """The retractions of ``proposition`` stated by ``as_of`` and the corrections of its
    statements, from ``events`` (its history, in log order)."""
    known: dict[str, _Known] = {}
    fixes: list[Correction] = []
    for r in events:
        e = r.event
        if isinstance(e, StatementMade):
            known[e.statement_id] = _Known(e, r.position, e)
        elif isinstance(e, CorrectionMade) and e.corrects in known:
            k = known[e.corrects]
            fixes.append(Correction(e, k.current, r.position, r.recorded_at))
            k.current, k.withdrawn = corrected(k.current, k.withdrawn, e)
    standing = sorted(
        (k for k in known.values() if not k.withdrawn and k.current.proposition_id == proposition),
        key=lambda k: (k.current.stated_at, k.position),
    )
    retractions = []
    for i, k in enumerate(standing):
        if k.current.stance is Stance.RETRACT and k.current.stated_at <= as_of:
            earlier = [
                e.current
                for e in standing[:i]
                if e.current.source_id == k.current.source_id
                and e.current.stance not in (Stance.RETRACT, Stance.NO_COMMENT)
            ]
            retractions.append(Retraction(k.current, earlier[-1] if earlier else None))
    relevant = {
        sid
        for sid, k in known.items()
        if min(k.original.stated_at, k.current.stated_at) <= as_of
        and proposition in (k.original.proposition_id, k.current.proposition_id)
    }
    corrections = tuple(c for c in fixes if c.correction.corrects in relevant)
    return Revisions(tuple(retractions), corrections)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, StrEnum):
        return value.value
    return value
