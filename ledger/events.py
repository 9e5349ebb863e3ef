"""The event types: frozen, validated on construction, and ignorant of storage.

Five kinds of fact go into the log. Each event is keyed by the user's record id; its
``event_id`` is derived from the kind and that id (UUID 5), so appending the same record twice is
recognisably the same event, which makes imports idempotent.

Every event lives in a *stream* named after the record it is about (``source:kr-nis``,
``statement:kcna-confirms``). A correction joins the stream of the statement it corrects, so a
statement's stream is the statement followed by its errata, and optimistic concurrency on that
stream stops two editors from correcting the same statement at once without seeing each other.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeAlias

import attrs

from ledger import _validate as v
from ledger.errors import InvalidRecord
from ledger.times import TimeLike, iso, to_utc

#: Namespace of the UUID 5 event ids: fixed forever, or every derived id changes.
EVENT_NAMESPACE = uuid.UUID("6f1c3a52-2d0b-5b8e-9a44-0c6c1e5d7f21")


class Stance(StrEnum):
    """What a source says about a proposition."""

    ASSERT = "assert"
    DENY = "deny"
    CONFIRM = "confirm"
    REFUTE = "refute"
    RETRACT = "retract"
    NO_COMMENT = "no_comment"


class Category(StrEnum):
    """What kind of speaker a source is. ``investigation`` and ``court`` are authoritative."""

    GOVERNMENT = "government"
    STATE_MEDIA = "state_media"
    INTELLIGENCE = "intelligence"
    MILITARY = "military"
    INTERNATIONAL_ORG = "international_org"
    MEDIA = "media"
    INDIVIDUAL = "individual"
    INVESTIGATION = "investigation"
    COURT = "court"


class Reliability(StrEnum):
    """NATO Admiralty source-reliability grade, A (reliable) to F (cannot be judged)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


def _utc(field: str) -> Any:
    return lambda value: to_utc(value, field=field)


def _optional_utc(field: str) -> Any:
    return lambda value: None if value is None else to_utc(value, field=field)


def _id(field: str) -> Any:
    return lambda value: v.slug(value, field)


def _text(field: str, limit: int = v.SHORT_TEXT) -> Any:
    return lambda value: v.text(value, field, limit=limit)


def _optional_text(field: str, limit: int = v.LONG_TEXT) -> Any:
    return lambda value: v.optional(v.text, value, field, limit=limit)


@attrs.frozen
class SourceRegistered:
    """A speaker the ledger can attribute statements to."""

    TYPE: ClassVar[str] = "source_registered"

    source_id: str = attrs.field(converter=_id("source_id"))
    name: str = attrs.field(converter=_text("name"))
    category: Category = attrs.field(converter=lambda c: v.choice(Category, c, "category"))
    affiliation: str | None = attrs.field(
        default=None, converter=lambda a: None if a is None else v.slug(a, "affiliation")
    )
    reliability: Reliability | None = attrs.field(
        default=None,
        converter=lambda r: None if r is None else v.choice(Reliability, r, "reliability"),
    )
    note: str | None = attrs.field(default=None, converter=_optional_text("note"))

    @property
    def key(self) -> str:
        return self.source_id

    @property
    def stream_id(self) -> str:
        return f"source:{self.source_id}"

    def references(self) -> tuple[tuple[str, str], ...]:
        return ()


@attrs.frozen
class PropositionDefined:
    """Something that can be claimed; its parties are the sources whose own conduct it concerns."""

    TYPE: ClassVar[str] = "proposition_defined"

    proposition_id: str = attrs.field(converter=_id("proposition_id"))
    text: str = attrs.field(converter=_text("text", v.LONG_TEXT))
    parties: tuple[str, ...] = attrs.field(default=(), converter=lambda p: v.slugs(p, "parties"))

    @property
    def key(self) -> str:
        return self.proposition_id

    @property
    def stream_id(self) -> str:
        return f"proposition:{self.proposition_id}"

    def references(self) -> tuple[tuple[str, str], ...]:
        return tuple(("parties", f"source:{p}") for p in self.parties)


@attrs.frozen
class DocumentRegistered:
    """Where statements were read. The text is optional; its sha256 is not."""

    TYPE: ClassVar[str] = "document_registered"

    document_id: str = attrs.field(converter=_id("document_id"))
    title: str = attrs.field(converter=_text("title"))
    sha256: str = attrs.field(converter=lambda h: v.sha256_hex(h, "sha256"))
    publisher: str | None = attrs.field(default=None, converter=_optional_text("publisher", 500))
    published_at: datetime | None = attrs.field(
        default=None, converter=_optional_utc("published_at")
    )
    url: str | None = attrs.field(default=None, converter=_optional_text("url", 2_000))
    text: str | None = attrs.field(
        default=None, converter=_optional_text("text", v.DOCUMENT_TEXT), repr=False
    )

    def __attrs_post_init__(self) -> None:
        if self.text is not None:
            actual = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
            if actual != self.sha256:
                raise InvalidRecord(
                    f"is {self.sha256[:12]}…, but the text given hashes to {actual[:12]}…",
                    field="sha256",
                )

    @property
    def key(self) -> str:
        return self.document_id

    @property
    def stream_id(self) -> str:
        return f"document:{self.document_id}"

    def references(self) -> tuple[tuple[str, str], ...]:
        return ()


