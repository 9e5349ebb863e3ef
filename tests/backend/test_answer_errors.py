"""An answer's driver errors come out as the ledger's own errors, whichever path read the rows
(on SQLite the answer statement goes straight through the driver's cursor)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from ledger import Ledger
from ledger.errors import LedgerError
from tests.helpers import basics, statement


def test_a_dropped_stance_table_fails_an_answer_with_a_ledger_error(ledger: Ledger) -> None:
    ledger.append([*basics(), statement("s1")])
    assert ledger.believed("troops").status.value == "claimed"
    with ledger.store.engine.begin() as conn:
        conn.execute(text("DROP TABLE belief_stances"))
    with pytest.raises(LedgerError) as raised:
        ledger.believed("troops")
    assert not isinstance(raised.value, sqlite3.Error)
    assert "belief_stances" in str(raised.value)
