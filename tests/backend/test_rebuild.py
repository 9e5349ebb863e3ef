"""Rebuilding the projection: the same rows whichever way it runs, progress as it goes, and on
PostgreSQL the fast path (the tables to itself) only when it can have them without holding
anybody up for long.
"""

from __future__ import annotations

import contextlib
import multiprocessing.process
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Index, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

import projections.chainfold as chainfold
import projections.forkfold as forkfold
import projections.forkroute as forkroute
import projections.materialized as materialized
from ledger import CorrectionMade, Event, Ledger, PropositionDefined, SourceRegistered
from ledger.errors import DamagedDatabase, LedgerError
from tests.backend.test_migrations import check_no_drift
from tests.backend.test_projection_properties import built, scenarios
from tests.conftest import Databases, pg_admin
from tests.helpers import as_role, basics, derived_rows, statement

PROPERTY = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(
    scenario=scenarios(),
    online=st.booleans(),
    run=st.sampled_from([1, 3, chainfold.RUN]),
    fold=st.sampled_from(["by chain", "by window", "skewed"]),
    processes=st.sampled_from([1, 2]),
)
def test_a_rebuild_online_or_not_leaves_the_rows_the_appends_left(
    databases: Databases,
    scenario: tuple[list[list[Event]], list[bool]],
    online: bool,
    run: int,
    fold: str,
    processes: int,
) -> None:
    """Folded by chain (in one partition, or in several: ``run`` events each; their folds
    shared with a forked worker or not), by window (as with too many corrected statements to
    keep), or by chain until a partition proves too big to fold in memory, then by window;
    verify's check folds the same way."""
    with built(databases, *scenario) as b, pytest.MonkeyPatch.context() as patch:
        incremental = derived_rows(b.ledger)
        patch.setattr(chainfold, "RUN", run)
        _two_processes(patch, processes == 2)
        if fold == "by window":
            patch.setattr(materialized, "correction_targets", lambda conn: None)
        if fold == "skewed":
            patch.setattr(chainfold, "PARTITION_MAX", 0)
        b.ledger.rebuild(online=online)
        assert derived_rows(b.ledger) == incremental
        assert b.ledger.verify().ok


def _story(lg: Ledger, statements: int = 30) -> None:
    lg.append(basics())
    for i in range(statements):
        source = "kr-nis" if i % 2 else "kcna"
        stance = ("assert", "deny", "confirm")[i % 3]
        lg.append([statement(f"s{i}", source, stance, f"2024-10-{1 + i % 28:02d}")])


