"""Proof that the derived tables are exactly what the log implies.

The hash chain proves the log; nothing in it covers ``belief_*``, which any role allowed to
write may change (they are rebuilt freely). A changed stance row would make ``believe`` lie
while the log verifies. So :func:`check` folds the log, up to the position the projection's
checkpoint claims, into a scratch SQLite database with the very code that maintains the real
tables (:class:`projections.stances.Batch`, through a rebuild's fold,
:func:`projections.chainfold.fold_by_chain`), and compares the two, table by table, row
by row, in key order, streaming both: the cost of a rebuild and a read, in bounded memory. Any
difference is named by the first proposition (or source) it concerns; ``rebuild`` repairs it.

The comparison is first made by the database itself (:func:`_same_rows`): each expected row
looked up by its key among the stored ones, and the two tables' row counts. Only if that finds
a difference are both streamed in key order through Python, to name the first one. On SQLite
the scratch database is attached to the connection that reads the stored tables; on PostgreSQL
the expected rows are folded into temporary tables of that connection's transaction instead
(a role that may not make them gets the scratch SQLite database, and the streamed comparison).
Streaming every row through Python made the check take 1.2-1.4 times a rebuild at 1M on both
backends; now it takes about as long as a rebuild (see BENCHMARKS.md, *Session 15*), as the
issue asks.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import zip_longest
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import (
    Connection,
    Engine,
    Index,
    MetaData,
    Table,
    create_engine,
    event,
    select,
)
from sqlalchemy.exc import DBAPIError

from ledger.store.dberrors import translated
from ledger.store.eventstore import EventStore
from ledger.store.schema import events
from projections.chainfold import Skewed, correction_targets, fold_by_chain
from projections.materialized import (
    CHAIN_INDEX,
    FORMAT,
    KEY_INDEX,
    NAME,
    QUERY_INDEXES,
    REBUILD_CACHE_KIB,
    fold_rows,
)
from projections.tables import (
    belief_checkpoint,
    belief_propositions,
    belief_sources,
    belief_stances,
    holding_rows,
    key_of,
)

#: The tables compared, each with the column that names what a difference concerns.
COMPARED: tuple[tuple[Table, str], ...] = (
    (belief_sources, "source_id"),
    (belief_propositions, "proposition_id"),
    (belief_stances, "proposition_id"),
)


@attrs.frozen
class DerivedReport:
    """Whether the derived tables are what the log up to ``position`` implies."""

    ok: bool
    position: int
    rows: int  # rows compared
    table: str | None = None
    concerns: str | None = None  # the first proposition (or source) that differs
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"derived tables ok: {self.rows} rows, as the log up to {self.position} implies"
        return f"derived tables TAMPERED: {self.problem}"


def check(store: EventStore, progress: Callable[[int], None] | None = None) -> DerivedReport:
    """Compare the derived tables with a fold of the log up to their checkpoint; ``progress``
    is told the fold's progress, counted in events up to the checkpoint's position (as
    :meth:`projections.materialized.MaterializedProjection.rebuild` tells it)."""
    with (
        translated(),
        tempfile.TemporaryDirectory(prefix="factledger-check-") as scratch,
        _snapshot(store.engine) as conn,
        _attached(conn, Path(scratch) / SCRATCH_FILE) as attached,
    ):
        return _check(store, conn, Path(scratch), attached, progress)


def _unvouched(conn: Connection, checkpoint: Any) -> str | None:
    """Why the derived tables' rows are not vouched for by ``checkpoint`` (missing, of another
    version of the projection, or at position 0), or None when no table holds a row."""
    held = holding_rows(conn)
    if not held:
        return None
    tables = ", ".join(held)
    if checkpoint is None:
        return (
            f"the derived tables ({tables}) hold rows, but the projection's checkpoint is gone: "
            "nothing says which events they came from (it was removed)"
        )
    if checkpoint.policy != FORMAT:
        return (
            f"the projection's checkpoint names format {checkpoint.policy!r}, not this "
            f"version's {FORMAT!r}: the rows of {tables} cannot be checked against the log "
            "(written by another version, or the checkpoint was altered; the next question "
            "rebuilds them)"
        )
    return (
        f"the projection's checkpoint says no event was folded, yet {tables} hold rows "
        "(the checkpoint was altered)"
    )


def _check(
    store: EventStore,
    conn: Connection,
    scratch: Path,
    attached: bool,
    progress: Callable[[int], None] | None,
) -> DerivedReport:
    """:func:`check` on ``conn`` (one snapshot), folding into ``scratch``; ``attached``: the
    scratch database is attached to ``conn`` as :data:`EXPECTED` (SQLite)."""
    checkpoint = conn.execute(
        select(belief_checkpoint).where(belief_checkpoint.c.name == NAME)
    ).first()
    if checkpoint is None or checkpoint.policy != FORMAT or checkpoint.position == 0:
        # Nothing folded yet: sound only if nothing is stored either (the next question builds
        # the tables from the log). Rows with no checkpoint of this version to say which
        # events they came from cannot be checked, and a catch-up may fold on top of them.
        unvouched = _unvouched(conn, checkpoint)
        if unvouched is None:
            return DerivedReport(True, 0, 0)
        return DerivedReport(
            False, 0, 0, "belief_checkpoint", None, unvouched + ": see `factledger rebuild`"
        )
    position, claimed = int(checkpoint.position), checkpoint.hash
    actual = conn.execute(select(events.c.hash).where(events.c.position == position)).scalar()
    if actual != claimed:
        if actual is None:
            problem = (
                f"the projection's checkpoint says the log reached position {position}, "
                "and it no longer does: its tail is missing (or the checkpoint was altered)"
            )
        else:
            problem = (
                f"the projection's checkpoint says position {position} has hash {claimed}, "
                f"the log has {actual}: the log was rewritten (or the checkpoint altered)"
            )
        return DerivedReport(
            False,
            position,
            0,
            "belief_checkpoint",
            None,
            problem + ": see `factledger rebuild`",
        )
    targets = correction_targets(conn, until=position)
    if not attached and conn.dialect.name == "postgresql":
        stored = _stored_schema(conn)
        if _temporary_tables(conn, stored):
            _fold_in_place(store, conn, position, targets, progress)
            rows = _same_rows(conn, stored, "pg_temp")
            if rows is not None:
                return DerivedReport(True, position, rows)
            return _compare(conn, conn, position, (stored, "pg_temp"))
    expected = _expected(
        store, scratch / SCRATCH_FILE, position, targets, progress, keyed=not attached
    )
    try:
        if attached:
            expected.dispose()  # written: the attached file is read through ``conn``
            rows = _same_rows(conn, "main", EXPECTED)
            if rows is not None:
                return DerivedReport(True, position, rows)
        with expected.connect() as sconn:
            return _compare(conn, sconn, position)
    finally:
        expected.dispose()


#: The scratch database's file in the check's temporary directory, and its name when attached.
SCRATCH_FILE = "expected.db"
EXPECTED = "factledger_expected"


@contextmanager
def _attached(conn: Connection, path: Path) -> Iterator[bool]:
    """On SQLite, attach the (not yet written) scratch database at ``path`` to ``conn`` before
    its snapshot's first read (SQLite attaches outside a transaction only), and detach it
    afterwards, the snapshot over; yields whether it did. The scratch file is written by a
    connection of its own meanwhile: ``conn`` takes its lock on the file only when it first
    reads it, once the fold is done."""
    if conn.dialect.name != "sqlite":
        yield False
        return
    raw: Any = conn.connection.driver_connection
    raw.execute(f"ATTACH DATABASE ? AS {EXPECTED}", (str(path),))
    try:
        yield True
    finally:
        conn.rollback()  # the snapshot ends: the attached file's lock with it
        try:
            raw.execute(f"DETACH DATABASE {EXPECTED}")
        except raw.Error:
            # never hand the pool a connection with a stray database attached
            conn.invalidate()


def _temporary_tables(conn: Connection, stored: str) -> bool:
    """On PostgreSQL, make the expected tables temporary tables of ``conn``'s transaction,
    named and made as the stored ones in schema ``stored``: unqualified names find a
    session's temporary tables first, so the fold writes into them with the code that writes
    the stored ones. They go with the transaction (the snapshot). False where they cannot be
    made (a role without the ``TEMPORARY`` privilege, say): the check then folds into a
    scratch SQLite database."""
    schema = conn.dialect.identifier_preparer.quote_schema(stored)
    savepoint = conn.begin_nested()
    try:
        for table, _ in COMPARED:
            conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {table.name} (LIKE {schema}.{table.name}) ON COMMIT DROP"
            )
    except DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _stored_schema(conn: Connection) -> str:
    """The schema of the stored tables, where the projection's checkpoint table is found (the
    check makes no temporary table of that name, so it is found where the others were before
    their temporary namesakes shadowed them, whatever the search path)."""
    return str(
        conn.exec_driver_sql(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.oid = to_regclass('{belief_checkpoint.name}')"
        ).scalar_one()
    )


def _fold_in_place(
    store: EventStore,
    conn: Connection,
    position: int,
    targets: set[str] | None,
    progress: Callable[[int], None] | None,
) -> None:
    """Fold the log up to ``position`` into the temporary tables of ``conn``
    (:func:`_temporary_tables`): by chain, as a rebuild folds, or by window (with the indexes
    a window's fold reads) if the log has too many corrected statements to keep or a chain
    too busy to fold in memory."""
    if targets is not None:
        savepoint = conn.begin_nested()
        try:
            fold_by_chain(
                conn, store.read_rows(until=position), targets, progress=progress, total=position
            )
        except Skewed:
            savepoint.rollback()  # the sources and propositions it copied
        else:
            savepoint.commit()
            return
    for name in (CHAIN_INDEX, KEY_INDEX):
        _stance_index(name).create(conn)  # on the temporary table: its name comes first
    fold_rows(conn, store.read_rows(until=position), fresh=True, progress=progress)


def _same_rows(conn: Connection, stored_schema: str, expected_schema: str) -> int | None:
    """Whether each compared table (in ``stored_schema``) holds exactly the rows its expected
    copy (in ``expected_schema``: :data:`EXPECTED` attached on SQLite, ``pg_temp`` on
    PostgreSQL) holds, decided by the database: every expected row has a stored row of the
    same key, and every stored row of that key is equal to it in every column (NULLs compared
    as values), and the stored table has as many rows as the expected one. Expected keys are
    unique (the fold writes each version once), so together these say the two are the same
    multiset of rows, whatever the stored table's indexes (a stored duplicate makes the counts
    differ). Returns the rows compared, or None at the first difference, which the streamed
    comparison then names."""
    pg = conn.dialect.name == "postgresql"
    unequal = "IS DISTINCT FROM" if pg else "IS NOT"  # SQLite has the former only since 3.39
    quote = conn.dialect.identifier_preparer.quote_schema
    rows = 0
    for table, _ in COMPARED:
        stored = f"{quote(stored_schema)}.{table.name}"
        expected = f"{quote(expected_schema)}.{table.name}"
        if pg:  # the planner's estimates of a table just written
            conn.exec_driver_sql(f"ANALYZE {expected}")
        keys = [c.name for c in key_of(table)]
        on = " AND ".join(f"m.{k} = e.{k}" for k in keys)
        differs = " OR ".join(f"m.{c.name} {unequal} e.{c.name}" for c in table.columns)
        unmatched = conn.exec_driver_sql(
            f"SELECT 1 FROM {expected} AS e LEFT JOIN {stored} AS m ON {on} "
            f"WHERE m.{keys[0]} IS NULL OR {differs} LIMIT 1"
        ).first()
        have, want = conn.exec_driver_sql(
            f"SELECT (SELECT count(*) FROM {stored}), (SELECT count(*) FROM {expected})"
        ).one()
        if unmatched is not None or have != want:
            return None
        rows += int(want)
    return rows


def _expected(
    store: EventStore,
    path: Path,
    position: int,
    targets: set[str] | None,
    progress: Callable[[int], None] | None,
    *,
    keyed: bool = True,
) -> Engine:
    """A scratch database at ``path`` holding the rows the log up to ``position`` implies:
    folded by chain, as a rebuild folds, or by window if the log has too many corrected
    statements to keep (``targets`` None) or a chain too busy to fold in memory. ``keyed``:
    with the stance rows' key index, for a comparison that reads them in key order (SQLite's
    own comparison looks the stored rows up by their key instead, and sorts if it must)."""

    def filled(by_chain: bool, fold: Callable[[Connection, Any], Any]) -> Engine:
        engine = _scratch(path, by_chain=by_chain)
        try:
            with engine.begin() as sconn:
                fold(sconn, store.read_rows(until=position))
                if by_chain and keyed:  # the comparison reads in key order
                    # SQLite's sort for the index may use as much memory as the page cache:
                    # with the fold's cache, a 1M check peaked at 199 MB instead of 162
                    sconn.exec_driver_sql("PRAGMA cache_size = -2000")
                    _stance_index(KEY_INDEX).create(sconn)
        except BaseException:
            engine.dispose()
            raise
        return engine

    if targets is not None:
        try:
            return filled(
                True,
                lambda sconn, rows: fold_by_chain(
                    sconn, rows, targets, progress=progress, total=position
                ),
            )
        except Skewed:
            pass
    return filled(
        False,
        lambda sconn, rows: fold_rows(sconn, rows, fresh=True, progress=progress),
    )


def _snapshot(engine: Engine) -> Any:
    """A connection that sees one snapshot for all its statements."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


