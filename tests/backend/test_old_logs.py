"""A ledger written in an earlier format keeps working: the fixture of
``tests/data/ledgers/`` (the ``events`` table as written on 2026-11-30), loaded row for row into
either backend, verifies, reads, answers as the reference fold says and takes the same file again
as a no-op. Together with ``tests/unit/test_codec.py`` (the same log read through evolved event
types) this is the promise of docs/concepts.md: a log is never rewritten to follow the code."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger import Ledger
from ledger.store import migrate
from ledger.store.schema import events
from projections import fold as reference

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURE = DATA / "ledgers" / "north-korea-2026-11.jsonl"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def _loaded(url: str) -> Ledger:
    lg = Ledger.open(url, create=True)
    with lg.store.engine.begin() as conn:
        conn.execute(events.insert(), _rows())
    return lg


def test_a_log_written_before_verifies_and_keeps_its_head(ledger_url: str) -> None:
    rows = _rows()
    lg = _loaded(ledger_url)
    try:
        report = lg.verify()
        assert report.ok, report
        assert (report.head.position, report.head.hash) == (rows[-1]["position"], rows[-1]["hash"])
    finally:
        lg.close()


def test_a_log_written_before_answers_as_the_reference_fold_says(ledger_url: str) -> None:
    lg = _loaded(ledger_url)
    try:
        recorded = list(lg.read())
        assert [r.hash for r in recorded] == [r["hash"] for r in _rows()]
        state = reference.fold(recorded)
        known_at = recorded[-1].recorded_at
        for proposition in state.propositions:
            for day in ("2024-10-20", "2024-12-31", "2025-05-01"):
                as_of = datetime.fromisoformat(day).replace(tzinfo=UTC)
                expected = reference.verdict_of(state, proposition, as_of)
                assert lg.believed(proposition, as_of=as_of, known_at=known_at).verdict == expected
    finally:
        lg.close()


def test_the_file_it_was_written_from_imports_again_as_a_no_op(ledger_url: str) -> None:
    lg = _loaded(ledger_url)
    try:
        report = lg.import_jsonl(EXAMPLE)
        assert report.appended == 0
        assert lg.head().position == len(_rows())
    finally:
        lg.close()


def test_a_ledger_at_the_stored_verdicts_revision_upgrades_and_answers_from_stance_rows(
    ledger_url: str,
) -> None:
    """Issue 10, item 1: a populated ledger of revision 0003 (the stored-verdict projection)
    upgraded to head rebuilds its derived tables from the log: it verifies (log, tree, derived
    tables) and answers as the fold says."""
    with Ledger.open(ledger_url, create=True) as lg:
        migrate.downgrade(lg.store.engine, "0003")
        with lg.store.engine.begin() as conn:
            conn.execute(events.insert(), _rows())
    with Ledger.open(ledger_url) as lg:  # upgraded to head on opening
        assert migrate.schema_revision(lg.store.engine) == migrate.head_revision()
        assert lg.verify().ok
        recorded = list(lg.read())
        state = reference.fold(recorded)
        known_at = recorded[-1].recorded_at
        for proposition in state.propositions:
            as_of = datetime(2025, 5, 1, tzinfo=UTC)
            expected = reference.verdict_of(state, proposition, as_of)
            assert lg.believed(proposition, as_of=as_of, known_at=known_at).verdict == expected
        assert lg.verify().ok  # and still, now that the projection is caught up