@pytest.mark.parametrize("processes", [1, 2])
def test_a_rebuild_reports_its_progress_up_to_the_head_of_the_log(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    _story(ledger)
    monkeypatch.setattr(chainfold, "WINDOW", 7)  # several windows from a short log
    monkeypatch.setattr(chainfold, "RUN", 10)  # and several partitions
    _two_processes(monkeypatch, processes == 2)
    seen: list[tuple[int, int]] = []
    before = derived_rows(ledger)
    folded = ledger.rebuild(progress=lambda done, total: seen.append((done, total)))
    head = ledger.head()
    assert head is not None and folded == head.position
    assert [total for _, total in seen] == [head.position] * len(seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(done) > 1 and done[-1] == head.position
    assert derived_rows(ledger) == before


# -- PostgreSQL: who may take the tables, and for how long ------------------------------------


def _filenode(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT pg_relation_filenode('belief_stances')")).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.fixture
def writer_role() -> Iterator[str]:
    name = f"fl_rebuilder_{uuid.uuid4().hex[:8]}"
    yield name
    with pg_admin().connect() as conn:
        conn.execute(text(f"DROP OWNED BY {name}"))
        conn.execute(text(f"DROP ROLE IF EXISTS {name}"))


@pytest.mark.postgresql
def test_the_owner_rebuilds_into_fresh_tables_and_online_into_the_same(pg_url: str) -> None:
    with Ledger.open(pg_url) as lg:
        _story(lg)
        rows, first = derived_rows(lg), _filenode(pg_url)
        lg.rebuild()  # TRUNCATE: new, empty files, no dead rows left behind
        second = _filenode(pg_url)
        assert second != first and derived_rows(lg) == rows
        lg.rebuild(online=True)  # DELETE: the same files, readers read the old rows meanwhile
        assert _filenode(pg_url) == second and derived_rows(lg) == rows


_UNIQUE_INDEXES = (
    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "WHERE i.indrelid = CAST(:t AS regclass) AND i.indisunique ORDER BY c.relname"
)


@pytest.mark.postgresql
def test_the_owners_rebuild_leaves_the_schema_as_the_migrations_made_it(pg_url: str) -> None:
    # It drops the stance rows' key and every index but for the fold, and adds them again.
    with Ledger.open(pg_url) as lg:
        _story(lg)
        lg.rebuild()
        engine = create_engine(pg_url)
        try:
            with engine.connect() as conn:
                unique = conn.execute(text(_UNIQUE_INDEXES), {"t": "belief_stances"}).scalars()
                assert list(unique) == [materialized.KEY_INDEX]
            check_no_drift(engine)  # alembic check: names, columns, indexes, keys
        finally:
            engine.dispose()


@pytest.mark.postgresql
def test_a_rebuild_and_verify_find_every_correction_whatever_the_collation(pg_url: str) -> None:
    # Found by review: statement streams were a range of stream_id ('statement:' up to
    # 'statement;'), which under an ICU or libc locale orders otherwise and found none.
    with Ledger.open(pg_url) as lg:
        lg.append(basics())
        lg.append([statement("s1"), statement("s2", "kcna")])
        with lg.store.engine.begin() as conn:  # as a database made with that locale has it
            conn.execute(
                text(
                    "ALTER TABLE events ALTER COLUMN stream_id "
                    'TYPE varchar(140) COLLATE "en-US-x-icu"'
                )
            )
        lg.append([CorrectionMade("fix", "s1", "wrong day", changes={"stated_at": "2024-10-20"})])
        appended = derived_rows(lg)
        assert lg.verify().ok
        lg.rebuild()
        assert derived_rows(lg) == appended


@pytest.mark.postgresql
def test_a_role_that_does_not_own_the_tables_rebuilds_online(pg_url: str, writer_role: str) -> None:
    with Ledger.open(pg_url) as owner:
        _story(owner)
        owner.grant_writer(writer_role)
        rows, before = derived_rows(owner), _filenode(pg_url)
    with Ledger.open(as_role(pg_url, writer_role)) as writer:
        assert writer.rebuild() == 33
        assert derived_rows(writer) == rows
    assert _filenode(pg_url) == before


@pytest.mark.postgresql
def test_a_reader_in_a_long_transaction_does_not_hold_up_a_rebuild(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(materialized, "REBUILD_LOCK_WAIT_MS", 300)
    with Ledger.open(pg_url) as lg:
        _story(lg)
        rows, before = derived_rows(lg), _filenode(pg_url)
        reader = create_engine(pg_url)
        try:
            with reader.connect() as conn:
                conn.execute(text("SELECT count(*) FROM belief_stances")).scalar()  # holds its lock
                started = time.monotonic()
                lg.rebuild()
                waited = time.monotonic() - started
                # the reader still reads (its snapshot) in its open transaction
                assert conn.execute(text("SELECT count(*) FROM belief_stances")).scalar_one() > 0
        finally:
            reader.dispose()
        assert waited < 10  # gave up the lock after 0.3 s and went online; never waited it out
        assert _filenode(pg_url) == before and derived_rows(lg) == rows
        lg.rebuild()  # nobody reading now: the fast path again
        assert _filenode(pg_url) != before and derived_rows(lg) == rows


@pytest.mark.postgresql
def test_a_reader_that_deadlocks_with_a_rebuild_sends_it_online_not_into_an_error(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader in a transaction holds one derived table and then asks for another, which the
    rebuild's lock request has queued behind it: PostgreSQL breaks the cycle by failing one of
    them. Whichever it fails, the rebuild completes and leaves the same rows."""
    monkeypatch.setattr(materialized, "REBUILD_LOCK_WAIT_MS", 20_000)  # the deadlock comes first
    with Ledger.open(pg_url) as lg:
        _story(lg)
        rows = derived_rows(lg)
        reader = create_engine(pg_url)
        done: list[int] = []
        try:
            with reader.connect() as conn:
                conn.execute(text("SELECT count(*) FROM belief_checkpoint")).scalar_one()
                rebuilding = threading.Thread(target=lambda: done.append(lg.rebuild()))
                rebuilding.start()
                time.sleep(0.5)  # the rebuild now waits for belief_checkpoint
                with contextlib.suppress(DBAPIError):  # the reader may be the one failed
                    conn.execute(text("SELECT count(*) FROM belief_sources")).scalar_one()
                conn.rollback()
                rebuilding.join(timeout=60)
        finally:
            reader.dispose()
        assert done == [33]
        assert derived_rows(lg) == rows


def _corrected_late(ledger: Ledger) -> None:
    """A log whose later half corrects statements of its earlier half (moved to another
    proposition, another source, corrected twice, withdrawn, corrected before the split and
    again after it), and holds new sources and propositions, a redaction of one of them and
    one of a source of the earlier half."""
    ledger.append(basics())
    ledger.append([PropositionDefined("drones", "North Korean drones are in Russia")])
    for i in range(12):
        source = "kr-nis" if i % 2 else "kcna"
        stance = ("assert", "deny")[i % 2]
        ledger.append([statement(f"s{i}", source, stance, f"2024-10-{i + 1:02d}")])
    # corrected before the split and again after it: learned as corrected
    ledger.append([CorrectionMade("c0", "s4", "first fix", changes={"stance": "confirm"})])
    ledger.append([SourceRegistered("tass", "TASS", "state_media", "ru")])
    ledger.append([PropositionDefined("shells", "North Korean shells are in Russia")])
    ledger.append([CorrectionMade("c1", "s0", "other claim", changes={"proposition": "drones"})])
    ledger.append([CorrectionMade("c2", "s1", "other source", changes={"source": "tass"})])
    ledger.append([CorrectionMade("c3", "s2", "wrong day", changes={"stated_at": "2024-11-02"})])
    ledger.append([CorrectionMade("c4", "s2", "wrong again", changes={"stance": "confirm"})])
    ledger.append([CorrectionMade("c5", "s3", "never said", withdraw=True)])
    ledger.append([statement("s20", "tass", "confirm", "2024-12-01")])
    ledger.append([CorrectionMade("c6", "s20", "other claim", changes={"proposition": "shells"})])
    ledger.redact("source_registered/tass", reason="takedown", by="editor", scrub=False)
    ledger.append([CorrectionMade("c7", "s4", "second fix", changes={"stated_at": "2024-10-30"})])
    ledger.append([statement("s21", "kcna", "deny", "2024-12-02")])
    # a source copied in the earlier half, redacted in the later
    ledger.redact("source_registered/kcna", reason="takedown", by="editor", scrub=False)


def _rebuilt_in_two_parts(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rebuild with the routing split whatever the log's size; the events the worker routed
    (one entry per worker)."""
    routed: list[int] = []
    finish = forkroute.Routing.finish

    def spied(self: forkroute.Routing, conn: Any) -> Any:
        done = finish(self, conn)
        routed.append(-1 if done is None else done[0])
        return done

    monkeypatch.setattr(forkroute.Routing, "finish", spied)
    _two_processes(monkeypatch)
    monkeypatch.setattr(chainfold, "RUN", 2)  # a partition for every two events
    # split at the middle, where _corrected_late's story puts it (the share is a tuning
    # constant; the property test rebuilds random logs with the one the library uses)
    monkeypatch.setattr(forkroute, "EARLIER_SHARE", 0.5)
    ledger.rebuild()
    return routed


def _two_processes(monkeypatch: pytest.MonkeyPatch, two: bool = True) -> None:
    """Workers forked whatever the log's size and the machine's cores (or never)."""
    monkeypatch.setattr(forkfold, "PARALLEL_FROM", 0 if two else 10**12)
    monkeypatch.setattr(forkfold, "cores", lambda: 2)


def test_a_log_routed_in_two_parts_leaves_the_rows_one_routing_leaves(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker that routes the later half learns the fields, at the split, of the earlier
    statements its corrections name, and hands its copies to the rebuild's process
    (``projections.forkroute``)."""
    _corrected_late(ledger)
    incremental = derived_rows(ledger)
    routed = _rebuilt_in_two_parts(ledger, monkeypatch)
    head = ledger.head()
    assert head is not None and routed == [head.position - head.position // 2]
    assert derived_rows(ledger) == incremental
    assert ledger.verify().ok


def test_an_in_memory_ledger_is_routed_by_one_process(
    clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No other process sees an in-memory SQLite database: the rebuild routes it alone."""
    ledger = Ledger.open("sqlite://", clock=clock)
    try:
        _corrected_late(ledger)
        incremental = derived_rows(ledger)
        assert _rebuilt_in_two_parts(ledger, monkeypatch) == []
        assert derived_rows(ledger) == incremental
    finally:
        ledger.close()


def test_a_rebuild_that_cannot_fork_does_all_of_it_in_one_process(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No process to be had (memory, a limit on processes): the rebuild routes the later half
    and folds every partition itself, and leaves the same rows."""
    _two_processes(monkeypatch)
    _corrected_late(ledger)
    incremental = derived_rows(ledger)
    tried: list[str] = []

    def refused(process: multiprocessing.process.BaseProcess) -> None:
        tried.append(process.name)
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refused)
    assert _rebuilt_in_two_parts(ledger, monkeypatch) == []
    assert tried == ["factledger-route", "factledger-fold"]
    assert derived_rows(ledger) == incremental
    assert ledger.verify().ok


def test_a_routing_worker_that_cannot_connect_leaves_its_half_to_the_rebuild(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker without a connection (PostgreSQL's max_connections, a role's limit) says so
    before it routes anything; the rebuild routes its half and leaves the same rows."""
    _corrected_late(ledger)
    incremental = derived_rows(ledger)

    def refused(self: forkroute.LaterPart) -> Any:
        raise OperationalError("connect", None, Exception("too many clients already"))

    monkeypatch.setattr(forkroute.LaterPart, "connect", refused)
    assert _rebuilt_in_two_parts(ledger, monkeypatch) == [-1]  # came back with nothing
    assert derived_rows(ledger) == incremental
    assert ledger.verify().ok


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_routing_worker_that_fails_fails_the_rebuild_and_nothing_changes(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A failure after the worker began (a damaged log, the worker killed) is the rebuild's:
    raised as the worker raised it, or as a worker that ended without finishing; the rebuild
    rolls back, and the worker is gone."""
    _corrected_late(ledger)
    before = derived_rows(ledger)
    parent = os.getpid()
    workers: list[int] = []
    start = forkroute.Routing.__init__

    def started(self: forkroute.Routing, *args: Any) -> None:
        start(self, *args)
        workers.append(self.worker.pid or 0)

    def fails(self: forkroute.LaterPart, conn: Any, router: Any) -> None:
        if os.getpid() != parent:
            if how == "dies":
                os.kill(os.getpid(), signal.SIGKILL)
            raise DamagedDatabase("the later half is damaged")

    monkeypatch.setattr(forkroute.Routing, "__init__", started)
    monkeypatch.setattr(forkroute.LaterPart, "_learn", fails)
    expected = DamagedDatabase if how == "raises" else LedgerError
    with pytest.raises(expected, match="damaged" if how == "raises" else "without finishing"):
        _rebuilt_in_two_parts(ledger, monkeypatch)
    assert derived_rows(ledger) == before
    assert len(workers) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(workers[0], 0)  # stopped and reaped


def test_sqlite_index_builds_sort_with_helper_threads_and_leave_the_setting_as_found(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a rebuild's end only its own process works: SQLite's sorter may start helper
    threads for each index it builds (``PRAGMA threads``), and the connection goes back to
    the pool with the setting it had."""
    monkeypatch.setattr(forkfold, "cores", lambda: 2)
    seen: list[int] = []
    used: list[Any] = []  # the rebuild's own driver connection
    create = Index.create

    def spied(self: Any, bind: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(bind.exec_driver_sql("PRAGMA threads").scalar())
        used.append(bind.connection.driver_connection)
        create(self, bind, *args, **kwargs)

    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        _corrected_late(ledger)
        incremental = derived_rows(ledger)
        monkeypatch.setattr(Index, "create", spied)
        ledger.rebuild()
        assert seen and set(seen) == {materialized.SORTER_THREADS}
        assert derived_rows(ledger) == incremental
        assert used[0].execute("PRAGMA threads").fetchone() == (0,)
