"""Time handling: every instant in the ledger is a timezone-aware UTC datetime.

A bare date means midnight UTC at the start of that day; a naive datetime is refused rather than
guessed at (a wrong guess of the zone would silently move a statement across a day boundary).
Instants are stored as integer microseconds since the Unix epoch: exact, cheap to compare and
index, and identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from ledger.errors import InvalidRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_DAY = timedelta(days=1)
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d(?::?[0-5]\d)?)?)?"
)

TimeLike = datetime | date | str


def to_utc(value: TimeLike, *, field: str = "time") -> datetime:
    """Normalise a date, aware datetime or ISO string to an aware UTC datetime."""
    if isinstance(value, str):
        value = parse_iso(value, field=field)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidRecord(
                f"naive datetime {value.isoformat()} has no time zone; give an offset such as "
                "+00:00 or a bare date",
                field=field,
            )
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise InvalidRecord(
                f"{value.isoformat()} falls outside years 1 to 9999 in UTC", field=field
            ) from None
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    raise InvalidRecord(f"expected a date or datetime, got {type(value).__name__}", field=field)


def parse_iso(text: str, *, field: str = "time") -> date | datetime:
    """Parse ``YYYY-MM-DD`` as a date, ``YYYY-MM-DDTHH:MM[:SS[.ffffff]][offset]`` as a
    datetime. Python also reads week dates and other ISO 8601 forms; they are refused here so
    that every backend, the JSON Schema and the importer accept exactly the same texts."""
    if not _ISO.fullmatch(text):
        raise InvalidRecord(
            f"{text[:40]!r} is not an ISO date (YYYY-MM-DD) or datetime "
            "(YYYY-MM-DDTHH:MM:SS with an offset such as +00:00 or Z)",
            field=field,
        )
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError as e:
        raise InvalidRecord(
            f"{text!r} is not an ISO date (YYYY-MM-DD) or datetime with offset: {e}", field=field
        ) from None


def end_of_day(value: TimeLike, *, field: str = "as_of") -> datetime:
    """A query bound: a bare date means *through the end of that day* (UTC)."""
    if isinstance(value, str):
        value = parse_iso(value, field=field)
    if isinstance(value, date) and not isinstance(value, datetime):
        start = to_utc(value, field=field)
        return start + (_ONE_DAY - timedelta(microseconds=1))  # 9999-12-31 still fits
    return to_utc(value, field=field)


def to_micros(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, no float rounding)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime for microseconds since the epoch."""
    return _EPOCH + timedelta(0, 0, micros)  # positional: measurably cheaper than keywords


def iso(value: datetime) -> str:
    """The canonical text form: ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, always UTC, always 6 digits."""
    v = value.astimezone(UTC)
    # f-string, not strftime: glibc's %Y does not zero-pad years before 1000.
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d}T"
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}Z"
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
