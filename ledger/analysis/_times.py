"""Times as the analysis tools take and show them, with the ledger's own rules: a bare date as a
query bound means through the end of that day, UTC; a naive datetime is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ledger import InvalidRecord, Ledger

TimeLike = datetime | date | str

_LAST_MICROSECOND = timedelta(days=1) - timedelta(microseconds=1)


def day(value: date | str, *, field: str = "date") -> date:
    """A calendar date, from a date or ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        raise InvalidRecord(f"expected a date, got the instant {value.isoformat()}", field=field)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if len(value) == 10 else _not_a_date(value, field)
    except ValueError:
        return _not_a_date(value, field)


def _not_a_date(value: str, field: str) -> date:
    raise InvalidRecord(f"{value[:40]!r} is not a date (YYYY-MM-DD)", field=field)


def bound(value: TimeLike, *, field: str = "as_of") -> datetime:
    """A query bound as an aware UTC datetime: a bare date means its last microsecond."""
    if isinstance(value, str):
        text = value
        if len(text) == 10:
            value = day(text, field=field)
        else:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise InvalidRecord(
                    f"{text[:40]!r} is not an ISO date or datetime with an offset", field=field
                ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidRecord(
                f"naive datetime {value.isoformat()} has no time zone; give an offset such as "
                "+00:00 or a bare date",
                field=field,
            )
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=UTC) + _LAST_MICROSECOND


def known(lg: Ledger, known_at: TimeLike | None) -> datetime:
    """``known_at`` as an instant; by default now, never before the last recorded event."""
    if known_at is not None:
        return bound(known_at, field="known_at")
    now = lg.now()
    recorded = lg.head().recorded_at
    return now if recorded is None else max(now, recorded)


def iso(value: datetime) -> str:
    """One text form for every instant: ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d}T"
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}Z"
    )


def short(value: datetime) -> str:
    """For people: ``2024-10-18`` at midnight UTC, else ``2024-10-18 09:30 UTC``."""
    v = value.astimezone(UTC)
    if v.time() == time(0):
        return v.date().isoformat()
    seconds = f":{v.second:02d}" if v.second or v.microsecond else ""
    return f"{v.date().isoformat()} {v.hour:02d}:{v.minute:02d}{seconds} UTC"
