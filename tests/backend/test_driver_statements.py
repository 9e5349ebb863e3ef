"""An append's statements that go straight through the driver's cursor (``ledger.store.driver``:
the projection's chain read, its deletes, revisions, inserts and checkpoint move, and the log's
inserts on SQLite) fail as any other statement does: a ledger error, nothing written."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from ledger import Ledger
from ledger.errors import StoreError
from tests.helpers import basics, statement

#: (table, operation): where a refusal makes the append fail, and which driver call it hits.
REFUSALS = [
    ("belief_stances", "INSERT"),  # the projection's new versions (bulk.insert_many)
    ("belief_stances", "UPDATE"),  # the earlier row's version closed (driver.run_many)
    ("belief_checkpoint", "UPDATE"),  # the checkpoint's move (driver.run)
    ("events", "INSERT"),  # the log's own insert (bulk.insert_many)
]


def _refuse(ledger: Ledger, table: str, operation: str) -> None:
    """A trigger that makes every ``operation`` on ``table`` fail inside the driver."""
    with ledger.store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    f"CREATE TRIGGER refuse BEFORE {operation} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused by a trigger'; END $$"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER refuse BEFORE {operation} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )


def _drop_refusal(ledger: Ledger, table: str) -> None:
    with ledger.store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER refuse"))
        else:
            conn.execute(text(f"DROP TRIGGER refuse ON {table}"))
            conn.execute(text("DROP FUNCTION refuse()"))


@pytest.mark.parametrize(("table", "operation"), REFUSALS)
def test_a_failing_write_is_a_store_error_and_appends_nothing(
    ledger: Ledger, table: str, operation: str
) -> None:
    ledger.append([*basics(), statement("s1", when="2024-10-18")])
    head = ledger.head().position
    _refuse(ledger, table, operation)
    with pytest.raises(StoreError, match="refused by a trigger") as raised:
        # a later statement by the same source: the log's insert, then the projection reads
        # the chain, closes the earlier row's version, inserts the new versions and moves
        # the checkpoint
        ledger.append([statement("s2", stance="deny", when="2024-10-20")])
    assert not isinstance(raised.value, sqlite3.Error)
    assert ledger.head().position == head  # nothing of the append was kept
    assert ledger.believed("troops", as_of="2024-10-21").status.value == "claimed"
    _drop_refusal(ledger, table)
    ledger.append([statement("s2", stance="deny", when="2024-10-20")])
    assert ledger.head().position == head + 1
    assert ledger.believed("troops", as_of="2024-10-21").status.value == "denied"
    assert ledger.verify().ok
