"""The audit replay in bounded memory (issue 10), on SQLite and PostgreSQL: the projection is
asked a slice of propositions at a time and the beliefs are handed out as they are compared,
never all held; the replay still names every proposition on which a changed derived row makes
the projection disagree, and says ok on an intact ledger.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update

import projections.audit
from ledger import Ledger, PropositionDefined, StatementMade
from projections.fold import fold
from projections.tables import belief_propositions, belief_stances
from tests.backend.test_verdicts_at_slices import NAMES, seven_propositions
from tests.conftest import FakeClock


class Asked:
    """The projection's ``verdicts_at``, counted: the propositions of each call."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch):
        self.calls: list[list[str] | None] = []
        real = ledger.projection.verdicts_at

        def counted(*args: Any, **kwargs: Any) -> Any:
            asked = kwargs.get("propositions")
            self.calls.append(None if asked is None else list(asked))
            return real(*args, **kwargs)

        monkeypatch.setattr(ledger.projection, "verdicts_at", counted)


class Folds:
    """The reference folds the replay makes, counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.count = 0

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return fold(*args, **kwargs)

        monkeypatch.setattr(projections.audit, "fold", counted)


@pytest.fixture
def story(ledger: Ledger) -> Ledger:
    seven_propositions(ledger)
    return ledger


def test_an_intact_ledger_replays_ok_with_the_fold_s_answers(story: Ledger) -> None:
    audit = story.replay(story.now())

    beliefs = list(audit.beliefs)
    assert audit.ok and audit.mismatches == ()
    assert [b.proposition for b in beliefs] == list(audit.propositions) == NAMES
    k = audit.known_at
    assert [b.verdict for b in beliefs] == [
        story.believed(p, as_of=k, known_at=k, via="fold").verdict for p in NAMES
    ]


def test_the_projection_is_asked_a_slice_at_a_time_as_the_beliefs_are_handed_out(
    story: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projections.audit, "SLICE", 3)
    asked = Asked(story, monkeypatch)
    audit = story.replay(story.now())
    assert asked.calls == []  # the prefix is verified and folded; nothing is compared yet

    beliefs = iter(audit.beliefs)
    first = next(beliefs)
    assert asked.calls == [NAMES[:3]]  # the first belief comes once its slice is compared
    rest = list(beliefs)

    assert asked.calls == [NAMES[:3], NAMES[3:6], NAMES[6:]]  # never every proposition at once
    assert [first.proposition, *(b.proposition for b in rest)] == NAMES
    assert audit.ok
    assert len(asked.calls) == 3  # the pass that handed the beliefs out settled the summary


def test_reading_ok_first_compares_without_keeping_the_beliefs_which_stay_readable(
    story: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    folds = Folds(monkeypatch)
    audit = story.replay(story.now())
    assert folds.count == 1

    assert audit.ok
    assert folds.count == 1  # the pass used the replay's own fold, and let it go
    again = list(audit.beliefs)
    assert folds.count == 2  # so a later pass folds the prefix again
    assert [b.verdict for b in again] == [b.verdict for b in story.replay(story.now()).beliefs]
    assert audit.ok and audit.mismatches == ()


@pytest.mark.parametrize("column", ["stance", "value", "valid_from"])
def test_a_changed_stance_row_is_named_and_the_others_still_agree(
    story: Ledger, column: str
) -> None:
    changes = {"stance": "deny", "value": "99", "valid_from": 0}
    with story.store.engine.begin() as conn:
        conn.execute(
            update(belief_stances)
            .where(belief_stances.c.statement_id == "p3-a")
            .values({column: changes[column]})
        )

    audit = story.replay(story.now())

    beliefs = list(audit.beliefs)
    assert not audit.ok
    assert audit.mismatches == ("p3",)
    assert audit.verification.ok  # the log itself is sound: the derived row is what lies
    k = audit.known_at
    assert [b.verdict for b in beliefs] == [
        story.believed(p, as_of=k, known_at=k, via="fold").verdict for p in NAMES
    ]  # the replay's answers are the log's, not the changed row's


def test_a_deleted_stance_row_is_named(story: Ledger) -> None:
    with story.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM belief_stances WHERE statement_id = 'p6-a'"))

    assert story.replay(story.now()).mismatches == ("p6",)


def test_a_proposition_the_log_never_defined_is_named(story: Ledger) -> None:
    with story.store.engine.begin() as conn:
        defined = belief_propositions.c.proposition_id == "p1"
        row = conn.execute(select(belief_propositions).where(defined)).one()
        conn.execute(
            insert(belief_propositions).values(
                proposition_id="p1-ghost", payload=row.payload, recorded_at=row.recorded_at
            )
        )

    audit = story.replay(story.now())

    assert audit.mismatches == ("p1-ghost",)
    assert [b.proposition for b in audit.beliefs] == NAMES  # the replay answers for the log only


def test_appends_after_the_replay_began_change_none_of_its_answers(
    story: Ledger, clock: FakeClock
) -> None:
    audit = story.replay(story.now())
    clock.now += timedelta(seconds=5)
    story.append(
        [
            StatementMade("late", "kcna", "p0", "confirm", "2024-10-19"),
            PropositionDefined("p9", "a claim made later", parties=["kcna"]),
        ]
    )

    beliefs = list(audit.beliefs)

    assert audit.ok
    assert [b.proposition for b in beliefs] == NAMES
    then = audit.known_at
    assert beliefs[0].verdict == story.believed("p0", as_of=then, known_at=then).verdict
    assert story.believed("p0").verdict != beliefs[0].verdict  # the append did change it since


def test_an_empty_prefix_replays_ok_with_no_beliefs(ledger: Ledger) -> None:
    audit = ledger.replay("2000-01-01")

    assert list(audit.beliefs) == [] and audit.propositions == ()
    assert audit.ok and audit.position == 0


def test_the_json_written_piece_by_piece_is_the_document(story: Ledger) -> None:
    audit = story.replay(story.now())

    written = "".join(audit.iter_json())

    assert json.loads(written) == audit.to_dict()
    assert written == json.dumps(audit.to_dict(), indent=2, ensure_ascii=False)
