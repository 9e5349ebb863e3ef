"""The benchmark harness runs, once, at the tiny size, on each backend, so it cannot rot.

Every workload runs (issue 6's import, append, as-of and audit paths; issue 10's deliveries,
hot proposition and log-only append). Only the structure is checked (every figure present,
every number positive, every target judged, the workloads did what they say), never the
speed: this machine's speed is not the code's. The PostgreSQL case follows
the other backend tests (``databases`` in ``conftest.py``): skipped with the reason when no
server is reachable, failed in CI.

The peer (``eventsourcing``) is not part of the dev install; ``make bench`` installs it. Where
it is not importable, the peer's workloads are left out and only their part of the check is
skipped: factledger's own figures are checked either way.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Index

from benchmarks import (
    anatomy,
    answer_paths,
    delivery_spool,
    hot_reads,
    ours,
    peer,
    rebuild_parts,
)
from benchmarks.amplification import measure
from benchmarks.databases import Backend
from benchmarks.generator import Generated, concatenate, generate, split, stated_at
from benchmarks.harness import SIZES, WORKLOADS, run_benchmarks, table
from benchmarks.hot import generate_hot
from ledger import Ledger
from ledger.jsonl import importer
from ledger.store import bulk
from projections import chainfold, eventrows, forkfold, forkroute, materialized
from projections.check import check
from tests.conftest import Databases

_INDEX_CREATE = Index.create
_ROUTING_FINISH = forkroute.Routing.finish

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
    "import_peak_rss_mb",
    # issue 10
    "logonly_p50_ms",
    "logonly_p99_ms",
    "append_over_logonly",
    "deliveries_rate",
    "deliveries_one_file_rate",
    "deliveries_vs_one_file",
    "deliveries_first_ms",
    "deliveries_last_ms",
    "deliveries_growth",
    "deliveries_log_only_growth",
    "deliveries_peak_rss_mb",
    "deliveries_one_file_peak_rss_mb",
    "deliveries_events_mib",
    "deliveries_derived_mib",
    "deliveries_derived_over_events",
    "deliveries_one_file_derived_over_events",
    "hot_first_delivery_ms",
    "hot_last_delivery_ms",
    "hot_delivery_growth",
    "hot_append_p50_ms",
    "hot_append_p99_ms",
    "cold_append_p50_ms",
    "cold_append_p99_ms",
    "hot_append_ratio",
    "hot_asof_p50_ms",
    "hot_asof_p99_ms",
    "cold_asof_p50_ms",
    "cold_asof_p99_ms",
}
PEER_METRICS = {
    "peer_insert_batched_rate",
    "peer_insert_one_p50_ms",
    "peer_insert_one_p99_ms",
    "peer_read_rate",
    "peer_select_stream_p50_ms",
    "peer_deliveries_rate",
    "peer_deliveries_growth",
}
TARGETED = {
    "asof_p50_ms",
    "verify_rate",
    "verify_peak_rss_mb",
    "replay_rate",
    "replay_peak_rss_mb",
    "rebuild_rate",
    "deliveries_derived_over_events",
    "hot_asof_p50_ms",
    "hot_asof_p99_ms",
}
#: Issue 10's binding targets: ratios of two figures of the same run.
BINDING = {"append_over_logonly", "deliveries_vs_one_file", "deliveries_growth", "hot_append_ratio"}
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
    size = SIZES["tiny"]
    result = run_benchmarks(size, [backend], runs=1, with_peer=with_peer, workdir=tmp_path)

    json.dumps(result)  # what the runner writes to .bench/
    meta = result["meta"]
    assert meta["generator"]["events"] == size.events
    assert meta["import_path"]
    assert meta["machine"]["nproc"] >= 1
    assert meta["versions"]["python"]
    assert meta["workloads"] == list(WORKLOADS)
    assert meta["deliveries"]["files"] == size.daily
    assert meta["hot"]["statements"] == [size.hot_statements] * size.hot_deliveries

    mine = result["backends"][databases.backend]
    metrics = mine["metrics"]
    assert metrics.keys() >= OUR_METRICS
    assert all(_positive(metrics[m]) for m in OUR_METRICS), metrics
    run = mine["runs"][0]
    assert run["import"]["peak_rss_mb"] >= run["import"]["base_rss_mb"] > 0
    # the audits see the import and the single appends (the log-only ones go to a twin)
    events = run["import"]["records"] + size.appends
    for operation in ("verify", "replay", "rebuild", "read"):
        assert run[operation]["events"] == events, operation
    assert run["head_after_import"]["position"] == size.events
    assert run["append"]["n"] == run["logonly"]["n"] == size.appends

    daily = run["deliveries"]
    records = size.daily * size.daily_records
    assert daily["deliveries"] == size.daily
    assert daily["per_delivery_records"] == [size.daily_records] * size.daily
    assert len(daily["per_delivery_ms"]) == size.daily
    assert daily["records"] == daily["one_file"]["events"] == records
    assert 1 <= daily["window"] <= size.daily // 2
    bare = daily["log_only"]  # the same deliveries, the log alone, over the same window
    assert bare["window"] == daily["window"]
    assert bare["first_mean_ms"] > 0 and bare["last_mean_ms"] > 0
    assert bare["growth"] == bare["last_mean_ms"] / bare["first_mean_ms"]
    for disk in (daily["disk"], daily["one_file"]["disk"]):
        assert disk["method"] in ("dbstat", "pg_total_relation_size")
        assert disk["tables"]["events"] > 0
        assert any(name.startswith("belief_") for name in disk["tables"])
        assert disk["events_mib"] > 0 and disk["derived_mib"] > 0

    hot = run["hot"]
    assert hot["base"]["records"] == size.events
    assert len(hot["per_delivery_ms"]) == size.hot_deliveries
    assert hot["statements"] == size.hot_deliveries * size.hot_statements
    assert hot["sources"] == size.hot_sources
    assert 0 < hot["backdated"] < hot["statements"]
    assert hot["append_hot"]["n"] == hot["append_cold"]["n"] == size.appends
    assert hot["asof_hot"]["n"] == hot["asof_cold"]["n"] == size.queries

    checks = {c["metric"]: c for c in mine["checks"]}
    assert checks.keys() >= OUR_METRICS
    assert all(checks[m]["status"] in ("PASS", "MISS") for m in TARGETED | BINDING)
    assert all("(binding)" in checks[m]["target"] for m in BINDING)
    printed = table(result)
    assert databases.backend in printed
    assert "(binding)" in printed

    if not with_peer:
        return  # eventsourcing is not installed: nothing of the peer's to check
    assert metrics.keys() >= PEER_METRICS
    assert all(_positive(metrics[m]) for m in PEER_METRICS), metrics
    assert all(checks[m]["status"] in ("PASS", "MISS") for m in PEER_TARGETED)
    assert all(_positive(checks[m]["ratio"]) for m in PEER_TARGETED | {"deliveries_rate"})
    theirs = mine["peer_runs"][0]["deliveries"]
    assert theirs["events"] == records
    assert theirs["window"] == daily["window"]
    assert theirs["growth"] == theirs["last_mean_ms"] / theirs["first_mean_ms"]


def test_a_choice_of_workloads_runs_only_those(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown workloads"):
        run_benchmarks(SIZES["tiny"], [], workloads=["import", "cold"], workdir=tmp_path)
    result = run_benchmarks(SIZES["tiny"], [], workloads=["hot"], workdir=tmp_path)
    assert result["meta"]["workloads"] == ["hot"]
    assert result["meta"]["deliveries"] is None
    assert result["meta"]["hot"]["sources"] == SIZES["tiny"].hot_sources


def test_deliveries_are_the_same_records_cut_into_equal_parts(tmp_path: Path) -> None:
    gen = generate(300, tmp_path / "gen", deliveries=6)
    parts = split(gen.files, 7, tmp_path / "parts")
    sizes = [len(p.read_bytes().splitlines()) for p in parts]
    assert sum(sizes) == 300 and max(sizes) - min(sizes) <= 1
    whole = concatenate(parts, tmp_path / "whole.jsonl")
    assert whole.read_bytes() == b"".join(p.read_bytes() for p in gen.files)
    with pytest.raises(ValueError):
        split(gen.files, 301, tmp_path / "too-many")


def test_the_hot_story_is_back_dated_as_described(tmp_path: Path) -> None:
    story = generate_hot(
        tmp_path, ["src-0000", "src-0001"], deliveries=4, statements=200, sources=30
    )
    assert len(story.sources) == 30 and story.sources[:2] == ["src-0000", "src-0001"]
    setup = [json.loads(line) for line in story.setup.read_text().splitlines()]
    assert [r["type"] for r in setup] == ["source"] * 28 + ["proposition"]
    latest = story.start
    for k, path in enumerate(story.deliveries):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        assert len(records) == story.counts[k] == 200
        assert {r["proposition"] for r in records} == {story.proposition}
        assert {r["source"] for r in records} <= set(story.sources)
        times = [stated_at(r["stated_at"]) for r in records]
        assert min(times) >= story.start
        if k:  # back-dated: earlier than every earlier delivery's latest statement
            assert sum(t < latest for t in times) == story.backdated[k]
        assert 0.05 < story.backdated[k] / 200 < 0.3
        latest = max(latest, *times)
    assert latest == story.latest


def test_the_amplification_probe_runs_and_smaller_transactions_never_write_fewer_rows(
    tmp_path: Path,
) -> None:
    """The rows in force at the end are the same however the file was cut; every extra
    transaction can only add rows closed on the way. (The probe reads the derived tables by
    name, so it measures whichever projection the ledger has.)"""
    whole, chunked = measure(300, [10**9, 20], tmp_path)
    assert whole.records == chunked.records == 300
    assert whole.rows > 0
    assert chunked.rows >= whole.rows
    assert whole.derived_bytes > 0 and chunked.derived_bytes > 0
    assert whole.events_bytes > 0 and chunked.events_bytes > 0


def test_the_sqlite_anatomy_attributes_every_frame_a_delivery_wrote(tmp_path: Path) -> None:
    """Every WAL frame of the measured deliveries is put down to a table or index of the
    ledger (none unknown), the log's and the projection's among them; a log-only append
    writes none of the projection's pages."""
    found = anatomy.sqlite_deliveries(1_200, 400, tmp_path, appends=3)
    assert [d.number for d in found.measured] == [2, 3]
    full, bare = found.singles
    assert (full.path, bare.path, full.appends) == ("Ledger.append", "EventStore.append", 3)
    assert "belief_checkpoint" in dict(full.trees)  # the projection moved with each append
    assert not any(name.startswith(("belief_", "ix_belief", "uq_belief")) for name, _ in bare.trees)
    assert full.frames > bare.frames > 0
    for delivery in found.measured:
        assert delivery.frames > 0
        assert sum(tree.frames for tree in delivery.trees) == delivery.frames
        names = {tree.name for tree in delivery.trees}
        assert "?" not in names
        assert {"events", "belief_stances", "ix_belief_stances_chain"} <= names
        for tree in delivery.trees:
            assert 0 < tree.pages <= min(tree.frames, tree.of)


