"""The benchmark harness runs, once, at the tiny size, on each backend, so it cannot rot.

Only the structure is checked (every figure present, every number positive, every target
judged), never the speed: this machine's speed is not the code's. The PostgreSQL case follows
the other backend tests (``databases`` in ``conftest.py``): skipped with the reason when no
server is reachable, failed in CI.

The peer (``eventsourcing``) is not part of the dev install; ``make bench`` installs it. Where
it is not importable, the peer's workloads are left out and only their part of the check is
skipped: factledger's own figures are checked either way.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from benchmarks import peer
from benchmarks.amplification import measure
from benchmarks.databases import Backend
from benchmarks.generator import generate
from benchmarks.harness import SIZES, run_benchmarks, table
from tests.conftest import Databases

OUR_METRICS = {
    "import_rate",
    "append_p50_ms",
    "append_p99_ms",
    "asof_p50_ms",
    "asof_p99_ms",
    "verify_rate",
    "verify_peak_rss_mb",
    "replay_rate",
    "replay_peak_rss_mb",
    "rebuild_rate",
    "rebuild_peak_rss_mb",
    "read_rate",
    "read_peak_rss_mb",
}
PEER_METRICS = {
    "peer_insert_batched_rate",
    "peer_insert_one_p50_ms",
    "peer_insert_one_p99_ms",
    "peer_read_rate",
    "peer_select_stream_p50_ms",
}
TARGETED = {
    "asof_p50_ms",
    "verify_rate",
    "verify_peak_rss_mb",
    "replay_rate",
    "replay_peak_rss_mb",
    "rebuild_rate",
}
PEER_TARGETED = {"import_rate", "append_p50_ms"}


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a = generate(200, tmp_path / "a", deliveries=2)
    b = generate(200, tmp_path / "b", deliveries=2)
    assert a.sha256 == b.sha256
    assert sum(a.counts) == 200
    assert [p.read_bytes() for p in a.files] == [p.read_bytes() for p in b.files]
    assert generate(200, tmp_path / "c", deliveries=2, seed=1).sha256 != a.sha256


def test_tiny_benchmark_runs(databases: Databases, tmp_path: Path) -> None:
    backend = Backend(databases.backend, databases.new_url, lambda: None)
    with_peer = peer.available()  # not in the dev install: then the peer part is skipped
    result = run_benchmarks(SIZES["tiny"], [backend], runs=1, with_peer=with_peer, workdir=tmp_path)

    json.dumps(result)  # what the runner writes to .bench/
    meta = result["meta"]
    assert meta["generator"]["events"] == SIZES["tiny"].events
    assert meta["import_path"]
    assert meta["machine"]["nproc"] >= 1
    assert meta["versions"]["python"]

    mine = result["backends"][databases.backend]
    metrics = mine["metrics"]
    assert metrics.keys() >= OUR_METRICS
    assert all(_positive(metrics[m]) for m in OUR_METRICS), metrics
    run = mine["runs"][0]
    events = run["import"]["records"] + SIZES["tiny"].appends
    for operation in ("verify", "replay", "rebuild", "read"):
        assert run[operation]["events"] == events, operation
    assert run["head_after_import"]["position"] == SIZES["tiny"].events

    checks = {c["metric"]: c for c in mine["checks"]}
    assert checks.keys() >= OUR_METRICS
    assert all(checks[m]["status"] in ("PASS", "MISS") for m in TARGETED)
    assert databases.backend in table(result)

    if not with_peer:
        return  # eventsourcing is not installed: nothing of the peer's to check
    assert metrics.keys() >= PEER_METRICS
    assert all(_positive(metrics[m]) for m in PEER_METRICS), metrics
    assert all(checks[m]["status"] in ("PASS", "MISS") for m in PEER_TARGETED)
    assert all(_positive(checks[m]["ratio"]) for m in PEER_TARGETED)


def test_the_amplification_probe_runs_and_smaller_transactions_never_write_fewer_rows(
    tmp_path: Path,
) -> None:
    """The rows in force at the end are the same however the file was cut; every extra
    transaction can only add rows closed on the way."""
    whole, chunked = measure(300, [10**9, 20], tmp_path)
    assert whole.records == chunked.records == 300
    assert whole.rows > 0
    assert chunked.rows >= whole.rows
    assert chunked.verdict_bytes >= whole.verdict_bytes
