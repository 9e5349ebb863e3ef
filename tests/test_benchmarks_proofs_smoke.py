"""The proofs benchmark (``benchmarks/proofs.py``, warm and ``--cold``) and the audit replay's
child process (``benchmarks/_child.py audit``) run on the example ledger, so they cannot rot.
Only the structure is checked, never the speed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import _child, proofs
from ledger import Ledger

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "north-korea-troops.jsonl"


def _ledger(tmp_path: Path) -> Path:
    db = tmp_path / "example.db"
    with Ledger.open(f"sqlite:///{db}") as lg:
        lg.import_jsonl(EXAMPLE)
    return db


def test_the_proofs_benchmark_times_warm_and_cold_proofs(tmp_path: Path) -> None:
    db = _ledger(tmp_path)
    for cold in (False, True):
        result: dict[str, Any] = {}
        proofs._proofs(result, db, 5, cold=cold)
        assert result["cold"] is cold
        assert result["tree_size"] == 85
        for figure in ("prove", "prove_cpu", "verify_proof"):
            assert set(result[figure]) == {"p50_ms", "p95_ms"}
            assert all(v >= 0 for v in result[figure].values())
        assert result["prove_disk_kib_each"] >= 0


def test_the_audit_child_replays_the_whole_ledger(tmp_path: Path) -> None:
    db = _ledger(tmp_path)
    got = _child.run("audit", f"sqlite:///{db}")
    assert got["events"] == 85
    # The kernel keeps VmHWM lazily (per-thread RSS counters folded in now and then), so a
    # replay that frees what it held may read a mark a few pages under the one read before it
    assert got["peak_rss_mb"] >= got["base_rss_mb"] - 1 > 0
