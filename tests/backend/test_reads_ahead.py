"""Reads ahead: a ``within`` names the reads it will make before the append writes anything, and
on PostgreSQL the store sends them in its lookup statement (``ledger.store.append.ReadsAhead``).
The projection reads its chains that way; what it folds must be what it would have read itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from unittest import mock

from sqlalchemy import Connection, event

from ledger import Event, Ledger
from ledger.store.append import Read
from projections import materialized
from tests.helpers import basics, derived_rows, statement


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


def _statements(lg: Ledger) -> list[str]:
    sent: list[str] = []
    event.listen(lg.store.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def test_an_append_folds_the_chains_it_read_ahead_and_leaves_the_rows_of_a_rebuild(
    ledger: Ledger,
) -> None:
    ledger.append(basics())
    ledger.append([statement("s1", when="2024-10-18"), statement("s2", "kcna", "deny")])
    sent = _statements(ledger)
    ledger.append([statement("s3", when="2024-10-01", value=3, unit="battalions")])
    ledger.append([statement("s4", "kcna", "retract", when="2024-11-01")])
    reads = [s for s in sent if "belief_stances" in s and not s.lstrip().startswith("WITH")]
    if ledger.store.engine.dialect.name == "postgresql":
        assert reads and all(s.lstrip().startswith("SELECT 0 AS tag") for s in reads)
    folded = derived_rows(ledger)
    ledger.projection.rebuild()
    assert derived_rows(ledger) == folded


def test_chain_rows_read_ahead_from_a_later_valid_time_are_read_again(ledger: Ledger) -> None:
    ahead = materialized._ChainsAhead(['["troops", "kr-nis", 100, null]'])
    chain = ("troops", "kr-nis")
    with (
        ledger.store.engine.connect() as conn,
        mock.patch.object(materialized, "_chain_rows", return_value=iter(())) as read,
    ):
        assert ahead.rows(conn, {chain: 100}) == []
        read.assert_not_called()  # covered: the chain has no rows from 100 on
        ahead.rows(conn, {chain: 99})
        read.assert_called_once_with(conn, {chain: 99})
        ahead.rows(conn, {("troops", "kcna"): 100})
        assert read.call_count == 2  # a chain not read ahead at all
