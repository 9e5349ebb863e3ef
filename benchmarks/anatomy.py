"""``python -m benchmarks.anatomy sqlite|postgresql [options]``: where one write's work goes.

The deliveries and single-append targets of issue 10 that are missed are missed in the
database's pages, not in Python; this shows which pages, so that the explanation in
BENCHMARKS.md can be checked and re-measured by anyone.

``sqlite``: imports the synthetic ledger as daily deliveries (``--events`` records, default
100,000, in deliveries of ``--per``, default 1,000), checkpoints the WAL before the last
delivery, imports it with automatic checkpoints off, and attributes every WAL frame that
delivery wrote to the table or index its page belongs to (SQLite's ``dbstat``). A WAL frame is
one page written at commit (or spilled before it); what a commit costs grows with them.

``postgresql``: on a ledger of ``--events`` records (built in a schema of its own on the server
of ``BENCH_PG_URL`` or ``LEDGER_TEST_PG_URL``, dropped afterwards; or ``--url`` of one already
built from the same generated file, left as it was but for the appends), makes ``--appends``
single ``Ledger.append`` calls of random statements, then as many log-only
``EventStore.append`` calls (the projection caught up after them), and runs every statement
each one sends under
``EXPLAIN (ANALYZE, BUFFERS, WAL)`` first, in a savepoint rolled back before the statement
runs for real. Per statement: the server's execution time, shared buffers hit, read (not in
PostgreSQL's buffers: from the OS) and dirtied, and WAL records, full-page images and bytes
(medians over the appends). Statements over ``belief_*`` tables are the projection's; the
lookup a ``Ledger.append`` sends carries the projection's read of the chains it will touch.

``postgresql --deliveries``: imports ``--events`` records as deliveries of ``--per`` into a
fresh ledger and explains every statement of the second delivery and the last the same way,
summed over each delivery: what grows between them.

Limits: EXPLAIN's figures are the statement's first run (the real run after it finds the
pages it needs in the buffers); rows streamed with ``COPY`` (16 rows and more at once:
``ledger.store.bulk.COPY_FROM``) are not seen, a delivery's inserts among them (its reads and
smaller writes are); buffer and WAL counts of a data-modifying ``WITH`` query are summed over
the statement and its ``CTE`` parts (which EXPLAIN reports apart), but not over other
sub-plans, whose figures their parent includes.
``--json`` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sqlite3
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import event

from benchmarks import ours
from benchmarks.databases import pg_url_from_env, postgres_backend
from benchmarks.generator import Generated, generate

# -- SQLite: the WAL frames of one delivery ------------------------------------------------------


@attrs.frozen
class TreeWrites:
    """One table or index: the WAL frames a delivery wrote to it, the distinct pages they
    were, and how many pages it has in all."""

    name: str
    frames: int
    pages: int
    of: int


@attrs.frozen
class DeliveryWal:
    """The pages one delivery wrote: ``number`` (from 1) of ``deliveries`` of ``per``
    records, into a ledger that ends with ``events``."""

    number: int
    seconds: float  # its import
    frames: int
    trees: list[TreeWrites]


@attrs.frozen
class AppendsWal:
    """The WAL frames single appends of one kind wrote, on average, by table and index."""

    path: str  # "Ledger.append" or "EventStore.append"
    appends: int
    frames: float  # per append
    trees: list[tuple[str, float]]  # (name, frames per append), most first


@attrs.frozen
class DeliveriesWal:
    events: int
    per: int
    deliveries: int
    measured: list[DeliveryWal]  # the second delivery and the last
    singles: list[AppendsWal]  # then single appends of each kind, on the finished ledger


def sqlite_deliveries(events: int, per: int, directory: Path, appends: int = 40) -> DeliveriesWal:
    """Import ``events`` records as deliveries of ``per`` into a fresh SQLite file; the WAL
    frames the second and the last delivery wrote, by table and index; then those of
    ``appends`` single ``Ledger.append`` and as many log-only ``EventStore.append`` calls of
    a random statement, alternated (the projection caught up after each log-only one)."""
    deliveries = max(2, events // per)
    gen = generate(events, directory / "gen", deliveries=deliveries)
    db = directory / "anatomy.db"
    clock = ours.Clock(gen.recorded_at(0))
    lg = ours.open_ledger(f"sqlite:///{db}", clock)
    # Every frame a measured delivery writes stays in the WAL: no automatic checkpoint (the
    # ledger's connections are made again, with this after the ledger's own pragmas).
    event.listen(
        lg.store.engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA wal_autocheckpoint=0")
    )
    lg.store.engine.dispose()
    measured = []
    try:
        for k, path in enumerate(gen.files):
            clock.set(gen.recorded_at(k))
            watched = k in (1, len(gen.files) - 1)
            if watched:
                with lg.store.engine.connect() as conn:
                    _checkpointed(conn)
            t0 = time.perf_counter()
            ours.import_file(lg, path)
            seconds = time.perf_counter() - t0
            if watched:
                # Read while the ledger is open: its last connection's close checkpoints.
                measured.append(_attributed(k + 1, seconds, wal_pages(Path(f"{db}-wal")), db))
        singles = _single_appends(lg, gen, db, appends)
    finally:
        lg.close()
    return DeliveriesWal(events, per, len(gen.files), measured, singles)


def _single_appends(lg: Any, gen: Generated, db: Path, appends: int) -> list[AppendsWal]:
    found: dict[str, collections.Counter[str]] = {
        "Ledger.append": collections.Counter(),
        "EventStore.append": collections.Counter(),
    }
    tag = f"anatomy-{time.time_ns()}"
    events = ours.random_statements(gen, 2 * appends, seed=1, tag=tag)
    for i in range(appends):
        kinds = (("Ledger.append", lg.append), ("EventStore.append", lg.store.append))
        for (name, append), e in zip(kinds, events[2 * i : 2 * i + 2], strict=True):
            with lg.store.engine.connect() as conn:
                _checkpointed(conn)
            append([e])
            owners = page_owners(db)
            found[name].update(owners.get(p, "?") for p in wal_pages(Path(f"{db}-wal")))
        lg.projection.ensure_current()  # the log-only one, folded before the next pair
    n = max(1, appends)
    return [
        AppendsWal(
            name,
            appends,
            sum(frames.values()) / n,
            [(tree, count / n) for tree, count in frames.most_common()],
        )
        for name, frames in found.items()
    ]


def _attributed(number: int, seconds: float, pages: list[int], db: Path) -> DeliveryWal:
    owners = page_owners(db)
    frames = collections.Counter(owners.get(page, "?") for page in pages)
    distinct = collections.Counter(owners.get(page, "?") for page in set(pages))
    sizes = collections.Counter(owners.values())
    trees = [TreeWrites(name, n, distinct[name], sizes[name]) for name, n in frames.most_common()]
    return DeliveryWal(number, seconds, len(pages), trees)


def _checkpointed(conn: Any) -> None:
    """Empty the WAL; a checkpoint kept from it by a reader would leave old frames in it and
    count them as the next write's."""
    busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        raise RuntimeError("the WAL could not be emptied: another connection reads the file")


