"""Ratings on an answer, the way intelligence analysts write them (issue 13 item 3): each live
stance's source graded by its earned track record (A-F), and the proposition's information
credibility on the Admiralty scale (1-6), so an answer reads "B2".

The credibility rule, from the verdict alone (so it is as cheap as the answer):

====  ===================  =============================================================
1     confirmed            the status is confirmed: a decisive statement by a party or an
                           authoritative source
2     probably true        claimed by two or more sources, none denying
3     possibly true        claimed by one source, none denying
4     doubtful             disputed: supported and denied at once
5     improbable           denied or refuted, with no live support
6     cannot be judged     nothing live on record (unknown, or every stance retracted)
====  ===================  =============================================================

The grades are the sources' earned ones (:mod:`projections.track`) as of the answer's own
``as_of`` and ``known_at``: no hindsight, and as costly as a track record (one pass over the
stance rows), which is why the command line computes them only when asked (``--grades``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ledger.events import Reliability
from projections.beliefs import BeliefState, Status, Verdict
from projections.track import TrackRecord

#: Each rating's words, as the Admiralty scale has them.
LABELS = {
    1: "confirmed",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "cannot be judged",
}


@attrs.frozen
class Ratings:
    """The proposition's credibility, and the grade of each source with a live stance (empty
    when grades were not asked for)."""

    credibility: int
    grades: Mapping[str, Reliability] = attrs.field(factory=dict)

    @property
    def label(self) -> str:
        return LABELS[self.credibility]

    def code(self, source: str) -> str | None:
        """The Admiralty code of one source's stance: its grade, then the credibility."""
        grade = self.grades.get(source)
        return None if grade is None else f"{grade.value}{self.credibility}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "credibility": self.credibility,
            "credibility_label": self.label,
            "grades": {source: grade.value for source, grade in sorted(self.grades.items())},
        }


def credibility(verdict: Verdict) -> int:
    """The information credibility (1-6) of a verdict, by the rule in this module's docs."""
    support = {s.source for s in (*verdict.supporters, *verdict.confirmers)}
    if verdict.status is Status.CONFIRMED:
        return 1
    if verdict.status is Status.DISPUTED:
        return 4
    if verdict.status in (Status.DENIED, Status.REFUTED):
        return 5
    if verdict.status is Status.CLAIMED:
        return 2 if len(support) >= 2 else 3
    return 6


def live_sources(verdict: Verdict) -> set[str]:
    """Every source with a live stance in the verdict."""
    groups = (verdict.supporters, verdict.deniers, verdict.confirmers, verdict.refuters)
    return {s.source for group in groups for s in group}


def rated(state: BeliefState, records: Iterable[TrackRecord] | None = None) -> Ratings:
    """The ratings of an answer; ``records`` (the track records as of the answer's own times)
    grade its sources, and without them the answer has its credibility only."""
    if records is None:
        return Ratings(credibility(state.verdict))
    live = live_sources(state.verdict)
    grades = {r.source: r.grade for r in records if r.source in live}
    return Ratings(credibility(state.verdict), grades)
