"""A rebuild's routing pass split in two: the later part of the log routed by a forked worker.

The first pass of a fold by chain (``projections.chainfold``) reads the log in order, decodes
each event and routes it to its chain's partition: some two fifths of a rebuild, all of it in
one process. Reading and decoding an event needs nothing from earlier events; routing it needs
one thing only, for a correction: the fields of the statement it corrects as they stand when it
comes. So a worker can route the later part of the log while the rebuild's process routes the
earlier, if it starts from those fields:

1. The rebuild's process splits the log at a position (:func:`later_part`: a little past
   half way, :data:`EARLIER_SHARE`) and, on
   PostgreSQL, exports its snapshot, so that the worker reads exactly the log it reads.
2. It forks the worker (:meth:`LaterPart.start`), which opens a connection of its own (a new
   pool in the inherited engine: no connection of the parent is touched) and reads, before its
   part, every event of the statements that a correction in its part names: folded in order
   through a :class:`projections.chainfold.Router` of its own, they give those statements'
   fields as they stand at the split, which is all the routing of its part needs (a
   correction is always in its statement's stream: the routers check it). Then it routes its
   part into partitions placed by the same hash (``fork`` keeps the parent's string hashing),
   spilled to one file the parent inherited, and sends where each partition's pieces are.
3. The worker writes nothing to the database: the copies of sources and propositions its part
   holds, and its redactions, are sent to the parent, which writes them in order after its
   own, through the rebuild's connection and transaction (:meth:`Routing.finish`).
4. Each partition is then folded from its operations in the earlier part, then the later:
   log order within every chain, as one process routes it.

Failures in the worker are raised in the parent as the worker raised them
(``projections.forkfold``); if the parent fails first the worker is stopped; if no process can
be forked, the parent routes the later part too. The rows are the
same either way: the rebuild's property tests route small logs both ways on both backends.
"""

from __future__ import annotations

import marshal
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection as Pipe
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, select

from ledger.gcpause import no_cycle_collection
from ledger.store.backends import checkpointer_of
from ledger.store.schema import EVENT_COLUMNS, events, streams_of
from projections import forkfold
from projections.chainfold import WINDOW, Router, SharedPartitions, partitions_for
from projections.eventrows import Copies, decode_window, windows, write_copies

#: Reads event rows (driver tuples, ``events`` columns in order) after a position up to
#: another, through a connection: ``projections.materialized._rows_after``.
ReadRows = Callable[[Connection, int, int], Iterable[tuple[Any, ...]]]

#: Statements whose streams are read at a time when the worker learns their fields.
_IN = 500

#: The share of the log's events the rebuild's process routes (the earlier part); the worker
#: routes the rest. A little over half: the worker routes an event about an eighth slower
#: (its reads start cold and on a connection of its own) and first learns its corrections'
#: statements, so at half each the rebuild's process waited for it about a second in a 1M
#: rebuild. Measured by hand at 1M (BENCHMARKS.md, *Session 20*).
EARLIER_SHARE = 0.55


def later_part(conn: Connection, total: int, read: ReadRows) -> LaterPart | None:
    """The later part of a log of ``total`` events, for a worker to route (None: one process
    routes it all: below :data:`projections.forkfold.PARALLEL_FROM`, one core, no ``fork``,
    one partition, or a database only this connection sees)."""
    if not forkfold.two_processes(total) or partitions_for(total) < 2:
        return None
    engine = conn.engine
    if conn.dialect.name == "sqlite" and not _on_file(conn):
        return None  # an in-memory SQLite database: no other connection sees it
    copier = checkpointer_of(engine)
    if copier is not None:
        # its thread stopped before the fork (it starts again at the next commit's nudge):
        # a thread inside SQLite when the process forks could leave the worker's connection
        # waiting on a lock nobody will release
        copier.close(wait=True)
    snapshot = None
    if conn.dialect.name == "postgresql":
        # the worker reads the log as of this transaction's snapshot (exported from the
        # transaction itself: a savepoint cannot export one)
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    return LaterPart(engine, int(total * EARLIER_SHARE), total, snapshot, read)


