"""Decoding stored events without re-validating them: the read path's fast lane.

Every stored payload was validated when it was appended, and the hash chain shows whether it
has changed since, so reads (and the reference fold, and exports) need not run every field's
validator again; on a large log that was most of the cost of a replay. This module builds the
same frozen objects directly, through a builder generated per class that stores each field in
its slot. ``tests/unit/test_trusted.py`` checks, for arbitrary events, that the result equals
:func:`ledger.events.from_payload` (the validating path) field for field;
``tests/unit/test_trusted_read.py`` holds the builders to attrs' own constructors.

A payload that does not decode (only possible if the table was altered behind the ledger's
back) raises :class:`~ledger.errors.IntegrityError` naming the position: run ``verify()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from sys import intern as _intern
from typing import Any

import attrs

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
from ledger.records import RecordedEvent

_new = object.__new__
_STANCES = {s.value: s for s in Stance}
_CATEGORIES = {c.value: c for c in Category}
_RELIABILITY = {r.value: r for r in Reliability}


def _builder(cls: type[Any], *, positional: bool = False) -> Callable[..., Any]:
    """A function that builds a ``cls`` (a slotted attrs class) without running its
    ``__init__``: from a dict holding exactly its attrs fields or, ``positional``, from its
    fields in order.

    Written out per class (as attrs writes its own ``__init__``) so that each field costs
    one store through its slot's descriptor, no loop and no name lookup. A dict with a
    missing field is a ``KeyError``, with an extra one a ``ValueError`` (both reported by
    :func:`decode`).
    """
    names = tuple(f.name for f in attrs.fields(cls))
    # Generated names start with "_b_", which no field name here does.
    scope: dict[str, Any] = {"_b_new": _new, "_b_cls": cls, "_b_expected": names}
    if positional:
        lines = [f"def build({', '.join(names)}):", "    _b_e = _b_new(_b_cls)"]
    else:
        lines = [
            "def build(_b_p):",
            f"    if len(_b_p) != {len(names)}:",
            "        raise ValueError(f'fields {sorted(_b_p)}, expected {sorted(_b_expected)}')",
            "    _b_e = _b_new(_b_cls)",
        ]
    for i, name in enumerate(names):
        scope[f"_b_set{i}"] = getattr(cls, name).__set__  # the slot's member descriptor
        value = name if positional else f"_b_p[{name!r}]"
        lines.append(f"    _b_set{i}(_b_e, {value})")
    lines.append("    return _b_e")
    exec("\n".join(lines), scope)  # fixed text, made from attrs field names
    build: Callable[..., Any] = scope["build"]
    return build


#: ``RecordedEvent(...)`` by position, without attrs' ``__init__`` (it has no validators).
build_recorded: Callable[..., RecordedEvent] = _builder(RecordedEvent, positional=True)
_build_source: Callable[[dict[str, Any]], Event] = _builder(SourceRegistered)
_build_proposition: Callable[[dict[str, Any]], Event] = _builder(PropositionDefined)
_build_document: Callable[[dict[str, Any]], Event] = _builder(DocumentRegistered)
_build_statement: Callable[[dict[str, Any]], Event] = _builder(StatementMade)
_build_correction: Callable[[dict[str, Any]], Event] = _builder(CorrectionMade)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# Ids that recur across events (a statement's source, proposition, document and unit, a
# proposition's parties) are interned: a fold that keeps a million statements then holds one
# copy of each id instead of one per statement. Equal strings either way.


def _source(p: dict[str, Any], _when: datetime | None) -> Event:
    p["source_id"] = _intern(p["source_id"])
    p["category"] = _CATEGORIES[p["category"]]
    r = p["reliability"]
    p["reliability"] = None if r is None else _RELIABILITY[r]
    return _build_source(p)


def _proposition(p: dict[str, Any], _when: datetime | None) -> Event:
    p["proposition_id"] = _intern(p["proposition_id"])
    p["parties"] = tuple([_intern(party) for party in p["parties"]])
    return _build_proposition(p)


def _document(p: dict[str, Any], _when: datetime | None) -> Event:
    p["document_id"] = _intern(p["document_id"])
    p["published_at"] = _time(p["published_at"])
    return _build_document(p)


def _statement(p: dict[str, Any], when: datetime | None) -> Event:
    p["source_id"] = _intern(p["source_id"])
    p["proposition_id"] = _intern(p["proposition_id"])
    p["stance"] = _STANCES[p["stance"]]
    p["stated_at"] = when
    unit = p["unit"]
    if unit is not None:
        p["unit"] = _intern(unit)
    document = p["document_id"]
    if document is not None:
        p["document_id"] = _intern(document)
    return _build_statement(p)


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
    return _build_correction(p)


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
