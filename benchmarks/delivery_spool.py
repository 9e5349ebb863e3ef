"""``python -m benchmarks.delivery_spool [--events N] [--last D] [--rounds R] [--json]``: what an
import of one batch saves by being appended from memory rather than from the import's spool.
SQLite.

Writes the deliveries workload's files (``--events`` records as deliveries of 1,000), imports
all but the last ``--last`` into a ledger in a temporary directory, then, each round, copies it
twice and imports the last deliveries into both copies, alternately (which goes first
alternates): one copy as the importer does it (a file of one batch is held in memory,
``ledger.jsonl.importer._Checked._keep``), the other with every batch written to the spool and
read back, as every import did before (``_keep`` replaced for that copy's imports). Prints the
median wall and CPU time of a delivery each way over every round; each round checks that the
two copies end with the same log (head position and hash).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import ours
from benchmarks.generator import generate
from ledger.events import Event
from ledger.jsonl import importer

WAYS = ("held", "spooled")


def _spool_always(
    self: importer._Checked, batch: list[tuple[int, Event]], *, ends_chunk: bool
) -> None:
    self._spool(batch, ends_chunk=ends_chunk)
    self.batches += 1


@contextmanager
def _kept(way: str) -> Iterator[None]:
    real: Callable[..., None] = importer._Checked._keep
    if way == "spooled":
        importer._Checked._keep = _spool_always  # type: ignore[method-assign]
    try:
        yield
    finally:
        importer._Checked._keep = real  # type: ignore[method-assign]


def compare(
    base: Path, files: list[tuple[Path, Any]], work: Path, rounds: int
) -> dict[str, dict[str, float]]:
    """Median wall and CPU ms of a delivery of ``files`` imported into copies of ``base``."""
    wall: dict[str, list[float]] = {way: [] for way in WAYS}
    cpu: dict[str, list[float]] = {way: [] for way in WAYS}
    for r in range(rounds):
        ledgers = {}
        for way in WAYS:
            copy = work / f"{way}.db"
            shutil.copy(base, copy)
            clock = ours.Clock(files[0][1])
            ledgers[way] = (ours.open_ledger(f"sqlite:///{copy}", clock), clock)
        try:
            for i, (path, at) in enumerate(files):
                for way in WAYS if (i + r) % 2 == 0 else WAYS[::-1]:
                    lg, clock = ledgers[way]
                    clock.set(at)
                    with _kept(way):
                        start, start_cpu = time.perf_counter(), time.process_time()
                        lg.import_jsonl(path)
                        wall[way].append((time.perf_counter() - start) * 1000)
                        cpu[way].append((time.process_time() - start_cpu) * 1000)
            heads = {way: lg.head() for way, (lg, _) in ledgers.items()}
            if heads["held"] != heads["spooled"]:  # the same events, at the same clock
                raise AssertionError(f"the two ways left different logs: {heads}")
        finally:
            for lg, _ in ledgers.values():
                lg.close()
    return {
        way: {
            "wall_ms": round(statistics.median(wall[way]), 1),
            "cpu_ms": round(statistics.median(cpu[way]), 1),
            "deliveries": len(wall[way]),
        }
        for way in WAYS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delivery_spool")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--last", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="factledger-spool-") as tmp:
        work = Path(tmp)
        gen = generate(args.events, work / "files", deliveries=max(2, args.events // 1_000))
        files = [(path, gen.recorded_at(k)) for k, path in enumerate(gen.files)]
        first, last = files[: -args.last], files[-args.last :]
        print(f"importing {len(first)} deliveries...", file=sys.stderr)
        base = work / "base.db"
        clock = ours.Clock(first[0][1])
        with ours.open_ledger(f"sqlite:///{base}", clock) as lg:
            for path, at in first:
                clock.set(at)
                ours.import_file(lg, path)
        print(f"the last {len(last)}, {args.rounds} rounds each way...", file=sys.stderr)
        result = compare(base, last, work, args.rounds)
    if args.json:
        print(json.dumps({"events": args.events, **result}))
        return 0
    for way, r in result.items():
        print(f"{way:<8} wall {r['wall_ms']:.1f} ms, CPU {r['cpu_ms']:.1f} ms a delivery")
    held, spooled = result["held"], result["spooled"]
    print(
        f"held / spooled: wall {held['wall_ms'] / spooled['wall_ms']:.3f}, "
        f"CPU {held['cpu_ms'] / spooled['cpu_ms']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
