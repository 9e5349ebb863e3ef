"""Export a ledger: the log as JSON Lines in the import format, or its statements as CSV.

:func:`export_jsonl` writes one record per event, in log order. Importing its output into an
empty ledger reproduces the same events, with the same event ids and payloads, and so the same
beliefs; only ``recorded_at`` (the importing ledger's own clock) differs. It is the format's
canonical writer: times are ``YYYY-MM-DD`` when they are midnight UTC and ``...THH:MM:SS[.ffffff]Z``
otherwise, text is UTF-8 (not ``\\u`` escapes, but for U+2028 and U+2029, which some readers
take for line ends), and fields that are null are left out, except a statement's ``value``,
``unit``, ``document`` and ``quote``.

:func:`export_csv` writes one row per statement, as its corrections leave it. Every time in it
has the one form ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (:func:`ledger.times.iso`), midnight or not, so
a CSV reader (``pandas.to_datetime``, a spreadsheet) parses a column without guessing formats.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any

from ledger.events import CorrectionMade, Event, RedactionMade, StatementMade, corrected
from ledger.jsonl.importer import FIELDS, RECORD_TYPE_OF
from ledger.times import TimeLike, iso

if TYPE_CHECKING:
    from ledger.api import Ledger

#: The columns of :func:`export_csv`, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "statement",
    "source",
    "proposition",
    "stance",
    "stated_at",
    "value",
    "unit",
    "document",
    "quote",
    "note",
    "withdrawn",
    "corrected_by",
    "position",
    "recorded_at",
    "redacted_at",
)


def export_jsonl(ledger: Ledger, out: IO[str], *, known_at: TimeLike | None = None) -> int:
    """Write the log (as known at ``known_at``, default: all of it) to ``out`` as JSON Lines;
    returns the number of records written.

    A redacted event is written as the redaction left it (its free text ``[redacted]``) with
    ``"redacted": {"at", "by", "reason"}``, whenever the redaction was made: the text is gone
    from the ledger at every ``known_at``. Redaction events themselves have no import record
    and are not written."""
    redacted = {r.position: r for r in ledger.redactions()}
    count = 0
    for recorded in ledger.read(known_at=known_at):
        if isinstance(recorded.event, RedactionMade):
            continue  # no import record: its mark is on the event it redacted (below)
        record = to_record(recorded.event)
        made = redacted.get(recorded.position)
        if made is not None:
            record["redacted"] = {
                "at": format_time(made.redacted_at),
                "by": made.by,
                "reason": made.reason,
            }
        out.write(dumps(record) + "\n")
        count += 1
    return count


def dumps(record: dict[str, Any]) -> str:
    """One record as a line of JSON: UTF-8 text unescaped, except U+2028 and U+2029, which
    some line readers (``str.splitlines``, for one) take for line ends."""
    text = json.dumps(record, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def to_record(event: Event) -> dict[str, Any]:
    """One event as an import-format record (a plain JSON object)."""
    kind = RECORD_TYPE_OF[event.TYPE]
    record: dict[str, Any] = {"type": kind}
    for field in FIELDS[kind]:
        value = _plain(getattr(event, field.attribute))
        if value is not None or field.keep_null:
            record[field.name] = value
    if isinstance(event, CorrectionMade):
        if not event.changes:
            del record["set"]
        if not event.withdraw:
            del record["withdraw"]
    return record


def format_time(value: datetime) -> str:
    """An instant as the import format writes it: a bare date at midnight UTC, else ISO with Z."""
    v = value.astimezone(UTC)
    day = f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    if v.time() == time(0):
        return day
    fraction = f".{v.microsecond:06d}" if v.microsecond else ""
    return f"{day}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}{fraction}Z"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        if value and all(isinstance(x, tuple) for x in value):
            return {name: _plain(x) for name, x in value}  # a correction's changes
        return list(value)
    return value


# -- CSV -------------------------------------------------------------------------------------


class _Row:
    """A statement as its corrections leave it, with where it sits in the log."""

    def __init__(self, statement: StatementMade, position: int, recorded_at: datetime):
        self.statement = statement
        self.position = position
        self.recorded_at = recorded_at
        self.withdrawn = False
        self.corrected_by: list[str] = []
        self.redacted_at: datetime | None = None

    def correct(self, correction: CorrectionMade) -> None:
        self.corrected_by.append(correction.correction_id)
        self.statement, self.withdrawn = corrected(self.statement, self.withdrawn, correction)

    def cells(self) -> list[str]:
        s = self.statement
        return [
            s.statement_id,
            s.source_id,
            s.proposition_id,
            s.stance.value,
            iso(s.stated_at),
            "" if s.value is None else json.dumps(s.value),
            s.unit or "",
            s.document_id or "",
            s.quote or "",
            s.note or "",
            "true" if self.withdrawn else "false",
            ";".join(self.corrected_by),
            str(self.position),
            iso(self.recorded_at),
            "" if self.redacted_at is None else iso(self.redacted_at),
        ]


def export_csv(ledger: Ledger, out: IO[str], *, known_at: TimeLike | None = None) -> int:
    """Write every statement, as corrected by the corrections known at ``known_at`` (default:
    all), to ``out`` as CSV with a header row of :data:`CSV_COLUMNS`; returns the number of
    statements written. ``position`` and ``recorded_at`` are the statement's own; withdrawn
    statements are included, marked ``withdrawn=true``; ``corrected_by`` lists correction ids
    in log order, separated by ``;``; ``redacted_at`` is when the statement's text, or the
    text of a correction to it, was last redacted (empty if never). ``stated_at``,
    ``recorded_at`` and ``redacted_at`` are written ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, whatever
    the time of day. Rows end in CRLF (RFC 4180): open files with ``newline=""``."""
    redacted = {r.position: r.redacted_at for r in ledger.redactions()}
    rows: dict[str, _Row] = {}
    for recorded in ledger.read(known_at=known_at):
        event = recorded.event
        if isinstance(event, StatementMade):
            row = rows[event.statement_id] = _Row(event, recorded.position, recorded.recorded_at)
        elif isinstance(event, CorrectionMade) and event.corrects in rows:
            row = rows[event.corrects]
            row.correct(event)
        else:
            continue
        when = redacted.get(recorded.position)
        if when is not None:  # the statement's text, or a correction's, was redacted
            row.redacted_at = max(when, row.redacted_at or when)
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(row.cells() for row in rows.values())
    return len(rows)
