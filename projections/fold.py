"""The reference fold: the oracle every faster path is tested against.

Replay the log from position 1 (only events recorded at or before ``known_at``), keep every
source, proposition and statement with corrections applied in log order, and the latest policy
record, then evaluate the belief rules that record configures (:func:`policy_of`) over the
statements stated at or before ``as_of``. O(n) and obviously right; the
materialized projection must give the same answers.

``step`` is the fold's step function ``(state, event) -> state``. For O(n) total cost the
accumulator is updated in place and returned; it never escapes the fold that owns it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from ledger.errors import NotFound
from ledger.events import (
    CorrectionMade,
    DocumentRegistered,
    PolicySet,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
    corrected,
)
from ledger.hashing import GENESIS
from ledger.records import RecordedEvent
from projections.beliefs import BeliefState, Verdict
from projections.rules import (
    DEFAULT_POLICY,
    BeliefPolicy,
    Evidence,
    PolicyChoice,
    Said,
    chosen,
    in_force,
    named,
)


@attrs.define
class Known:
    """A statement as currently corrected, where it sits in the log, and whether it stands."""

    statement: StatementMade
    position: int
    withdrawn: bool = False

    def said(self) -> Said:
        s = self.statement
        return Said(
            s.statement_id, s.source_id, s.stance, s.stated_at, self.position, s.value, s.unit
        )


@attrs.define
class FoldState:
    """Everything the log has said, as of the last event folded in."""

    sources: dict[str, SourceRegistered] = attrs.Factory(dict)
    propositions: dict[str, PropositionDefined] = attrs.Factory(dict)
    documents: dict[str, DocumentRegistered] = attrs.Factory(dict)
    statements: dict[str, Known] = attrs.Factory(dict)
    #: The latest policy record folded in: the one in force (None: today's defaults).
    policy: PolicySet | None = None
    position: int = 0
    hash: str = GENESIS


def step(state: FoldState, recorded: RecordedEvent) -> FoldState:
    """Fold one stored event into the state."""
    event = recorded.event
    # The six event types are unrelated classes, so the order of the tests does not matter;
    # statements, by far the most common, come first.
    if isinstance(event, StatementMade):
        state.statements[event.statement_id] = Known(event, recorded.position)
    elif isinstance(event, CorrectionMade):
        _correct(state.statements[event.corrects], event)
    elif isinstance(event, SourceRegistered):
        state.sources[event.source_id] = event
    elif isinstance(event, PropositionDefined):
        state.propositions[event.proposition_id] = event
    elif isinstance(event, DocumentRegistered):
        state.documents[event.document_id] = event
    elif isinstance(event, PolicySet):
        state.policy = event
    state.position, state.hash = recorded.position, recorded.hash
    return state


def _correct(known: Known, correction: CorrectionMade) -> None:
    known.statement, known.withdrawn = corrected(known.statement, known.withdrawn, correction)


def fold(events: Iterable[RecordedEvent], state: FoldState | None = None) -> FoldState:
    state = FoldState() if state is None else state
    for recorded in events:
        state = step(state, recorded)
    return state


def verdict_of(
    state: FoldState,
    proposition: str,
    as_of: datetime,
    policy: BeliefPolicy = DEFAULT_POLICY,
    *,
    statements: Iterable[Known] | None = None,
) -> Verdict:
    """Evaluate the rules over the proposition's standing statements stated by ``as_of``.

    ``statements`` may narrow the search to that proposition's statements (see
    :func:`by_proposition`); by default every statement is scanned.
    """
    definition = state.propositions.get(proposition)
    if definition is None:
        raise NotFound(f"no proposition {proposition!r} in the ledger (as known at that time)")
    said = [
        k.said()
        for k in (state.statements.values() if statements is None else statements)
        if k.statement.proposition_id == proposition
        and not k.withdrawn
        and k.statement.stated_at <= as_of
    ]
    return named(policy).verdict(definition, state.sources, Evidence.of(said))


def policy_of(state: FoldState, policy: BeliefPolicy = DEFAULT_POLICY) -> BeliefPolicy:
    """The policy in force for the log folded into ``state``: ``policy`` (the ledger's own)
    with the latest policy record's parameters, if it takes them (``rules.in_force``)."""
    return in_force(policy, state.policy)


def by_proposition(state: FoldState) -> dict[str, list[Known]]:
    """Statements grouped by the proposition they are (now) filed under: one pass, so that
    judging every proposition costs O(statements), not O(propositions x statements)."""
    grouped: dict[str, list[Known]] = {}
    for known in state.statements.values():
        grouped.setdefault(known.statement.proposition_id, []).append(known)
    return grouped


def believed(
    events: Iterable[RecordedEvent],
    proposition: str,
    *,
    as_of: datetime,
    known_at: datetime,
    policy: BeliefPolicy = DEFAULT_POLICY,
    what_if: PolicyChoice | None = None,
) -> BeliefState:
    """The reference answer. ``events`` must be the log up to ``known_at``, in order.

    ``policy`` is the ledger's own policy: the policy record in force at ``known_at`` (the
    latest recorded by then) sets its parameters. ``what_if`` decides instead, as
    ``Ledger.believed(policy=...)`` does."""
    state = fold(e for e in events if e.recorded_at <= known_at)
    decider = policy_of(state, policy) if what_if is None else chosen(policy, what_if)
    return BeliefState(proposition, as_of, known_at, verdict_of(state, proposition, as_of, decider))
