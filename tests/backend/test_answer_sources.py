"""An answer reads the sources its policy asks about together, not one statement per source.

The policy asks each live stance's source for its role; the projection keeps the sources it
decoded. A fresh process used to read each source it had not decoded yet with a statement of its
own, on a 1M ledger a quarter of its first 500 answers; now an answer reads all of a small
ledger's sources at once, or a large one's missing ones together. Which sources an answer may
see is unchanged: one registered after its known_at is not known to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from ledger import Ledger, SourceRegistered, StatementMade
from projections import materialized
from tests.conftest import FakeClock
from tests.helpers import basics, statement


@contextmanager
def _statements(lg: Ledger) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql)

    event.listen(lg.store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(lg.store.engine, "before_cursor_execute", count)


def _many_sources(lg: Ledger, n: int) -> None:
    lg.append(basics())
    lg.append([SourceRegistered(f"src-{i}", f"Source {i}", "media", "ua", "C") for i in range(n)])
    lg.append([statement(f"s{i}", source=f"src-{i}") for i in range(n)])


def test_a_fresh_ledger_object_reads_an_answers_sources_in_one_statement(
    ledger_url: str, clock: FakeClock
) -> None:
    with Ledger.open(ledger_url, clock=clock) as lg:
        _many_sources(lg, 30)
    with Ledger.open(ledger_url, clock=clock) as lg, _statements(lg) as seen:
        verdict = lg.believed("troops")
    assert len(verdict.supporters) == 30
    assert len([sql for sql in seen if "belief_sources" in sql]) == 1, seen


def test_a_large_ledger_reads_only_the_missing_sources_together(
    ledger_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(materialized, "_SOURCES_AT_ONCE", 10)
    with Ledger.open(ledger_url, clock=clock) as lg:
        _many_sources(lg, 30)
    with Ledger.open(ledger_url, clock=clock) as lg, _statements(lg) as seen:
        assert len(lg.believed("troops").supporters) == 30
        assert len(lg.believed("troops").supporters) == 30
    # the first attempt finds more than ten and reads the thirty it needs; the second, none
    assert len([sql for sql in seen if "belief_sources" in sql]) == 2, seen


def test_a_source_registered_after_known_at_is_still_unknown_to_the_answer(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.append(basics())
    ledger.append([statement("s1", source="kcna", stance="confirm")])
    before = clock.now
    clock.set(clock.now + timedelta(days=1))
    ledger.append([SourceRegistered("late", "Late source", "court", "ua", "A")])
    ledger.append([StatementMade("s2", "late", "troops", "refute", "2024-10-19")])
    # a party's confirm decides, as known before the court registered
    assert ledger.believed("troops", known_at=before).status.value == "confirmed"
    # afterwards the court's refute is later, and an authority's
    assert ledger.believed("troops").status.value == "refuted"
