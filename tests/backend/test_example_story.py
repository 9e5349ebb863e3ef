"""The North Korea example tells the real story, checkpoint by checkpoint, on both backends."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger import Ledger, Status

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"
RUSSIA = "dprk-troops-in-russia"


@pytest.fixture
def story(ledger: Ledger) -> tuple[Ledger, datetime]:
    """The example imported in two steps; returns the ledger and a moment before the correction."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    ledger.import_jsonl(io.StringIO("\n".join(x for x in lines if '"correction"' not in x)))
    before = ledger.now()
    ledger.import_jsonl(io.StringIO("\n".join(lines)))
    return ledger, before


def estimates(ledger: Ledger, as_of: str, known_at: datetime | None = None) -> dict[str, float]:
    state = ledger.believed(RUSSIA, as_of=as_of, known_at=known_at)
    return {e.source: e.value for e in state.estimates}


def test_october_2024_first_claims_then_north_korea_calls_them_groundless(
    story: tuple[Ledger, datetime],
) -> None:
    ledger, _ = story
    assert ledger.believed(RUSSIA, as_of="2024-10-13").status is Status.UNKNOWN
    assert ledger.believed(RUSSIA, as_of="2024-10-14").status is Status.CLAIMED
    assert estimates(ledger, "2024-10-18") == {"kr-nis": 1500}
    disputed = ledger.believed(RUSSIA, as_of="2024-10-21")
    assert disputed.status is Status.DISPUTED
    assert "kp-un-mission" in {s.source for s in disputed.deniers}


def test_still_disputed_through_the_us_and_ukrainian_estimates(
    story: tuple[Ledger, datetime],
) -> None:
    ledger, _ = story
    state = ledger.believed(RUSSIA, as_of="2024-11-01")
    assert state.status is Status.DISPUTED
    assert estimates(ledger, "2024-11-01") == {
        "kr-nis": 1500,
        "us-nsc": 3000,
        "us-intelligence": 8000,
    }
    (summary,) = state.summaries
    assert (summary.min, summary.max, summary.median) == (1500, 8000, 3000)
    assert estimates(ledger, "2024-11-05")["ua-president"] == 11000


def test_confirmed_in_late_april_2025_by_the_general_staff_then_kcna(
    story: tuple[Ledger, datetime],
) -> None:
    ledger, _ = story
    assert ledger.believed(RUSSIA, as_of="2025-04-25").status is Status.DISPUTED
    first = ledger.believed(RUSSIA, as_of="2025-04-26")
    assert first.status is Status.CONFIRMED
    assert [s.source for s in first.confirmers] == ["ru-general-staff"]
    later = ledger.believed(RUSSIA, as_of="2025-05-01")
    assert {"ru-general-staff", "kcna"} <= {s.source for s in later.confirmers}
    assert later.confirmed_at == datetime(2025, 4, 26, tzinfo=UTC)
    assert later.first_claimed_at == datetime(2024, 10, 14, tzinfo=UTC)
    assert [t.status for t in ledger.timeline(RUSSIA)] == [
        Status.CLAIMED,
        Status.DISPUTED,
        Status.CONFIRMED,
    ]


def test_the_correction_moves_the_11000_figure_only_for_later_known_at(
    story: tuple[Ledger, datetime],
) -> None:
    ledger, before = story
    assert "ua-president" not in estimates(ledger, "2024-11-05", known_at=before)
    assert estimates(ledger, "2024-11-07", known_at=before)["ua-president"] == 11000
    assert estimates(ledger, "2024-11-05")["ua-president"] == 11000
    assert ledger.replay(before).ok


def test_the_other_propositions_end_where_the_articles_leave_them(
    story: tuple[Ledger, datetime],
) -> None:
    ledger, _ = story
    end = {p.proposition_id: ledger.believed(p.proposition_id, as_of="2025-05-01").status
           for p in ledger.propositions()}  # fmt: skip
    assert end["dprk-soldiers-captured"] is Status.CONFIRMED
    assert end["dprk-troops-in-combat"] is Status.CONFIRMED
    assert end["dprk-munitions-to-russia"] is Status.DISPUTED
    assert ledger.believed("dprk-soldiers-captured", as_of="2025-01-10").status is Status.UNKNOWN
