"""Timelines (status transitions of one proposition in valid time) and diffs between two dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ledger.times import iso
from projections.beliefs import BeliefState, Status, Verdict
from projections.materialized import Cause, Interval, MaterializedProjection


@attrs.frozen
class Transition:
    """From ``valid_from`` (until ``valid_to``, open if None) the proposition had ``status``."""

    valid_from: datetime
    valid_to: datetime | None
    status: Status
    because: tuple[Cause, ...]
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.valid_from.date().isoformat(),
            "to": None if self.valid_to is None else self.valid_to.date().isoformat(),
            "status": self.status.value,
            "because": [_cause(c) for c in self.because],
            "explanation": self.verdict.explanation,
            "estimates": [
                {"source": e.source, "value": e.value, "unit": e.unit}
                for e in self.verdict.estimates
            ],
        }


@attrs.frozen
class Change:
    """A proposition whose status or estimates differ between two dates, and the statements
    that took effect in between."""

    proposition: str
    before: BeliefState
    after: BeliefState
    because: tuple[Cause, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposition": self.proposition,
            "before": self.before.status.value,
            "after": self.after.status.value,
            "before_explanation": self.before.explanation,
            "after_explanation": self.after.explanation,
            "because": [_cause(c) for c in self.because],
        }


def _cause(c: Cause) -> dict[str, Any]:
    return {
        "statement": c.statement,
        "source": c.source,
        "stance": c.stance.value,
        "stated_at": iso(c.stated_at),
    }


def transitions(intervals: list[Interval], *, every_change: bool = False) -> list[Transition]:
    """Collapse intervals into status transitions (or keep every change of verdict)."""
    out: list[Transition] = []
    for iv in intervals:
        status = iv.verdict.status
        if out and not every_change and out[-1].status is status:
            out[-1] = attrs.evolve(out[-1], valid_to=iv.valid_to)
            continue
        out.append(Transition(iv.valid_from, iv.valid_to, status, iv.because, iv.verdict))
    return out


def diff(
    projection: MaterializedProjection, a: datetime, b: datetime, known_at: datetime
) -> list[Change]:
    """Every proposition whose status or estimates changed between valid times ``a`` and ``b``."""
    earlier, later = min(a, b), max(a, b)
    changes = []
    for proposition in projection.propositions(known_at):
        before = projection.verdict(proposition, earlier, known_at)
        after = projection.verdict(proposition, later, known_at)
        if (before.status, before.estimates) == (after.status, after.estimates):
            continue
        causes = tuple(
            c
            for iv in projection.intervals(proposition, known_at)
            if earlier < iv.valid_from <= later
            for c in iv.because
        )
        changes.append(
            Change(
                proposition,
                BeliefState(proposition, earlier, known_at, before),
                BeliefState(proposition, later, known_at, after),
                causes,
            )
        )
    return changes
