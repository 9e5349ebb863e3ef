"""Import JSON Lines into a ledger: read every line, validate the whole file, then append.

The format is specified in ``docs/import-format.md`` and, structurally, by the JSON Schema
``ledger/import-format.schema.json`` shipped next to this module. :data:`FIELDS` below is the one
description of it in code: the importer checks records against it, the exporter writes records
from it, and a test holds the JSON Schema to it.

An import runs in three steps, and nothing is appended unless the first two found no error:

1. *read*: each line is decoded (UTF-8, BOM and CRLF tolerated, blank lines skipped) and parsed
   as one JSON object; NaN, Infinity, duplicate keys, runaway nesting and overlong lines are
   refused;
2. *validate*: each record becomes an event (unknown, missing and mistyped fields named), then
   the file is checked as a whole: an id reused with other content, a reference to something
   neither earlier in the file nor in the ledger;
3. *append*: one atomic batch (or, with ``chunk_size``, atomic chunks in file order), which the
   store checks again. Event ids derive from record ids, so records already in the ledger are
   skipped and importing a file twice appends nothing the second time.

Every problem is an :class:`~ledger.errors.InvalidRecord` placed at ``FILE:LINE``; up to
:data:`MAX_ERRORS` of them are collected and raised together as :class:`ImportFailed`.
"""

from __future__ import annotations

import codecs
import difflib
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeAlias

import attrs

from ledger._dberrors import translated
from ledger.append import lookup
from ledger.errors import EventIdConflict, InvalidRecord, UnknownReference
from ledger.events import (
    CORRECTABLE,
    CorrectionMade,
    DocumentRegistered,
    Event,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
    encoding,
)
from ledger.times import to_utc

if TYPE_CHECKING:
    from ledger.api import Ledger

#: At most this many errors are listed; the rest are counted.
MAX_ERRORS = 20
#: Longest line accepted, in bytes (characters for a text stream). Large enough for the largest
#: record the ledger accepts (a document with 5,000,000 characters of text, at up to 4 bytes
#: each in UTF-8), so that every exported ledger imports again; small enough that a stray
#: binary file or a runaway line is refused before it eats the memory.
MAX_LINE = 24 * 2**20
#: Integers longer than this many digits are refused while parsing (no quantity needs them).
MAX_DIGITS = 30
#: Without ``chunk_size``, a file of at most this many records is appended in one atomic batch,
#: a larger one in atomic chunks of this many (see "Atomic, or in chunks" in
#: ``docs/import-format.md`` for why). ``chunk_size=WHOLE_FILE`` makes any file one batch.
AUTO_CHUNK = 50_000
#: A ``chunk_size`` larger than any file: the whole file in one atomic batch.
WHOLE_FILE = sys.maxsize

ImportSource: TypeAlias = str | Path | IO[str] | IO[bytes]
Progress: TypeAlias = Callable[[int, int], None]


# -- the format ------------------------------------------------------------------------------


@attrs.frozen
class Field:
    """One field of a record: its JSON types, whether it is required, the event attribute it
    fills (when named differently), and whether the exporter writes it even when null."""

    name: str
    kinds: tuple[str, ...]
    required: bool = False
    attr: str | None = None
    keep_null: bool = False

    @property
    def attribute(self) -> str:
        return self.attr or self.name


def _req(name: str, attr: str | None = None) -> Field:
    return Field(name, ("string",), required=True, attr=attr)


def _opt(name: str, attr: str | None = None, *, keep_null: bool = False) -> Field:
    return Field(name, ("string", "null"), attr=attr, keep_null=keep_null)


#: The record types of the import format and the event each becomes.
RECORD_TYPES: Mapping[str, type[Event]] = {
    "source": SourceRegistered,
    "proposition": PropositionDefined,
    "document": DocumentRegistered,
    "statement": StatementMade,
    "correction": CorrectionMade,
}
#: The record type of each event type (the inverse of :data:`RECORD_TYPES`).
RECORD_TYPE_OF: Mapping[str, str] = {cls.TYPE: kind for kind, cls in RECORD_TYPES.items()}

