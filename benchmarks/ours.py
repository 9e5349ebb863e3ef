"""The factledger workloads: import (in a child process, for peak RSS), single append (through
``Ledger.append`` and, log-only, ``EventStore.append``), as-of queries, the aimed appends and
queries of the hot workload, and (each in a child process, for peak RSS) verify,
reference-fold replay, rebuild and a plain read of the log.

Everything goes through the public API (``Ledger``), with one deterministic clock so that two
runs of the same size write byte-identical logs (the head hash is recorded to show it).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.databases import pg_url_from_env, postgres_backend, sqlite_backend
from benchmarks.generator import (
    STANCES,
    WORLD_DAYS,
    WORLD_START,
    Generated,
    generate,
    read_records,
)
from ledger import (
    CorrectionMade,
    DocumentRegistered,
    Event,
    Ledger,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)

#: How the import workload reached the ledger: the public import path, or (until it exists)
#: ``Ledger.append`` of the parsed events in one batch per file.
IMPORT_JSONL = "Ledger.import_jsonl"
APPEND_FALLBACK = "Ledger.append (fallback: no Ledger.import_jsonl)"
_ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """The ledger clock under the benchmark's control: each reading is 1 ms after the last,
    and :meth:`set` jumps to a delivery's day (never backwards)."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = max(self.now, when)


def open_ledger(url: str, clock: Clock | None = None) -> Ledger:
    return Ledger.open(url) if clock is None else Ledger.open(url, clock=clock)


# -- import ----------------------------------------------------------------------------------


def atomic_imports() -> bool:
    """``BENCH_IMPORT_ATOMIC=1``: import each file in one transaction (``atomic=True``, as
    ``factledger import --atomic``) instead of the importer's default chunks of 50,000."""
    return os.environ.get("BENCH_IMPORT_ATOMIC", "0") == "1"


def import_path() -> str:
    if not callable(getattr(Ledger, "import_jsonl", None)):
        return APPEND_FALLBACK
    return IMPORT_JSONL + ("(atomic=True)" if atomic_imports() else "")


def _event(record: dict[str, Any]) -> Event:
    """A generated record as its event (only the fallback path needs this)."""
    r = {k: v for k, v in record.items() if v is not None}
    kind = r.pop("type")
    rid = r.pop("id")
    if kind == "source":
        return SourceRegistered(rid, **r)
    if kind == "proposition":
        return PropositionDefined(rid, **r)
    if kind == "document":
        return DocumentRegistered(rid, **r)
    if kind == "statement":
        return StatementMade(
            rid,
            r.pop("source"),
            r.pop("proposition"),
            r.pop("stance"),
            r.pop("stated_at"),
            document_id=r.pop("document", None),
            **r,
        )
    return CorrectionMade(rid, r.pop("corrects"), r.pop("reason"), **_correction(r))