def wal_pages(wal: Path) -> list[int]:
    """The page number of every frame of the WAL's current generation, in order (frames
    left from before the WAL was last restarted carry other salts, and are not counted)."""
    data = wal.read_bytes()
    if len(data) < 32:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    salts = data[16:24]
    pages, offset = [], 32
    while offset + 24 + page_size <= len(data):
        if data[offset + 8 : offset + 16] != salts:
            break
        pages.append(struct.unpack(">I", data[offset : offset + 4])[0])
        offset += 24 + page_size
    return pages


def page_owners(db: Path) -> dict[int, str]:
    """Each page of the database (as its WAL has it) and the table or index it belongs to."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT pageno, name FROM dbstat"))
    except sqlite3.OperationalError as e:
        raise SystemExit(
            f"this Python's SQLite has no dbstat table ({e}): no pages to attribute"
        ) from e
    finally:
        conn.close()


# -- PostgreSQL: each statement of a single append, explained -----------------------------------


@attrs.frozen
class StatementCost:
    """One statement of an append, as EXPLAIN (ANALYZE, BUFFERS, WAL) measured it: medians
    over the appends (``calls`` of them sent it)."""

    role: str  # "log", "projection", or "lookup + projection read" (one statement for both)
    sql: str  # its first words
    calls: int
    ms: float
    hit: float
    read: float
    dirtied: float
    wal_records: float
    wal_fpi: float
    wal_bytes: float


@attrs.frozen
class AppendCosts:
    path: str  # "Ledger.append" or "EventStore.append"
    wall_p50_ms: float  # with the EXPLAIN runs: not the append's own latency
    statements: list[StatementCost]
    roles: list[StatementCost]


_FIELDS = {
    "hit": "Shared Hit Blocks",
    "read": "Shared Read Blocks",
    "dirtied": "Shared Dirtied Blocks",
    "wal_records": "WAL Records",
    "wal_fpi": "WAL FPI",
    "wal_bytes": "WAL Bytes",
}


def plan_totals(plan: dict[str, Any]) -> dict[str, float]:
    """Buffers and WAL of an explained statement: its top node (which includes its children)
    and the parts of a ``WITH`` query that EXPLAIN reports apart (``CTE ...`` sub-plans,
    which a data-modifying ``WITH`` runs after the statement's own node)."""
    totals = {key: float(plan.get(field, 0)) for key, field in _FIELDS.items()}
    for child in plan.get("Plans", []):
        if str(child.get("Subplan Name", "")).startswith("CTE"):
            for key, value in plan_totals(child).items():
                totals[key] += value
    return totals


class _Explainer:
    """Explains every statement sent through the engine while :attr:`path` is set; each
    append's statements are kept together (:meth:`done` ends one)."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.current: list[tuple[str, dict[str, float]]] = []
        self.appends: dict[str, list[list[tuple[str, dict[str, float]]]]] = collections.defaultdict(
            list
        )

    def before(self, _conn: Any, cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if self.path is None or not sql.lstrip().upper().startswith(
            ("SELECT", "INSERT", "WITH", "UPDATE", "DELETE")
        ):
            return
        raw = cursor.connection
        costs = []
        raw.execute("SAVEPOINT anatomy")
        try:
            for one in params if many else [params]:
                explained = raw.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) " + sql, one
                ).fetchone()[0][0]
                costs.append(plan_totals(explained["Plan"]) | {"ms": explained["Execution Time"]})
        finally:
            raw.execute("ROLLBACK TO SAVEPOINT anatomy")
        self.current.append((sql, {key: sum(c[key] for c in costs) for key in costs[0]}))

    def done(self) -> None:
        if self.path is not None:
            self.appends[self.path].append(self.current)
        self.path, self.current = None, []


def _role(sql: str) -> str:
    if "belief_" not in sql:
        return "log"
    return "lookup + projection read" if sql.startswith("SELECT 0 AS tag") else "projection"


def _label(sql: str) -> str:
    """A statement's first words, its ``IN`` lists and ``VALUES`` rows shortened (their length
    varies from append to append) and, for a ``WITH`` query, the names of its parts."""
    flat = re.sub(r"IN \([^)]*\)", "IN (...)", " ".join(sql.split()))
    flat = re.sub(r"VALUES (\([^)]*\))(, \([^)]*\))+", r"VALUES \1, ...", flat)
    if flat.startswith("WITH "):
        parts = re.findall(r"(?:^WITH |\), )(\w+) AS \(", flat)
        return f"WITH {', '.join(parts)}: " + flat[flat.rindex(") ") + 2 :][:60]
    return flat[:72]


def postgresql_appends(
    url: str, gen: Generated, appends: int, *, seed: int = 1
) -> list[AppendCosts]:
    """``appends`` single ``Ledger.append`` calls of random statements on the ledger at
    ``url``, then as many log-only ``EventStore.append`` calls, every statement explained
    first; then the projection catches up with the log-only ones. (Not alternated, as the
    harness's twin ledgers allow: each ``Ledger.append`` would fold the log-only append
    before it too.)"""
    lg = ours.open_ledger(url)
    explainer = _Explainer()
    event.listen(lg.store.engine, "before_cursor_execute", explainer.before)
    wall: dict[str, list[float]] = collections.defaultdict(list)
    tag = f"anatomy-{time.time_ns()}"
    events = ours.random_statements(gen, 2 * appends + 10, seed=seed, tag=tag)
    paths = {"Ledger.append": lg.append, "EventStore.append": lg.store.append}
    try:
        for e in events[:10]:  # warm the pool, the statement cache and the plans
            lg.append([e])
        for i, e in enumerate(events[10:]):
            name = "Ledger.append" if i < appends else "EventStore.append"
            explainer.path = name
            t0 = time.perf_counter()
            paths[name]([e])
            wall[name].append(time.perf_counter() - t0)
            explainer.done()
        lg.projection.ensure_current()
    finally:
        lg.close()
    return [_summary(name, explainer.appends[name], wall[name]) for name in paths]


def _by_statement(
    sent: Iterable[tuple[str, dict[str, float]]],
) -> dict[tuple[str, str], list[dict[str, float]]]:
    """The costs of the statements sent, by role and label (:func:`_role`, :func:`_label`)."""
    grouped: dict[tuple[str, str], list[dict[str, float]]] = collections.defaultdict(list)
    for sql, cost in sent:
        grouped[_role(sql), _label(sql)].append(cost)
    return grouped


def _summary(
    path: str, appends: list[list[tuple[str, dict[str, float]]]], wall: list[float]
) -> AppendCosts:
    grouped = _by_statement(sent for each in appends for sent in each)
    totals: dict[str, list[dict[str, float]]] = collections.defaultdict(list)
    for sent in appends:
        per_role: dict[str, dict[str, float]] = {}
        for sql, cost in sent:
            into = per_role.setdefault(_role(sql), dict.fromkeys(cost, 0.0))
            for key, value in cost.items():
                into[key] += value
        for role, cost in per_role.items():
            totals[role].append(cost)
    keys = ("ms", *_FIELDS)
    statements = [
        StatementCost(
            role=role,
            sql=label,
            calls=len(runs),
            **{key: statistics.median(r[key] for r in runs) for key in keys},
        )
        for (role, label), runs in grouped.items()
    ]
    # Per append and role: the median over the appends of what each sent in all (an append
    # that sent none of a role's statements counts as nothing of it).
    by_role = [
        StatementCost(
            role=role,
            sql="(per append, all of the role's statements)",
            calls=len(runs),
            **{
                key: statistics.median([r[key] for r in runs] + [0.0] * (len(appends) - len(runs)))
                for key in keys
            },
        )
        for role, runs in totals.items()
    ]
    return AppendCosts(path, statistics.median(wall) * 1000, statements, by_role)


def postgresql_deliveries(url: str, gen: Generated) -> list[AppendCosts]:
    """Import ``gen``'s deliveries in order into the fresh ledger at ``url``; every statement
    of the second and the last delivery explained first, as for single appends (the rows
    streamed with ``COPY`` are not seen). One :class:`AppendCosts` per measured delivery,
    each statement's figures its sum over the delivery (``calls``: how many it sent)."""
    clock = ours.Clock(gen.recorded_at(0))
    lg = ours.open_ledger(url, clock)
    explainer = _Explainer()
    event.listen(lg.store.engine, "before_cursor_execute", explainer.before)
    last = len(gen.files) - 1
    wall: dict[str, float] = {}
    try:
        for k, path in enumerate(gen.files):
            clock.set(gen.recorded_at(k))
            name = f"delivery {k + 1}"
            explainer.path = name if k in (1, last) else None
            t0 = time.perf_counter()
            ours.import_file(lg, path)
            wall[name] = time.perf_counter() - t0
            explainer.done()
    finally:
        lg.close()
    return [
        _delivery_summary(name, sent, wall[name]) for name, (sent,) in explainer.appends.items()
    ]


