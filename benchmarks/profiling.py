"""``python -m benchmarks.profiling``: profile the import, replay and rebuild paths with cProfile.

Builds the synthetic ledger of ``BENCH_SIZE`` (default ``100k``) on SQLite (or
``BENCH_BACKENDS=postgresql``), profiles each phase separately and writes, per phase, the raw
``.prof`` file and the top functions by own time and by cumulative time to ``.bench/``
(``profile-<size>-<backend>-<phase>.txt``). Phases: ``import`` (``Ledger.import_jsonl`` of
the generated files), ``verify``, ``replay`` (the reference fold over ``store.read()``),
``asof`` (200 as-of queries), ``append`` (50 single appends) and ``rebuild``.
``BENCH_PHASES`` picks some of them.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import ours
from benchmarks.databases import pg_url_from_env, postgres_backend, sqlite_backend
from benchmarks.generator import RECORDED_START, generate
from benchmarks.harness import SIZES
from projections.fold import fold

PHASES = ("import", "verify", "replay", "asof", "append", "rebuild")


def _profile(name: str, action: Callable[[], object], out: Path, top: int = 40) -> float:
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    action()
    profiler.disable()
    seconds = time.perf_counter() - t0
    profiler.dump_stats(str(out.with_suffix(".prof")))
    text = io.StringIO()
    text.write(f"# {name}: {seconds:.2f} s under cProfile\n\n## by own time\n")
    stats = pstats.Stats(profiler, stream=text)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    text.write("\n## by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(top)
    out.write_text(text.getvalue())
    return seconds


def main() -> int:
    size = SIZES[os.environ.get("BENCH_SIZE", "100k").lower()]
    backend_name = os.environ.get("BENCH_BACKENDS", "sqlite").split(",")[0].strip()
    phases = os.environ.get("BENCH_PHASES", ",".join(PHASES)).split(",")
    out_dir = Path(os.environ.get("BENCH_OUT", ".bench"))
    out_dir.mkdir(parents=True, exist_ok=True)
    backend = (
        postgres_backend(pg_url_from_env()) if backend_name == "postgresql" else sqlite_backend()
    )
    try:
        with tempfile.TemporaryDirectory(prefix="factledger-profile-") as tmp:
            gen = generate(size.events, Path(tmp), deliveries=size.deliveries)
            clock = ours.Clock(RECORDED_START)
            lg = ours.open_ledger(backend.new_url(), clock)
            try:
                stem = f"profile-{size.name}-{backend.name}"

                def phase(name: str, action: Callable[[], object]) -> None:
                    if name in phases or name == "import":
                        path = out_dir / f"{stem}-{name}.txt"
                        seconds = _profile(name, action, path)
                        print(f"{name}: {seconds:.1f} s -> {path}", file=sys.stderr, flush=True)

                phase("import", lambda: ours.import_deliveries(lg, gen, clock))
                phase("verify", lg.verify)
                phase("replay", lambda: fold(lg.store.read()))
                phase("asof", lambda: ours.asof_queries(lg, gen, 200, seed=0))
                phase("append", lambda: ours.single_appends(lg, gen, 50, seed=0, tag="prof"))
                phase("rebuild", lg.rebuild)
            finally:
                lg.close()
    finally:
        backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
