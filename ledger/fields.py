"""Field validators shared by the event types and the importer.

Each returns the normalised value or raises :class:`InvalidRecord` naming the field, so the
importer can add the file and line without re-deriving what went wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TypeVar

from ledger.errors import InvalidRecord

SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
SHA256 = re.compile(r"[0-9a-f]{64}")
# C0 controls except tab, newline and carriage return; DEL and the C1 block.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

SHORT_TEXT = 500
LONG_TEXT = 5_000
DOCUMENT_TEXT = 5_000_000

E = TypeVar("E", bound=StrEnum)


def slug(value: object, field: str) -> str:
    """An id: 1-128 of ``[a-z0-9._-]``, starting with a letter or digit."""
    if not isinstance(value, str):
        raise InvalidRecord(f"expected an id string, got {_kind(value)}", field=field)
    if not SLUG.fullmatch(value):
        raise InvalidRecord(
            f"{_clip(value)!r} is not a valid id: use 1 to 128 lowercase letters, digits, "
            "'-', '_' or '.', starting with a letter or digit",
            field=field,
        )
    return value


def text(value: object, field: str, *, limit: int = SHORT_TEXT, empty: bool = False) -> str:
    """Human text: a string of at most ``limit`` characters, no control characters."""
    if not isinstance(value, str):
        raise InvalidRecord(f"expected a string, got {_kind(value)}", field=field)
    if not empty and not value.strip():
        raise InvalidRecord("must not be empty", field=field)
    if len(value) > limit:
        raise InvalidRecord(f"is {len(value):,} characters long; at most {limit:,}", field=field)
    bad = _CONTROL.search(value)
    if bad:
        raise InvalidRecord(
            f"contains control character U+{ord(bad.group()):04X} at offset {bad.start()}",
            field=field,
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidRecord(
            f"contains a lone surrogate at offset {e.start}; text must be valid Unicode",
            field=field,
        ) from None
    return value


def optional(check: Callable[..., str], value: object, field: str, **kw: int) -> str | None:
    return None if value is None else check(value, field, **kw)


def choice(enum: type[E], value: object, field: str) -> E:
    """One member of ``enum``, given as the member or its string value."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(m.value for m in enum)
    raise InvalidRecord(f"{_clip(value)!r} is not one of: {allowed}", field=field)


class Underflow(float):
    """A number whose text names a non-zero value too close to zero for a float (``1e-400``):
    it parses to 0, which is not what was written. The importer's JSON parser hands such a
    number on as this (a zero that keeps its ``text``), so that :func:`quantity` refuses it at
    its field instead of storing 0."""

    text: str

    def __new__(cls, text: str) -> Underflow:
        zero = super().__new__(cls, -0.0 if text.startswith("-") else 0.0)
        zero.text = text
        return zero


def quantity(value: object, field: str) -> int | float | None:
    """A finite, non-negative number, or None. Booleans are not numbers here, and neither is a
    number too small to be held (:class:`Underflow`): it would be stored as 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRecord(f"expected a number or null, got {_kind(value)}", field=field)
    if isinstance(value, Underflow):
        raise InvalidRecord(
            f"{_clip(value.text)} is too close to zero to be stored: it would be stored as 0",
            field=field,
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidRecord(f"{value!r} is not a finite number", field=field)
    if value < 0:
        raise InvalidRecord(f"{value!r} is negative; quantities are counts or amounts", field=field)
    if value > 2**53:
        raise InvalidRecord(f"{value} is too large to store exactly (limit 2**53)", field=field)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 1500.0 and 1500 are one quantity, and must hash alike
    return value


def sha256_hex(value: object, field: str) -> str:
    if not isinstance(value, str) or not SHA256.fullmatch(value):
        raise InvalidRecord("expected 64 lowercase hexadecimal digits (a sha256)", field=field)
    return value


def slugs(values: Iterable[object], field: str) -> tuple[str, ...]:
    if not isinstance(values, list | tuple):
        raise InvalidRecord(f"expected a list of ids, got {_kind(values)}", field=field)
    items = tuple(slug(v, f"{field}[{i}]") for i, v in enumerate(values))
    if len(set(items)) != len(items):
        raise InvalidRecord("lists the same id twice", field=field)
    return items


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _clip(value: object, limit: int = 60) -> str:
    s = str(value)
    return s if len(s) <= limit else s[:limit] + "…"