def _delivery_summary(
    name: str, sent: list[tuple[str, dict[str, float]]], wall: float
) -> AppendCosts:
    grouped = _by_statement(sent)
    keys = ("ms", *_FIELDS)
    statements = [
        StatementCost(
            role=role, sql=label, calls=len(runs), **{k: sum(r[k] for r in runs) for k in keys}
        )
        for (role, label), runs in sorted(
            grouped.items(), key=lambda kv: -sum(r["ms"] for r in kv[1])
        )
    ]
    return AppendCosts(name, wall * 1000, statements, [])


@contextmanager
def _pg_ledger(events: int, directory: Path, url: str | None) -> Iterator[tuple[str, Generated]]:
    gen = generate(events, directory / "gen", deliveries=1)
    if url is not None:
        yield url, gen
        return
    backend = postgres_backend(pg_url_from_env())
    try:
        fresh = backend.new_url()
        clock = ours.Clock(gen.recorded_at(0))
        lg = ours.open_ledger(fresh, clock)
        try:
            ours.import_deliveries(lg, gen, clock)
        finally:
            lg.close()
        yield fresh, gen
    finally:
        backend.close()


# -- the command ---------------------------------------------------------------------------------


def _print_sqlite(found: DeliveriesWal) -> None:
    print(
        f"SQLite: deliveries of {found.per:,} records, {found.deliveries} of them "
        f"({found.events:,} records): the WAL frames (pages written) of two"
    )
    for one in found.measured:
        print(f"\ndelivery {one.number}: {one.frames:,} frames, {one.seconds * 1000:.0f} ms")
        print(f"{'frames':>8} {'share':>6} {'pages':>7} {'of':>7}  table or index")
        for tree in one.trees:
            share = tree.frames / one.frames if one.frames else 0.0
            print(f"{tree.frames:8,} {share:6.1%} {tree.pages:7,} {tree.of:7,}  {tree.name}")
    for single in found.singles:
        print(
            f"\n{single.path}, one event, {single.appends} of them: {single.frames:.1f} frames each"
        )
        for name, frames in single.trees:
            print(f"{frames:8.2f}  {name}")


