"""Verifying the log: re-read every row and check its position, link, hash and time.

The hot loop is written for speed (plain tuple unpacking, one hash per row); a row that fails
any check, or that cannot even be checked (a value of the wrong type, a NULL, a time out of
range), is explained afterwards by the slower :func:`_row_problem`. Nothing a row holds makes
verification crash: whatever cannot be read is damage, reported at its position. A table or
column that is missing altogether (:class:`~ledger.errors.DamagedDatabase`) is damage too,
reported at the first position that could not be verified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledger import hashing
from ledger.errors import DamagedDatabase
from ledger.records import Head, VerifyReport
from ledger.store.append import COLUMNS
from ledger.times import from_micros, to_micros

#: The times a row may hold: microseconds since the epoch within years 1 to 9999.
MIN_MICROS = to_micros(datetime.min.replace(tzinfo=UTC))
MAX_MICROS = to_micros(datetime.max.replace(tzinfo=UTC))
_COLUMNS = COLUMNS  # the order a stored row's values come in
_INTEGERS = {"position", "stream_version", "stated_at", "recorded_at"}
_HEX = frozenset("0123456789abcdef")


def verify_rows(
    rows: Iterable[Any],
    checkpoint: tuple[int, str] | None = None,
    redacted: Mapping[int, tuple[str, str]] | None = None,
) -> VerifyReport:
    """Check ``rows`` (every column of ``events``, in position order, from position 1) and
    report the first position that is wrong; see
    :meth:`ledger.store.eventstore.EventStore.verify`.

    ``redacted``: by position, the event id and payload marker of each redacted row
    (:func:`ledger.store.redact.markers`). Such a row's hash cannot be recomputed (it hashed
    the removed payload): it must hold exactly that marker and link to the row before, and the
    next row's hash covers its stored one; its Merkle leaf is checked afterwards."""
    redacted = redacted or {}
    prev, position, last_recorded, checked = hashing.GENESIS, 0, MIN_MICROS, 0
    at = checkpoint[0] if checkpoint is not None else -1
    row_hash = hashing.row_hash
    try:
        for row in rows:
            try:
                pos, event_id, stream, version, type_, stated, recorded, payload, link, digest = row
                suspect = (
                    pos != position + 1
                    or link != prev
                    or type(recorded) is not int
                    or not last_recorded <= recorded <= MAX_MICROS
                    or type(version) is not int
                    or type(event_id) is not str
                    or (
                        stated is not None
                        and (type(stated) is not int or not MIN_MICROS <= stated <= MAX_MICROS)
                    )
                    or row_hash(
                        prev, pos, event_id, stream, version, type_, stated, recorded, payload
                    )
                    != digest
                    or pos == at
                )
            except Exception:  # a row that cannot even be compared: _row_problem says why
                suspect = True
            if suspect:
                problem = _row_problem(row, position + 1, prev, last_recorded, redacted)
                if problem is None and checkpoint is not None and pos == at:
                    problem = _checkpoint_mismatch(digest, checkpoint)
                if problem is not None:
                    where = row[0] if _is_int(_get(row, 0)) else position + 1
                    return _bad(checked, position, prev, where, problem)
            prev, position, last_recorded = digest, pos, recorded
            checked += 1
    except DamagedDatabase as e:
        detail = str(e).removeprefix("database error: ")
        problem = (
            f"the log cannot be read from here on ({detail}): the database was altered or "
            "damaged outside the ledger"
        )
        return _bad(checked, position, prev, position + 1, problem)
    head = Head(position, prev, None if checked == 0 else from_micros(last_recorded))
    if checkpoint is not None and checkpoint[0] > position:
        problem = (
            f"the log ends at position {position}, before the checkpoint's {checkpoint[0]}: "
            "its tail is missing"
        )
        return VerifyReport(False, checked, head, position + 1, problem)
    return VerifyReport(True, checked, head)


def with_genesis(report: VerifyReport, checkpoint: tuple[int, str]) -> VerifyReport:
    """A checkpoint of the empty log (position <= 0) holds only if its hash is the genesis."""
    problem = _genesis_problem(checkpoint)
    if problem is None or not report.ok:
        return report
    return VerifyReport(False, report.checked, report.head, 0, problem)


def _genesis_problem(checkpoint: tuple[int, str]) -> str | None:
    if checkpoint[0] < 0:
        return f"checkpoint position {checkpoint[0]} is negative: positions start at 1"
    return _checkpoint_mismatch(hashing.GENESIS, checkpoint)


