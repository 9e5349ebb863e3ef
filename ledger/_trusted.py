"""Decoding stored events without re-validating them: the read path's fast lane.

Every stored payload was validated when it was appended, and the hash chain shows whether it
has changed since, so reads (and the reference fold, and exports) need not run every field's
validator again; on a large log that was most of the cost of a replay. This module builds the
same frozen objects directly. ``tests/unit/test_trusted.py`` checks, for arbitrary events, that
the result equals :func:`ledger.events.from_payload` (the validating path) field for field.

A payload that does not decode (only possible if the table was altered behind the ledger's
back) raises :class:`~ledger.errors.IntegrityError` naming the position: run ``verify()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ledger.errors import IntegrityError
from ledger.events import (
    Category,
    CorrectionMade,
    DocumentRegistered,
    Event,
    PropositionDefined,
    Reliability,
    SourceRegistered,
    Stance,
    StatementMade,
)

_new = object.__new__
_set = object.__setattr__
_STANCES = {s.value: s for s in Stance}
_CATEGORIES = {c.value: c for c in Category}
_RELIABILITY = {r.value: r for r in Reliability}


def _build(cls: type[Event], fields: Mapping[str, Any]) -> Event:
    event = _new(cls)
    for name, value in fields.items():
        _set(event, name, value)
    return event


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _source(p: dict[str, Any], _when: datetime | None) -> Event:
    p["category"] = _CATEGORIES[p["category"]]
    r = p["reliability"]
    p["reliability"] = None if r is None else _RELIABILITY[r]
    return _build(SourceRegistered, p)


def _proposition(p: dict[str, Any], _when: datetime | None) -> Event:
    p["parties"] = tuple(p["parties"])
    return _build(PropositionDefined, p)


def _document(p: dict[str, Any], _when: datetime | None) -> Event:
    p["published_at"] = _time(p["published_at"])
    return _build(DocumentRegistered, p)


def _statement(p: dict[str, Any], when: datetime | None) -> Event:
    p["stance"] = _STANCES[p["stance"]]
    p["stated_at"] = when
    return _build(StatementMade, p)


def _change(name: str, value: Any) -> Any:
    if name == "stated_at":
        return _time(value)
    if name == "stance":
        return _STANCES[value]
    return value


def _correction(p: dict[str, Any], _when: datetime | None) -> Event:
    # A withdrawal's empty changes are stored as [] (see events.to_payload), others as {...}.
    changes = dict(p["changes"])
    p["changes"] = tuple((k, _change(k, v)) for k, v in sorted(changes.items()))
    return _build(CorrectionMade, p)


_DECODERS: Mapping[str, Callable[[dict[str, Any], datetime | None], Event]] = {
    SourceRegistered.TYPE: _source,
    PropositionDefined.TYPE: _proposition,
    DocumentRegistered.TYPE: _document,
    StatementMade.TYPE: _statement,
    CorrectionMade.TYPE: _correction,
}


def decode(type_name: str, payload: dict[str, Any], when: datetime | None, position: int) -> Event:
    """The stored event at ``position``, built without re-running the validators."""
    try:
        return _DECODERS[type_name](payload, when)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise IntegrityError(
            f"the event at position {position} does not decode ({type(e).__name__}: {e}); "
            "the table was changed behind the ledger's back: run verify()"
        ) from e
