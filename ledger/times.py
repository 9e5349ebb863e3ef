"""Time handling: every instant in the ledger is a timezone-aware UTC datetime.

A bare date means midnight UTC at the start of that day; a naive datetime is refused rather than
guessed at (a wrong guess of the zone would silently move a statement across a day boundary).
Instants are stored as integer microseconds since the Unix epoch: exact, cheap to compare and
index, and identical on SQLite and PostgreSQL.

**One grammar of times as text.** The import format's, because files are evidence and must
mean one thing to every reader: ``YYYY-MM-DD``, or ``YYYY-MM-DDTHH:MM[:SS[.f]]`` (1 to 6
fractional digits) followed by ``Z`` or ``±HH:MM``; a real calendar date, hours 00 to 23, no
leap second, an offset within ±23:59, and an instant within years 1 to 9999 once in UTC. It is
written once, as :data:`TIME_GRAMMAR` (a regular expression that means the same to Python's
``re`` and to the ECMA-262 engines JSON Schema validators use), and read by :func:`parse_iso`:
the Python API, the CLI's ``--as-of``/``--known-at`` and the importer all parse with it, and the
import format's JSON Schema is :func:`time_schema`, generated from it. What it refuses is
explained by :func:`_refusal`, which names the field and shows a text that is accepted.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from ledger.errors import InvalidRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_DAY = timedelta(days=1)

TimeLike = datetime | date | str


# -- the grammar -----------------------------------------------------------------------------
# Only what means the same in Python's re and in ECMA-262: [0-9] (Python's \d also matches other
# scripts' digits), (?:), (?=), (?!), alternation and counted repeats.


def _two_digits(lo: int, hi: int) -> str:
    """The numbers ``lo`` to ``hi`` (0 to 99) written with two digits, as a pattern."""
    parts = []
    for tens in range(lo // 10, hi // 10 + 1):
        first, last = max(lo, 10 * tens) % 10, min(hi, 10 * tens + 9) % 10
        units = str(first) if first == last else f"[{first}-{last}]"
        parts.append(f"{tens}{units}")
    return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"


def _any(*alternatives: str) -> str:
    return f"(?:{'|'.join(alternatives)})"


_YEAR = _any("[0-9]{3}[1-9]", "[0-9]{2}[1-9]0", "[0-9][1-9]00", "[1-9]000")  # 0001 to 9999
_LEAP_CC_OR_YY = _any("0[48]", "[2468][048]", "[13579][26]")  # 04 to 96, by fours
_LEAP_YEAR = _any(f"[0-9]{{2}}{_LEAP_CC_OR_YY}", f"{_LEAP_CC_OR_YY}00")
_MONTH_DAY = _any(
    f"{_any('0[13578]', '1[02]')}-{_any('0[1-9]', '[12][0-9]', '3[01]')}",
    f"{_any('0[469]', '11')}-{_any('0[1-9]', '[12][0-9]', '30')}",
    f"02-{_any('0[1-9]', '1[0-9]', '2[0-8]')}",
)
_DATE = _any(f"{_YEAR}-{_MONTH_DAY}", f"{_LEAP_YEAR}-02-29")
_HOUR = _two_digits(0, 23)
_CLOCK = rf"{_HOUR}:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{{1,6}})?)?"
_OFFSET = rf"(?:Z|[+-]{_HOUR}:[0-5][0-9])"

#: The one grammar of a time as text (without anchors): ``YYYY-MM-DD``, or
#: ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` and ``Z`` or an offset ``±HH:MM``, on a real calendar day.
#: It ends in ``(?!\n)`` so that ``^…$`` means the whole text in Python's ``re`` (which the
#: ``jsonschema`` package uses) as in ECMA-262: Python's ``$`` also matches before a final line
#: feed.
TIME_GRAMMAR: Final = f"{_DATE}(?:T{_CLOCK}{_OFFSET})?(?!\\n)"
#: :data:`TIME_GRAMMAR` compiled: ``TIME_TEXT.fullmatch(text)``.
TIME_TEXT: Final = re.compile(TIME_GRAMMAR)


def _beyond_9999() -> str:
    """Texts of 9999-12-31 whose negative offset carries them into year 10000 in UTC: local
    h:m and offset H:M with 60(h + H) + m + M >= 1440, spelt out digit by digit (lookaheads
    intersect the conditions on the hours and on the minutes)."""
    rest = "[^-]*-"  # the rest of the clock, then the offset's sign
    hours_24 = [f"{h:02d}:{rest}{_two_digits(24 - h, 23)}" for h in range(1, 24)]
    hours_23 = _any(*(f"{h:02d}:{rest}{23 - h:02d}:" for h in range(24)))
    # minutes m = 10a + b and M = 10c + d with m + M >= 60: a + c >= 6, or a + c = 5, b + d >= 10
    tens_6 = [f"{a}[0-9]{rest}[0-9]{{2}}:[{6 - a}-5]" for a in range(1, 6)]
    tens_5 = _any(*(f"{a}[0-9]{rest}[0-9]{{2}}:{5 - a}" for a in range(6)))
    units_10 = _any(*(f"{b}{rest}[0-9]{{2}}:[0-5][{10 - b}-9]" for b in range(1, 10)))
    minutes_60 = _any(*tens_6, f"(?={tens_5})[0-5](?={units_10})")
    return f"9999-12-31T{_any(*hours_24, f'(?={hours_23})[0-9]{{2}}:{minutes_60}')}"


def _before_year_1() -> str:
    """Texts of 0001-01-01 whose positive offset carries them into year 0 in UTC: local h:m
    before the offset H:M, that is h < H, or h = H and m < M."""
    rest = r"[^+]*\+"
    hours_less = [f"{h:02d}:{rest}{_two_digits(h + 1, 23)}" for h in range(23)]
    hours_same = _any(*(f"{h:02d}:{rest}{h:02d}:" for h in range(24)))
    # minutes m = 10a + b before M = 10c + d: a < c, or a = c and b < d
    tens_less = [f"{a}[0-9]{rest}[0-9]{{2}}:[{a + 1}-5]" for a in range(5)]
    tens_same = _any(*(f"{a}[0-9]{rest}[0-9]{{2}}:{a}" for a in range(6)))
    units_less = _any(*(f"{b}{rest}[0-9]{{2}}:[0-5][{b + 1}-9]" for b in range(9)))
    minutes_less = _any(*tens_less, f"(?={tens_same})[0-5](?={units_less})")
    return f"0001-01-01T{_any(*hours_less, f'(?={hours_same})[0-9]{{2}}:{minutes_less}')}"


#: The texts of :data:`TIME_GRAMMAR` whose instant falls outside years 1 to 9999 in UTC (a
#: prefix pattern, for ``re.match``): what :func:`to_utc` refuses by arithmetic, spelt out for a
#: JSON Schema, which has none.
OUT_OF_RANGE: Final = _any(_beyond_9999(), _before_year_1())


def time_schema() -> dict[str, Any]:
    """The ``time`` definition of the import format's JSON Schema, generated from the grammar."""
    return {
        "type": "string",
        "pattern": f"^{TIME_GRAMMAR}$",
        "not": {"pattern": f"^{OUT_OF_RANGE}"},
        "description": (
            "YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM[:SS[.ffffff]] followed by Z or an "
            "offset such as +09:00, on a real calendar day and within years 1 to 9999 in UTC; "
            "a naive datetime is refused. Generated from ledger.times.TIME_GRAMMAR."
        ),
    }


