"""The default policy's verdict as canonical JSON, without building the verdict.

The materialized projection judges a proposition at every step of its valid-time sweep and keeps
only the verdict's JSON text (to compare with the row in force, and to store). Building a
:class:`~projections.beliefs.Verdict` of attrs objects and encoding it again costs far more than
the judging itself, so for :class:`~projections.rules.DefaultPolicy` this module computes the
same text directly: each statement's JSON fragment is encoded once per sweep and the verdict is
assembled by joining fragments.

The output is byte-identical to ``policy.verdict(definition, sources, evidence).to_json()``;
``tests/unit/test_verdict_json.py`` checks it for random evidence. Any other policy (or a
subclass that overrides the rules) goes through its own ``verdict`` and ``to_json``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from datetime import datetime
from operator import attrgetter

from ledger.events import PropositionDefined, SourceRegistered, Stance
from ledger.hashing import canonical_json
from ledger.times import to_micros
from projections.beliefs import Role, Status
from projections.rules import BeliefPolicy, DefaultPolicy, Evidence, Said, explain

#: ``(status, verdict JSON)`` for the evidence so far; one judge serves one proposition's sweep.
Judge = Callable[[Evidence], tuple[str, str]]

_SUPPORTER, _DENIER, _CONFIRMER, _REFUTER = range(4)


def judge_for(
    policy: BeliefPolicy,
    proposition: PropositionDefined,
    sources: Mapping[str, SourceRegistered],
) -> Judge:
    """The fastest correct judge: the fragment-joining one for the default rules, else the
    policy's own verdict encoded."""
    if isinstance(policy, DefaultPolicy) and _rules_unchanged(type(policy)):
        return _FragmentJudge(policy, proposition, sources)

    def judge(evidence: Evidence) -> tuple[str, str]:
        verdict = policy.verdict(proposition, sources, evidence)
        return verdict.status.value, verdict.to_json()

    return judge


def _rules_unchanged(kind: type[DefaultPolicy]) -> bool:
    """A subclass that overrides the rules must not be judged by the copy of them here."""
    return kind.verdict is DefaultPolicy.verdict and kind.role is DefaultPolicy.role


class _Entry:
    """One statement as a live stance, encoded once: what the verdict needs of it."""

    __slots__ = ("json", "kind", "order", "role", "sort_key", "source", "stated_at", "statement")

    def __init__(self, said: Said, role: Role, micros: int):
        self.source = said.source
        self.stated_at: datetime = said.stated_at
        self.role = role
        self.statement = canonical_json(said.statement)
        self.order = (micros, said.position)
        self.sort_key = (micros, said.source)
        self.kind = _kind(said.stance, role)
        self.json = (
            f'{{"role":"{role.value}","source":{canonical_json(said.source)},'
            f'"stance":"{said.stance.value}","stated_at":{micros},"statement":{self.statement}}}'
        )


def _kind(stance: Stance, role: Role) -> int:
    weighty = role is not Role.OTHER
    if stance is Stance.CONFIRM:
        return _CONFIRMER if weighty else _SUPPORTER
    if stance is Stance.REFUTE:
        return _REFUTER if weighty else _DENIER
    if stance is Stance.ASSERT:
        return _SUPPORTER
    return _DENIER  # DENY: retract and no_comment never stand in ``live``


