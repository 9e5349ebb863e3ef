"""A rebuild's partitions folded by two processes: the second one forked for the purpose.

Once the routing pass of a fold by chain (``projections.chainfold``) has split the log into
partitions, each partition folds on its own: its chains' operations are all in it, and its
rows depend on nothing else. Folding is pure Python, the one part of a rebuild after the
routing pass that does not wait on the database, and one process folds and inserts in turn;
on a machine with a second core a second process can fold while the first inserts.

:func:`folded` gives every partition's rows once. With two processes, the ledger's process
forks a worker; the worker folds the first partition, and then the two
take partitions from one shared counter, so whichever is free takes the next and neither waits
on a fixed half. The worker writes each
partition's rows to a temporary file (``marshal``) and sends where they are over a pipe; the
ledger's process inserts them between its own partitions, so every row is written through the
rebuild's one connection and transaction, as with one process. The worker never touches the
database or a connection: it reads the partitions' temporary files it inherited, folds, and
writes its own file. ``fork`` is what makes that cheap and exact: the worker starts with the
parent's string hashing (which placed the chains) and code as they are; no state crosses a
pipe but where the partitions are and the rows.

A rebuild forks it (:func:`start`) before its routing pass, while its process holds little,
and tells it where the partitions are once they are routed: a process forked after the pass
copies, page by page, the parent's worked-over memory as it allocates among it (at 1M events
on SQLite the worker forked after the pass held 108 MB of PSS, and the two together peaked
at 225 MB).

A failure in the worker is raised in the ledger's process as the worker raised it (with its
traceback as a note), and the rebuild rolls back as after any error; a worker that dies
without a word (killed) is reported as such. If the ledger's process fails, the worker is
stopped. If no process can be forked (``OSError``: memory, a limit on processes), the ledger's
process folds every partition itself, as it does where ``fork`` is not available (Windows),
below :data:`PARALLEL_FROM` or on one core; the rows are the same either way
(``tests/backend/test_rebuild.py`` forces both on small logs, both backends).

Memory: the worker shares the parent's pages until either writes to them; what it adds is the
partition it folds, its rows, and the pages of the interpreter's objects it touches.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import signal
import tempfile
import traceback
from collections.abc import Callable, Generator, Iterator
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from typing import IO, Any, NamedTuple

from ledger.errors import LedgerError

#: Events from which a fold by chain takes a second process (when the machine has a second
#: core and ``fork``): below, forking and the rows' trip through a file cost more than they
#: save. Tests set it to 0 to fold small logs by two processes.
PARALLEL_FROM = 200_000

Rows = list[tuple[Any, ...]]


def cores() -> int:
    """The processor cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def two_processes(events: int) -> bool:
    """Whether a fold by chain of ``events`` events folds its partitions in two processes."""
    return (
        events >= PARALLEL_FROM
        and cores() >= 2
        and "fork" in multiprocessing.get_all_start_methods()
    )


def folded(parts: int, fold: Callable[[int], Rows], *, two: bool) -> Generator[Rows, None, None]:
    """``fold(i)`` for every partition ``i`` below ``parts``, each once, in no set order: in
    this process, or with ``two`` shared with a worker forked now (see the module's text)."""
    pair = start(parts, fold) if two else None
    try:
        yield from each_folded(pair, parts, fold, None)
    finally:
        if pair is not None:
            pair.close()


def start(
    parts: int, fold: Callable[[int], Rows], prepare: Callable[[Any], None] | None = None
) -> Folding | None:
    """A worker forked now that will fold some of ``parts`` partitions once told to
    (:func:`each_folded`): fork it before the work that makes the partitions, while this
    process holds little, and what it writes to memory it does not share with this process's
    pages of the time (the pages of a process that has worked a while are copied to a worker
    forked later, one page for each object it allocates among them or touches: at 1M events a
    worker forked after the routing pass held 108 MB of PSS, most of it such copies).
    ``prepare(state)`` runs in the worker with what :func:`each_folded` is given, before it
    folds. None if there are fewer than two partitions or no process can be had (``OSError``:
    memory, a limit on processes)."""
    if parts < 2:
        return None
    try:
        return Folding(parts, fold, prepare)
    except OSError:
        return None


def each_folded(
    pair: Folding | None, parts: int, fold: Callable[[int], Rows], state: Any
) -> Generator[Rows, None, None]:
    """Every partition's rows: with the worker ``pair`` (told ``state``; the caller closes
    it), or here alone."""
    if pair is None:
        for i in range(parts):
            yield fold(i)
        return
    yield from pair.folded(state)


