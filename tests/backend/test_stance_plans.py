"""Each part of an answer reads the index meant for it (revisions 0006 and 0008).

SQLite plans without statistics. Before revision 0006 it served the stab over closed versions
from a range of ``tx_to`` alone, which read every version of the proposition closed after the
question's known_at, and a left-of-the-instant stab from a range of ``valid_from``, which read
every row of the node. The answer statement now leaves the index one range per stab; this test
pins that, on a ledger with closed and open versions. (Answers themselves are checked against
the reference fold by the property tests; this only says how they are read.)
"""

from __future__ import annotations

import re

from ledger import Ledger
from projections import materialized
from tests.helpers import basics, statement


def _plan(lg: Ledger, sql: str, params: dict[str, object]) -> list[str]:
    with lg.store.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
    return [str(row[-1]) for row in rows]


def _answer_plan(*, scan: bool) -> list[str]:
    """The plan of an answer at a past known_at, on a ledger with closed and open versions."""
    with Ledger.open("sqlite://") as lg:
        lg.append(basics())
        lg.append([statement(f"s{i}", when=f"2024-10-{10 + i:02d}") for i in range(5)])
        lg.append([statement("late", source="kcna", stance="deny", when="2024-10-12")])
        params = materialized._answer_params("sqlite", "troops", 1, 2, scan=scan)
        return _plan(lg, materialized._ANSWER_SQL["sqlite", True, scan], params)


def test_every_stab_of_an_answer_is_an_index_search_on_its_tree() -> None:
    plan = _answer_plan(scan=False)
    searches = [line for line in plan if "belief_stances" in line]
    assert not [line for line in searches if line.startswith("SCAN")], plan
    current = [line for line in searches if "ix_belief_stances_current" in line]
    closed = [line for line in searches if "ix_belief_stances_closed" in line]
    assert len(current) == 2, plan  # the stabs left and right of the instant
    assert len(closed) == 1, plan  # the versions closed since known_at
    # left of the instant the range is the period's end; the closed versions are one range of
    # tx_to after known_at (revision 0008)
    assert re.search(r"node=\? AND reach_to>\?", current[0]), current
    assert re.search(r"proposition_id=\? AND tx_to>\? AND tx_to<\?", closed[0]), closed


def test_a_scan_reads_one_range_of_the_entries_in_force_and_fetches_only_its_rows() -> None:
    plan = _answer_plan(scan=True)
    searches = [line for line in plan if "belief_stances" in line]
    assert not [line for line in searches if line.startswith("SCAN")], plan
    current = [line for line in searches if "ix_belief_stances_current" in line]
    # the rows in force, and how many there are: each one range of the proposition's entries
    # (read from the index: the row's seek is deferred, and nothing asks a column of it)
    assert len(current) == 2, plan
    assert all(line.endswith("(proposition_id=?)") for line in current), plan
    # only the rows an answer returns are fetched, by rowid
    assert [line for line in searches if "rowid=?" in line], plan