@pytest.mark.postgresql
def test_the_postgresql_anatomy_explains_each_statement_of_both_appends(
    pg_url: str, tmp_path: Path
) -> None:
    """Each single append's statements are explained and put down to the log or the
    projection: a log-only append sends none of the projection's; every append writes WAL."""
    gen = generate(300, tmp_path / "gen")
    lg = ours.open_ledger(pg_url, ours.Clock(gen.recorded_at(0)))
    try:
        ours.import_file(lg, gen.files[0])
    finally:
        lg.close()
    full, bare = anatomy.postgresql_appends(pg_url, gen, 4)
    assert (full.path, bare.path) == ("Ledger.append", "EventStore.append")
    assert {s.role for s in full.statements} >= {"log", "projection"}
    assert {s.role for s in bare.statements} == {"log"}
    for costs in (full, bare):
        inserts = [s for s in costs.statements if s.sql.startswith("INSERT INTO events ")]
        assert len(inserts) == 1 and inserts[0].calls == 4 and inserts[0].wal_records > 0
        assert all(s.calls > 0 and s.hit + s.read > 0 for s in costs.statements)
    log = {r.role: r for r in bare.roles}["log"]
    assert log.calls == 4 and log.wal_bytes > 0
    lg = Ledger.open(pg_url)
    try:  # the log-only appends were folded in afterwards
        assert check(lg.store).ok
    finally:
        lg.close()


