"""Partitions folded by two processes (``projections.forkfold``): every partition's rows once,
as one process gives them; the worker's failures raised in the ledger's process; the worker
stopped when the ledger's process stops first."""

from __future__ import annotations

import multiprocessing
import os
import signal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import DamagedDatabase, LedgerError
from projections import forkfold

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"
)


def _rows(i: int) -> list[tuple[Any, ...]]:
    # rows of the shapes a partition gives: text, integers past 32 bits, None
    return [(f"s{i}-{j}", 2**40 + j, None, "assert", "é" * (i % 3)) for j in range(i % 7)]


@settings(max_examples=10, deadline=None)
@given(parts=st.integers(min_value=0, max_value=40))
def test_two_processes_give_every_partition_once_as_one_does(parts: int) -> None:
    one = list(forkfold.folded(parts, _rows, two=False))
    two = list(forkfold.folded(parts, _rows, two=True))
    assert one == [_rows(i) for i in range(parts)]
    assert sorted(two) == sorted(one)


@pytest.mark.parametrize("parts", [2, 3, 200])
def test_the_worker_folds_the_first_partition(parts: int) -> None:
    """Whatever the timing, the first partition is the worker's (it has a pid of its own): a
    rebuild's equality tests on small logs always cover rows that crossed from the worker.
    (Who folds the others depends on timing: the benchmarks show the split.)"""

    def fold(i: int) -> list[tuple[Any, ...]]:
        return [(i, os.getpid())]

    by = {i: pid for rows in forkfold.folded(parts, fold, two=True) for i, pid in rows}
    assert sorted(by) == list(range(parts))
    assert by[0] != os.getpid()


def test_a_failure_in_the_worker_is_raised_as_it_was() -> None:
    parent = os.getpid()

    def fold(i: int) -> list[tuple[Any, ...]]:
        if os.getpid() != parent:
            raise DamagedDatabase(f"partition {i} is damaged")
        sum(range(20_000))  # the parent busy long enough for the worker to take one
        return [(i,)]

    with pytest.raises(DamagedDatabase, match="is damaged") as raised:
        list(forkfold.folded(10_000, fold, two=True))
    assert any("second process" in note for note in raised.value.__notes__)


def test_a_worker_that_dies_is_reported() -> None:
    parent = os.getpid()

    def fold(i: int) -> list[tuple[Any, ...]]:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        sum(range(20_000))
        return [(i,)]

    with pytest.raises(LedgerError, match="ended without finishing"):
        list(forkfold.folded(10_000, fold, two=True))


def test_the_worker_is_stopped_when_the_parent_stops_first() -> None:
    def fold(i: int) -> list[tuple[Any, ...]]:
        sum(range(20_000))
        return [(i, os.getpid())]

    rows = forkfold.folded(10_000, fold, two=True)
    worker = next(pid for part in rows for _, pid in part if pid != os.getpid())
    os.kill(worker, 0)  # running
    rows.close()  # as when an insert fails: the generator is closed
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)  # stopped and reaped


def test_one_process_below_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forkfold, "PARALLEL_FROM", 100)
    monkeypatch.setattr(forkfold, "cores", lambda: 2)
    assert not forkfold.two_processes(99)
    assert forkfold.two_processes(100)
    monkeypatch.setattr(forkfold, "cores", lambda: 1)
    assert not forkfold.two_processes(100)


def test_without_a_process_to_fork_this_one_folds_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(process: multiprocessing.process.BaseProcess) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refused)
    folded = list(forkfold.folded(5, lambda i: [(i, os.getpid())], two=True))
    assert folded == [[(i, os.getpid())] for i in range(5)]


def test_a_worker_that_dies_holding_the_counter_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The partition counter's lock is a semaphore the worker's death does not release: the
    parent notices the worker is gone instead of waiting for the lock forever."""
    parent = os.getpid()
    take = forkfold.Folding.take

    def dies_holding_it(self: forkfold.Folding) -> int | None:
        if os.getpid() != parent:
            self.next.get_lock().acquire()
            os.kill(os.getpid(), signal.SIGKILL)
        return take(self)

    def fold(i: int) -> list[tuple[Any, ...]]:
        sum(range(20_000))  # the parent busy long enough for the worker to take the lock
        return [(i,)]

    monkeypatch.setattr(forkfold.Folding, "take", dies_holding_it)
    with pytest.raises(LedgerError, match="ended without finishing") as raised:
        list(forkfold.folded(10_000, fold, two=True))
    assert any(entry.name == "take" for entry in raised.traceback)  # noticed waiting for it