class _FragmentJudge:
    """DefaultPolicy.verdict(...).to_json(), assembled from per-statement fragments."""

    def __init__(
        self,
        policy: DefaultPolicy,
        proposition: PropositionDefined,
        sources: Mapping[str, SourceRegistered],
    ):
        self.policy = policy
        self.proposition = proposition
        self.sources = sources
        self.roles: dict[str, Role] = {}
        self.entries: dict[str, _Entry] = {}
        self.estimates: dict[str, tuple[tuple[int, str], str]] = {}
        self.micros: dict[str, int] = {}
        self.quantities_seen: tuple[Evidence, int] | None = None
        self.quantities_text = ("[]", "[]")

    def _micros(self, said: Said) -> int:
        found = self.micros.get(said.statement)
        if found is None:
            found = self.micros[said.statement] = to_micros(said.stated_at)
        return found

    def _entry(self, said: Said) -> _Entry:
        entry = self.entries.get(said.statement)
        if entry is None:
            role = self.roles.get(said.source)
            if role is None:
                role = self.roles[said.source] = self.policy.role(
                    said.source, self.proposition, self.sources
                )
            entry = self.entries[said.statement] = _Entry(said, role, self._micros(said))
        return entry

    def _estimate(self, said: Said) -> tuple[tuple[int, str], str]:
        found = self.estimates.get(said.statement)
        if found is None:
            micros = self._micros(said)
            text = (
                f'{{"source":{canonical_json(said.source)},"stated_at":{micros},'
                f'"statement":{canonical_json(said.statement)},'
                f'"unit":{canonical_json(said.unit)},"value":{canonical_json(said.value)}}}'
            )
            found = self.estimates[said.statement] = ((micros, said.source), text)
        return found

    def __call__(self, evidence: Evidence) -> tuple[str, str]:
        cached = self.entries
        entries = sorted(
            [cached.get(s.statement) or self._entry(s) for s in evidence.live.values()],
            key=_sort_key,
        )
        groups: tuple[list[_Entry], ...] = ([], [], [], [])
        for e in entries:
            groups[e.kind].append(e)
        supporters, deniers, confirmers, refuters = groups
        status, decisive = _decide(evidence, supporters, deniers, confirmers, refuters)
        first = evidence.first_support
        confirmed_at = min(e.order[0] for e in decisive) if status is Status.CONFIRMED else None
        estimates, summaries = self._quantities(evidence)
        text = "".join(
            (
                '{"confirmed_at":',
                "null" if confirmed_at is None else str(confirmed_at),
                ',"confirmers":',
                _list(confirmers),
                ',"decisive":[',
                ",".join([e.statement for e in decisive]),
                '],"deniers":',
                _list(deniers),
                ',"estimates":',
                estimates,
                ',"explanation":',
                canonical_json(explain(status, decisive, supporters, deniers, evidence)),
                ',"first_claimed_at":',
                "null" if first is None else str(self._micros(first)),
                ',"refuters":',
                _list(refuters),
                ',"status":"',
                status.value,
                '","summaries":',
                summaries,
                ',"supporters":',
                _list(supporters),
                "}",
            )
        )
        return status.value, text

    def _quantities(self, evidence: Evidence) -> tuple[str, str]:
        """The estimates and summaries texts, recomputed only when the quantities changed."""
        last = self.quantities_seen
        if last is None or last[0] is not evidence or last[1] != evidence.quantities_changed:
            self.quantities_text = (self._estimates(evidence), _summaries(evidence))
            self.quantities_seen = (evidence, evidence.quantities_changed)
        return self.quantities_text

    def _estimates(self, evidence: Evidence) -> str:
        said = sorted(
            (self._estimate(s) for s in evidence.quantities.values() if s.value is not None),
            key=_first,
        )
        return "[" + ",".join(text for _, text in said) + "]"


_sort_key = attrgetter("sort_key")


def _first(pair: tuple[tuple[int, str], str]) -> tuple[int, str]:
    return pair[0]


def _list(entries: list[_Entry]) -> str:
    return "[" + ",".join([e.json for e in entries]) + "]"


def _decide(
    evidence: Evidence,
    supporters: list[_Entry],
    deniers: list[_Entry],
    confirmers: list[_Entry],
    refuters: list[_Entry],
) -> tuple[Status, list[_Entry]]:
    """As ``projections.rules._decide``; kept in step with it by the equality property test."""
    if confirmers or refuters:
        latest = max((*confirmers, *refuters), key=_order)
        if latest.kind == _CONFIRMER:
            return Status.CONFIRMED, confirmers
        return Status.REFUTED, refuters
    if supporters and deniers:
        return Status.DISPUTED, supporters + deniers
    if supporters:
        return Status.CLAIMED, supporters
    if deniers:
        return Status.DENIED, deniers
    if evidence.retractions:
        return Status.RETRACTED, [
            _Entry(s, Role.OTHER, to_micros(s.stated_at)) for s in evidence.retractions
        ]
    return Status.UNKNOWN, []


def _order(e: _Entry) -> tuple[int, int]:
    return e.order


def _summaries(evidence: Evidence) -> str:
    by_unit: dict[str | None, list[int | float]] = {}
    for s in evidence.quantities.values():
        if s.value is not None:
            by_unit.setdefault(s.unit, []).append(s.value)
    if not by_unit:
        return "[]"
    return canonical_json(
        [
            {
                "count": len(v),
                "max": max(v),
                "median": statistics.median(v),
                "min": min(v),
                "unit": unit,
            }
            for unit, v in sorted(by_unit.items(), key=lambda kv: kv[0] or "")
        ]
    )
