"""Run every workload at one size on each backend, side by side with the peer, and judge the
figures against the targets of issue 6 (import, single append, as-of, the audit paths) and
issue 10 (deliveries, the hot proposition, single append against the log-only append).

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from benchmarks import ours, peer
from benchmarks.databases import Backend, split_sizes, table_sizes
from benchmarks.generator import (
    RECORDED_START,
    Generated,
    concatenate,
    generate,
    split,
    statement_spans,
)
from benchmarks.hot import BACKDATED, HotStory, generate_hot, story_files


@dataclass(frozen=True)
class Size:
    """One benchmark size: the ledger and how much of each workload to run on it.

    ``deliveries`` is how many files the generated ledger of the ``import`` workload comes in;
    the ``deliveries`` workload imports ``daily`` files of ``daily_records`` records each; the
    ``hot`` workload gives one proposition ``hot_deliveries`` deliveries of ``hot_statements``
    statements from ``hot_sources`` sources.
    """

    name: str
    events: int
    deliveries: int
    appends: int
    queries: int
    daily: int = 100
    daily_records: int = 1_000
    hot_deliveries: int = 10
    hot_statements: int = 1_000
    hot_sources: int = 300


SIZES: dict[str, Size] = {
    "tiny": Size("tiny", 200, 2, 3, 10, daily=6, daily_records=50, hot_deliveries=3,
                 hot_statements=40, hot_sources=20),
    "small": Size("small", 10_000, 1, 100, 300, daily=10),
    "100k": Size("100k", 100_000, 1, 200, 500, daily=100),
    "1m": Size("1m", 1_000_000, 1, 200, 500, daily=1_000),
}  # fmt: skip
#: The workloads ``BENCH_WORKLOADS`` chooses from: ``import`` (import, single append, as-of,
#: verify, replay, rebuild, read: issue 6), ``logonly`` (single ``Ledger.append`` against the
#: log-only ``EventStore.append`` on the same ledger), ``deliveries`` (many small imports
#: against one import of the same records) and ``hot`` (one much-discussed proposition).
WORKLOADS = ("import", "logonly", "deliveries", "hot")
#: How many deliveries at each end the deliveries workload compares (fewer if there are few).
DELIVERY_WINDOW = 10
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


def _import(url: str, files: list[tuple[Path, datetime]], plan: Path, log: Log) -> dict[str, Any]:
    child = ours.import_in_child(url, files, plan)
    appended = int(child["events"])
    log(
        f"    import: {appended:,} records in {child['seconds']:.2f} s "
        f"({appended / child['seconds']:,.0f}/s), peak RSS {child['peak_rss_mb']:.0f} MB"
    )
    return {
        "seconds": child["seconds"],
        "records": appended,
        "rate": appended / child["seconds"],
        "peak_rss_mb": child["peak_rss_mb"],
        "base_rss_mb": child["base_rss_mb"],
    }


def _audit(operation: str, url: str, log: Log) -> dict[str, Any]:
    """One audit operation in a child process: its figures, with events per second of wall
    time and (where the child reports it) of its own CPU time."""
    child = ours.run_child(operation, url)
    child["rate"] = child["events"] / child["seconds"]
    cpu = child.get("cpu_seconds")
    if cpu:
        child["cpu_rate"] = child["events"] / cpu
    log(
        f"    {operation}: {child['events']:,.0f} events in {child['seconds']:.2f} s "
        f"({child['rate']:,.0f}/s; CPU {cpu or 0:.2f} s), peak RSS {child['peak_rss_mb']:.0f} MB"
        + (
            f" (its workers {child['helper_peak_rss_mb']:.0f} MB; PSS of all "
            f"{child.get('tree_peak_pss_mb', 0):.0f} MB)"
            if child.get("helper_peak_rss_mb")
            else ""
        )
    )
    return child


def _our_run(
    backend: Backend,
    gen: Generated,
    size: Size,
    *,
    run: int,
    log: Log,
    workdir: Path,
    log_only: bool = False,
    workloads: frozenset[str] = frozenset(WORKLOADS),
) -> dict[str, Any]:
    """The ``import`` workload on a fresh database; with ``logonly``, its single appends
    alternate with log-only appends of the same statements to a twin (a second fresh database
    with the same import)."""
    url = backend.new_url()
    twin_url = backend.new_url() if "logonly" in workloads and not log_only else None
    result: dict[str, Any] = {}
    files = [(path, gen.recorded_at(k)) for k, path in enumerate(gen.files)]
    plans = workdir / "plans"
    if not log_only:
        result["import"] = _import(url, files, plans / f"import-{backend.name}-{run}.json", log)
    if twin_url is not None:
        ours.import_in_child(twin_url, files, plans / f"twin-{backend.name}-{run}.json")
    clock = ours.Clock(RECORDED_START)
    lg = ours.open_ledger(url, clock)
    twin_clock = ours.Clock(RECORDED_START)
    twin = None if twin_url is None else ours.open_ledger(twin_url, twin_clock)
    try:
        if log_only:
            seconds, appended = ours.store_deliveries(lg, gen, clock)
            result["store_append"] = {
                "seconds": seconds,
                "records": appended,
                "rate": appended / seconds,
            }
            log(f"    log only (EventStore.append, no projection): {appended / seconds:,.0f}/s")
        head = lg.head()
        if head.recorded_at is not None:
            clock.set(head.recorded_at)
            twin_clock.set(head.recorded_at)
        result["head_after_import"] = {"position": head.position, "hash": head.hash}
        if twin is not None:
            appends, bare = ours.appends_beside_log_only(
                lg, twin, gen, size.appends, seed=run, tag=f"r{run}"
            )
            result["logonly"] = _ms(bare) | {
                "append_ratio": percentile(appends, 50) / percentile(bare, 50)
            }
            log(
                f"    single append: p50 {percentile(appends, 50) * 1000:.2f} ms; log-only "
                f"(EventStore.append) p50 {percentile(bare, 50) * 1000:.2f} ms: "
                f"{result['logonly']['append_ratio']:.2f}x"
            )
        elif not log_only:
            appends = ours.single_appends(lg, gen, size.appends, seed=run, tag=f"r{run}")
            log(f"    single append: p50 {percentile(appends, 50) * 1000:.2f} ms")
        if not log_only:
            result["append"] = _ms(appends)
        if "import" in workloads and not log_only:
            asof = ours.asof_queries(lg, gen, size.queries, seed=run)
            result["asof"] = _ms(asof)
            log(f"    as-of: p50 {percentile(asof, 50) * 1000:.3f} ms")
    finally:
        lg.close()
        if twin is not None:
            twin.close()
    if "import" not in workloads:
        return result
    for operation in ours.AUDITS:  # rebuild last: it rewrites the projection
        if log_only and operation == "rebuild":
            continue
        result[operation] = _audit(operation, url, log)
    return result


# -- issue 10: deliveries, a hot proposition ----------------------------------------------------


@dataclass
class Daily:
    """The deliveries workload's records: ``parts`` (one file per delivery, equal sizes) and
    ``whole`` (the same records in one file)."""

    parts: list[Path]
    whole: Path
    sha256: str

    @classmethod
    def make(cls, size: Size, directory: Path) -> Daily:
        gen = generate(size.daily * size.daily_records, directory / "gen", deliveries=size.daily)
        parts = split(gen.files, size.daily, directory / "parts")
        return cls(parts, concatenate(parts, directory / "whole.jsonl"), gen.sha256)

    def describe(self, size: Size) -> dict[str, Any]:
        return {
            "files": len(self.parts),
            "records": size.daily * size.daily_records,
            "sha256": self.sha256,
        }


def _mib(n: int) -> float:
    return n / 2**20


def _disk(url: str) -> dict[str, Any]:
    method, sizes = table_sizes(url)
    if not sizes:
        return {"method": method}
    parts = split_sizes(sizes)
    return {
        "method": method,
        "tables": sizes,
        "events_mib": _mib(parts["events"]),
        "derived_mib": _mib(parts["derived"]),
        "other_mib": _mib(parts["other"]),
        "derived_over_events": parts["derived"] / parts["events"] if parts["events"] else None,
    }


def _deliveries_run(
    backend: Backend, daily: Daily, size: Size, *, run: int, log: Log, workdir: Path
) -> dict[str, Any]:
    """One import of ``daily.whole`` and ``size.daily`` imports of ``daily.parts`` a day apart,
    each on a fresh database and in a child process; odd runs do the deliveries first."""
    plans = workdir / "plans"
    one_url, many_url = backend.new_url(), backend.new_url()
    files = [(p, RECORDED_START + timedelta(days=k)) for k, p in enumerate(daily.parts)]

    def one_file() -> dict[str, Any]:
        plan = plans / f"daily-whole-{backend.name}-{run}.json"
        child = ours.import_in_child(one_url, [(daily.whole, RECORDED_START)], plan)
        return child | {"rate": child["events"] / child["seconds"], "disk": _disk(one_url)}

    def deliveries() -> dict[str, Any]:
        plan = plans / f"daily-parts-{backend.name}-{run}.json"
        return ours.import_in_child(many_url, files, plan) | {"disk": _disk(many_url)}

    if run % 2:
        many, one = deliveries(), one_file()
    else:
        one, many = one_file(), deliveries()
    per: list[float] = many.pop("per_file")
    per_cpu: list[float] = many.pop("per_file_cpu", [])
    one.pop("per_file_cpu", None)
    grown = _growth(per)
    window = grown["window"]
    rate = many["events"] / many["seconds"]
    out = grown | {
        "deliveries": len(per),
        "records": int(many["events"]),
        "seconds": many["seconds"],
        "rate": rate,
        "peak_rss_mb": many["peak_rss_mb"],
        "base_rss_mb": many["base_rss_mb"],
        "per_delivery_ms": [t * 1000 for t in per],
        "per_delivery_records": many.pop("per_file_records"),
        "one_file": {k: v for k, v in one.items() if k not in ("per_file", "per_file_records")},
        "per_delivery_cpu_ms": [t * 1000 for t in per_cpu],
        "vs_one_file": rate / one["rate"],
        "disk": many["disk"],
    }
    cpu_note = ""
    if per_cpu:
        # CPU time of the importing process: on a shared machine the wall-clock growth also
        # measures how the load changed between the first deliveries and the last
        out["cpu_first_mean_ms"] = statistics.fmean(per_cpu[:window]) * 1000
        out["cpu_last_mean_ms"] = statistics.fmean(per_cpu[-window:]) * 1000
        out["cpu_growth"] = out["cpu_last_mean_ms"] / out["cpu_first_mean_ms"]
        cpu_note = (
            f" (CPU {out['cpu_first_mean_ms']:.0f} / {out['cpu_last_mean_ms']:.0f} ms, "
            f"{out['cpu_growth']:.2f}x)"
        )
    out["log_only"] = bare = _log_only_deliveries(backend, files)
    ratio = out["disk"].get("derived_over_events")
    log(
        f"    deliveries: {out['records']:,} records in {len(per)} imports, {rate:,.0f}/s "
        f"({out['vs_one_file']:.2f}x one file at {one['rate']:,.0f}/s); first {window} "
        f"{out['first_mean_ms']:.0f} ms, last {window} {out['last_mean_ms']:.0f} ms "
        f"({out['growth']:.2f}x){cpu_note}; derived/events on disk "
        f"{'-' if ratio is None else f'{ratio:.2f}'}; log only (EventStore.append) first "
        f"{bare['first_mean_ms']:.0f} ms, last {bare['last_mean_ms']:.0f} ms "
        f"({bare['growth']:.2f}x)"
    )
    return out


def _hot_run(
    backend: Backend,
    gen: Generated,
    story: HotStory,
    *,
    spans: dict[str, tuple[datetime, datetime]],
    size: Size,
    run: int,
    log: Log,
    workdir: Path,
) -> dict[str, Any]:
    """The generated ledger, then the hot story (setup, then its deliveries a day apart), in
    one child process; then single appends and as-of queries, hot and cold alternately."""
    url = backend.new_url()
    n = len(gen.files)
    files, hot_from = story_files(gen, story)
    child = ours.import_in_child(url, files, workdir / "plans" / f"hot-{backend.name}-{run}.json")
    per = [t * 1000 for t in child["per_file"][hot_from:]]
    clock = ours.Clock(RECORDED_START)
    lg = ours.open_ledger(url, clock)
    try:
        head = lg.head()
        if head.recorded_at is not None:
            clock.set(head.recorded_at)
        known_from = gen.recorded_at(hot_from) + timedelta(hours=1)
        hot = ours.Aim(story.proposition, story.start, story.latest, story.sources, known_from)
        cold = ours.cold_aims(gen, spans)
        hot_app, cold_app = ours.paired_appends(
            lg, hot, cold, count=size.appends, seed=run, tag=f"hot-r{run}", backdated=BACKDATED
        )
        hot_cpu: list[float] = []
        cold_cpu: list[float] = []
        hot_q, cold_q = ours.paired_asof(
            lg, hot, cold, count=size.queries, seed=run, cpu=(hot_cpu, cold_cpu)
        )
    finally:
        lg.close()
    out = {
        "base": {
            "records": sum(child["per_file_records"][:n]),
            "seconds": sum(child["per_file"][:n]),
        },
        "statements": sum(story.counts),
        "backdated": sum(story.backdated),
        "sources": len(story.sources),
        "per_delivery_ms": per,
        "first_delivery_ms": per[0],
        "last_delivery_ms": per[-1],
        "delivery_growth": per[-1] / per[0],
        "append_hot": _ms(hot_app),
        "append_cold": _ms(cold_app),
        "append_ratio": percentile(hot_app, 50) / percentile(cold_app, 50),
        "asof_hot": _ms(hot_q),
        "asof_cold": _ms(cold_q),
        "asof_hot_cpu": _ms(hot_cpu),
        "asof_cold_cpu": _ms(cold_cpu),
    }
    log(
        f"    hot: deliveries first {per[0]:.0f} ms, last {per[-1]:.0f} ms; append p50 hot "
        f"{out['append_hot']['p50_ms']:.2f} / cold {out['append_cold']['p50_ms']:.2f} ms "
        f"({out['append_ratio']:.2f}x); as-of p50 hot {out['asof_hot']['p50_ms']:.3f} / cold "
        f"{out['asof_cold']['p50_ms']:.3f} ms (CPU {out['asof_hot_cpu']['p50_ms']:.3f} / "
        f"{out['asof_cold_cpu']['p50_ms']:.3f} ms)"
    )
    return out


def _peer_deliveries_run(backend: Backend, events: list[Any], batch: int) -> dict[str, Any]:
    """The peer fed the same deliveries, one ``insert_events`` call each, on a fresh database:
    its rate, and how its last deliveries' time compares with its first (the same window as
    ours), the growth a plain event store shows on this backend."""
    store = peer.PeerStore(backend.new_url())
    try:
        per = store.insert_each([events[i : i + batch] for i in range(0, len(events), batch)])
    finally:
        store.close()
    seconds = sum(per)
    return {"seconds": seconds, "events": len(events), "rate": len(events) / seconds} | _growth(per)


def _growth(per: Sequence[float]) -> dict[str, Any]:
    """Mean time of the first and the last :data:`DELIVERY_WINDOW` deliveries (fewer if there
    are few) and their ratio."""
    window = max(1, min(DELIVERY_WINDOW, len(per) // 3))
    first, last = statistics.fmean(per[:window]), statistics.fmean(per[-window:])
    return {
        "window": window,
        "first_mean_ms": first * 1000,
        "last_mean_ms": last * 1000,
        "growth": last / first,
    }


def _log_only_deliveries(backend: Backend, files: list[tuple[Path, datetime]]) -> dict[str, Any]:
    """The same deliveries appended with ``EventStore.append`` alone, one call each, on a
    fresh ledger: the growth of the hash-chained log without the belief projection, which
    bounds what the projection's can be."""
    clock = ours.Clock(RECORDED_START)
    lg = ours.open_ledger(backend.new_url(), clock)
    try:
        per = ours.store_each_delivery(lg, files, clock)
    finally:
        lg.close()
    return {"seconds": sum(per)} | _growth(per)


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


