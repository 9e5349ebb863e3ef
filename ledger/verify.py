"""Verifying the log: re-read every row and check its position, link, hash and time.

The hot loop is written for speed (plain tuple unpacking, one hash per row); a row that fails
any check is explained afterwards, by the slower :func:`_row_problem`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledger import hashing
from ledger.records import Head, VerifyReport
from ledger.times import from_micros


def verify_rows(rows: Iterable[Any], checkpoint: tuple[int, str] | None = None) -> VerifyReport:
    """Check ``rows`` (every column of ``events``, in position order, from position 1) and
    report the first position that is wrong; see :meth:`ledger.store.EventStore.verify`."""
    prev, position, last_recorded, checked = hashing.GENESIS, 0, -(2**62), 0
    at = checkpoint[0] if checkpoint is not None else -1
    row_hash = hashing.row_hash
    for row in rows:
        pos, event_id, stream_id, version, type_, stated, recorded, payload, link, digest = row
        if (
            pos != position + 1
            or link != prev
            or recorded < last_recorded
            or row_hash(prev, pos, event_id, stream_id, version, type_, stated, recorded, payload)
            != digest
            or pos == at
        ):
            problem = _row_problem(row, position + 1, prev, last_recorded)
            if problem is None and checkpoint is not None and pos == at:
                problem = _checkpoint_mismatch(digest, checkpoint)
            if problem is not None:
                return _bad(checked, position, prev, pos, problem)
        prev, position, last_recorded = digest, pos, recorded
        checked += 1
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


def _row_problem(row: Any, position: int, prev: str, last_recorded: int) -> str | None:
    """Why ``row`` (a tuple of every ``events`` column, in table order) is wrong, if it is;
    the straightforward form of the verify loop's checks."""
    pos, event_id, stream_id, version, type_, stated, recorded, payload, link, digest = row
    if pos != position:
        return f"expected position {position} next, found {pos}: a row is missing or out of order"
    if link != prev:
        return (
            "prev_hash does not link to the previous event's hash: "
            "rows were removed, swapped or inserted"
        )
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


def _bad(checked: int, head_pos: int, head_hash: str, position: int, problem: str) -> VerifyReport:
    return VerifyReport(False, checked, Head(head_pos, head_hash, None), position, problem)


# -- helpers that run inside the write transaction -------------------------------------------
