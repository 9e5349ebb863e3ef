"""Audit replay: what the ledger would have answered at time T, recomputed from the log itself.

The replay does not trust the materialized tables. It verifies the hash chain of the log prefix
recorded by T, folds that prefix with the reference fold, and then compares every answer with the
materialized projection's answer for the same (as_of=T, known_at=T), naming any disagreement.

Memory: the folded prefix (about 100 bytes a statement), and one slice of :data:`SLICE`
propositions at a time. The beliefs are compared and handed out as they come, never all held:
at a million events the whole audit stays near the fold's own peak.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import select

from ledger.errors import LedgerError
from ledger.records import VerifyReport
from ledger.store.backends import reading
from ledger.store.eventstore import EventStore
from ledger.store.schema import events
from ledger.times import from_micros, iso, to_micros
from projections.beliefs import BeliefState, Verdict
from projections.catalog import proposition_ids
from projections.fold import FoldState, by_proposition, fold, policy_of, verdict_of
from projections.materialized import MaterializedProjection
from projections.rules import BeliefPolicy

#: Propositions compared at a time: the projection's verdicts of a slice are read together (a
#: few scans, ``MaterializedProjection.verdicts_at``, which reads 500 at a time) and let go once
#: compared. At 1M events on SQLite, 1,000 and 200 made no difference worth the name (194 and
#: 192 MB peak), 50 not either; the rest of the replay's memory is the fold.
SLICE = 500


@attrs.frozen
class _Folded:
    """What a pass compares with: the prefix folded, the policy in force for it, the rows of
    each proposition's statements, and the propositions in id order."""

    state: FoldState
    decider: BeliefPolicy
    rows: dict[str, array[int]]
    names: list[str]


@attrs.frozen
class _Replayer:
    """How to fold the prefix again and ask the projection about it."""

    store: EventStore
    projection: MaterializedProjection
    policy: BeliefPolicy
    answered_with: BeliefPolicy | None
    known_at: datetime
    #: The projection is asked as known at the prefix's last event, not at ``known_at``: the
    #: same rows (nothing else was recorded by ``known_at``), and a pass long after the replay
    #: began, or a ``known_at`` in the future, does not see what was appended since.
    seen_at: datetime
    position: int

    def fold(self) -> _Folded:
        state = fold(self.store.read(until=self.position))
        names = sorted(state.propositions)
        return _Folded(state, policy_of(state, self.policy), by_proposition(state), names)

    def projected(self, names: list[str], decider: BeliefPolicy) -> dict[str, Verdict]:
        return self.projection.verdicts_at(
            self.known_at, self.seen_at, self.answered_with or decider, propositions=names
        )

    def strays(self, defined: dict[str, Any]) -> list[str]:
        """The propositions the projection holds by then that the prefix never defined."""
        known = proposition_ids(self.store.engine, to_micros(self.seen_at))
        return sorted(p for p in known if p not in defined)


