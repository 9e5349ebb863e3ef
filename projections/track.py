"""Track records: what each source's word has been worth, as of a valid time, without hindsight.

For each source, as of valid time D and as known at K (see ``docs/belief-rules.md``, "Track
records"):

* a proposition is *resolved* as of D when the policy in force at K judges it ``confirmed`` or
  ``refuted`` as of D; its *resolution time* R is the earliest ``stated_at`` of the statements
  that decided it (``Verdict.decisive``);
* the source was *right* if its live stance just before R (its last support or denial stated
  before R, unless withdrawn) agreed with the outcome (support of a confirmed proposition, denial
  of a refuted one), *wrong* if it disagreed; a stance it *retracted* before R counts neither way;
  a proposition it supports or denies as of D that is unresolved as of D is *open*;
* *lead time*: from its first stance agreeing with the outcome, stated before R, to R;
* *quantity error*: how far its latest estimate standing before R was from the figure the first
  decisive statement with a value gave, in the same unit: ``|estimate - figure| / figure``;
* an earned *grade*, A to F, from the right and wrong counts (:func:`grade`).

Only statements stated at or before D (and R is one of them) and events recorded at or before K
are read, so nothing said after D or recorded after K can change a record: a source is judged by
what it said before the outcome was known, never by what it said after.

Computed in one pass: every statement stated by D as known at K is read once from the
projection's stance rows (one scan), grouped by proposition; each proposition is judged once
(the same ``Evidence`` the reference fold builds) and each of its statements visited once.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs
from sqlalchemy import Connection, bindparam, select

from ledger import codec
from ledger.events import PropositionDefined, Reliability, SourceRegistered, Stance
from ledger.store.backends import reading
from ledger.times import from_micros, iso, to_micros
from projections.beliefs import Status, Verdict
from projections.materialized import MaterializedProjection
from projections.rules import SUPPORT, BeliefPolicy, Evidence, Said, named
from projections.tables import belief_propositions

_SUPPORT = frozenset(SUPPORT)
_STANCES = {s.value: s for s in Stance}
_DENIAL = frozenset({Stance.DENY, Stance.REFUTE})
_DAY = timedelta(days=1)

#: Fewer resolved propositions than this (right + wrong) cannot be judged: grade F.
MIN_RESOLVED = 3
#: An A needs at least this many resolved: a short history cannot show complete reliability.
MIN_FOR_A = 10
#: The least share of right calls for each grade, best first (below the last: E).
THRESHOLDS: tuple[tuple[Reliability, float], ...] = (
    (Reliability.A, 0.9),
    (Reliability.B, 0.75),
    (Reliability.C, 0.5),
    (Reliability.D, 0.25),
)


class Result(StrEnum):
    """How a proposition counts in a source's record."""

    RIGHT = "right"
    WRONG = "wrong"
    OPEN = "open"
    RETRACTED = "retracted"  # withdrawn before the resolution: counts neither way


def grade(right: int, wrong: int) -> Reliability:
    """The earned grade. F (cannot be judged) below :data:`MIN_RESOLVED` resolved calls;
    otherwise by the share of them that were right: A at least 0.9 (and at least
    :data:`MIN_FOR_A` resolved, else B), B 0.75, C 0.5, D 0.25, E below."""
    resolved = right + wrong
    if resolved < MIN_RESOLVED:
        return Reliability.F
    share = right / resolved
    for letter, least in THRESHOLDS:
        if share >= least and (letter is not Reliability.A or resolved >= MIN_FOR_A):
            return letter
    return Reliability.E


@attrs.frozen
class Call:
    """One proposition in a source's record."""

    proposition: str
    result: Result
    #: The stance judged: the live one just before the resolution (or as of D, when open), or
    #: for a retracted call the stance withdrawn.
    stance: Stance
    statement: str
    stated_at: datetime
    outcome: Status | None = None  # confirmed or refuted; None while open
    resolved_at: datetime | None = None
    resolved_by: tuple[str, ...] = ()
    #: Right calls: the first statement agreeing with the outcome, and the days from it to R.
    first_agreed_at: datetime | None = None
    lead_days: float | None = None
    #: Where a decisive statement gave a figure: the source's estimate standing before R.
    estimate: int | float | None = None
    figure: int | float | None = None
    unit: str | None = None
    error: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposition": self.proposition,
            "result": self.result.value,
            "stance": self.stance.value,
            "statement": self.statement,
            "stated_at": iso(self.stated_at),
            "outcome": None if self.outcome is None else self.outcome.value,
            "resolved_at": None if self.resolved_at is None else iso(self.resolved_at),
            "resolved_by": list(self.resolved_by),
            "first_agreed_at": None if self.first_agreed_at is None else iso(self.first_agreed_at),
            "lead_days": self.lead_days,
            "estimate": self.estimate,
            "figure": self.figure,
            "unit": self.unit,
            "error": self.error,
        }


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


