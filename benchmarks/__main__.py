"""``python -m benchmarks``: run the benchmarks, print the table, write JSON to ``.bench/``.

Environment:

* ``BENCH_SIZE``: ``tiny``, ``small`` (default), ``100k`` or ``1m``;
* ``BENCH_WORKLOADS``: ``all`` (default) or a comma-separated choice of ``import`` (import,
  single append, as-of, verify, replay, rebuild, read: issue 6), ``logonly`` (single
  ``Ledger.append`` against the log-only ``EventStore.append``), ``deliveries`` (many small
  imports a day apart against one import of the same records) and ``hot`` (one proposition
  with thousands of statements beside ordinary ones): issue 10;
* ``BENCH_RUNS``: runs per figure, medians reported (default 3);
* ``BENCH_BACKENDS``: comma-separated, from ``sqlite`` and ``postgresql`` (default both);
* ``BENCH_PG_URL``: the PostgreSQL server (default ``LEDGER_TEST_PG_URL``, else the local
  server's database ``test`` as user ``postgres``); a schema is created per database and
  dropped at the end;
* ``BENCH_PEER``: ``0`` skips the eventsourcing workloads (they are skipped anyway, with a
  note, when the package is not installed: ``make bench`` installs it);
* ``BENCH_OUT``: the results directory (default ``.bench``); a run of some workloads only is
  written as ``results-<size>-<workloads>-<time>.json``;
* ``BENCH_LOG_ONLY=1``: build the log with ``EventStore.append`` alone (no belief projection)
  and measure only verify, replay and read (and the peer): a partial run for sizes the import
  path cannot reach in reasonable time;
* ``BENCH_IMPORT_ATOMIC=1``: import each generated file in one transaction
  (``import_jsonl(..., atomic=True)``) rather than in the importer's default chunks of 50,000.

An unreachable PostgreSQL server is reported and skipped, unless ``CI`` is set.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import peer
from benchmarks.databases import (
    Backend,
    pg_reachable,
    pg_url_from_env,
    postgres_backend,
    sqlite_backend,
)
from benchmarks.harness import SIZES, WORKLOADS, postgres_version, run_benchmarks, table


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> int:
    size_name = os.environ.get("BENCH_SIZE", "small").lower()
    if size_name not in SIZES:
        _log(f"BENCH_SIZE={size_name!r}: choose one of {', '.join(SIZES)}")
        return 2
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    wanted = [b.strip() for b in os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")]
    with_peer = os.environ.get("BENCH_PEER", "1") != "0"
    out_dir = Path(os.environ.get("BENCH_OUT", ".bench"))
    log_only = os.environ.get("BENCH_LOG_ONLY", "0") == "1"
    wanted_workloads = os.environ.get("BENCH_WORKLOADS", "all").lower()
    workloads = (
        list(WORKLOADS)
        if wanted_workloads.strip() == "all"
        else [w.strip() for w in wanted_workloads.split(",") if w.strip()]
    )
    if not workloads or set(workloads) - set(WORKLOADS):
        _log(f"BENCH_WORKLOADS={wanted_workloads!r}: all, or some of {', '.join(WORKLOADS)}")
        return 2
    if with_peer and not peer.available():
        _log("eventsourcing is not installed: peer workloads skipped (make bench installs it)")

    pg_url = pg_url_from_env()
    backends: list[Backend] = []
    pg_server: str | None = None
    for name in wanted:
        if name == "sqlite":
            backends.append(sqlite_backend())
        elif name == "postgresql":
            problem = pg_reachable(pg_url)
            if problem is None:
                backends.append(postgres_backend(pg_url))
                pg_server = postgres_version(pg_url)
            elif os.environ.get("CI"):
                _log(f"PostgreSQL not reachable at {pg_url}: {problem}")
                return 1
            else:
                _log(f"PostgreSQL not reachable at {pg_url}, skipped: {problem}")
        else:
            _log(f"BENCH_BACKENDS: unknown backend {name!r} (sqlite, postgresql)")
            return 2
    try:
        result = run_benchmarks(
            SIZES[size_name],
            backends,
            runs=runs,
            with_peer=with_peer,
            log=_log,
            log_only=log_only,
            workloads=workloads,
        )
    finally:
        for backend in backends:
            backend.close()
    result["meta"]["versions"]["postgresql"] = pg_server

    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(result, indent=2, sort_keys=True)
    tag = f"{size_name}-log-only" if log_only else size_name
    if not log_only and set(workloads) != set(WORKLOADS):
        tag += "-" + "+".join(w for w in WORKLOADS if w in workloads)
    (out_dir / f"results-{tag}-{stamp}.json").write_text(text)
    (out_dir / f"latest-{tag}.json").write_text(text)
    print(table(result))
    print(f"\nresults: {out_dir / f'results-{tag}-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
