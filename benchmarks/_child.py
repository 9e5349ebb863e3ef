"""One audit operation in a process of its own, so its peak RSS is its own.

``python -m benchmarks._child OPERATION URL [PLAN]`` opens the ledger (not timed), runs
OPERATION and prints one JSON line: ``seconds``, ``events``, ``peak_rss_mb`` (VmHWM, the
high-water mark of the whole process, interpreter and imports included) and ``base_rss_mb``
(VmHWM before the operation started: the floor the operation adds to).

* ``import``: ``Ledger.import_jsonl`` of each file PLAN names, in order (PLAN is a JSON file:
  ``{"files": [[path, recorded_at], ...]}``; the ledger clock is set to each file's
  ``recorded_at`` before it is imported and advances 1 ms a reading, as
  :class:`benchmarks.ours.Clock` does). ``seconds`` is the time inside the import calls, and
  ``per_file`` / ``per_file_records`` give each call's seconds and records appended;
* ``verify``: ``Ledger.verify()``, every hash, link and position;
* ``replay``: the reference fold over the whole log, ``projections.fold.fold(store.read())``;
* ``audit``: ``Ledger.replay`` at ``Ledger.answered_at()``, the last event's time (what
  ``factledger replay`` does: the chain verified, the fold, every proposition's verdict from it
  and from the projection, compared); ``events`` is the prefix's last position;
* ``rebuild``: ``Ledger.rebuild()``, the materialized projection recomputed from the log;
* ``read``: ``EventStore.read()`` decoded into events, nothing else (the floor of replay).

Operations that fork workers (a rebuild or a verify of 200,000 events or more:
``projections.forkroute``, ``projections.forkfold``) also report ``helper_peak_rss_mb`` (the
largest VmHWM of any of them, not their sum; the pages a worker shares with the parent counted
again) and ``helper_cpu_seconds`` (all of them); ``cpu_seconds`` includes the latter. Every
operation reports ``tree_peak_pss_mb``: the peak of the PSS of the process and its workers
together, sampled every 0.1 s (:class:`TreePss`), shared pages counted once.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.ours import Clock, import_file
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


def helpers_peak_rss_mb() -> float:
    """The largest peak RSS of the processes this one forked and waited for (a rebuild's or a
    verify's fold worker, ``projections.forkfold``), 0 if none: it counts the pages the worker
    shares with this process as well as its own."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def helpers_cpu() -> float:
    """CPU seconds of the processes this one forked and waited for, so far."""
    times = os.times()
    return times.children_user + times.children_system


def run_import(url: str, plan_path: str) -> dict[str, Any]:
    plan = json.loads(Path(plan_path).read_text())
    files = [(Path(p), datetime.fromisoformat(at)) for p, at in plan["files"]]
    clock = Clock(files[0][1])
    lg = Ledger.open(url, clock=clock)
    per_file: list[float] = []
    per_file_cpu: list[float] = []
    per_file_records: list[int] = []
    try:
        base = peak_rss_mb()
        for path, at in files:
            clock.set(at)
            t0, c0 = time.perf_counter(), time.process_time()
            per_file_records.append(import_file(lg, path))
            per_file.append(time.perf_counter() - t0)
            per_file_cpu.append(time.process_time() - c0)
    finally:
        lg.close()
    return {
        "seconds": sum(per_file),
        "events": float(sum(per_file_records)),
        "peak_rss_mb": peak_rss_mb(),
        "base_rss_mb": base,
        "per_file": per_file,
        "per_file_cpu": per_file_cpu,
        "per_file_records": per_file_records,
    }


class TreePss:
    """The peak, sampled every :data:`EVERY` seconds in a thread, of the proportional set size
    (PSS) of this process and its children together: memory they share (a forked worker's
    pages still the parent's) counted once, split among them, unlike the sum of their RSS."""

    EVERY = 0.1

    def __init__(self) -> None:
        self.peak_kib = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreePss:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    def _sample(self) -> None:
        while not self.stop.wait(self.EVERY):
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(pid) for pid in _tree()))

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024


def _tree() -> list[int]:
    """This process and its children (a worker's children it never has)."""
    pids = [os.getpid()]
    for task in Path("/proc/self/task").glob("*"):
        try:
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            continue
    return pids


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:  # gone meanwhile, or no /proc
        pass
    return 0


def run(operation: str, url: str) -> dict[str, float]:
    lg = Ledger.open(url)
    try:
        base = peak_rss_mb()
        with TreePss() as tree:
            t0, c0, h0 = time.perf_counter(), time.process_time(), helpers_cpu()
            events = _operate(lg, operation)
            seconds = time.perf_counter() - t0
            cpu_seconds = time.process_time() - c0
            helper_cpu = helpers_cpu() - h0
    finally:
        lg.close()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds + helper_cpu,
        "helper_cpu_seconds": helper_cpu,
        "events": float(events),
        "peak_rss_mb": peak_rss_mb(),
        "helper_peak_rss_mb": helpers_peak_rss_mb(),
        "tree_peak_pss_mb": tree.peak_mb,
        "base_rss_mb": base,
    }


def _operate(lg: Ledger, operation: str) -> int:
    """Run ``operation``; how many events it covered."""
    if operation == "verify":
        report = lg.verify()
        if not report.ok:
            raise SystemExit(f"verify failed: {report}")
        return report.checked
    if operation == "replay":
        return fold(lg.store.read()).position
    if operation == "audit":
        audit = lg.replay(lg.answered_at())
        if not audit.ok:
            raise SystemExit(f"replay failed: {audit.mismatches[:5]} {audit.verification}")
        return audit.position
    if operation == "rebuild":
        return lg.rebuild()
    if operation == "read":
        return sum(1 for _ in lg.store.read())
    raise SystemExit(f"unknown operation {operation!r}")


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[0] == "import":
        print(json.dumps(run_import(argv[1], argv[2])))
        return
    if len(argv) != 2:
        raise SystemExit("usage: python -m benchmarks._child OPERATION URL | import URL PLAN")
    print(json.dumps(run(argv[0], argv[1])))


if __name__ == "__main__":
    main(sys.argv[1:])
