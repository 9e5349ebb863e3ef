"""Run every workload at one size on each backend, side by side with the peer, and judge the
figures against the targets of issue 6.

Headline figures are medians over ``runs`` runs, each on a fresh database: a rate is the median
of the per-run rates, a latency percentile the median of the per-run percentiles.
"""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from benchmarks import ours, peer
from benchmarks.databases import Backend
from benchmarks.generator import RECORDED_START, Generated, generate


@dataclass(frozen=True)
class Size:
    """One benchmark size: the ledger and how much of each workload to run on it."""

    name: str
    events: int
    deliveries: int
    appends: int
    queries: int


SIZES: dict[str, Size] = {
    "tiny": Size("tiny", 200, 2, 3, 10),
    "small": Size("small", 10_000, 1, 100, 300),
    "100k": Size("100k", 100_000, 1, 200, 500),
    "1m": Size("1m", 1_000_000, 1, 200, 500),
}
#: The size the as-of flatness target compares with.
REFERENCE_EVENTS = 10_000

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0 < q <= 100) by the nearest-rank method."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(samples: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(samples, 50) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "n": float(len(samples)),
    }


# -- one backend -----------------------------------------------------------------------------


def _our_run(
    backend: Backend, gen: Generated, size: Size, run: int, log: Log, *, log_only: bool = False
) -> dict[str, Any]:
    url = backend.new_url()
    clock = ours.Clock(RECORDED_START)
    lg = ours.open_ledger(url, clock)
    result: dict[str, Any] = {}
    try:
        if log_only:
            seconds, appended = ours.store_deliveries(lg, gen, clock)
            result["store_append"] = {
                "seconds": seconds,
                "records": appended,
                "rate": appended / seconds,
            }
            log(f"    log only (EventStore.append, no projection): {appended / seconds:,.0f}/s")
        else:
            seconds, appended = ours.import_deliveries(lg, gen, clock)
            result["import"] = {"seconds": seconds, "records": appended, "rate": appended / seconds}
            log(
                f"    import: {appended:,} records in {seconds:.2f} s ({appended / seconds:,.0f}/s)"
            )
        head = lg.head()
        result["head_after_import"] = {"position": head.position, "hash": head.hash}
        if not log_only:
            appends = ours.single_appends(lg, gen, size.appends, seed=run, tag=f"r{run}")
            result["append"] = _ms(appends)
            log(f"    single append: p50 {percentile(appends, 50) * 1000:.2f} ms")
            asof = ours.asof_queries(lg, gen, size.queries, seed=run)
            result["asof"] = _ms(asof)
            log(f"    as-of: p50 {percentile(asof, 50) * 1000:.3f} ms")
    finally:
        lg.close()
    for operation in ours.AUDITS:  # rebuild last: it rewrites the projection
        if log_only and operation == "rebuild":
            continue
        child = ours.run_child(operation, url)
        child["rate"] = child["events"] / child["seconds"]
        result[operation] = child
        log(
            f"    {operation}: {child['events']:,.0f} events in {child['seconds']:.2f} s "
            f"({child['rate']:,.0f}/s), peak RSS {child['peak_rss_mb']:.0f} MB"
        )
    return result


def _reference_asof(
    backend: Backend, size: Size, runs: int, workdir: Path, log: Log
) -> list[float]:
    """as-of p50 (ms) on a ledger of :data:`REFERENCE_EVENTS` events, one figure per run."""
    gen = generate(REFERENCE_EVENTS, workdir / "reference", deliveries=size.deliveries)
    clock = ours.Clock(RECORDED_START)
    lg = ours.open_ledger(backend.new_url(), clock)
    try:
        ours.import_deliveries(lg, gen, clock)
        out = [
            percentile(ours.asof_queries(lg, gen, size.queries, seed=r), 50) * 1000
            for r in range(runs)
        ]
    finally:
        lg.close()
    log(f"    as-of at {REFERENCE_EVENTS:,} events: p50 {statistics.median(out):.3f} ms")
    return out


