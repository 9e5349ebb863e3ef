"""RetryPolicy: retries contention within attempts and one time budget, and hands the budget
(and the ``on_wait`` callback) to the writer lock of whatever runs inside it."""

from __future__ import annotations

import time

import pytest

from ledger.errors import BusyError, ConcurrencyConflict, LockTimeout
from ledger.store.retry import DEFAULT_LOCK_TIMEOUT, LockWait, RetryPolicy, current_budget


class Flaky:
    """Fails with ``error`` the first ``failures`` times it is called, then returns "done"."""

    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def test_contention_is_retried_until_it_passes() -> None:
    sleeps: list[float] = []
    action = Flaky(3, BusyError("deadlock detected"))

    assert RetryPolicy(attempts=8, lock_timeout=60).run(action, sleep=sleeps.append) == "done"
    assert action.calls == 4
    assert len(sleeps) == 3 and all(0 <= s <= 2.0 for s in sleeps)


def test_the_last_attempt_s_error_is_raised() -> None:
    action = Flaky(10, BusyError("deadlock detected"))

    with pytest.raises(BusyError, match="deadlock"):
        RetryPolicy(attempts=3, lock_timeout=60).run(action, sleep=lambda _: None)
    assert action.calls == 3


def test_no_retry_once_the_time_budget_is_spent() -> None:
    """A lock wait that gave up used the whole budget: running it again would wait past it."""
    action = Flaky(10, LockTimeout("gave up", holder="pid 1", waited=0.01))

    def slow() -> str:
        time.sleep(0.002)  # the budget below is 1 ms
        return action()

    with pytest.raises(LockTimeout):
        RetryPolicy(attempts=8, lock_timeout=0.001).run(slow, sleep=lambda _: None)
    assert action.calls == 1


def test_errors_that_are_the_caller_s_are_never_retried() -> None:
    action = Flaky(1, ConcurrencyConflict("statement:s1", 1, 2))

    with pytest.raises(ConcurrencyConflict):
        RetryPolicy().run(action, sleep=lambda _: None)
    assert action.calls == 1


def test_the_budget_and_the_callback_reach_what_runs_inside() -> None:
    told: list[LockWait] = []
    policy = RetryPolicy(lock_timeout=12.5, on_wait=told.append)

    def inside() -> float:
        budget = current_budget()
        budget.tell("pid 42 ('psql')", 42)
        return budget.timeout

    assert policy.run(inside) == 12.5
    assert len(told) == 1
    assert (told[0].holder, told[0].pid, told[0].timeout) == ("pid 42 ('psql')", 42, 12.5)
    assert str(told[0]).startswith("waiting for the writer lock held by pid 42 ('psql') for 0 s")
    # Outside a run: the environment's default, and nobody to tell.
    outside = current_budget()
    assert outside.on_wait is None


def test_the_default_lock_timeout_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGER_LOCK_TIMEOUT", raising=False)
    assert RetryPolicy().timeout() == DEFAULT_LOCK_TIMEOUT == 60
    assert current_budget().timeout == 60
    monkeypatch.setenv("LEDGER_LOCK_TIMEOUT", "7.5")
    assert RetryPolicy().timeout() == 7.5
    assert RetryPolicy(lock_timeout=3).timeout() == 3  # Python wins over the environment


def test_a_policy_that_cannot_work_is_refused() -> None:
    for bad in ({"attempts": 0}, {"base_delay": -1}, {"lock_timeout": 0}, {"lock_timeout": -2}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)  # type: ignore[arg-type]
