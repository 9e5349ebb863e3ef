"""Engine set-up per backend: the only place in the store that knows SQLite from PostgreSQL.

The rest of the store asks capabilities (:func:`placeholder`, :func:`copies`,
:func:`binds_arrays`, :func:`has_roles`) and opens connections through :func:`reading` and
:func:`writing`, which translate driver errors (``ledger.store.dberrors``) once. The belief
projection (``projections/``) is a layer of its own that writes SQL specialized per backend for
speed (its read statement, its chain loads); it asks the same capabilities where it can.

SQLite (embedded default): WAL journal so readers never block the writer, a busy timeout so a
second writer waits instead of failing, foreign keys on, ``synchronous=FULL`` because an audit log
must survive power loss. Write transactions start with ``BEGIN IMMEDIATE`` so the write lock is
taken up front; a deferred transaction that upgrades to a writer later can deadlock and fail.

PostgreSQL (psycopg 3): writers serialize on the *writer lock*, ``LOCK TABLE … IN EXCLUSIVE
MODE`` on a table that writer roles may change and reader roles may only read (the first of
:data:`WRITER_LOCK_TABLES` that exists). Taking that mode needs UPDATE, DELETE or TRUNCATE on the
table, so a role granted only SELECT cannot take it, and cannot stall the writers by holding it;
EXCLUSIVE conflicts with itself and with every write, but not with plain reads (ACCESS SHARE).
The ``events`` table cannot serve: a writer role holds only INSERT on it, which allows ROW
EXCLUSIVE at most, a mode that does not exclude other writers. While the schema is being created
(none of those tables exists yet) the writer lock is a transaction-scoped advisory lock.

Either way the wait is bounded and said: see :mod:`ledger.store.retry`. A PostgreSQL connection that
does not complete within the connect timeout (default :data:`DEFAULT_CONNECT_TIMEOUT` seconds,
``LEDGER_CONNECT_TIMEOUT``, or ``?connect_timeout=N`` in the URL, which wins) is an error too.
"""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import StaticPool

from ledger.errors import ConnectTimeout, LedgerError, LockTimeout, StoreError
from ledger.store import checkpointer
from ledger.store.dberrors import translated
from ledger.store.retry import WaitBudget, current_budget, lock_timeout_from_env, seconds_from_env
from ledger.store.schema import EVENT_COLUMNS

DEFAULT_URL = "sqlite:///ledger.db"
#: Seconds a PostgreSQL connection may take to be established (psycopg's own default is 130).
DEFAULT_CONNECT_TIMEOUT = 10
CONNECT_TIMEOUT_ENV = "LEDGER_CONNECT_TIMEOUT"
#: PostgreSQL: tables whose EXCLUSIVE lock is the writer lock, the preferred first. A dedicated
#: ``writer_lock`` table is used as soon as a migration creates it; until then the projection's
#: ``belief_checkpoint``, which writer roles may update and reader roles only read.
WRITER_LOCK_TABLES = ("writer_lock", "belief_checkpoint")
#: How often (seconds) a waiting writer looks at who holds the lock and reports it.
WAIT_SLICE = 1.0
_WRITE = "factledger_write"
_ADVISORY_KEY = "hashtext(current_schema() || '.factledger')"
_TARGET = "factledger_writer_lock"  # connection info: the lock this connection took last time
_PRESENT = ", ".join(f"to_regclass('{t}') IS NOT NULL" for t in WRITER_LOCK_TABLES)
# A small write (see begin_write) plans once and never in parallel: its statements touch a few
# rows each, and a plan made once for all values takes a range over a parameter for a third of
# the table, enough at 1M events for two workers to start for a statement that reads one row.
_GENERIC = (
    "SET LOCAL plan_cache_mode = force_generic_plan; "
    "SET LOCAL max_parallel_workers_per_gather = 0; "
)
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
#: SQLite: the WAL frames a commit leaves before it copies them into the database file itself
#: (SQLite's default is 1,000). A daily delivery of 1,000 records into a ledger of 100k events
#: writes about 3,200 pages, so at the default every commit also checkpointed, writing and
#: syncing each page twice; at 8,000 a checkpoint comes every few deliveries and copies a page
#: the deliveries in between all changed (the upper levels and leaves of the random-keyed
#: indexes) once. A file database has that checkpoint made by a thread of its own
#: (:mod:`ledger.store.checkpointer`), woken at the same size; the commits' own stays, higher, as
#: a backstop (:data:`WAL_BACKSTOP`).
WAL_AUTOCHECKPOINT = checkpointer.WAKE_AT_FRAMES
WAL_BACKSTOP = checkpointer.WAKE_AT_FRAMES * checkpointer.BACKSTOP
#: SQLite: the page cache (KiB) of a write of at most :data:`WRITE_CACHE_ROWS` events (a batch:
#: the importer appends in batches of 5,000, so every import gets it). A delivery of 1,000
#: records dirties about 12.5 MiB of pages at 100k events; in SQLite's default 2 MiB they spilled
#: to the WAL before the commit and were read back and written again. It costs memory only
#: while a batch's rows are held: a one-file import of 100k records peaks at 143 MB instead of
#: 134 (and takes 8% less CPU). A single larger batch keeps the default: its rows already hold
#: more memory than the cache would.
WRITE_CACHE_KIB = 16 * 1024
WRITE_CACHE_ROWS = 5_000
_DEFAULT_CACHE = -2000  # SQLite's own default: 2,000 KiB
_CACHE = "factledger_cache_size"  # connection info: the cache_size this connection was given


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, in_memory=parsed.database in (None, "", ":memory:"))
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, connect_args=_pg_connect_args(parsed))
        event.listen(engine, "do_connect", _postgresql_connect)
        event.listen(engine, "connect", _postgresql_on_connect)
        return engine
    raise LedgerError(
        f"unsupported database URL {parsed.render_as_string()!r}: use sqlite:///FILE or "
        "postgresql+psycopg://USER@HOST/DB"
    )


