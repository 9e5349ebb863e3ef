"""A rebuild's fold, a chain at a time: each stance row written once, none read back.

The window fold (``projections.materialized.fold_rows``) takes the log in order, so a window
must read back every chain it touches that an earlier window wrote, and revise rows already
written: at a million events that was much of a rebuild's database work (reads and updates at
random places of a growing table, and a chain index kept up to date for them). But a chain's
rows depend only on that chain's operations, in log order (``projections.stances``), so a
rebuild into empty tables can fold the log split by chain:

1. **Route** (one pass over the log, in order). Each statement becomes an operation on its
   chain, ``(proposition, source)``; a correction, resolved against the fields it corrects
   (:func:`projections.stances.resolved`, where every fold resolves them), becomes a
   replacement on its chain, or, when it moves the statement to another proposition or source,
   a removal from the old chain and an addition to the new one at the same instant, which is
   what the window fold's replacement does to each chain. To resolve a correction the fold
   must know the fields of the statement it corrects: it keeps the fields of the statements
   some correction names (:func:`correction_targets`, read off the ``(stream_id,
   stream_version)`` index before the pass), and only those.
2. **Split** the operations by a hash of their chain into partitions of about :data:`RUN`
   events each, log order kept within each; past one partition, a window's share of each is
   spilled to the partition's temporary file at the window's end (``marshal``, some 100 bytes
   an operation): memory holds a window's operations, then one partition, whatever the log.
3. **Fold** each partition whole, in log order, with :class:`projections.stances.Batch` (the
   code that maintains the tables on every append) starting from no rows: every chain is in
   one partition, so every row it gives is final, and is inserted once into a table whose
   indexes but the key are built at the end.
   From :data:`projections.forkfold.PARALLEL_FROM` events on, a forked worker folds some of
   the partitions beside the rebuild's process, which inserts every row
   (``projections.forkfold``).

A statement that moves between chains of two partitions is removed in one and added in the
other at the same instant, as one batch would have done to both chains.

Equal to the window fold row for row: ``tests/unit/test_chainfold.py`` (random operations with
corrections across chains, any number of partitions) and the rebuild tests on both backends.
"""

from __future__ import annotations

import itertools
import marshal
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from ledger.errors import DamagedDatabase
from ledger.gcpause import no_cycle_collection
from ledger.store import bulk
from ledger.store.schema import events, streams_of
from projections import forkfold
from projections.eventrows import Op, read_window, windows
from projections.stances import COLUMNS, Batch, Chain, Fields, Plan, Replace, resolved
from projections.tables import belief_stances

if TYPE_CHECKING:
    from projections.forkroute import LaterPart, Routing

#: Events per partition: the log is split into one partition per this many events (at most
#: :data:`PARTS_MAX`), and one partition is folded at a time. Small partitions fold fastest (at
#: 1M events on SQLite, one run each: 50,000 events a partition 21.9-24.8 s, 25,000 19.2-20.7 s,
#: 10,000 17.9-19.0 s, 5,000 16.4-19.1 s; peak RSS 193, 168, 154, 152 MB).
RUN = 5_000
#: Partitions at most, each a temporary file open until the fold reads it: past this many the
#: partitions grow instead (a process may hold only so many files open).
PARTS_MAX = 200
#: Operations in one partition at most: a partition is folded in memory, whole, so one chain
#: of a million statements would hold them all (a review measured 912 MB). Past this the fold
#: gives up (:class:`Skewed`) and the caller folds by window, whose memory a chain's length
#: does not set (at about 700 bytes an operation, this is some 40 MB).
PARTITION_MAX = 60_000
#: Operations buffered, in all partitions together, before each is spilled to its file (all
#: are spilled at the end of each window anyway).
BUFFERED = 20_000
#: Bytes each partition's temporary file buffers before it writes (:data:`PARTS_MAX` of them):
#: a window's share of a partition is a few KiB, and the default 8 KiB made a write of most.
SPILL_BUFFER = 32_768
#: Event rows read at a time in the routing pass.
WINDOW = 5_000
#: Past this many corrected statements, :func:`correction_targets` gives up (their fields
#: would take too much memory) and a rebuild folds in windows instead.
TARGETS_MAX = 250_000