def _checkpoint_mismatch(found: str, checkpoint: tuple[int, str]) -> str | None:
    if found == checkpoint[1]:
        return None
    return f"hash {found[:12]}… differs from the checkpoint's {checkpoint[1][:12]}…"


def _row_problem(
    row: Any,
    position: int,
    prev: str,
    last_recorded: int,
    redacted: Mapping[int, tuple[str, str]] | None = None,
) -> str | None:
    """Why ``row`` (a tuple of every ``events`` column, in table order) is wrong, if it is;
    the straightforward form of the verify loop's checks. Never raises: a row that cannot be
    read is itself the answer."""
    try:
        return _problem(row, position, prev, last_recorded, redacted or {})
    except Exception as e:  # anything a damaged row could still provoke
        return f"the row cannot be read ({type(e).__name__}: {_clip(str(e))}): it was edited"


def _problem(
    row: Any,
    position: int,
    prev: str,
    last_recorded: int,
    redacted: Mapping[int, tuple[str, str]],
) -> str | None:
    if len(row) != len(_COLUMNS):
        return f"the row has {len(row)} columns, not the {len(_COLUMNS)} of an event"
    for name, value in zip(_COLUMNS, row, strict=True):
        wrong = _wrong_type(name, value)
        if wrong is not None:
            return f"{name} {wrong}: the row was edited"
    pos, event_id, stream_id, version, type_, stated, recorded, payload, link, digest = row
    if pos != position:
        return f"expected position {position} next, found {pos}: a row is missing or out of order"
    for name, value in (("prev_hash", link), ("hash", digest)):
        if len(value) != 64 or not _HEX.issuperset(value):
            digest_form = "a SHA-256 digest (64 hex digits)"
            return f"{name} {_shown(value)} is not {digest_form}: the row was edited"
    if link != prev:
        return (
            "prev_hash does not link to the previous event's hash: "
            "rows were removed, swapped or inserted"
        )
    for name, value in (("stated_at", stated), ("recorded_at", recorded)):
        if value is not None and not MIN_MICROS <= value <= MAX_MICROS:
            return f"{name} {value} is not a time (years 1 to 9999): the row was edited"
    marker = redacted.get(pos)
    if marker is not None:
        return _redacted_problem(row, marker, recorded, last_recorded)
    canonical = hashing.canonical_event(
        position=pos,
        event_id=event_id,
        stream_id=stream_id,
        stream_version=version,
        type=type_,
        stated_at=stated,
        recorded_at=recorded,
        payload=payload,
    )
    if hashing.chain_hash(prev, canonical) != digest:
        return "the stored hash does not match the event's content: the row was edited"
    if recorded < last_recorded:
        return "recorded_at goes back in time"
    return None


def _redacted_problem(
    row: Any, marker: tuple[str, str], recorded: int, last_recorded: int
) -> str | None:
    if row[1] != marker[0]:
        return "the event a redaction names is not the event at its position: a row was edited"
    if row[7] != marker[1]:
        return (
            "the redacted event's payload is not the marker its redaction implies: the row "
            "was edited after the redaction"
        )
    if recorded < last_recorded:
        return "recorded_at goes back in time"
    return None


def _wrong_type(name: str, value: Any) -> str | None:
    """What is wrong with the type of ``value`` in column ``name``, if anything."""
    if value is None:
        return None if name == "stated_at" else "is NULL"
    if name in _INTEGERS:
        return None if _is_int(value) else f"holds {_shown(value)}, not an integer"
    return None if type(value) is str else f"holds {_shown(value)}, not text"


def _is_int(value: Any) -> bool:
    return type(value) is int


def _get(row: Any, i: int) -> Any:
    try:
        return row[i]
    except Exception:
        return None


_KINDS = {str: "text", bytes: "a blob", float: "a real number", Decimal: "a decimal"}


def _shown(value: Any) -> str:
    """A value as a message quotes it: its repr, clipped, and what kind of value it is."""
    kind = _KINDS.get(type(value), type(value).__name__)
    return f"{_clip(repr(value))} ({kind})"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _bad(checked: int, head_pos: int, head_hash: str, position: int, problem: str) -> VerifyReport:
    return VerifyReport(False, checked, Head(head_pos, head_hash, None), position, problem)


# -- helpers that run inside the write transaction -------------------------------------------
