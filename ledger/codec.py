"""The one codec: events to canonical payloads and back, today and for every older payload.

An event is stored as its type, its ``stated_at`` column and a payload: the canonical JSON of
:func:`to_payload`. This module is the only place that knows a payload's shape:

* :func:`to_payload` and :func:`encoding` write it (what the store compares, orders and hashes);
* :func:`from_payload` reads it back *validating* every field (for text that came from outside);
* :func:`decode` reads a *stored* payload without re-running the validators: every stored
  payload was validated when it was appended, and the hash chain shows whether it has changed
  since, so reads (and the reference fold, and exports) skip that work; on a large log it was
  most of the cost of a replay. It builds the same frozen objects through a builder generated
  per class that stores each field in its slot;
* :func:`upgraded` brings a stored payload to today's shape, for the few fast paths (the
  projection's rebuild) that read payload keys without building an event.

**How an event type evolves** (its :class:`Shape`). An optional field added to an event type is
listed in ``Shape.added`` with the value an older payload means by leaving it out; it is written
only when it differs from that default, so an event that does not use it encodes to the very
bytes it had before the field existed: old hashes hold, and re-importing an old file stays
idempotent. Any other change (a rename, a split) bumps ``Shape.version``, which new payloads
carry as ``"v"``, and adds an upcaster from the previous version; a payload without ``"v"`` is
version 1. Stored payloads are never rewritten: they are upgraded as they are read, and the hash
chain keeps covering the bytes that were written. ``tests/unit/test_codec.py`` evolves two event
types this way against a ledger written in today's format (``tests/data/ledgers/``).

A stored payload that does not decode (only possible if the table was altered behind the
ledger's back) raises :class:`~ledger.errors.IntegrityError` naming the position: run
``verify()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from sys import intern as _intern
from typing import Any, NamedTuple

import attrs

from ledger.errors import IntegrityError, InvalidRecord
from ledger.events import (
    EVENT_TYPES,
    Category,
    CorrectionMade,
    DocumentRegistered,
    Event,
    PolicySet,
    PropositionDefined,
    RedactionMade,
    Reliability,
    SourceRegistered,
    Stance,
    StatementMade,
    event_id_text,
    residue,
    stated_at,
)
from ledger.hashing import canonical_json
from ledger.records import RecordedEvent
from ledger.times import iso, to_micros

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


class Encoding(NamedTuple):
    """An event as the log stores it, before the store's bookkeeping: what
    :mod:`ledger.store.append` compares, orders and hashes. See :func:`encoding`."""

    event_id: str
    stream_id: str
    type: str
    stated_at: int | None  # microseconds since the epoch (statements only)
    payload: str  # canonical JSON of :func:`to_payload`


@attrs.frozen
class Shape:
    """How one event type's payload has changed since the first version of the log."""

    #: The payload version written today; payloads of version 1 carry no ``"v"``.
    version: int = 1
    #: Optional fields added later, with what an older payload means by leaving them out.
    added: Mapping[str, Any] = attrs.field(factory=dict)
    #: ``upcasters[n]`` turns a version-``n`` payload into a version-``n + 1`` one.
    upcasters: Mapping[int, Upcaster] = attrs.field(factory=dict)


#: Today's shapes: every event type is still at version 1, with no field added since. A new
#: event type (``policy_set``, added after the first logs were written) is no evolution of an
#: old one: no stored payload has its type, so it starts at version 1 and nothing old changes.
SHAPES: Mapping[str, Shape] = {name: Shape() for name in EVENT_TYPES}


# -- writing ---------------------------------------------------------------------------------


def _maybe_value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def _source_payload(e: SourceRegistered) -> Payload:
    return {
        "source_id": e.source_id,
        "name": e.name,
        "category": e.category.value,
        "affiliation": e.affiliation,
        "reliability": _maybe_value(e.reliability),
        "note": e.note,
    }


def _proposition_payload(e: PropositionDefined) -> Payload:
    return {"proposition_id": e.proposition_id, "text": e.text, "parties": list(e.parties)}


