"""The planner sees what a bulk load wrote.

PostgreSQL plans ``IN (...)`` lookups from table statistics. A ledger filled by one import has
none (autovacuum may be off, as on the machine these tests run on, and it never sees a
transaction's own rows), and without them PostgreSQL scanned whole tables for each lookup and
JIT-compiled every query: a million-event import never finished. So a catch-up that writes many
rows refreshes the statistics, and sessions run with JIT off. SQLite trusts its indexes without
statistics and is deliberately left unanalyzed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger import Ledger
from projections import materialized
from tests.conftest import new_pg_schema
from tests.helpers import basics, statement


def test_a_large_catch_up_leaves_statistics_for_the_planner(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(materialized, "ANALYZE_AFTER", 5)
    ledger.append([*basics(), *(statement(f"s{i}") for i in range(8))])

    with ledger.store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT relname, reltuples FROM pg_class "
                    "WHERE relname IN ('belief_stances', 'events') "
                    "AND relnamespace = current_schema()::regnamespace"
                )
            ).all()
            assert {name: tuples for name, tuples in rows} == {
                "belief_stances": 8,
                "events": len(basics()) + 8,
            }
        else:
            stat = conn.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            ).scalar()
            assert stat == 0


def test_a_small_append_does_not_analyze(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1")])
    with ledger.store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            tuples = conn.execute(
                text(
                    "SELECT reltuples FROM pg_class WHERE relname = 'belief_stances' "
                    "AND relnamespace = current_schema()::regnamespace"
                )
            ).scalar()
            assert tuples == -1  # never analyzed
        else:
            stat = conn.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            ).scalar()
            assert stat == 0


@pytest.mark.postgresql
def test_postgresql_sessions_run_without_jit() -> None:
    url, drop = new_pg_schema()
    try:
        with Ledger.open(url) as lg, lg.store.engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            conn.rollback()
            assert conn.execute(text("SHOW jit")).scalar() == "off"  # not undone by a rollback
    finally:
        drop()
