"""``python -m benchmarks.pyspy_summary FILE.raw [PHASE ...]``: where a run spent its time.

Reads py-spy's raw (collapsed-stack) output of a whole benchmark run, recorded with

    py-spy record -r 50 --subprocesses -f raw -o .bench/pyspy.raw -- .venv/bin/python -m benchmarks

splits the samples by workload (import, single append, as-of, verify, replay, rebuild, read,
peer) from the frames on each stack, and prints for each the functions with the largest
inclusive and own (self) share of its samples. Name phases to limit the listing.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

#: A stack belongs to the first phase one of whose frames it contains.
PHASES = (
    ("import", "import_deliveries"),
    ("log-only append", "store_deliveries"),
    ("append", "single_appends"),
    ("asof", "asof_queries"),
    ("rebuild", "Ledger.rebuild"),
    ("verify", "Ledger.verify"),
    ("replay", "fold"),
    ("read", "run.<locals>.<genexpr>"),
    ("peer", "PeerStore.insert_batched"),
    ("peer", "PeerStore.insert_one"),
    ("peer", "PeerStore.read"),
    ("peer", "PeerStore.select_stream"),
)


def _frame(raw: str) -> str:
    """``function (file.py:line)`` as ``function (file.py)``."""
    name, _, where = raw.partition(" (")
    return f"{name} ({where.split(':')[0].rstrip(')')})" if where else name


def summarise(path: Path, top: int = 30) -> dict[str, tuple[int, Counter[str], Counter[str]]]:
    out: dict[str, tuple[int, Counter[str], Counter[str]]] = {}
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    own: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = [_frame(f) for f in stack.split(";")]
        names = {f.split(" (")[0] for f in frames}
        phase = next((p for p, marker in PHASES if marker in names), "other")
        n = int(count)
        totals[phase] += n
        for f in set(frames):
            inclusive[phase][f] += n
        own[phase][frames[-1]] += n
    for phase, total in totals.most_common():
        out[phase] = (total, inclusive[phase], own[phase])
    return out


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit("usage: python -m benchmarks.pyspy_summary FILE.raw [PHASE ...]")
    wanted = set(argv[1:])
    for phase, (total, inclusive, own) in summarise(Path(argv[0])).items():
        print(f"\n== {phase}: {total} samples")
        if wanted and phase not in wanted:
            continue
        for title, counter, n in (("inclusive", inclusive, 30), ("self", own, 15)):
            print(f"  {title}:")
            for name, samples in counter.most_common(n):
                if not name.startswith(("process ", "_run_module_as_main", "_run_code")):
                    print(f"    {samples / total:6.1%}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
