"""The reference fold: the oracle every faster path is tested against.

Replay the log from position 1 (only events recorded at or before ``known_at``), keep every
source, proposition and statement with corrections applied in log order, and the latest policy
record, then evaluate the belief rules that record configures (:func:`policy_of`) over the
statements stated at or before ``as_of``. O(n) and obviously right; the
materialized projection must give the same answers.

``step`` is the fold's step function ``(state, event) -> state``. For O(n) total cost the
accumulator is updated in place and returned; it never escapes the fold that owns it.

A statement is kept as the rules see it (:class:`Known`: no document, quote or note, which no
rule reads and no correction's effect on the rest depends on), in columns
(:class:`Statements`): a replay of a million events keeps a million statements, and as one
event object each (with a record around it and an entry in a dict of ids) they took about 400
bytes apiece, a 437 MB peak at 1M; as columns the same replay peaks at 155 MB, about 100 bytes
a statement with the sources, propositions and documents.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from datetime import datetime

import attrs

from ledger.errors import NotFound
from ledger.events import (
    CorrectionMade,
    DocumentRegistered,
    PolicySet,
    PropositionDefined,
    SourceRegistered,
    Stance,
    StatementMade,
    corrected,
)
from ledger.hashing import GENESIS
from ledger.records import RecordedEvent
from ledger.times import from_micros, to_micros
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


@attrs.frozen
class Known:
    """A statement as currently corrected (the fields the rules read), where it sits in the
    log, and whether it stands."""

    statement_id: str
    source_id: str
    proposition_id: str
    stance: Stance
    stated_at: datetime
    position: int
    value: int | float | None
    unit: str | None
    withdrawn: bool

    def said(self) -> Said:
        return Said(
            self.statement_id,
            self.source_id,
            self.stance,
            self.stated_at,
            self.position,
            self.value,
            self.unit,
        )


class _Names:
    """The distinct values of one text column, each kept once; a row holds its number (0 is
    None)."""

    def __init__(self) -> None:
        self.names: list[str | None] = [None]
        self._numbers: dict[str | None, int] = {None: 0}

    def number(self, name: str | None) -> int:
        found = self._numbers.get(name)
        if found is None:
            found = self._numbers[name] = len(self.names)
            self.names.append(name)
        return found

    def find(self, name: str) -> int | None:
        return self._numbers.get(name)


_STANCES = tuple(Stance)
_STANCE_CODE = {s: i for i, s in enumerate(_STANCES)}


class Statements:
    """Every statement folded in, as currently corrected: one row each, in log order, held
    as columns of machine integers (ids back to back in one buffer; sources, propositions and
    units by number; times as microseconds, which every ``stated_at`` is exactly: aware UTC).

    Corrections are queued as they are folded in and applied, in log order, before anything
    is read: a correction changes only the statement it names, and a statement is recorded
    once, before any correction of it (its event id is derived from its id, and the store
    refuses a correction of a statement it does not hold), so applying them later gives the
    rows applying each at once would have. Finding the statements they name then takes one
    pass over the ids, where a dict of every id would have cost more than all the columns.
    """

    def __init__(self) -> None:
        self._ids = bytearray()  # every statement id, UTF-8, back to back
        self._id_ends = array("Q")  # where each row's id ends in _ids
        self._sources, self._propositions, self._units = _Names(), _Names(), _Names()
        self._source = array("I")
        self._proposition = array("I")
        self._unit = array("I")
        self._stance = bytearray()
        self._stated_at = array("q")
        self._position = array("q")
        self._value: list[int | float | None] = []
        self._withdrawn = bytearray()
        self._pending: list[CorrectionMade] = []

    def add(self, statement: StatementMade, position: int) -> None:
        self._ids += statement.statement_id.encode()
        self._id_ends.append(len(self._ids))
        self._source.append(self._sources.number(statement.source_id))
        self._proposition.append(self._propositions.number(statement.proposition_id))
        self._unit.append(self._units.number(statement.unit))
        self._stance.append(_STANCE_CODE[statement.stance])
        self._stated_at.append(to_micros(statement.stated_at))
        self._position.append(position)
        self._value.append(statement.value)
        self._withdrawn.append(False)

    def correct(self, correction: CorrectionMade) -> None:
        self._pending.append(correction)

    def __len__(self) -> int:
        return len(self._id_ends)

    def _id(self, row: int) -> str:
        start = self._id_ends[row - 1] if row else 0
        return self._ids[start : self._id_ends[row]].decode()

    def _known(self, row: int) -> Known:
        return Known(
            self._id(row),
            self._source_name(row),
            self._proposition_name(row),
            _STANCES[self._stance[row]],
            from_micros(self._stated_at[row]),
            self._position[row],
            self._value[row],
            self._units.names[self._unit[row]],
            bool(self._withdrawn[row]),
        )

    def _source_name(self, row: int) -> str:
        return str(self._sources.names[self._source[row]])

    def _proposition_name(self, row: int) -> str:
        return str(self._propositions.names[self._proposition[row]])

    def _settle(self) -> None:
        """Apply the queued corrections, in log order, through the one correction rule."""
        if not self._pending:
            return
        wanted = {c.corrects for c in self._pending}
        rows: dict[str, int] = {}
        for row in range(len(self)):
            statement_id = self._id(row)
            if statement_id in wanted:
                rows[statement_id] = row
        for correction in self._pending:
            row = rows[correction.corrects]  # a KeyError, as a dict of every id would raise
            k = self._known(row)
            before = StatementMade(
                k.statement_id,
                k.source_id,
                k.proposition_id,
                k.stance,
                k.stated_at,
                k.value,
                k.unit,
            )
            after, withdrawn = corrected(before, k.withdrawn, correction)
            self._source[row] = self._sources.number(after.source_id)
            self._proposition[row] = self._propositions.number(after.proposition_id)
            self._unit[row] = self._units.number(after.unit)
            self._stance[row] = _STANCE_CODE[after.stance]
            self._stated_at[row] = to_micros(after.stated_at)
            self._value[row] = after.value
            self._withdrawn[row] = withdrawn
        self._pending.clear()

    def values(self) -> Iterator[Known]:
        """Every statement, in log order."""
        return self.at(range(len(self)))

    def keys(self) -> list[str]:
        """Every statement id, in log order."""
        self._settle()
        return [self._id(row) for row in range(len(self))]

    def at(self, rows: Iterable[int]) -> Iterator[Known]:
        """The statements in ``rows`` (see :meth:`rows_of` and :meth:`by_proposition`)."""
        self._settle()
        return (self._known(row) for row in rows)

    def rows_of(self, proposition: str) -> list[int]:
        """The rows of the statements (now) filed under ``proposition``."""
        self._settle()
        number = self._propositions.find(proposition)
        return [row for row, p in enumerate(self._proposition) if p == number]

    def by_proposition(self) -> dict[str, array[int]]:
        """The rows of every proposition's statements, in one pass."""
        self._settle()
        grouped: dict[int, array[int]] = {}
        for row, number in enumerate(self._proposition):
            found = grouped.get(number)
            if found is None:
                found = grouped[number] = array("Q")
            found.append(row)
        return {self._propositions.names[n] or "": rows for n, rows in grouped.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Statements):
            return NotImplemented
        return list(self.values()) == list(other.values())

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dict it replaces


