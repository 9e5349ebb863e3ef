"""Engine set-up per backend: the only place that knows SQLite from PostgreSQL.

SQLite (embedded default): WAL journal so readers never block the writer, a busy timeout so a
second writer waits instead of failing, foreign keys on, ``synchronous=FULL`` because an audit log
must survive power loss. Write transactions start with ``BEGIN IMMEDIATE`` so the write lock is
taken up front; a deferred transaction that upgrades to a writer later can deadlock and fail.

PostgreSQL (psycopg 3): writers serialize on a transaction-scoped advisory lock keyed by the
schema, so positions stay gapless and the hash chain linear. An advisory lock needs no privilege
beyond connecting, so it works for an insert-and-select-only writer role.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.pool import StaticPool

from ledger.errors import LedgerError

DEFAULT_URL = "sqlite:///ledger.db"
BUSY_TIMEOUT_MS = 30_000
_WRITE = "factledger_write"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, in_memory=parsed.database in (None, "", ":memory:"))
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        engine = create_engine(url)
        event.listen(engine, "connect", _postgresql_on_connect)
        return engine
    raise LedgerError(
        f"unsupported database URL {parsed.render_as_string()!r}: use sqlite:///FILE or "
        "postgresql+psycopg://USER@HOST/DB"
    )


def _sqlite_engine(url: str, *, in_memory: bool) -> Engine:
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to us: pysqlite's own BEGIN handling is deferred-only and
    # skips DDL, which would make migrations non-transactional.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        "foreign_keys=ON",
        "synchronous=FULL",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _postgresql_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # The ledger's queries are short index lookups. When statistics are missing (a table filled
    # in one transaction, autovacuum off) their estimated cost can cross jit_above_cost, and
    # compiling every such query costs far more than it could save.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET jit = off")
    dbapi_connection.autocommit = autocommit


def refresh_statistics(conn: Connection, tables: Sequence[str]) -> None:
    """After a bulk load, let PostgreSQL's planner see how big ``tables`` are now.

    Without statistics (never analyzed: autovacuum off, or the rows were written in this very
    transaction) PostgreSQL guesses that an ``IN (...)`` lookup on an index returns a large
    share of the table and scans it instead, which turned a million-event import quadratic.
    ANALYZE samples a bounded number of rows, counts this transaction's own inserts, and needs
    ownership of the table: for a role without it PostgreSQL skips it with a warning, which is
    harmless here. SQLite's planner trusts its indexes without statistics, so it gets nothing.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE " + ", ".join(tables))


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write(engine: Engine) -> Any:
    """A write transaction that holds the ledger's single-writer lock until it ends."""
    conn = engine.connect().execution_options(**{_WRITE: True})
    return _WriteTransaction(conn)


class _WriteTransaction:
    def __init__(self, conn: Connection):
        self.conn = conn

    def __enter__(self) -> Connection:
        self._tx = self.conn.begin()
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.factledger'))"
            )
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self.conn.close()
