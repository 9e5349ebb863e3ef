"""A write of a few events runs its statements on plans made once (PostgreSQL).

PostgreSQL estimates an array parameter's length from its value, so for the statements of an
append (index probes, one per item of an array) a generic plan never looked cheaper than a
custom one, and each execution was planned again: at 100k events, 0.2 ms of the 0.5 ms of a
one-event append's first statement. A small write now sets ``plan_cache_mode`` for its own
transaction; a large one keeps custom plans, which know how many items there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Connection, event, text

from ledger import (
    CorrectionMade,
    Ledger,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)
from ledger.store.backends import GENERIC_PLANS_UP_TO
from tests.conftest import new_pg_schema

pytestmark = pytest.mark.postgresql


@pytest.fixture
def pg_ledger() -> Iterator[Ledger]:
    url, drop = new_pg_schema()
    try:
        with Ledger.open(url) as lg:
            yield lg
    finally:
        drop()


def _statement(i: int, source: str = "s0", proposition: str = "p0") -> StatementMade:
    return StatementMade(f"st{i}", source, proposition, "assert", f"2024-10-{1 + i % 28:02d}")


def _mode(conn: Connection) -> str:
    return str(conn.execute(text("SELECT current_setting('plan_cache_mode')")).scalar())


def _parallel(conn: Connection) -> str:
    return str(
        conn.execute(text("SELECT current_setting('max_parallel_workers_per_gather')")).scalar()
    )


def test_a_small_append_plans_once_a_large_one_for_its_values(pg_ledger: Ledger) -> None:
    pg_ledger.append([SourceRegistered("s0", "A source", "media")])
    pg_ledger.append([PropositionDefined("p0", "Something happened")])
    seen: list[str] = []
    parallel: list[str] = []

    def within(conn: Connection, rows: Any) -> None:
        seen.append(_mode(conn))
        parallel.append(_parallel(conn))

    pg_ledger.store.append([_statement(0)], within=within)
    many = [_statement(i) for i in range(1, GENERIC_PLANS_UP_TO + 2)]
    pg_ledger.store.append(many, within=within)
    assert seen == ["force_generic_plan", "auto"]
    # never in parallel: a small write's statements read a few rows each
    assert parallel[0] == "0" and parallel[1] != "0"
    # set for the transaction only: the pooled connection is back to the default after it
    with pg_ledger.store.engine.connect() as conn:
        assert _mode(conn) == "auto"
        assert _parallel(conn) == parallel[1]


def _as_prepared(statement: str, parameters: Any) -> tuple[str, list[Any]]:
    """``statement`` with ``$n`` placeholders for PREPARE, and its values in order."""
    values: list[Any] = []
    if isinstance(parameters, dict):

        def named(m: re.Match[str]) -> str:
            values.append(parameters[m.group(1)])
            return f"${len(values)}"

        return re.sub(r"%\((\w+)\)s", named, statement), values

    def positional(m: re.Match[str]) -> str:
        values.append(parameters[len(values)])
        return f"${len(values)}"

    return re.sub(r"%s", positional, statement), values


#: A table read whole: any but those of a row or two whatever the history (the checkpoint).
_SCANNED = re.compile(r"Seq Scan on (?!belief_checkpoint\b|writer_lock\b)")
#: A scan and the rows the planner expects of it.
_EXPECTS = re.compile(r"Scan.* on (\w+).*\brows=(\d+)")
_NODE = re.compile(r"^(\s*)(?:->\s+)?(\S.*)$")


def _expected_reads(plan: str) -> list[tuple[str, int]]:
    """Each scan of ``plan`` (EXPLAIN's text) and the rows expected of it, but for a scan a
    ``Limit`` stops early (its estimate is the table's, its reads are the limit's)."""
    out: list[tuple[str, int]] = []
    nodes: list[tuple[int, str]] = []  # (indent, text) of the nodes above the current line
    for n, line in enumerate(plan.splitlines()):
        m = _NODE.match(line)
        if m is None or (n > 0 and not line.lstrip().startswith("->")):
            continue  # a node's detail line (Index Cond, Filter, ...); the first is the root
        indent, node = len(m[1]), m[2]
        while nodes and nodes[-1][0] >= indent:
            nodes.pop()
        scan = _EXPECTS.search(node)
        if scan and not (nodes and nodes[-1][1].startswith("Limit")):
            out.append((scan[1], int(scan[2])))
        nodes.append((indent, node))
    return out


#: What a plan made once may expect of a table that grows with the log: a share that stays
#: small as the log grows. A range over a parameter alone is a third of the table, which at 1M
#: events was enough for parallel workers to start for a statement that reads one row.
_AT_MOST = 0.05


def test_the_plans_made_once_probe_indexes(pg_ledger: Ledger) -> None:
    """Every statement a one-event append sends (a statement, a correction, a withdrawal), as
    PostgreSQL plans it once for all values, reads no table whole that grows with the log."""
    lg = pg_ledger
    lg.append([SourceRegistered(f"s{i}", f"Source {i}", "media") for i in range(300)])
    lg.append([PropositionDefined(f"p{i}", f"Proposition {i}") for i in range(300)])
    lg.append([_statement(i, f"s{i % 300}", f"p{i * 7 % 300}") for i in range(3000)])
    with lg.store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # statistics that know how big the tables are
    sent: dict[str, tuple[str, Any]] = {}

    def capture(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool) -> None:
        if params and not many:
            sent.setdefault(statement, (statement, params))

    event.listen(lg.store.engine, "before_cursor_execute", capture)
    lg.append([_statement(5000, "s1", "p2")])
    lg.append([CorrectionMade("c1", "st10", "misread", changes={"stance": "deny"})])
    lg.append([CorrectionMade("c2", "st11", "not said", withdraw=True)])
    event.remove(lg.store.engine, "before_cursor_execute", capture)
    assert len(sent) >= 8  # the log's statements and the projection's
    raw = lg.store.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        sizes = {  # the tables that grow with the log, and their rows as the planner knows them
            name: tuples
            for name, tuples in driver.execute(
                "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = current_schema()::regnamespace AND reltuples > 1000"
            ).fetchall()
        }
        assert {"events", "belief_stances"} <= sizes.keys()
        scans = []
        for n, (statement, params) in enumerate(sent.values()):
            prepared, values = _as_prepared(statement, params)
            with driver.transaction(force_rollback=True):
                driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                driver.execute(f"PREPARE q{n} AS {prepared}")
                explain = sql.SQL(f"EXPLAIN EXECUTE q{n}(" + ", ".join(["{}"] * len(values)) + ")")
                plan = "\n".join(
                    row[0]
                    for row in driver.execute(
                        explain.format(*[sql.Literal(v) for v in values])
                    ).fetchall()
                )
                driver.execute(f"DEALLOCATE q{n}")
            if _SCANNED.search(plan):
                scans.append(f"{statement[:80]}\n{plan}")
            for table, rows in _expected_reads(plan):
                if table in sizes and rows > _AT_MOST * sizes[table]:
                    scans.append(f"{statement[:80]}\n{plan}")
        assert not scans, "\n\n".join(scans)
    finally:
        raw.close()
