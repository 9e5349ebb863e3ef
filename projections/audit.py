"""Audit replay: what the ledger would have answered at time T, recomputed from the log itself.

The replay does not trust the materialized tables. It verifies the hash chain of the log prefix
recorded by T, folds that prefix with the reference fold, and then compares every answer with the
materialized projection's answer for the same (as_of=T, known_at=T), naming any disagreement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ledger.records import VerifyReport
from ledger.store.eventstore import EventStore
from ledger.times import iso
from projections.beliefs import BeliefState
from projections.fold import by_proposition, fold, policy_of, verdict_of
from projections.materialized import MaterializedProjection
from projections.rules import BeliefPolicy


@attrs.frozen
class AuditReplay:
    """Beliefs at ``known_at`` and the exact log prefix (last position and hash) they rest on."""

    known_at: datetime
    position: int
    hash: str
    verification: VerifyReport
    beliefs: tuple[BeliefState, ...]
    mismatches: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.verification.ok and not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, times as ISO 8601 (the CLI's ``replay --json``)."""
        return {
            "known_at": iso(self.known_at),
            "position": self.position,
            "hash": self.hash,
            "ok": self.ok,
            "verification": self.verification.to_dict(),
            "mismatches": list(self.mismatches),
            "beliefs": [b.to_dict() for b in self.beliefs],
        }


def replay(
    store: EventStore,
    projection: MaterializedProjection,
    policy: BeliefPolicy,
    known_at: datetime,
    answered_with: BeliefPolicy | None = None,
) -> AuditReplay:
    """``policy`` is the ledger's own policy: the replay applies to it the policy record in
    force at ``known_at`` as the verified prefix itself holds it (``fold.policy_of``);
    ``answered_with`` is the policy the ledger answers with at ``known_at`` (default: that
    same one). Each answer names its policy, so a wrong choice shows as a mismatch."""
    prefix_end = store.last_position_at(known_at)
    verification = store.verify(until=prefix_end)
    state = fold(store.read(until=prefix_end))
    decider = policy_of(state, policy)
    # The projection answers first, and each of its verdicts is let go once compared, so that
    # the two sets of verdicts (about 170 MB each at 1M) are never both held in full.
    projected = projection.verdicts_at(known_at, known_at, answered_with or decider)
    grouped = by_proposition(state)
    beliefs: list[BeliefState] = []
    mismatches: list[str] = []
    for p in sorted(state.propositions):
        verdict = verdict_of(state, p, known_at, decider, rows=grouped.get(p, ()))
        if projected.pop(p, None) != verdict:
            mismatches.append(p)
        beliefs.append(BeliefState(p, known_at, known_at, verdict))
    return AuditReplay(
        known_at, state.position, state.hash, verification, tuple(beliefs), tuple(mismatches)
    )