@attrs.frozen
class TrackRecord:
    """One source's record as of ``as_of``, as known at ``known_at``, under ``policy``."""

    source: str
    as_of: datetime
    known_at: datetime
    policy: str
    calls: tuple[Call, ...] = ()
    #: The hand-given grade of the source's registration (None: none given).
    given: Reliability | None = None

    def _count(self, result: Result) -> int:
        return sum(1 for c in self.calls if c.result is result)

    @property
    def right(self) -> int:
        return self._count(Result.RIGHT)

    @property
    def wrong(self) -> int:
        return self._count(Result.WRONG)

    @property
    def open(self) -> int:
        return self._count(Result.OPEN)

    @property
    def retracted(self) -> int:
        return self._count(Result.RETRACTED)

    @property
    def grade(self) -> Reliability:
        """The earned grade (:func:`grade`)."""
        return grade(self.right, self.wrong)

    @property
    def lead_days(self) -> float | None:
        """The median lead time of the right calls, in days (None: no right call)."""
        return _median([c.lead_days for c in self.calls if c.lead_days is not None])

    @property
    def quantity_error(self) -> float | None:
        """The median relative error of the estimates judged against a figure (None: none)."""
        return _median([c.error for c in self.calls if c.error is not None])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the CLI's ``track --json``)."""
        return {
            "source": self.source,
            "as_of": iso(self.as_of),
            "known_at": iso(self.known_at),
            "policy": self.policy,
            "right": self.right,
            "wrong": self.wrong,
            "open": self.open,
            "retracted": self.retracted,
            "lead_days": self.lead_days,
            "quantity_error": self.quantity_error,
            "grade": self.grade.value,
            "given": None if self.given is None else self.given.value,
            "calls": [c.to_dict() for c in self.calls],
        }


_GRADE_ORDER = {letter: i for i, letter in enumerate(Reliability)}


def ranked(records: Iterable[TrackRecord]) -> list[TrackRecord]:
    """Most reliable first: by earned grade (A first, F last), then more right calls, fewer
    wrong ones, then source id."""
    return sorted(records, key=lambda r: (_GRADE_ORDER[r.grade], -r.right, r.wrong, r.source))


# -- the computation ---------------------------------------------------------------------------


def resolution(verdict: Verdict, said: Sequence[Said]) -> datetime | None:
    """When a confirmed or refuted verdict was decided: the earliest ``stated_at`` of its
    decisive statements (None: not resolved)."""
    if verdict.status not in (Status.CONFIRMED, Status.REFUTED):
        return None
    decisive = set(verdict.decisive)
    times = [s.stated_at for s in said if s.statement in decisive]
    if times:
        return min(times)
    return verdict.confirmed_at


def _figure(verdict: Verdict, said: Sequence[Said]) -> Said | None:
    """The first decisive statement that gave a figure."""
    decisive = set(verdict.decisive)
    return next((s for s in said if s.statement in decisive and s.value is not None), None)


class _Walk:
    """One source's statements on one proposition, taken in order.

    What is live is the rules' to say (:meth:`Evidence.add`: a retraction withdraws, a
    ``no_comment`` changes nothing): a walk keeps one source's evidence and adds only what a
    record needs beyond it, the stance last withdrawn and the first denial."""

    __slots__ = ("_evidence", "_source", "first_denial", "withdrawn")

    def __init__(self, source: str) -> None:
        self._evidence = Evidence()
        self._source = source
        self.withdrawn: Said | None = None  # the stance its last retraction withdrew
        self.first_denial: Said | None = None

    @property
    def live(self) -> Said | None:
        """Its live support or denial (None: none, or withdrawn)."""
        return self._evidence.live.get(self._source)

    @property
    def quantity(self) -> Said | None:
        return self._evidence.quantities.get(self._source)

    @property
    def first_support(self) -> Said | None:
        return self._evidence.first_support

    def add(self, s: Said) -> None:
        before = self.live
        self._evidence.add(s)
        live = self.live
        if live is None:
            if before is not None:
                self.withdrawn = before
        elif live is s:
            self.withdrawn = None
            if s.stance in _DENIAL and self.first_denial is None:
                self.first_denial = s


