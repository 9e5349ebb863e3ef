"""A stateful test of the belief projection: appends, corrections, redactions, queries and
rebuilds interleaved at random, the reference fold over the model's own copy of the log as the
oracle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ledger import (
    CorrectionMade,
    Ledger,
    NotFound,
    PropositionDefined,
    RecordedEvent,
    SourceRegistered,
)
from ledger.events import residue
from projections import fold as reference
from projections.beliefs import Verdict
from tests.conftest import Databases, FakeClock
from tests.strategies import corrections, instants, statements

SOURCES = [
    SourceRegistered("kr-nis", "NIS", "intelligence", "kr"),
    SourceRegistered("kcna", "KCNA", "state_media", "kp"),
    SourceRegistered("icj", "ICJ", "court"),
    SourceRegistered("yonhap", "Yonhap", "media", "kr"),
]
PROPOSITIONS = [
    PropositionDefined("troops", "Troops are in Russia", parties=["kcna"]),
    PropositionDefined("shells", "Shells were supplied", parties=["kcna", "kr-nis"]),
]
SOURCE_IDS = [s.source_id for s in SOURCES]
PROPOSITION_IDS = [p.proposition_id for p in PROPOSITIONS]


class ProjectionMachine(RuleBasedStateMachine):
    def __init__(self, new_url: Callable[[], str]) -> None:
        super().__init__()
        self.clock = FakeClock(step=timedelta(0))
        self.ledger = Ledger.open(new_url(), clock=self.clock)
        self.log: list[RecordedEvent] = list(self.ledger.append([*SOURCES, *PROPOSITIONS]).appended)
        self.statements: list[str] = []
        self.unredacted: set[int] = set()  # indices in self.log of statements not yet redacted
        self.counter = 0

    def teardown(self) -> None:
        self.ledger.close()

    def _new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    @rule(data=st.data(), advance=st.booleans())
    def a_source_makes_a_statement(self, data: st.DataObject, advance: bool) -> None:
        if advance:
            self.clock.now += timedelta(seconds=1)
        made = data.draw(statements(SOURCE_IDS, PROPOSITION_IDS, self._new_id("s")))
        self.log.extend(self.ledger.append([made]).appended)
        self.statements.append(made.statement_id)
        self.unredacted.add(len(self.log) - 1)

    @rule(data=st.data())
    def the_ledger_corrects_a_statement(self, data: st.DataObject) -> None:
        if not self.statements:
            return
        self.clock.now += timedelta(seconds=1)
        fix = data.draw(
            corrections(self.statements, SOURCE_IDS, PROPOSITION_IDS, self._new_id("fix"))
        )
        assert isinstance(fix, CorrectionMade)
        self.log.extend(self.ledger.append([fix]).appended)

    @rule(data=st.data())
    def an_editor_redacts_a_statement(self, data: st.DataObject) -> None:
        """The text goes, the statement stays: the model keeps what the redaction leaves of it
        (its residue) and the redaction event; no answer may change (the queries check it)."""
        open_ = [i for i, r in enumerate(self.log) if i in self.unredacted]
        if not open_:
            return
        i = data.draw(st.sampled_from(open_))
        self.clock.now += timedelta(seconds=1)
        self.ledger.redact(str(self.log[i].event_id), reason="takedown", by="ed", scrub=False)
        self.log[i] = attrs.evolve(self.log[i], event=residue(self.log[i].event))
        self.unredacted.discard(i)
        self.log.extend(self.ledger.store.read(after=len(self.log)))

    @rule()
    def the_projection_is_rebuilt(self) -> None:
        assert self.ledger.rebuild() == len(self.log)

    @rule(as_of=instants(), back=st.integers(0, 4), proposition=st.sampled_from(PROPOSITION_IDS))
    def a_query_matches_the_reference_fold(
        self, as_of: datetime, back: int, proposition: str
    ) -> None:
        known_at = self.clock.now - timedelta(seconds=back)
        assert self._projected(proposition, as_of, known_at) == self._folded(
            proposition, as_of, known_at
        )

    def _projected(self, proposition: str, as_of: datetime, known_at: datetime) -> Verdict | None:
        try:
            return self.ledger.believed(proposition, as_of=as_of, known_at=known_at).verdict
        except NotFound:
            return None

    def _folded(self, proposition: str, as_of: datetime, known_at: datetime) -> Verdict | None:
        try:
            return reference.believed(self.log, proposition, as_of=as_of, known_at=known_at).verdict
        except NotFound:
            return None

    @invariant()
    def the_log_is_exactly_what_was_appended(self) -> None:
        assert self.ledger.head().position == len(self.log)

    @invariant()
    def the_log_reads_back_as_the_model_says(self) -> None:
        assert [r.event for r in self.ledger.read()] == [r.event for r in self.log]


def test_interleaved_appends_corrections_queries_and_rebuilds_agree_with_the_fold(
    databases: Databases,
) -> None:
    class OnThisBackend(ProjectionMachine):
        def __init__(self) -> None:
            super().__init__(databases.new_url)

    run_state_machine_as_test(
        OnThisBackend,
        settings=settings(
            max_examples=15,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
