"""Verification against a checkpoint: a position and hash kept outside the database."""

from __future__ import annotations

import pytest

import projections.materialized as materialized
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


def test_verify_reports_its_progress_through_the_chain_and_then_the_derived_tables(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.append(basics())
    for i in range(12):
        ledger.append([statement(f"s{i}", when=f"2024-10-{i + 1:02d}")])
    monkeypatch.setattr(materialized, "WINDOW", 4)  # the derived check's fold in several steps
    seen: list[tuple[int, int]] = []

    report = ledger.verify(progress=lambda done, total: seen.append((done, total)))

    assert report.ok and report.checked == 15
    assert {total for _, total in seen} == {30}  # the chain, then the fold: each event twice
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == 30
    assert 15 in done and any(15 < d < 30 for d in done)  # the fold's windows in between


def test_verify_of_a_tampered_log_stops_its_progress_where_the_chain_breaks(
    ledger: Ledger,
) -> None:
    ledger.append([*basics(), statement("s1"), statement("s2")])
    seen: list[int] = []
    forged = (3, "f" * 64)

    assert not ledger.verify(forged, progress=lambda done, _total: seen.append(done)).ok
    assert all(done <= 5 for done in seen)  # never reached the derived tables' half (6-10)