@pytest.mark.postgresql
def test_the_postgresql_anatomy_explains_the_statements_of_two_deliveries(
    pg_url: str, tmp_path: Path
) -> None:
    """The second delivery and the last are explained, their statements summed: the lookups
    (the importer's check and the append's) and the projection's reads among them."""
    gen = generate(1_200, tmp_path / "gen", deliveries=3)
    second, last = anatomy.postgresql_deliveries(pg_url, gen)
    assert (second.path, last.path) == ("delivery 2", "delivery 3")
    for delivery in (second, last):
        roles = {s.role for s in delivery.statements}
        assert {"log", "projection"} <= roles
        lookups = [s for s in delivery.statements if s.sql.startswith("SELECT 0 AS tag")]
        assert sum(s.calls for s in lookups) >= 2  # the importer's check, then the append's
        assert all(s.calls > 0 and s.hit + s.read > 0 for s in delivery.statements)


@pytest.fixture
def generated(databases: Databases, tmp_path: Path) -> Iterator[tuple[Ledger, Generated]]:
    """A small generated ledger, imported as the harness imports it."""
    gen = generate(600, tmp_path / "gen")
    clock = ours.Clock(gen.recorded_at(0))
    with ours.open_ledger(databases.new_url(), clock) as lg:
        ours.import_deliveries(lg, gen, clock)
        yield lg, gen


