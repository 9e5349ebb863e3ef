"""Policy records (issue 13): the policy is part of the record, on SQLite and PostgreSQL.

The reference fold is the oracle: with policy records anywhere in a random history, the
materialized projection answers exactly as the fold does (same verdict, same policy named) for
any (as_of, known_at); a policy recorded later never changes an answer for an earlier known_at;
a what-if policy records nothing; a custom policy class keeps working.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import (
    Category,
    DefaultPolicy,
    Event,
    Ledger,
    NotFound,
    PropositionDefined,
    RecordedEvent,
    SourceRegistered,
    StatementMade,
    Status,
    Verdict,
)
from ledger.errors import UnknownReference
from ledger.events import POLICY_STREAM, PolicySet
from projections import fold as reference
from projections.rules import Evidence
from tests.conftest import Databases, FakeClock
from tests.strategies import histories, instants, slugs

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ONE_US = timedelta(microseconds=1)


@st.composite
def policy_sets(draw: st.DrawFn, source_ids: list[str], policy_id: str) -> PolicySet:
    """A policy record: any set of authoritative categories (none at all included),
    authoritative sources drawn from the sources registered so far, parties deciding or not."""
    sources = draw(st.lists(st.sampled_from(source_ids), unique=True)) if source_ids else []
    return PolicySet(
        policy_id,
        authoritative=draw(st.lists(st.sampled_from(Category), unique=True)),
        authoritative_sources=sources,
        parties_decide=draw(st.booleans()),
    )


@st.composite
def with_policies(draw: st.DrawFn) -> tuple[list[list[Event]], list[bool]]:
    """A random history with policy records dropped into random places (each naming only
    sources registered before it), and whether each batch advances the clock."""
    history = draw(histories())
    ids = iter(draw(st.lists(slugs(), min_size=4, max_size=4, unique=True)))
    out: list[list[Event]] = []
    registered: list[str] = []
    for batch in history:
        new: list[Event] = []
        for event in batch:
            new.append(event)
            if isinstance(event, SourceRegistered):
                registered.append(event.source_id)
            if draw(st.integers(0, 5)) == 0:
                policy_id = next(ids, None)
                if policy_id is not None:
                    new.append(draw(policy_sets(list(registered), policy_id)))
        out.append(new)
    advances = draw(st.lists(st.booleans(), min_size=len(out), max_size=len(out)))
    return out, advances


@contextmanager
def built(
    databases: Databases, history: list[list[Event]], advances: list[bool]
) -> Iterator[tuple[Ledger, FakeClock, list[datetime]]]:
    clock = FakeClock(step=timedelta(0))
    recorded = []
    with Ledger.open(databases.new_url(), clock=clock) as ledger:
        for batch, advance in zip(history, advances, strict=True):
            if advance:
                clock.now += timedelta(seconds=1)
            ledger.append(batch)
            recorded.append(clock.now)
        yield ledger, clock, recorded


def known_ats(recorded: list[datetime]) -> list[datetime]:
    return sorted({t + d for t in recorded for d in (-ONE_US, timedelta(0), ONE_US)})


def folded(
    events: list[RecordedEvent], proposition: str, as_of: datetime, known_at: datetime
) -> Verdict | None:
    try:
        return reference.believed(events, proposition, as_of=as_of, known_at=known_at).verdict
    except NotFound:
        return None


def projected(
    ledger: Ledger, proposition: str, as_of: datetime, known_at: datetime
) -> Verdict | None:
    try:
        return ledger.believed(proposition, as_of=as_of, known_at=known_at).verdict
    except NotFound:
        return None


def propositions_of(events: list[RecordedEvent]) -> list[str]:
    return sorted(
        {e.event.proposition_id for e in events if isinstance(e.event, PropositionDefined)}
    )


@PROPERTY
@given(scenario=with_policies(), data=st.data())
def test_with_policy_records_the_projection_agrees_with_the_reference_fold(
    databases: Databases, scenario: tuple[list[list[Event]], list[bool]], data: st.DataObject
) -> None:
    with built(databases, *scenario) as (ledger, _, recorded):
        events = list(ledger.read())
        queries = data.draw(
            st.lists(st.tuples(instants(), st.sampled_from(known_ats(recorded))), max_size=5)
        )
        for as_of, known_at in queries:
            everything = {
                s.proposition: s.verdict for s in ledger.beliefs(as_of=as_of, known_at=known_at)
            }
            for proposition in propositions_of(events):
                expected = folded(events, proposition, as_of, known_at)
                assert projected(ledger, proposition, as_of, known_at) == expected
                assert everything.get(proposition) == expected
                if expected is not None:
                    state = reference.fold(e for e in events if e.recorded_at <= known_at)
                    assert expected.policy == reference.policy_of(state).name


@PROPERTY
@given(
    scenario=with_policies(), as_ofs=st.lists(instants(), min_size=1, max_size=3), data=st.data()
)
def test_a_policy_recorded_later_never_changes_an_answer_for_an_earlier_known_at(
    databases: Databases,
    scenario: tuple[list[list[Event]], list[bool]],
    as_ofs: list[datetime],
    data: st.DataObject,
) -> None:
    with built(databases, *scenario) as (ledger, clock, recorded):
        events = list(ledger.read())
        names = propositions_of(events)
        seen = {
            (p, a, k): projected(ledger, p, a, k)
            for p in names
            for a in as_ofs
            for k in sorted(set(recorded))
        }
        clock.now += timedelta(seconds=1)
        sources = [e.event.source_id for e in events if isinstance(e.event, SourceRegistered)]
        later = data.draw(policy_sets(sources, "a-later-policy"))
        ledger.append([later])
        for (p, a, k), verdict in seen.items():
            assert projected(ledger, p, a, k) == verdict
        # and from its own recorded_at on, it is the one in force
        assert ledger.policy_in_force().name == "a-later-policy"
        for p in names:
            assert ledger.believed(p).policy == "a-later-policy"


# -- worked cases ----------------------------------------------------------------------------


def _salisbury(ledger: Ledger) -> None:
    ledger.append(
        [
            SourceRegistered("opcw", "OPCW", "international_org"),
            SourceRegistered("ru-mfa", "Russian foreign ministry", "government", "ru"),
            PropositionDefined("novichok-used", "A Novichok nerve agent was used in Salisbury"),
            StatementMade("opcw-confirms", "opcw", "novichok-used", "confirm", "2018-04-12"),
            StatementMade("ru-denies", "ru-mfa", "novichok-used", "deny", "2018-04-14"),
        ]
    )


def test_a_policy_record_counts_from_its_recorded_at_on(ledger: Ledger) -> None:
    _salisbury(ledger)
    before = ledger.head().recorded_at
    assert ledger.believed("novichok-used").status is Status.DISPUTED
    journalist = PolicySet(
        "journalist-v1",
        authoritative=["investigation", "court", "international_org"],
        note="the OPCW's word settles a chemical weapon's identity",
    )
    ledger.append([journalist], expected_versions={POLICY_STREAM: 0})
    now = ledger.believed("novichok-used", as_of="2018-05-01")
    assert (now.status, now.policy) == (Status.CONFIRMED, "journalist-v1")
    assert now.to_dict()["policy"] == "journalist-v1"
    then = ledger.believed("novichok-used", as_of="2018-05-01", known_at=before)
    assert (then.status, then.policy) == (Status.DISPUTED, "default-v1")
    assert before is not None
    assert ledger.replay(before).ok and ledger.replay(ledger.now()).ok
    assert [r.event for r in ledger.policy_records()] == [journalist]
    # a named source, whatever its category
    ledger.append([PolicySet("opcw-only", authoritative=[], authoritative_sources=["opcw"])])
    assert ledger.believed("novichok-used").status is Status.CONFIRMED
    assert ledger.believed("novichok-used").policy == "opcw-only"


def test_a_what_if_policy_answers_and_records_nothing(ledger: Ledger) -> None:
    _salisbury(ledger)
    head = ledger.head()
    what_if = PolicySet("what-if", authoritative_sources=["opcw"])
    for via in ("projection", "fold"):
        state = ledger.believed("novichok-used", policy=what_if, via=via)
        assert (state.status, state.policy) == (Status.CONFIRMED, "what-if")
    assert ledger.beliefs(policy=what_if)[0].status is Status.CONFIRMED
    assert ledger.timeline("novichok-used", policy=what_if)[-1].status is Status.CONFIRMED
    assert ledger.diff("2018-04-01", "2018-05-01", policy=what_if)[0].after.policy == "what-if"
    assert ledger.head() == head
    assert ledger.believed("novichok-used").status is Status.DISPUTED


class TwoSources:
    """A custom policy without parameters: recorded policies leave it alone."""

    name = "two-sources-v1"

    def verdict(
        self,
        proposition: PropositionDefined,
        sources: Mapping[str, SourceRegistered],
        evidence: Evidence,
    ) -> Verdict:
        supporting = [s for s in evidence.live.values() if s.stance in ("assert", "confirm")]
        return Verdict(Status.CLAIMED if len(supporting) >= 2 else Status.UNKNOWN)


@pytest.mark.parametrize("record", [False, True])
def test_a_custom_policy_class_keeps_deciding_and_names_itself(
    ledger_url: str, record: bool
) -> None:
    with Ledger.open(ledger_url, policy=TwoSources()) as lg:
        _salisbury(lg)
        if record:
            lg.append([PolicySet("ignored", authoritative=["international_org"])])
        state = lg.believed("novichok-used")
        assert (state.status, state.policy) == (Status.UNKNOWN, "two-sources-v1")
        assert lg.believed("novichok-used", via="fold").verdict == state.verdict
        assert lg.replay(lg.now()).ok


def test_a_configurable_custom_policy_takes_the_recorded_parameters(ledger_url: str) -> None:
    class Stricter(DefaultPolicy):
        def configured(self, record: PolicySet) -> DefaultPolicy:
            return DefaultPolicy(
                name=f"stricter+{record.policy_id}",
                authoritative=frozenset(record.authoritative) - {Category.COURT},
                authoritative_sources=frozenset(record.authoritative_sources),
            )

    with Ledger.open(ledger_url, policy=Stricter(name="stricter")) as lg:
        _salisbury(lg)
        assert lg.believed("novichok-used").policy == "stricter"
        lg.append([PolicySet("un", authoritative=["international_org", "court"])])
        state = lg.believed("novichok-used")
        assert (state.status, state.policy) == (Status.CONFIRMED, "stricter+un")


def test_a_policy_record_names_only_registered_sources(ledger: Ledger) -> None:
    with pytest.raises(UnknownReference):
        ledger.append([PolicySet("p", authoritative_sources=["nobody"])])


def test_policy_records_import_export_and_round_trip(ledger: Ledger, ledger_url: str) -> None:
    text = (
        '{"type": "source", "id": "opcw", "name": "OPCW", "category": "international_org"}\n'
        '{"type": "policy", "id": "journalist-v1", "authoritative": ["international_org", '
        '"court", "investigation"], "authoritative_sources": ["opcw"], "note": "why"}\n'
        '{"type": "policy", "id": "defaults"}\n'
    )
    report = ledger.import_jsonl(io.StringIO(text))
    assert report.appended == 3
    out = io.StringIO()
    ledger.export_jsonl(out)
    lines = out.getvalue().splitlines()
    assert lines[1] == (
        '{"type": "policy", "id": "journalist-v1", "authoritative": ["international_org", '
        '"investigation", "court"], "authoritative_sources": ["opcw"], "parties_decide": true, '
        '"note": "why"}'
    )
    assert lines[2] == (
        '{"type": "policy", "id": "defaults", "authoritative": ["investigation", "court"], '
        '"authoritative_sources": [], "parties_decide": true}'
    )
    assert ledger.import_jsonl(io.StringIO(out.getvalue())).appended == 0
    assert [r.event.key for r in ledger.policy_records()] == ["journalist-v1", "defaults"]
    assert ledger.policy_in_force().name == "defaults"
