"""Which policy decided: the ledger's policy records, and the policy in force at a known_at.

Policy records (:class:`~ledger.events.PolicySet`) live in one stream, ``policy``, whose version
n is the n-th policy set. The policy in force for a question asked as known at K is the latest
record recorded at or before K (none: the ledger's own policy as opened), applied to the
ledger's own policy by :func:`projections.rules.in_force`. Transaction time only: a policy has
no valid time, it is how the ledger judged from when it was recorded on, so a policy change
never alters an answer for an earlier known_at, and an audit replay at K uses K's policy.

:class:`PolicyLog` reads the stream (one indexed lookup; the records are few) and remembers it
up to the head it saw: every event recorded at or before that head's ``recorded_at`` had
committed when it looked (a later write is recorded later, see docs/concepts.md), so a question
about such a K is answered from memory, and a later K reads the stream again.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from datetime import datetime

from sqlalchemy.pool import SingletonThreadPool, StaticPool

from ledger.events import POLICY_STREAM, PolicySet
from ledger.records import RecordedEvent
from ledger.store.eventstore import EventStore
from projections.rules import BeliefPolicy, in_force


class PolicyLog:
    """The policy records of one ledger, and the policies they configure, remembered."""

    def __init__(self, store: EventStore, base: BeliefPolicy):
        self.store = store
        self.base = base
        # (every record recorded by ``through``, their recorded_at), swapped as one value
        self._seen: tuple[list[RecordedEvent], list[datetime], datetime | None] = ([], [], None)
        self._policies: dict[PolicySet | None, BeliefPolicy] = {}
        self._lock = threading.Lock()
        self._shared = isinstance(store.engine.pool, StaticPool | SingletonThreadPool)

    def prime(self) -> None:
        """Read the stream now if the log has grown since it was last read, on an engine whose
        connections are all one (an in-memory SQLite database): there a question that needs
        the policy holds the only connection while it asks. A no-op elsewhere."""
        if not self._shared:
            return
        head = self.store.head().recorded_at
        through = self._seen[2]
        if head is not None and (through is None or head > through):
            self._refresh()

    def history(self, known_at: datetime) -> list[RecordedEvent]:
        """Every policy record recorded at or before ``known_at``, oldest first."""
        records, times, through = self._seen
        if through is None or known_at > through:
            records, times, through = self._refresh()
        return records[: bisect_right(times, known_at)]

    def record_at(self, known_at: datetime) -> PolicySet | None:
        """The policy record in force at ``known_at``: the latest recorded by then."""
        found = self.history(known_at)
        if not found:
            return None
        event = found[-1].event
        assert isinstance(event, PolicySet)
        return event

    def at(self, known_at: datetime) -> BeliefPolicy:
        """The policy that decides a question asked as known at ``known_at``."""
        record = self.record_at(known_at)
        policy = self._policies.get(record)
        if policy is None:
            with self._lock:
                if len(self._policies) > 1_000:
                    self._policies.clear()
                policy = self._policies[record] = in_force(self.base, record)
        return policy

    def _refresh(self) -> tuple[list[RecordedEvent], list[datetime], datetime | None]:
        through = self.store.head().recorded_at  # first: everything recorded by then is read
        records = [r for r in self.store.read(stream_id=POLICY_STREAM)]
        seen = (records, [r.recorded_at for r in records], through)
        self._seen = seen
        return seen
