"""One audit operation in a process of its own, so its peak RSS is its own.

``python -m benchmarks._child OPERATION URL`` opens the ledger (not timed), runs OPERATION and
prints one JSON line: ``seconds``, ``events``, ``peak_rss_mb`` (VmHWM, the high-water mark of
the whole process, interpreter and imports included) and ``base_rss_mb`` (VmHWM before the
operation started: the floor the operation adds to).

* ``verify``: ``Ledger.verify()``, every hash, link and position;
* ``replay``: the reference fold over the whole log, ``projections.fold.fold(store.read())``;
* ``rebuild``: ``Ledger.rebuild()``, the materialized projection recomputed from the log;
* ``read``: ``EventStore.read()`` decoded into events, nothing else (the floor of replay).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from ledger import Ledger
from projections.fold import fold


def peak_rss_mb() -> float:
    """The process's peak resident set size (VmHWM) in MiB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(operation: str, url: str) -> dict[str, float]:
    lg = Ledger.open(url)
    try:
        base = peak_rss_mb()
        t0 = time.perf_counter()
        if operation == "verify":
            report = lg.verify()
            if not report.ok:
                raise SystemExit(f"verify failed: {report}")
            events = report.checked
        elif operation == "replay":
            events = fold(lg.store.read()).position
        elif operation == "rebuild":
            events = lg.rebuild()
        elif operation == "read":
            events = sum(1 for _ in lg.store.read())
        else:
            raise SystemExit(f"unknown operation {operation!r}")
        seconds = time.perf_counter() - t0
    finally:
        lg.close()
    return {
        "seconds": seconds,
        "events": float(events),
        "peak_rss_mb": peak_rss_mb(),
        "base_rss_mb": base,
    }


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m benchmarks._child OPERATION URL")
    print(json.dumps(run(argv[0], argv[1])))


if __name__ == "__main__":
    main(sys.argv[1:])
