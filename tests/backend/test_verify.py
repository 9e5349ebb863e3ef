"""Verification against a checkpoint: a position and hash kept outside the database."""

from __future__ import annotations

from ledger import Ledger
from ledger.hashing import GENESIS
from tests.helpers import basics, statement


def test_a_checkpoint_with_a_wrong_hash_is_reported_at_its_position(ledger: Ledger) -> None:
    appended = ledger.append([*basics(), statement("s1"), statement("s2")]).appended
    at = appended[2]  # position 3 of 5
    forged = (at.position, "f" * 64)

    report = ledger.verify(forged)

    assert not report.ok
    assert report.position == 3
    assert "checkpoint" in (report.problem or "")
    assert report.checked == 2  # the rows before it are fine
    assert ledger.verify((at.position, at.hash)).ok


def test_a_checkpoint_at_the_head_verifies_and_still_does_after_more_appends(
    ledger: Ledger,
) -> None:
    ledger.append(basics())
    head = ledger.head()
    ledger.append([statement("s1")])

    assert ledger.verify((head.position, head.hash)).ok


def test_a_checkpoint_of_the_empty_log_holds_only_with_the_genesis_hash(ledger: Ledger) -> None:
    ledger.append(basics())
    assert ledger.verify((0, GENESIS)).ok
    report = ledger.verify((0, "f" * 64))
    assert (report.ok, report.position) == (False, 0)
    assert not ledger.verify((-1, GENESIS)).ok
