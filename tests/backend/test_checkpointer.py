"""SQLite's WAL is copied into the database file by a thread of its own, not by a commit.

The commit that found the WAL past ``wal_autocheckpoint`` used to copy it, one daily delivery in
three paying for the pages of three (see ``ledger.store.checkpointer``). Now a write that leaves
the WAL past the threshold wakes a thread that runs a PASSIVE checkpoint on its own connection;
the writers' automatic checkpoint stays as a backstop. These are SQLite's alone: PostgreSQL has
a checkpointer of its own.
"""

from __future__ import annotations

import gc
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from ledger import Ledger, PropositionDefined, SourceRegistered, StatementMade
from ledger.store import backends, checkpointer


def _statements(tag: str, n: int) -> list[StatementMade]:
    return [
        StatementMade(f"{tag}-{i}", "src", "p", "assert" if i % 2 else "deny", "2024-10-18")
        for i in range(n)
    ]


def _eventually(condition: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def _checkpointer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("factledger checkpointer")]


def test_a_file_ledger_has_its_wal_checkpointed_by_a_thread_not_by_its_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.db"
    with Ledger.open(f"sqlite:///{path}") as lg:
        copier = backends.checkpointer_of(lg.store.engine)
        assert copier is not None and not copier.running  # not started until needed
        lg.append([SourceRegistered("src", "A source", "media"), PropositionDefined("p", "P")])
        assert not copier.running  # a small WAL: nothing to copy yet
        with lg.store.engine.connect() as conn:  # the commits' own: only a backstop
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (
                checkpointer.WAKE_AT_FRAMES * checkpointer.BACKSTOP
            )
        copier.threshold = 1  # every write now finds the WAL past it
        lg.append(_statements("a", 5))
        assert copier.running
        assert _eventually(lambda: copier.runs >= 1)
        # what the thread copied is in the database file itself: a copy of the file alone,
        # without the WAL, holds every event (the one write since it woke was all of them)
        alone = tmp_path / "alone.db"
        shutil.copyfile(path, alone)
        raw = sqlite3.connect(alone)
        try:
            assert raw.execute("SELECT count(*) FROM events").fetchone()[0] == 7
        finally:
            raw.close()
    assert not copier.running  # Ledger.close() stopped it
    assert all(t.name != f"factledger checkpointer {path}" for t in _checkpointer_threads())


def test_checkpoints_beside_every_write_and_read_keep_the_ledger_whole(tmp_path: Path) -> None:
    """Writers, readers and the checkpointer all at once: nothing lost, the chain intact."""
    url = f"sqlite:///{tmp_path / 'l.db'}"
    with Ledger.open(url) as lg:
        copier = backends.checkpointer_of(lg.store.engine)
        assert copier is not None
        copier.threshold = 1
        lg.append([SourceRegistered("src", "A source", "media"), PropositionDefined("p", "P")])
        for k in range(60):
            lg.append(_statements(f"b{k}", 3))
            verdict = lg.believed("p").verdict  # one source: one live stance, its last
            assert len(verdict.supporters) + len(verdict.deniers) == 1
        assert _eventually(lambda: copier.runs >= 1)
        assert lg.head().position == 2 + 60 * 3
        assert lg.verify().ok
    with Ledger.open(url) as again:  # reopened: what the WAL and the file hold together
        assert again.head().position == 182
        assert again.verify().ok


def test_memory_and_uri_databases_have_no_checkpointer(tmp_path: Path) -> None:
    for url in ("sqlite://", f"sqlite:///file:{tmp_path / 'u.db'}?uri=true"):
        with Ledger.open(url) as lg:
            lg.append([SourceRegistered("src", "A source", "media")])
            assert backends.checkpointer_of(lg.store.engine) is None


def test_closing_stops_the_thread_mid_work_and_a_later_write_starts_another(
    tmp_path: Path,
) -> None:
    copier = checkpointer.Checkpointer(str(tmp_path / "l.db"), frames=0)
    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as lg:  # open: its WAL is there
        lg.append([SourceRegistered("src", "A source", "media")])
        copier.nudge()
        assert copier.running
        copier.close()
        assert not copier.running
        copier.nudge()  # a nudge after close starts a new thread
        assert _eventually(lambda: copier.runs >= 1)
        copier.close()
        assert not copier.running


def test_a_wal_that_grew_once_does_not_wake_a_checkpoint_at_every_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite starts a checkpointed WAL over without shrinking the file; the writers' connections
    have it truncated as it starts over (``journal_size_limit``), so its size keeps telling
    what it holds, and small commits after a checkpoint wake none."""
    monkeypatch.setattr(checkpointer, "WAL_KEEP_BYTES", 64 * 1024)
    path = tmp_path / "l.db"
    with Ledger.open(f"sqlite:///{path}") as lg:
        copier = backends.checkpointer_of(lg.store.engine)
        assert copier is not None
        copier.threshold = 400 * 4120
        lg.append([SourceRegistered("src", "A source", "media"), PropositionDefined("p", "P")])
        k = 0
        while copier.runs == 0:
            k += 1
            lg.append(_statements(f"g{k}", 200))
            _eventually(lambda: copier.runs > 0, seconds=0.2)
        before = copier.runs
        for i in range(5):
            lg.append(_statements(f"small{i}", 1))
            time.sleep(0.05)  # time for a wake-up to be acted on, were there one
        assert copier.runs == before
        assert Path(f"{path}-wal").stat().st_size < copier.threshold


def test_two_closes_at_once_both_return(tmp_path: Path) -> None:
    copier = checkpointer.Checkpointer(str(tmp_path / "l.db"), frames=0)
    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as lg:
        lg.append([SourceRegistered("src", "A source", "media")])
        copier.nudge()
        assert copier.running
        closers = [threading.Thread(target=copier.close) for _ in range(2)]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join(timeout=10)
        assert not any(closer.is_alive() for closer in closers)
        assert not copier.running


def test_a_ledger_never_closed_does_not_keep_its_thread(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    lg = Ledger.open(f"sqlite:///{path}")
    copier = backends.checkpointer_of(lg.store.engine)
    assert copier is not None
    copier.threshold = 0
    lg.append([SourceRegistered("src", "A source", "media")])
    assert copier.running
    del lg
    gc.collect()
    assert _eventually(lambda: not copier.running, seconds=10)