class Folding:
    """This process and a forked worker folding the partitions, taken from one counter; the
    worker waits for :meth:`folded`'s word before it begins."""

    def __init__(
        self, parts: int, fold: Callable[[int], Rows], prepare: Callable[[Any], None] | None
    ):
        context = multiprocessing.get_context("fork")
        self.parts, self.fold, self.prepare = parts, fold, prepare
        # The worker folds partition 0 before it takes any: at least one partition is always
        # folded there, whatever the timing (so tests of small logs cover its rows).
        self.next = context.Value("q", 1)  # the next partition to take
        self.parent = os.getpid()
        self.finished = False
        self.begin, self.tell = context.Pipe(duplex=False)  # this process's word to the worker
        try:
            self.worker, self.receive, self.out = fork("factledger-fold", self._work)
        except BaseException:
            self.tell.close()
            raise
        finally:
            self.begin.close()  # the worker's end

    def take(self) -> int | None:
        """The next partition nobody has taken, or None."""
        lock = self.next.get_lock()
        # A process-shared semaphore stays taken if its holder dies holding it: the parent
        # waits a second at a time and gives up once the worker is gone (the worker never
        # outlives the parent, which stops it whatever happens)
        while not lock.acquire(timeout=1.0):
            if os.getpid() == self.parent and not self.worker.is_alive():
                raise _ended(self.worker)
        try:
            i = int(self.next.value)
            if i >= self.parts:
                return None
            self.next.value = i + 1
            return i
        finally:
            lock.release()

    def folded(self, state: Any) -> Iterator[Rows]:
        self.tell.send(state)
        while True:
            yield from self._received(wait=False)
            i = self.take()
            if i is None:
                break
            yield self.fold(i)
        yield from self._received(wait=True)

    def _received(self, *, wait: bool) -> Iterator[Rows]:
        """The rows the worker has folded so far (``wait``: all of them, as it finishes)."""
        while not self.finished and (wait or self.receive.poll()):
            message = received(self.worker, self.receive)
            if message is None:
                self.finished = True
            else:
                offset, size = message
                yield marshal.loads(read_at(self.out.fileno(), offset, size))

    def _work(self, fd: int, send: Pipe) -> None:
        """The worker: wait for the word, fold what it takes, write the rows, say where (the
        process exits when this returns, without running the parent's exit handlers)."""
        default_signals()
        self.tell.close()  # the parent's end: EOF here if the parent closes its own
        try:
            state = self.begin.recv()
        except EOFError:
            return  # never told: the parent stopped before the folding
        try:
            if self.prepare is not None:
                self.prepare(state)
            offset = 0
            i: int | None = 0
            while i is not None:
                data = marshal.dumps(self.fold(i))
                write_at(fd, data, offset)
                send.send((offset, len(data)))
                offset += len(data)
                i = self.take()
            send.send(None)
        except BaseException as e:  # every failure goes to the parent
            send_failure(send, e)

    def close(self) -> None:
        self.tell.close()
        self.receive.close()
        stop(self.worker)
        self.out.close()


class Forked(NamedTuple):
    worker: BaseProcess
    receive: Pipe  # the parent's end of the worker's pipe: EOF once the worker is gone
    file: IO[bytes]  # a temporary file both share (the worker writes it by offset)


def fork(name: str, target: Callable[..., None], *args: Any) -> Forked:
    """A worker forked to run ``target(*args, fd, send)``: ``fd`` a temporary file's, ``send``
    its end of a pipe to the parent (:func:`send_failure` for its failures). Raises
    ``OSError`` if no process can be had, having released what it made."""
    context = multiprocessing.get_context("fork")
    file = tempfile.TemporaryFile(prefix="factledger-fold-")  # noqa: SIM115
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(
        target=target, args=(*args, file.fileno(), send), name=name, daemon=True
    )
    try:
        worker.start()
    except BaseException:
        receive.close()
        file.close()
        raise
    finally:
        send.close()  # the worker's end: EOF at the parent's when the worker is gone
    return Forked(worker, receive, file)


#: Seconds a worker has to end once asked to (``SIGTERM``) before it is killed.
STOP_WAIT = 10.0


def stop(worker: BaseProcess) -> None:
    """A worker ended (asked, then killed if it does not), waited for and released."""
    if worker.is_alive():
        worker.terminate()
    worker.join(STOP_WAIT)
    if worker.exitcode is None:
        worker.kill()
        worker.join()
    worker.close()


def default_signals() -> None:
    """In a worker: ``SIGTERM`` ends it, whatever handler the application had installed (the
    worker inherits it with the fork; the parent stops a worker with ``SIGTERM``)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _Failure(NamedTuple):
    error: BaseException
    trace: str


def send_failure(send: Pipe, error: BaseException) -> None:
    """In a worker: ``error`` (being handled) sent to the parent, to be raised there."""
    trace = traceback.format_exc()
    try:
        send.send(_Failure(error, trace))
    except Exception:  # an exception that does not pickle
        send.send(_Failure(LedgerError(f"{type(error).__name__}: {error}"), trace))


def received(worker: BaseProcess, receive: Pipe) -> Any:
    """The worker's next message; the failure it sent raised (:func:`raise_failure`); a
    worker gone without a word reported."""
    try:
        message = receive.recv()
    except EOFError:
        worker.join()
        raise _ended(worker) from None
    return raise_failure(message)


def _ended(worker: BaseProcess) -> LedgerError:
    return LedgerError(
        "the rebuild's second process ended without finishing (exit code "
        f"{worker.exitcode}): nothing was written; run the rebuild again"
    )


def raise_failure(message: Any) -> Any:
    """In the parent: a worker's message, or the failure it sent raised as the worker raised
    it, with the worker's traceback as a note."""
    if isinstance(message, _Failure):
        message.error.add_note(f"in the rebuild's second process:\n{message.trace}")
        raise message.error
    return message


def write_at(fd: int, data: bytes, offset: int) -> None:
    """``data`` written to the file ``fd`` at ``offset`` (the file's own offset untouched)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def read_at(fd: int, offset: int, size: int) -> bytes:
    """``size`` bytes of the file ``fd`` from ``offset`` (the file's own offset untouched)."""
    chunks = []
    while size:
        chunk = os.pread(fd, size, offset)
        if not chunk:
            raise LedgerError("the rebuild's second process wrote fewer bytes than it said")
        chunks.append(chunk)
        offset, size = offset + len(chunk), size - len(chunk)
    return b"".join(chunks)
