"""Timelines (status transitions of one proposition in valid time) and diffs between two dates.

Both are computed when asked, from the same stance rows every answer comes from: a timeline
sweeps the proposition's statements in valid-time order, letting the policy judge at each
instant something was said (so it costs a verdict per instant of the proposition's history,
read once); a diff judges every proposition at each of its two dates in one pass per date,
then reads the statements of the propositions that changed a slice at a time and sweeps each
between the two dates only, to name the statements that changed them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from ledger.events import PropositionDefined, SourceRegistered, Stance
from ledger.times import iso, to_micros
from projections.beliefs import BeliefState, Status, Verdict
from projections.materialized import MaterializedProjection
from projections.rules import BeliefPolicy, Evidence, Said, named


@attrs.frozen
class Cause:
    """A statement that took effect at the start of a valid-time interval."""

    statement: str
    source: str
    stance: Stance
    stated_at: datetime


@attrs.frozen
class Interval:
    """One verdict over [valid_from, valid_to) of valid time (open-ended if valid_to is None)."""

    valid_from: datetime
    valid_to: datetime | None
    verdict: Verdict
    because: tuple[Cause, ...]


def sweep(
    policy: BeliefPolicy,
    definition: PropositionDefined,
    sources: Mapping[str, SourceRegistered],
    said: Sequence[Said],
    *,
    after: datetime | None = None,
    until: datetime | None = None,
) -> list[Interval]:
    """The proposition's verdicts over valid time, from its statements in (stated_at,
    position) order: a new interval wherever the verdict changes, caused by the statements
    made at that instant.

    ``after`` and ``until``: only the intervals that start in ``(after, until]``, the same as
    those of the whole sweep, judged at those instants only (the statements before ``after``
    are taken in without a verdict each, then judged once, as the verdict the first interval
    is told from). The last interval's ``valid_to`` is then None: nothing past ``until`` was
    looked at."""
    starts: list[tuple[datetime, Verdict, tuple[Cause, ...]]] = []
    evidence = Evidence()
    i, n = 0, len(said)
    seed: Verdict | None = None
    if after is not None:
        while i < n and said[i].stated_at <= after:
            evidence.add(said[i])
            i += 1
        if i:
            seed = policy.verdict(definition, sources, evidence)
    while i < n and (until is None or said[i].stated_at <= until):
        instant, first = said[i].stated_at, i
        while i < n and said[i].stated_at == instant:
            evidence.add(said[i])
            i += 1
        verdict = policy.verdict(definition, sources, evidence)
        if (starts[-1][1] if starts else seed) != verdict:  # the first always starts one
            causes = tuple(
                Cause(s.statement, s.source, s.stance, s.stated_at) for s in said[first:i]
            )
            starts.append((instant, verdict, causes))
    ends: list[datetime | None] = [start for start, _, _ in starts[1:]]
    ends.append(None)
    return [
        Interval(start, end, verdict, causes)
        for (start, verdict, causes), end in zip(starts, ends, strict=False)
    ]


def intervals(
    projection: MaterializedProjection,
    proposition: str,
    known_at: datetime,
    policy: BeliefPolicy | None = None,
) -> list[Interval]:
    """The proposition's valid-time timeline as known at ``known_at``, judged by ``policy``
    (default: the projection's; the ledger passes the policy in force at ``known_at``)."""
    definition, said, sources = projection.statements(proposition, known_at)
    return sweep(named(policy or projection.policy), definition, sources, said)


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
            "policy": self.verdict.policy,
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
            "policy": self.after.policy,
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
    projection: MaterializedProjection,
    a: datetime,
    b: datetime,
    known_at: datetime,
    *,
    every_change: bool = False,
    policy: BeliefPolicy | None = None,
) -> list[Change]:
    """Every proposition whose status or estimates changed between valid times ``a`` and ``b``
    (with ``every_change``, whose verdict changed in any way: supporters, deniers, ...)."""
    earlier, later = min(a, b), max(a, b)
    judge = named(policy or projection.policy)  # default: the projection's
    befores = projection.verdicts_at(earlier, known_at, judge)
    afters = projection.verdicts_at(later, known_at, judge)
    changed = [
        p
        for p in sorted(afters)
        if befores[p] != afters[p]
        and (
            every_change
            or (befores[p].status, befores[p].estimates) != (afters[p].status, afters[p].estimates)
        )
    ]
    sources = projection.sources(to_micros(known_at))
    changes = []
    # The changed propositions' statements a slice at a time, each swept only from ``earlier``
    # to ``later``: what took effect in between (the same causes as their whole timelines').
    for proposition, definition, said in projection.statements_of(changed, known_at):
        causes = tuple(
            c
            for iv in sweep(judge, definition, sources, said, after=earlier, until=later)
            for c in iv.because
        )
        changes.append(
            Change(
                proposition,
                BeliefState(proposition, earlier, known_at, befores[proposition]),
                BeliefState(proposition, later, known_at, afters[proposition]),
                causes,
            )
        )
    return changes