def _walk(walks: dict[str, _Walk], source: str) -> _Walk:
    walk = walks.get(source)
    if walk is None:
        walk = walks[source] = _Walk(source)
    return walk


def calls_on(proposition: str, verdict: Verdict, said: Sequence[Said]) -> dict[str, Call]:
    """Each source's call on one proposition, from its statements stated by D in
    (stated_at, position) order and its verdict as of D."""
    resolved_at = resolution(verdict, said)
    before: dict[str, _Walk] = {}
    through: dict[str, _Walk] = {}
    for s in said:
        if resolved_at is not None and s.stated_at < resolved_at:
            _walk(before, s.source).add(s)
        _walk(through, s.source).add(s)
    out: dict[str, Call] = {}
    if resolved_at is None:
        for source, walk in through.items():
            if walk.live is not None:
                s = walk.live
                out[source] = Call(proposition, Result.OPEN, s.stance, s.statement, s.stated_at)
        return out
    confirmed = verdict.status is Status.CONFIRMED
    figure = _figure(verdict, said)
    for source, walk in before.items():
        if walk.live is None:
            if walk.withdrawn is not None:
                s = walk.withdrawn
                out[source] = Call(
                    proposition,
                    Result.RETRACTED,
                    s.stance,
                    s.statement,
                    s.stated_at,
                    outcome=verdict.status,
                    resolved_at=resolved_at,
                    resolved_by=verdict.decisive,
                )
            continue
        s = walk.live
        agrees = (s.stance in _SUPPORT) == confirmed
        first = (walk.first_support if confirmed else walk.first_denial) if agrees else None
        lead = None if first is None else (resolved_at - first.stated_at) / _DAY
        estimate = error = None
        q = walk.quantity
        if figure is not None and q is not None and q.unit == figure.unit:
            estimate = q.value
            assert estimate is not None and figure.value is not None
            error = abs(estimate - figure.value) / figure.value if figure.value else None
        out[source] = Call(
            proposition,
            Result.RIGHT if agrees else Result.WRONG,
            s.stance,
            s.statement,
            s.stated_at,
            first_agreed_at=None if first is None else first.stated_at,
            lead_days=lead,
            estimate=estimate,
            figure=None if estimate is None or figure is None else figure.value,
            unit=None if estimate is None or figure is None else figure.unit,
            error=error,
            outcome=verdict.status,
            resolved_at=resolved_at,
            resolved_by=verdict.decisive,
        )
    return out


def track_records(
    definitions: Mapping[str, PropositionDefined],
    *,
    sources: Mapping[str, SourceRegistered],
    said: Mapping[str, Sequence[Said]],
    policy: BeliefPolicy,
    as_of: datetime,
    known_at: datetime,
) -> dict[str, TrackRecord]:
    """Every source's record: ``said`` holds each proposition's statements stated by
    ``as_of`` as known at ``known_at``, in (stated_at, position) order; ``sources`` every
    source registered by then; ``policy`` the policy in force. One verdict per proposition,
    one visit per statement."""
    judge = named(policy)
    by_source: dict[str, list[Call]] = {}
    for proposition in sorted(definitions):
        statements = said.get(proposition, ())
        evidence = Evidence()
        for s in statements:
            evidence.add(s)
        verdict = judge.verdict(definitions[proposition], sources, evidence)
        for source, call in calls_on(proposition, verdict, statements).items():
            by_source.setdefault(source, []).append(call)
    return {
        source: TrackRecord(
            source,
            as_of,
            known_at,
            judge.name,
            tuple(by_source.get(source, ())),
            registered.reliability,
        )
        for source, registered in ((s, sources[s]) for s in sources)
    }


# -- from the projection -----------------------------------------------------------------------

