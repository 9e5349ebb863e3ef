"""On PostgreSQL an answer's plan does not depend on what it is asked, nor on ANALYZE's sample.

PostgreSQL plans a prepared statement either with the values of its parameters (a *custom*
plan, made again for every execution) or without them (a *generic* plan, made once), and after
five trial runs keeps the generic plan only if its estimated cost is no higher than the custom
plans' average. The answer statement reads its parameters from a one-row subquery it is joined
to, so both plans are costed from the same figures: they are the same plan with the same
estimates, for a busy proposition and a quiet one, before and after the statistics are
refreshed, and the plan cache settles on the generic one instead of planning every answer again
(about 0.8 ms of the server's time each, with an estimate that followed whether the sample
counted the busy proposition as common). Both statements an answer may run (the rows in force
found by a scan of the proposition's, or by the interval tree) are held to it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import Connection

from ledger import Ledger, PropositionDefined, StatementMade
from ledger.times import to_micros
from projections import materialized
from tests.helpers import basics, statement

pytestmark = pytest.mark.postgresql

_SOURCES = ("kr-nis", "kcna")
_PARAMETER = re.compile(r"%\((\w+)\)s")


def _busy_ledger(lg: Ledger) -> None:
    """``troops`` with hundreds of statements, and a few quiet propositions beside it."""
    lg.append(basics())
    quiet = [PropositionDefined(f"quiet-{i}", f"quiet story {i}") for i in range(20)]
    lg.append(quiet)
    lg.append(
        [
            statement(
                f"s{i}",
                source=_SOURCES[i % 2],
                stance=("assert", "deny", "confirm", "retract")[i % 4],
                when=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            )
            for i in range(400)
        ]
    )
    lg.append(
        [StatementMade(f"q{i}", "kr-nis", f"quiet-{i}", "assert", "2024-06-01") for i in range(20)]
    )


def _plan(conn: Connection, mode: str, params: dict[str, Any], past: bool, scan: bool) -> Any:
    conn.exec_driver_sql(f"SET plan_cache_mode = {mode}")
    sql = materialized._ANSWER_SQL["postgresql", past, scan]
    # an EXPLAIN of the statement as prepared, with these values bound
    names = list(dict.fromkeys(_PARAMETER.findall(sql)))
    numbered = _PARAMETER.sub(lambda m: f"${names.index(m[1]) + 1}", sql)
    conn.exec_driver_sql(f"PREPARE answer AS {numbered}")
    values = ", ".join(_literal(params[name], materialized._PG_TYPES[name]) for name in names)
    row = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE answer({values})").scalar_one()
    conn.exec_driver_sql("DEALLOCATE answer")
    plan = row[0] if isinstance(row, list) else json.loads(row)[0]
    return plan["Plan"]


def _literal(value: Any, type_: str) -> str:
    if isinstance(value, list):
        return f"CAST(ARRAY[{', '.join(str(int(v)) for v in value)}] AS {type_})"
    if isinstance(value, int):
        return f"CAST({value} AS {type_})"
    return "'" + str(value).replace("'", "''") + "'"


def _shape(node: dict[str, Any]) -> Any:
    """What a plan does, in which order, and what the planner estimated for each step; not the
    text of its conditions (a custom plan shows the values there, after costing)."""
    keep = {
        key: value
        for key, value in node.items()
        if key != "Plans" and not key.endswith(("Cond", "Filter"))
    }
    return keep, [_shape(child) for child in node.get("Plans", [])]


@pytest.mark.parametrize("scan", [True, False])
@pytest.mark.parametrize("past", [True, False])
def test_the_answer_is_planned_alike_for_any_question_and_with_or_without_its_values(
    pg_url: str, past: bool, scan: bool
) -> None:
    with Ledger.open(pg_url) as lg:
        _busy_ledger(lg)
        head = lg.head().recorded_at
        assert head is not None
        k = to_micros(head) if past else None
        questions = [
            ("troops", to_micros(head.replace(year=2024, month=6)), k),
            ("quiet-3", to_micros(head.replace(year=2024, month=1)), k),
            ("nowhere", 0, k),
        ]
        plans = []
        with lg.store.engine.connect() as conn:
            for _ in range(2):
                conn.exec_driver_sql("ANALYZE belief_stances")
                for p, a, at in questions:
                    params = materialized._answer_params("postgresql", p, a, at, scan=scan)
                    for mode in ("force_custom_plan", "force_generic_plan"):
                        plans.append(_shape(_plan(conn, mode, params, past, scan)))
            conn.rollback()
    assert all(plan == plans[0] for plan in plans), "the plan depends on the question"


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


@pytest.mark.parametrize("past", [True, False])
def test_a_scan_reads_the_index_in_its_order_on_a_ledger_of_busy_propositions(
    pg_url: str, past: bool
) -> None:
    """The scan's plan, made once for every proposition and run with bitmap scans off (as
    answers run), reads the proposition's range of the tree's index even where propositions
    average more rows in force than a scan reads: with no order asked for, the planner took a
    scan of the whole table as the cheaper way to any 257 rows (a quiet proposition's answer
    then read every row of the ledger, twice)."""
    with Ledger.open(pg_url) as lg:
        lg.append(basics())
        lg.append([PropositionDefined(f"busy-{j}", f"busy story {j}") for j in range(12)])
        lg.append(
            [
                StatementMade(f"b{j}-{i}", _SOURCES[i % 2], f"busy-{j}", "assert", "2024-06-01")
                for j in range(12)
                for i in range(300)
            ]
        )
        head = lg.head().recorded_at
        assert head is not None
        params = materialized._answer_params(
            "postgresql", "troops", to_micros(head), to_micros(head) if past else None, scan=True
        )
        with lg.store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE belief_stances")
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            nodes = _nodes(_plan(conn, "force_generic_plan", params, past, True))
            conn.rollback()
    stances = [n for n in nodes if n.get("Relation Name") == "belief_stances"]
    assert not [n for n in stances if n["Node Type"] == "Seq Scan"], stances
    scans = [n for n in stances if n.get("Index Name") == "ix_belief_stances_current"]
    assert len(scans) == 2, stances  # the rows in force, and their count
