"""verify's proof of the derived tables (``projections.check``): the database compares them
(on SQLite a scratch database attached to the snapshot's connection, on PostgreSQL temporary
tables of its transaction); only a difference is streamed through Python, which names it.
(Every kind of single-row change, on both backends, is specified in ``test_stance_rows.py``.)"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ledger import Ledger
from ledger.hashing import GENESIS
from projections import check as derived
from tests.backend.test_stance_rows import example_file
from tests.conftest import Databases
from tests.helpers import derived_rows


@pytest.fixture
def sqlite_lg(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as opened:
        opened.import_jsonl(io.StringIO(example_file()))
        yield opened


@pytest.fixture
def lg(databases: Databases) -> Iterator[Ledger]:
    with Ledger.open(databases.new_url()) as opened:
        opened.import_jsonl(io.StringIO(example_file()))
        yield opened


def _streamed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each streamed comparison (the one that names a difference)."""
    calls: list[int] = []
    real = derived._compare

    def spy(stored: Any, expected: Any, position: int, *rest: Any) -> derived.DerivedReport:
        calls.append(position)
        return real(stored, expected, position, *rest)

    monkeypatch.setattr(derived, "_compare", spy)
    return calls


def _rows_in_derived_tables(lg: Ledger) -> int:
    with lg.store.engine.connect() as conn:
        return sum(
            int(conn.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one())
            for table, _ in derived.COMPARED
        )


def test_a_sound_ledger_is_decided_by_the_database_without_streaming_a_row(
    lg: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    streamed = _streamed(monkeypatch)
    report = derived.check(lg.store)
    assert report.ok
    assert report.rows == _rows_in_derived_tables(lg) > 0
    assert streamed == []


def test_a_changed_row_found_in_place_is_then_named_by_the_streamed_comparison(
    lg: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    with lg.store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE belief_stances SET stance = 'deny' "
                "WHERE statement_id = 'kcna-confirms-russia-2025-04-28'"
            )
        )
    streamed = _streamed(monkeypatch)
    report = derived.check(lg.store)
    assert not report.ok
    assert len(streamed) == 1
    assert report.table == "belief_stances"
    assert report.concerns == "dprk-troops-in-russia"
    assert "stance is 'deny'" in str(report.problem)
    with lg.store.engine.connect() as conn:  # PostgreSQL's temporary tables went with it
        if conn.dialect.name == "postgresql":
            found = conn.exec_driver_sql("SELECT to_regclass('pg_temp.belief_stances')")
            assert found.scalar() is None


@pytest.mark.parametrize(
    "change",
    [
        # a stored row more, equal to one the log implies but for its key: only counted
        "INSERT INTO belief_stances SELECT statement_id || '-twin', tx_from, tx_to, "
        "proposition_id, source_id, stance, position, valid_from, valid_to, qty_to, reach_to, "
        "node, value, unit FROM belief_stances LIMIT 1",
        # a key changed: the expected row finds no stored row of its key
        "UPDATE belief_stances SET tx_from = tx_from - 1 WHERE rowid = 1",
        # the same number written another way
        "UPDATE belief_stances SET value = value || '.0' WHERE value IS NOT NULL",
        # NULL against a value, and a value against NULL
        "UPDATE belief_stances SET qty_to = NULL WHERE qty_to IS NOT NULL",
        "UPDATE belief_stances SET unit = 'troops' WHERE unit IS NULL",
        "DELETE FROM belief_sources WHERE rowid = (SELECT max(rowid) FROM belief_sources)",
        "UPDATE belief_propositions SET recorded_at = recorded_at + 1",
    ],
)
def test_sqlite_finds_each_kind_of_difference_in_place(sqlite_lg: Ledger, change: str) -> None:
    lg = sqlite_lg
    """The rows as they are, copied aside as the expected ones: the same; then one change to
    the stored rows: not the same."""
    total = _rows_in_derived_tables(lg)
    with lg.store.engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        raw.execute(f"ATTACH DATABASE ':memory:' AS {derived.EXPECTED}")
        try:
            for table, _ in derived.COMPARED:
                raw.execute(
                    f"CREATE TABLE {derived.EXPECTED}.{table.name} AS "
                    f"SELECT * FROM main.{table.name}"
                )
            assert derived._same_rows(conn, "main", derived.EXPECTED) == total
            conn.rollback()
            assert raw.execute(change).rowcount > 0
            assert derived._same_rows(conn, "main", derived.EXPECTED) is None
        finally:
            conn.rollback()
            raw.execute(f"DETACH DATABASE {derived.EXPECTED}")
    assert not lg.verify().ok


