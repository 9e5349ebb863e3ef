"""Bounded waits and retries for contention: a writer that finds the ledger locked waits, says
so, and gives up after a set time.

Writers serialize on one writer lock (see :mod:`ledger.store.backends`). A writer waits for it up to
the policy's ``lock_timeout`` (default :data:`DEFAULT_LOCK_TIMEOUT`, or ``LEDGER_LOCK_TIMEOUT``
seconds from the environment); about once a second of waiting it calls ``on_wait`` with a
:class:`LockWait` (who holds the lock, for how long we have waited), and when the time is up it
raises :class:`~ledger.errors.LockTimeout`, a :class:`~ledger.errors.BusyError` that says who held
the lock. The time is one budget for the whole call, retries included.

An append is all-or-nothing and idempotent (event ids are derived from record ids), so running
it again after a PostgreSQL serialization failure or a deadlock is always safe; such errors are
retried with exponential backoff while attempts and time remain. Errors that are the caller's
(a conflict, a bad reference) are never retried.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import attrs

from ledger.errors import BusyError, LedgerError

T = TypeVar("T")

#: Seconds a writer waits for the writer lock before it gives up, unless told otherwise.
DEFAULT_LOCK_TIMEOUT = 60.0
#: The environment variable that sets the default wait, in seconds.
LOCK_TIMEOUT_ENV = "LEDGER_LOCK_TIMEOUT"


def lock_timeout_from_env() -> float:
    """``LEDGER_LOCK_TIMEOUT`` in seconds if set (a positive number), else the default."""
    return seconds_from_env(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT)


def seconds_from_env(name: str, default: float) -> float:
    """A positive number of seconds from environment variable ``name``, or ``default``; a value
    that is not one is an error that names the variable, not a silent default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise LedgerError(f"{name}={raw!r} is not a positive number of seconds")
    return value


@attrs.frozen
class LockWait:
    """A writer waiting for the writer lock, as ``RetryPolicy.on_wait`` is told about it.

    ``waited`` and ``timeout`` are seconds; ``holder`` says who holds the lock as far as this
    connection may see (``"pid 4242 (application 'factledger')"`` on PostgreSQL, ``"another
    connection to FILE"`` on SQLite); ``pid`` is the holder's server process id when known.
    """

    waited: float
    timeout: float
    holder: str
    pid: int | None = None

    def __str__(self) -> str:
        return (
            f"waiting for the writer lock held by {self.holder} for {self.waited:.0f} s "
            f"(giving up after {self.timeout:g} s)"
        )


#: Called about once a second while a writer waits for the lock.
OnWait = Callable[[LockWait], object]


@attrs.frozen
class WaitBudget:
    """How long the current call may still wait for the writer lock, and whom to tell."""

    started: float  # time.monotonic()
    timeout: float
    on_wait: OnWait | None = None

    def waited(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.timeout - self.waited()

    def tell(self, holder: str, pid: int | None = None) -> None:
        if self.on_wait is not None:
            self.on_wait(LockWait(self.waited(), self.timeout, holder, pid))


_BUDGET: ContextVar[WaitBudget | None] = ContextVar("factledger_wait_budget", default=None)


def current_budget() -> WaitBudget:
    """The wait budget of the :meth:`RetryPolicy.run` in progress; outside one (a projection
    catching up on its own, say), a fresh budget of the environment's default, told to no one."""
    found = _BUDGET.get()
    return found if found is not None else WaitBudget(time.monotonic(), lock_timeout_from_env())


@contextmanager
def _budget(budget: WaitBudget) -> Iterator[WaitBudget]:
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


@attrs.frozen
class RetryPolicy:
    """How long a writer waits for the writer lock, whom it tells, and how it retries.

    * ``lock_timeout``: seconds the whole call may wait for the lock, retries included (None:
      ``LEDGER_LOCK_TIMEOUT`` from the environment, else 60 s); then
      :class:`~ledger.errors.LockTimeout`.
    * ``on_wait``: called about once a second of waiting with a :class:`LockWait`.
    * ``attempts``, ``base_delay``, ``max_delay``: other contention (a PostgreSQL serialization
      failure or deadlock) runs the call again, up to ``attempts`` tries in all, sleeping a
      random time up to ``base_delay * 2**n`` (capped at ``max_delay``) seconds in between
      (exponential backoff with full jitter), as long as the time allows.
    """

    attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 2.0
    lock_timeout: float | None = None
    on_wait: OnWait | None = attrs.field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("attempts must be at least 1 and delays non-negative")
        if self.lock_timeout is not None and not self.lock_timeout > 0:
            raise ValueError("lock_timeout must be a positive number of seconds")

    def timeout(self) -> float:
        """Seconds a call may wait for the writer lock under this policy."""
        return self.lock_timeout if self.lock_timeout is not None else lock_timeout_from_env()

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))

    def run(self, action: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
        """Run ``action`` within this policy's wait budget, retrying it on :class:`BusyError`
        while attempts and time remain."""
        with _budget(WaitBudget(time.monotonic(), self.timeout(), self.on_wait)) as budget:
            for attempt in range(self.attempts - 1):
                try:
                    return action()
                except BusyError:
                    left = budget.remaining()
                    if left <= 0:
                        raise
                    sleep(min(self.delay(attempt), left))
            return action()


NO_RETRY = RetryPolicy(attempts=1)