def _get(run: dict[str, Any], path: Sequence[str]) -> float | None:
    node: Any = run
    for key in path:
        if not isinstance(node, dict) or node.get(key) is None:
            return None
        node = node[key]
    return float(node)


#: Summary metric -> its path in each run's results; a figure no run has (a workload not
#: run, no peer, no dbstat) is left out; otherwise the median over the runs that have it.
_OUR_FIGURES: dict[str, tuple[str, ...]] = {
    "import_rate": ("import", "rate"),
    "import_peak_rss_mb": ("import", "peak_rss_mb"),
    "store_append_rate": ("store_append", "rate"),
    "append_p50_ms": ("append", "p50_ms"),
    "append_p99_ms": ("append", "p99_ms"),
    "asof_p50_ms": ("asof", "p50_ms"),
    "asof_p99_ms": ("asof", "p99_ms"),
} | {
    f"{op}_{figure}": (op, figure)
    for op in ours.AUDITS
    for figure in ("rate", "cpu_rate", "peak_rss_mb", "helper_peak_rss_mb", "tree_peak_pss_mb")
} | {
    "logonly_p50_ms": ("logonly", "p50_ms"),
    "logonly_p99_ms": ("logonly", "p99_ms"),
    "append_over_logonly": ("logonly", "append_ratio"),
    "deliveries_rate": ("deliveries", "rate"),
    "deliveries_one_file_rate": ("deliveries", "one_file", "rate"),
    "deliveries_vs_one_file": ("deliveries", "vs_one_file"),
    "deliveries_first_ms": ("deliveries", "first_mean_ms"),
    "deliveries_last_ms": ("deliveries", "last_mean_ms"),
    "deliveries_growth": ("deliveries", "growth"),
    "deliveries_cpu_growth": ("deliveries", "cpu_growth"),
    "deliveries_log_only_growth": ("deliveries", "log_only", "growth"),
    "deliveries_peak_rss_mb": ("deliveries", "peak_rss_mb"),
    "deliveries_one_file_peak_rss_mb": ("deliveries", "one_file", "peak_rss_mb"),
    "deliveries_events_mib": ("deliveries", "disk", "events_mib"),
    "deliveries_derived_mib": ("deliveries", "disk", "derived_mib"),
    "deliveries_derived_over_events": ("deliveries", "disk", "derived_over_events"),
    "deliveries_one_file_derived_over_events": (
        "deliveries", "one_file", "disk", "derived_over_events"
    ),
    "hot_first_delivery_ms": ("hot", "first_delivery_ms"),
    "hot_last_delivery_ms": ("hot", "last_delivery_ms"),
    "hot_delivery_growth": ("hot", "delivery_growth"),
    "hot_append_p50_ms": ("hot", "append_hot", "p50_ms"),
    "hot_append_p99_ms": ("hot", "append_hot", "p99_ms"),
    "cold_append_p50_ms": ("hot", "append_cold", "p50_ms"),
    "cold_append_p99_ms": ("hot", "append_cold", "p99_ms"),
    "hot_append_ratio": ("hot", "append_ratio"),
    "hot_asof_p50_ms": ("hot", "asof_hot", "p50_ms"),
    "hot_asof_p99_ms": ("hot", "asof_hot", "p99_ms"),
    "hot_asof_cpu_p50_ms": ("hot", "asof_hot_cpu", "p50_ms"),
    "cold_asof_cpu_p50_ms": ("hot", "asof_cold_cpu", "p50_ms"),
    "cold_asof_p50_ms": ("hot", "asof_cold", "p50_ms"),
    "cold_asof_p99_ms": ("hot", "asof_cold", "p99_ms"),
}  # fmt: skip
_PEER_FIGURES: dict[str, tuple[str, ...]] = {
    "peer_insert_batched_rate": ("insert_batched", "rate"),
    "peer_insert_one_p50_ms": ("insert_one", "p50_ms"),
    "peer_insert_one_p99_ms": ("insert_one", "p99_ms"),
    "peer_read_rate": ("read", "rate"),
    "peer_select_stream_p50_ms": ("select_stream", "p50_ms"),
    "peer_deliveries_rate": ("deliveries", "rate"),
    "peer_deliveries_growth": ("deliveries", "growth"),
}


