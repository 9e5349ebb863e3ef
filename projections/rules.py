"""Belief rules: from what sources said to what is believed. Pluggable; the default documented
in ``docs/belief-rules.md``.

The rules see :class:`Evidence`: each source's *live* stance (its latest statement by
``stated_at``, ties broken by log position; ``retract`` clears it, ``no_comment`` changes
nothing), each live source's latest quantity, and the history facts a verdict cites. A policy turns
evidence into a :class:`~projections.beliefs.Verdict`. Evidence is accumulated one statement at a
time in (``stated_at``, position) order by the reference fold, or read as a snapshot from the
materialized stance rows; either way this module is the only place a verdict is decided.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Protocol, TypeAlias

import attrs

from ledger.events import Category, PolicySet, PropositionDefined, SourceRegistered, Stance
from projections.beliefs import Estimate, EstimateSummary, Role, SourceStance, Status, Verdict

#: The stances that support a proposition: the first of them stated is its first claim (what
#: ``Evidence.first_support`` holds), and the projection's answers look it up by them.
SUPPORT: tuple[Stance, ...] = (Stance.ASSERT, Stance.CONFIRM)
_MAX_NAMES = 4


@attrs.frozen
class Said:
    """A statement as the rules see it: corrections already applied, withdrawn ones left out."""

    statement: str
    source: str
    stance: Stance
    stated_at: datetime
    position: int
    value: int | float | None = None
    unit: str | None = None
    # The SourceStance and the Estimate the rules last built from this statement (see _stance
    # and _estimate): no part of its value (not compared, not shown), and gone with it.
    _built: tuple[SourceStance | None, Estimate | None] = attrs.field(
        default=(None, None), init=False, eq=False, repr=False
    )

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.stated_at, self.position)


class Evidence:
    """What has been said about one proposition up to some valid time.

    The reference fold accumulates it one statement at a time (:meth:`add`, in
    (``stated_at``, position) order); the materialized projection reads it as a snapshot from
    the stance rows (:meth:`at`), where the parts a policy seldom needs (``retractions``,
    ``no_comments``) may be given as loaders that run on first use. A policy reads it only
    while its ``verdict`` runs.
    """

    def __init__(self) -> None:
        #: Each source's live stance: its latest statement, unless it retracted it since.
        self.live: dict[str, Said] = {}
        #: Each source's latest quantity, unless it retracted since.
        self.quantities: dict[str, Said] = {}
        #: The earliest supporting statement (assert or confirm), live or not.
        self.first_support: Said | None = None
        self._retractions: list[Said] | Callable[[], list[Said]] = []
        self._no_comments: int | Callable[[], int] = 0

    @property
    def retractions(self) -> Sequence[Said]:
        """Every retraction so far, in order."""
        return self._retraction_list()

    def _retraction_list(self) -> list[Said]:
        if callable(self._retractions):
            self._retractions = self._retractions()
        return self._retractions

    @property
    def no_comments(self) -> int:
        """How many statements declined to comment."""
        if callable(self._no_comments):
            self._no_comments = self._no_comments()
        return self._no_comments

    def add(self, said: Said) -> None:
        """Take in the next statement; callers feed them in (stated_at, position) order."""
        if said.stance is Stance.NO_COMMENT:
            self._no_comments = self.no_comments + 1
        elif said.stance is Stance.RETRACT:
            self.live.pop(said.source, None)
            self.quantities.pop(said.source, None)
            self._retraction_list().append(said)
        else:
            self.live[said.source] = said
            if said.value is not None:
                self.quantities[said.source] = said
            if said.stance in SUPPORT and self.first_support is None:
                self.first_support = said

    @classmethod
    def of(cls, said: Iterable[Said]) -> Evidence:
        evidence = cls()
        for s in sorted(said, key=lambda s: s.order):
            evidence.add(s)
        return evidence

    @classmethod
    def at(
        cls,
        live: dict[str, Said],
        quantities: dict[str, Said],
        first_support: Said | None,
        retractions: list[Said] | Callable[[], list[Said]],
        no_comments: int | Callable[[], int],
    ) -> Evidence:
        """A snapshot, as the materialized projection reads it."""
        evidence = cls()
        evidence.live, evidence.quantities = live, quantities
        evidence.first_support = first_support
        evidence._retractions, evidence._no_comments = retractions, no_comments
        return evidence


class BeliefPolicy(Protocol):
    """Turns evidence into a verdict. ``name`` identifies the policy *and its version*: change
    it whenever the rules do. Verdicts are decided when a question is asked, from the stored
    stances, so a policy can change without rebuilding anything."""

    @property
    def name(self) -> str: ...

    def verdict(
        self,
        proposition: PropositionDefined,
        sources: Mapping[str, SourceRegistered],
        evidence: Evidence,
    ) -> Verdict: ...


@attrs.frozen
class DefaultPolicy:
    """The default belief rules (see ``docs/belief-rules.md``).

    ``authoritative``: the source categories whose confirm or refute decides;
    ``authoritative_sources``: sources that decide whatever their category; ``parties_decide``:
    whether a proposition's parties decide it by their own confirm or refute. A policy record
    (:class:`~ledger.events.PolicySet`) sets all three: :meth:`configured`.
    """

    name: str = "default-v1"
    authoritative: frozenset[Category] = frozenset({Category.INVESTIGATION, Category.COURT})
    authoritative_sources: frozenset[str] = frozenset()
    parties_decide: bool = True

    def configured(self, record: PolicySet) -> DefaultPolicy:
        """These rules with the parameters a policy record sets, named after the record."""
        return DefaultPolicy(
            name=record.policy_id,
            authoritative=frozenset(record.authoritative),
            authoritative_sources=frozenset(record.authoritative_sources),
            parties_decide=record.parties_decide,
        )

    def role(
        self, source: str, proposition: PropositionDefined, sources: Mapping[str, SourceRegistered]
    ) -> Role:
        return self.roles(proposition, sources)(source)

    def roles(
        self, proposition: PropositionDefined, sources: Mapping[str, SourceRegistered]
    ) -> Callable[[str], Role]:
        """Each source's role on ``proposition``, as a function of the source (what
        ``role`` answers; a verdict asks it once per live stance)."""
        parties = proposition.parties if self.parties_decide else ()
        named, authoritative, registered = (
            self.authoritative_sources,
            self.authoritative,
            sources.get,
        )

        def role(source: str) -> Role:
            if source in parties:
                return Role.PARTY
            if source in named:
                return Role.AUTHORITY
            found = registered(source)
            if found is not None and found.category in authoritative:
                return Role.AUTHORITY
            return Role.OTHER

        return role

    def verdict(
        self,
        proposition: PropositionDefined,
        sources: Mapping[str, SourceRegistered],
        evidence: Evidence,
    ) -> Verdict:
        live = sorted(evidence.live.values(), key=_BY_TIME_AND_SOURCE)
        # Each source has one live stance, so the four lists split the stances exactly:
        # support is any assert, and a confirm not weighty enough to decide (likewise denial);
        # a weighty (party or authority) confirm or refute goes to the deciders.
        supporters: list[SourceStance] = []
        deniers: list[SourceStance] = []
        confirmers: list[SourceStance] = []
        refuters: list[SourceStance] = []
        role = self.roles(proposition, sources)
        for said in live:
            weight = role(said.source)
            stance = said._built[0]  # _stance, its usual hit inlined
            if stance is None or stance.role is not weight:
                stance = _stance(said, weight)
            kind = said.stance
            if kind is Stance.ASSERT:
                supporters.append(stance)
            elif kind is Stance.DENY:
                deniers.append(stance)
            elif kind is Stance.CONFIRM:
                (supporters if weight is Role.OTHER else confirmers).append(stance)
            elif kind is Stance.REFUTE:
                (deniers if weight is Role.OTHER else refuters).append(stance)
        supporting, denying = tuple(supporters), tuple(deniers)
        confirming, refuting = tuple(confirmers), tuple(refuters)
        status, decisive = _decide(evidence, confirming, refuting, supporting, denying)
        first = evidence.first_support
        estimates, summaries = _quantities(evidence)
        return Verdict(
            status=status,
            supporters=supporting,
            deniers=denying,
            confirmers=confirming,
            refuters=refuting,
            estimates=estimates,
            summaries=summaries,
            first_claimed_at=None if first is None else first.stated_at,
            confirmed_at=min(s.stated_at for s in decisive) if status is Status.CONFIRMED else None,
            decisive=tuple(s.statement for s in decisive),
            explanation=explain(status, decisive, supporting, denying, evidence),
            policy=self.name,
        )


_BY_TIME_AND_SOURCE = attrgetter("stated_at", "source")

# The SourceStance and the Estimate built from a Said are kept by the Said itself: answers on
# a busy proposition list hundreds of stances, most of them the same Said objects as the last
# answer's (the projection shares Said values between answers), and building each frozen
# value anew was a third of the rules' time. Kept there, they live exactly as long as the Said
# (no cache of their own to bound, none to keep a Said alive); by the Said's identity in two
# caches of 4,096 entries, a busy proposition asked about at many instants outgrew them (on
# the hot story a quarter of its ~255 stances an answer were built again).


def _stance(said: Said, role: Role) -> SourceStance:
    stance, estimate = said._built
    if stance is None or stance.role is not role:
        stance = SourceStance(said.source, said.stance, said.stated_at, said.statement, role)
        object.__setattr__(said, "_built", (stance, estimate))  # frozen: no part of its value
    return stance


def _estimate(said: Said, value: int | float) -> Estimate:
    stance, estimate = said._built
    if estimate is None:
        estimate = Estimate(said.source, value, said.unit, said.stated_at, said.statement)
        object.__setattr__(said, "_built", (stance, estimate))
    return estimate


def _decide(
    evidence: Evidence,
    confirmers: tuple[SourceStance, ...],
    refuters: tuple[SourceStance, ...],
    supporters: tuple[SourceStance, ...],
    deniers: tuple[SourceStance, ...],
) -> tuple[Status, Sequence[SourceStance]]:
    if confirmers or refuters:
        latest = max((*confirmers, *refuters), key=lambda s: evidence.live[s.source].order)
        if latest.stance is Stance.CONFIRM:
            return Status.CONFIRMED, confirmers
        return Status.REFUTED, refuters
    if supporters and deniers:
        return Status.DISPUTED, (*supporters, *deniers)
    if supporters:
        return Status.CLAIMED, supporters
    if deniers:
        return Status.DENIED, deniers
    if evidence.retractions:
        return Status.RETRACTED, [
            SourceStance(s.source, s.stance, s.stated_at, s.statement, Role.OTHER)
            for s in evidence.retractions
        ]
    return Status.UNKNOWN, ()


def _quantities(
    evidence: Evidence,
) -> tuple[tuple[Estimate, ...], tuple[EstimateSummary, ...]]:
    """Each live source's latest estimate, in (stated_at, source) order, and the min, max and
    median of them in each unit."""
    estimates: list[Estimate] = []
    by_unit: dict[str | None, list[int | float]] = {}
    for said in sorted(evidence.quantities.values(), key=_BY_TIME_AND_SOURCE):
        value = said.value
        if value is None:
            continue
        estimates.append(said._built[1] or _estimate(said, value))  # its usual hit inlined
        values = by_unit.get(said.unit)
        if values is None:
            values = by_unit[said.unit] = []
        values.append(value)
    summaries = tuple(
        EstimateSummary(unit, len(v), min(v), max(v), statistics.median(v))
        for unit, v in sorted(by_unit.items(), key=lambda kv: kv[0] or "")
    )
    return tuple(estimates), summaries


def _day(when: datetime) -> str:
    return when.date().isoformat()


def _names(stances: Sequence[SourceStance]) -> str:
    shown = [f"{s.source} ({_day(s.stated_at)})" for s in stances[:_MAX_NAMES]]
    more = len(stances) - _MAX_NAMES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _decisive_clause(s: SourceStance, verb: str) -> str:
    who = "a party" if s.role is Role.PARTY else "an authoritative source"
    return f"{s.source}, {who}, {verb} on {_day(s.stated_at)}"


def explain(
    status: Status,
    decisive: Sequence[SourceStance],
    supporters: Sequence[SourceStance],
    deniers: Sequence[SourceStance],
    evidence: Evidence,
) -> str:
    """The default policy's one-line explanation of a verdict."""
    if status in (Status.CONFIRMED, Status.REFUTED):
        verb = status.value
        return f"{verb}: " + "; ".join(_decisive_clause(s, verb) for s in decisive)
    if status is Status.DISPUTED:
        return f"disputed: supported by {_names(supporters)}; denied by {_names(deniers)}"
    if status is Status.CLAIMED:
        return f"claimed: supported by {_names(supporters)}; nobody denies it"
    if status is Status.DENIED:
        return f"denied: denied by {_names(deniers)}; nobody supports it"
    if status is Status.RETRACTED:
        return f"retracted: every stance was withdrawn, last by {_names(decisive[-1:])}"
    if evidence.no_comments:
        return f"unknown: no source takes a stance ({evidence.no_comments} declined to comment)"
    return "unknown: nothing on record"