#: The scratch database's page cache (KiB): what a rebuild gives itself (the fold inserts into
#: the key and chain indexes at random).
SCRATCH_CACHE_KIB = REBUILD_CACHE_KIB


def _scratch(path: Path, *, by_chain: bool) -> Engine:
    """A throwaway SQLite database for the expected rows: no journal and no syncing (nothing
    in it outlives the check), and of the indexes only the key (the comparison reads in key
    order) and the chain index, which the window fold reads; a fold ``by_chain`` reads
    neither, so it gets the key once it is done (:func:`_expected`), as a rebuild does.
    So the check folds as fast as a rebuild: before, with a 2 MB cache, a journal and every
    index, it took 1.5 times as long (at 100k on SQLite)."""
    engine = create_engine(f"sqlite:///{path}")
    pragmas = ("journal_mode = OFF", "synchronous = OFF", f"cache_size = {-SCRATCH_CACHE_KIB}")

    @event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    with engine.begin() as conn:
        for table, _ in COMPARED:
            table.drop(conn, checkfirst=True)  # a fold by chain that gave up left its rows
            table.create(conn)
        unread = (*QUERY_INDEXES, CHAIN_INDEX, KEY_INDEX) if by_chain else QUERY_INDEXES
        for index in belief_stances.indexes:
            if index.name in unread:
                index.drop(conn)
    return engine