# A routed operation: (kind, at, what); ``what`` is the statement's fields, or for REMOVE its id.
ADD, REPLACE, REMOVE = 0, 1, 2
Routed = tuple[int, int, Any]


def correction_targets(conn: Connection, until: int | None = None) -> set[str] | None:
    """The statements that corrections up to position ``until`` name (a correction is its
    statement's stream from version 2 on), or None past :data:`TARGETS_MAX` of them."""
    query = select(events.c.stream_id).where(streams_of("statement"), events.c.stream_version > 1)
    if until is not None:
        query = query.where(events.c.position <= until)
    # the driver holds what it fetched: no more than that
    query = query.distinct().limit(TARGETS_MAX + 1)
    targets: set[str] = set()
    for (stream,) in conn.execute(query):
        targets.add(stream[len("statement:") :])
        if len(targets) > TARGETS_MAX:
            return None
    return targets


class Skewed(Exception):
    """A partition holds more than :data:`PARTITION_MAX` operations (one busy chain, or a log
    past ``PARTS_MAX * PARTITION_MAX`` events): fold by window instead. Raised before any
    stance row is written; the sources and propositions already copied must be rolled back."""


class Router:
    """Pass 1: the log's stance operations, in log order, as operations on chains."""

    def __init__(self, targets: set[str]):
        self.targets = targets
        self.fields: dict[str, Fields] = {}  # the current fields of targets met so far

    def route(self, ops: list[Op], named: set[str]) -> Iterator[tuple[Chain, Routed]]:
        """The routed operations of a window (``ops``, whose corrections name ``named``),
        each with its chain. :meth:`Partitions.route` does the same in one loop."""
        self.check(named)
        for op in ops:
            if op[0] == "add":
                f = op[2]
                if f[0] in self.targets:
                    self.keep(f)
                yield (f[1], f[2]), (ADD, op[1], f)
            else:
                yield from self.correct(op)

    def check(self, named: set[str]) -> None:
        unknown = named - self.targets
        if unknown:
            # a correction outside its statement's stream: the ledger never writes one
            raise DamagedDatabase(
                f"corrections of {sorted(unknown)[:5]} are not in their statements' streams "
                "(events.stream_id): the log was changed outside the ledger"
            )

    def keep(self, f: tuple[Any, ...]) -> None:
        """Keep the fields of a statement some correction names (a target)."""
        self.fields[f[0]] = f if type(f) is Fields else tuple.__new__(Fields, f)

    def correct(self, op: Op) -> Iterator[tuple[Chain, Routed]]:
        """A correction, resolved where every batch resolves them, as routed operations
        whose fields are plain tuples (as :func:`projections.eventrows.read_window` gives a
        rebuild's statements)."""
        fields = self.fields
        sid = op[2][0]
        stored = {sid: fields[sid]} if sid in fields else {}
        for resolved_op, before in resolved((op,), stored):
            assert isinstance(resolved_op, Replace) and before is not None
            f, at = resolved_op.fields, resolved_op.at
            old = (before[1], before[2])
            if f is None:
                del fields[sid]  # withdrawn for good
                yield old, (REMOVE, at, sid)
                continue
            fields[sid] = f
            if old == (f[1], f[2]):
                yield old, (REPLACE, at, tuple(f))
            else:
                yield old, (REMOVE, at, sid)
                yield (f[1], f[2]), (ADD, at, tuple(f))


