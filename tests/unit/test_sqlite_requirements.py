"""The SQLite a ledger opens must have the JSON functions answers read stance rows with."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from ledger.errors import LedgerError
from ledger.store.backends import require_json


class _NoJson:
    """A cursor of an SQLite built without JSON1: the function is unknown."""

    def execute(self, sql: str) -> Any:
        raise sqlite3.OperationalError("no such function: json_array")


def test_an_sqlite_without_json_functions_is_refused_with_what_it_needs() -> None:
    with pytest.raises(LedgerError, match=r"3\.38 or later, or a build with the JSON1"):
        require_json(_NoJson())


def test_this_pythons_sqlite_has_them() -> None:
    connection = sqlite3.connect(":memory:")
    try:
        require_json(connection.cursor())  # raises if not
        assert connection.execute("SELECT json_array(1)").fetchone() == ("[1]",)
    finally:
        connection.close()