def _correction(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "set" in r:
        out["changes"] = r["set"]
    if "withdraw" in r:
        out["withdraw"] = r["withdraw"]
    return out


def import_file(lg: Ledger, path: Path) -> int:
    """Import one generated file through the public import path; returns records appended."""
    importer: Callable[..., Any] | None = getattr(lg, "import_jsonl", None)
    if importer is not None:
        report = importer(path, atomic=True) if atomic_imports() else importer(path)
        return int(report.appended)
    events = [_event(r) for r in read_records(path)]
    return len(lg.append(events).appended)


def import_deliveries(lg: Ledger, gen: Generated, clock: Clock) -> tuple[float, int]:
    """Import every delivery in order, the clock a day further each time.

    Returns the seconds spent inside the import calls and the records appended.
    """
    seconds, appended = 0.0, 0
    for k, path in enumerate(gen.files):
        clock.set(gen.recorded_at(k))
        t0 = time.perf_counter()
        appended += import_file(lg, path)
        seconds += time.perf_counter() - t0
    return seconds, appended


@contextmanager
def generated_ledger(backend: str, events: int) -> Iterator[tuple[Ledger, Generated]]:
    """For a probe: ``events`` generated records (one file), imported as the harness imports
    them, into a fresh database of ``backend`` (``sqlite``: a file; ``postgresql``: a schema on
    the server of ``BENCH_PG_URL`` or ``LEDGER_TEST_PG_URL``); all removed on exit."""
    databases = sqlite_backend() if backend == "sqlite" else postgres_backend(pg_url_from_env())
    try:
        with tempfile.TemporaryDirectory(prefix="factledger-probe-") as tmp:
            print(f"generating and importing {events:,} records...", file=sys.stderr)
            gen = generate(events, Path(tmp))
            clock = Clock(gen.recorded_at(0))
            with open_ledger(databases.new_url(), clock) as lg:
                import_deliveries(lg, gen, clock)
                yield lg, gen
    finally:
        databases.close()


def import_in_child(
    url: str, files: Sequence[tuple[Path, datetime]], plan: Path, timeout: float | None = None
) -> dict[str, Any]:
    """Import ``files`` in order, each at its ``recorded_at``, in a child process (so that its
    peak RSS is the import's own); see :mod:`benchmarks._child`. The plan is written to
    ``plan``. Returns ``seconds``, ``events``, ``peak_rss_mb``, ``base_rss_mb`` and the
    per-file ``per_file`` seconds and ``per_file_records``."""
    plan.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text(json.dumps({"files": [[str(p), at.isoformat()] for p, at in files]}))
    return run_child("import", url, timeout=timeout, extra=[str(plan)])


def store_deliveries(
    lg: Ledger, gen: Generated, clock: Clock, batch: int = 10_000
) -> tuple[float, int]:
    """Append every delivery with ``EventStore.append`` alone, in batches of ``batch``: the
    hash-chained log without the belief projection (log-only runs). Parsing is not timed."""
    seconds, appended = 0.0, 0
    for k, path in enumerate(gen.files):
        clock.set(gen.recorded_at(k))
        events = [_event(r) for r in read_records(path)]
        for i in range(0, len(events), batch):
            t0 = time.perf_counter()
            appended += len(lg.store.append(events[i : i + batch]).appended)
            seconds += time.perf_counter() - t0
    return seconds, appended


def store_each_delivery(
    lg: Ledger, files: Sequence[tuple[Path, datetime]], clock: Clock
) -> list[float]:
    """Append each delivery with one ``EventStore.append`` call (the log without the belief
    projection), the clock at its day; the seconds of each call (parsing is not timed)."""
    out = []
    for path, at in files:
        clock.set(at)
        events = [_event(r) for r in read_records(path)]
        t0 = time.perf_counter()
        lg.store.append(events)
        out.append(time.perf_counter() - t0)
    return out


# -- single appends and as-of queries ----------------------------------------------------------


def random_statements(gen: Generated, count: int, *, seed: int, tag: str) -> list[StatementMade]:
    """``count`` statements on random propositions of ``gen`` by random sources, with a random
    stance and a random date in the ledger's world (the single-append workload's)."""
    rng = random.Random(seed)
    return [
        StatementMade(
            f"append-{tag}-{i:05d}",
            rng.choice(gen.source_ids),
            rng.choice(gen.proposition_ids),
            rng.choice(("assert", "deny", "confirm", "refute", "retract", "no_comment")),
            (WORLD_START + timedelta(days=rng.randrange(WORLD_DAYS))).isoformat(),
        )
        for i in range(count)
    ]


def single_appends(lg: Ledger, gen: Generated, count: int, *, seed: int, tag: str) -> list[float]:
    """Append ``count`` :func:`random_statements`, each ``Ledger.append([one])`` in its own
    transaction; latencies in seconds."""
    latencies = []
    for event in random_statements(gen, count, seed=seed, tag=tag):
        t0 = time.perf_counter()
        lg.append([event])
        latencies.append(time.perf_counter() - t0)
    return latencies


def appends_beside_log_only(
    lg: Ledger, twin: Ledger, gen: Generated, count: int, *, seed: int, tag: str
) -> tuple[list[float], list[float]]:
    """The same :func:`random_statements`, each through ``lg.append([one])`` (log and
    projection) and through ``twin.store.append([one])`` (the log only) on ``twin``, a ledger
    built the same way, alternately (which goes first alternates too), so that any drift of
    the machine hits both alike. (On one ledger the two could not alternate: each
    ``Ledger.append`` would fold in the log-only event before it.) Latencies in seconds."""
    full: list[float] = []
    bare: list[float] = []
    for i, event in enumerate(random_statements(gen, count, seed=seed, tag=tag)):
        pair = [(lg.append, full), (twin.store.append, bare)]
        for append, out in pair if i % 2 == 0 else pair[::-1]:
            t0 = time.perf_counter()
            append([event])
            out.append(time.perf_counter() - t0)
    return full, bare


def asof_plans(
    lg: Ledger, gen: Generated, count: int, seed: int
) -> list[tuple[str, datetime, datetime]]:
    """``count`` questions ``(proposition, as_of, known_at)``: random propositions, valid times
    and transaction times (after the proposition was defined)."""
    rng = random.Random(seed)
    end = lg.head().recorded_at or datetime.now(UTC)
    world_start = datetime.combine(WORLD_START, datetime.min.time(), tzinfo=UTC)
    plans = []
    for _ in range(count):
        i = rng.randrange(len(gen.proposition_ids))
        first = gen.recorded_at(gen.proposition_delivery[i]) + timedelta(hours=1)
        span = max(0.0, (end - first).total_seconds())
        known_at = first + timedelta(seconds=rng.uniform(0, span))
        as_of = world_start + timedelta(seconds=rng.uniform(0, WORLD_DAYS * 86_400.0))
        plans.append((gen.proposition_ids[i], as_of, known_at))
    return plans


def asof_queries(lg: Ledger, gen: Generated, count: int, seed: int) -> list[float]:
    """``believed(p, as_of, known_at)`` from the materialized projection for
    :func:`asof_plans`; latencies in seconds."""
    plans = asof_plans(lg, gen, count, seed)
    lg.believed(plans[0][0])  # warm the connection pool and the statement cache
    latencies = []
    for proposition, as_of, known_at in plans:
        t0 = time.perf_counter()
        lg.believed(proposition, as_of=as_of, known_at=known_at)
        latencies.append(time.perf_counter() - t0)
    return latencies


# -- aimed appends and queries: one proposition's history (the hot workload) ------------------


class Aim:
    """Where appends and queries about one proposition go: its history's first and latest
    valid time (the latest moves on as appends land after it), the sources that speak on it,
    and the transaction time from which it is known."""

    def __init__(
        self,
        proposition: str,
        first: datetime,
        latest: datetime,
        sources: Sequence[str],
        known_from: datetime,
    ):
        self.proposition = proposition
        self.first = first
        self.latest = latest
        self.sources = list(sources)
        self.known_from = known_from

    def statement(self, rng: random.Random, sid: str, backdated: float) -> StatementMade:
        """A statement on this proposition: back-dated (uniform between the first and latest
        valid time) with probability ``backdated``, else up to two days after the latest."""
        if rng.random() < backdated and self.latest > self.first:
            when = self.first + (self.latest - self.first) * rng.random()
        else:
            when = self.latest + timedelta(seconds=rng.uniform(0, 2 * 86_400))
            self.latest = when
        stance = rng.choices([s for s, _ in STANCES], [w for _, w in STANCES])[0]
        return StatementMade(sid, rng.choice(self.sources), self.proposition, stance, when)

    def query(self, rng: random.Random, end: datetime) -> tuple[str, datetime, datetime]:
        """``(proposition, as_of, known_at)``: ``as_of`` uniform over the history (first valid
        time to a day after the latest), ``known_at`` uniform from ``known_from`` to ``end``."""
        span = self.latest + timedelta(days=1) - self.first
        as_of = self.first + span * rng.random()
        known_at = self.known_from + max(timedelta(0), end - self.known_from) * rng.random()
        return self.proposition, as_of, known_at


def paired_appends(
    lg: Ledger,
    hot: Aim,
    cold: Sequence[Aim],
    *,
    count: int,
    seed: int,
    tag: str,
    backdated: float,
) -> tuple[list[float], list[float]]:
    """``count`` one-statement ``Ledger.append`` calls to ``hot`` and as many to random
    propositions of ``cold``, alternately (so that drift hits both alike); latencies (s)."""
    rng = random.Random(seed)
    hot_lat: list[float] = []
    cold_lat: list[float] = []
    for i in range(count):
        for aim, out, kind in ((hot, hot_lat, "hot"), (rng.choice(cold), cold_lat, "cold")):
            event = aim.statement(rng, f"append-{tag}-{kind}-{i:05d}", backdated)
            t0 = time.perf_counter()
            lg.append([event])
            out.append(time.perf_counter() - t0)
    return hot_lat, cold_lat


def paired_asof(
    lg: Ledger,
    hot: Aim,
    cold: Sequence[Aim],
    *,
    count: int,
    seed: int,
    cpu: tuple[list[float], list[float]] | None = None,
) -> tuple[list[float], list[float]]:
    """``count`` ``believed(p, as_of=..., known_at=...)`` on ``hot`` and as many on random
    propositions of ``cold``, alternately; see :meth:`Aim.query`. Latencies (s); each
    question's CPU time (s) is appended to ``cpu`` (hot, cold) if given."""
    rng = random.Random(seed)
    end = lg.head().recorded_at or datetime.now(UTC)
    plans = [(hot.query(rng, end), rng.choice(cold).query(rng, end)) for _ in range(count)]
    lg.believed(hot.proposition)  # warm the connection pool and the statement cache
    hot_lat: list[float] = []
    cold_lat: list[float] = []
    hot_cpu, cold_cpu = cpu if cpu is not None else ([], [])
    for pair in plans:
        for (proposition, as_of, known_at), out, out_cpu in zip(
            pair, (hot_lat, cold_lat), (hot_cpu, cold_cpu), strict=True
        ):
            t0, c0 = time.perf_counter(), time.process_time()
            lg.believed(proposition, as_of=as_of, known_at=known_at)
            out.append(time.perf_counter() - t0)
            out_cpu.append(time.process_time() - c0)
    return hot_lat, cold_lat


def cold_aims(gen: Generated, spans: dict[str, tuple[datetime, datetime]]) -> list[Aim]:
    """Every proposition of the generated ledger that has statements, as an :class:`Aim`
    (known from an hour after the delivery that defined it)."""
    return [
        Aim(p, *spans[p], gen.source_ids, gen.recorded_at(d) + timedelta(hours=1))
        for p, d in zip(gen.proposition_ids, gen.proposition_delivery, strict=True)
        if p in spans
    ]


# -- the audit paths, each in a child process --------------------------------------------------

#: The operations :mod:`benchmarks._child` runs; each returns the events it went through.
AUDITS = ("verify", "replay", "rebuild", "read")


def run_child(
    operation: str, url: str, timeout: float | None = None, extra: Sequence[str] = ()
) -> dict[str, Any]:
    """Run one operation of :mod:`benchmarks._child` in a fresh interpreter; its seconds,
    events and peak RSS (and whatever else the operation reports)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._child", operation, url, *extra],
        capture_output=True,
        text=True,
        cwd=_ROOT,
        env=env,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {operation!r} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
