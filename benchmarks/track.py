"""Issue 13's figures: track records on the synthetic ledger, and the policy lookup an answer adds.

    .venv/bin/python -m benchmarks.track 100000                 # SQLite, a temporary file
    .venv/bin/python -m benchmarks.track 100000 --db URL        # an empty database at URL

Imports the generator's ledger, then times (medians of ``--runs``): every source's record
(``Ledger.track_records``) as of an early date, a middle one and now; one source's record
(``Ledger.track_record``) for a few sources; and ``believed`` with no policy recorded and with
one recorded (the answer's extra cost is the policy lookup, from memory once the policy stream
has been read for the current head).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generator import generate
from ledger import Ledger, PolicySet


def _median(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 4)


def _bound(call: Callable[..., object], *args: Any, **kwargs: Any) -> Callable[[], object]:
    return lambda: call(*args, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int, nargs="?", default=100_000)
    parser.add_argument("--db", metavar="URL", help="an empty database (default: a SQLite file)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-track-"))
    gen = generate(args.events, work / "data")
    url = args.db or f"sqlite:///{work / 'track.db'}"
    result: dict[str, Any] = {"events": args.events, "load_before": os.getloadavg()}
    with Ledger.open(url) as lg:
        for path in gen.files:
            lg.import_jsonl(path)
        for as_of in ("2016-01-01", "2020-01-01", None):
            result[f"track_records as_of={as_of}"] = _median(
                _bound(lg.track_records, as_of=as_of), args.runs
            )
        for source in gen.source_ids[:3]:
            result[f"track_record {source}"] = _median(_bound(lg.track_record, source), args.runs)
        proposition = gen.proposition_ids[0]
        result["believed, no policy recorded"] = _median(
            lambda: lg.believed(proposition), args.runs * 10
        )
        lg.append([PolicySet("bench-policy", authoritative=["court"])])
        result["believed, a policy recorded"] = _median(
            lambda: lg.believed(proposition), args.runs * 10
        )
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
