"""SQLite's page cache and WAL checkpoints, as the append path sets them.

A delivery-sized write gets a page cache that holds what it changes (in SQLite's default 2 MiB
its pages spilled into the WAL before the commit and were written again); a single larger batch
keeps the default, its rows already holding more memory than the cache would. The WAL is
checkpointed every few deliveries, not at every commit, and on a file by a thread of its own
(the commits' own automatic checkpoint only a backstop, higher).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from ledger import Ledger, SourceRegistered
from ledger.store import append, backends


def _sources(prefix: str, n: int) -> list[SourceRegistered]:
    return [SourceRegistered(f"{prefix}{i}", f"Source {i}", "media") for i in range(n)]


def test_sqlite_small_writes_get_a_larger_cache_and_large_ones_the_default(
    tmp_path: Path,
) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as lg, lg.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (backends.WAL_BACKSTOP)
        default = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        backends.size_write_cache(conn, backends.WRITE_CACHE_ROWS)
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -backends.WRITE_CACHE_KIB
        backends.size_write_cache(conn, backends.WRITE_CACHE_ROWS + 1)
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == default


def test_each_batch_sizes_the_cache_for_its_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sized: list[int] = []
    real = backends.size_write_cache

    def spy(conn: Connection, rows: int) -> Any:
        sized.append(rows)
        return real(conn, rows)

    monkeypatch.setattr(append, "size_write_cache", spy)
    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as lg:
        lg.store.append(_sources("a", 3))
        lg.store.append_batches([_sources("b", 2), _sources("c", 4)])
        assert lg.head().position == 9
    assert sized == [3, 2, 4]
