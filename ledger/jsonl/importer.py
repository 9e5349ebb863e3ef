"""Import JSON Lines into a ledger: read every line, validate the whole file, then append.

The format is specified in ``docs/import-format.md`` and, structurally, by the JSON Schema
``import-format.schema.json`` shipped next to this module. :data:`FIELDS` below is the one
description of it in code: the importer checks records against it, the exporter writes records
from it, and a test holds the JSON Schema to it.

An import runs in three steps, and nothing is appended unless the first two found no error:

1. *read*: each line is decoded (UTF-8, BOM and CRLF tolerated, blank lines skipped) and parsed
   as one JSON object; NaN, Infinity, numbers a float cannot hold, duplicate keys, runaway
   nesting and overlong lines are refused, and so is more input than :data:`MAX_SIZE`;
2. *validate*: each record becomes an event (unknown, missing and mistyped fields named), then
   the file is checked as a whole: an id reused with other content, a reference to something
   neither earlier in the file nor in the ledger;
3. *append*: one atomic batch (or, with ``chunk_size``, atomic chunks in file order), which the
   store checks again. Event ids derive from record ids, so records already in the ledger are
   skipped and importing a file twice appends nothing the second time.

Steps 1 and 2 are one streaming pass in bounded memory: what the checks across records must
remember goes to a temporary SQLite database, and each valid record, as the log will store it,
to a temporary file. Step 3 reads that file back, a chunk at a time (see :class:`_Checked`), so
neither the input nor its records are ever all in memory, and the input is read once (it may
be a pipe).

Every problem is an :class:`~ledger.errors.InvalidRecord` placed at ``FILE:LINE``; up to
:data:`MAX_ERRORS` of them are collected and raised together as :class:`ImportFailed`.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import itertools
import json
import marshal
import os
import re
import sqlite3
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeAlias

import attrs

from ledger import codec
from ledger.codec import Encoding, encoding
from ledger.errors import EventIdConflict, InvalidRecord, StoreError, UnknownReference
from ledger.events import (
    CORRECTABLE,
    CorrectionMade,
    DocumentRegistered,
    Event,
    PolicySet,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)
from ledger.fields import Underflow
from ledger.gcpause import no_cycle_collection
from ledger.records import Head
from ledger.times import TIME_TEXT, from_micros, to_utc

if TYPE_CHECKING:
    from ledger.api import Ledger

#: At most this many errors are listed; the rest are counted.
MAX_ERRORS = 20
#: Longest line accepted, in bytes (characters for a text stream). Large enough for the largest
#: record the ledger accepts (a document with 5,000,000 characters of text, at up to 4 bytes
#: each in UTF-8), so that every exported ledger imports again; small enough that a stray
#: binary file or a runaway line is refused before it eats the memory. ``max_line=`` sets it
#: for one import.
MAX_LINE = 24 * 2**20
#: The most input one import reads, in bytes (characters for a text stream): 16 GiB, room for
#: tens of millions of records. It bounds what an endless or runaway input (a stream that never
#: ends, a producer gone wrong) can cost in time and temporary disk space; a regular file larger
#: than this is refused before it is read. ``max_size=`` sets it for one import.
MAX_SIZE = 16 * 2**30
#: Integers longer than this many digits are refused while parsing (no quantity needs them).
MAX_DIGITS = 30
#: Without ``chunk_size``, a file of at most this many records is appended in one atomic batch,
#: a larger one in atomic chunks of this many (see "Atomic, or in chunks" in
#: ``docs/import-format.md`` for why). ``chunk_size=WHOLE_FILE`` makes any file one batch.
AUTO_CHUNK = 50_000
#: Records read, checked and spooled at a time (and at most :data:`BATCH_BYTES` of input).
BATCH = 5_000
BATCH_BYTES = 8 * 2**20
#: A chunk also ends once its records reach this much input, so that the records of one chunk
#: in memory stay bounded however large each is. A one-transaction import is appended in
#: batches cut the same way (records of one batch in memory at a time).
CHUNK_BYTES = 32 * 2**20
#: After an overlong line, reading goes on at the next line only if this much more (or
#: ``max_line``, if larger) reaches the end of the overlong one: a line without end (``- <
#: /dev/zero``) stops the import after reading ``max_line`` and this much, not never.
SKIP_LINE = 64 * 2**20
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
    "policy": PolicySet,
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
    "policy": (
        _req("id", "policy_id"),
        Field("authoritative", ("array",)),
        Field("authoritative_sources", ("array",)),
        Field("parties_decide", ("boolean",)),
        _opt("note"),
    ),
}
#: Fields holding a time: ``YYYY-MM-DD`` (midnight UTC) or an ISO datetime with an offset, in
#: the one grammar of :mod:`ledger.times` (which the API and the JSON Schema share).
TIME_FIELDS = frozenset({"stated_at", "published_at"})
#: The import format's time pattern: the one grammar (``TIME_PATTERN.fullmatch(text)``).
TIME_PATTERN = TIME_TEXT
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

    def extend(self, other: _Errors) -> None:
        """Take ``other``'s errors after this one's, as if each had been added here in turn."""
        room = MAX_ERRORS - len(self.kept)
        self.kept += other.kept[: max(0, room)]
        self.total += other.total

    def count(self, more: int) -> None:
        """Count ``more`` errors found after those added, beyond what is kept."""
        self.total += more

    @property
    def shown(self) -> list[InvalidRecord]:
        return [error for _, error in sorted(self.kept, key=lambda item: item[0])]

    def raise_if_any(self, appended: int = 0) -> None:
        if self.total:
            raise ImportFailed(self.name, self.shown, total=self.total, appended=appended)


class _Tick:
    """Calls ``progress(done, total)``, at most about 200 times over a run, and at the end;
    ``done`` never goes back (an append retried whole does not move it)."""

    def __init__(self, progress: Progress | None, total: int = 0):
        self.progress = progress
        self.last = -1
        self.start(total)

    def start(self, total: int) -> None:
        self.total = total
        self.every = max(1, total // 200)

    def __call__(self, done: int) -> None:
        if self.progress is None or done <= self.last:
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
    max_line: int | None = None,
    max_size: int | None = None,
) -> ImportReport:
    """Import a JSON Lines file into ``ledger``; see the module docstring and the format docs.

    ``source`` is a path (``"-"`` as a ``str`` means standard input) or an open text or binary
    file object; ``name`` labels error locations (default: the path, the file object's name, or
    ``"<stream>"``). A path must name a regular file (not a named pipe or a device: pipe those
    to standard input). ``progress(done, total)`` counts steps: each record once when validated
    and once when appended, so ``total`` is twice the number of records.

    ``chunk_size`` appends in atomic chunks of that many records, in file order. Without it, a
    file of up to :data:`AUTO_CHUNK` records is one atomic batch and a larger one goes in
    chunks of :data:`AUTO_CHUNK`; ``chunk_size=WHOLE_FILE`` makes any file one batch. If an
    import stops part way, running the same import again resumes it: the chunks already
    appended are skipped as identical, the rest are appended.

    ``max_line`` (default :data:`MAX_LINE`) and ``max_size`` (default :data:`MAX_SIZE`) bound
    a line and the whole input, in bytes (characters for a text stream).
    """
    if chunk_size is not None and chunk_size < 1:
        raise InvalidRecord(f"must be at least 1, got {chunk_size}", field="chunk_size")
    limits = _Limits(
        MAX_LINE if max_line is None else max_line, MAX_SIZE if max_size is None else max_size
    )
    per_chunk = AUTO_CHUNK if chunk_size in (None, WHOLE_FILE) else chunk_size
    tick = _Tick(progress)
    with (
        _Input.of(source, name, limits) as src,
        _Checked(ledger, src.label) as checked,
        no_cycle_collection(),
    ):
        if progress is not None and src.rewind is not None:
            tick.start(2 * _count_records(src.stream, limits))
            src.rewind()
        with _scratch_failures():
            _validate(checked, src.stream, limits, per_chunk, tick if tick.total else None)
        checked.raise_if_any()
        records = checked.records
        if tick.total != 2 * records:
            tick.start(2 * records)  # the input could not be read twice: counted only now
            tick(records)
        whole = chunk_size == WHOLE_FILE or (chunk_size is None and records <= AUTO_CHUNK)
        done = _Appending(ledger, checked, tick)
        if whole:
            done.in_one_transaction()
        else:
            done.in_chunks()
    # The head the import's last transaction left (read in it, under the writer lock): a read
    # of its own only when nothing was appended or looked up.
    head = done.head if done.head is not None else ledger.head()
    return ImportReport(
        src.label, checked.lines, records, done.appended, done.skipped, head.position, head.hash
    )


@attrs.frozen
class _Limits:
    line: int  # the longest line read, in bytes (characters for a text stream)
    size: int  # the most input read

    def __attrs_post_init__(self) -> None:
        for field, value in (("max_line", self.line), ("max_size", self.size)):
            if value < 1:
                raise InvalidRecord(f"must be at least 1, got {value}", field=field)


# -- the input -------------------------------------------------------------------------------


@attrs.define
class _Input:
    """What an import reads: the label for errors, the stream, and how to read it again from
    the start (``None``: it cannot be, as standard input from a pipe)."""

    label: str
    stream: IO[Any]
    rewind: Callable[[], object] | None

    @classmethod
    @contextmanager
    def of(cls, source: ImportSource, name: str | None, limits: _Limits) -> Iterator[_Input]:
        if isinstance(source, str) and source == "-":
            stdin: IO[Any] = getattr(sys.stdin, "buffer", sys.stdin)
            yield cls(name or "<stdin>", stdin, _rewinder(stdin))
        elif isinstance(source, str | Path):
            label = name or str(source)
            with _open_regular(source, label, limits.size) as stream:
                yield cls(label, stream, _rewinder(stream))
        else:
            own = getattr(source, "name", None)
            label = name or (own if isinstance(own, str) else "<stream>")
            yield cls(label, source, _rewinder(source))


def _rewinder(stream: IO[Any]) -> Callable[[], object] | None:
    """A function that takes ``stream`` back to where it is now, if it can be."""
    try:
        if not stream.seekable():
            return None
        start = stream.tell()
    except (OSError, ValueError, AttributeError):
        return None
    return lambda: stream.seek(start)


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@contextmanager
def _open_regular(path: str | Path, label: str, limit: int) -> Iterator[IO[bytes]]:
    """``path`` opened for reading, if it is a regular file no larger than ``limit`` bytes.

    Anything else is refused before it is opened, so a named pipe nobody writes to cannot
    block the import (opening one waits for a writer); it is checked again on the open file
    (opened without waiting), in case the path was swapped in between."""
    _refuse_unless_regular(os.stat(path), label, limit)
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        _refuse_unless_regular(os.fstat(fd), label, limit)
        if _NONBLOCK:
            os.set_blocking(fd, True)
        stream = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with stream:
        yield stream


def _refuse_unless_regular(status: os.stat_result, label: str, limit: int) -> None:
    errors = _Errors(label)
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a file")
        errors.add(
            None,
            InvalidRecord(
                f"is {kind}, not a regular file; the importer reads only regular files by name "
                "(a pipe or a device may never end, or be readable only once): to import from "
                "one, give it as standard input ('-')"
            ),
        )
    elif status.st_size > limit:
        errors.add(None, _too_large(limit, "bytes", status.st_size))
    errors.raise_if_any()


def _too_large(limit: int, unit: str, size: int | None = None) -> InvalidRecord:
    where = "(ledger.jsonl.importer.MAX_SIZE, or max_size=)"
    if size is None:
        return InvalidRecord(
            f"goes past the limit of {limit:,} {unit} for one import {where}; reading stopped here"
        )
    return InvalidRecord(f"is {size:,} {unit}, more than the limit of {limit:,} {unit} {where}")


# -- step 1: reading lines -------------------------------------------------------------------


def _count_records(stream: IO[Any], limits: _Limits) -> int:
    """How many records :func:`_validate` will find in ``stream`` (for ``progress``)."""
    return sum(1 for _, _, text in _lines(stream, limits) if _is_record(text))


def _is_record(text: str | InvalidRecord) -> bool:
    """A line is a record unless it is blank; a line that cannot be read is one (an error)."""
    return isinstance(text, InvalidRecord) or bool(text.strip(" \t\r\n"))


def _lines(stream: IO[Any], limits: _Limits) -> Iterator[tuple[int, int, str | InvalidRecord]]:
    """Number, size and text of each line (without its line end), or why it cannot be read.

    At most ``limits.line`` bytes (characters for a text stream) are read for a line before
    it is refused, so a line without end (``/dev/zero``) is caught while it is being read.
    Reading then goes on at the next line if the overlong one ends within :data:`SKIP_LINE`
    more (or ``limits.line``, if larger), and stops otherwise. It stops, too, once
    ``limits.size`` has been read.
    """
    read = 0
    for number in itertools.count(1):
        try:
            chunk = stream.readline(min(limits.line, limits.size - read) + 1)
        except UnicodeDecodeError as e:
            yield number, 0, InvalidRecord(f"is not valid UTF-8 ({e.reason}); reading stopped here")
            return
        if not chunk:
            return
        read += len(chunk)
        newline = b"\n" if isinstance(chunk, bytes) else "\n"
        unit = "bytes" if isinstance(chunk, bytes) else "characters"
        size = len(chunk)
        if read <= limits.size and size > limits.line and not chunk.endswith(newline):
            budget = min(max(limits.line, SKIP_LINE), limits.size - read)
            ended, skipped = _skip_rest_of_line(stream, newline, budget)
            read, size = read + skipped, size + skipped
            if read <= limits.size:
                yield number, size, _overlong(limits.line, unit, stopped=not ended)
                if ended:
                    continue
                return
        if read > limits.size:
            yield number, size, _too_large(limits.size, unit)
            return
        yield number, size, _decode(chunk, first=number == 1)


def _overlong(limit: int, unit: str, *, stopped: bool) -> InvalidRecord:
    stop = (
        f", and does not end within {max(limit, SKIP_LINE):,} {unit} more; reading stopped here"
        if stopped
        else ""
    )
    return InvalidRecord(f"is longer than the limit of {limit:,} {unit}{stop}")


def _skip_rest_of_line(stream: IO[Any], newline: str | bytes, budget: int) -> tuple[bool, int]:
    """Read on to the end of the current line, but no further than ``budget`` (and one more to
    see the line end): whether the line (or the input) ended, and how much was read."""
    skipped = 0
    try:
        while skipped <= budget:
            chunk = stream.readline(min(2**20, budget + 1 - skipped))
            skipped += len(chunk)
            if not chunk or chunk.endswith(newline):
                return True, skipped
    except UnicodeDecodeError:
        return True, skipped  # the overlong line is already an error; the next read reports
    return False, skipped


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


_NONZERO_DIGIT = re.compile("[1-9]")


def _parse_float(text: str) -> float:
    """A JSON number with a fraction or an exponent. One too large (``1e400``) becomes
    infinity, which the field's check refuses as not finite; one too close to zero (``1e-400``,
    which a float holds as 0) becomes an :class:`~ledger.fields.Underflow`, which it refuses
    as not storable, rather than 0."""
    value = float(text)
    if value == 0.0 and _NONZERO_DIGIT.search(re.split("[eE]", text, maxsplit=1)[0]):
        return Underflow(text)
    return value


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
    object_pairs_hook=_object,
    parse_float=_parse_float,
    parse_int=_parse_int,
    parse_constant=_refuse_constant,
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
    checked: _Checked, stream: IO[Any], limits: _Limits, per_chunk: int, tick: _Tick | None
) -> None:
    """Read, parse and check every line, and check the records across the file, a batch at a
    time (at most :data:`BATCH` records, and never across the end of a future chunk: at most
    ``per_chunk`` records or :data:`CHUNK_BYTES` of input); errors go to ``checked``."""
    batch: list[tuple[int, Event]] = []
    failed: set[str] = set()  # streams that records with an error meant to define
    in_chunk = chunk_size = in_batch = batch_size = 0
    for number, length, text in _lines(stream, limits):
        checked.lines = number
        if not _is_record(text):
            continue
        checked.records += 1
        value = text if isinstance(text, InvalidRecord) else _parse(text)
        result = value if isinstance(value, InvalidRecord) else to_event(value)
        if isinstance(result, InvalidRecord | list):
            for error in result if isinstance(result, list) else [result]:
                checked.errors.add(number, error)
            failed.add(_attempted(value))
        else:
            batch.append((number, result))
        if tick is not None:
            tick(checked.records)
        in_chunk, chunk_size = in_chunk + 1, chunk_size + length
        in_batch, batch_size = in_batch + 1, batch_size + length
        ends_chunk = in_chunk >= per_chunk or chunk_size >= CHUNK_BYTES
        if ends_chunk or in_batch >= BATCH or batch_size >= BATCH_BYTES:
            checked.check(batch, failed, ends_chunk=ends_chunk)
            batch, failed, in_batch, batch_size = [], set(), 0, 0
            if ends_chunk:
                in_chunk = chunk_size = 0
    if in_batch:
        checked.check(batch, failed, ends_chunk=True)
    checked.finish()


def _attempted(value: object) -> str:
    """The stream a record that failed meant to define (``source:kcna``), or ``""``."""
    if not isinstance(value, dict) or value.get("type") == "correction":
        return ""
    kind, key = value.get("type"), value.get("id")
    return f"{kind}:{key}" if isinstance(kind, str) and isinstance(key, str) else ""


_SCRATCH = """
CREATE TABLE records (
    line INTEGER PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
    stream TEXT, content BLOB NOT NULL
);
CREATE TABLE uses (
    seq INTEGER PRIMARY KEY, ref TEXT NOT NULL, line INTEGER NOT NULL, field TEXT NOT NULL
);
CREATE TABLE failed (stream TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE conflicts (line INTEGER PRIMARY KEY, id TEXT NOT NULL);
"""
#: Pages the scratch database keeps in memory (negative: KiB), however many records it holds.
_SCRATCH_CACHE = -8_192
#: At most this many streams are remembered in memory as defined (or known to the ledger), so
#: that the references to them need not go to the scratch database: sources, propositions and
#: documents, which statements name over and over.
_KNOWN_CACHE = 100_000
_NOT_CACHED = (StatementMade.TYPE, CorrectionMade.TYPE)


class _Checked:
    """What validating a file found, kept in bounded memory while it reads.

    * The errors, in the order they have always been reported: each record's own problems,
      then ids reused within the file, then references to records neither earlier in the file
      nor in the ledger (grouped by what they name), then ids the ledger holds with other
      content (see :meth:`finish`).
    * For the checks across records, in a private temporary SQLite database (on disk, with a
      cache of a few MiB): every valid record's line, event id, content digest and the stream
      it defines; the references not found at once among the streams defined so far (a
      bounded set in memory) nor in the ledger; the streams whose definition failed; the ids
      the ledger holds with other content. :meth:`finish` sorts it out with a few queries.
    * Every valid record as the log will store it (its line and its event's encoding), in
      batches marked where a chunk ends, in a temporary file: the records to append, read back by
      :class:`_Appending` without parsing or checking the input again, and without reading
      it twice (which a pipe cannot be). An import of a single batch keeps its events in
      memory instead (see :meth:`_keep`).
    """

    def __init__(self, ledger: Ledger, label: str):
        self.ledger = ledger
        self.label = label
        self.errors = _Errors(label)
        self.records = 0
        self.lines = 0
        self.batches = 0  # kept: spooled, or the one held (see _keep)
        #: The first batch's events, held in memory while no other batch has come (see _keep)
        self.held: list[tuple[int, Event]] | None = None
        self.held_ends_chunk = False
        self.known: set[str] = set()  # streams defined so far, or in the ledger (bounded)
        self.heads: set[Head] = set()  # the heads of the log the batches were checked at
        self.repeats = False  # an id is in the ledger already, or twice in the file

    def __enter__(self) -> _Checked:
        self.spool = tempfile.TemporaryFile()
        try:
            with _scratch_failures():
                self.db = sqlite3.connect("", isolation_level=None)  # "": a private temp file
                for pragma in (
                    f"cache_size={_SCRATCH_CACHE}",
                    "journal_mode=OFF",
                    "synchronous=OFF",
                    "temp_store=FILE",
                ):
                    self.db.execute(f"PRAGMA {pragma}")
                self.db.executescript(_SCRATCH)
        except BaseException:
            self.spool.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()
        self.spool.close()

    def check(self, batch: list[tuple[int, Event]], failed: set[str], *, ends_chunk: bool) -> None:
        """Remember one batch's events (in line order) for the checks across records, check
        them against the ledger, and spool them unless the file has failed already."""
        known = self.known
        encoded = [(line, event, encoding(event)) for line, event in batch]
        records = []
        wanting: list[tuple[str, int, str]] = []  # (ref, line, field): not known so far
        defined: set[str] = set()  # in this batch so far
        for line, event, enc in encoded:
            stream = None if enc.type == CorrectionMade.TYPE else enc.stream_id
            kind = RECORD_TYPE_OF[enc.type]
            records.append((line, enc.event_id, kind, event.key, stream, _digest(enc)))
            if stream is not None:
                defined.add(stream)
            for field, ref in event.references():
                if ref not in known and ref not in defined:
                    wanting.append((ref, line, field))
            if stream is not None and enc.type not in _NOT_CACHED and len(known) < _KNOWN_CACHE:
                known.add(stream)
        conflicts, wanting = self._against_ledger(encoded, wanting)
        db = self.db
        db.execute("BEGIN")
        db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", records)
        db.executemany("INSERT INTO uses (ref, line, field) VALUES (?, ?, ?)", wanting)
        db.executemany("INSERT OR IGNORE INTO failed VALUES (?)", [(s,) for s in failed])
        db.executemany("INSERT INTO conflicts VALUES (?, ?)", conflicts)
        db.execute("COMMIT")
        if not self.errors.total:
            self._keep([(line, event) for line, event, _ in encoded], ends_chunk=ends_chunk)

    def _against_ledger(
        self, encoded: list[tuple[int, Event, Encoding]], wanting: list[tuple[str, int, str]]
    ) -> tuple[list[tuple[int, str]], list[tuple[str, int, str]]]:
        """The records whose id the ledger holds with other content, and the references
        wanting that the ledger does not hold either."""
        if not encoded and not wanting:
            return [], []
        refs = {ref for ref, _, _ in wanting}
        found = self.ledger.store.lookup({enc.event_id for _, _, enc in encoded}, refs)
        self.heads.add(Head(found.head.position, found.head.hash, None))
        self.repeats = self.repeats or bool(found.stored)
        conflicts = []
        for line, event, enc in encoded:
            stored = found.stored.get(enc.event_id)
            if stored is not None and not (
                (stored[0], stored[1], stored[2]) == (enc.type, enc.stream_id, enc.stated_at)
                and codec.same_payload(stored[3], enc.payload, event)
            ):
                conflicts.append((line, enc.event_id))
        for ref in found.known:
            if len(self.known) < _KNOWN_CACHE:
                self.known.add(ref)
        return conflicts, [use for use in wanting if use[0] not in found.known]

    def _keep(self, batch: list[tuple[int, Event]], *, ends_chunk: bool) -> None:
        """Keep a valid batch for the append. The first is held in memory as it is (events
        with their encodings cached), and spooled only when a second comes: an import of one
        batch (a daily delivery) is appended without writing its events to the spool, reading
        them back and decoding each payload again: 3-5% of a delivery of 1,000 records
        (``python -m benchmarks.delivery_spool``). Memory holds one batch either way; a batch
        never spans two chunks."""
        if self.held is not None:
            self._spool(self.held, ends_chunk=self.held_ends_chunk)
            self.held = None
        if self.batches:
            self._spool(batch, ends_chunk=ends_chunk)
        else:
            self.held, self.held_ends_chunk = batch, ends_chunk
        self.batches += 1

    def _spool(self, batch: list[tuple[int, Event]], *, ends_chunk: bool) -> None:
        # marshal: the fastest faithful encoding of tuples of str, int and None; the file is
        # this process's own unnamed temporary file, read back only by it.
        blob = marshal.dumps([(line, *encoding(event)) for line, event in batch])
        self.spool.write(len(blob).to_bytes(8, "little") + bytes([ends_chunk]))
        self.spool.write(blob)

    def chunks(self) -> Iterator[list[tuple[int, Event]]]:
        """The valid records, a chunk at a time, as events ready to append (each with its
        encoding, as validated: the store does not compute it again)."""
        if self.held is not None:  # the only batch (see _keep): one chunk
            yield self.held
            return
        self.spool.seek(0)
        chunk: list[tuple[int, Event]] = []
        for _ in range(self.batches):
            header = self.spool.read(9)
            items = marshal.loads(self.spool.read(int.from_bytes(header[:8], "little")))
            chunk += [_spooled_event(item) for item in items]
            del items
            if header[8]:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def finish(self) -> None:
        """Add the errors found across records, after each record's own, in the order of the
        checks: ids reused within the file with other content, in line order; references to
        records neither earlier in the file nor in the ledger (grouped by what they name, in
        the order first named; not those whose own definition failed: one cause, reported
        once); ids the ledger holds with other content (first occurrences only, and not on
        lines already wanting a reference)."""
        db = self.db
        db.execute("CREATE INDEX records_id ON records (id, line)")
        db.execute("CREATE INDEX records_stream ON records (stream, line)")
        db.execute(
            "CREATE TEMP TABLE repeated AS SELECT id, min(line) AS first FROM records "
            "GROUP BY id HAVING count(*) > 1"
        )
        if db.execute("SELECT EXISTS (SELECT 1 FROM repeated)").fetchone()[0]:
            self.repeats = True
        reused = (
            "FROM records r JOIN repeated m ON m.id = r.id JOIN records f ON f.line = m.first "
            "WHERE r.line > m.first AND r.content != f.content"
        )
        query = f"SELECT r.line, r.kind, r.key, m.first {reused} ORDER BY r.line LIMIT ?"
        self._add(reused, query, lambda line, kind, key, first: (line, _reused(kind, key, first)))
        db.execute(
            "CREATE TEMP TABLE wanting AS SELECT u.seq, u.ref, u.line, u.field FROM uses u "
            "WHERE u.ref NOT IN (SELECT stream FROM failed) AND NOT EXISTS "
            "(SELECT 1 FROM records r WHERE r.stream = u.ref AND r.line <= u.line)"
        )
        query = (
            "SELECT w.ref, w.line, w.field, (SELECT min(line) FROM records r "
            "WHERE r.stream = w.ref) FROM wanting w JOIN (SELECT ref, min(seq) AS first "
            "FROM wanting GROUP BY ref) f ON f.ref = w.ref ORDER BY f.first, w.seq LIMIT ?"
        )
        self._add(
            "FROM wanting",
            query,
            lambda ref, line, field, later: (
                line,
                _nowhere(ref, field) if later is None else _later(ref, later, field),
            ),
        )
        conflicts = (
            "FROM conflicts c JOIN records r ON r.line = c.line WHERE c.line = "
            "(SELECT min(line) FROM records f WHERE f.id = c.id) "
            "AND c.line NOT IN (SELECT line FROM wanting)"
        )
        query = f"SELECT c.line, r.kind, r.key {conflicts} ORDER BY c.line LIMIT ?"
        self._add(conflicts, query, lambda line, kind, key: (line, _conflict(kind, key)))
        db.close()  # done with: its cache and the set below are not kept while appending
        self.known.clear()

    @property
    def checked_at(self) -> Head | None:
        """The head of the log every batch was checked at, if they all were at the same one
        and no id was found twice (in the ledger, or in the file): what the append may take
        as checked while the log's head is still that (``EventStore.append_batches``)."""
        if self.repeats or len(self.heads) != 1:
            return None
        (head,) = self.heads
        return head

    def _add(self, rows: str, query: str, error: Callable[..., tuple[int, InvalidRecord]]) -> None:
        """Add the errors of one check: the first :data:`MAX_ERRORS` by ``query`` (a SELECT
        with a ``LIMIT ?``), and a count of all of them, the rows ``rows`` (a FROM clause)."""
        (total,) = self.db.execute(f"SELECT count(*) {rows}").fetchone()
        shown = self.db.execute(query, (MAX_ERRORS,)).fetchall()
        for row in shown:
            self.errors.add(*error(*row))
        self.errors.count(total - len(shown))

    def raise_if_any(self) -> None:
        self.errors.raise_if_any()


@contextmanager
def _scratch_failures() -> Iterator[None]:
    """The scratch database's errors (a full temporary directory, say) as a :class:`StoreError`
    that says where it was."""
    try:
        yield
    except sqlite3.Error as e:
        raise StoreError(
            f"the import's scratch database in {tempfile.gettempdir()} failed: {e}; an import "
            "needs about the size of its input there (TMPDIR sets the directory)"
        ) from e


def _digest(e: Encoding) -> bytes:
    """What the store compares to tell a repeat from a reused id (type, stream, stated_at and
    canonical payload), as a 128-bit digest."""
    h = hashlib.blake2b(f"{e.type}\0{e.stream_id}\0{e.stated_at}\0".encode(), digest_size=16)
    h.update(e.payload.encode("utf-8", "surrogatepass"))
    return h.digest()


def _spooled_event(item: tuple[int, str, str, str, int | None, str]) -> tuple[int, Event]:
    """A validated record back from the spool (its line and encoding): the same event, built
    from its canonical payload without checking it again (as the store reads its own rows),
    its encoding attached."""
    line, event_id, stream_id, type_, stated, payload = item
    when = None if stated is None else from_micros(stated)
    event = codec.decode(type_, json.loads(payload), when, line)
    # The cache ledger.codec.encoding() fills: this is the very encoding it computed for the
    # validated event, so the store need not compute it again.
    object.__setattr__(event, "_encoding", Encoding(event_id, stream_id, type_, stated, payload))
    return line, event


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
    required fields, exact JSON types, times in the one time grammar) and the event
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


#: What the exporter writes beside an event's fields and the importer reads past: ``redacted``,
#: an object saying when, by whom and why the event's text was removed (issue 15). A ledger that
#: imports such a record holds the text as the export gave it (``[redacted]``) and no redaction:
#: it never held the removed text. Records carrying it take the checked way (rare).
READ_PAST = ("redacted",)


def _unknown_fields(record: Mapping[str, Any], spec: tuple[Field, ...]) -> Iterator[InvalidRecord]:
    known = ["type", *(f.name for f in spec), *READ_PAST]
    for name in READ_PAST:
        if name in record and not isinstance(record[name], dict):
            yield InvalidRecord(f"expected object, got {json_kind(record[name])}", field=name)
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
    """The problem with a time's text: the API's own parser, so the same texts and messages."""
    try:
        to_utc(value, field=name)
    except InvalidRecord as e:
        yield e


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


def _conflict(kind: str, key: str) -> InvalidRecord:
    return InvalidRecord(
        f"{kind} {key!r} was already recorded with different content; ids are never "
        "reused: give the new record a new id, or append a correction",
        field="id",
    )


def _reused(kind: str, key: str, first: int) -> InvalidRecord:
    return InvalidRecord(
        f"{kind} {key!r} is already defined on line {first} with different content; "
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


# -- step 3: appending -----------------------------------------------------------------------


class _Appending:
    """Appends what :class:`_Checked` kept: in chunks (one transaction each), or all in one
    transaction, a chunk per batch (so both cost the same)."""

    def __init__(self, ledger: Ledger, checked: _Checked, tick: _Tick):
        self.ledger = ledger
        self.checked = checked
        self.tick = tick
        self.appended = 0
        self.skipped = 0
        self.head: Head | None = None  # after the last transaction, if one ran
        self.current: list[tuple[int, Event]] = []

    def in_chunks(self) -> None:
        done = self.checked.records
        # Each chunk's transaction may take the check as made while the log has grown by the
        # import's own chunks alone since (its head then is where the last chunk left it).
        checked_at = self.checked.checked_at
        for chunk in self.checked.chunks():
            # One transaction a chunk, appended a batch at a time (as in_one_transaction does):
            # the store and the projection then hold one batch's rows, not the chunk's, and no
            # RecordedEvent is built for the answer (measured on PostgreSQL, 300k records: peak
            # RSS 246 MB when a chunk was one append).
            events = [event for _, event in chunk]
            batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
            try:
                result = self.ledger.append_batches(batches, checked_at=checked_at)
            except (EventIdConflict, InvalidRecord) as e:
                _located_failure(self.checked.label, chunk, e, self.appended)
            if checked_at is not None:
                # Positions run on without a gap: the chunk's events are all that was added
                # since checked_at exactly when the head is that many further on.
                ours = result.head.position == checked_at.position + result.appended
                checked_at = result.head if ours else None
            self.appended += result.appended
            self.skipped += result.skipped
            self.head = result.head
            done += len(chunk)
            del chunk, events, batches, result  # one chunk in memory at a time
            self.tick(done)

    def in_one_transaction(self) -> None:
        if not self.checked.batches:
            return
        facade = getattr(self.ledger, "append_batches", None)
        try:
            if facade is not None:
                result = facade(self, checked_at=self.checked.checked_at)
            else:
                result = self.ledger.store.append_batches(
                    self, within=self.ledger.projection.catch_up, checked_at=self.checked.checked_at
                )
        except (EventIdConflict, InvalidRecord) as e:
            _located_failure(self.checked.label, self.current, e, 0)
        self.appended, self.skipped = result.appended, result.skipped
        self.head = result.head
        self.tick(2 * self.checked.records)

    def __iter__(self) -> Iterator[list[Event]]:
        """The batches of a one-transaction import, from the start each time (an append
        retried after lock contention iterates again)."""
        done = self.checked.records
        for chunk in self.checked.chunks():
            self.current = chunk
            yield [event for _, event in chunk]
            done += len(chunk)
            self.current = []
            del chunk  # before the next chunk is read: one chunk in memory at a time
            self.tick(done)


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
