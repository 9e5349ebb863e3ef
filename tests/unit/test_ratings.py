"""The information credibility rule of ``projections.ratings`` (issue 13 item 3), status by
status, from verdicts built by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.events import Reliability, Stance
from projections.beliefs import Role, SourceStance, Status, Verdict
from projections.ratings import LABELS, Ratings, credibility, live_sources

WHEN = datetime(2024, 10, 18, tzinfo=UTC)


def _stance(source: str, stance: Stance = Stance.ASSERT) -> SourceStance:
    return SourceStance(source, stance, WHEN, f"{source}-says", Role.OTHER)


@pytest.mark.parametrize(
    ("verdict", "rating"),
    [
        (Verdict(Status.CONFIRMED, confirmers=(_stance("ru-general-staff", Stance.CONFIRM),)), 1),
        (Verdict(Status.CLAIMED, supporters=(_stance("kr-nis"), _stance("us-nsc"))), 2),
        (Verdict(Status.CLAIMED, supporters=(_stance("kr-nis"),)), 3),
        (
            Verdict(
                Status.DISPUTED,
                supporters=(_stance("kr-nis"),),
                deniers=(_stance("kcna", Stance.DENY),),
            ),
            4,
        ),
        (Verdict(Status.DENIED, deniers=(_stance("kcna", Stance.DENY),)), 5),
        (Verdict(Status.REFUTED, refuters=(_stance("kcna", Stance.REFUTE),)), 5),
        (Verdict(Status.UNKNOWN), 6),
        (Verdict(Status.RETRACTED), 6),
    ],
)
def test_each_status_has_its_credibility(verdict: Verdict, rating: int) -> None:
    assert credibility(verdict) == rating
    assert Ratings(rating).label == LABELS[rating]


def test_the_code_of_a_stance_is_its_source_grade_then_the_credibility() -> None:
    ratings = Ratings(2, {"kr-nis": Reliability.B})
    assert ratings.code("kr-nis") == "B2"
    assert ratings.code("us-nsc") is None  # not graded
    assert ratings.to_dict() == {
        "credibility": 2,
        "credibility_label": "probably true",
        "grades": {"kr-nis": "B"},
    }


def test_the_live_sources_are_every_side_s() -> None:
    verdict = Verdict(
        Status.DISPUTED,
        supporters=(_stance("kr-nis"),),
        deniers=(_stance("kcna", Stance.DENY),),
    )
    assert live_sources(verdict) == {"kr-nis", "kcna"}