def summarise(
    ours_runs: Sequence[dict[str, Any]], peer_runs: Sequence[dict[str, Any]]
) -> dict[str, float]:
    """The median over runs of every figure the runs have. A ratio of two figures of one run
    (deliveries against one file, hot against cold, ...) is the median of the per-run ratios."""
    m: dict[str, float] = {}
    for runs, figures in ((ours_runs, _OUR_FIGURES), (peer_runs, _PEER_FIGURES)):
        for metric, path in figures.items():
            values = [v for v in (_get(r, path) for r in runs) if v is not None]
            if values:
                m[metric] = statistics.median(values)
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
    add("import_peak_rss_mb", "import peak RSS", "MB", "", lambda _v, _r: None)
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
    add("rebuild_cpu_rate", "rebuild(), events per CPU second", "ev/s", "", _NONE)
    add("rebuild_peak_rss_mb", "rebuild() peak RSS", "MB", "", lambda _v, _r: None)
    for op, label in (("verify", "verify()"), ("rebuild", "rebuild()")):
        if m.get(f"{op}_helper_peak_rss_mb"):
            # the workers (projections.forkroute, forkfold): their peak RSS counts the pages
            # they share with the parent again; the tree's PSS counts them once
            add(f"{op}_helper_peak_rss_mb", f"{label}: its workers' peak RSS", "MB", "",
                lambda _v, _r: None)  # fmt: skip
            add(f"{op}_tree_peak_pss_mb", f"{label}: peak PSS, with its workers", "MB",
                "< 200 MB", lambda v, _r: v < 200)  # fmt: skip
    add("read_rate", "read (decode only)", "ev/s", "", lambda _v, _r: None, "peer_read_rate")
    add("read_peak_rss_mb", "read peak RSS", "MB", "", lambda _v, _r: None)
    _issue10_checks(add, pg)
    for metric, label, unit in (
        ("peer_insert_batched_rate", "peer: insert_events x1000", "ev/s"),
        ("peer_insert_one_p50_ms", "peer: one-event insert p50", "ms"),
        ("peer_insert_one_p99_ms", "peer: one-event insert p99", "ms"),
        ("peer_read_rate", "peer: read notification log", "ev/s"),
        ("peer_select_stream_p50_ms", "peer: select one stream p50", "ms"),
        ("peer_deliveries_rate", "peer: deliveries, insert_events per delivery", "ev/s"),
        ("peer_deliveries_growth", "peer: deliveries, last mean / first mean", "x"),
    ):
        add(metric, label, unit, "", lambda _v, _r: None)
    return out