class Partitions:
    """Routed operations split by a hash of their chain into ``parts`` partitions, log order
    kept within each; past one partition, each is buffered and spilled to a temporary file,
    so memory holds a buffer per partition while routing and one partition while folding."""

    def __init__(
        self, parts: int, buffer: int | None = None, place: Callable[[Chain], int] | None = None
    ):
        self.parts = parts
        #: operations buffered per partition: :data:`BUFFERED` in all
        self.buffer = buffer or max(100, BUFFERED // parts)
        #: the partition of a chain (None: a hash of it, ``hash(chain) % parts``)
        self.place = place
        self.buffers: list[list[Routed]] = [[] for _ in range(parts)]
        self.files: list[IO[bytes] | None] = [None] * parts
        self.counts = [0] * parts  # operations in each partition

    def add(self, routed: Iterable[tuple[Chain, Routed]]) -> None:
        """Place routed operations in their partitions (a rebuild's statements go through
        :meth:`route`, which places them inline; here corrections, and the single partition
        of a small log)."""
        buffers, parts = self.buffers, self.parts
        if parts == 1:
            buffers[0].extend(item for _, item in routed)
            self.counts[0] = len(buffers[0])
            return
        for chain, item in routed:
            i = hash(chain) % parts if self.place is None else self.place(chain)
            self.counts[i] += 1
            buffers[i].append(item)
            if len(buffers[i]) >= self.buffer:
                self._spill(i)

    def route(self, router: Router, ops: list[Op], named: set[str]) -> None:
        """``self.add(router.route(ops, named))``, in one loop: a statement, most of any log,
        is routed and placed without a generator or a call (the two loops, routing and
        placing, were some 6% of a 1M rebuild's samples on PostgreSQL); its window's share of
        each partition is then spilled."""
        if self.parts == 1:
            self.add(router.route(ops, named))
            return
        router.check(named)
        buffers, place, buffer, counts, parts = (
            self.buffers,
            self.place,
            self.buffer,
            self.counts,
            self.parts,
        )
        targets, add = router.targets, self.add
        for op in ops:
            if op[0] != "add":
                add(router.correct(op))
                continue
            f = op[2]
            if f[0] in targets:
                router.keep(f)
            chain = (f[1], f[2])
            i = hash(chain) % parts if place is None else place(chain)
            counts[i] += 1
            held = buffers[i]
            held.append((ADD, op[1], f))
            if len(held) >= buffer:
                self._spill(i)
        # Spilled now, while the window's operations are still in the processor's cache:
        # marshal writes an operation made long before in 1.2-1.6 us, one just made in 0.3
        # (cache misses, not its work). Spilled only when their buffers filled, a few hundred
        # operations of other partitions later, the routing pass of a 1M rebuild on
        # PostgreSQL took 7.6-9.2 s, 6.2-6.5 s so (alternated, three runs each).
        for i, held in enumerate(buffers):
            if held:
                self._spill(i)

    def _spill(self, i: int) -> None:
        file = self.files[i]
        if file is None:
            # closed once read back, or by close() (a TemporaryFile is removed when closed)
            file = self.files[i] = tempfile.TemporaryFile(  # noqa: SIM115
                prefix="factledger-fold-", buffering=SPILL_BUFFER
            )
        data = marshalled(self.buffers[i])
        file.write(len(data).to_bytes(8, "little"))
        file.write(data)
        self.buffers[i] = []

    def read(self, i: int) -> Iterator[Routed]:
        """Partition ``i``'s operations, in log order (once)."""
        return itertools.chain.from_iterable(self._lists(i))

    def _lists(self, i: int) -> Iterator[list[Routed]]:
        file = self.files[i]
        if file is not None:
            file.seek(0)
            data = memoryview(file.read())  # one partition: some 100 bytes an operation
            file.close()
            self.files[i] = None
            at, end = 0, len(data)
            while at < end:
                size = int.from_bytes(data[at : at + 8], "little")
                at += 8
                # the fields as plain tuples: fold_partition makes them Fields again
                yield marshal.loads(data[at : at + size])
                at += size
        yield self.buffers[i]
        self.buffers[i] = []

    def close(self) -> None:
        for file in self.files:
            if file is not None:
                file.close()


class SharedPartitions(Partitions):
    """Partitions spilled to one file by offset, written by one process and read by another
    that shares the file (forked after it was opened): ``pieces[i]`` says where partition
    ``i``'s pieces are, and is all the reader needs to be told."""

    def __init__(self, parts: int, fd: int):
        super().__init__(parts)
        self.fd, self.end = fd, 0
        self.pieces: list[list[tuple[int, int]]] = [[] for _ in range(parts)]

    def _spill(self, i: int) -> None:
        self.pieces[i].append(self.append(marshalled(self.buffers[i])))
        self.buffers[i] = []

    def append(self, data: bytes) -> tuple[int, int]:
        """``data`` written at the file's end; where it is (offset, size)."""
        forkfold.write_at(self.fd, data, self.end)
        self.end += len(data)
        return self.end - len(data), len(data)

    def spill_all(self) -> None:
        for i, held in enumerate(self.buffers):
            if held:
                self._spill(i)

    def _lists(self, i: int) -> Iterator[list[Routed]]:
        for offset, size in self.pieces[i]:
            yield marshal.loads(forkfold.read_at(self.fd, offset, size))
        yield self.buffers[i]
        self.buffers[i] = []


def marshalled(held: list[Routed]) -> bytes:
    """Routed operations as ``marshal`` bytes."""
    try:
        return marshal.dumps(held)
    except ValueError:
        # marshal writes plain tuples only: a rebuild routes none but plain fields
        # (read_window(plain=True), Router.correct); anyone else's are made plain here
        return marshal.dumps([(k, at, w if k == REMOVE else tuple(w)) for k, at, w in held])


def partitions_for(total: int) -> int:
    """How many partitions a fold by chain of ``total`` events splits the log into."""
    return min(PARTS_MAX, max(1, -(-total // RUN)))


def fold_partition(routed: Iterable[Routed]) -> list[tuple[Any, ...]]:
    """The rows (``belief_stances`` columns in order) of a partition's operations: every
    operation of each of its chains, in log order, so each chain is folded whole from no
    rows, by the batch that maintains the tables on every append."""
    batch = Batch(Plan(), (), fresh=True)
    add, replace, fields = batch.add, batch.replace, tuple.__new__
    for kind, at, what in routed:
        if kind == REMOVE:
            replace(what, None, at)
            continue
        # read back from a spilled partition, the fields are a plain tuple
        f = what if type(what) is Fields else fields(Fields, what)
        if kind == ADD:
            add(f, at)
        else:
            replace(f[0], f, at)
    batch.finish()
    assert not batch.deleted and not batch.updated  # nothing was stored to change
    return batch.inserted


def fold_by_chain(
    conn: Connection,
    rows: Iterable[tuple[Any, ...]],
    targets: set[str],
    *,
    progress: Callable[[int], None] | None = None,
    total: int = 0,
    later: LaterPart | None = None,
) -> tuple[int, tuple[int, str] | None]:
    """Fold event rows (``events`` columns in table order, in log order) into derived tables
    emptied in this transaction; ``targets``: :func:`correction_targets` of the same rows;
    ``total``: how many rows to expect (it sets the partitions). Returns how many events were
    folded and the last one's position and hash, as ``projections.materialized.fold_rows``
    does. ``progress`` is told a count that reaches ``total`` when done: routing is its first
    half, folding the partitions its second. ``later``: the part of the log after ``rows``,
    routed by a forked worker while this process routes ``rows`` (``projections.forkroute``)."""
    router = Router(targets)
    count = partitions_for(total)
    two = forkfold.two_processes(total) and count > 1
    # with two processes, this process's partitions too go to one file a worker can read
    shared = tempfile.TemporaryFile(prefix="factledger-fold-") if two else None  # noqa: SIM115
    parts = Partitions(count) if shared is None else SharedPartitions(count, shared.fileno())
    theirs: Routing | None = None
    pair = None
    half = total // 2
    routed: list[Any] = [0, None]  # events routed here, the last one's (position, hash)

    def route(rows: Iterable[tuple[Any, ...]], share: int) -> None:
        """Route ``rows`` here; ``share``: the events this process routes in all."""
        for window in windows(rows, WINDOW):
            ops, named, _ = read_window(conn, window, plain=True)
            parts.route(router, ops, named)
            routed[0] += len(window)
            routed[1] = (window[-1][0], window[-1][9])
            if progress is not None and share:
                progress(min(half, routed[0] * half // share))

    with no_cycle_collection():
        try:
            theirs = None if later is None else later.start(targets, count)
            if later is not None and theirs is None:  # no process to be had: route it here
                rows = itertools.chain(rows, later.rows(conn))
            their_parts = None if theirs is None else theirs.partitions
            fold = _folder(parts, their_parts)
            if two:
                # forked now, while this process holds little (forkfold.start): told where
                # the partitions are once they are routed
                pair = forkfold.start(count, fold, _told(parts, their_parts))
            route(rows, total if theirs is None or later is None else later.after)
            if theirs is not None and later is not None:
                done = theirs.finish(conn)  # and their copies written
                if done is None:  # the worker could not start: this process routes it
                    route(later.rows(conn), total)
                else:
                    routed[0], routed[1] = routed[0] + done[0], done[1] or routed[1]
            folded, last = routed
            counts = list(parts.counts)
            if their_parts is not None:  # empty if this process routed their part
                counts = [a + b for a, b in zip(counts, their_parts.counts, strict=True)]
            if max(counts) > PARTITION_MAX:
                raise Skewed(f"a partition of {max(counts):,} operations")
            if isinstance(parts, SharedPartitions):
                parts.spill_all()
            each = forkfold.each_folded(pair, count, fold, _where(parts, their_parts))
            _insert(conn, each, count, progress, total)
        finally:
            for held in (parts, pair, theirs, shared):
                if held is not None:
                    held.close()
    return folded, last


#: The stance rows' column types, for PostgreSQL's binary ``COPY`` (``bulk.insert_many``).
BINARY = bulk.binary_types(belief_stances, COLUMNS)


def _insert(
    conn: Connection,
    each: Generator[list[tuple[Any, ...]], None, None],
    count: int,
    progress: Callable[[int], None] | None,
    total: int,
) -> None:
    """Every partition's rows inserted as they come (``count`` partitions): the second half
    of the progress."""
    half = total // 2
    for number, stances in enumerate(each, 1):
        bulk.insert_many(conn, "belief_stances", COLUMNS, stances, binary=BINARY)
        if progress is not None and total:
            progress(half + (total - half) * number // count)


Where = tuple[list[list[tuple[int, int]]] | None, list[list[tuple[int, int]]] | None]


def _where(parts: Partitions, their_parts: SharedPartitions | None) -> Where:
    """Where the partitions' pieces are, for a folding worker forked before they were made."""
    mine = parts.pieces if isinstance(parts, SharedPartitions) else None
    return mine, None if their_parts is None else their_parts.pieces


def _told(parts: Partitions, their_parts: SharedPartitions | None) -> Callable[[Any], None]:
    """In the folding worker: its copies of the partitions told where their pieces are."""

    def told(where: Where) -> None:
        mine, theirs = where
        if mine is not None and isinstance(parts, SharedPartitions):
            parts.pieces = mine
        if theirs is not None and their_parts is not None:
            their_parts.pieces = theirs

    return told


def _folder(parts: Partitions, later: Partitions | None) -> Callable[[int], list[tuple[Any, ...]]]:
    """Partition ``i`` folded: its operations from the log's earlier part, then its later's."""
    if later is None:
        return lambda i: fold_partition(parts.read(i))
    return lambda i: fold_partition(itertools.chain(parts.read(i), later.read(i)))