class AuditReplay:
    """The audit replay at ``known_at``, made by :meth:`Ledger.replay <ledger.Ledger.replay>`.

    Known on return: the log prefix the replay rests on, ``position`` and ``hash`` of its last
    event, and ``verification``, the check of that prefix (chain and Merkle tree).

    The beliefs are replayed from the prefix and compared with the materialized projection's
    answers as they come, a slice of propositions at a time, so that no pass holds them all:
    :attr:`beliefs` hands them out in proposition id order. :attr:`mismatches` and :attr:`ok`
    are settled by a complete pass: iterate the beliefs first and they are ready when the
    last one has come; read them first and a pass runs that keeps nothing but them. A
    disagreement seen in any pass is kept.
    """

    def __init__(self, known_at: datetime, position: int, hash: str, verification: VerifyReport):
        self.known_at = known_at
        self.position = position
        self.hash = hash
        self.verification = verification
        self._folded: _Folded | None = None
        self._replayer: _Replayer | None = None
        self._propositions: tuple[str, ...] = ()
        self._found: set[str] = set()
        self._complete = False

    def _begin(self, replayer: _Replayer, folded: _Folded) -> None:
        """Hand the audit what its passes need (:func:`replay` does, with its first fold)."""
        self._replayer, self._folded = replayer, folded
        self._propositions = tuple(folded.names)

    def __repr__(self) -> str:
        done = self._complete
        summary = f"mismatches={self.mismatches!r}, ok={self.ok}" if done else "not compared yet"
        return (
            f"AuditReplay(known_at={self.known_at!r}, position={self.position}, "
            f"hash={self.hash!r}, verification={self.verification!r}, {summary})"
        )

    @property
    def beliefs(self) -> Iterator[BeliefState]:
        """Every proposition the prefix defines, as the replay answers, in id order, each
        compared with the projection's answer as it comes (so the ledger must still be open).
        Each read of this attribute is a new pass: the first uses the fold made by the replay,
        a later one folds the prefix again (the audit keeps nothing of a pass but its
        disagreements)."""
        return self._pass()

    @property
    def propositions(self) -> tuple[str, ...]:
        """The propositions the prefix defines, in id order: those a pass compares."""
        return self._propositions

    @property
    def mismatches(self) -> tuple[str, ...]:
        """The propositions on which the projection disagrees with the replay (or which it
        holds and the prefix never defined), in id order; runs a pass if none is complete."""
        if not self._complete:
            for _ in self._pass():
                pass
        return tuple(sorted(self._found))

    @property
    def ok(self) -> bool:
        """The prefix verified and the projection agreed on every belief (runs a pass if
        none is complete)."""
        return self.verification.ok and not self.mismatches

    def _pass(self) -> Iterator[BeliefState]:
        replayer = self._replayer
        if replayer is None:
            raise LedgerError("an AuditReplay to compare is made by Ledger.replay")
        folded, self._folded = self._folded or replayer.fold(), None
        known_at, state, found = self.known_at, folded.state, self._found
        for start in range(0, len(folded.names), SLICE):
            names = folded.names[start : start + SLICE]
            projected = replayer.projected(names, folded.decider)
            for p in names:
                # this pass alone holds the fold: each proposition's rows go once judged
                rows = folded.rows.pop(p, ())
                verdict = verdict_of(state, p, known_at, folded.decider, rows=rows)
                if projected.pop(p, None) != verdict:
                    found.add(p)
                yield BeliefState(p, known_at, known_at, verdict)
        found.update(replayer.strays(state.propositions))
        self._complete = True

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, times as ISO 8601: the document ``replay --json`` prints,
        every belief in it (for a large ledger, :meth:`iter_json` writes it without holding
        them). The beliefs come before ``mismatches`` and ``ok``, which their pass settles."""
        head = self._head()
        beliefs = [b.to_dict() for b in self.beliefs]
        return head | {"beliefs": beliefs, "mismatches": list(self.mismatches), "ok": self.ok}

    def iter_json(self) -> Iterator[str]:
        """The text of :meth:`to_dict`'s document as ``json.dumps(..., indent=2,
        ensure_ascii=False)`` writes it, piece by piece: each belief's as it is compared, the
        summary last. What ``factledger replay --json`` writes as it goes."""
        text = json.dumps(self._head(), indent=2, ensure_ascii=False)
        yield text[:-2] + ',\n  "beliefs": ['
        separator = "\n"
        for belief in self.beliefs:
            piece = json.dumps(belief.to_dict(), indent=2, ensure_ascii=False)
            yield separator + _indented(piece, "    ")
            separator = ",\n"
        yield "\n  ]" if separator == ",\n" else "]"
        tail = {"mismatches": list(self.mismatches), "ok": self.ok}
        yield ",\n" + json.dumps(tail, indent=2, ensure_ascii=False)[2:]

    def _head(self) -> dict[str, Any]:
        return {
            "known_at": iso(self.known_at),
            "position": self.position,
            "hash": self.hash,
            "verification": self.verification.to_dict(),
        }


def _indented(text: str, margin: str) -> str:
    return margin + text.replace("\n", "\n" + margin)


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
    same one). Each answer names its policy, so a wrong choice shows as a mismatch. The
    prefix is verified and folded here; the beliefs are compared as the returned
    :class:`AuditReplay` hands them out."""
    prefix_end = store.last_position_at(known_at)
    verification = store.verify(until=prefix_end)
    replayer = _Replayer(
        store,
        projection,
        policy,
        answered_with,
        known_at,
        _recorded_at(store, prefix_end) or known_at,
        prefix_end,
    )
    folded = replayer.fold()
    state = folded.state
    audit = AuditReplay(known_at, state.position, state.hash, verification)
    audit._begin(replayer, folded)
    return audit


def _recorded_at(store: EventStore, position: int) -> datetime | None:
    query = select(events.c.recorded_at).where(events.c.position == position)
    with reading(store.engine) as conn:
        micros = conn.execute(query).scalar()
    return None if micros is None else from_micros(int(micros))
