"""Ratings on an answer (issue 13 item 3), both backends: each live stance's source graded by
its earned track record as of the answer's own times (no hindsight), and the credibility."""

from __future__ import annotations

from pathlib import Path

from ledger import Ledger, Reliability

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"


def test_the_grades_are_the_track_records_as_of_the_answer_s_own_times(ledger: Ledger) -> None:
    ledger.import_jsonl(EXAMPLE)
    for as_of in ("2024-11-01", "2025-05-01"):
        state = ledger.believed("dprk-troops-in-russia", as_of=as_of)
        ratings = ledger.ratings(state)
        records = {
            r.source: r.grade
            for r in ledger.track_records(as_of=state.as_of, known_at=state.known_at)
        }
        live = {s.source for s in (*state.supporters, *state.deniers, *state.confirmers)}
        assert live and set(ratings.grades) == live
        assert all(ratings.grades[s] == records[s] for s in live)
    confirmed = ledger.believed("dprk-troops-in-russia", as_of="2025-05-01")
    assert ledger.ratings(confirmed).credibility == 1
    early = ledger.believed("dprk-troops-in-russia", as_of="2024-11-01")
    early_ratings = ledger.ratings(early)
    assert early_ratings.credibility == 4  # disputed
    # nothing was resolved by then: no source has earned a grade yet (no hindsight)
    assert set(early_ratings.grades.values()) == {Reliability.F}


def test_without_grades_an_answer_has_its_credibility_only(ledger: Ledger) -> None:
    ledger.import_jsonl(EXAMPLE)
    state = ledger.believed("dprk-troops-in-russia", as_of="2024-11-01")
    ratings = ledger.ratings(state, grades=False)
    assert (ratings.credibility, dict(ratings.grades)) == (4, {})
