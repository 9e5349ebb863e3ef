"""``python -m benchmarks.hot_reads [--events N] [--questions Q] [--rounds R] [--json]``: the index
entries a hot proposition's answer reads, and what the order of the in-force index's key costs
it. SQLite.

Builds a ledger of ``--events`` generated records and the hot workload's story (10 deliveries
of 1,000 statements on one proposition from 300 sources, ``benchmarks.hot``) in a temporary
SQLite file, then takes ``--questions`` questions of the hot workload's distribution (valid
time over the story, known_at from the story's first delivery to the head) and counts, for each,
with SQL over the stance rows, the entries each part of the answer statement reads
(``projections.materialized``) and the rows it keeps:

* ``left``: at the interval tree's nodes left of the valid time, the range ``reach_to > a`` of
  ``ix_belief_stances_current`` (every entry there holds ``a``);
* ``right``: at the nodes at or right of it, every entry of the node, ``valid_from <= a``
  checked on each;
* ``closed``: the versions closed after ``known_at`` (the range of ``ix_belief_stances_closed``),
  those visible at ``known_at`` and those holding ``a``;

and what ``left`` and ``right`` would read with the index keyed ``(node, valid_from,
reach_to)`` instead (a left probe then reads its node whole, a right one a range).
``--rounds R`` (default 0) then asks the questions of R rounds on the ledger and on a copy of it
whose in-force index has that other order, alternately (which goes first alternates): p50 ms
each way, and the answers checked equal.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import ours
from benchmarks.generator import generate
from benchmarks.hot import generate_hot, story_files
from ledger import Ledger
from ledger.times import to_micros
from projections.interval_index import ancestors
from projections.tables import OPEN

Question = tuple[str, datetime, datetime]
INDEX = "ix_belief_stances_current"


def build(directory: Path, events: int) -> tuple[str, ours.Aim]:
    """The generated ledger and the hot story in ``directory``; its URL and the story's aim."""
    gen = generate(events, directory / "base")
    story = generate_hot(
        directory / "hot", gen.source_ids, deliveries=10, statements=1_000, sources=300
    )
    files, first = story_files(gen, story)
    url = f"sqlite:///{directory / 'hot.db'}"
    clock = ours.Clock(files[0][1])
    with ours.open_ledger(url, clock) as lg:
        for path, at in files:
            clock.set(at)
            ours.import_file(lg, path)
    known_from = gen.recorded_at(first) + timedelta(hours=1)
    return url, ours.Aim(story.proposition, story.start, story.latest, story.sources, known_from)


def questions(lg: Ledger, aim: ours.Aim, count: int, seed: int = 1) -> list[Question]:
    end = lg.head().recorded_at
    assert end is not None
    rng = random.Random(seed)
    return [aim.query(rng, end) for _ in range(count)]


def count_reads(db: sqlite3.Connection, asked: list[Question]) -> dict[str, float]:
    """Entries read and rows kept by each part of the answer, per question (means)."""
    totals: dict[str, float] = dict.fromkeys(
        (
            "left read",
            "left kept",
            "right read",
            "right kept",
            "closed read",
            "closed visible",
            "closed kept",
            "left read, other order",
            "right read, other order",
        ),
        0.0,
    )
    for proposition, as_of, known_at in asked:
        a, k = to_micros(as_of), to_micros(known_at)
        left, right = ancestors(a)
        for side, nodes in (("left", left), ("right", right)):
            for node in nodes:
                whole, by_reach, by_valid, kept = db.execute(
                    "SELECT count(*), coalesce(sum(reach_to > ?1), 0), "
                    "coalesce(sum(valid_from <= ?1), 0), "
                    "coalesce(sum(reach_to > ?1 AND valid_from <= ?1 AND tx_from <= ?2), 0) "
                    "FROM belief_stances WHERE proposition_id = ?3 AND tx_to = ?4 AND node = ?5",
                    (a, k, proposition, OPEN, node),
                ).fetchone()
                totals[f"{side} kept"] += kept
                # the index's order bounds a left probe by reach_to, a right one by nothing
                totals[f"{side} read"] += by_reach if side == "left" else whole
                totals[f"{side} read, other order"] += whole if side == "left" else by_valid
        read, visible, kept = db.execute(
            "SELECT count(*), coalesce(sum(tx_from <= ?2), 0), "
            "coalesce(sum(tx_from <= ?2 AND valid_from <= ?1 AND reach_to > ?1), 0) "
            "FROM belief_stances WHERE proposition_id = ?3 AND tx_to < ?4 AND tx_to > ?2",
            (a, k, proposition, OPEN),
        ).fetchone()
        totals["closed read"] += read
        totals["closed visible"] += visible
        totals["closed kept"] += kept
    return {name: round(total / len(asked), 1) for name, total in totals.items()}


def reordered_copy(url: str, directory: Path) -> str:
    """A copy of the SQLite ledger at ``url`` whose in-force index is keyed ``(node,
    valid_from, reach_to)``; its URL."""
    path = directory / "reordered.db"
    # (a connection's own ``with`` commits but does not close: closing() does)
    with (
        closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as src,
        closing(sqlite3.connect(path)) as dst,
    ):
        src.backup(dst)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (INDEX,)).fetchone()
        swapped = sql.replace("node, reach_to, valid_from", "node, valid_from, reach_to")
        if swapped == sql:
            raise RuntimeError(f"unexpected definition of {INDEX}: {sql}")
        db.execute(f"DROP INDEX {INDEX}")
        db.execute(swapped)
    finally:
        db.close()
    return f"sqlite:///{path}"


def alternate(
    first: Ledger, second: Ledger, asked: list[Question], rounds: int
) -> list[dict[str, float]]:
    """p50 (ms) of the same questions on two ledgers, alternately, each round; answers equal."""
    results = []
    first.believed(asked[0][0])
    second.believed(asked[0][0])
    for _ in range(rounds):
        times: tuple[list[float], list[float]] = ([], [])
        for i, (proposition, as_of, known_at) in enumerate(asked):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            answers = {}
            for which in order:
                lg = (first, second)[which]
                start = time.perf_counter()
                answers[which] = lg.believed(proposition, as_of=as_of, known_at=known_at)
                times[which].append((time.perf_counter() - start) * 1000)
            if answers[0].verdict != answers[1].verdict:
                raise AssertionError(f"the two orders answer {proposition} differently")
        p50 = (statistics.median(times[0]), statistics.median(times[1]))
        results.append(
            {
                "index order p50": round(p50[0], 3),
                "other order p50": round(p50[1], 3),
                "other / index": round(p50[1] / p50[0], 3),
            }
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hot_reads")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"events": args.events, "questions": args.questions}
    with tempfile.TemporaryDirectory(prefix="factledger-hot-reads-") as tmp:
        print(f"building {args.events:,} records and the hot story...", file=sys.stderr)
        url, aim = build(Path(tmp), args.events)
        with Ledger.open(url) as lg:
            asked = questions(lg, aim, args.questions)
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            result["reads"] = count_reads(db, asked)
        finally:
            db.close()
        if args.rounds:
            other = reordered_copy(url, Path(tmp))
            with Ledger.open(url) as lg, Ledger.open(other) as reordered:
                result["rounds"] = alternate(lg, reordered, asked, args.rounds)
    if args.json:
        print(json.dumps(result))
        return 0
    for name, mean in result["reads"].items():
        print(f"{name:<26}{mean:>10,.1f}")
    for r in result.get("rounds", []):
        print(", ".join(f"{k} {v}" for k, v in r.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
