"""Reads ahead: a ``within`` names the reads it will make before the append writes anything, and
on PostgreSQL the store sends them in its lookup statement (``ledger.store.append.ReadsAhead``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from ledger import Event, Ledger
from ledger.store.append import Read
from tests.helpers import basics, statement


class Recorder:
    """A ``within`` that reads ahead the stream ids of the log's events of one type."""

    def __init__(self) -> None:
        self.ahead: list[list[str]] = []

    def reads_ahead(self, conn: Connection, events: Sequence[Event]) -> Sequence[Read]:
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        return [(f"SELECT stream_id FROM events WHERE type = {mark}", ("source_registered",))]

    def __call__(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        self.ahead = getattr(rows, "ahead")  # noqa: B009 - the store's Rows, seen as a Sequence


def test_a_read_ahead_gives_what_the_read_gives_alone_on_postgresql_and_is_not_sent_elsewhere(
    ledger: Ledger,
) -> None:
    ledger.append(basics())
    recorder = Recorder()
    ledger.store.append([statement("s1")], within=recorder)
    if ledger.store.engine.dialect.name != "postgresql":
        assert recorder.ahead == []  # no round trip to save: within reads for itself
        return
    assert [sorted(rows) for rows in recorder.ahead] == [["source:kcna", "source:kr-nis"]]