DEFAULT_POLICY = DefaultPolicy()


class Named:
    """A policy whose every verdict names it (``Verdict.policy``), whatever it returned: how
    the ledger wraps a policy that does not set the field itself."""

    def __init__(self, policy: BeliefPolicy):
        self.policy = policy
        self.name = policy.name

    def verdict(
        self,
        proposition: PropositionDefined,
        sources: Mapping[str, SourceRegistered],
        evidence: Evidence,
    ) -> Verdict:
        verdict = self.policy.verdict(proposition, sources, evidence)
        return verdict if verdict.policy == self.name else attrs.evolve(verdict, policy=self.name)


def named(policy: BeliefPolicy) -> BeliefPolicy:
    """``policy``, its verdicts naming it (the default rules do that themselves)."""
    if isinstance(policy, DefaultPolicy | Named):
        return policy
    return Named(policy)


def in_force(base: BeliefPolicy, record: PolicySet | None) -> BeliefPolicy:
    """The policy that decides, given the ledger's own policy (``Ledger.open(policy=...)``)
    and the policy record in force (None: none recorded yet).

    A record sets the parameters of a policy that takes parameters: one with a
    ``configured(record)`` method, as :class:`DefaultPolicy` has. A policy without one (a
    custom class) decides alone, records or not; the answers name it, so it is plain which
    rules decided. See ``docs/belief-rules.md``, "Policy records".
    """
    if record is not None:
        configure: Callable[[PolicySet], BeliefPolicy] | None = getattr(base, "configured", None)
        if configure is not None:
            return named(configure(record))
    return named(base)


#: What a ``policy=`` argument may be: rules to use as they are, or a policy record whose
#: parameters configure the ledger's own policy (a what-if: nothing is recorded).
PolicyChoice: TypeAlias = BeliefPolicy | PolicySet


def chosen(base: BeliefPolicy, what_if: BeliefPolicy | PolicySet) -> BeliefPolicy:
    """The policy a ``policy=`` argument names (see :data:`PolicyChoice`)."""
    if isinstance(what_if, PolicySet):
        return in_force(base, what_if)
    return named(what_if)
