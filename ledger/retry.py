"""Bounded retries for contention: a writer that finds the database locked waits and tries again.

An append is all-or-nothing and idempotent (event ids are derived from record ids), so running
it again after a lock timeout, a PostgreSQL serialization failure or a deadlock is always safe.
Errors that are the caller's (a conflict, a bad reference) are never retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import attrs

from ledger.errors import BusyError

T = TypeVar("T")


@attrs.frozen
class RetryPolicy:
    """Exponential backoff with full jitter: ``attempts`` tries in all, sleeping a random time
    up to ``base_delay * 2**n`` (capped at ``max_delay``) seconds between them.

    The default (8 attempts, 50 ms doubling to at most 2 s) rides out bursts of contention of
    several seconds on top of SQLite's own 30 s busy timeout, and then gives up with
    :class:`~ledger.errors.BusyError` rather than hanging forever.
    """

    attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 2.0

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("attempts must be at least 1 and delays non-negative")

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))

    def run(self, action: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
        """Run ``action``, retrying it on :class:`BusyError` as the policy allows."""
        for attempt in range(self.attempts - 1):
            try:
                return action()
            except BusyError:
                sleep(self.delay(attempt))
        return action()


NO_RETRY = RetryPolicy(attempts=1)