# -- SQLite ------------------------------------------------------------------------------------


def _sqlite_engine(url: str, *, in_memory: bool) -> Engine:
    busy_ms = round(lock_timeout_from_env() * 1000)
    kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_ms / 1000}}
    if in_memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **kwargs)
    path = _plain_file(make_url(url))
    autocheckpoint = WAL_AUTOCHECKPOINT
    if path is not None:
        copier = checkpointer.Checkpointer(path)
        _CHECKPOINTERS[engine] = copier
        event.listen(engine, "engine_disposed", lambda _engine: copier.close())
        checkpointer.stop_with(engine, copier)
        autocheckpoint = WAL_BACKSTOP
    event.listen(
        engine,
        "connect",
        lambda conn, rec: _sqlite_on_connect(conn, rec, busy_ms, autocheckpoint),
    )
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


#: The checkpointer of each SQLite engine on a file (see :mod:`ledger.store.checkpointer`).
_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, checkpointer.Checkpointer] = (
    weakref.WeakKeyDictionary()
)


def _plain_file(url: URL) -> str | None:
    """The absolute path of an SQLite URL's database file; None in memory or for a URI
    (``?uri=true``: its options are the driver's to read, not ours)."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("uri"):
        return None
    return os.path.abspath(database)


def checkpointer_of(engine: Engine) -> checkpointer.Checkpointer | None:
    """The WAL checkpointer of an SQLite file's engine, if it has one."""
    return _CHECKPOINTERS.get(engine)


def _sqlite_on_connect(
    dbapi_connection: Any, _record: Any, busy_ms: int, autocheckpoint: int
) -> None:
    # Hand transaction control to us: pysqlite's own BEGIN handling is deferred-only and
    # skips DDL, which would make migrations non-transactional.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"busy_timeout={busy_ms}",
        "foreign_keys=ON",
        "synchronous=FULL",
        f"wal_autocheckpoint={autocheckpoint}",
        # the WAL file truncated as it starts over, so that its size tells what it holds
        f"journal_size_limit={checkpointer.WAL_KEEP_BYTES}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    require_json(cursor)
    cursor.close()


def require_json(cursor: Any) -> None:
    """Refuse an SQLite without its JSON functions, which answers read stance rows with
    (``projections.materialized``): built in since SQLite 3.38 (2022), and in most builds
    before it as the JSON1 extension. Said once, at connect, rather than at the first answer."""
    try:
        cursor.execute("SELECT json_array(1)")
    except sqlite3.OperationalError as e:
        raise LedgerError(
            f"this Python's SQLite ({sqlite3.sqlite_version}) has no JSON functions ({e}): "
            "factledger needs SQLite 3.38 or later, or a build with the JSON1 extension"
        ) from e


def _sqlite_on_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(_WRITE, False):
        _sqlite_begin_immediate(conn)
    else:
        conn.exec_driver_sql("BEGIN")


