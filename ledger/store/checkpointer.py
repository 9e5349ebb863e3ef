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

Durability is unchanged: every commit still syncs the WAL (``synchronous=FULL``) before it
returns, and the checkpoint syncs the database file before the WAL is reused. A process that
ends without closing its ledger leaves a WAL that the next connection reads as always.

The thread starts on the first wake-up (most ledgers, and every test database, never need
one), is a daemon, and is stopped when the engine is disposed (``Ledger.close()``) or the
interpreter exits.
"""

from __future__ import annotations

import atexit
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

_ALL: weakref.WeakSet[Checkpointer] = weakref.WeakSet()


class Checkpointer:
    """Checkpoints the WAL of the SQLite database at ``path`` in a thread of its own, when
    :meth:`nudge` finds it past ``frames`` frames."""

    def __init__(self, path: str, *, frames: int = WAKE_AT_FRAMES):
        self.path = path
        self.wal = path + "-wal"
        self.threshold = frames * _FRAME_BYTES
        self.runs = 0  # checkpoints made, for the curious and the tests
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False
        _ALL.add(self)

    def nudge(self) -> None:
        """After a commit: wake the thread (starting it if need be) if the WAL has grown past
        the threshold. One ``stat`` otherwise."""
        try:
            if os.stat(self.wal).st_size < self.threshold:
                return
        except OSError:  # no WAL (yet, or any more): nothing to copy
            return
        with self._lock:
            if self._closing:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"factledger checkpointer {self.path}", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
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
                self._wake.wait()
                self._wake.clear()
                if self._closing:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                except sqlite3.Error:
                    # Busy, or the file went away: the next wake-up tries again, and the
                    # writers' own automatic checkpoint remains the backstop.
                    continue
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the thread, if it runs, and wait for it (a checkpoint under way completes).
        A later :meth:`nudge` starts a new one."""
        with self._lock:
            self._closing = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            thread.join()
        with self._lock:
            self._closing = False
            self._wake.clear()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


@atexit.register
def _close_all() -> None:
    for checkpointer in list(_ALL):
        checkpointer.close()
