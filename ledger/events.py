"""The event types: frozen, validated on construction, and ignorant of storage.

Seven kinds of fact go into the log (the sixth, a policy record, sets the belief rules; the
seventh, a redaction, removes the free text of another event: the one sanctioned removal). Each
event is keyed by the user's record id; its ``event_id`` is derived from the kind and that id
(UUID 5), so appending the same record twice is recognisably the same event, which makes imports
idempotent.

Every event lives in a *stream* named after the record it is about (``source:kr-nis``,
``statement:kcna-confirms``). A correction joins the stream of the statement it corrects, so a
statement's stream is the statement followed by its errata, and optimistic concurrency on that
stream stops two editors from correcting the same statement at once without seeing each other.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import attrs

from ledger import fields as v
from ledger.errors import InvalidRecord
from ledger.times import TimeLike, to_utc

if TYPE_CHECKING:
    from ledger.codec import Encoding

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


class _Encoded:
    """Base of the event types: one hidden slot caching the event's encoding
    (:class:`ledger.codec.Encoding`).

    Not an attrs field, so equality, hashing, ``repr``, ``attrs.fields``, ``attrs.evolve``
    (which builds a new object, with no cache) and pickling (attrs pickles fields only) never
    see it. Events are frozen, so an encoding once computed stays right.
    """

    __slots__ = ("_encoding",)
    _encoding: Encoding


# Named converters (mypy's attrs plugin accepts only named functions here); each names the
# field the way the import format does, so an error points at what the user wrote.


def _source_id(x: object) -> str:
    return v.slug(x, "source_id")


def _proposition_id(x: object) -> str:
    return v.slug(x, "proposition_id")


def _document_id(x: object) -> str:
    return v.slug(x, "document_id")


def _statement_id(x: object) -> str:
    return v.slug(x, "statement_id")


def _correction_id(x: object) -> str:
    return v.slug(x, "correction_id")


def _source(x: object) -> str:
    return v.slug(x, "source")


def _proposition(x: object) -> str:
    return v.slug(x, "proposition")


def _corrects(x: object) -> str:
    return v.slug(x, "corrects")


def _document(x: object) -> str | None:
    return None if x is None else v.slug(x, "document")


def _affiliation(x: object) -> str | None:
    return None if x is None else v.slug(x, "affiliation")


def _parties(x: Iterable[object]) -> tuple[str, ...]:
    return v.slugs(x, "parties")


def _name(x: object) -> str:
    return v.text(x, "name")


def _title(x: object) -> str:
    return v.text(x, "title")


def _proposition_text(x: object) -> str:
    return v.text(x, "text", limit=v.LONG_TEXT)


def _reason(x: object) -> str:
    return v.text(x, "reason", limit=v.LONG_TEXT)


def _note(x: object) -> str | None:
    return v.optional(v.text, x, "note", limit=v.LONG_TEXT)


def _quote(x: object) -> str | None:
    return v.optional(v.text, x, "quote", limit=v.LONG_TEXT)


def _unit(x: object) -> str | None:
    return v.optional(v.text, x, "unit", limit=100)


def _publisher(x: object) -> str | None:
    return v.optional(v.text, x, "publisher")


def _url(x: object) -> str | None:
    return v.optional(v.text, x, "url", limit=2_000)


def _document_text(x: object) -> str | None:
    return v.optional(v.text, x, "text", limit=v.DOCUMENT_TEXT)


def _sha256(x: object) -> str:
    return v.sha256_hex(x, "sha256")


def _category(x: object) -> Category:
    return v.choice(Category, x, "category")


def _reliability(x: object) -> Reliability | None:
    return None if x is None else v.choice(Reliability, x, "reliability")


def _stance(x: object) -> Stance:
    return v.choice(Stance, x, "stance")


def _value(x: object) -> int | float | None:
    return v.quantity(x, "value")


def _stated_at(x: TimeLike) -> datetime:
    return to_utc(x, field="stated_at")


def _published_at(x: TimeLike | None) -> datetime | None:
    return None if x is None else to_utc(x, field="published_at")


def _policy_id(x: object) -> str:
    return v.slug(x, "policy_id")


#: What a policy record means by leaving ``authoritative`` out: today's default rules.
DEFAULT_AUTHORITATIVE: tuple[Category, ...] = (Category.INVESTIGATION, Category.COURT)


def _authoritative(x: object) -> tuple[Category, ...]:
    if not isinstance(x, list | tuple | frozenset | set):
        raise InvalidRecord("expected a list of source categories", field="authoritative")
    chosen = [v.choice(Category, c, f"authoritative[{i}]") for i, c in enumerate(x)]
    if len(set(chosen)) != len(chosen):
        raise InvalidRecord("lists the same category twice", field="authoritative")
    return tuple(c for c in Category if c in chosen)  # one order: the record is a set


def _authoritative_sources(x: Iterable[object]) -> tuple[str, ...]:
    items = sorted(map(str, x)) if isinstance(x, frozenset | set) else x
    return tuple(sorted(v.slugs(items, "authoritative_sources")))


def source_stream(source_id: str) -> str:
    """The stream of the source ``source_id``: its registration."""
    return f"source:{source_id}"


def statement_stream(statement_id: str) -> str:
    """The stream of the statement ``statement_id``: the statement, then its corrections."""
    return f"statement:{statement_id}"


def proposition_stream(proposition_id: str) -> str:
    """The stream of the proposition ``proposition_id``: its definition."""
    return f"proposition:{proposition_id}"


@attrs.frozen
class SourceRegistered(_Encoded):
    """A speaker the ledger can attribute statements to."""

    TYPE: ClassVar[str] = "source_registered"

    source_id: str = attrs.field(converter=_source_id)
    name: str = attrs.field(converter=_name)
    category: Category = attrs.field(converter=_category)
    affiliation: str | None = attrs.field(default=None, converter=_affiliation)
    reliability: Reliability | None = attrs.field(default=None, converter=_reliability)
    note: str | None = attrs.field(default=None, converter=_note)

    @property
    def key(self) -> str:
        return self.source_id

    @property
    def stream_id(self) -> str:
        return source_stream(self.source_id)

    def references(self) -> tuple[tuple[str, str], ...]:
        return ()


@attrs.frozen
class PropositionDefined(_Encoded):
    """Something that can be claimed; its parties are the sources whose own conduct it concerns."""

    TYPE: ClassVar[str] = "proposition_defined"

    proposition_id: str = attrs.field(converter=_proposition_id)
    text: str = attrs.field(converter=_proposition_text)
    parties: tuple[str, ...] = attrs.field(default=(), converter=_parties)

    @property
    def key(self) -> str:
        return self.proposition_id

    @property
    def stream_id(self) -> str:
        return proposition_stream(self.proposition_id)

    def references(self) -> tuple[tuple[str, str], ...]:
        return tuple(("parties", f"source:{p}") for p in self.parties)


@attrs.frozen
class DocumentRegistered(_Encoded):
    """Where statements were read. The text is optional; its sha256 is not."""

    TYPE: ClassVar[str] = "document_registered"

    document_id: str = attrs.field(converter=_document_id)
    title: str = attrs.field(converter=_title)
    sha256: str = attrs.field(converter=_sha256)
    publisher: str | None = attrs.field(default=None, converter=_publisher)
    published_at: datetime | None = attrs.field(default=None, converter=_published_at)
    url: str | None = attrs.field(default=None, converter=_url)
    text: str | None = attrs.field(default=None, converter=_document_text, repr=False)

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
class StatementMade(_Encoded):
    """A source takes a stance on a proposition at ``stated_at`` (valid time)."""

    TYPE: ClassVar[str] = "statement_made"

    statement_id: str = attrs.field(converter=_statement_id)
    source_id: str = attrs.field(converter=_source)
    proposition_id: str = attrs.field(converter=_proposition)
    stance: Stance = attrs.field(converter=_stance)
    stated_at: datetime = attrs.field(converter=_stated_at)
    value: int | float | None = attrs.field(default=None, converter=_value)
    unit: str | None = attrs.field(default=None, converter=_unit)
    document_id: str | None = attrs.field(default=None, converter=_document)
    quote: str | None = attrs.field(default=None, converter=_quote)
    note: str | None = attrs.field(default=None, converter=_note)

    def __attrs_post_init__(self) -> None:
        _check_statement_shape(self.value, self.unit, self.document_id, self.quote)

    @property
    def key(self) -> str:
        return self.statement_id

    @property
    def stream_id(self) -> str:
        return statement_stream(self.statement_id)

    def references(self) -> tuple[tuple[str, str], ...]:
        refs = [("source", f"source:{self.source_id}")]
        refs.append(("proposition", f"proposition:{self.proposition_id}"))
        if self.document_id is not None:
            refs.append(("document", f"document:{self.document_id}"))
        return tuple(refs)


def _check_statement_shape(value: object, unit: object, document_id: object, quote: object) -> None:
    if unit is not None and value is None:
        raise InvalidRecord(
            "a unit without a value means nothing; give both or neither", field="unit"
        )
    if quote is not None and document_id is None:
        raise InvalidRecord("a quote needs the document it is quoted from", field="quote")


#: Fields of a statement that a correction may replace, with their validators.
CORRECTABLE: Mapping[str, Callable[[Any], Any]] = {
    "source": _source,
    "proposition": _proposition,
    "stance": _stance,
    "stated_at": _stated_at,
    "value": _value,
    "unit": _unit,
    "document": _document,
    "quote": _quote,
    "note": _note,
}

Changes: TypeAlias = tuple[tuple[str, Any], ...]


def _changes(value: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> Changes:
    items = dict(value.items() if isinstance(value, Mapping) else value or ())
    out = []
    for name in sorted(items):
        if name not in CORRECTABLE:
            allowed = ", ".join(CORRECTABLE)
            raise InvalidRecord(
                f"cannot correct field {name!r}; correctable: {allowed}", field="set"
            )
        out.append((name, CORRECTABLE[name](items[name])))
    return tuple(out)


@attrs.frozen
class CorrectionMade(_Encoded):
    """The ledger's own erratum for an earlier statement, in force from its ``recorded_at`` on.

    Either ``withdraw`` the statement (it was never made, or not by that source) or ``set``
    replacement values for some of its fields. Nothing is ever updated in place.
    """

    TYPE: ClassVar[str] = "correction_made"

    correction_id: str = attrs.field(converter=_correction_id)
    corrects: str = attrs.field(converter=_corrects)
    reason: str = attrs.field(converter=_reason)
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
        return statement_stream(self.corrects)

    def references(self) -> tuple[tuple[str, str], ...]:
        refs = [("corrects", f"statement:{self.corrects}")]
        for name, value in self.changes:
            if name in ("source", "proposition", "document") and value is not None:
                refs.append((f"set.{name}", f"{name}:{value}"))
        return tuple(refs)


_STATEMENT_FIELD = {
    "source": "source_id",
    "proposition": "proposition_id",
    "document": "document_id",
}


def apply_correction(statement: StatementMade, correction: CorrectionMade) -> StatementMade:
    """The statement as it reads once ``correction`` (which must set fields) is in force."""
    changes = {_STATEMENT_FIELD.get(name, name): value for name, value in correction.changes}
    # Keep the result a valid statement whatever the correction says: a unit goes with its
    # value, a quote with its document.
    if changes.get("value", statement.value) is None:
        changes["unit"] = None
    if changes.get("document_id", statement.document_id) is None:
        changes["quote"] = None
    return attrs.evolve(statement, **changes)


def corrected(
    statement: StatementMade, withdrawn: bool, correction: CorrectionMade
) -> tuple[StatementMade, bool]:
    """The one correction rule: a statement (and whether it is withdrawn) once ``correction``
    is in force. A withdrawal keeps the statement as it last read (so it can still be shown)
    and withdraws it for good: a later correction changes how it reads, never that it is
    withdrawn. The reference fold, the projection and the CSV export all go through here."""
    if correction.withdraw:
        return statement, True
    return apply_correction(statement, correction), withdrawn


#: The one stream of policy records: version n is the n-th policy set, so the policy in force
#: at any transaction time is one indexed lookup, and ``expected_versions={POLICY_STREAM: n}``
#: stops two analysts from changing the rules at once without seeing each other's change.
POLICY_STREAM = "policy"


@attrs.frozen
class PolicySet(_Encoded):
    """The parameters of the default belief rules, in force from this event's ``recorded_at``
    until the next policy record (see ``docs/belief-rules.md``).

    ``authoritative``: the source categories whose confirm or refute decides a proposition
    (default: ``investigation`` and ``court``, today's rules, written out in full so that the
    record keeps its meaning if the defaults ever change); ``authoritative_sources``: sources
    that decide whatever their category (both sets, stored in one order); ``parties_decide``:
    whether a party's own confirm or refute decides (default true, today's rule; false: a
    party's word is support or denial like anyone's, for an analyst who will not take a
    government's admission, or its denial, as settling a question about its own conduct).
    """

    TYPE: ClassVar[str] = "policy_set"

    policy_id: str = attrs.field(converter=_policy_id)
    authoritative: tuple[Category, ...] = attrs.field(
        default=DEFAULT_AUTHORITATIVE, converter=_authoritative
    )
    authoritative_sources: tuple[str, ...] = attrs.field(
        default=(), converter=_authoritative_sources
    )
    parties_decide: bool = attrs.field(default=True)
    note: str | None = attrs.field(default=None, converter=_note)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.parties_decide, bool):
            raise InvalidRecord("expected true or false", field="parties_decide")

    @property
    def key(self) -> str:
        return self.policy_id

    @property
    def stream_id(self) -> str:
        return POLICY_STREAM

    def references(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (f"authoritative_sources[{i}]", source_stream(s))
            for i, s in enumerate(self.authoritative_sources)
        )


def redaction_stream(event_id: str) -> str:
    """The stream of the one redaction an event may have (keyed by the redacted event's id)."""
    return f"redaction:{event_id}"


def _uuid_text(x: object) -> str:
    try:
        return str(uuid.UUID(str(x)))
    except ValueError:
        raise InvalidRecord(f"{x!r} is not an event id (a UUID)", field="event_id") from None


def _position(x: object) -> int:
    if type(x) is not int or x < 1:
        raise InvalidRecord(
            f"expected a log position (an integer >= 1), got {x!r}", field="position"
        )
    return x


def _redactable(x: object) -> str:
    if x not in FREE_TEXT:
        raise InvalidRecord(f"{x!r} is not a type of event that can be redacted", field="type")
    return str(x)


def _by(x: object) -> str:
    return v.text(x, "by")


def _residue(x: object) -> str:
    return v.text(x, "residue", limit=10_000_000)


@attrs.frozen
class RedactionMade(_Encoded):
    """The one sanctioned removal (issue 15): the free text of the event at ``position`` is
    removed from the log, in this event's own append transaction, for ``reason``, by ``by``.

    The redacted row keeps its metadata (ids, stream, times) and its Merkle leaf; its payload
    becomes a marker holding ``residue`` (the payload with every free-text field replaced, see
    ``ledger.events.residue``), and its salt is deleted, so the leaf's ``payload_digest``
    (copied here) can no longer be opened. ``verify`` trusts the redacted row through that leaf (see
    ``docs/proofs.md``, *Redaction*). The belief rules ignore this event: a residue keeps every
    field they read.
    """

    TYPE: ClassVar[str] = "redaction_made"

    event_id: str = attrs.field(converter=_uuid_text)
    position: int = attrs.field(converter=_position)
    redacted_type: str = attrs.field(converter=_redactable)
    reason: str = attrs.field(converter=_reason)
    by: str = attrs.field(converter=_by)
    payload_digest: str = attrs.field(converter=_sha256)
    residue: str = attrs.field(converter=_residue)

    @property
    def key(self) -> str:
        return self.event_id

    @property
    def stream_id(self) -> str:
        return redaction_stream(self.event_id)

    def references(self) -> tuple[tuple[str, str], ...]:
        return ()


#: What a redaction leaves in place of each free-text value it removes.
REDACTED = "[redacted]"

#: The free-text fields of each event type: what a redaction removes. Ids, stances, times,
#: numbers and categories stay (the belief rules read them, and ids are in the row's metadata
#: and the Merkle leaf anyway); so does a document's sha256 (see docs/proofs.md).
FREE_TEXT: Mapping[str, tuple[str, ...]] = {
    "source_registered": ("name", "note"),
    "proposition_defined": ("text",),
    "document_registered": ("title", "publisher", "url", "text"),
    "statement_made": ("quote", "note"),
    "correction_made": ("reason",),
    "policy_set": ("note",),
}
_CORRECTED_TEXT = ("quote", "note")  # a correction's changes that set free text


def residue(event: Event) -> Event:
    """``event`` with every free-text value it holds replaced by :data:`REDACTED` (a document's
    text, which must hash to its sha256, by nothing): what a redaction leaves of it."""
    names = FREE_TEXT.get(event.TYPE)
    if names is None:
        raise InvalidRecord(f"a {event.TYPE} event cannot be redacted", field="event")
    changes: dict[str, Any] = {
        name: None if name == "text" and event.TYPE == DocumentRegistered.TYPE else REDACTED
        for name in names
        if getattr(event, name) is not None
    }
    if isinstance(event, CorrectionMade):
        changes["changes"] = tuple(
            (k, REDACTED if k in _CORRECTED_TEXT and x is not None else x) for k, x in event.changes
        )
    return attrs.evolve(event, **changes)


Event: TypeAlias = (
    SourceRegistered
    | PropositionDefined
    | DocumentRegistered
    | StatementMade
    | CorrectionMade
    | PolicySet
    | RedactionMade
)
#: The types of the events that open a stream of their own (``kind:key``, their own key): each
#: is version 1 of its stream, and no other event is (a correction joins a statement's stream
#: only once the statement is recorded). So such a stream exists exactly when its event does.
OPENS_OWN_STREAM: frozenset[str] = frozenset(
    {SourceRegistered.TYPE, PropositionDefined.TYPE, DocumentRegistered.TYPE, StatementMade.TYPE}
)

EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        SourceRegistered,
        PropositionDefined,
        DocumentRegistered,
        StatementMade,
        CorrectionMade,
        PolicySet,
        RedactionMade,
    )
}


def event_id(event: Event) -> uuid.UUID:
    """The event's id, derived from its type and record id (stable forever)."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{event.TYPE}/{event.key}")


_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes
_sha1 = hashlib.sha1


def event_id_text(event: Event) -> str:
    """``str(event_id(event))``, without building a :class:`uuid.UUID` on the way.

    UUID 5 as RFC 4122 (and :func:`uuid.uuid5`) defines it: the first 16 bytes of
    ``sha1(namespace + name)``, version nibble 5, variant bits 10.
    """
    digest = bytearray(
        _sha1(
            _NAMESPACE_BYTES + f"{event.TYPE}/{event.key}".encode(), usedforsecurity=False
        ).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def stated_at(event: Event) -> datetime | None:
    """The valid time an event carries in its own right (statements only)."""
    return event.stated_at if isinstance(event, StatementMade) else None
