"""Fresh, isolated databases for one benchmark run, and their clean-up.

A :class:`Backend` hands out database URLs: a new SQLite file (WAL, as ``ledger.store.backends``
sets it up) in a temporary directory, or a new schema on a PostgreSQL server. Every URL it handed
out is removed by :meth:`Backend.close`. The peer gets its databases from the same place, so both
libraries run on the same disk and server.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

#: Where PostgreSQL runs unless ``BENCH_PG_URL`` (or the tests' ``LEDGER_TEST_PG_URL``) says.
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_url_from_env() -> str:
    return os.environ.get("BENCH_PG_URL") or os.environ.get("LEDGER_TEST_PG_URL") or DEFAULT_PG_URL


class Backend:
    """Hands out fresh database URLs of one kind and removes them all on :meth:`close`."""

    def __init__(self, name: str, new_url: Callable[[], str], close: Callable[[], None]):
        self.name = name
        self._new_url = new_url
        self._close = close

    def new_url(self) -> str:
        return self._new_url()

    def close(self) -> None:
        self._close()


def sqlite_backend(directory: Path | None = None) -> Backend:
    """SQLite files in a temporary directory (removed on close)."""
    root = Path(tempfile.mkdtemp(prefix="factledger-bench-", dir=directory))
    counter = iter(range(1_000_000))

    def new_url() -> str:
        return f"sqlite:///{root / f'db-{next(counter)}.db'}"

    return Backend("sqlite", new_url, lambda: shutil.rmtree(root, ignore_errors=True))


def _admin_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, isolation_level="AUTOCOMMIT")


def pg_reachable(url: str) -> str | None:
    """``None`` if the server answers, else why not (one line)."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as e:  # any failure to reach the server means the same thing here
        return f"{type(e).__name__}: {e}".splitlines()[0]
    finally:
        engine.dispose()


def postgres_backend(url: str) -> Backend:
    """A fresh schema per URL on the server at ``url`` (all dropped on close)."""
    admin = _admin_engine(url)
    schemas: list[str] = []

    def new_url() -> str:
        name = f"bench_{os.urandom(6).hex()}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        schemas.append(name)
        fresh = admin.url.update_query_dict({"options": f"-csearch_path={name}"})
        return fresh.render_as_string(hide_password=False)

    def close() -> None:
        with admin.connect() as conn:
            for name in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        schemas.clear()
        admin.dispose()

    return Backend("postgresql", new_url, close)


def schema_of(url: str) -> str:
    """The schema a URL from :func:`postgres_backend` (or the tests' fixtures) points at."""
    options = make_url(url).query.get("options", "")
    text_ = options if isinstance(options, str) else " ".join(options)
    for part in text_.split():
        if part.startswith("-csearch_path="):
            return part.removeprefix("-csearch_path=").split(",")[0]
    return "public"


def sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database:
        raise ValueError(f"not a SQLite file URL: {url}")
    return database


# -- what the tables take on disk ------------------------------------------------------------


def table_sizes(url: str) -> tuple[str, dict[str, int]]:
    """Bytes on disk per table (its indexes, and on PostgreSQL its TOAST, included), by name,
    and how they were measured. SQLite: the ``dbstat`` virtual table (pages of each table and
    index; free pages belong to none); without it, ``("unavailable", {})``. PostgreSQL:
    ``pg_total_relation_size`` of each table of the URL's schema (dead rows not yet vacuumed
    included: they are on disk)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_sizes(sqlite_path(url))
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')"
                ),
                {"schema": schema_of(url)},
            ).all()
    finally:
        engine.dispose()
    return "pg_total_relation_size", {str(name): int(size) for name, size in rows}


def _sqlite_sizes(path: str) -> tuple[str, dict[str, int]]:
    conn = sqlite3.connect(path)
    try:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
        try:
            pages = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.OperationalError:  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
            return "unavailable", {}
    finally:
        conn.close()
    sizes: dict[str, int] = {}
    for name, size in pages:
        table = owner.get(name, name)
        sizes[table] = sizes.get(table, 0) + int(size)
    return "dbstat", sizes


def split_sizes(sizes: dict[str, int]) -> dict[str, int]:
    """``events``, the derived ``belief_*`` tables together, and every other table together."""
    derived = sum(v for k, v in sizes.items() if k.startswith("belief_"))
    events = sizes.get("events", 0)
    return {"events": events, "derived": derived, "other": sum(sizes.values()) - events - derived}
