"""What every import pays whatever its size: the statements of its lookups and its transaction.

A daily delivery of 1,000 records cost about 35-40 ms more on PostgreSQL than the same records
inside one large import. Most of it was the lookup's event ids: with ``event_id = ANY(...)`` the
planner judged 1,000 ids dearer to probe than to scan for, so each import read the whole log
twice (its check, then its append), longer the longer the log. The ids are now joined laterally,
one index probe each, as the streams already were. And an import no longer reads the head on
its own, twice: its transaction takes it from its first lookup, and its report from the result.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from ledger import Ledger, PropositionDefined, SourceRegistered, StatementMade
from ledger.jsonl import importer
from ledger.store import append
from tests.conftest import FakeClock, new_pg_schema


def _records(prefix: str, count: int) -> str:
    """A source, a proposition and ``count`` statements on it, as JSON Lines."""
    lines = [
        {"type": "source", "id": f"{prefix}-src", "name": "A source", "category": "media"},
        {"type": "proposition", "id": f"{prefix}-p", "text": "Something happened"},
    ]
    lines += [
        {
            "type": "statement",
            "id": f"{prefix}-s{i}",
            "source": f"{prefix}-src",
            "proposition": f"{prefix}-p",
            "stance": "assert",
            "stated_at": "2024-10-18",
        }
        for i in range(count)
    ]
    return "".join(json.dumps(line) + "\n" for line in lines)


def _sent(lg: Ledger) -> list[str]:
    sent: list[str] = []
    event.listen(lg.store.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def _head_reads(sent: list[str]) -> list[str]:
    """The statements that read the head on their own (``append.head_of``)."""
    return [s for s in sent if "ORDER BY events.position DESC" in " ".join(s.split())]


@pytest.mark.postgresql
def test_postgresql_looks_up_many_event_ids_by_index_not_by_scanning_the_log() -> None:
    url, drop = new_pg_schema()
    try:
        with Ledger.open(url) as lg:
            lg.append([SourceRegistered(f"s{i}", f"Source {i}", "media") for i in range(300)])
            lg.append([PropositionDefined(f"p{i}", f"Proposition {i}") for i in range(300)])
            stored = {e.event_id.hex: e for e in lg.read()}
            with lg.store.engine.connect() as conn:
                known = [
                    str(row[0])
                    for row in conn.execute(text("SELECT event_id FROM events ORDER BY position"))
                ]
                new = [f"00000000-0000-5000-8000-{i:012d}" for i in range(1000)]
                ids, streams = known[:200] + new, ["source:s1", "statement:none"]
                conn.execute(text("ANALYZE events"))  # statistics that know the table is small
                plan = "\n".join(
                    row[0][:120]  # not the 1,200 ids
                    for row in conn.exec_driver_sql(
                        "EXPLAIN " + append._PG_LOOKUP, (sorted(ids), streams)
                    )
                )
                found = append.lookup(conn, ids, streams)
        assert "Seq Scan" not in plan, plan
        assert "uq_events_event_id" in plan, plan
        assert set(found.stored) == set(known[:200])
        first = stored[known[0].replace("-", "")]
        assert found.stored[known[0]].stream_id == first.stream_id
        assert found.versions == {"source:s1": 1}
        assert found.head.position == 600
    finally:
        drop()


def test_an_import_reads_the_head_only_with_its_lookups(ledger: Ledger) -> None:
    ledger.import_jsonl(io.StringIO(_records("a", 3)))
    sent = _sent(ledger)
    report = ledger.import_jsonl(io.StringIO(_records("b", 3)))
    assert _head_reads(sent) == []
    head = ledger.head()
    assert (report.appended, report.head_position, report.head_hash) == (5, 10, head.hash)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(importer, "BATCH", 2)
    yield


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("how", [{"atomic": True}, {"chunk_size": 3}, {}])
def test_an_import_in_batches_or_chunks_reports_the_head_its_last_transaction_left(
    ledger: Ledger, how: dict[str, Any]
) -> None:
    ledger.import_jsonl(io.StringIO(_records("a", 1)))
    before = ledger.head()
    report = ledger.import_jsonl(io.StringIO(_records("b", 7)), **how)
    head = ledger.head()
    assert (report.appended, report.head_position, report.head_hash) == (9, 12, head.hash)
    times = [e.recorded_at for e in ledger.read(after=before.position)]
    assert before.recorded_at is not None and min(times) > before.recorded_at
    if how.get("chunk_size"):  # a transaction, and a recorded_at, per chunk
        assert sorted(set(times)) == sorted(set(times), key=times.index)
        assert len(set(times)) == 3
    else:  # one transaction of five batches: one recorded_at
        assert len(set(times)) == 1


def test_an_import_that_appends_nothing_reports_the_head_as_it_is(ledger: Ledger) -> None:
    first = ledger.import_jsonl(io.StringIO(_records("a", 3)))
    sent = _sent(ledger)
    again = ledger.import_jsonl(io.StringIO(_records("a", 3)))
    assert (again.appended, again.skipped) == (0, 5)
    assert (again.head_position, again.head_hash) == (first.head_position, first.head_hash)
    assert _head_reads(sent) == []  # the append's lookup read it
    empty = ledger.import_jsonl(io.StringIO("\n"))
    assert (empty.records, empty.head_position, empty.head_hash) == (
        0,
        first.head_position,
        first.head_hash,
    )


class CountingClock(FakeClock):
    def __init__(self) -> None:
        super().__init__(step=timedelta(milliseconds=1))
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return super().__call__()


def test_batches_in_one_transaction_read_the_clock_once_after_the_head(ledger_url: str) -> None:
    clock = CountingClock()
    with Ledger.open(ledger_url, clock=clock) as lg:
        lg.append([SourceRegistered("src", "A source", "media"), PropositionDefined("p", "P")])
        before = lg.head()
        clock.set(clock.now - timedelta(days=1))  # a clock behind the log: the head wins
        clock.readings = 0
        batches = [
            [StatementMade(f"s{i}-{j}", "src", "p", "assert", "2024-10-18") for j in range(2)]
            for i in range(3)
        ]
        result = lg.append_batches(batches)
        assert clock.readings == 1
        assert (result.appended, result.batches) == (6, 3)
        assert result.head == lg.head()
        times = {e.recorded_at for e in lg.read(after=before.position)}
        assert before.recorded_at is not None
        assert times == {before.recorded_at + timedelta(microseconds=1)}
        nothing = lg.append_batches([])
        assert (nothing.appended, nothing.batches, nothing.head) == (0, 0, lg.head())
        assert clock.readings == 1  # nothing written: the clock is not read
