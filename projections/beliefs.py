"""What a projection answers: a frozen :class:`BeliefState` and its parts.

A belief is a function of (proposition, ``as_of``, ``known_at``). Everything in it except those
three is the *verdict*, which is what the materialized projection stores per interval; the JSON
form here is exact (times as integer microseconds) so a stored verdict reads back equal.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ledger.events import Stance
from ledger.hashing import canonical_json
from ledger.times import from_micros, iso, to_micros


class Status(StrEnum):
    UNKNOWN = "unknown"
    CLAIMED = "claimed"
    DENIED = "denied"
    DISPUTED = "disputed"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    RETRACTED = "retracted"


class Role(StrEnum):
    """Why a source's word weighs what it does on a proposition."""

    PARTY = "party"  # its own conduct is at issue: its admission confirms
    AUTHORITY = "authority"  # an investigation or court
    OTHER = "other"


@attrs.frozen
class SourceStance:
    """One source's live stance: who, what, since when, and which statement says so."""

    source: str
    stance: Stance
    stated_at: datetime
    statement: str
    role: Role


@attrs.frozen
class Estimate:
    """A source's latest quantity on the proposition."""

    source: str
    value: int | float
    unit: str | None
    stated_at: datetime
    statement: str


@attrs.frozen
class EstimateSummary:
    """Min, max and median of the live sources' latest estimates in one unit."""

    unit: str | None
    count: int
    min: int | float
    max: int | float
    median: int | float


@attrs.frozen
class Verdict:
    """Everything a belief says that does not depend on *when you ask* (as_of/known_at)."""

    status: Status
    supporters: tuple[SourceStance, ...] = ()
    deniers: tuple[SourceStance, ...] = ()
    confirmers: tuple[SourceStance, ...] = ()
    refuters: tuple[SourceStance, ...] = ()
    estimates: tuple[Estimate, ...] = ()
    summaries: tuple[EstimateSummary, ...] = ()
    first_claimed_at: datetime | None = None
    confirmed_at: datetime | None = None
    decisive: tuple[str, ...] = ()
    explanation: str = "unknown: nothing on record"
    #: The name of the policy that decided (see ``docs/belief-rules.md``, "Which policy
    #: decided"): the ledger sets it on every answer, whatever the policy returned.
    policy: str = ""

    def to_json(self) -> str:
        """Exact, canonical JSON (times as integer microseconds); read back by ``from_json``.

        Written out by hand rather than through ``attrs.asdict``: the materialized projection
        encodes a verdict for every change of every timeline, so this is a hot path.
        """
        return canonical_json(
            {
                "status": self.status.value,
                "supporters": [_stance_plain(s) for s in self.supporters],
                "deniers": [_stance_plain(s) for s in self.deniers],
                "confirmers": [_stance_plain(s) for s in self.confirmers],
                "refuters": [_stance_plain(s) for s in self.refuters],
                "estimates": [
                    {
                        "source": e.source,
                        "value": e.value,
                        "unit": e.unit,
                        "stated_at": to_micros(e.stated_at),
                        "statement": e.statement,
                    }
                    for e in self.estimates
                ],
                "summaries": [
                    {
                        "unit": x.unit,
                        "count": x.count,
                        "min": x.min,
                        "max": x.max,
                        "median": x.median,
                    }
                    for x in self.summaries
                ],
                "first_claimed_at": _micros(self.first_claimed_at),
                "confirmed_at": _micros(self.confirmed_at),
                "decisive": list(self.decisive),
                "explanation": self.explanation,
                "policy": self.policy,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        d = json.loads(text)
        return cls(
            status=Status(d["status"]),
            supporters=_stances(d["supporters"]),
            deniers=_stances(d["deniers"]),
            confirmers=_stances(d["confirmers"]),
            refuters=_stances(d["refuters"]),
            estimates=tuple(
                Estimate(
                    e["source"], e["value"], e["unit"], from_micros(e["stated_at"]), e["statement"]
                )
                for e in d["estimates"]
            ),
            summaries=tuple(EstimateSummary(**s) for s in d["summaries"]),
            first_claimed_at=_time(d["first_claimed_at"]),
            confirmed_at=_time(d["confirmed_at"]),
            decisive=tuple(d["decisive"]),
            explanation=d["explanation"],
            policy=d.get("policy", ""),
        )


@attrs.frozen
class BeliefState:
    """What the ledger believed about ``proposition`` as of ``as_of``, as known at ``known_at``."""

    proposition: str
    as_of: datetime
    known_at: datetime
    verdict: Verdict

    # Flat read access, so callers write ``state.status`` rather than ``state.verdict.status``.
    @property
    def status(self) -> Status:
        return self.verdict.status

    @property
    def supporters(self) -> tuple[SourceStance, ...]:
        return self.verdict.supporters

    @property
    def deniers(self) -> tuple[SourceStance, ...]:
        return self.verdict.deniers

    @property
    def confirmers(self) -> tuple[SourceStance, ...]:
        return self.verdict.confirmers

    @property
    def refuters(self) -> tuple[SourceStance, ...]:
        return self.verdict.refuters

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        return self.verdict.estimates

    @property
    def summaries(self) -> tuple[EstimateSummary, ...]:
        return self.verdict.summaries

    @property
    def first_claimed_at(self) -> datetime | None:
        return self.verdict.first_claimed_at

    @property
    def confirmed_at(self) -> datetime | None:
        return self.verdict.confirmed_at

    @property
    def decisive(self) -> tuple[str, ...]:
        return self.verdict.decisive

    @property
    def explanation(self) -> str:
        return self.verdict.explanation

    @property
    def policy(self) -> str:
        """The name of the policy that decided this answer."""
        return self.verdict.policy

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, times as ISO 8601 (the CLI's ``--json`` contract)."""
        v = self.verdict
        return {
            "proposition": self.proposition,
            "as_of": _iso(self.as_of),
            "known_at": _iso(self.known_at),
            "status": v.status.value,
            "supporters": [_stance_dict(s) for s in v.supporters],
            "deniers": [_stance_dict(s) for s in v.deniers],
            "confirmers": [_stance_dict(s) for s in v.confirmers],
            "refuters": [_stance_dict(s) for s in v.refuters],
            "estimates": {
                "by_source": [
                    {
                        "source": e.source,
                        "value": e.value,
                        "unit": e.unit,
                        "stated_at": _iso(e.stated_at),
                        "statement": e.statement,
                    }
                    for e in v.estimates
                ],
                "summary": [attrs.asdict(s) for s in v.summaries],
            },
            "first_claimed_at": _iso(v.first_claimed_at),
            "confirmed_at": _iso(v.confirmed_at),
            "decisive": list(v.decisive),
            "explanation": v.explanation,
            "policy": v.policy,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def _stance_dict(s: SourceStance) -> dict[str, Any]:
    return {
        "source": s.source,
        "stance": s.stance.value,
        "stated_at": _iso(s.stated_at),
        "statement": s.statement,
        "role": s.role.value,
    }


def _stance_plain(s: SourceStance) -> dict[str, Any]:
    return {
        "source": s.source,
        "stance": s.stance.value,
        "stated_at": to_micros(s.stated_at),
        "statement": s.statement,
        "role": s.role.value,
    }


def _micros(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def _time(micros: int | None) -> datetime | None:
    return None if micros is None else from_micros(micros)


def _stances(items: list[dict[str, Any]]) -> tuple[SourceStance, ...]:
    return tuple(
        SourceStance(
            s["source"],
            Stance(s["stance"]),
            from_micros(s["stated_at"]),
            s["statement"],
            Role(s["role"]),
        )
        for s in items
    )
