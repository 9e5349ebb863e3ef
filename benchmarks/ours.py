"""The factledger workloads: import, single append, as-of queries, and (in a child process, for
peak RSS) verify, reference-fold replay, rebuild and a plain read of the log.

Everything goes through the public API (``Ledger``), with one deterministic clock so that two
runs of the same size write byte-identical logs (the head hash is recorded to show it).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.generator import WORLD_DAYS, WORLD_START, Generated, read_records
from ledger import (
    CorrectionMade,
    DocumentRegistered,
    Event,
    Ledger,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)

#: How the import workload reached the ledger: the public import path, or (until it exists)
#: ``Ledger.append`` of the parsed events in one batch per file.
IMPORT_JSONL = "Ledger.import_jsonl"
APPEND_FALLBACK = "Ledger.append (fallback: no Ledger.import_jsonl)"
_ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """The ledger clock under the benchmark's control: each reading is 1 ms after the last,
    and :meth:`set` jumps to a delivery's day (never backwards)."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = max(self.now, when)


def open_ledger(url: str, clock: Clock | None = None) -> Ledger:
    return Ledger.open(url) if clock is None else Ledger.open(url, clock=clock)


# -- import ----------------------------------------------------------------------------------


def atomic_imports() -> bool:
    """``BENCH_IMPORT_ATOMIC=1``: import each file in one transaction (``atomic=True``, as
    ``factledger import --atomic``) instead of the importer's default chunks of 50,000."""
    return os.environ.get("BENCH_IMPORT_ATOMIC", "0") == "1"


def import_path() -> str:
    if not callable(getattr(Ledger, "import_jsonl", None)):
        return APPEND_FALLBACK
    return IMPORT_JSONL + ("(atomic=True)" if atomic_imports() else "")


def _event(record: dict[str, Any]) -> Event:
    """A generated record as its event (only the fallback path needs this)."""
    r = {k: v for k, v in record.items() if v is not None}
    kind = r.pop("type")
    rid = r.pop("id")
    if kind == "source":
        return SourceRegistered(rid, **r)
    if kind == "proposition":
        return PropositionDefined(rid, **r)
    if kind == "document":
        return DocumentRegistered(rid, **r)
    if kind == "statement":
        return StatementMade(
            rid,
            r.pop("source"),
            r.pop("proposition"),
            r.pop("stance"),
            r.pop("stated_at"),
            document_id=r.pop("document", None),
            **r,
        )
    return CorrectionMade(rid, r.pop("corrects"), r.pop("reason"), **_correction(r))


def _correction(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "set" in r:
        out["changes"] = r["set"]
    if "withdraw" in r:
        out["withdraw"] = r["withdraw"]
    return out


def import_file(lg: Ledger, path: Path) -> int:
    """Import one generated file through the public import path; returns records appended."""
    importer: Callable[..., Any] | None = getattr(lg, "import_jsonl", None)
    if importer is not None:
        report = importer(path, atomic=True) if atomic_imports() else importer(path)
        return int(report.appended)
    events = [_event(r) for r in read_records(path)]
    return len(lg.append(events).appended)


def import_deliveries(lg: Ledger, gen: Generated, clock: Clock) -> tuple[float, int]:
    """Import every delivery in order, the clock a day further each time.

    Returns the seconds spent inside the import calls and the records appended.
    """
    seconds, appended = 0.0, 0
    for k, path in enumerate(gen.files):
        clock.set(gen.recorded_at(k))
        t0 = time.perf_counter()
        appended += import_file(lg, path)
        seconds += time.perf_counter() - t0
    return seconds, appended


def store_deliveries(
    lg: Ledger, gen: Generated, clock: Clock, batch: int = 10_000
) -> tuple[float, int]:
    """Append every delivery with ``EventStore.append`` alone, in batches of ``batch``: the
    hash-chained log without the belief projection (log-only runs). Parsing is not timed."""
    seconds, appended = 0.0, 0
    for k, path in enumerate(gen.files):
        clock.set(gen.recorded_at(k))
        events = [_event(r) for r in read_records(path)]
        for i in range(0, len(events), batch):
            t0 = time.perf_counter()
            appended += len(lg.store.append(events[i : i + batch]).appended)
            seconds += time.perf_counter() - t0
    return seconds, appended


# -- single appends and as-of queries ----------------------------------------------------------


def single_appends(lg: Ledger, gen: Generated, count: int, seed: int, tag: str) -> list[float]:
    """Append ``count`` statements, each in its own transaction; latencies in seconds."""
    rng = random.Random(seed)
    latencies = []
    for i in range(count):
        event = StatementMade(
            f"append-{tag}-{i:05d}",
            rng.choice(gen.source_ids),
            rng.choice(gen.proposition_ids),
            rng.choice(("assert", "deny", "confirm", "refute", "retract", "no_comment")),
            (WORLD_START + timedelta(days=rng.randrange(WORLD_DAYS))).isoformat(),
        )
        t0 = time.perf_counter()
        lg.append([event])
        latencies.append(time.perf_counter() - t0)
    return latencies


def asof_queries(lg: Ledger, gen: Generated, count: int, seed: int) -> list[float]:
    """``believed(p, as_of, known_at)`` from the materialized projection for random
    propositions, valid times and transaction times (after the proposition was defined)."""
    rng = random.Random(seed)
    end = lg.head().recorded_at or datetime.now(UTC)
    world_start = datetime.combine(WORLD_START, datetime.min.time(), tzinfo=UTC)
    plans = []
    for _ in range(count):
        i = rng.randrange(len(gen.proposition_ids))
        first = gen.recorded_at(gen.proposition_delivery[i]) + timedelta(hours=1)
        span = max(0.0, (end - first).total_seconds())
        known_at = first + timedelta(seconds=rng.uniform(0, span))
        as_of = world_start + timedelta(seconds=rng.uniform(0, WORLD_DAYS * 86_400.0))
        plans.append((gen.proposition_ids[i], as_of, known_at))
    lg.believed(plans[0][0])  # warm the connection pool and the statement cache
    latencies = []
    for proposition, as_of, known_at in plans:
        t0 = time.perf_counter()
        lg.believed(proposition, as_of=as_of, known_at=known_at)
        latencies.append(time.perf_counter() - t0)
    return latencies


# -- the audit paths, each in a child process --------------------------------------------------

#: The operations :mod:`benchmarks._child` runs; each returns the events it went through.
AUDITS = ("verify", "replay", "rebuild", "read")


def run_child(operation: str, url: str, timeout: float | None = None) -> dict[str, float]:
    """Run one audit operation in a fresh interpreter; its seconds, events and peak RSS."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._child", operation, url],
        capture_output=True,
        text=True,
        cwd=_ROOT,
        env=env,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {operation!r} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