@attrs.define
class FoldState:
    """Everything the log has said, as of the last event folded in."""

    sources: dict[str, SourceRegistered] = attrs.Factory(dict)
    propositions: dict[str, PropositionDefined] = attrs.Factory(dict)
    documents: dict[str, DocumentRegistered] = attrs.Factory(dict)
    statements: Statements = attrs.Factory(Statements)
    #: The latest policy record folded in: the one in force (None: today's defaults).
    policy: PolicySet | None = None
    position: int = 0
    hash: str = GENESIS


def step(state: FoldState, recorded: RecordedEvent) -> FoldState:
    """Fold one stored event into the state."""
    event = recorded.event
    # The event types are unrelated classes, so the order of the tests does not matter;
    # statements, by far the most common, come first.
    if isinstance(event, StatementMade):
        state.statements.add(event, recorded.position)
    elif isinstance(event, CorrectionMade):
        state.statements.correct(event)
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
    rows: Iterable[int] | None = None,
) -> Verdict:
    """Evaluate the rules over the proposition's standing statements stated by ``as_of``.

    ``rows`` may give that proposition's statements (see :func:`by_proposition`); by default
    they are looked for among all of them.
    """
    definition = state.propositions.get(proposition)
    if definition is None:
        raise NotFound(f"no proposition {proposition!r} in the ledger (as known at that time)")
    statements = state.statements
    said = [
        k.said()
        for k in statements.at(statements.rows_of(proposition) if rows is None else rows)
        if k.proposition_id == proposition and not k.withdrawn and k.stated_at <= as_of
    ]
    return named(policy).verdict(definition, state.sources, Evidence.of(said))


def policy_of(state: FoldState, policy: BeliefPolicy = DEFAULT_POLICY) -> BeliefPolicy:
    """The policy in force for the log folded into ``state``: ``policy`` (the ledger's own)
    with the latest policy record's parameters, if it takes them (``rules.in_force``)."""
    return in_force(policy, state.policy)


def by_proposition(state: FoldState) -> dict[str, array[int]]:
    """The rows of the statements (now) filed under each proposition (for ``verdict_of``'s
    ``rows``): one pass, so that judging every proposition costs O(statements), not
    O(propositions x statements)."""
    return state.statements.by_proposition()


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