# -- parsing ---------------------------------------------------------------------------------


def to_utc(value: TimeLike, *, field: str = "time") -> datetime:
    """Normalise a date, aware datetime or text in the one grammar to an aware UTC datetime."""
    if isinstance(value, str):
        value = parse_iso(value, field=field)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _naive(value, field)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise _out_of_range(value, field) from None
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    raise InvalidRecord(f"expected a date or datetime, got {type(value).__name__}", field=field)


def parse_iso(text: str, *, field: str = "time") -> date | datetime:
    """Read a text in the one grammar (:data:`TIME_GRAMMAR`): ``YYYY-MM-DD`` as a date,
    ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` with ``Z`` or ``±HH:MM`` as an aware datetime (in its
    own offset: :func:`to_utc` converts it, and refuses one outside years 1 to 9999 in UTC).
    Anything else is refused with an :class:`InvalidRecord` that names ``field``."""
    if TIME_TEXT.fullmatch(text) is None:
        raise _refusal(text, field)
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


#: What ``parse_iso`` read before the one grammar (a space for the T, offsets without a colon or
#: with seconds), any calendar day: only to explain a refusal as it was explained before.
_LAX = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9](?::?[0-5][0-9])?)?)?"
)
_COMPACT_OFFSET = re.compile(r"([+-][0-9]{2})([0-9]{2})$")
_EXAMPLE = "2024-10-18T09:30:00+09:00"


def _refusal(text: str, field: str) -> InvalidRecord:
    """Why ``text`` is not a time: an impossible calendar day or clock, a naive datetime, an
    instant beyond years 1 to 9999, or a form outside the grammar (with the accepted text
    when one means the same, else an example)."""
    if _LAX.fullmatch(text) is None:
        return InvalidRecord(
            f"{_clip(text)} is not an ISO date (YYYY-MM-DD) or datetime (YYYY-MM-DDTHH:MM:SS "
            f"with an offset such as +00:00 or Z){_instead(text)}",
            field=field,
        )
    try:
        value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError as e:
        return InvalidRecord(
            f"{_clip(text)} is not an ISO date (YYYY-MM-DD) or datetime with offset: {e}",
            field=field,
        )
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            return _naive(value, field)
        try:
            value.astimezone(UTC)
        except OverflowError:
            return _out_of_range(value, field)
    return InvalidRecord(
        f"{_clip(text)} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.ffffff]] followed by Z or "
        f"an offset such as +09:00{_instead(text)}",
        field=field,
    )


def _instead(text: str) -> str:
    """``; write 'TEXT'`` with the accepted text that means the same as ``text`` (a T for a
    space or a t, Z for z, a colon in the offset, no surrounding white space), else an
    example of the grammar."""
    fixed = text.strip()
    if len(fixed) > 10 and fixed[10] in " t":
        fixed = f"{fixed[:10]}T{fixed[11:]}"
    fixed = _COMPACT_OFFSET.sub(r"\1:\2", fixed.removesuffix("z") + ("Z" * fixed.endswith("z")))
    if fixed != text and TIME_TEXT.fullmatch(fixed) is not None:
        return f"; write {fixed!r}"
    return f", e.g. {_EXAMPLE!r} or '2024-10-18'"


def _naive(value: datetime, field: str) -> InvalidRecord:
    return InvalidRecord(
        f"naive datetime {value.isoformat()} has no time zone; give an offset such as "
        "+00:00 or a bare date",
        field=field,
    )


def _out_of_range(value: datetime, field: str) -> InvalidRecord:
    return InvalidRecord(f"{value.isoformat()} falls outside years 1 to 9999 in UTC", field=field)


def _clip(text: str, limit: int = 60) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


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