def _document_payload(e: DocumentRegistered) -> Payload:
    return {
        "document_id": e.document_id,
        "title": e.title,
        "sha256": e.sha256,
        "publisher": e.publisher,
        "published_at": None if e.published_at is None else iso(e.published_at),
        "url": e.url,
        "text": e.text,
    }


def _statement_payload(e: StatementMade) -> Payload:
    return {
        "statement_id": e.statement_id,
        "source_id": e.source_id,
        "proposition_id": e.proposition_id,
        "stance": e.stance.value,
        "value": e.value,
        "unit": e.unit,
        "document_id": e.document_id,
        "quote": e.quote,
        "note": e.note,
    }


def _correction_payload(e: CorrectionMade) -> Payload:
    return {
        "correction_id": e.correction_id,
        "corrects": e.corrects,
        "reason": e.reason,
        "changes": _plain(e.changes),
        "withdraw": e.withdraw,
    }


def _policy_payload(e: PolicySet) -> Payload:
    return {
        "policy_id": e.policy_id,
        "authoritative": [c.value for c in e.authoritative],
        "authoritative_sources": list(e.authoritative_sources),
        "parties_decide": e.parties_decide,
        "note": e.note,
    }


#: The payload of each of today's classes, written out for speed;
#: ``tests/unit/test_events_encoding.py`` holds each equal to :func:`generic_payload`.
_PAYLOAD: Mapping[type, Callable[[Any], Payload]] = {
    SourceRegistered: _source_payload,
    PropositionDefined: _proposition_payload,
    DocumentRegistered: _document_payload,
    StatementMade: _statement_payload,
    CorrectionMade: _correction_payload,
    PolicySet: _policy_payload,
}


def generic_payload(event: Event) -> Payload:
    """Every attrs field but ``stated_at`` (a column of its own), as plain JSON values."""
    out: Payload = {}
    for f in attrs.fields(type(event)):
        if f.name == "stated_at":
            continue
        out[f.name] = _plain(getattr(event, f.name))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value):
            return {k: _plain(x) for k, x in value}
        return [_plain(x) for x in value]
    return value


# -- trusted reading -------------------------------------------------------------------------


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


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


_STANCES = {s.value: s for s in Stance}
_CATEGORIES = {c.value: c for c in Category}
_RELIABILITY = {r.value: r for r in Reliability}
_new = object.__new__
Decoder = Callable[[Payload, "datetime | None"], Event]
Build = Callable[[Payload], Event]

# Ids that recur across events (a statement's source, proposition, document and unit, a
# proposition's parties) are interned: a fold that keeps a million statements then holds one
# copy of each id instead of one per statement. Equal strings either way. Each decoder fills
# the payload dict in place and hands it to the class's builder.


def _source(build: Build) -> Decoder:
    def decode(p: Payload, _when: datetime | None) -> Event:
        p["source_id"] = _intern(p["source_id"])
        p["category"] = _CATEGORIES[p["category"]]
        r = p["reliability"]
        p["reliability"] = None if r is None else _RELIABILITY[r]
        return build(p)

    return decode


def _proposition(build: Build) -> Decoder:
    def decode(p: Payload, _when: datetime | None) -> Event:
        p["proposition_id"] = _intern(p["proposition_id"])
        p["parties"] = tuple([_intern(party) for party in p["parties"]])
        return build(p)

    return decode


def _document(build: Build) -> Decoder:
    def decode(p: Payload, _when: datetime | None) -> Event:
        p["document_id"] = _intern(p["document_id"])
        p["published_at"] = _time(p["published_at"])
        return build(p)

    return decode


def _statement(build: Build) -> Decoder:
    def decode(p: Payload, when: datetime | None) -> Event:
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
        return build(p)

    return decode


def _change(name: str, value: Any) -> Any:
    if name == "stated_at":
        return _time(value)
    if name == "stance":
        return _STANCES[value]
    return value


def _correction(build: Build) -> Decoder:
    def decode(p: Payload, _when: datetime | None) -> Event:
        # A withdrawal's empty changes are stored as [] (see _correction_payload), others {...}.
        changes = dict(p["changes"])
        p["changes"] = tuple((k, _change(k, v)) for k, v in sorted(changes.items()))
        return build(p)

    return decode