def test_the_stored_key_index_dropped_changes_nothing_but_time(sqlite_lg: Ledger) -> None:
    lg = sqlite_lg
    with lg.store.engine.begin() as conn:
        conn.execute(text("DROP INDEX uq_belief_stances_version"))
    assert derived.check(lg.store).ok
    with lg.store.engine.begin() as conn:
        conn.execute(text("UPDATE belief_stances SET stance = 'deny' WHERE stance = 'assert'"))
    assert not derived.check(lg.store).ok


def test_the_scratch_database_is_detached_and_removed_once_checked(
    databases: Databases, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made: list[str] = []
    real = tempfile.TemporaryDirectory

    def recorded(prefix: str | None = None) -> tempfile.TemporaryDirectory[str]:
        directory = real(prefix=prefix, dir=tmp_path)
        made.append(directory.name)
        return directory

    monkeypatch.setattr(tempfile, "TemporaryDirectory", recorded)
    with Ledger.open(databases.new_url()) as lg:
        lg.import_jsonl(io.StringIO(example_file()))
        assert lg.verify().ok
        with lg.store.engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # the pool's connection: nothing left attached
                names = [row[1] for row in conn.exec_driver_sql("PRAGMA database_list")]
                assert derived.EXPECTED not in names
    assert made
    assert not any(Path(name).exists() for name in made)


# -- PostgreSQL: when the temporary tables cannot be made ------------------------------------


@pytest.fixture
def pg_lg(pg_url: str) -> Iterator[Ledger]:
    with Ledger.open(pg_url) as opened:
        opened.import_jsonl(io.StringIO(example_file()))
        yield opened


@pytest.mark.postgresql
def test_temporary_tables_that_cannot_be_made_leave_the_snapshot_usable(pg_lg: Ledger) -> None:
    with pg_lg.store.engine.connect() as conn:
        stored = derived._stored_schema(conn)
        assert derived._temporary_tables(conn, stored)
        assert not derived._temporary_tables(conn, stored)  # they exist: the savepoint rolls back
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_temp.belief_stances").scalar() == 0
        conn.rollback()


@pytest.mark.postgresql
def test_without_temporary_tables_postgresql_folds_into_a_scratch_sqlite_database(
    pg_lg: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derived, "_temporary_tables", lambda conn, stored: False)
    assert derived.check(pg_lg.store).ok
    with pg_lg.store.engine.begin() as conn:
        conn.execute(text("UPDATE belief_sources SET payload = payload || ' '"))
    report = derived.check(pg_lg.store)
    assert not report.ok
    assert report.table == "belief_sources"


# -- rows no checkpoint vouches for ------------------------------------------------------------

_CHECKPOINT_CHANGES = {
    "removed": ("DELETE FROM belief_checkpoint", "checkpoint is gone"),
    "another format": ("UPDATE belief_checkpoint SET policy = 'stances-v0'", "names format"),
    "back at the start": (
        f"UPDATE belief_checkpoint SET position = 0, hash = '{GENESIS}'",
        "says no event was folded",
    ),
}


@pytest.mark.parametrize("change", sorted(_CHECKPOINT_CHANGES))
def test_rows_without_a_checkpoint_to_vouch_for_them_fail_verify_until_rebuilt(
    lg: Ledger, change: str
) -> None:
    sql, said = _CHECKPOINT_CHANGES[change]
    with lg.store.engine.begin() as conn:
        conn.execute(text(sql))

    report = lg.verify()

    assert not report.ok
    assert said in str(report.problem) and "factledger rebuild" in str(report.problem)
    lg.rebuild()
    assert lg.verify().ok


def test_a_catch_up_from_a_checkpoint_at_the_start_folds_on_empty_tables(lg: Ledger) -> None:
    before = derived_rows(lg)
    proposition = "dprk-troops-in-russia"
    expected = lg.believed(proposition).verdict
    with lg.store.engine.begin() as conn:  # stale rows left, the checkpoint sent back to 0
        conn.execute(text(f"UPDATE belief_checkpoint SET position = 0, hash = '{GENESIS}'"))

    assert lg.believed(proposition).verdict == expected  # caught up from the first event
    assert derived_rows(lg) == before  # the fold wiped the stale rows: none twice
    assert lg.verify().ok


def test_an_empty_ledger_with_nothing_derived_verifies(databases: Databases) -> None:
    with Ledger.open(databases.new_url()) as empty:
        assert empty.verify().ok
        assert _rows_in_derived_tables(empty) == 0
