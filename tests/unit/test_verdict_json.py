"""The fast verdict encoder says, byte for byte, what the default policy's verdict says.

``projections.verdict_json`` assembles the default policy's verdict JSON from per-statement
fragments instead of building a ``Verdict`` and encoding it; the materialized projection stores
its output. Here it is compared with ``policy.verdict(...).to_json()`` at every step of random
histories, for the default rules and for a policy with other authoritative categories; a policy
that changes the rules is judged by its own ``verdict``.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from hypothesis import given, settings

from ledger.events import Category, PropositionDefined, SourceRegistered
from projections.beliefs import Status, Verdict
from projections.rules import DEFAULT_POLICY, BeliefPolicy, DefaultPolicy, Evidence, Said
from projections.verdict_json import judge_for
from tests.strategies import judged_histories

History = tuple[PropositionDefined, dict[str, SourceRegistered], list[Said]]


def assert_same_at_every_step(policy: BeliefPolicy, history: History) -> None:
    proposition, sources, said = history
    judge = judge_for(policy, proposition, sources)
    evidence = Evidence()
    for step in [None, *said]:
        if step is not None:
            evidence.add(step)
        expected = policy.verdict(proposition, sources, evidence)
        assert judge(evidence) == (expected.status.value, expected.to_json())
        assert Verdict.from_json(judge(evidence)[1]) == expected


@settings(max_examples=300)
@given(judged_histories())
def test_the_fast_encoding_equals_the_default_policys_verdict(history: History) -> None:
    assert_same_at_every_step(DEFAULT_POLICY, history)


@settings(max_examples=100)
@given(judged_histories())
def test_other_authoritative_categories_are_honoured(history: History) -> None:
    policy = DefaultPolicy(
        name="media-decides", authoritative=frozenset({Category.MEDIA, Category.GOVERNMENT})
    )
    assert_same_at_every_step(policy, history)


@settings(max_examples=100)
@given(judged_histories())
def test_one_judge_serves_fresh_evidence_too(history: History) -> None:
    """A judge remembers encodings between calls; fresh evidence must not be mistaken for the
    evidence it saw last."""
    proposition, sources, said = history
    judge = judge_for(DEFAULT_POLICY, proposition, sources)
    for n in range(len(said) + 1):
        evidence = Evidence.of(said[:n])
        expected = DEFAULT_POLICY.verdict(proposition, sources, evidence)
        assert judge(evidence) == (expected.status.value, expected.to_json())


@attrs.frozen
class Contrarian(DefaultPolicy):
    """Changes the rules: whatever the default says is claimed, this one calls denied."""

    name: str = "contrarian"

    def verdict(
        self,
        proposition: PropositionDefined,
        sources: Mapping[str, SourceRegistered],
        evidence: Evidence,
    ) -> Verdict:
        v = super().verdict(proposition, sources, evidence)
        return attrs.evolve(v, status=Status.DENIED) if v.status is Status.CLAIMED else v


@settings(max_examples=50)
@given(judged_histories())
def test_a_policy_that_changes_the_rules_is_judged_by_its_own_verdict(history: History) -> None:
    assert_same_at_every_step(Contrarian(), history)