def _policy(build: Build) -> Decoder:
    def decode(p: Payload, _when: datetime | None) -> Event:
        p["authoritative"] = tuple([_CATEGORIES[c] for c in p["authoritative"]])
        p["authoritative_sources"] = tuple(p["authoritative_sources"])
        return build(p)

    return decode


def _plain_decoder(build: Build) -> Decoder:
    """For an event type with no decoder of its own: its payload holds its fields as they are."""

    def decode(p: Payload, _when: datetime | None) -> Event:
        return build(p)

    return decode


_DECODER_OF: Mapping[str, Callable[[Build], Decoder]] = {
    SourceRegistered.TYPE: _source,
    PropositionDefined.TYPE: _proposition,
    DocumentRegistered.TYPE: _document,
    StatementMade.TYPE: _statement,
    CorrectionMade.TYPE: _correction,
    PolicySet.TYPE: _policy,
}


# -- the codec -------------------------------------------------------------------------------


class Codec:
    """Payloads of a set of event classes, each with its :class:`Shape`.

    The module-level functions below use :data:`CODEC`, today's classes and shapes; a test (or
    a future version) builds another from evolved classes and shapes.
    """

    def __init__(self, classes: Mapping[str, type[Any]], shapes: Mapping[str, Shape]):
        self.classes = dict(classes)
        self.shapes = dict(shapes)
        self._decoders = {
            name: _DECODER_OF.get(name, _plain_decoder)(_builder(cls))
            for name, cls in self.classes.items()
        }
        self._fields = {
            name: frozenset(f.name for f in attrs.fields(cls) if f.name != "stated_at")
            for name, cls in self.classes.items()
        }
        # Payload size of today's version-1 shape, for the check that a stored payload needs
        # no upgrade (-1: every payload of the type goes through upgrade, for its "v").
        self._plain_size = {
            name: (
                len([f for f in attrs.fields(cls) if f.name != "stated_at"])
                if self.shapes[name].version == 1
                else -1
            )
            for name, cls in self.classes.items()
        }
        self._trim = {
            name: tuple(shape.added.items()) for name, shape in self.shapes.items() if shape.added
        }

    def to_payload(self, event: Event) -> Payload:
        """The event's fields as plain JSON values, without ``stated_at`` (a column of its own).

        Enumerations become their values, times their :func:`~ledger.times.iso` text, tuples
        lists, a correction's changes an object (or ``[]`` when there are none); a field added
        later is left out at its default, and a version above 1 is written as ``"v"``.
        """
        fast = _PAYLOAD.get(type(event))
        payload = generic_payload(event) if fast is None else fast(event)
        name = event.TYPE
        trim = self._trim.get(name)
        if trim is not None:
            for field, default in trim:
                if payload.get(field, default) == default:
                    payload.pop(field, None)
        version = self.shapes[name].version
        if version > 1:
            payload["v"] = version
        return payload

    def encoding(self, event: Event) -> Encoding:
        """The event as the log stores it (id, stream, type, ``stated_at``, canonical payload).

        Computed once per event object and cached on it: an importer that checks a file
        against the ledger and the store that then appends it share the work.
        """
        try:
            return event._encoding
        except AttributeError:
            pass
        when = stated_at(event)
        enc = Encoding(
            event_id_text(event),
            event.stream_id,
            event.TYPE,
            None if when is None else to_micros(when),
            canonical_json(self.to_payload(event)),
        )
        object.__setattr__(event, "_encoding", enc)
        return enc

    def upgrade(self, type_name: str, payload: Payload) -> Payload:
        """A payload of any version, in today's shape (``payload`` itself may be changed).
        A redacted row's payload reads as its residue (see :func:`redacted_payload`)."""
        payload.pop(REDACTED_BY, None)
        shape = self.shapes[type_name]
        version = payload.pop("v", 1)
        if not isinstance(version, int) or not 1 <= version <= shape.version:
            raise ValueError(
                f"payload version {version!r} of {type_name}: this factledger reads versions "
                f"1 to {shape.version} (a newer factledger wrote it?)"
            )
        while version < shape.version:
            payload = shape.upcasters[version](payload)
            version += 1
        for field, default in shape.added.items():
            payload.setdefault(field, default)
        return payload

    def upgraded(self, type_name: str, payload: Payload) -> Payload:
        """:meth:`upgrade`, at the cost of one length test for a payload written today."""
        if (
            len(payload) == self._plain_size[type_name]
            and "v" not in payload
            and REDACTED_BY not in payload
        ):
            return payload
        return self.upgrade(type_name, payload)

    def fields(self, type_name: str) -> frozenset[str]:
        """The payload keys of ``type_name`` today."""
        return self._fields[type_name]

    def from_payload(
        self, type_name: str, payload: Mapping[str, Any], when: datetime | None
    ) -> Event:
        """Rebuild an event from a type, payload and ``stated_at``, validating every field."""
        cls = self.classes.get(type_name)
        if cls is None:
            raise InvalidRecord(f"unknown event type {type_name!r}", field="type")
        try:
            kwargs = self.upgrade(type_name, dict(payload))
        except (KeyError, ValueError) as e:
            raise InvalidRecord(f"{type_name} payload: {e}", field="payload") from e
        # As strict as decode(): a field left out must be one the shape says may be left out
        # (an attrs default is no licence: the ledger has always written every field).
        if kwargs.keys() != self._fields[type_name]:
            missing = sorted(self._fields[type_name] - kwargs.keys())
            extra = sorted(kwargs.keys() - self._fields[type_name])
            raise InvalidRecord(
                f"{type_name} payload: missing {missing}, unexpected {extra}", field="payload"
            )
        if cls.TYPE == StatementMade.TYPE:
            kwargs["stated_at"] = when
        event: Event = cls(**kwargs)
        return event

    def decode(
        self, type_name: str, payload: Payload, when: datetime | None, position: int
    ) -> Event:
        """The stored event at ``position``, built without re-running the validators."""
        try:
            if (
                len(payload) != self._plain_size[type_name]
                or "v" in payload
                or REDACTED_BY in payload
            ):
                payload = self.upgrade(type_name, payload)
            return self._decoders[type_name](payload, when)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise IntegrityError(
                f"the event at position {position} does not decode ({type(e).__name__}: {e}); "
                "the table was changed behind the ledger's back: run verify()"
            ) from e


