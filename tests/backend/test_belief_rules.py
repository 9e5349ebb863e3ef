"""The default belief rules, one hand-written history per rule, on both backends.

Every answer is checked twice: from the materialized projection and from the reference fold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger import (
    CorrectionMade,
    Event,
    Ledger,
    NotFound,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)
from projections import materialized
from projections.beliefs import BeliefState, Status
from projections.check import check
from tests.conftest import FakeClock
from tests.helpers import basics, derived_rows, raw, statement

COURT = SourceRegistered("icj", "International Court of Justice", "court")
MEDIA = SourceRegistered("yonhap", "Yonhap", "media", "kr")


def both(ledger: Ledger, as_of: str, known_at: datetime | None = None) -> BeliefState:
    """The answer, after checking that projection and reference fold agree on it."""
    known_at = known_at or ledger.now()
    projected = ledger.believed("troops", as_of=as_of, known_at=known_at)
    folded = ledger.believed("troops", as_of=as_of, known_at=known_at, via="fold")
    assert projected == folded
    return projected


def test_nothing_said_is_unknown(ledger: Ledger) -> None:
    ledger.append(basics())
    state = both(ledger, "2024-10-18")
    assert state.status is Status.UNKNOWN
    assert state.explanation == "unknown: nothing on record"


def test_support_alone_is_claimed(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1", value=1500, unit="troops")])
    state = both(ledger, "2024-10-18")
    assert state.status is Status.CLAIMED
    assert [s.source for s in state.supporters] == ["kr-nis"]
    assert state.first_claimed_at == datetime(2024, 10, 18, tzinfo=UTC)
    assert state.explanation == "claimed: supported by kr-nis (2024-10-18); nobody denies it"


def test_a_statement_counts_from_its_stated_at_on(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1", when="2024-10-18")])
    assert both(ledger, "2024-10-17").status is Status.UNKNOWN
    assert both(ledger, "2024-10-18").status is Status.CLAIMED  # a bare date: end of that day


def test_denial_alone_is_denied(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1", "kcna", "deny")])
    state = both(ledger, "2024-10-18")
    assert state.status is Status.DENIED
    assert [s.source for s in state.deniers] == ["kcna"]


def test_support_and_denial_are_disputed(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2", "kcna", "deny", "2024-10-21")])
    state = both(ledger, "2024-10-21")
    assert state.status is Status.DISPUTED
    assert set(state.decisive) == {"s1", "s2"}
    assert both(ledger, "2024-10-20").status is Status.CLAIMED


def test_a_party_confirming_makes_it_confirmed_despite_denials(ledger: Ledger) -> None:
    ledger.append(
        [
            *basics(),
            statement("s1"),
            statement("s2", "kcna", "deny", "2024-10-21"),
            statement("s3", "kcna", "confirm", "2025-04-28"),
        ]
    )
    state = both(ledger, "2025-04-28")
    assert state.status is Status.CONFIRMED
    assert [s.source for s in state.confirmers] == ["kcna"]
    assert state.confirmed_at == datetime(2025, 4, 28, tzinfo=UTC)
    assert state.explanation == "confirmed: kcna, a party, confirmed on 2025-04-28"


def test_a_confirmation_from_a_non_party_is_only_support(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1", "kr-nis", "confirm")])
    state = both(ledger, "2024-10-18")
    assert state.status is Status.CLAIMED
    assert state.confirmers == ()


def test_an_authoritative_source_confirms_though_not_a_party(ledger: Ledger) -> None:
    ledger.append(
        [
            *basics(),
            COURT,
            statement("s1", "kcna", "deny"),
            statement("s2", "icj", "confirm", "2025-01-01"),
        ]
    )
    state = both(ledger, "2025-01-01")
    assert state.status is Status.CONFIRMED
    assert "icj, an authoritative source, confirmed on 2025-01-01" in state.explanation


def test_a_party_refuting_makes_it_refuted(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2", "kcna", "refute", "2024-10-21")])
    state = both(ledger, "2024-10-21")
    assert state.status is Status.REFUTED
    assert [s.source for s in state.refuters] == ["kcna"]


def test_a_refutation_from_anyone_else_is_a_denial(ledger: Ledger) -> None:
    ledger.append([*basics(), MEDIA, statement("s1"), statement("s2", "yonhap", "refute")])
    assert both(ledger, "2024-10-18").status is Status.DISPUTED


def test_when_confirmation_and_refutation_are_both_live_the_later_wins(ledger: Ledger) -> None:
    ledger.append(
        [
            *basics(),
            COURT,
            statement("s1", "icj", "refute", "2024-11-01"),
            statement("s2", "kcna", "confirm", "2025-04-28"),
        ]
    )
    assert both(ledger, "2024-12-01").status is Status.REFUTED
    assert both(ledger, "2025-04-28").status is Status.CONFIRMED


def test_a_sources_latest_statement_is_its_live_stance(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2", "kr-nis", "deny", "2024-11-01")])
    assert both(ledger, "2024-10-30").status is Status.CLAIMED
    assert both(ledger, "2024-11-01").status is Status.DENIED


def test_equal_stated_at_is_broken_by_log_position(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("later-in-log", "kr-nis", "deny")])
    ledger.append([statement("earlier-day-but-appended-last", "kr-nis", "assert")])
    # Same stated_at: the statement appended last is the source's live stance.
    state = both(ledger, "2024-10-18")
    assert state.status is Status.CLAIMED


def test_a_back_dated_statement_changes_the_past_only_from_when_it_was_recorded(
    ledger: Ledger,
) -> None:
    ledger.append([*basics(), statement("s1", when="2024-11-01")])
    before = ledger.now()
    ledger.append([statement("s0", "kcna", "deny", "2024-10-01")])  # learnt later, stated earlier

    assert both(ledger, "2024-11-01").status is Status.DISPUTED
    assert both(ledger, "2024-11-01", known_at=before).status is Status.CLAIMED


def test_retract_clears_the_sources_stance_and_all_retracted_is_retracted(ledger: Ledger) -> None:
    ledger.append(
        [
            *basics(),
            statement("s1", value=1500, unit="troops"),
            statement("s2", "kr-nis", "retract", "2024-11-01"),
        ]
    )
    state = both(ledger, "2024-11-01")
    assert state.status is Status.RETRACTED
    assert state.supporters == () and state.estimates == ()
    assert state.decisive == ("s2",)


def test_a_source_may_speak_again_after_retracting(ledger: Ledger) -> None:
    ledger.append(
        [
            *basics(),
            statement("s1"),
            statement("s2", "kr-nis", "retract", "2024-11-01"),
            statement("s3", "kr-nis", "assert", "2024-12-01"),
        ]
    )
    assert both(ledger, "2024-12-01").status is Status.CLAIMED


def test_no_comment_is_recorded_but_changes_nothing(ledger: Ledger) -> None:
    ledger.append(
        [*basics(), statement("s1"), statement("s2", "kr-nis", "no_comment", "2024-11-01")]
    )
    state = both(ledger, "2024-11-01")
    assert state.status is Status.CLAIMED
    assert state.supporters[0].statement == "s1"


def test_only_no_comment_is_unknown_and_says_so(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1", "kcna", "no_comment")])
    state = both(ledger, "2024-10-18")
    assert state.status is Status.UNKNOWN
    assert "declined to comment" in state.explanation


def test_estimates_are_each_live_sources_latest_quantity_with_min_max_median(
    ledger: Ledger,
) -> None:
    ledger.append(
        [
            *basics(),
            MEDIA,
            statement("s1", value=1500, unit="troops"),
            statement("s2", "kr-nis", "assert", "2024-10-25", value=3000, unit="troops"),
            statement("s3", "yonhap", "assert", "2024-10-31", value=8000, unit="troops"),
            statement("s4", "kcna", "deny", "2024-11-01"),  # no quantity
        ]
    )
    state = both(ledger, "2024-11-01")
    assert [(e.source, e.value) for e in state.estimates] == [("kr-nis", 3000), ("yonhap", 8000)]
    (summary,) = state.summaries
    assert (summary.unit, summary.count, summary.min, summary.max, summary.median) == (
        "troops",
        2,
        3000,
        8000,
        5500,
    )


def test_a_withdrawing_correction_applies_from_its_recorded_at_on(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2", "kcna", "deny", "2024-10-21")])
    answered_at = ledger.now()
    assert both(ledger, "2024-11-01", answered_at).status is Status.DISPUTED

    ledger.append([CorrectionMade("fix", "s2", "misattributed", withdraw=True)])

    assert both(ledger, "2024-11-01").status is Status.CLAIMED
    # The past does not change: the old known_at still gives the old answer.
    assert both(ledger, "2024-11-01", answered_at).status is Status.DISPUTED


def test_a_correction_setting_a_field_takes_its_new_value(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("z", value=11000, unit="troops", when="2024-11-07")])
    before = ledger.now()
    ledger.append(
        [
            CorrectionMade(
                "fix", "z", "his address was on the 4th", changes={"stated_at": "2024-11-04"}
            )
        ]
    )
    assert both(ledger, "2024-11-05").estimates[0].value == 11000
    assert both(ledger, "2024-11-05", known_at=before).estimates == ()


def test_a_correction_can_move_a_statement_to_another_proposition(ledger: Ledger) -> None:
    other = PropositionDefined("other", "Something else")
    ledger.append([*basics(), other, statement("s1")])
    ledger.append(
        [
            CorrectionMade(
                "fix", "s1", "filed under the wrong claim", changes={"proposition": "other"}
            )
        ]
    )
    assert both(ledger, "2024-10-18").status is Status.UNKNOWN
    assert ledger.believed("other", as_of="2024-10-18").status is Status.CLAIMED
    assert ledger.believed("other", as_of="2024-10-18", via="fold").status is Status.CLAIMED


def test_an_unknown_proposition_is_not_found(ledger: Ledger) -> None:
    ledger.append(basics())
    with pytest.raises(NotFound, match="nope"):
        ledger.believed("nope")
    with pytest.raises(NotFound):
        ledger.believed("nope", via="fold")


def test_a_proposition_defined_after_known_at_is_not_found_then(ledger: Ledger) -> None:
    early = ledger.now()
    ledger.append(basics())
    with pytest.raises(NotFound):
        ledger.believed("troops", known_at=early)
    with pytest.raises(NotFound):
        ledger.believed("troops", known_at=early, via="fold")


def test_the_timeline_lists_status_transitions_with_their_causes(ledger: Ledger) -> None:
    ledger.append(
        [
            *basics(),
            statement("s1", value=1500, unit="troops"),
            statement("s2", "kcna", "deny", "2024-10-21"),
            statement("s3", "kr-nis", "assert", "2024-10-30", value=3000, unit="troops"),
            statement("s4", "kcna", "confirm", "2025-04-28"),
        ]
    )
    timeline = ledger.timeline("troops")
    assert [(t.valid_from.date().isoformat(), t.status) for t in timeline] == [
        ("2024-10-18", Status.CLAIMED),
        ("2024-10-21", Status.DISPUTED),
        ("2025-04-28", Status.CONFIRMED),
    ]
    assert [c.statement for c in timeline[1].because] == ["s2"]
    every = ledger.timeline("troops", every_change=True)
    assert len(every) == 4  # the new estimate on 2024-10-30 is a change within "disputed"


def test_diff_lists_what_changed_between_two_dates_and_why(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2", "kcna", "confirm", "2025-04-28")])
    (change,) = ledger.diff("2024-11-01", "2025-05-01")
    assert (change.before.status, change.after.status) == (Status.CLAIMED, Status.CONFIRMED)
    assert [c.statement for c in change.because] == ["s2"]
    assert ledger.diff("2024-11-01", "2024-12-01") == []


def test_replay_answers_as_at_a_past_time_from_the_verified_log(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1")])
    then = ledger.now()
    head_then = ledger.head()
    ledger.append([statement("s2", "kcna", "confirm", "2024-10-19")])

    audit = ledger.replay(then)

    assert audit.ok
    assert (audit.position, audit.hash) == (head_then.position, head_then.hash)
    assert [(b.proposition, b.status) for b in audit.beliefs] == [("troops", Status.CLAIMED)]


def test_rebuild_gives_the_same_answers(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2", "kcna", "deny", "2024-10-21")])
    before = both(ledger, "2024-11-01")
    assert ledger.rebuild() == 5
    assert both(ledger, "2024-11-01").verdict == before.verdict


def test_events_appended_behind_the_projections_back_are_caught_up_before_a_query(
    ledger: Ledger,
) -> None:
    ledger.append(basics())
    ledger.store.append([statement("s1")])  # the bare store does not touch the projection
    assert both(ledger, "2024-10-18").status is Status.CLAIMED


def test_an_append_behind_a_bare_store_append_folds_both(ledger: Ledger) -> None:
    """The rows an append hands the projection are not all it has to fold: a bare-store
    append in between must be read back from the log."""
    ledger.append(basics())
    ledger.store.append([statement("s1")])
    ledger.append([statement("s2", "kcna", "deny", "2024-10-21")])
    assert both(ledger, "2024-10-18").status is Status.CLAIMED
    assert both(ledger, "2024-10-22").status is Status.DISPUTED


@pytest.mark.parametrize("size", [1, 40], ids=["one event", "a batch past COPY_FROM"])
def test_an_append_behind_bare_store_appends_catches_up_from_the_checkpoint(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """Events appended to the log alone leave the projection behind, its checkpoint still
    true; the next append folds them and its own from there, emptying nothing (it used to
    rebuild the tables from nothing: at a million events, a rebuild inside one append). Its
    own rows are folded once, with the rest: the tables are what the log implies."""
    ledger.append([*basics(), statement("s1"), statement("s2", "kcna", "deny", "2024-10-21")])
    ledger.store.append([statement("s3", "kcna", "confirm", "2024-10-25")])
    ledger.store.append([CorrectionMade("fix", "s2", "misattributed", withdraw=True)])

    def no_wipe(*_: object, **__: object) -> None:
        raise AssertionError("the tables were emptied: the checkpoint was still usable")

    monkeypatch.setattr(materialized, "_wipe", no_wipe)
    later = [
        statement(f"later-{i}", "kr-nis", "assert", f"2024-11-{1 + i % 28:02d}")
        for i in range(size)
    ]
    moved = CorrectionMade("fix-3", "s3", "a date", changes={"stated_at": "2024-10-26"})
    # A source and a proposition too: the fold's first step writes them (found by a review:
    # folded before the checkpoint was known to be behind, they were written twice).
    new: list[Event] = [COURT, PropositionDefined("other", "Another claim")]
    ledger.append([*new, *later[:-1], moved, later[-1]])

    assert check(ledger.store).ok
    assert "icj" in {s.source_id for s in ledger.sources()}
    assert both(ledger, "2024-10-22").status is Status.CLAIMED  # s2 withdrawn by the bare append
    assert both(ledger, "2024-10-25").status is Status.CLAIMED
    assert both(ledger, "2024-10-26").status is Status.CONFIRMED  # s3, as corrected


def test_a_small_write_folded_on_tables_the_checkpoint_did_not_describe_is_undone(
    ledger: Ledger, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort on PostgreSQL, should the checkpoint read ahead of a small write be
    wrong (it is read under the writer lock, so it cannot be): the write statement's own
    check finds the checkpoint elsewhere, the tables are emptied and folded again, and end as
    the log implies. (SQLite moves the checkpoint before folding anything: behind, it writes
    nothing and catches up from the checkpoint, emptying nothing.)"""
    ledger.append([*basics(), statement("s1")])
    ledger.store.append([statement("s2", "kcna", "deny", "2024-10-21")])
    monkeypatch.setattr(materialized, "_checkpoint_is", lambda *_: True)
    wiped: list[object] = []
    real_wipe = materialized._wipe

    def wipe(conn: object, **kw: bool) -> None:
        wiped.append(conn)
        real_wipe(conn, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(materialized, "_wipe", wipe)

    ledger.append([COURT, statement("s3", "kcna", "confirm", "2024-10-25")])

    assert len(wiped) == (1 if backend == "postgresql" else 0)
    assert check(ledger.store).ok
    assert both(ledger, "2024-10-22").status is Status.DISPUTED


def test_a_checkpoint_that_no_longer_matches_the_log_is_rebuilt_on_the_next_append(
    ledger: Ledger,
) -> None:
    ledger.append([*basics(), statement("s1")])
    raw(ledger.store.engine, f"UPDATE belief_checkpoint SET hash = '{'f' * 64}'")
    raw(ledger.store.engine, "DELETE FROM belief_stances")  # what the rebuild must restore

    ledger.append([statement("s2", "kcna", "deny", "2024-10-21")])

    assert both(ledger, "2024-10-18").status is Status.CLAIMED
    assert both(ledger, "2024-10-22").status is Status.DISPUTED


def test_an_unknown_proposition_is_not_found_and_one_not_yet_defined_neither(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.append(basics())
    defined = ledger.head().recorded_at
    assert defined is not None
    with pytest.raises(NotFound):
        ledger.believed("no-such-thing", as_of="2024-10-18", known_at=defined)
    with pytest.raises(NotFound):
        ledger.believed("troops", as_of="2024-10-18", known_at=defined - timedelta(seconds=1))
    assert ledger.believed("troops", as_of="2024-10-18", known_at=defined).status is (
        Status.UNKNOWN
    )


def test_statement_made_is_exported_for_typing() -> None:
    assert StatementMade.TYPE == "statement_made"


def test_a_change_undone_at_the_same_recorded_instant_leaves_the_history_as_a_rebuild_would(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.append([*basics(), statement("s1")])
    clock.step = timedelta(0)  # the next two transactions share one recorded_at
    ledger.append([statement("s2", "kcna", "deny")])
    ledger.append([CorrectionMade("fix", "s2", "not what was said", withdraw=True)])
    incremental = derived_rows(ledger)

    ledger.rebuild()

    assert derived_rows(ledger) == incremental
