"""Value types the store hands back: stored events, the head of the chain, reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import attrs

from ledger.events import Event, stated_at
from ledger.times import iso


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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, times as ISO 8601 (the CLI's ``--json`` contract): both
        times, the store's bookkeeping and the event as its canonical payload."""
        from ledger.codec import to_payload  # noqa: PLC0415 - the codec imports this module

        return {
            "position": self.position,
            "recorded_at": iso(self.recorded_at),
            "stated_at": _iso(self.stated_at),
            "type": self.type,
            "event_id": str(self.event_id),
            "stream_id": self.stream_id,
            "hash": self.hash,
            "event": to_payload(self.event),
        }


@attrs.frozen
class Head:
    """The end of the chain: last position and hash (0 and the genesis hash when empty)."""

    position: int
    hash: str
    recorded_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form: position, hash and ``recorded_at`` as ISO 8601 (or None)."""
        return {"position": self.position, "hash": self.hash, "recorded_at": _iso(self.recorded_at)}


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
    #: How many of the events checked were redacted (issue 15): their text is gone, so each was
    #: checked through its redaction's marker and its Merkle leaf instead of its chain hash.
    redacted: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the CLI's ``verify --json``)."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": self.head.to_dict(),
            "position": self.position,
            "problem": self.problem,
            "redacted": self.redacted,
        }

    def __str__(self) -> str:
        if self.ok:
            redacted = (
                f" ({self.redacted} redacted: checked through their Merkle leaves)"
                if self.redacted
                else ""
            )
            return (
                f"ok: {self.checked} events{redacted}, head {self.head.position} {self.head.hash}"
            )
        where = "" if self.position is None else f" at position {self.position}"
        return f"TAMPERED{where}: {self.problem}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso(value)
