"""Concurrent writers: 8 OS processes append 2,000 statements each to one ledger, on SQLite (WAL)
and PostgreSQL. Nothing is lost, nothing doubled, the chain stays linear, nobody dies of a lock."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier

import pytest
from sqlalchemy import func, select

from ledger import (
    ConcurrencyConflict,
    CorrectionMade,
    Ledger,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)
from ledger.store.schema import events

WRITERS = 8
PER_WRITER = 2_000
PROPOSITIONS_PER_WRITER = 100
# Batch sizes cycle through singles, small and large batches; they sum to PER_WRITER.
BATCH_CYCLE = (1, 1, 7, 50, 1, 120, 3, 17)

START = datetime(2024, 1, 1, tzinfo=UTC)
SPAWN = multiprocessing.get_context("spawn")


def setup_events() -> list[SourceRegistered | PropositionDefined]:
    out: list[SourceRegistered | PropositionDefined] = [
        SourceRegistered(f"src-{w}", f"Writer {w}", "media") for w in range(WRITERS)
    ]
    out += [
        PropositionDefined(f"p-{w}-{i}", f"Proposition {w}/{i}", parties=[f"src-{w}"])
        for w in range(WRITERS)
        for i in range(PROPOSITIONS_PER_WRITER)
    ]
    return out


def batches(writer: int) -> list[list[StatementMade]]:
    stances = ("assert", "deny", "confirm", "no_comment", "retract", "refute")
    made = [
        StatementMade(
            f"w{writer}-s{n}",
            f"src-{(writer + n) % WRITERS}",
            f"p-{writer}-{n % PROPOSITIONS_PER_WRITER}",
            stances[n % len(stances)],
            # A newsroom's flow: mostly today's news, every seventh item a month back-dated.
            START + timedelta(days=n // 10 - (30 if n % 7 == 0 else 0)),
            value=n if n % 3 == 0 else None,
        )
        for n in range(PER_WRITER)
    ]
    out, i, k = [], 0, 0
    while i < len(made):
        size = BATCH_CYCLE[k % len(BATCH_CYCLE)]
        out.append(made[i : i + size])
        i, k = i + size, k + 1
    return out


def write(url: str, writer: int, barrier: Barrier, errors: multiprocessing.Queue[str]) -> None:
    try:
        with Ledger.open(url) as ledger:
            barrier.wait()
            for batch in batches(writer):
                ledger.append(batch)
    except BaseException:
        errors.put(f"writer {writer}: {traceback.format_exc()}")
        raise


def run_all(target: Callable[..., None], args_per_process: list[tuple[object, ...]]) -> list[str]:
    errors: multiprocessing.Queue[str] = SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args, errors)) for args in args_per_process]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
    found = []
    while not errors.empty():
        found.append(errors.get())
    dead = [p.exitcode for p in procs if p.exitcode != 0]
    return found + ([f"exit codes {dead}"] if dead else [])


@pytest.mark.slow
def test_eight_processes_append_concurrently_and_nothing_is_lost_or_doubled(
    ledger_url: str,
) -> None:
    with Ledger.open(ledger_url) as ledger:
        ledger.append(setup_events())
    barrier = SPAWN.Barrier(WRITERS)

    problems = run_all(write, [(ledger_url, w, barrier) for w in range(WRITERS)])

    assert problems == []
    with Ledger.open(ledger_url) as ledger:
        engine = ledger.store.engine
        with engine.connect() as conn:
            statements = conn.execute(
                select(func.count(), func.count(events.c.event_id.distinct())).where(
                    events.c.type == "statement_made"
                )
            ).one()
            total, last = conn.execute(select(func.count(), func.max(events.c.position))).one()
            streams = conn.execute(
                select(events.c.stream_id)
                .group_by(events.c.stream_id)
                .having(func.count() != func.max(events.c.stream_version))
            ).all()
        assert tuple(statements) == (WRITERS * PER_WRITER, WRITERS * PER_WRITER)
        assert total == last  # gapless from 1
        assert streams == []
        assert ledger.verify().ok
        # The projection kept up with every writer: it agrees with the fold.
        known_at = ledger.now()
        for proposition in ("p-0-0", f"p-{WRITERS - 1}-{PROPOSITIONS_PER_WRITER - 1}"):
            projected = ledger.believed(proposition, as_of="2024-03-01", known_at=known_at)
            folded = ledger.believed(proposition, as_of="2024-03-01", known_at=known_at, via="fold")
            assert projected == folded


def correct(url: str, name: str, barrier: Barrier, errors: multiprocessing.Queue[str]) -> None:
    fix = CorrectionMade(f"fix-{name}", "s1", f"{name} edits", changes={"value": 1})
    with Ledger.open(url) as ledger:
        barrier.wait()
        try:
            ledger.append([fix], expected_versions={"statement:s1": 1})
        except ConcurrencyConflict:
            errors.put(f"{name}: conflict")


def test_of_two_writers_expecting_the_same_version_exactly_one_wins(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        ledger.append(
            [
                SourceRegistered("a", "A", "media"),
                PropositionDefined("p", "P"),
                StatementMade("s1", "a", "p", "assert", "2024-01-01"),
            ]
        )
    barrier = SPAWN.Barrier(2)

    outcomes = run_all(correct, [(ledger_url, "one", barrier), (ledger_url, "two", barrier)])

    assert len(outcomes) == 1 and outcomes[0].endswith(": conflict")
    with Ledger.open(ledger_url) as ledger:
        assert ledger.stream_version("statement:s1") == 2
