"""``python -m benchmarks.amplification [EVENTS] [CHUNK,CHUNK,...]``: what importing the same
synthetic ledger in smaller transactions costs the bitemporal projection.

Each chunk of an import is its own transaction, so its own transaction time; every
proposition it touches is re-judged from the earliest valid time it touched, and every row
after that point that changed is closed and written again. This imports the generated ledger
(default 100,000 records) into fresh SQLite files with each chunk size (default: the whole
file, 50,000 and 10,000) and prints the import rate, the interval rows and the bytes of
verdict text. See BENCHMARKS.md, "1M".
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import attrs
from sqlalchemy import func, select

from benchmarks.generator import generate
from benchmarks.ours import Clock
from ledger import Ledger
from ledger.importer import WHOLE_FILE
from projections.tables import belief_intervals


@attrs.frozen
class Amplification:
    chunk_size: int
    seconds: float
    records: int
    rows: int
    verdict_bytes: int


def measure(events: int, chunk_sizes: list[int], directory: Path) -> list[Amplification]:
    gen = generate(events, directory / "gen")
    found = []
    for n, chunk in enumerate(chunk_sizes):
        lg = Ledger.open(f"sqlite:///{directory / f'amp-{n}.db'}", clock=Clock(gen.recorded_at(0)))
        try:
            t0 = time.perf_counter()
            report = lg.import_jsonl(gen.files[0], chunk_size=chunk)
            seconds = time.perf_counter() - t0
            with lg.store.engine.connect() as conn:
                rows, size = conn.execute(
                    select(func.count(), func.sum(func.length(belief_intervals.c.verdict)))
                ).one()
        finally:
            lg.close()
        found.append(Amplification(chunk, seconds, report.appended, rows, size or 0))
    return found


def main(argv: list[str]) -> None:
    events = int(argv[0]) if argv else 100_000
    chunks = [int(c) for c in argv[1].split(",")] if len(argv) > 1 else [WHOLE_FILE, 50_000, 10_000]
    with tempfile.TemporaryDirectory(prefix="factledger-amp-") as tmp:
        for a in measure(events, chunks, Path(tmp)):
            label = "whole file" if a.chunk_size >= events else f"{a.chunk_size:,}"
            print(
                f"chunk {label:>10}: {a.records / a.seconds:8,.0f} records/s, "
                f"{a.rows:9,} interval rows, {a.verdict_bytes / 1e6:7,.0f} MB of verdict text"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
