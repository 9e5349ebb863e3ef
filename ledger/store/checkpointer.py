"""SQLite: the write-ahead log copied into the database file by a thread of its own.

A commit in WAL mode appends the pages it changed to the ``-wal`` file; a *checkpoint* copies
them into the database file so that the WAL can start over. SQLite runs one automatically at the
end of whichever commit finds the WAL past ``wal_autocheckpoint`` frames, and that commit waits
for it. For the ledger that was one daily delivery in three at 100k events paying for the pages
of the three (about 50 ms on top of a 100-120 ms delivery, the spikes of the deliveries' later
half), and one single append in some five hundred.

So, on a file database, a write that leaves the WAL past :data:`WAKE_AT_FRAMES` (about 32 MiB)
wakes a thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a connection of its own: the
copying overlaps the caller's next work (parsing and checking the next file, answering
queries) instead of lengthening a commit. PASSIVE never blocks a writer or a reader and never
waits for a lock; what it cannot copy yet (a reader still needs an older page) it leaves for
the next time. The writers' own automatic checkpoint stays as a backstop, set
:data:`BACKSTOP` times higher, for a WAL that outgrows what the thread keeps up with.

The WAL's size on disk is what tells how much it holds: SQLite starts a checkpointed WAL over
from its beginning but never shrinks the file by itself, so the writers' connections set
``journal_size_limit`` (:data:`WAL_KEEP_BYTES`), which truncates the file as it starts over.
Without it, a WAL that had once grown past the mark stayed that large and woke a checkpoint
after every commit.

Durability is unchanged: every commit still syncs the WAL (``synchronous=FULL``) before it
returns, and the checkpoint syncs the database file before the WAL is reused. A process that
ends without closing its ledger leaves a WAL that the next connection reads as always.

The thread starts on the first wake-up (most ledgers, and every test database, never need
one), is a daemon, and is stopped when the engine is disposed (``Ledger.close()``), garbage
collected, or the interpreter exits. Nothing here can fail a write: a thread that cannot be
started, or a checkpoint that fails, leaves the copying to the writers' backstop.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import urllib.parse
import weakref

#: Wake the thread once the WAL holds about this many frames of 4 KiB pages (SQLite's own
#: automatic checkpoint default is 1,000; 8,000 lets a page that several writes in a row change,
#: an upper level or a leaf of a random-keyed index, be copied once for them all).
WAKE_AT_FRAMES = 8_000
#: The writers' own automatic checkpoint, as a multiple of :data:`WAKE_AT_FRAMES`.
BACKSTOP = 4
_FRAME_BYTES = 4096 + 24  # a frame: a page of SQLite's default size and its header
#: The size the WAL file is truncated to when SQLite starts it over (``journal_size_limit``,
#: set on the writers' connections): well under the wake-up mark, so that the file's size says
#: how much the WAL holds since its last start.
WAL_KEEP_BYTES = 4 * 2**20


class _Worker:
    """One thread and its own signals: a :meth:`Checkpointer.close` stops the worker it took,
    whatever another close or nudge does meanwhile."""

    def __init__(self, path: str, done: list[int]):
        self.path = path
        self.done = done  # shared with the Checkpointer: its count of checkpoints made
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self.run, name=f"factledger checkpointer {path}", daemon=True
        )

    def run(self) -> None:
        try:
            # mode=rw: never create the file, should it have gone away meanwhile
            conn = sqlite3.connect(
                f"file:{urllib.parse.quote(self.path)}?mode=rw",
                uri=True,
                isolation_level=None,
                check_same_thread=True,
            )
        except sqlite3.Error:
            return  # the file went away: the next nudge tries again; the backstop remains
        try:
            conn.execute("PRAGMA synchronous=FULL")
            while True:
                self.wake.wait()
                self.wake.clear()
                if self.stop.is_set():
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.done[0] += 1
                except sqlite3.Error:
                    # Busy, or the file went away: the next wake-up tries again, and the
                    # writers' own automatic checkpoint remains the backstop.
                    continue
        finally:
            conn.close()

    def halt(self, *, wait: bool) -> None:
        self.stop.set()
        self.wake.set()
        if wait and self.thread is not threading.current_thread():
            self.thread.join()


class Checkpointer:
    """Checkpoints the WAL of the SQLite database at ``path`` in a thread of its own, when
    :meth:`nudge` finds it past ``frames`` frames."""

    def __init__(self, path: str, *, frames: int = WAKE_AT_FRAMES):
        self.path = path
        self.wal = path + "-wal"
        self.threshold = frames * _FRAME_BYTES
        self._done = [0]
        self._lock = threading.Lock()
        self._worker: _Worker | None = None

    @property
    def runs(self) -> int:
        """Checkpoints made so far (by every thread this object started), for the curious and
        the tests."""
        return self._done[0]

    def nudge(self) -> None:
        """After a commit: wake the thread (starting it if need be) if the WAL has grown past
        the threshold. One ``stat`` otherwise. Never raises."""
        try:
            if os.stat(self.wal).st_size < self.threshold:
                return
        except OSError:  # no WAL (yet, or any more): nothing to copy
            return
        with self._lock:
            worker = self._worker
            if worker is None or not worker.thread.is_alive():
                worker = _Worker(self.path, self._done)
                try:
                    worker.thread.start()
                except RuntimeError:  # no thread to be had: the writers' backstop copies
                    return
                self._worker = worker
        worker.wake.set()

    def close(self, *, wait: bool = True) -> None:
        """Stop the thread, if one runs, and (``wait``) wait for it: a checkpoint under way
        completes first. A later :meth:`nudge` starts a new one."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.halt(wait=wait)

    @property
    def running(self) -> bool:
        worker = self._worker
        return worker is not None and worker.thread.is_alive()


def stop_with(owner: object, checkpointer: Checkpointer) -> None:
    """Stop ``checkpointer``'s thread once ``owner`` (its engine) is garbage collected, or at
    the latest when the interpreter exits (a checkpoint under way completes first): a ledger
    never closed does not keep a thread and a connection to the end."""
    weakref.finalize(owner, checkpointer.close)