def _sqlite_begin_immediate(conn: Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting for another connection's write lock a slice at a time so the
    wait can be reported, until the budget is spent."""
    budget = current_budget()
    raw = conn.connection.driver_connection
    assert raw is not None
    saved = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    holder = f"another connection to {conn.engine.url.database}"
    try:
        while True:
            slice_ms = round(min(WAIT_SLICE, max(budget.remaining(), 0.0)) * 1000)
            raw.execute(f"PRAGMA busy_timeout = {slice_ms}")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except sa_exc.OperationalError as e:
                code = getattr(e.orig, "sqlite_errorcode", None) or 0
                if code & 0xFF not in _SQLITE_BUSY:  # extended codes: SQLITE_BUSY_RECOVERY, …
                    raise
            if budget.remaining() <= 0:
                raise _timed_out(
                    budget,
                    holder,
                    f"another connection holds the write lock of {conn.engine.url.database} "
                    "(a process writing to it, or one that left a write transaction open)",
                )
            budget.tell(holder)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {saved}")


# -- PostgreSQL --------------------------------------------------------------------------------


def connect_timeout_from_env() -> int:
    """The connect timeout in whole seconds: ``LEDGER_CONNECT_TIMEOUT``, else
    ``PGCONNECT_TIMEOUT`` (libpq's), else the default; at least 2, psycopg's minimum."""
    seconds = seconds_from_env(CONNECT_TIMEOUT_ENV, 0.0) or seconds_from_env(
        "PGCONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT
    )
    return max(2, int(seconds))


def _pg_connect_args(url: URL) -> dict[str, Any]:
    if "connect_timeout" in url.query:  # psycopg's own parameter, given in the URL: it wins
        return {}
    return {"connect_timeout": connect_timeout_from_env()}


def _postgresql_connect(dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
    """Connect as SQLAlchemy would, but turn psycopg's "connection timeout expired" into a
    :class:`ConnectTimeout` that names the server and the timeout."""
    try:
        return dialect.loaded_dbapi.connect(*cargs, **cparams)
    except dialect.loaded_dbapi.OperationalError as e:
        if "timeout expired" not in str(e):
            raise
        host = cparams.get("host") or "the default host"
        port = cparams.get("port") or 5432
        try:
            seconds = max(2, int(float(cparams.get("connect_timeout", 0))))
        except ValueError:
            seconds = DEFAULT_CONNECT_TIMEOUT
        raise ConnectTimeout(
            f"cannot connect to the PostgreSQL server at {host}:{port}: no answer within the "
            f"{seconds} s connect timeout (set ?connect_timeout=N in the URL or "
            f"{CONNECT_TIMEOUT_ENV})"
        ) from None


def _postgresql_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # The ledger's queries are short index lookups. When statistics are missing (a table filled
    # in one transaction, autovacuum off) their estimated cost can cross jit_above_cost, and
    # compiling every such query costs far more than it could save.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET jit = off")
    dbapi_connection.autocommit = autocommit


def _pg_lock(conn: Connection, budget: WaitBudget, generic_plans: bool = False) -> bool | None:
    """Try to take the writer lock within one slice of the budget, in the transaction just
    begun. True if taken; False if the slice ran out; None if the lock table chosen went away
    (choose again). The transaction is aborted unless the lock was taken. ``generic_plans``:
    see :func:`begin_write`."""
    import psycopg  # noqa: PLC0415 - only PostgreSQL engines get here

    raw = conn.connection.driver_connection
    assert raw is not None
    info = conn.connection.info
    if _TARGET not in info:
        info[_TARGET] = _best(raw.execute(f"SELECT {_PRESENT}").fetchone())
    target: str | None = info[_TARGET]
    slice_ms = max(1, round(min(WAIT_SLICE, budget.remaining()) * 1000))
    hold_ms = max(1, round(budget.timeout * 1000))
    try:
        with raw.cursor() as cur:
            cur.execute(
                f"SET LOCAL lock_timeout = {slice_ms}; {_GENERIC if generic_plans else ''}"
                f"{_take(target)}; "
                f"SELECT set_config('lock_timeout', '{hold_ms}', true), {_PRESENT}"
            )
            while cur.nextset():
                pass
            row = cur.fetchone()
    except psycopg.errors.LockNotAvailable:
        return False
    except psycopg.errors.UndefinedTable:
        info.pop(_TARGET)  # the table went away since: choose again
        return None
    except psycopg.errors.InsufficientPrivilege as e:
        raise StoreError(
            f"this role may not write to the ledger: {_first_line(e)} (only a role granted "
            "writing, `factledger db grant-writer`, may take the writer lock)"
        ) from None
    assert row is not None
    best = _best(row[1:])
    while best != target and _rank(best) < _rank(target):
        # A more preferred lock table was created (and committed) while we waited: take its
        # lock too, so that we also exclude the writers who now start with it.
        raw.execute(_take(best))
        target = info[_TARGET] = best
        best = _best(raw.execute(f"SELECT {_PRESENT}").fetchone())
    return True


def _best(present: Sequence[bool] | None) -> str | None:
    found = [t for t, here in zip(WRITER_LOCK_TABLES, present or (), strict=False) if here]
    return found[0] if found else None


def _rank(target: str | None) -> int:
    return len(WRITER_LOCK_TABLES) if target is None else WRITER_LOCK_TABLES.index(target)


def _take(target: str | None) -> str:
    if target is None:
        return f"SELECT pg_advisory_xact_lock({_ADVISORY_KEY})"
    return f"LOCK TABLE {target} IN EXCLUSIVE MODE"


_HOLDER = f"""
SELECT l.pid, a.application_name, a.usename, a.xact_start, now() - a.xact_start, a.query
FROM pg_locks AS l LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.granted AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (
    (l.locktype = 'relation' AND l.mode <> 'AccessShareLock' AND l.relation IN (
      SELECT to_regclass(t) FROM unnest(ARRAY{list(WRITER_LOCK_TABLES)!r}) AS t))
    OR (l.locktype = 'advisory' AND l.objsubid = 1
        AND l.objid = ({_ADVISORY_KEY}::bigint & 4294967295)::oid)
  )
ORDER BY a.xact_start NULLS LAST
LIMIT 1
"""


def _pg_holder(conn: Connection) -> tuple[str, str, int | None]:
    """Who holds the writer lock, as far as this role may see: a short form for progress
    reports, a long one for the final error, and the holder's pid."""
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        row = raw.execute(_HOLDER).fetchone()
    finally:
        raw.rollback()
    if row is None:
        return "another session", "another session, which has just let go of it", None
    pid, application, user, since, held, query = row
    short = f"pid {pid}" + (f" ({application!r})" if application else "")
    parts = [f"application {application!r}"] if application else []
    if user:
        parts.append(f"user {user}")
    long = f"pid {pid}" + (f" ({', '.join(parts)})" if parts else "")
    if since is None or query is None or query == "<insufficient privilege>":
        return short, long + "; what it is doing is not visible to this role", pid
    started = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    long += f", in a transaction since {started} ({held.total_seconds():.0f} s)"
    text = " ".join(str(query).split())
    long += f", last query: {text[:200]}{'…' if len(text) > 200 else ''}"
    return short, long, pid


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _timed_out(budget: WaitBudget, holder: str, details: str) -> LockTimeout:
    waited = budget.waited()
    return LockTimeout(
        f"gave up waiting for the writer lock after {waited:.0f} s (the lock timeout is "
        f"{budget.timeout:g} s: RetryPolicy(lock_timeout=...) or LEDGER_LOCK_TIMEOUT): it is "
        f"held by {details}",
        holder=holder,
        waited=waited,
    )


# -- both ----------------------------------------------------------------------------------------

# What the rest of the store may ask about the backend: capabilities, never the dialect's name.


def _postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def placeholder(conn: Connection) -> str:
    """The driver's mark for a positional parameter in driver-level SQL."""
    return "%s" if _postgresql(conn) else "?"


def copies(conn: Connection) -> bool:
    """Whether rows can be streamed in with ``COPY ... FROM STDIN`` (PostgreSQL, psycopg 3)."""
    return _postgresql(conn)


def binds_arrays(conn: Connection) -> bool:
    """Whether a list binds as one array parameter (``= ANY(%s)``) rather than one per item."""
    return _postgresql(conn)


def size_write_cache(conn: Connection, rows: int) -> None:
    """Give the write transaction of ``conn``, about to write ``rows`` events, its page cache
    (SQLite; see :data:`WRITE_CACHE_KIB`). PostgreSQL's buffers are the server's."""
    if _postgresql(conn):
        return
    want = -WRITE_CACHE_KIB if rows <= WRITE_CACHE_ROWS else _DEFAULT_CACHE
    info = conn.connection.info
    if info.get(_CACHE, _DEFAULT_CACHE) != want:
        conn.exec_driver_sql(f"PRAGMA cache_size = {want}")
        info[_CACHE] = want


def has_roles(conn: Connection) -> bool:
    """Whether the database has roles to grant (PostgreSQL; SQLite has file permissions)."""
    return _postgresql(conn)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reading, its driver errors translated into the ledger's own."""
    with translated(), engine.connect() as conn:
        yield conn


@contextmanager
def writing(engine: Engine, *, generic_plans: bool = False) -> Iterator[Connection]:
    """:func:`begin_write`, its driver errors translated into the ledger's own."""
    with translated(), begin_write(engine, generic_plans=generic_plans) as conn:
        yield conn


def refresh_statistics(conn: Connection, tables: Sequence[str]) -> None:
    """After a bulk load, let PostgreSQL's planner see how big ``tables`` are now.

    Without statistics (never analyzed: autovacuum off, or the rows were written in this very
    transaction) PostgreSQL guesses that an ``IN (...)`` lookup on an index returns a large
    share of the table and scans it instead, which turned a million-event import quadratic.
    ANALYZE samples a bounded number of rows, counts this transaction's own inserts, and needs
    ownership of the table: for a role without it PostgreSQL skips it with a warning, which is
    harmless here. SQLite's planner trusts its indexes without statistics, so it gets nothing.

    ``events`` is analyzed without its payload and hashes (:data:`UNPLANNED`): no query filters,
    joins or sorts on them, and their histograms were half the time of each ANALYZE of it (at
    100k events, 0.85-1.10 s against 0.37-0.51 s without them, on a loaded machine), which the
    projection pays inside an append every time its tables have grown by a tenth. (With a column
    list PostgreSQL leaves the table's change counter alone: autovacuum's own ANALYZE, where it
    runs, still comes when due and covers every column.)
    """
    if _postgresql(conn):
        conn.exec_driver_sql("ANALYZE " + ", ".join(_PLANNED.get(t, t) for t in tables))


#: Columns of tables that no query filters, joins or sorts on: ANALYZE leaves them out.
UNPLANNED = {"events": ("payload", "prev_hash", "hash")}
_PLANNED = {
    "events": "events (" + ", ".join(c for c in EVENT_COLUMNS if c not in UNPLANNED["events"]) + ")"
}


def begin_write(engine: Engine, *, generic_plans: bool = False) -> Any:
    """A write transaction that holds the ledger's single-writer lock until it ends.

    The lock is waited for within the current wait budget
    (:func:`ledger.store.retry.current_budget`), reported about once a second, and given up with
    :class:`LockTimeout` when the budget is spent.

    ``generic_plans`` (PostgreSQL): every prepared statement of the transaction runs the plan
    made once for it, not one made again for each execution's values (``plan_cache_mode``,
    set for this transaction only, in the lock's own round trip), and none in parallel
    (``max_parallel_workers_per_gather = 0``). For a write of a few events, whose statements
    each probe an index once per item whatever the values: see :data:`GENERIC_PLANS_UP_TO`."""
    conn = engine.connect().execution_options(**{_WRITE: True})
    return _WriteTransaction(conn, generic_plans)


#: A write of at most this many events runs its statements on generic plans (PostgreSQL; see
#: :func:`begin_write`). PostgreSQL estimates an array parameter's length from its value, so a
#: generic plan, which assumes 100 items, never looks cheaper than a custom one and its
#: statements were planned again at every execution: for a one-event ``Ledger.append`` at 100k
#: events, 0.2 ms of the 0.5 ms its first statement took (the planner weighing each of
#: ``belief_stances``' partial indexes for the chain read ahead), 3.19 -> 2.86 ms in all. Past a
#: few events the planning is a small share of a statement, and a custom plan, which knows how
#: many items there are, is the safer choice for a large one.
GENERIC_PLANS_UP_TO = 15


class _WriteTransaction:
    def __init__(self, conn: Connection, generic_plans: bool = False):
        self.conn = conn
        self.generic_plans = generic_plans

    def __enter__(self) -> Connection:
        try:
            if _postgresql(self.conn):
                self._begin_postgresql()
            else:
                self._tx = self.conn.begin()  # BEGIN IMMEDIATE waits: _sqlite_begin_immediate
        except BaseException:
            self.conn.close()
            raise
        return self.conn

    def _begin_postgresql(self) -> None:
        budget = current_budget()
        while True:
            self._tx = self.conn.begin()
            try:
                taken = _pg_lock(self.conn, budget, self.generic_plans)
                if taken:
                    return
            except BaseException:
                self._tx.rollback()
                raise
            self._tx.rollback()
            if taken is None:
                continue
            short, long, pid = _pg_holder(self.conn)
            if budget.remaining() <= 0:
                raise _timed_out(budget, short, long)
            budget.tell(short, pid)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        engine = self.conn.engine
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self.conn.close()
        copier = _CHECKPOINTERS.get(engine)
        if copier is not None and exc_type is None:
            copier.nudge()
