"""``python -m benchmarks.answer_paths sqlite|postgresql [--events N] [--questions Q]``: an
answer's rows in force found by a scan of the proposition's against the interval tree's probes.

Builds a ledger of ``--events`` generated records (one file, imported with the defaults) in a
fresh SQLite file or PostgreSQL schema (``BENCH_PG_URL`` or ``LEDGER_TEST_PG_URL``; removed
afterwards), then asks ``--questions`` random questions as the harness's as-of workload does
(random proposition, valid time and known_at). It asks each twice in a row: once with the
scan allowed (the ledger's hint, ``lg.projection.busy``, empty: the default for a proposition
with at most ``_SCAN_UP_TO`` rows in force) and once with every proposition sent to the tree. Which
goes first alternates, so the machine's drift and each question's warm caches hit both alike.
It checks that the two answers are equal and prints each way's p50 and mean latency. ``--json``
prints them as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from benchmarks import ours
from benchmarks.generator import Generated
from ledger import Ledger


class EveryProposition(set[str]):
    """A hint (for ``MaterializedProjection.busy``) that calls every proposition busy: every answer
    probes the tree. The tests use it too."""

    def __contains__(self, item: object) -> bool:
        return True


def compare(lg: Ledger, gen: Generated, count: int) -> dict[str, Any]:
    """Ask ``count`` questions both ways, alternately; latencies in ms."""
    ways: dict[str, set[str]] = {"scan": set(), "tree": EveryProposition()}
    latencies: dict[str, list[float]] = {"scan": [], "tree": []}
    saved = lg.projection.busy
    try:
        questions = ours.asof_plans(lg, gen, count, seed=7)
        lg.believed(questions[0][0])  # warm the pool and the statement cache
        for i, (proposition, as_of, known_at) in enumerate(questions):
            answers = []
            for way in ("scan", "tree") if i % 2 == 0 else ("tree", "scan"):
                lg.projection.busy = ways[way]
                t0 = time.perf_counter()
                answers.append(lg.believed(proposition, as_of=as_of, known_at=known_at))
                latencies[way].append((time.perf_counter() - t0) * 1000)
            if answers[0] != answers[1]:
                raise AssertionError(f"the two ways answer {proposition} differently")
    finally:
        lg.projection.busy = saved
    return {
        way: {"p50_ms": statistics.median(ms), "mean_ms": statistics.mean(ms)}
        for way, ms in latencies.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.answer_paths")
    parser.add_argument("backend", choices=("sqlite", "postgresql"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=2_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with ours.generated_ledger(args.backend, args.events) as (lg, gen):
        print(f"asking {args.questions:,} questions both ways...", file=sys.stderr)
        result = compare(lg, gen, args.questions)
    result = {"backend": args.backend, "events": args.events, **result}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for way in ("scan", "tree"):
            r = result[way]
            print(f"{way}: p50 {r['p50_ms']:.3f} ms, mean {r['mean_ms']:.3f} ms")
        print(f"scan / tree p50: {result['scan']['p50_ms'] / result['tree']['p50_ms']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