class LaterPart:
    """Events after ``after`` up to ``until``, to be routed by a forked worker."""

    def __init__(
        self, engine: Engine, after: int, until: int, snapshot: str | None, read: ReadRows
    ):
        self.engine, self.after, self.until = engine, after, until
        self.snapshot, self.read = snapshot, read

    def start(self, targets: set[str], parts: int) -> Routing | None:
        """Fork the worker: it routes this part into ``parts`` partitions; ``targets``: every
        statement some correction in the log names (``chainfold.correction_targets``). None if
        no process can be forked (``OSError``: memory, a limit on processes): the caller then
        routes this part itself, read through its own connection (:meth:`rows`)."""
        try:
            return Routing(self, targets, parts)
        except OSError:
            return None

    def rows(self, conn: Connection) -> Iterable[tuple[Any, ...]]:
        """This part's event rows, read through ``conn``."""
        return self.read(conn, self.after, self.until)

    def route(self, targets: set[str], parts: int, out: int, send: Pipe) -> None:
        """In the worker: connect and say so (or that it cannot), route this part, then send
        what :meth:`Routing.finish` receives."""
        forkfold.default_signals()
        try:
            conn = self.connect()
        except Exception as e:  # the parent routes this part itself
            send.send(_Unavailable(f"{type(e).__name__}: {e}"))
            return
        send.send(_READY)
        try:
            with conn:
                router = Router(targets)
                self._learn(conn, router)
                partitions = SharedPartitions(parts, out)
                copies: list[tuple[int, int]] = []  # where each window's copies are
                routed, last = 0, None
                with no_cycle_collection():
                    for window in windows(self.rows(conn), WINDOW):
                        decoded, copied = decode_window(window, plain=True)
                        if copied.sources or copied.propositions or copied.redactions:
                            # to the file as they come: memory holds a window's
                            copies.append(partitions.append(marshal.dumps(tuple(copied))))
                        partitions.route(router, decoded.ops, decoded.targets)
                        routed += len(window)
                        last = (window[-1][0], window[-1][9])
                    partitions.spill_all()
            send.send((routed, last, partitions.pieces, partitions.counts, copies))
        except BaseException as e:  # every failure goes to the parent
            forkfold.send_failure(send, e)

    def connect(self) -> Connection:
        """In the worker: a connection of its own, reading the parent's snapshot."""
        # A pool of its own, the parent's untouched (what Engine.dispose(close=False) does,
        # without telling the engine's listeners, which would stop the parent's SQLite
        # checkpointer as seen from here)
        self.engine.pool = self.engine.pool.recreate()
        conn = self.engine.connect()
        try:
            if self.snapshot is not None:
                conn.execution_options(isolation_level="REPEATABLE READ")  # in place
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
            else:
                conn.exec_driver_sql("SELECT 1 FROM events LIMIT 1").all()  # the file is there
        except BaseException:
            conn.close()
            raise
        return conn

    def _learn(self, conn: Connection, router: Router) -> None:
        """The fields, as they stand at ``after``, of every statement a correction in this
        part names: its events up to ``after``, folded through ``router`` (what they route
        is dropped: the parent routes them)."""
        corrected = select(events.c.stream_id).where(
            streams_of("statement"),
            events.c.stream_version > 1,
            events.c.position > self.after,
            events.c.position <= self.until,
        )
        streams = [stream for (stream,) in conn.execute(corrected.distinct())]
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        # A slice of statements at a time: each statement's fields depend on its own events
        # only, in order, so memory holds one slice's
        for i in range(0, len(streams), _IN):
            chunk = streams[i : i + _IN]
            sql = (
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE stream_id IN "
                f"({', '.join([mark] * len(chunk))}) AND position <= {mark}"
            )
            # the driver's values, as the rebuild's pages are read (no column types applied)
            rows = [tuple(row) for row in conn.exec_driver_sql(sql, (*chunk, self.after))]
            rows.sort(key=itemgetter(0))
            decoded, _ = decode_window(rows, plain=True)
            for _ in router.route(decoded.ops, decoded.targets):
                pass


#: The worker's first word: connected, routing.
_READY = "ready"


class _Unavailable(NamedTuple):
    """The worker's first word when it cannot connect (PostgreSQL's ``max_connections``, a
    role's connection limit): the parent routes the part itself."""

    reason: str


#: Seconds the parent waits, from the fork, for the worker's first word before it stops the
#: worker and routes the part itself.
CONNECT_WAIT = 60.0


class Routing:
    """A worker routing a :class:`LaterPart`; ``partitions`` is what it routed, once
    :meth:`finish` has returned."""

    def __init__(self, part: LaterPart, targets: set[str], parts: int):
        self.started = time.monotonic()
        forked = forkfold.fork("factledger-route", part.route, targets, parts)
        self.worker, self.receive, self.file = forked
        self.partitions = SharedPartitions(parts, self.file.fileno())

    def finish(self, conn: Connection) -> tuple[int, tuple[int, str] | None] | None:
        """Wait for the worker; write the copies it sent through ``conn``. Returns how many
        events it routed and the last one's position and hash; None if it could not start
        (no connection, or no word within :data:`CONNECT_WAIT`; nothing routed): the caller
        routes the part itself."""
        wait = max(0.0, self.started + CONNECT_WAIT - time.monotonic())
        if not self.receive.poll(wait):
            return None
        try:
            first = forkfold.raise_failure(self.receive.recv())
        except EOFError:
            return None  # gone before it began
        if first != _READY:
            return None
        routed, last, pieces, counts, copies = forkfold.received(self.worker, self.receive)
        self.worker.join()  # done: not left a zombie until the rebuild ends
        self.partitions.pieces, self.partitions.counts = pieces, counts
        fd = self.file.fileno()
        for offset, size in copies:
            write_copies(conn, Copies(*marshal.loads(forkfold.read_at(fd, offset, size))))
        return routed, last

    def close(self) -> None:
        self.receive.close()  # a worker blocked sending to nobody gets an error and ends
        forkfold.stop(self.worker)
        self.file.close()


def _on_file(conn: Connection) -> bool:
    """Whether this SQLite connection's main database is a file another connection can open
    (not ``:memory:``, nor a ``mode=memory`` URI)."""
    for _seq, name, path in conn.exec_driver_sql("PRAGMA database_list"):
        if name == "main":
            return bool(path)
    return False
