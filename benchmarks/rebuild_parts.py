"""``python -m benchmarks.rebuild_parts sqlite|postgresql [--events N] [--rounds R] [--json]``:
where a rebuild's time goes, part by part.

Builds a ledger of ``--events`` generated records (one file, imported with the defaults) in a
fresh SQLite file or PostgreSQL schema (``BENCH_PG_URL`` or ``LEDGER_TEST_PG_URL``; removed
afterwards), or opens the one at ``--url``, then rebuilds it ``--rounds`` times with each part
of the fold by chain
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
later part of the log, and ``projections.forkfold``, which folds partitions) whatever the log's
size, ``both`` alternates one and two; the parts are the rebuild's own process's (the workers'
work is in none), so with two, ``read log``, ``decode``, ``route``, ``read partitions`` and
``fold`` are its share, ``routing worker`` is its wait for the worker that routes the later
part, and ``rest`` includes reading the folding worker's rows.

``--tuning SHARE:THREADS ...`` rebuilds with each tuning in turn (alternated with the
processes): ``SHARE`` the part of the log the rebuild's own process routes
(``forkroute.EARLIER_SHARE``), ``THREADS`` SQLite's sorter threads for the index builds
(``materialized.SORTER_THREADS``); ``--tuning 0.5:0 0.55:2`` compares session 19's rebuild
with session 20's.

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


#: A rebuild's tuning: the share of the log its own process routes
#: (``forkroute.EARLIER_SHARE``) and SQLite's sorter threads for its index builds
#: (``materialized.SORTER_THREADS``); None keeps the library's.
Tuning = tuple[float | None, int | None]


def rebuild_parts(
    lg: Ledger,
    rounds: int,
    processes: Sequence[int] = (1,),
    tunings: Sequence[Tuning] = ((None, None),),
) -> list[dict[str, float]]:
    """``rounds`` rebuilds of ``lg`` with each number of ``processes`` folding the partitions
    (1, 2: ``projections.forkfold``) and each of ``tunings`` (the order of the combinations
    alternates round by round), each as its parts (seconds, of the rebuild's own process: a
    worker's folds are not in ``fold``), its ``rest``, ``total``, ``processes``, ``share``
    and ``sorter threads`` (the tuning it ran with)."""
    combinations = [(count, tuning) for count in processes for tuning in tunings]
    results = []
    for round_ in range(rounds):
        for count, (share, threads) in combinations if round_ % 2 == 0 else combinations[::-1]:
            saved = forkfold.PARALLEL_FROM, forkroute.EARLIER_SHARE, materialized.SORTER_THREADS
            forkfold.PARALLEL_FROM = 0 if count == 2 else 2**62
            forkroute.EARLIER_SHARE = saved[1] if share is None else share
            materialized.SORTER_THREADS = saved[2] if threads is None else threads
            try:
                with timed_parts() as spent:
                    start = time.perf_counter()
                    lg.rebuild()
                    total = time.perf_counter() - start
                parts = {part: spent.get(part, 0.0) for part in PARTS}
                parts["rest"] = total - sum(spent.values())
                parts["total"] = total
                parts["processes"] = count
                parts["share"] = forkroute.EARLIER_SHARE
                parts["sorter threads"] = materialized.SORTER_THREADS
            finally:
                forkfold.PARALLEL_FROM, forkroute.EARLIER_SHARE = saved[:2]
                materialized.SORTER_THREADS = saved[2]
            results.append(parts)
    return results


def _tuning(text: str) -> Tuning:
    share, _, threads = text.partition(":")
    try:
        return float(share), int(threads)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: SHARE:THREADS, as 0.55:2") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rebuild_parts")
    parser.add_argument("backend", choices=("sqlite", "postgresql"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", choices=("1", "2", "both"), default="1")
    parser.add_argument("--tuning", type=_tuning, nargs="+", default=[(None, None)])
    parser.add_argument("--url")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    processes = (1, 2) if args.processes == "both" else (int(args.processes),)
    with _ledger(args.backend, args.events, args.url) as lg:
        print(f"rebuilding {args.rounds} times...", file=sys.stderr)
        rounds = rebuild_parts(lg, args.rounds, processes, args.tuning)
    if args.json:
        shown = [{part: round(seconds, 3) for part, seconds in r.items()} for r in rounds]
        print(json.dumps({"backend": args.backend, "events": args.events, "rounds": shown}))
        return 0
    names = ("processes", "share", "sorter threads", *PARTS, "rest", "total")
    print(f"{'part (s)':<16}" + "".join(f"{f'rebuild {i + 1}':>11}" for i in range(len(rounds))))
    for name in names:
        print(f"{name:<16}" + "".join(f"{r[name]:>11.3f}" for r in rounds))
    return 0


@contextmanager
def _ledger(backend: str, events: int, url: str | None) -> Iterator[Ledger]:
    """The ledger at ``url`` (left as found: a rebuild changes no answer), else a generated
    one of ``events`` records (removed after)."""
    if url is not None:
        with Ledger.open(url) as lg:
            if lg.store.engine.dialect.name != backend:
                raise SystemExit(f"--url is a {lg.store.engine.dialect.name} ledger, not {backend}")
            yield lg
        return
    with ours.generated_ledger(backend, events) as (lg, _):
        yield lg


if __name__ == "__main__":
    raise SystemExit(main())
