"""``python -m benchmarks.rebuild_parts sqlite|postgresql [--events N] [--rounds R] [--json]``:
where a rebuild's time goes, part by part.

Builds a ledger of ``--events`` generated records (one file, imported with the defaults) in a
fresh SQLite file or PostgreSQL schema (``BENCH_PG_URL`` or ``LEDGER_TEST_PG_URL``; removed
afterwards), then rebuilds it ``--rounds`` times with each part of the fold by chain
(``projections.chainfold``) timed around its call, wall time in seconds:

* ``read log``: taking each window of events from the log's pages (``_rows_after``);
* ``decode``: each window's events as stance operations, with the copies of its sources and
  propositions (``read_window``);
* ``route``: the operations placed in their partitions and spilled to the partitions' files;
* ``read partitions``: each partition read back; ``fold``: each partition folded;
* ``insert``: the stance rows inserted; ``indexes``: the indexes built at the end;
* ``statistics``: the planner's statistics refreshed (PostgreSQL); ``empty``: the derived
  tables emptied;
* ``routing worker``: with two processes, waiting for the worker that routes the later half of
  the log once this process has routed the earlier, and writing the copies it sends;
* ``rest``: the rebuild's wall time less the parts (the commit, the checkpoint's row, the
  correction targets' read).

``--processes 2`` rebuilds with the forked workers (``projections.forkroute``, which routes the
later half of the log, and ``projections.forkfold``, which folds partitions) whatever the log's
size, ``both`` alternates one and two; the parts are the rebuild's own process's (the workers'
work is in none), so with two, ``read log``, ``decode``, ``route``, ``read partitions`` and
``fold`` are its share, ``routing worker`` is its wait for the worker that routes the later
half, and ``rest`` includes reading the folding worker's rows.

The timers wrap the functions for the run (and are removed after it), so each figure
includes a timer's own cost, about a microsecond a window, partition or call. The fold by
window that a rebuild falls back to (too many corrections, a chain too busy) is not split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import types
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Index

from benchmarks import ours
from ledger import Ledger
from ledger.store import bulk
from ledger.store.backends import refresh_statistics
from projections import chainfold, eventrows, forkfold, forkroute, materialized

PARTS = (
    "read log",
    "decode",
    "route",
    "read partitions",
    "fold",
    "insert",
    "indexes",
    "statistics",
    "empty",
    "routing worker",
)

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def timed_parts() -> Iterator[dict[str, float]]:
    """Seconds spent in each of :data:`PARTS` while the block runs (a rebuild)."""
    spent: dict[str, float] = defaultdict(float)

    def timed(part: str, call: F) -> F:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent[part] += time.perf_counter() - start

        return wrapper  # type: ignore[return-value]

    def windows(rows: Any, size: int) -> Iterator[list[Any]]:
        inner = eventrows.windows(rows, size)
        while True:
            start = time.perf_counter()
            window = next(inner, None)
            spent["read log"] += time.perf_counter() - start
            if window is None:
                return
            yield window

    def read(self: chainfold.Partitions, i: int) -> Iterator[Any]:
        start = time.perf_counter()
        operations = list(real_read(self, i))
        spent["read partitions"] += time.perf_counter() - start
        return iter(operations)

    real_read = chainfold.Partitions.read
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, value: Any) -> None:
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    patch(chainfold, "windows", windows)
    # the names the fold calls them by in its modules, patched there and restored after
    patch(chainfold, "read_window", timed("decode", eventrows.read_window))
    patch(chainfold.Partitions, "route", timed("route", chainfold.Partitions.route))
    patch(chainfold.Partitions, "read", read)
    patch(chainfold, "fold_partition", timed("fold", chainfold.fold_partition))
    # the fold's own inserts only: read_window's copies stay in "decode"
    patch(chainfold, "bulk", types.SimpleNamespace(insert_many=timed("insert", bulk.insert_many)))
    patch(Index, "create", timed("indexes", Index.create))
    patch(materialized, "refresh_statistics", timed("statistics", refresh_statistics))
    patch(materialized, "_wipe", timed("empty", materialized._wipe))
    patch(forkroute.Routing, "finish", timed("routing worker", forkroute.Routing.finish))
    try:
        yield spent
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


def rebuild_parts(
    lg: Ledger, rounds: int, processes: Sequence[int] = (1,)
) -> list[dict[str, float]]:
    """``rounds`` rebuilds of ``lg`` with each number of ``processes`` folding the partitions
    (1, 2: ``projections.forkfold``; the order alternates round by round), each as its parts
    (seconds, of the rebuild's own process: a worker's folds are not in ``fold``), its
    ``rest``, ``total`` and ``processes``."""
    results = []
    for round_ in range(rounds):
        for count in processes if round_ % 2 == 0 else processes[::-1]:
            was = forkfold.PARALLEL_FROM
            forkfold.PARALLEL_FROM = 0 if count == 2 else 2**62
            try:
                with timed_parts() as spent:
                    start = time.perf_counter()
                    lg.rebuild()
                    total = time.perf_counter() - start
            finally:
                forkfold.PARALLEL_FROM = was
            parts = {part: spent.get(part, 0.0) for part in PARTS}
            parts["rest"] = total - sum(spent.values())
            parts["total"] = total
            parts["processes"] = count
            results.append(parts)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rebuild_parts")
    parser.add_argument("backend", choices=("sqlite", "postgresql"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", choices=("1", "2", "both"), default="1")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    processes = (1, 2) if args.processes == "both" else (int(args.processes),)
    with ours.generated_ledger(args.backend, args.events) as (lg, _):
        print(f"rebuilding {args.rounds} times...", file=sys.stderr)
        rounds = rebuild_parts(lg, args.rounds, processes)
    if args.json:
        shown = [{part: round(seconds, 3) for part, seconds in r.items()} for r in rounds]
        print(json.dumps({"backend": args.backend, "events": args.events, "rounds": shown}))
        return 0
    names = ("processes", *PARTS, "rest", "total")
    print(f"{'part (s)':<16}" + "".join(f"{f'rebuild {i + 1}':>11}" for i in range(len(rounds))))
    for name in names:
        print(f"{name:<16}" + "".join(f"{r[name]:>11.3f}" for r in rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
