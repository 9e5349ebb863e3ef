"""The log as the analysis tools read it: every record known at a moment, and every statement
with the corrections that followed it, read through ``Ledger.read`` in one pass."""

from __future__ import annotations

from datetime import datetime

import attrs

from ledger import (
    CorrectionMade,
    DocumentRegistered,
    Ledger,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)
from ledger.analysis._times import TimeLike, known
from ledger.events import corrected
from ledger.redaction import Redaction


@attrs.frozen
class Correction:
    """A correction as it struck one statement: what the statement read before and after."""

    correction: CorrectionMade
    position: int
    recorded_at: datetime
    before: StatementMade
    #: The statement as it reads after this correction; None for a withdrawal.
    after: StatementMade | None
    #: False when the statement had already been withdrawn: the correction changes how it
    #: reads, never that it is withdrawn, so no belief changes.
    effective: bool

    @property
    def withdrew(self) -> bool:
        return self.correction.withdraw

    def changed(self) -> list[tuple[str, object, object]]:
        """(field, before, after) of each statement field this correction changed."""
        if self.after is None:
            return []
        return [
            (name, getattr(self.before, name), getattr(self.after, name))
            for name in _FIELDS
            if getattr(self.before, name) != getattr(self.after, name)
        ]


_FIELDS = (
    "source_id",
    "proposition_id",
    "stance",
    "stated_at",
    "value",
    "unit",
    "document_id",
    "quote",
    "note",
)


@attrs.define
class Statement:
    """A statement as first recorded, and as its corrections (so far) leave it."""

    original: StatementMade
    position: int
    recorded_at: datetime
    current: StatementMade
    withdrawn: bool = False
    corrections: list[Correction] = attrs.Factory(list)

    @property
    def id(self) -> str:
        return self.original.statement_id

    def correct(self, correction: CorrectionMade, position: int, recorded_at: datetime) -> None:
        """Take in the next correction of this statement, by the ledger's one correction rule
        (``ledger.events.corrected``)."""
        before, effective = self.current, not self.withdrawn
        self.current, self.withdrawn = corrected(self.current, self.withdrawn, correction)
        after = None if correction.withdraw else self.current
        self.corrections.append(
            Correction(correction, position, recorded_at, before, after, effective)
        )

    def concerns(self, proposition: str) -> bool:
        """Filed under ``proposition`` now, or when first recorded."""
        return proposition in (self.current.proposition_id, self.original.proposition_id)


@attrs.frozen
class Log:
    """Everything recorded by ``known_at``: records by id in log order, and the last event."""

    known_at: datetime
    sources: dict[str, SourceRegistered]
    propositions: dict[str, PropositionDefined]
    documents: dict[str, DocumentRegistered]
    statements: dict[str, Statement]
    events: int
    last_position: int
    last_hash: str | None

    @property
    def checkpoint(self) -> str | None:
        """``POSITION:HASH`` of the last event known then: what ``verify --checkpoint`` takes."""
        return None if self.last_hash is None else f"{self.last_position}:{self.last_hash}"

    #: Statement ids by the propositions they are filed under (now, or when first recorded).
    filed: dict[str, list[str]] = attrs.field(factory=dict, repr=False)
    #: Every redaction, by the position of the event whose text it removed (whenever it was
    #: made: the text is gone at every ``known_at``).
    redacted: dict[int, Redaction] = attrs.field(factory=dict, repr=False)

    def about(self, proposition: str) -> list[Statement]:
        """The statements filed under ``proposition`` (now or first), in valid-time order."""
        found = [self.statements[i] for i in self.filed.get(proposition, ())]
        return sorted(found, key=lambda s: (s.current.stated_at, s.position))


def read_log(lg: Ledger, known_at: TimeLike | None = None) -> Log:
    """Read the log as known at ``known_at`` (default: now) in one pass."""
    k = known(lg, known_at)
    sources: dict[str, SourceRegistered] = {}
    propositions: dict[str, PropositionDefined] = {}
    documents: dict[str, DocumentRegistered] = {}
    statements: dict[str, Statement] = {}
    count, last_position, last_hash = 0, 0, None
    for recorded in lg.read(known_at=k):
        event = recorded.event
        count, last_position, last_hash = count + 1, recorded.position, recorded.hash
        if isinstance(event, StatementMade):
            statements[event.statement_id] = Statement(
                event, recorded.position, recorded.recorded_at, event
            )
        elif isinstance(event, CorrectionMade):
            target = statements.get(event.corrects)
            if target is not None:
                target.correct(event, recorded.position, recorded.recorded_at)
        elif isinstance(event, SourceRegistered):
            sources[event.source_id] = event
        elif isinstance(event, PropositionDefined):
            propositions[event.proposition_id] = event
        elif isinstance(event, DocumentRegistered):
            documents[event.document_id] = event
    filed: dict[str, list[str]] = {}
    for s in statements.values():
        for p in dict.fromkeys((s.original.proposition_id, s.current.proposition_id)):
            filed.setdefault(p, []).append(s.id)
    redacted = {r.position: r for r in lg.redactions()}
    return Log(
        k,
        sources,
        propositions,
        documents,
        statements,
        count,
        last_position,
        last_hash,
        filed,
        redacted,
    )
