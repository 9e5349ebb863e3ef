"""The writer lock: only roles allowed to write can take it, a wait for it is bounded and said,
and giving up names who held it.

Issue 12: on PostgreSQL writers used to serialize on an advisory lock, which any role that can
connect may take, so a read-only role running ``select pg_advisory_lock(...), pg_sleep(75)``
stalled every import. Here a reader holds that old advisory key and every lock its privileges
allow while a writer appends; a held writer lock makes a writer give up after the configured
time with the holder named; and ``factledger import`` on a terminal says that it waits.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy import exc as sa_exc

from ledger import BusyError, Ledger, LedgerError, RetryPolicy, StoreError
from ledger.errors import LockTimeout
from ledger.store.backends import WRITER_LOCK_TABLES, begin_write, make_engine
from ledger.store.privileges import grant_reader, grant_writer
from ledger.store.retry import LockWait
from tests.conftest import pg_admin
from tests.helpers import as_role, basics, statement

BASELINE = Path(__file__).resolve().parents[1] / "data" / "good" / "baseline.jsonl"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def roles() -> Iterator[tuple[str, str]]:
    """A reader and a writer role with names of their own (roles are server-wide, and other
    test runs may use the same server at the same time)."""
    suffix = uuid.uuid4().hex[:8]
    names = (f"fl_reader_{suffix}", f"fl_writer_{suffix}")
    yield names
    with pg_admin().connect() as conn:
        for name in names:
            conn.execute(text(f"DROP OWNED BY {name}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {name}"))


def schema_of(url: str) -> str:
    return str(make_url(url).query["options"]).removeprefix("-csearch_path=")


def with_application(url: str, application: str) -> str:
    """On PostgreSQL, the URL with ``application_name`` set (how the holder is named)."""
    if not url.startswith("postgresql"):
        return url
    parsed = make_url(url).update_query_dict({"application_name": application})
    return parsed.render_as_string(hide_password=False)


def sqlite_path(url: str) -> str:
    return str(make_url(url).database)


def refused(conn: Connection, sql: str) -> str:
    """Run ``sql`` in a savepoint; it must fail. What the database said."""
    savepoint = conn.begin_nested()
    try:
        conn.execute(text(sql))
    except sa_exc.DBAPIError as e:
        savepoint.rollback()
        return str(e.orig)
    savepoint.rollback()
    raise AssertionError(f"the database allowed: {sql}")


# -- only writers can take the writer lock (PostgreSQL) -------------------------------------------


@pytest.mark.postgresql
def test_a_reader_holding_every_lock_it_may_take_does_not_stall_a_writer(
    pg_url: str, roles: tuple[str, str]
) -> None:
    reader_role, writer_role = roles
    with Ledger.open(pg_url) as owner:
        owner.append([*basics(), statement("s1")])
        grant_reader(owner.store.engine, reader_role)
        grant_writer(owner.store.engine, writer_role)
        with owner.store.engine.connect() as conn:
            tables = list(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                ).scalars()
            )
    assert "events" in tables and "belief_checkpoint" in tables

    reader: Engine = create_engine(as_role(pg_url, reader_role, "stalling-reader"))
    try:
        with reader.connect() as stall:
            # The attack of issue 12, with the key writers used to serialize on ...
            key = f"{schema_of(pg_url)}.factledger"
            stall.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})
            # ... and every table lock a SELECT-only role may hold, held open.
            for table in tables:
                stall.execute(text(f"LOCK TABLE {table} IN ACCESS SHARE MODE"))
            # The stronger modes, and row locks, are refused to it.
            for table in ("belief_checkpoint", "events"):
                for mode in ("ROW SHARE", "ROW EXCLUSIVE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE"):
                    said = refused(stall, f"LOCK TABLE {table} IN {mode} MODE")
                    assert "permission denied" in said
                assert "permission denied" in refused(stall, f"SELECT 1 FROM {table} FOR SHARE")

            waits: list[LockWait] = []
            policy = RetryPolicy(lock_timeout=10, on_wait=waits.append)
            with Ledger.open(as_role(pg_url, writer_role), retry=policy) as writer:
                appended = writer.append([statement("s2")])
                assert [r.position for r in appended.appended] == [5]
                assert writer.verify().ok
            assert waits == []  # it never even had to wait
    finally:
        reader.dispose()


@pytest.mark.postgresql
def test_a_reader_cannot_take_the_writer_lock_and_a_writer_can(
    pg_url: str, roles: tuple[str, str]
) -> None:
    reader_role, writer_role = roles
    with Ledger.open(pg_url) as owner:
        owner.append(basics())
        grant_reader(owner.store.engine, reader_role)
        grant_writer(owner.store.engine, writer_role)

    reader = make_engine(as_role(pg_url, reader_role))
    try:
        with pytest.raises(StoreError, match="permission denied") as caught, begin_write(reader):
            pass
        assert "may not write to the ledger" in str(caught.value)
    finally:
        reader.dispose()

    writer = make_engine(as_role(pg_url, writer_role))
    try:
        with begin_write(writer) as conn:
            held = conn.execute(
                text(
                    "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " WHERE l.pid = pg_backend_pid() AND l.mode = 'ExclusiveLock'"
                )
            ).all()
        # The lock is a table lock on one of the writer lock tables, not an advisory lock.
        assert [tuple(r) for r in held] == [("belief_checkpoint", "ExclusiveLock")]
        assert held[0][0] in WRITER_LOCK_TABLES
    finally:
        writer.dispose()


# -- a held lock: the wait is bounded, reported, and the error names the holder -------------------


def test_a_writer_gives_up_after_the_lock_timeout_naming_who_holds_the_lock(
    ledger_url: str, backend: str
) -> None:
    with Ledger.open(ledger_url) as setup:
        setup.append(basics())
    holder_engine = make_engine(with_application(ledger_url, "lock-holder-test"))
    waits: list[LockWait] = []
    policy = RetryPolicy(lock_timeout=2.5, on_wait=waits.append)
    try:
        with Ledger.open(ledger_url, retry=policy) as lg:
            with begin_write(holder_engine) as held:
                holder_pid = (
                    held.execute(text("SELECT pg_backend_pid()")).scalar()
                    if backend == "postgresql"
                    else None
                )
                with pytest.raises(LockTimeout) as caught:
                    lg.append([statement("s1")])
            message = str(caught.value)
            assert isinstance(caught.value, BusyError)
            assert message.startswith("gave up waiting for the writer lock after ")
            assert "the lock timeout is 2.5 s" in message
            if backend == "postgresql":
                assert f"held by pid {holder_pid} (application 'lock-holder-test'" in message
                assert "in a transaction since " in message
                assert "last query: SELECT pg_backend_pid()" in message
            else:
                path = sqlite_path(ledger_url)
                assert f"another connection holds the write lock of {path}" in message

            # Told about once a second, with the holder and a growing wait.
            assert len(waits) >= 1
            assert [w.waited for w in waits] == sorted(w.waited for w in waits)
            assert all(w.timeout == 2.5 for w in waits)
            if backend == "postgresql":
                assert {w.pid for w in waits} == {holder_pid}
                assert all(w.holder == f"pid {holder_pid} ('lock-holder-test')" for w in waits)
            else:
                path = sqlite_path(ledger_url)
                assert all(w.holder == f"another connection to {path}" for w in waits)
            assert str(waits[0]).startswith(
                f"waiting for the writer lock held by {waits[0].holder}"
            )

            # Nothing was appended; once the holder lets go, the same append goes through.
            assert lg.head().position == len(basics())
            assert [r.position for r in lg.append([statement("s1")]).appended] == [4]
            assert lg.verify().ok
    finally:
        holder_engine.dispose()


def test_a_wait_that_ends_in_time_succeeds_and_was_reported(ledger_url: str) -> None:
    """The holder lets go after about 1.5 s; the writer, allowed 20 s, then appends."""
    with Ledger.open(ledger_url) as setup:
        setup.append(basics())
    holder_engine = make_engine(ledger_url)
    waits: list[LockWait] = []
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with begin_write(holder_engine):
            taken.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(timeout=30)

        def report(wait: LockWait) -> None:
            waits.append(wait)
            if wait.waited >= 1.5:
                release.set()

        with Ledger.open(ledger_url, retry=RetryPolicy(lock_timeout=20, on_wait=report)) as lg:
            appended = lg.append([statement("s1")])
        assert [r.position for r in appended.appended] == [4]
        assert len(waits) >= 1
    finally:
        release.set()
        holder.join(timeout=30)
        holder_engine.dispose()


def test_the_lock_timeout_comes_from_the_environment(
    ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger.open(ledger_url) as setup:
        setup.append(basics())
    holder_engine = make_engine(ledger_url)
    monkeypatch.setenv("LEDGER_LOCK_TIMEOUT", "1.5")
    try:
        with (
            Ledger.open(ledger_url) as lg,
            begin_write(holder_engine),
            pytest.raises(LockTimeout, match=r"the lock timeout is 1\.5 s"),
        ):
            lg.append([statement("s1")])
    finally:
        holder_engine.dispose()


def test_a_lock_timeout_that_is_not_a_number_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for bad in ("abc", "0", "-3", "nan", "inf"):
        monkeypatch.setenv("LEDGER_LOCK_TIMEOUT", bad)
        with pytest.raises(LedgerError, match=f"LEDGER_LOCK_TIMEOUT='{bad}' is not a positive"):
            RetryPolicy().run(lambda: None)


# -- factledger import: the wait on a terminal, and off one ---------------------------------------


def run_import(url: str, *, terminal: bool, timeout: str = "3") -> tuple[int, str]:
    """``factledger import`` of the baseline in a child process with LEDGER_LOCK_TIMEOUT set;
    stderr a pseudo-terminal or a pipe. Its exit status and everything it wrote to stderr."""
    env = {
        **os.environ,
        "LEDGER_LOCK_TIMEOUT": timeout,
        "COLUMNS": "120",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("LEDGER_DB", None)
    args = [sys.executable, "-m", "ledger", "--db", url, "import", str(BASELINE)]
    if not terminal:
        done = subprocess.run(
            args, check=False, env=env, capture_output=True, text=True, timeout=120
        )
        return done.returncode, done.stderr
    master, slave = pty.openpty()
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                raise AssertionError("factledger import did not end")
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    return child.wait(timeout=120), b"".join(chunks).decode()


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_factledger_import_says_it_waits_on_a_terminal_and_only_fails_off_one(
    ledger_url: str, terminal: bool
) -> None:
    Ledger.open(ledger_url).close()  # an empty ledger
    holder_engine = make_engine(ledger_url)
    try:
        with begin_write(holder_engine):
            status, stderr = run_import(ledger_url, terminal=terminal)
    finally:
        holder_engine.dispose()

    assert status == 2
    lines = [line for line in stderr.replace("\r", "\n").splitlines() if line.strip()]
    final = lines[-1].replace("\x1b[2K", "")
    assert final.startswith("error: gave up waiting for the writer lock after ")
    waiting = [line for line in lines if "waiting for the writer lock held by" in line]
    if terminal:
        # Rewritten in place, about once a second: "... for 1 s", "... for 2 s", ...
        assert len(waiting) >= 1
        assert all(
            line.startswith("\x1b[2Kwaiting for the writer lock held by") for line in waiting
        )
        assert all(len(line) <= len("\x1b[2K") + 119 for line in waiting)  # COLUMNS=120
        assert re.search(r" for [123] s", waiting[-1])
    else:
        assert waiting == []
        assert stderr.count("\n") == 1  # the error, on one line, and nothing else
    with Ledger.open(ledger_url) as lg:
        assert lg.head().position == 0  # nothing imported
