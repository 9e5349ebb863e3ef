"""``python -m benchmarks.amplification [EVENTS] [CHUNK,CHUNK,...]``: what importing the same
synthetic ledger in smaller transactions costs the bitemporal projection.

Each chunk of an import is its own transaction, so its own transaction time; every
proposition it touches is re-judged from the earliest valid time it touched, and every row
after that point that changed is closed and written again. This imports the generated ledger
(default 100,000 records) into fresh SQLite files with each chunk size (default: the whole
file, 50,000 and 10,000) and prints the import rate, the rows of the derived tables and their
size on disk next to the events table's.

It reads the projection's tables by name only (every table whose name starts with
``belief_``, counted with ``count(*)`` and measured with ``dbstat``), so it measures whichever
projection the ledger has. (Until issue 10 it summed ``belief_intervals.verdict``, a column of
the projection that stored verdicts; the figures in BENCHMARKS.md's "1M" section are that.)
See BENCHMARKS.md, "1M" and "Deliveries and a hot proposition".
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import attrs
from sqlalchemy import inspect, text

from benchmarks.databases import split_sizes, table_sizes
from benchmarks.generator import generate
from benchmarks.ours import Clock
from ledger import Ledger
from ledger.jsonl.importer import WHOLE_FILE


@attrs.frozen
class Amplification:
    chunk_size: int
    seconds: float
    records: int
    #: Rows of every ``belief_*`` table together.
    rows: int
    #: Bytes on disk (dbstat) of the ``belief_*`` tables and of ``events``, indexes included.
    derived_bytes: int
    events_bytes: int


def measure(events: int, chunk_sizes: list[int], directory: Path) -> list[Amplification]:
    gen = generate(events, directory / "gen")
    found = []
    for n, chunk in enumerate(chunk_sizes):
        url = f"sqlite:///{directory / f'amp-{n}.db'}"
        lg = Ledger.open(url, clock=Clock(gen.recorded_at(0)))
        try:
            t0 = time.perf_counter()
            report = lg.import_jsonl(gen.files[0], chunk_size=chunk)
            seconds = time.perf_counter() - t0
            rows = derived_rows(lg)
        finally:
            lg.close()
        sizes = split_sizes(table_sizes(url)[1])
        found.append(
            Amplification(chunk, seconds, report.appended, rows, sizes["derived"], sizes["events"])
        )
    return found


def derived_rows(lg: Ledger) -> int:
    """Rows of every table whose name starts with ``belief_``."""
    with lg.store.engine.connect() as conn:
        names = [t for t in inspect(conn).get_table_names() if t.startswith("belief_")]
        return sum(
            int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in names
        )


def main(argv: list[str]) -> None:
    events = int(argv[0]) if argv else 100_000
    chunks = [int(c) for c in argv[1].split(",")] if len(argv) > 1 else [WHOLE_FILE, 50_000, 10_000]
    with tempfile.TemporaryDirectory(prefix="factledger-amp-") as tmp:
        for a in measure(events, chunks, Path(tmp)):
            label = "whole file" if a.chunk_size >= events else f"{a.chunk_size:,}"
            print(
                f"chunk {label:>10}: {a.records / a.seconds:8,.0f} records/s, "
                f"{a.rows:9,} derived rows, belief_* tables {a.derived_bytes / 1e6:7,.1f} MB "
                f"on disk (events {a.events_bytes / 1e6:,.1f} MB)"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