#: Every field of every record type besides ``type``, in the order the exporter writes them.
FIELDS: Mapping[str, tuple[Field, ...]] = {
    "source": (
        _req("id", "source_id"),
        _req("name"),
        _req("category"),
        _opt("affiliation"),
        _opt("reliability"),
        _opt("note"),
    ),
    "proposition": (
        _req("id", "proposition_id"),
        _req("text"),
        Field("parties", ("array",)),
    ),
    "document": (
        _req("id", "document_id"),
        _req("title"),
        _opt("publisher"),
        _opt("published_at"),
        _req("sha256"),
        _opt("url"),
        _opt("text"),
    ),
    "statement": (
        _req("id", "statement_id"),
        _req("source", "source_id"),
        _req("proposition", "proposition_id"),
        _req("stance"),
        _req("stated_at"),
        Field("value", ("number", "null"), keep_null=True),
        _opt("unit", keep_null=True),
        _opt("document", "document_id", keep_null=True),
        _opt("quote", keep_null=True),
        _opt("note"),
    ),
    "correction": (
        _req("id", "correction_id"),
        _req("corrects"),
        _req("reason"),
        Field("set", ("object",), attr="changes"),
        Field("withdraw", ("boolean",)),
    ),
}
#: Fields holding a time: ``YYYY-MM-DD`` (midnight UTC) or an ISO datetime with an offset.
TIME_FIELDS = frozenset({"stated_at", "published_at"})
TIME_PATTERN = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?"
)
_STATEMENT_FIELDS = {f.name: f for f in FIELDS["statement"]}


def required_fields(kind: str) -> frozenset[str]:
    """The fields a record of type ``kind`` must have, ``type`` included."""
    return frozenset({"type"} | {f.name for f in FIELDS[kind] if f.required})


# -- results and errors ----------------------------------------------------------------------


@attrs.frozen
class ImportReport:
    """What an import did: lines read, records found, how many were new and how many the ledger
    already held (identical, so skipped), and the head of the chain afterwards."""

    source_name: str
    lines: int
    records: int
    appended: int
    skipped: int
    head_position: int
    head_hash: str

    def summary(self) -> str:
        """One line for a person: what was imported from where, and the new head."""
        head = f"head {self.head_position} {self.head_hash[:12]}…"
        if self.records == 0:
            return f"imported nothing from {self.source_name}: it holds no records; {head}"
        noun = "record" if self.records == 1 else "records"
        return (
            f"imported {self.records} {noun} from {self.source_name}: "
            f"{self.appended} appended, {self.skipped} already present; {head}"
        )


class ImportFailed(InvalidRecord):
    """An import found errors in its input; ``errors`` lists them (at most :data:`MAX_ERRORS`),
    each an :class:`InvalidRecord` with its ``FILE:LINE`` location and field; ``total`` counts
    them all."""

    def __init__(
        self,
        source_name: str,
        errors: Sequence[InvalidRecord],
        *,
        total: int | None = None,
        appended: int = 0,
    ):
        self.source_name = source_name
        self.errors = list(errors)
        self.total = len(self.errors) if total is None else total
        self.appended = appended
        first = self.errors[0] if self.errors else None
        super().__init__(
            self._message(),
            field=None if first is None else first.field,
            location=None if first is None else first.location,
        )

    def _message(self) -> str:
        noun = "error" if self.total == 1 else "errors"
        if self.appended:
            outcome = (
                f"the first {self.appended} records were appended before it (each chunk is "
                "atomic); fix the file and run the same import again to resume"
            )
        else:
            outcome = "nothing was imported"
        lines = [f"cannot import {self.source_name}: {self.total} {noun}, {outcome}"]
        lines += [f"  {e}" for e in self.errors]
        if self.total > len(self.errors):
            lines.append(f"  … and {self.total - len(self.errors)} more")
        return "\n".join(lines)

    def _render(self) -> str:
        return self.reason


class _Errors:
    """Collects located errors: keeps the first :data:`MAX_ERRORS` found, counts the rest, and
    lists them in line order."""

    def __init__(self, name: str):
        self.name = name
        self.kept: list[tuple[int, InvalidRecord]] = []
        self.total = 0

    def add(self, line: int | None, error: InvalidRecord) -> None:
        self.total += 1
        if len(self.kept) < MAX_ERRORS:
            where = self.name if line is None else f"{self.name}:{line}"
            located = type(error)(error.reason, field=error.field, location=where)
            self.kept.append((line or 0, located))

    @property
    def shown(self) -> list[InvalidRecord]:
        return [error for _, error in sorted(self.kept, key=lambda item: item[0])]

    def raise_if_any(self, appended: int = 0) -> None:
        if self.total:
            raise ImportFailed(self.name, self.shown, total=self.total, appended=appended)