def test_the_answer_paths_probe_asks_both_ways_and_restores_the_hint(
    generated: tuple[Ledger, Generated],
) -> None:
    lg, gen = generated
    before = lg.projection.busy
    result = answer_paths.compare(lg, gen, 20)  # raises if the two ways disagree
    assert lg.projection.busy is before
    assert set(result) == {"scan", "tree"}
    assert all(r["p50_ms"] > 0 and r["mean_ms"] > 0 for r in result.values())


def test_the_rebuild_parts_probe_splits_a_rebuild_and_leaves_the_code_as_it_was(
    generated: tuple[Ledger, Generated],
) -> None:
    lg, gen = generated
    before = lg.believed(gen.proposition_ids[0]).verdict
    threshold = forkfold.PARALLEL_FROM
    runs = rebuild_parts.rebuild_parts(lg, 2, (1, 2))
    assert threshold == forkfold.PARALLEL_FROM  # restored
    assert lg.verify().ok
    assert lg.believed(gen.proposition_ids[0]).verdict == before
    assert [parts["processes"] for parts in runs] == [1, 2, 2, 1]  # alternated
    for parts in runs:
        assert set(parts) == {
            *rebuild_parts.PARTS,
            "rest",
            "total",
            "processes",
            "share",
            "sorter threads",
        }
        for part in ("read log", "decode", "route", "insert", "indexes", "empty"):
            assert parts[part] > 0, part  # each was timed: the fold by chain ran
        # no part is timed inside another (the copies' inserts stay in "decode"): the parts
        # do not add up to more than the rebuild took
        assert parts["rest"] > 0
    assert all(parts["fold"] > 0 for parts in runs if parts["processes"] == 1)
    # every timer removed: the fold calls what it called before
    names = vars(chainfold)
    assert names["read_window"] is eventrows.read_window
    assert names["windows"] is eventrows.windows
    assert names["bulk"] is bulk
    assert Index.create is _INDEX_CREATE
    assert forkroute.Routing.finish is _ROUTING_FINISH


