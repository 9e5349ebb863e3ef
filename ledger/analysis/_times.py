"""Times as the analysis tools take and show them: read with the ledger's one time grammar
(``ledger.times``), so a bare date as a query bound means through the end of that day, UTC, and
a naive datetime is refused, exactly as ``Ledger.believed`` does."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from ledger import InvalidRecord, Ledger
from ledger.times import TimeLike, end_of_day, iso, parse_iso

__all__ = ["TimeLike", "bound", "day", "iso", "known", "short"]


def day(value: date | str, *, field: str = "date") -> date:
    """A calendar date, from a date or ``YYYY-MM-DD``."""
    parsed = parse_iso(value, field=field) if isinstance(value, str) else value
    if isinstance(parsed, datetime):
        raise InvalidRecord(f"expected a date, got the instant {parsed.isoformat()}", field=field)
    return parsed


def bound(value: TimeLike, *, field: str = "as_of") -> datetime:
    """A query bound as an aware UTC datetime: a bare date means its last microsecond."""
    return end_of_day(value, field=field)


def known(lg: Ledger, known_at: TimeLike | None) -> datetime:
    """``known_at`` as the ledger answers for it (:meth:`Ledger.answered_at`): never later than
    the last committed event, so that a grid, a frame or a report asked again gives the same."""
    return lg.answered_at(known_at)


def short(value: datetime) -> str:
    """For people: ``2024-10-18`` at midnight UTC, else ``2024-10-18 09:30 UTC``."""
    v = value.astimezone(UTC)
    if v.time() == time(0):
        return v.date().isoformat()
    seconds = f":{v.second:02d}" if v.second or v.microsecond else ""
    return f"{v.date().isoformat()} {v.hour:02d}:{v.minute:02d}{seconds} UTC"