def _stance_index(name: str) -> Index:
    (index,) = (i for i in belief_stances.indexes if i.name == name)
    return index


def _compare(
    stored: Connection,
    expected: Connection,
    position: int,
    schemas: tuple[str | None, str | None] = (None, None),
) -> DerivedReport:
    """Both tables streamed in key order, the first difference named; ``schemas``: where each
    side's tables are, if not where their names lead (the same connection may read both)."""
    rows = 0
    for table, concerns in COMPARED:
        names = [c.name for c in table.columns]
        index = names.index(concerns)
        keys = [names.index(c.name) for c in key_of(table)]
        have_rows = _rows(stored, _in_schema(table, schemas[0]))
        want_rows = _rows(expected, _in_schema(table, schemas[1]))
        for have, want in zip_longest(have_rows, want_rows):
            rows += 1
            if have == want:
                continue
            subject = _first(have, want, keys)[index]
            return DerivedReport(
                False,
                position,
                rows,
                table.name,
                subject,
                f"{table.name} differs from what the log implies at {concerns} {subject!r} "
                f"({_difference(names, have, want)}): run `factledger rebuild`",
            )
    return DerivedReport(True, position, rows)


def _first(
    have: tuple[Any, ...] | None, want: tuple[Any, ...] | None, keys: list[int]
) -> tuple[Any, ...]:
    """Of two rows met at the same place in key order, the one that comes first (the extra or
    the missing one); the stored one when they share a key or cannot be ordered."""
    if have is None:
        assert want is not None
        return want
    if want is None:
        return have
    try:
        return want if [want[i] for i in keys] < [have[i] for i in keys] else have
    except TypeError:  # a value of the wrong type in a damaged row
        return have


def _difference(
    names: list[str], have: tuple[Any, ...] | None, want: tuple[Any, ...] | None
) -> str:
    if have is None or want is None:
        what = "a row is missing" if have is None else "a row the log does not imply"
        return f"{what}: {dict(zip(names, have or want or (), strict=True))}"
    changed = [
        f"{name} is {h!r}, the log implies {w!r}"
        for name, h, w in zip(names, have, want, strict=True)
        if h != w
    ]
    return "; ".join(changed)


def _in_schema(table: Table, schema: str | None) -> Table:
    """``table`` itself, or a copy of it named in ``schema``."""
    return table if schema is None else table.to_metadata(MetaData(), schema=schema)


def _rows(conn: Connection, table: Table) -> Iterator[tuple[Any, ...]]:
    """Every row in key order, byte order for text on both backends."""
    keys = [
        c.collate("C") if conn.dialect.name == "postgresql" and _is_text(c) else c
        for c in key_of(table)
    ]
    query = select(table).order_by(*keys)
    streaming = conn.execution_options(stream_results=True, yield_per=2_000)
    with streaming.execute(query) as result:
        for row in result:
            yield tuple(row)


def _is_text(column: Any) -> bool:
    return column.type.python_type is str