def test_the_rebuild_parts_probe_compares_tunings_on_a_ledger_given_by_url(
    generated: tuple[Ledger, Generated], capsys: pytest.CaptureFixture[str]
) -> None:
    lg, gen = generated
    before = lg.believed(gen.proposition_ids[0]).verdict
    share, threads = forkroute.EARLIER_SHARE, materialized.SORTER_THREADS
    url = lg.store.engine.url.render_as_string(hide_password=False)
    backend = lg.store.engine.dialect.name
    argv = [backend, "--url", url, "--rounds", "2", "--processes", "2", "--json"]
    assert rebuild_parts.main([*argv, "--tuning", "0.5:0", "0.7:1"]) == 0
    rounds = json.loads(capsys.readouterr().out)["rounds"]
    # each tuning ran, alternated, and the library's own came back after
    assert [(r["share"], r["sorter threads"]) for r in rounds] == [
        (0.5, 0),
        (0.7, 1),
        (0.7, 1),
        (0.5, 0),
    ]
    assert (share, threads) == (forkroute.EARLIER_SHARE, materialized.SORTER_THREADS)
    assert lg.verify().ok
    assert lg.believed(gen.proposition_ids[0]).verdict == before


def test_the_hot_reads_probe_counts_what_each_part_reads_and_keeps(tmp_path: Path) -> None:
    url, aim = hot_reads.build(tmp_path, 400)
    with Ledger.open(url) as lg:
        asked = hot_reads.questions(lg, aim, 20)
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        reads = hot_reads.count_reads(db, asked)
    finally:
        db.close()
    assert reads["left read"] >= reads["left kept"] > 0
    assert reads["right read"] >= reads["right kept"] > 0
    assert reads["closed read"] >= reads["closed visible"] >= reads["closed kept"]
    # the other order bounds the right probes and reads the left ones whole
    assert reads["left read, other order"] >= reads["left read"]
    assert reads["right kept"] <= reads["right read, other order"] <= reads["right read"]
    other = hot_reads.reordered_copy(url, tmp_path)
    with Ledger.open(url) as lg, Ledger.open(other) as reordered:
        (result,) = hot_reads.alternate(lg, reordered, asked[:6], 1)  # raises if answers differ
    assert result["index order p50"] > 0 and result["other order p50"] > 0
    copy = sqlite3.connect(other.removeprefix("sqlite:///"))
    try:
        (sql,) = copy.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (hot_reads.INDEX,)
        ).fetchone()
    finally:
        copy.close()
    assert "node, valid_from, reach_to" in sql


def test_the_delivery_spool_probe_imports_both_ways_to_the_same_log(tmp_path: Path) -> None:
    gen = generate(3_000, tmp_path / "gen", deliveries=3)
    files = [(path, gen.recorded_at(k)) for k, path in enumerate(gen.files)]
    base = tmp_path / "base.db"
    clock = ours.Clock(files[0][1])
    with ours.open_ledger(f"sqlite:///{base}", clock) as lg:
        clock.set(files[0][1])
        ours.import_file(lg, files[0][0])
    keep = importer._Checked._keep
    result = delivery_spool.compare(base, files[1:], tmp_path, 1)  # raises if the logs differ
    assert importer._Checked._keep is keep
    for way in delivery_spool.WAYS:
        assert result[way]["deliveries"] == 2
        assert result[way]["wall_ms"] > 0 and result[way]["cpu_ms"] > 0