@attrs.frozen
class StatementMade:
    """A source takes a stance on a proposition at ``stated_at`` (valid time)."""

    TYPE: ClassVar[str] = "statement_made"

    statement_id: str = attrs.field(converter=_id("statement_id"))
    source_id: str = attrs.field(converter=_id("source"))
    proposition_id: str = attrs.field(converter=_id("proposition"))
    stance: Stance = attrs.field(converter=lambda s: v.choice(Stance, s, "stance"))
    stated_at: datetime = attrs.field(converter=_utc("stated_at"))
    value: int | float | None = attrs.field(
        default=None, converter=lambda x: v.quantity(x, "value")
    )
    unit: str | None = attrs.field(default=None, converter=_optional_text("unit", 100))
    document_id: str | None = attrs.field(
        default=None, converter=lambda d: None if d is None else v.slug(d, "document")
    )
    quote: str | None = attrs.field(default=None, converter=_optional_text("quote"))
    note: str | None = attrs.field(default=None, converter=_optional_text("note"))

    def __attrs_post_init__(self) -> None:
        _check_statement_shape(self.value, self.unit, self.document_id, self.quote)

    @property
    def key(self) -> str:
        return self.statement_id

    @property
    def stream_id(self) -> str:
        return f"statement:{self.statement_id}"

    def references(self) -> tuple[tuple[str, str], ...]:
        refs = [("source", f"source:{self.source_id}")]
        refs.append(("proposition", f"proposition:{self.proposition_id}"))
        if self.document_id is not None:
            refs.append(("document", f"document:{self.document_id}"))
        return tuple(refs)


def _check_statement_shape(
    value: object, unit: object, document_id: object, quote: object
) -> None:
    if unit is not None and value is None:
        raise InvalidRecord("a unit without a value means nothing; give both or neither", field="unit")
    if quote is not None and document_id is None:
        raise InvalidRecord("a quote needs the document it is quoted from", field="quote")


#: Fields of a statement that a correction may replace, with their validators.
CORRECTABLE: Mapping[str, Any] = {
    "source": _id("source"),
    "proposition": _id("proposition"),
    "stance": lambda s: v.choice(Stance, s, "stance"),
    "stated_at": _utc("stated_at"),
    "value": lambda x: v.quantity(x, "value"),
    "unit": _optional_text("unit", 100),
    "document": lambda d: None if d is None else v.slug(d, "document"),
    "quote": _optional_text("quote"),
    "note": _optional_text("note"),
}

Changes: TypeAlias = tuple[tuple[str, Any], ...]


def _changes(value: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> Changes:
    items = dict(value.items() if isinstance(value, Mapping) else value or ())
    out = []
    for name in sorted(items):
        if name not in CORRECTABLE:
            allowed = ", ".join(CORRECTABLE)
            raise InvalidRecord(f"cannot correct field {name!r}; correctable: {allowed}", field="set")
        out.append((name, CORRECTABLE[name](items[name])))
    return tuple(out)


@attrs.frozen
class CorrectionMade:
    """The ledger's own erratum for an earlier statement, in force from its ``recorded_at`` on.

    Either ``withdraw`` the statement (it was never made, or not by that source) or ``set``
    replacement values for some of its fields. Nothing is ever updated in place.
    """

    TYPE: ClassVar[str] = "correction_made"

    correction_id: str = attrs.field(converter=_id("correction_id"))
    corrects: str = attrs.field(converter=_id("corrects"))
    reason: str = attrs.field(converter=_text("reason", v.LONG_TEXT))
    changes: Changes = attrs.field(default=(), converter=_changes)
    withdraw: bool = attrs.field(default=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.withdraw, bool):
            raise InvalidRecord("expected true or false", field="withdraw")
        if self.withdraw == bool(self.changes):
            raise InvalidRecord(
                "a correction either withdraws the statement or sets new values, exactly one",
                field="set" if self.changes else "withdraw",
            )

    @property
    def key(self) -> str:
        return self.correction_id

    @property
    def stream_id(self) -> str:
        return f"statement:{self.corrects}"

    def references(self) -> tuple[tuple[str, str], ...]:
        refs = [("corrects", f"statement:{self.corrects}")]
        for name, value in self.changes:
            if name in ("source", "proposition", "document") and value is not None:
                refs.append((f"set.{name}", f"{name}:{value}"))
        return tuple(refs)


_STATEMENT_FIELD = {"source": "source_id", "proposition": "proposition_id", "document": "document_id"}


def apply_correction(statement: StatementMade, correction: CorrectionMade) -> StatementMade:
    """The statement as it reads once ``correction`` (which must set fields) is in force."""
    changes = {_STATEMENT_FIELD.get(name, name): value for name, value in correction.changes}
    return attrs.evolve(statement, **changes)


Event: TypeAlias = (
    SourceRegistered | PropositionDefined | DocumentRegistered | StatementMade | CorrectionMade
)
EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (SourceRegistered, PropositionDefined, DocumentRegistered, StatementMade, CorrectionMade)
}


def event_id(event: Event) -> uuid.UUID:
    """The event's id, derived from its type and record id (stable forever)."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{event.TYPE}/{event.key}")


def stated_at(event: Event) -> datetime | None:
    """The valid time an event carries in its own right (statements only)."""
    return event.stated_at if isinstance(event, StatementMade) else None


def to_payload(event: Event) -> dict[str, Any]:
    """The event's fields as plain JSON values, without ``stated_at`` (a column of its own)."""
    out: dict[str, Any] = {}
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


def from_payload(type_name: str, payload: Mapping[str, Any], when: datetime | None) -> Event:
    """Rebuild an event from its stored type, payload and ``stated_at`` column."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise InvalidRecord(f"unknown event type {type_name!r}", field="type")
    kwargs = dict(payload)
    if cls is StatementMade:
        kwargs["stated_at"] = when
    return cls(**kwargs)
