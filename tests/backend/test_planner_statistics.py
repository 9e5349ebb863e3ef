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


@pytest.mark.postgresql
def test_small_catch_ups_refresh_statistics_once_a_table_has_doubled_since() -> None:
    """belief_stances once as many rows changed as it had (50 at first), with the derived
    tables; events with them, once the log has twice the rows it had at its last ANALYZE."""
    url, drop = new_pg_schema()

    def seen(lg: Ledger) -> dict[str, tuple[float, int, int]]:
        """Per table: the rows the planner knows of, the rows there are, the rows changed
        since the last ANALYZE (as the server counts them)."""
        with lg.store.engine.connect() as conn:
            # The server counts a session's changes when it reports them (at most once a
            # second): reported now, so the next catch-up sees them.
            conn.execute(text("SELECT pg_stat_force_next_flush()"))
            conn.commit()
            found = {}
            for name in ("belief_stances", "events"):
                known, changed = conn.execute(
                    text(
                        "SELECT c.reltuples, s.n_mod_since_analyze FROM pg_class c "
                        "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = "
                        "CAST(:name AS regclass)"
                    ),
                    {"name": name},
                ).one()
                rows = conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                found[name] = (known, rows, changed)
            return found

    try:
        with Ledger.open(url) as lg:
            lg.append([*basics(), *(statement(f"a{i}") for i in range(300))])
            analyzed = {"belief_stances": 0, "events": 0}
            for step in range(8):
                before = seen(lg)
                lg.append([statement(f"s{step}-{i}") for i in range(300)])
                after = seen(lg)
                known, _, changed = before["belief_stances"]
                stale = changed > 50 + max(known, 0)
                stances = after["belief_stances"]
                assert (stances[0] == stances[1]) == stale
                events_known = before["events"][0]
                events = after["events"]  # the catch-up counts the rows just appended
                doubled = stale and events[1] > 2 * max(events_known, 0)
                assert (events[0] == events[1]) == doubled
                assert doubled or events[0] == events_known
                analyzed["belief_stances"] += stale
                analyzed["events"] += doubled
            assert analyzed == {"belief_stances": 2, "events": 2}  # of 8 catch-ups
    finally:
        drop()