class _Tick:
    """Calls ``progress(done, total)``, at most about 200 times over a run, and at the end."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress = progress
        self.total = total
        self.every = max(1, total // 200)
        self.last = -1

    def __call__(self, done: int) -> None:
        if self.progress is None or done == self.last:
            return
        if done == self.total or done - self.last >= self.every or self.last < 0:
            self.last = done
            self.progress(done, self.total)


# -- the entry point -------------------------------------------------------------------------


def import_jsonl(
    ledger: Ledger,
    source: ImportSource,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    chunk_size: int | None = None,
) -> ImportReport:
    """Import a JSON Lines file into ``ledger``; see the module docstring and the format docs.

    ``source`` is a path (``"-"`` as a ``str`` means standard input) or an open text or binary
    file object; ``name`` labels error locations (default: the path, the file object's name, or
    ``"<stream>"``). ``progress(done, total)`` counts steps: each record once when validated and
    once when appended, so ``total`` is twice the number of records.

    ``chunk_size`` appends in atomic chunks of that many records, in file order. Without it, a
    file of up to :data:`AUTO_CHUNK` records is one atomic batch and a larger one goes in
    chunks of :data:`AUTO_CHUNK`; ``chunk_size=WHOLE_FILE`` makes any file one batch. If an
    import stops part way, running the same import again resumes it: the chunks already
    appended are skipped as identical, the rest are appended.
    """
    if chunk_size is not None and chunk_size < 1:
        raise InvalidRecord(f"must be at least 1, got {chunk_size}", field="chunk_size")
    label, lines, records = _read_source(source, name)
    errors = _Errors(label)
    tick = _Tick(progress, 2 * len(records))
    events = _validate(ledger, records, errors, tick)
    errors.raise_if_any()
    return _append(ledger, events, label=label, lines=lines, chunk_size=chunk_size, tick=tick)


def _append(
    ledger: Ledger,
    events: list[tuple[int, Event]],
    *,
    label: str,
    lines: int,
    chunk_size: int | None,
    tick: _Tick,
) -> ImportReport:
    appended = skipped = 0
    if chunk_size is None:
        chunk_size = AUTO_CHUNK if len(events) > AUTO_CHUNK else WHOLE_FILE
    size = min(chunk_size, max(1, len(events)))
    for start in range(0, len(events), size):
        chunk = events[start : start + size]
        try:
            result = ledger.append([event for _, event in chunk])
        except (EventIdConflict, InvalidRecord) as e:
            _located_failure(label, chunk, e, appended)
        appended += len(result.appended)
        skipped += result.skipped
        tick(len(events) + start + len(chunk))
    head = ledger.head()
    return ImportReport(label, lines, len(events), appended, skipped, head.position, head.hash)


def _located_failure(
    label: str, chunk: list[tuple[int, Event]], error: Exception, appended: int
) -> NoReturn:
    """Re-raise a refusal from the store at the line it is about, as far as it can be told."""
    errors = _Errors(label)
    message = str(error)
    for line, event in chunk:
        if message.startswith(f"{event.TYPE} {event.key!r} "):
            field = "id" if isinstance(error, EventIdConflict) else getattr(error, "field", None)
            errors.add(line, InvalidRecord(message, field=field))
            break
    else:
        reason = error.reason if isinstance(error, InvalidRecord) else message
        field = error.field if isinstance(error, InvalidRecord) else None
        errors.add(None, InvalidRecord(reason, field=field))
    raise ImportFailed(label, errors.shown, appended=appended) from error


# -- step 1: reading lines -------------------------------------------------------------------


@attrs.frozen
class _Record:
    line: int
    value: dict[str, Any] | InvalidRecord


def _read_source(source: ImportSource, name: str | None) -> tuple[str, int, list[_Record]]:
    """The label for errors, the number of lines read and the non-blank lines, parsed."""
    if isinstance(source, str) and source == "-":
        stdin: IO[Any] = getattr(sys.stdin, "buffer", sys.stdin)
        return _read_stream(stdin, name or "<stdin>")
    if isinstance(source, str | Path):
        with open(source, "rb") as stream:
            return _read_stream(stream, name or str(source))
    own = getattr(source, "name", None)
    return _read_stream(source, name or (own if isinstance(own, str) else "<stream>"))


def _read_stream(stream: IO[Any], label: str) -> tuple[str, int, list[_Record]]:
    records: list[_Record] = []
    lines = 0
    for lines, text in _lines(stream):
        if isinstance(text, InvalidRecord):
            records.append(_Record(lines, text))
        elif text.strip(" \t\r\n"):
            records.append(_Record(lines, _parse(text)))
    return label, lines, records


def _lines(stream: IO[Any]) -> Iterator[tuple[int, str | InvalidRecord]]:
    """Number and text of each line (without its line end), or why it cannot be read."""
    for number in itertools.count(1):
        try:
            chunk = stream.readline(MAX_LINE + 1)
        except UnicodeDecodeError as e:
            yield number, InvalidRecord(f"is not valid UTF-8 ({e.reason}); reading stopped here")
            return
        if not chunk:
            return
        newline = b"\n" if isinstance(chunk, bytes) else "\n"
        if len(chunk) > MAX_LINE and not chunk.endswith(newline):
            _skip_rest_of_line(stream, newline)
            unit = "bytes" if isinstance(chunk, bytes) else "characters"
            yield number, InvalidRecord(f"is longer than the limit of {MAX_LINE:,} {unit}")
            continue
        yield number, _decode(chunk, first=number == 1)


def _skip_rest_of_line(stream: IO[Any], newline: str | bytes) -> None:
    try:
        while (chunk := stream.readline(2**20)) and not chunk.endswith(newline):
            pass
    except UnicodeDecodeError:
        pass  # the overlong line is already an error; what follows will be read (or fail) next


_SURROGATE = re.compile("[\ud800-\udfff]")


def _decode(chunk: bytes | str, *, first: bool) -> str | InvalidRecord:
    if isinstance(chunk, bytes):
        if first and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8) :]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            return InvalidRecord(
                f"is not valid UTF-8: byte 0x{chunk[e.start]:02x} at offset {e.start} "
                f"({e.reason}); the file must be UTF-8"
            )
    else:
        text = chunk[1:] if first and chunk.startswith("\ufeff") else chunk
        bad = _SURROGATE.search(text)
        if bad:
            return InvalidRecord(
                f"is not valid UTF-8: undecodable character at offset {bad.start()}; "
                "the file must be UTF-8"
            )
    text = text.removesuffix("\n")
    return text.removesuffix("\r")


def _refuse_constant(name: str) -> Any:
    raise InvalidRecord(f"{name} is not a JSON number; numbers must be finite")


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise InvalidRecord(
            f"the integer {digits[:12]}… has {len(digits.lstrip('-')):,} digits; too large"
        )
    return int(digits)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # a key given twice: name the first one repeated
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidRecord("appears twice in one object", field=key)
            seen.add(key)
    return out


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_int=_parse_int, parse_constant=_refuse_constant
)


def _parse(text: str) -> dict[str, Any] | InvalidRecord:
    """One line as a JSON object, or why it is not one."""
    try:
        value = _DECODER.decode(text)
    except InvalidRecord as e:
        return e
    except json.JSONDecodeError as e:
        return InvalidRecord(f"is not valid JSON: {e.msg} (column {e.colno})")
    except RecursionError:
        return InvalidRecord("is not a record: arrays or objects nested too deeply")
    except ValueError as e:  # anything else the decoder refuses
        return InvalidRecord(f"is not valid JSON: {e}")
    if not isinstance(value, dict):
        return InvalidRecord(f"is not a record: expected a JSON object, got {json_kind(value)}")
    return value


# -- step 2: validating ----------------------------------------------------------------------


def _validate(
    ledger: Ledger, records: list[_Record], errors: _Errors, tick: _Tick
) -> list[tuple[int, Event]]:
    """Every record as an event, then the checks across records; errors go to ``errors``."""
    events: list[tuple[int, Event]] = []
    failed: set[str] = set()  # references whose defining line had an error: not reported twice
    for done, record in enumerate(records, start=1):
        result = record.value if isinstance(record.value, InvalidRecord) else to_event(record.value)
        if isinstance(result, InvalidRecord | list):
            for error in result if isinstance(result, list) else [result]:
                errors.add(record.line, error)
            failed.add(_attempted(record.value))
        else:
            events.append((record.line, result))
        tick(done)
    _check_across(ledger, events, failed, errors)
    return events


def _attempted(value: object) -> str:
    """The stream a record that failed meant to define (``source:kcna``), or ``""``."""
    if not isinstance(value, dict) or value.get("type") == "correction":
        return ""
    kind, key = value.get("type"), value.get("id")
    return f"{kind}:{key}" if isinstance(kind, str) and isinstance(key, str) else ""


def to_event(record: Mapping[str, Any]) -> Event | list[InvalidRecord]:
    """One parsed record as its event, or every problem found with its fields."""
    fast = _fast_event(record)
    return fast if fast is not None else _checked_event(record)


@attrs.frozen
class _Shape:
    """What a well-formed record of one type looks like, for :func:`_fast_event`."""

    known: frozenset[str]
    required: frozenset[str]
    fields: tuple[tuple[str, frozenset[type], bool], ...]  # name, exact types, holds a time


_PY_TYPES: Mapping[str, frozenset[type]] = {
    "string": frozenset({str}),
    "null": frozenset({type(None)}),
    "number": frozenset({int, float}),  # exact types: a bool is not a number here
    "boolean": frozenset({bool}),
    "array": frozenset({list}),
    "object": frozenset({dict}),
}
_SHAPES: Mapping[str, _Shape] = {
    kind: _Shape(
        known=frozenset({"type", *(f.name for f in spec)}),
        required=required_fields(kind),
        fields=tuple(
            (f.name, frozenset().union(*(_PY_TYPES[k] for k in f.kinds)), f.name in TIME_FIELDS)
            for f in spec
        ),
    )
    for kind, spec in FIELDS.items()
}


def _fast_event(record: Mapping[str, Any]) -> Event | None:
    """The event of a record that :func:`_checked_event` would accept, or None.

    Only a shortcut: it answers only when every structural check is sure to pass (known and
    required fields, exact JSON types, times in the import format's pattern) and the event
    builds; anything else, errors included, goes the checked way, which reports them.
    """
    kind = record.get("type")
    if type(kind) is not str or (shape := _SHAPES.get(kind)) is None:
        return None
    keys = record.keys()
    if not (keys <= shape.known and shape.required <= keys):
        return None
    for name, types, is_time in shape.fields:
        if name in record:
            value = record[name]
            if type(value) not in types:
                return None
            if is_time and value is not None and not TIME_PATTERN.fullmatch(value):
                return None
    try:
        return _build(kind, record, FIELDS[kind])
    except Exception:  # the checked way runs again and reports it
        return None


def _checked_event(record: Mapping[str, Any]) -> Event | list[InvalidRecord]:
    kind = record.get("type")
    if "type" not in record:
        return [InvalidRecord(f"is missing; one of: {', '.join(FIELDS)}", field="type")]
    if not isinstance(kind, str) or kind not in FIELDS:
        shown = _clip(kind)
        allowed = ", ".join(FIELDS)
        return [InvalidRecord(f"{shown} is not a record type; one of: {allowed}", field="type")]
    spec = FIELDS[kind]
    problems = [*_unknown_fields(record, spec), *_missing_fields(record, spec)]
    problems += [p for f in spec if f.name in record for p in _type_problems(f, record[f.name])]
    if problems:
        return problems
    try:
        return _build(kind, record, spec)
    except InvalidRecord as e:
        field = "id" if e.field == f"{kind}_id" else e.field
        return [InvalidRecord(e.reason, field=field)]


def _unknown_fields(record: Mapping[str, Any], spec: tuple[Field, ...]) -> Iterator[InvalidRecord]:
    known = ["type", *(f.name for f in spec)]
    for name in record:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
            yield InvalidRecord(f"is not a field of a {record['type']} record{hint}", field=name)


def _missing_fields(record: Mapping[str, Any], spec: tuple[Field, ...]) -> Iterator[InvalidRecord]:
    for f in spec:
        if f.required and f.name not in record:
            yield InvalidRecord(f"is required in a {record['type']} record", field=f.name)


def _type_problems(field: Field, value: Any, name: str | None = None) -> Iterator[InvalidRecord]:
    name = name or field.name
    if json_kind(value) not in field.kinds:
        wanted = " or ".join(field.kinds)
        yield InvalidRecord(f"expected {wanted}, got {json_kind(value)}", field=name)
    elif field.name in TIME_FIELDS and isinstance(value, str):
        yield from _time_problems(value, name)


def _time_problems(value: str, name: str) -> Iterator[InvalidRecord]:
    try:
        to_utc(value, field=name)
    except InvalidRecord as e:  # its own message where it has one (a naive datetime, say)
        yield e
        return
    except OverflowError:  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
        yield InvalidRecord(f"{_clip(value)} is out of range in UTC (years 1 to 9999)", field=name)
        return
    if not TIME_PATTERN.fullmatch(value):
        yield InvalidRecord(
            f"{_clip(value)} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.ffffff]] followed by Z "
            "or an offset such as +09:00",
            field=name,
        )


def _build(kind: str, record: Mapping[str, Any], spec: tuple[Field, ...]) -> Event:
    kwargs = {f.attribute: record[f.name] for f in spec if f.name in record}
    if kind == "correction" and "changes" in kwargs:
        kwargs["changes"] = _changes(kwargs["changes"])
    cls: Callable[..., Event] = RECORD_TYPES[kind]
    return cls(**kwargs)


def _changes(values: Mapping[str, Any]) -> dict[str, Any]:
    """A correction's ``set``, each value checked as the statement field it replaces."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        field = f"set.{name}"
        if name not in CORRECTABLE:
            allowed = ", ".join(CORRECTABLE)
            raise InvalidRecord(f"is not a correctable field; correctable: {allowed}", field=field)
        for problem in _type_problems(_STATEMENT_FIELDS[name], value, field):
            raise problem
        try:
            out[name] = CORRECTABLE[name](value)
        except InvalidRecord as e:
            raise InvalidRecord(e.reason, field=field) from None
    return out


def _check_across(
    ledger: Ledger, events: list[tuple[int, Event]], failed: set[str], errors: _Errors
) -> None:
    """Ids reused with other content; references to records not earlier in the file, nor in
    the ledger."""
    defined: dict[str, int] = {}  # stream of each record (not correction) -> its first line
    seen: dict[tuple[str, str], tuple[int, Event]] = {}
    for line, event in events:
        first, earlier = seen.setdefault((event.TYPE, event.key), (line, event))
        if first != line and _content(earlier) != _content(event):
            errors.add(line, _reused(event, first))
        if not isinstance(event, CorrectionMade):
            defined.setdefault(event.stream_id, line)
    # References not satisfied earlier in the file, with the line defining them later (if any):
    # the ledger may hold them already.
    outside: dict[str, list[tuple[int, str, int | None]]] = {}
    for line, event in events:
        for field, ref in event.references():
            where = defined.get(ref)
            if (where is None or where > line) and ref not in failed:
                outside.setdefault(ref, []).append((line, field, where))
    firsts = list(seen.values())
    ids = {encoding(event).event_id for _, event in firsts}
    with translated(), ledger.store.engine.connect() as conn:
        found = lookup(conn, ids, set(outside))
    faulty: set[int] = set()  # lines with an error already: one cause, reported once
    for ref, uses in outside.items():
        if ref not in found.known:
            for line, field, later in uses:
                faulty.add(line)
                errors.add(
                    line, _nowhere(ref, field) if later is None else _later(ref, later, field)
                )
    for line, event in firsts:  # an id the ledger holds with other content
        stored = found.stored.get(encoding(event).event_id)
        if stored is not None and line not in faulty and tuple(stored) != _content(event):
            errors.add(line, _conflict(event))


def _content(event: Event) -> tuple[str, str, int | None, str]:
    """What the store compares to tell a repeat from a reused id: type, stream, stated_at and
    canonical payload (the event's one encoding, which the store then reuses)."""
    e = encoding(event)
    return e.type, e.stream_id, e.stated_at, e.payload


def _conflict(event: Event) -> InvalidRecord:
    kind = RECORD_TYPE_OF[event.TYPE]
    return InvalidRecord(
        f"{kind} {event.key!r} was already recorded with different content; ids are never "
        "reused: give the new record a new id, or append a correction",
        field="id",
    )


def _reused(event: Event, first: int) -> InvalidRecord:
    kind = RECORD_TYPE_OF[event.TYPE]
    return InvalidRecord(
        f"{kind} {event.key!r} is already defined on line {first} with different content; "
        "ids are never reused: give this record its own id, or correct the earlier one",
        field="id",
    )


def _later(ref: str, line: int, field: str) -> InvalidRecord:
    kind, _, key = ref.partition(":")
    return UnknownReference(
        f"names {kind} {key!r}, which is defined later, on line {line}; "
        "a record must come after everything it names",
        field=field,
    )


def _nowhere(ref: str, field: str) -> InvalidRecord:
    kind, _, key = ref.partition(":")
    return UnknownReference(
        f"names {kind} {key!r}, which is neither earlier in this file nor in the ledger",
        field=field,
    )


# -- small helpers ---------------------------------------------------------------------------


def json_kind(value: object) -> str:
    """The JSON type of a parsed value: string, number, boolean, null, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _clip(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
