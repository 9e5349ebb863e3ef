"""Issue 15's figures: the Merkle tree's share of import time, ``prove`` and ``verify-proof``.

    .venv/bin/python -m benchmarks.proofs 100000            # SQLite, 3 imports
    .venv/bin/python -m benchmarks.proofs 1000000 --runs 1  # the 1M figures of BENCHMARKS.md

Each run imports the generator's file into a fresh SQLite ledger with the importer's defaults
and times, inside the same run, every call of ``ledger.store.tree.extend`` (salts, leaves and
nodes written in the append transaction): the tree's share is that time over the import's. With
``--compare`` each run also imports the same file with ``tree.extend`` replaced by a no-op (a
ledger without a tree), alternating, for the difference of wall times, which a loaded machine
blurs more than the in-run share. Then, on the last ledger: ``Ledger.prove`` of random events
against a signed checkpoint (the full API call: note parsed, id resolved, checkpoint checked
against the tree, event, salt and path read) and ``InclusionProof.verify`` of those proofs
(what ``verify-proof`` does after reading its file), each ``--samples`` times; medians and p95.

With ``--cold`` (and ``--proofs DB``) the file's pages are dropped from the operating system's
cache (``posix_fadvise(DONTNEED)`` on the ledger's own files) after one untimed proof, so each
timed proof reads its pages from disk as on a server that has not read them lately; the bytes
read from disk per proof (``/proc/self/io``) and each proof's CPU time are reported beside the
wall times (CPU time, which SQLite's reads count in, is what a shared machine blurs least).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generator import generate
from ledger import Ledger
from ledger.store import tree
from ledger.transparency import SigningKey, offline


def _timed_extend(spent: list[float], cpu: list[float]) -> Callable[..., None]:
    real = tree.extend

    def extend(*args: Any, **kwargs: Any) -> None:
        start, start_cpu = time.perf_counter(), time.process_time()
        real(*args, **kwargs)
        spent.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)

    return extend


def _import(path: Path, db: Path, extend: Callable[..., None]) -> tuple[float, float]:
    """Wall and CPU seconds of one import (SQLite works in this process: its CPU is counted;
    CPU time is what a machine shared with other work blurs least)."""
    real = tree.extend
    setattr(tree, "extend", extend)  # noqa: B010 - append.py calls tree.extend
    try:
        with Ledger.open(f"sqlite:///{db}") as lg:
            start, start_cpu = time.perf_counter(), time.process_time()
            lg.import_jsonl(path)
            return time.perf_counter() - start, time.process_time() - start_cpu
    finally:
        setattr(tree, "extend", real)  # noqa: B010


def _verify(db: Path) -> None:
    """``verify``'s cost with the tree check (chain, then every leaf recomputed) and of the
    tree check alone, wall and CPU seconds."""
    with Ledger.open(f"sqlite:///{db}") as lg:
        start, start_cpu = time.perf_counter(), time.process_time()
        report = lg.store.verify()
        whole = (time.perf_counter() - start, time.process_time() - start_cpu)
        with lg.store.engine.connect() as conn:
            start, start_cpu = time.perf_counter(), time.process_time()
            problem = tree.tree_problem(conn, report.head.position)
            part = (time.perf_counter() - start, time.process_time() - start_cpu)
    print(
        json.dumps(
            {
                "ok": report.ok and problem is None,
                "events": report.checked,
                "store_verify_s": [round(x, 2) for x in whole],
                "tree_check_s": [round(x, 2) for x in part],
                "tree_share_cpu": round(part[1] / whole[1], 4),
                "load": os.getloadavg(),
            }
        )
    )


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int, nargs="?", default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--verify", metavar="DB", help="only time verify on this SQLite file")
    parser.add_argument("--proofs", metavar="DB", help="only time prove and verify-proof on DB")
    parser.add_argument("--cold", action="store_true", help="with --proofs: DB's pages uncached")
    args = parser.parse_args()
    if args.verify:
        _verify(Path(args.verify))
        return
    if args.proofs:
        result: dict[str, Any] = {"load_before": os.getloadavg()}
        _proofs(result, Path(args.proofs), args.samples, cold=args.cold)
        print(json.dumps(result, indent=2))
        return

    work = Path(tempfile.mkdtemp(prefix="bench-proofs-"))
    gen = generate(args.events, work / "data")
    path = gen.files[0]
    result = {"events": args.events, "load_before": os.getloadavg()}
    shares, cpu_shares, with_tree, without, cpu_with, cpu_without = [], [], [], [], [], []
    db = work / "none.db"
    for run in range(args.runs):
        spent: list[float] = []
        spent_cpu: list[float] = []
        db = work / f"tree-{run}.db"
        total, total_cpu = _import(path, db, _timed_extend(spent, spent_cpu))
        with_tree.append(total)
        cpu_with.append(total_cpu)
        shares.append(sum(spent) / total)
        cpu_shares.append(sum(spent_cpu) / total_cpu)
        print(
            f"run {run}: import {total:.1f} s ({total_cpu:.1f} s CPU), tree {sum(spent):.1f} s "
            f"({sum(spent_cpu):.1f} s CPU)",
            flush=True,
        )
        if args.compare:
            bare, bare_cpu = _import(path, work / f"bare-{run}.db", lambda *a, **k: None)
            without.append(bare)
            cpu_without.append(bare_cpu)
            print(f"run {run}: without the tree {bare:.1f} s ({bare_cpu:.1f} s CPU)", flush=True)
    _imports_summary(result, with_tree, cpu_with, shares, cpu_shares, without, cpu_without)
    _proofs(result, db, args.samples)
    print(json.dumps(result, indent=2))


def _imports_summary(  # noqa: PLR0917 - the figures, by position
    result: dict[str, Any],
    with_tree: list[float],
    cpu_with: list[float],
    shares: list[float],
    cpu_shares: list[float],
    without: list[float],
    cpu_without: list[float],
) -> None:
    result["import_s"] = round(statistics.median(with_tree), 2)
    result["import_cpu_s"] = round(statistics.median(cpu_with), 2)
    result["tree_share_in_run"] = round(statistics.median(shares), 4)
    result["tree_cpu_share_in_run"] = round(statistics.median(cpu_shares), 4)
    if without:
        bare = statistics.median(without)
        result["import_without_tree_s"] = round(bare, 2)
        result["tree_share_by_difference"] = round(1 - bare / statistics.median(with_tree), 4)
        bare_cpu = statistics.median(cpu_without)
        result["import_without_tree_cpu_s"] = round(bare_cpu, 2)
        result["tree_cpu_share_by_difference"] = round(
            1 - bare_cpu / statistics.median(cpu_with), 4
        )


def _read_bytes() -> int:
    """Bytes this process has had read from disk (0 where ``/proc/self/io`` is missing)."""
    io = Path("/proc/self/io")
    if not io.exists():
        return 0
    fields = dict(line.split(": ") for line in io.read_text().splitlines())
    return int(fields["read_bytes"])


def _uncache(db: Path) -> None:
    """Drop the ledger's own files from the operating system's page cache."""
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _proofs(result: dict[str, Any], db: Path, samples: int, *, cold: bool = False) -> None:
    key = SigningKey.generate("bench.example/claims")
    keys = [key.verifier]
    rng = random.Random(15)
    with Ledger.open(f"sqlite:///{db}") as lg:
        note = lg.checkpoint_note(key)
        size = offline.Checkpoint.parse(offline.parse_note(note).text).size
        ids = [
            str(next(lg.read(after=p - 1, until=p)).event_id)
            for p in (rng.randint(1, size) for _ in range(samples))
        ]
        if cold:
            lg.prove(ids[0], note)  # the imports and first-call costs, before the cache drop
            _uncache(db)
        proving, proving_cpu, proofs = [], [], []
        read_before = _read_bytes()
        for ident in ids:
            start, start_cpu = time.perf_counter(), time.process_time()
            proof = lg.prove(ident, note)
            proving.append(time.perf_counter() - start)
            proving_cpu.append(time.process_time() - start_cpu)
            proofs.append(json.dumps(proof.to_json()))
        read = _read_bytes() - read_before
    checking = []
    for text in proofs:
        start = time.perf_counter()
        offline.InclusionProof.from_json(json.loads(text)).verify(keys, require_event=True)
        checking.append(time.perf_counter() - start)
    result["tree_size"] = size
    result["prove"] = _ms(proving)
    result["prove_cpu"] = _ms(proving_cpu)
    result["prove_disk_kib_each"] = round(read / len(ids) / 1024, 1)
    result["cold"] = cold
    result["verify_proof"] = _ms(checking)
    result["db_bytes"] = db.stat().st_size
    result["load_after"] = os.getloadavg()


if __name__ == "__main__":
    main()
