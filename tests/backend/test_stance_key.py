"""The stance versions' key is a unique index (revision 0012), which a rebuild drops and builds.

Revision 0012 turned the table's declared key (statement_id, tx_from) into a unique index, so
that SQLite's rebuild can drop it during the fold as PostgreSQL's did, and dropped the unread
``tx_node`` column (the downgrade computes it again). These specify what must
not change with it: the rows survive the revision both ways, a version is still unique, the other
indexes come back as they were (partial ones included), and a rebuild leaves the schema as the
migrations made it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from ledger import CorrectionMade, Ledger
from ledger.store import migrate
from ledger.store.backends import make_engine
from projections.interval_index import fork
from projections.materialized import KEY_INDEX
from projections.tables import OPEN, belief_stances, key_of
from tests.backend.test_migrations import check_no_drift
from tests.conftest import FakeClock
from tests.helpers import basics, statement

KEY = ["statement_id", "tx_from"]


def _story(lg: Ledger) -> None:
    """A story with versions closed by corrections (and so a tx_node in revision 0011)."""
    lg.append(basics())
    lg.append([statement("s1"), statement("s2", "kcna", "deny")])
    lg.append([CorrectionMade("fix", "s1", "wrong day", changes={"stated_at": "2024-10-20"})])
    lg.append([CorrectionMade("fix2", "s2", "wrong day", changes={"stated_at": "2024-10-25"})])


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    with Ledger.open(ledger_url, clock=FakeClock()) as lg:
        _story(lg)
    eng = make_engine(ledger_url)
    yield eng
    eng.dispose()


def _rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(belief_stances).order_by(*KEY))]


def _indexes(engine: Engine) -> dict[str, tuple[tuple[str | None, ...], bool]]:
    return {
        str(i["name"]): (tuple(i["column_names"]), bool(i["unique"]))
        for i in inspect(engine).get_indexes(belief_stances.name)
    }


def _where(engine: Engine) -> dict[str, str]:
    """Each index's condition as the database gives it back (partial indexes)."""
    found: dict[str, str] = {}
    for i in inspect(engine).get_indexes(belief_stances.name):
        options = i.get("dialect_options", {})
        where = options.get(f"{engine.dialect.name}_where")
        if where is not None:
            found[str(i["name"])] = str(where)
    return found


def test_the_key_is_a_unique_index_not_a_primary_key(engine: Engine) -> None:
    assert [c.name for c in key_of(belief_stances)] == KEY
    assert inspect(engine).get_pk_constraint(belief_stances.name)["constrained_columns"] == []
    assert _indexes(engine)[KEY_INDEX] == (tuple(KEY), True)


def test_a_version_is_still_unique(engine: Engine) -> None:
    again = dict(zip(belief_stances.c.keys(), _rows(engine)[0], strict=True))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(belief_stances).values(again))


def test_the_revision_keeps_every_row_and_index_both_ways(engine: Engine) -> None:
    rows, indexes, where = _rows(engine), _indexes(engine), _where(engine)
    assert rows and len(where) == 3  # the chain, current and closed indexes are partial

    migrate.downgrade(engine, "0011")
    assert inspect(engine).get_pk_constraint(belief_stances.name)["constrained_columns"] == KEY
    assert _rows(engine) == rows
    # revision 0011's code wrote tx_node for the closed versions, and its verify expects it
    with engine.connect() as conn:
        nodes = conn.execute(text("SELECT tx_from, tx_to, tx_node FROM belief_stances")).all()
    closed = [(f, t, n) for f, t, n in nodes if t < OPEN]
    assert closed and all(n == fork(f, t) for f, t, n in closed)
    assert all(n is None for _, t, n in nodes if t == OPEN)
    without_key = {k: v for k, v in indexes.items() if k != KEY_INDEX}
    assert _indexes(engine) == without_key
    assert _where(engine) == where

    migrate.upgrade(engine, migrate.HEAD)
    assert _rows(engine) == rows
    assert _indexes(engine) == indexes
    assert _where(engine) == where
    check_no_drift(engine)


def test_a_rebuild_drops_the_key_for_the_fold_and_builds_it_again(ledger_url: str) -> None:
    with Ledger.open(ledger_url, clock=FakeClock()) as lg:
        _story(lg)
        eng = make_engine(ledger_url)
        try:
            rows, indexes = _rows(eng), _indexes(eng)
            lg.rebuild()
            assert _rows(eng) == rows
            assert _indexes(eng) == indexes
            check_no_drift(eng)
        finally:
            eng.dispose()
