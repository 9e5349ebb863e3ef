"""Value types the store hands back: stored events, the head of the chain, reports."""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from ledger.events import Event, stated_at


@attrs.frozen
class RecordedEvent:
    """An event as the log holds it: the event plus the store's bookkeeping."""

    position: int
    event_id: uuid.UUID
    stream_id: str
    stream_version: int
    recorded_at: datetime
    event: Event
    prev_hash: str
    hash: str

    @property
    def type(self) -> str:
        return self.event.TYPE

    @property
    def stated_at(self) -> datetime | None:
        return stated_at(self.event)


@attrs.frozen
class Head:
    """The end of the chain: last position and hash (0 and the genesis hash when empty)."""

    position: int
    hash: str
    recorded_at: datetime | None


@attrs.frozen
class AppendResult:
    """What one atomic ``append`` did: events written, identical re-appends skipped."""

    appended: tuple[RecordedEvent, ...]
    skipped: int
    head: Head


@attrs.frozen
class VerifyReport:
    """The outcome of re-reading the whole log; ``position`` is the first bad one, if any (None
    when the log is sound but what is derived from it is not: ``problem`` says what)."""

    ok: bool
    checked: int
    head: Head
    position: int | None = None
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"ok: {self.checked} events, head {self.head.position} {self.head.hash}"
        where = "" if self.position is None else f" at position {self.position}"
        return f"TAMPERED{where}: {self.problem}"