def _peer_run(
    backend: Backend, gen: Generated, events: list[Any], size: Size, run: int
) -> dict[str, Any]:
    store = peer.PeerStore(backend.new_url())
    try:
        batched = store.insert_batched(events)
        one = store.insert_one(size.appends, seed=run, template=peer.one_statement_template(gen))
        read_seconds, read_events = store.read()
        originators = [e.originator_id for e in events[:: max(1, len(events) // 5_000)]]
        select = store.select_stream(originators, size.queries, seed=run)
    finally:
        store.close()
    return {
        "insert_batched": {
            "seconds": batched,
            "events": len(events),
            "rate": len(events) / batched,
        },
        "insert_one": _ms(one),
        "read": {
            "seconds": read_seconds,
            "events": read_events,
            "rate": read_events / read_seconds,
        },
        "select_stream": _ms(select),
    }


def _median(runs: Sequence[dict[str, Any]], *path: str) -> float:
    values = []
    for r in runs:
        node: Any = r
        for key in path:
            node = node[key]
        values.append(float(node))
    return statistics.median(values)


#: Summary metric -> (workload, figure) in each run's results; a workload a run did not
#: do (log-only mode, no peer) is left out.
_OUR_FIGURES = {
    "import_rate": ("import", "rate"),
    "store_append_rate": ("store_append", "rate"),
    "append_p50_ms": ("append", "p50_ms"),
    "append_p99_ms": ("append", "p99_ms"),
    "asof_p50_ms": ("asof", "p50_ms"),
    "asof_p99_ms": ("asof", "p99_ms"),
} | {f"{op}_{figure}": (op, figure) for op in ours.AUDITS for figure in ("rate", "peak_rss_mb")}
_PEER_FIGURES = {
    "peer_insert_batched_rate": ("insert_batched", "rate"),
    "peer_insert_one_p50_ms": ("insert_one", "p50_ms"),
    "peer_insert_one_p99_ms": ("insert_one", "p99_ms"),
    "peer_read_rate": ("read", "rate"),
    "peer_select_stream_p50_ms": ("select_stream", "p50_ms"),
}


def summarise(
    ours_runs: Sequence[dict[str, Any]], peer_runs: Sequence[dict[str, Any]]
) -> dict[str, float]:
    """The median over runs of every figure the runs have."""
    m: dict[str, float] = {}
    for runs, figures in ((ours_runs, _OUR_FIGURES), (peer_runs, _PEER_FIGURES)):
        for metric, (workload, figure) in figures.items():
            if runs and workload in runs[0]:
                m[metric] = _median(runs, workload, figure)
    return m


# -- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One figure next to its target: PASS, MISS, or ``-`` where there is no target."""

    metric: str
    label: str
    value: float
    unit: str
    target: str
    status: str
    peer_metric: str | None
    peer_value: float | None
    ratio: float | None  # ours / theirs


def _status(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


def checks(backend: str, m: dict[str, float], events: int) -> list[Check]:
    """Every figure with its target (issue 6) and its ratio to the peer's nearest figure."""
    pg = backend == "postgresql"
    audit_floor = 100_000 if pg else 150_000
    asof_limit = 1.5 if pg else 0.5

    def ratio(metric: str, peer_metric: str | None) -> tuple[float | None, float | None]:
        if peer_metric is None or peer_metric not in m:
            return None, None
        return m[peer_metric], m[metric] / m[peer_metric]

    out: list[Check] = []

    def add(  # noqa: PLR0917 (a table of calls reads best positionally)
        metric: str,
        label: str,
        unit: str,
        target: str,
        judge: Callable[[float, float | None], bool | None],
        peer_metric: str | None = None,
    ) -> None:
        if metric not in m:
            return
        peer_value, r = ratio(metric, peer_metric)
        out.append(
            Check(metric, label, m[metric], unit, target, _status(judge(m[metric], r)),
                  peer_metric, peer_value, r)
        )  # fmt: skip

    add("import_rate", "import (import_jsonl)", "rec/s", ">= 1.25x peer batched",
        lambda _v, r: None if r is None else r >= 1.25, "peer_insert_batched_rate")  # fmt: skip
    add("store_append_rate", "log-only EventStore.append", "rec/s", "", lambda _v, _r: None,
        "peer_insert_batched_rate")  # fmt: skip
    add("append_p50_ms", "single append p50", "ms", "<= peer one-event p50",
        lambda _v, r: None if r is None else r <= 1.0, "peer_insert_one_p50_ms")  # fmt: skip
    add("append_p99_ms", "single append p99", "ms", "", lambda _v, _r: None,
        "peer_insert_one_p99_ms")  # fmt: skip
    add("asof_p50_ms", "as-of query p50", "ms", f"< {asof_limit} ms",
        lambda v, _r: v < asof_limit, "peer_select_stream_p50_ms")  # fmt: skip
    add("asof_p99_ms", "as-of query p99", "ms", "", lambda _v, _r: None)
    if "asof_p50_ms_10k" in m and events > REFERENCE_EVENTS:
        m["asof_flatness"] = m["asof_p50_ms"] / m["asof_p50_ms_10k"]
        add("asof_p50_ms_10k", "as-of query p50 at 10k", "ms", "", lambda _v, _r: None)
        add("asof_flatness", "as-of p50 / p50 at 10k", "x", "<= 1.5", lambda v, _r: v <= 1.5)
    for op, label in (("verify", "verify()"), ("replay", "replay (reference fold)")):
        add(f"{op}_rate", label, "ev/s", f">= {audit_floor // 1000}k ev/s",
            lambda v, _r: v >= audit_floor, "peer_read_rate")  # fmt: skip
        add(f"{op}_peak_rss_mb", f"{label} peak RSS", "MB", "< 200 MB", lambda v, _r: v < 200)
    add("rebuild_rate", "rebuild()", "ev/s", ">= 100k ev/s", lambda v, _r: v >= 100_000,
        "peer_read_rate")  # fmt: skip
    add("rebuild_peak_rss_mb", "rebuild() peak RSS", "MB", "", lambda _v, _r: None)
    add("read_rate", "read (decode only)", "ev/s", "", lambda _v, _r: None, "peer_read_rate")
    add("read_peak_rss_mb", "read peak RSS", "MB", "", lambda _v, _r: None)
    for metric, label, unit in (
        ("peer_insert_batched_rate", "peer: insert_events x1000", "ev/s"),
        ("peer_insert_one_p50_ms", "peer: one-event insert p50", "ms"),
        ("peer_insert_one_p99_ms", "peer: one-event insert p99", "ms"),
        ("peer_read_rate", "peer: read notification log", "ev/s"),
        ("peer_select_stream_p50_ms", "peer: select one stream p50", "ms"),
    ):
        add(metric, label, unit, "", lambda _v, _r: None)
    return out


# -- the whole run ---------------------------------------------------------------------------


def run_benchmarks(
    size: Size,
    backends: Sequence[Backend],
    *,
    runs: int = 3,
    with_peer: bool = True,
    log: Log = _quiet,
    workdir: Path | None = None,
    log_only: bool = False,
) -> dict[str, Any]:
    """Every workload at ``size`` on each backend (and the peer's, if asked and installed).

    ``log_only`` builds the log with ``EventStore.append`` alone (no belief projection) and
    measures only what needs no projection (verify, replay, read) besides the peer: a partial
    run for sizes the import path cannot reach in reasonable time.
    """
    started = time.time()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="factledger-bench-gen-", dir=workdir) as tmp:
        t0 = time.perf_counter()
        gen = generate(size.events, Path(tmp) / "ledger", deliveries=size.deliveries)
        log(
            f"generated {gen.shape.events:,} records in {len(gen.files)} file(s), "
            f"{gen.size_bytes / 2**20:.1f} MiB, in {time.perf_counter() - t0:.1f} s"
        )
        use_peer = with_peer and peer.available()
        events = peer.stored_events(gen) if use_peer else []
        results: dict[str, Any] = {}
        for backend in backends:
            log(f"[{backend.name}] {size.name}: {runs} run(s)")
            ours_runs, peer_runs = [], []
            for r in range(runs):
                log(f"  run {r + 1}/{runs}: factledger")
                ours_runs.append(_our_run(backend, gen, size, r, log, log_only=log_only))
                if use_peer:
                    log(f"  run {r + 1}/{runs}: eventsourcing")
                    peer_runs.append(_peer_run(backend, gen, events, size, r))
                    p = peer_runs[-1]
                    log(
                        f"    peer: batched {p['insert_batched']['rate']:,.0f}/s, one-event "
                        f"p50 {p['insert_one']['p50_ms']:.2f} ms, read {p['read']['rate']:,.0f}/s"
                    )
            metrics = summarise(ours_runs, peer_runs)
            if size.events > REFERENCE_EVENTS and not log_only:
                reference = _reference_asof(backend, size, runs, Path(tmp), log)
                metrics["asof_p50_ms_10k"] = statistics.median(reference)
            results[backend.name] = {
                "runs": ours_runs,
                "peer_runs": peer_runs,
                "metrics": metrics,
                "checks": [asdict(c) for c in checks(backend.name, metrics, size.events)],
            }
    return {
        "meta": environment()
        | {
            "size": asdict(size),
            "runs": runs,
            "started": datetime.fromtimestamp(started, UTC).isoformat(),
            "seconds": time.time() - started,
            # Other work on the machine skews every figure: the 1-, 5- and 15-minute load.
            "loadavg": {"start": load_before, "end": os.getloadavg()},
            "import_path": "EventStore.append (log only)" if log_only else ours.import_path(),
            "log_only": log_only,
            "peer": peer.version() if use_peer else None,
            "generator": asdict(gen.shape) | {"files": gen.counts, "sha256": gen.sha256},
        },
        "backends": results,
    }


# -- where it ran ----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _dist(name: str) -> str | None:
    try:
        return dist_version(name)
    except PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def environment() -> dict[str, Any]:
    return {
        "machine": {
            "nproc": os.cpu_count(),
            "memory_gib": _memory_gib(),
            "cpu": _cpu_model(),
            "platform": platform.platform(),
        },
        "versions": {
            "python": sys.version.split()[0],
            "sqlalchemy": _dist("SQLAlchemy"),
            "psycopg": _dist("psycopg"),
            "sqlite": sqlite3.sqlite_version,
            "eventsourcing": _dist("eventsourcing"),
        },
        "git": {"head": _git("rev-parse", "HEAD"), "dirty": bool(_git("status", "--porcelain"))},
    }


def postgres_version(url: str) -> str | None:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    except Exception:  # reported as unknown; the run itself says why it cannot connect
        return None
    finally:
        engine.dispose()


# -- output ----------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("ms",):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if unit == "x":
        return f"{value:.2f}"
    if unit == "MB":
        return f"{value:.0f}"
    return f"{value:,.0f}"


def table(result: dict[str, Any]) -> str:
    """The results as a plain-text table: figure, target, PASS/MISS, peer, ratio."""
    meta = result["meta"]
    lines = [
        f"factledger benchmarks: size {meta['size']['name']} ({meta['generator']['events']:,} "
        f"records), median of {meta['runs']} run(s); import via {meta['import_path']}; "
        f"peer: {'eventsourcing ' + meta['peer'] if meta['peer'] else 'not run'}",
    ]
    header = ("backend", "figure", "value", "unit", "target", "status", "peer", "ours/peer")
    rows: list[tuple[str, ...]] = [header]
    for name, backend in result["backends"].items():
        for c in backend["checks"]:
            rows.append(
                (
                    name,
                    c["label"],
                    fmt(c["value"], c["unit"]),
                    c["unit"],
                    c["target"] or "-",
                    c["status"],
                    fmt(c["peer_value"], c["unit"]),
                    "-" if c["ratio"] is None else f"{c['ratio']:.2f}",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(w) if i in (0, 1, 3, 4, 5) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