Add = Callable[..., None]
_NONE: Callable[[float, float | None], bool | None] = lambda _v, _r: None  # noqa: E731


def _issue10_checks(add: Add, pg: bool) -> None:
    """The deliveries, hot and log-only figures with the targets of issue 10; "(binding)"
    marks the targets the issue makes binding."""
    hot_asof = 4.0 if pg else 2.0
    # single append against the log-only append, same ledger, same run
    add("logonly_p50_ms", "log-only EventStore.append p50", "ms", "", _NONE)
    add("logonly_p99_ms", "log-only EventStore.append p99", "ms", "", _NONE)
    add("append_over_logonly", "single append p50 / log-only p50", "x", "<= 1.2 (binding)",
        lambda v, _r: v <= 1.2)  # fmt: skip
    # many small imports against one import of the same records
    add("deliveries_rate", "deliveries: import_jsonl per delivery", "rec/s", "", _NONE,
        "peer_deliveries_rate")  # fmt: skip
    add("deliveries_one_file_rate", "deliveries: same records, one file", "rec/s", "", _NONE,
        "peer_deliveries_rate")  # fmt: skip
    add("deliveries_vs_one_file", "deliveries rate / one-file rate", "x", ">= 0.8 (binding)",
        lambda v, _r: v >= 0.8)  # fmt: skip
    add("deliveries_first_ms", "deliveries: mean time, first ones", "ms", "", _NONE)
    add("deliveries_last_ms", "deliveries: mean time, last ones", "ms", "", _NONE)
    add("deliveries_growth", "deliveries: last mean / first mean", "x", "<= 1.3 (binding)",
        lambda v, _r: v <= 1.3)  # fmt: skip
    add("deliveries_cpu_growth", "deliveries: last / first, CPU time", "x", "", _NONE)
    add("deliveries_log_only_growth", "deliveries: last / first, log only (no projection)", "x",
        "", _NONE)  # fmt: skip
    add("deliveries_peak_rss_mb", "deliveries peak RSS", "MB", "", _NONE)
    add("deliveries_one_file_peak_rss_mb", "deliveries: one-file peak RSS", "MB", "", _NONE)
    add("deliveries_events_mib", "deliveries: events table on disk", "MiB", "", _NONE)
    add("deliveries_derived_mib", "deliveries: belief_* tables on disk", "MiB", "", _NONE)
    add("deliveries_derived_over_events", "deliveries: derived / events on disk", "x", "<= 1.0",
        lambda v, _r: v <= 1.0)  # fmt: skip
    add("deliveries_one_file_derived_over_events", "one file: derived / events on disk", "x", "",
        _NONE)  # fmt: skip
    # one much-discussed proposition among ordinary ones
    add("hot_first_delivery_ms", "hot: first delivery", "ms", "", _NONE)
    add("hot_last_delivery_ms", "hot: last delivery", "ms", "", _NONE)
    add("hot_delivery_growth", "hot: last delivery / first", "x", "", _NONE)
    add("hot_append_p50_ms", "hot: single append p50", "ms", "", _NONE)
    add("hot_append_p99_ms", "hot: single append p99", "ms", "", _NONE)
    add("cold_append_p50_ms", "cold: single append p50", "ms", "", _NONE)
    add("cold_append_p99_ms", "cold: single append p99", "ms", "", _NONE)
    add("hot_append_ratio", "single append p50 hot / cold", "x", "<= 1.5 (binding)",
        lambda v, _r: v <= 1.5)  # fmt: skip
    add("hot_asof_p50_ms", "hot: as-of p50", "ms", f"<= {hot_asof:g} ms",
        lambda v, _r: v <= hot_asof)  # fmt: skip
    add("hot_asof_p99_ms", "hot: as-of p99", "ms", f"<= {hot_asof:g} ms",
        lambda v, _r: v <= hot_asof)  # fmt: skip
    add("hot_asof_cpu_p50_ms", "hot: as-of p50, CPU time", "ms", "", _NONE)
    add("cold_asof_p50_ms", "cold: as-of p50", "ms", "", _NONE)
    add("cold_asof_cpu_p50_ms", "cold: as-of p50, CPU time", "ms", "", _NONE)
    add("cold_asof_p99_ms", "cold: as-of p99", "ms", "", _NONE)


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
    workloads: Iterable[str] = WORKLOADS,
) -> dict[str, Any]:
    """Every workload of ``workloads`` (see :data:`WORKLOADS`) at ``size`` on each backend,
    and the peer's (if asked and installed) beside ``import`` and ``deliveries``.

    ``log_only`` builds the log with ``EventStore.append`` alone (no belief projection) and
    measures only what needs no projection (verify, replay, read) besides the peer: a partial
    run for sizes the import path cannot reach in reasonable time; the other workloads, which
    need the projection, are left out.
    """
    chosen = frozenset(workloads)
    if unknown := chosen - set(WORKLOADS):
        raise ValueError(f"unknown workloads {sorted(unknown)}: choose from {WORKLOADS}")
    if log_only:
        chosen = frozenset({"import"})
    started = time.time()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="factledger-bench-gen-", dir=workdir) as tmp:
        t0 = time.perf_counter()
        gen = generate(size.events, Path(tmp) / "ledger", deliveries=size.deliveries)
        log(
            f"generated {gen.shape.events:,} records in {len(gen.files)} file(s), "
            f"{gen.size_bytes / 2**20:.1f} MiB, in {time.perf_counter() - t0:.1f} s"
        )
        daily = Daily.make(size, Path(tmp) / "daily") if "deliveries" in chosen else None
        story, spans = None, {}
        if "hot" in chosen:
            story = generate_hot(
                Path(tmp) / "hot",
                gen.source_ids,
                deliveries=size.hot_deliveries,
                statements=size.hot_statements,
                sources=size.hot_sources,
            )
            spans = statement_spans(gen.files)
        use_peer = with_peer and peer.available()
        main = bool(chosen & {"import", "logonly"})
        events = peer.stored_events(gen) if use_peer and "import" in chosen else []
        daily_events = peer.stored_events_of(daily.parts) if use_peer and daily else []
        results: dict[str, Any] = {}
        for backend in backends:
            log(f"[{backend.name}] {size.name}: {runs} run(s) of {', '.join(sorted(chosen))}")
            ours_runs: list[dict[str, Any]] = []
            peer_runs: list[dict[str, Any]] = []
            for r in range(runs):
                log(f"  run {r + 1}/{runs}: factledger")
                mine: dict[str, Any] = {}
                theirs: dict[str, Any] = {}
                if main:
                    mine |= _our_run(
                        backend, gen, size, run=r, log=log, workdir=Path(tmp),
                        log_only=log_only, workloads=chosen,
                    )  # fmt: skip
                if use_peer and "import" in chosen:
                    log(f"  run {r + 1}/{runs}: eventsourcing")
                    theirs |= _peer_run(backend, gen, events, size, r)
                    log(
                        f"    peer: batched {theirs['insert_batched']['rate']:,.0f}/s, one-event "
                        f"p50 {theirs['insert_one']['p50_ms']:.2f} ms, "
                        f"read {theirs['read']['rate']:,.0f}/s"
                    )
                if daily is not None:
                    mine["deliveries"] = _deliveries_run(
                        backend, daily, size, run=r, log=log, workdir=Path(tmp)
                    )
                    if use_peer:
                        theirs["deliveries"] = _peer_deliveries_run(
                            backend, daily_events, size.daily_records
                        )
                        d = theirs["deliveries"]
                        log(
                            f"    peer: deliveries, insert_events per delivery "
                            f"{d['rate']:,.0f}/s; first {d['window']} {d['first_mean_ms']:.1f} "
                            f"ms, last {d['window']} {d['last_mean_ms']:.1f} ms "
                            f"({d['growth']:.2f}x)"
                        )
                if story is not None:
                    mine["hot"] = _hot_run(
                        backend, gen, story, spans=spans, size=size, run=r, log=log,
                        workdir=Path(tmp),
                    )  # fmt: skip
                ours_runs.append(mine)
                if theirs:
                    peer_runs.append(theirs)
            metrics = summarise(ours_runs, peer_runs)
            if size.events > REFERENCE_EVENTS and "import" in chosen and not log_only:
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
            "workloads": [w for w in WORKLOADS if w in chosen],
            "started": datetime.fromtimestamp(started, UTC).isoformat(),
            "seconds": time.time() - started,
            # Other work on the machine skews every figure: the 1-, 5- and 15-minute load.
            "loadavg": {"start": load_before, "end": os.getloadavg()},
            "import_path": "EventStore.append (log only)" if log_only else ours.import_path(),
            "log_only": log_only,
            "peer": peer.version() if use_peer else None,
            "generator": asdict(gen.shape) | {"files": gen.counts, "sha256": gen.sha256},
            "deliveries": None if daily is None else daily.describe(size),
            "hot": None if story is None else story.describe(),
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
        if value >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if unit == "x":
        return f"{value:.2f}"
    if unit == "MB":
        return f"{value:.0f}"
    if unit == "MiB":
        return f"{value:.2f}" if value < 10 else f"{value:,.1f}"
    return f"{value:,.0f}"


def table(result: dict[str, Any]) -> str:
    """The results as a plain-text table: figure, target, PASS/MISS, peer, ratio."""
    meta = result["meta"]
    lines = [
        f"factledger benchmarks: size {meta['size']['name']} ({meta['generator']['events']:,} "
        f"records), median of {meta['runs']} run(s); import via {meta['import_path']}; "
        f"peer: {'eventsourcing ' + meta['peer'] if meta['peer'] else 'not run'}; "
        f"workloads: {', '.join(meta.get('workloads', ['import']))}",
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