#: The key that marks a stored payload as redacted; its value is the redaction's event id.
REDACTED_BY = "redacted_by"


def residue_text(event: Event) -> str:
    """The canonical payload of what a redaction leaves of ``event``
    (:func:`ledger.events.residue`): the ``residue`` a :class:`RedactionMade` records."""
    return canonical_json(CODEC.to_payload(residue(event)))


def redacted_payload(redaction: RedactionMade) -> str:
    """The text a redacted row's ``payload`` column holds once ``redaction`` is made: the
    residue's payload and :data:`REDACTED_BY`. It decodes as the residue; the hash chain no
    longer covers it, so ``verify`` checks it against the redaction, which the chain covers."""
    payload: Payload = json.loads(redaction.residue)
    payload[REDACTED_BY] = event_id_text(redaction)
    return canonical_json(payload)


def is_redacted(payload: str) -> bool:
    """Whether a stored payload text is a redaction's marker."""
    return f'"{REDACTED_BY}":' in payload


def same_payload(stored: str, payload: str, event: Event) -> bool:
    """Whether a stored payload is ``payload`` (the encoding of ``event``) or what a redaction
    left of it: so a file holding a redacted event's original text re-imports as a repeat, and
    the text is not stored again."""
    if stored == payload:
        return True
    if not is_redacted(stored):
        return False
    kept = json.loads(stored)
    kept.pop(REDACTED_BY)
    try:
        return canonical_json(kept) == residue_text(event)
    except InvalidRecord:  # not a type that can be redacted: no residue to compare
        return False


#: Today's event classes and payload shapes.
CODEC = Codec(EVENT_TYPES, SHAPES)
to_payload = CODEC.to_payload
encoding = CODEC.encoding
from_payload = CODEC.from_payload
decode = CODEC.decode
upgraded = CODEC.upgraded

#: ``RecordedEvent(...)`` by position, without attrs' ``__init__`` (it has no validators).
build_recorded: Callable[..., RecordedEvent] = _builder(RecordedEvent, positional=True)