def _print_postgresql(
    found: list[AppendCosts], events: int, what: str = "single appends (medians)"
) -> None:
    print(f"PostgreSQL, a ledger of {events:,} records, {what}; EXPLAIN's figures")
    for costs in found:
        print(f"\n{costs.path}: {costs.wall_p50_ms:.3f} ms wall (p50; EXPLAIN's runs included)")
        print(
            f"{'role':<24} {'calls':>5} {'ms':>6} {'hit':>5} {'read':>5} {'dirt':>5} {'wal':>4} "
            f"{'fpi':>4} {'bytes':>6}  statement"
        )
        for s in [*costs.statements, *costs.roles]:
            print(
                f"{s.role:<24} {s.calls:5d} {s.ms:6.3f} {s.hit:5.0f} {s.read:5.0f} "
                f"{s.dirtied:5.0f} {s.wal_records:4.0f} {s.wal_fpi:4.0f} {s.wal_bytes:6.0f}  "
                f"{s.sql}"
            )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.anatomy", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("backend", choices=("sqlite", "postgresql"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--per", type=int, default=1_000, help="records per delivery")
    parser.add_argument("--appends", type=int, default=20, help="single appends of each kind")
    parser.add_argument(
        "--url", help="an existing ledger built from the same generated file (postgresql)"
    )
    parser.add_argument(
        "--deliveries",
        action="store_true",
        help="postgresql: explain the statements of the second and the last delivery instead",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="anatomy-") as tmp:
        if args.backend == "sqlite":
            found: Any = sqlite_deliveries(args.events, args.per, Path(tmp), args.appends)
            if not args.json:
                _print_sqlite(found)
        elif args.deliveries:
            gen = generate(
                args.events, Path(tmp) / "gen", deliveries=max(2, args.events // args.per)
            )
            backend = postgres_backend(pg_url_from_env())
            try:
                found = postgresql_deliveries(backend.new_url(), gen)
            finally:
                backend.close()
            if not args.json:
                _print_postgresql(found, args.events, "deliveries: the statements of two, summed")
        else:
            with _pg_ledger(args.events, Path(tmp), args.url) as (url, gen):
                found = postgresql_appends(url, gen, args.appends)
            if not args.json:
                _print_postgresql(found, args.events)
        if args.json:
            json.dump(
                attrs.asdict(found) if attrs.has(type(found)) else [attrs.asdict(f) for f in found],
                sys.stdout,
                indent=1,
            )
            print()


if __name__ == "__main__":
    main()