#: Every statement version in force at k and stated by a, in (proposition, stated_at,
#: position) order: the order the rules take statements in, sorted by the database.
_STATED_BY_SQL = (
    "SELECT proposition_id, statement_id, source_id, stance, position, valid_from, value, unit "
    "FROM belief_stances WHERE valid_from <= ? AND tx_from <= ? AND tx_to > ?{only} "
    "ORDER BY proposition_id, valid_from, position"
)
#: The propositions one source took any stance on by a, as known at k.
_SPOKEN_ON_SQL = (
    "SELECT DISTINCT proposition_id FROM belief_stances "
    "WHERE source_id = ? AND valid_from <= ? AND tx_from <= ? AND tx_to > ?"
)
_DEFINED_BY = select(belief_propositions.c.proposition_id, belief_propositions.c.payload).where(
    belief_propositions.c.recorded_at <= bindparam("k")
)
_IN = 500  # propositions per IN (...) list


def _driver(conn: Connection, sql: str) -> str:
    return sql.replace("?", "%s") if conn.dialect.name == "postgresql" else sql


def _statements(
    conn: Connection, a: int, k: int, only: Sequence[str] | None = None
) -> dict[str, list[Said]]:
    """Every statement stated by ``a`` as known at ``k`` (each version in force then), of
    every proposition or ``only`` those, grouped by proposition in (stated_at, position) order:
    one scan (or one indexed read per 500 propositions)."""
    grouped: dict[str, list[Said]] = {}
    moments: dict[int, datetime] = {}
    values: dict[str, Any] = {}
    reads: list[tuple[str, tuple[object, ...]]]
    if only is None:
        reads = [(_STATED_BY_SQL.format(only=""), (a, k, k))]
    else:
        reads = []
        for i in range(0, len(only), _IN):
            chunk = tuple(only[i : i + _IN])
            marks = ", ".join("?" * len(chunk))
            sql = _STATED_BY_SQL.format(only=f" AND proposition_id IN ({marks})")
            reads.append((sql, (a, k, k, *chunk)))
    for sql, params in reads:
        rows = conn.exec_driver_sql(_driver(conn, sql), params).fetchall()  # in order
        for p, sid, source, stance, position, valid_from, text, unit in rows:
            when = moments.get(valid_from)
            if when is None:
                when = moments[valid_from] = from_micros(valid_from)
            value = None
            if text is not None:
                value = values.get(text)
                if value is None:
                    value = values[text] = json.loads(text)
            said = Said(sid, source, _STANCES[stance], when, position, value, unit)
            grouped.setdefault(p, []).append(said)
    return grouped


def from_projection(
    projection: MaterializedProjection,
    policy: BeliefPolicy,
    as_of: datetime,
    known_at: datetime,
    *,
    source: str | None = None,
) -> dict[str, TrackRecord]:
    """Every source's record from the projection's stance rows (see :func:`track_records`),
    or only ``source``'s: then only the propositions it spoke on are read and judged."""
    projection.ensure_current()
    a, k = to_micros(as_of), to_micros(known_at)
    with reading(projection.store.engine) as conn:
        only = None
        if source is not None:
            spoken = conn.exec_driver_sql(_driver(conn, _SPOKEN_ON_SQL), (source, a, k, k))
            only = sorted(p for (p,) in spoken)
        said = _statements(conn, a, k, only)
        definitions = {
            p: _proposition(payload)
            for p, payload in conn.execute(_DEFINED_BY, {"k": k})
            if only is None or p in said
        }
        sources = projection.sources(k, conn)
        if source is not None:
            registered = sources.get(source)
            known = {} if registered is None else {source: registered}
            judge = _Judged(sources, known)
        else:
            known = {s: sources[s] for s in sources}
            judge = _Judged(known, known)
        return track_records(
            definitions,
            sources=judge,
            said=said,
            policy=policy,
            as_of=as_of,
            known_at=known_at,
        )


class _Judged(Mapping[str, SourceRegistered]):
    """The sources a policy may look up (``lookup``) and the sources records are made for
    (iterating: ``listed``)."""

    def __init__(
        self, lookup: Mapping[str, SourceRegistered], listed: Mapping[str, SourceRegistered]
    ):
        self.lookup, self.listed = lookup, listed

    def __getitem__(self, source: str) -> SourceRegistered:
        return self.lookup[source]

    def get(self, source: str, default: Any = None) -> Any:
        return self.lookup.get(source, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.listed)

    def __len__(self) -> int:
        return len(self.listed)


def _proposition(payload: str) -> PropositionDefined:
    event = codec.decode(PropositionDefined.TYPE, json.loads(payload), None, 0)
    assert isinstance(event, PropositionDefined)
    return event
