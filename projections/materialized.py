"""The materialized bitemporal belief projection.

For every proposition the projection stores its verdict as rows of ``belief_intervals``, each
valid over a period of *valid time* (``stated_at``) and a period of *transaction time*
(``recorded_at``), like XTDB's bitemporal index. An as-of query is one indexed lookup on
(proposition, valid_from, tx_from): its cost depends on that proposition's own history, not on
the length of the log.

Maintenance is incremental from a stored checkpoint (the last position folded in, its hash, and
the policy's name). Events are taken in log order, grouped by ``recorded_at``; for each
proposition a group touches, the valid-time timeline is swept again from that proposition's
current statements and compared with the rows currently in force: rows that changed are closed
at the group's ``recorded_at`` and their replacements opened there. Earlier transaction-time rows
are never altered, so an answer for an earlier ``known_at`` never changes.

Freshness: ``Ledger.append`` catches the projection up *in the same transaction* as the append,
so readers never see events without their beliefs. Anything appended another way (a bare
``EventStore``, an older version of the package) is caught up before the next query, which
compares the checkpoint with the head of the log first. A changed policy name or a checkpoint
hash that no longer matches the log triggers a full rebuild.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from types import SimpleNamespace
from typing import Any, TypeVar

import attrs
from sqlalchemy import (
    BindParameter,
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from ledger import _trusted as trusted
from ledger import bulk
from ledger._dberrors import translated
from ledger.backends import begin_write, refresh_statistics
from ledger.errors import NotFound
from ledger.events import (
    CorrectionMade,
    PropositionDefined,
    SourceRegistered,
    Stance,
    StatementMade,
)
from ledger.hashing import GENESIS, canonical_json
from ledger.schema import events as ev
from ledger.store import EventStore
from ledger.times import from_micros, to_micros
from projections.beliefs import Verdict
from projections.rules import BeliefPolicy, Evidence, Said
from projections.tables import (
    OPEN,
    belief_checkpoint,
    belief_intervals,
    belief_propositions,
    belief_sources,
    belief_statements,
)
from projections.verdict_json import judge_for

T = TypeVar("T")

NAME = "beliefs"
#: After writing this many rows a catch-up refreshes the planner's statistics (PostgreSQL).
ANALYZE_AFTER = 10_000
_ANALYZED = (
    "events",
    "belief_intervals",
    "belief_statements",
    "belief_propositions",
    "belief_sources",
)
_PAGE = 5_000
_CORRECTED_COLUMN = {
    "source": "source_id",
    "proposition": "proposition_id",
    "stance": "stance",
    "stated_at": "stated_at",
    "value": "value",
    "unit": "unit",
}


@attrs.frozen
class Cause:
    """A statement that took effect at the start of a valid-time interval."""

    statement: str
    source: str
    stance: Stance
    stated_at: datetime


@attrs.frozen
class Interval:
    """One row in force: a verdict over [valid_from, valid_to) of valid time."""

    valid_from: datetime
    valid_to: datetime | None
    verdict: Verdict
    because: tuple[Cause, ...]


@attrs.frozen
class _Segment:
    valid_from: int
    valid_to: int
    status: str
    verdict: str
    because: str


class MaterializedProjection:
    """Owns the ``belief_*`` tables: catch-up, rebuild and the indexed queries."""

    def __init__(self, store: EventStore, policy: BeliefPolicy):
        self.store = store
        self.policy = policy

    # -- maintenance ---------------------------------------------------------------------

    def catch_up(self, conn: Connection, written: Sequence[Mapping[str, Any]] = ()) -> int:
        """Fold every event after the checkpoint into the tables; ``conn`` holds the write lock.

        ``written`` may hold the rows the caller has just appended in this transaction (as
        ``EventStore.append`` passes them); they are read back from the table anyway unless
        they start right after the checkpoint. Returns how many events were folded in.
        """
        position = self._usable_checkpoint(conn, written)
        work = _Work(conn, self.policy)
        folded, last_hash = 0, None
        follows = bool(written) and written[0]["position"] == position + 1
        rows = (SimpleNamespace(**r) for r in written) if follows else _rows_after(conn, position)
        for row in rows:
            if work.tx_time is not None and row.recorded_at != work.tx_time:
                work.refresh()
            work.tx_time = row.recorded_at
            work.apply(row)
            position, last_hash = row.position, row.hash
            folded += 1
        work.refresh()
        if last_hash is not None or position == 0:
            _save_checkpoint(conn, position, last_hash or GENESIS, self.policy.name)
        work.analyze_if_grown()
        return folded

    def ensure_current(self) -> None:
        """Catch up first if anything was appended behind the projection's back."""
        with translated(), self.store.engine.connect() as conn:
            behind = _is_behind(conn, self.policy.name)
        if behind:
            with translated(), begin_write(self.store.engine) as conn:
                self.catch_up(conn)

    def rebuild(self) -> int:
        """Drop every derived row and fold the whole log in again, atomically."""
        with translated(), begin_write(self.store.engine) as conn:
            _wipe(conn)
            return self.catch_up(conn)

    def _usable_checkpoint(self, conn: Connection, written: Sequence[Mapping[str, Any]]) -> int:
        """The checkpoint's position if it still describes the log under this policy; else
        wipe the tables and start from 0. The rows just written carry the hash of the event
        before them, which saves reading it back when the checkpoint is right there."""
        row = conn.execute(
            select(belief_checkpoint).where(belief_checkpoint.c.name == NAME)
        ).first()
        if row is None or row.policy != self.policy.name:
            _wipe(conn)
            return 0
        if written and written[0]["position"] == row.position + 1:
            matches = written[0]["prev_hash"] == row.hash
        else:
            matches = _hash_matches(conn, row.position, row.hash)
        if not matches:
            _wipe(conn)
            return 0
        return int(row.position)

    # -- queries -------------------------------------------------------------------------

    def verdict(self, proposition: str, as_of: datetime, known_at: datetime) -> Verdict:
        """The verdict in force for ``proposition`` at valid time ``as_of`` as known at
        ``known_at``: one round trip that also checks the projection is current (if it is not,
        it catches up and asks again)."""
        params = {"p": proposition, "a": to_micros(as_of), "k": to_micros(known_at)}
        for _attempt in range(3):
            with translated(), self.store.engine.connect() as conn:
                row = conn.execute(_AS_OF, params).first()
            if row is not None and row.policy == self.policy.name and row.position == row.head:
                break
            with translated(), begin_write(self.store.engine) as conn:
                self.catch_up(conn)
        # Three catch-ups in a row overtaken by appends that bypass the projection: answer
        # from the last one rather than chase the writers.
        if row is None or row.payload is None:
            raise NotFound(f"no proposition {proposition!r} in the ledger (as known at that time)")
        if row.verdict is None:
            return self.policy.verdict(_decode_proposition(row.payload), {}, Evidence())
        return Verdict.from_json(row.verdict)

    def intervals(self, proposition: str, known_at: datetime) -> list[Interval]:
        """The proposition's valid-time timeline as known at ``known_at``."""
        self.ensure_current()
        k = to_micros(known_at)
        with translated(), self.store.engine.connect() as conn:
            _known_proposition(conn, proposition, k)
            rows = conn.execute(
                select(belief_intervals)
                .where(
                    belief_intervals.c.proposition_id == proposition,
                    belief_intervals.c.tx_from <= k,
                    belief_intervals.c.tx_to > k,
                )
                .order_by(belief_intervals.c.valid_from)
            ).all()
        return [_interval(r) for r in rows]

    def propositions(self, known_at: datetime) -> list[str]:
        """Every proposition defined at or before ``known_at``, sorted."""
        self.ensure_current()
        with translated(), self.store.engine.connect() as conn:
            query = (
                select(belief_propositions.c.proposition_id)
                .where(belief_propositions.c.recorded_at <= to_micros(known_at))
                .order_by(belief_propositions.c.proposition_id)
            )
            return list(conn.execute(query).scalars())


def _as_of_query() -> Any:
    """One statement for an as-of question: the checkpoint, the head of the log, the
    proposition's definition as known at ``k``, and the verdict row visible at ``k`` whose
    valid time holds ``a``. The visible rows of a proposition tile valid time without overlap,
    so the visible row with the latest ``valid_from <= a`` is the only candidate; reading the
    index backwards from ``a`` finds it without scanning the proposition's earlier rows."""
    i, p = belief_intervals.c, belief_propositions.c
    definition = (
        select(p.payload)
        .where(p.proposition_id == bindparam("p"), p.recorded_at <= bindparam("k"))
        .scalar_subquery()
    )
    in_force = (
        select(i.verdict, i.valid_to)
        .where(
            i.proposition_id == bindparam("p"),
            i.valid_from <= bindparam("a"),
            i.tx_from <= bindparam("k"),
            i.tx_to > bindparam("k"),
        )
        .order_by(i.valid_from.desc())
        .limit(1)
        .subquery()
    )
    verdict = select(in_force.c.verdict).where(in_force.c.valid_to > bindparam("a"))
    return _STATUS.add_columns(
        definition.label("payload"), verdict.scalar_subquery().label("verdict")
    )


#: The checkpoint and the head of the log, in one statement.
_STATUS = select(
    belief_checkpoint.c.position,
    belief_checkpoint.c.policy,
    func.coalesce(select(func.max(ev.c.position)).scalar_subquery(), 0).label("head"),
).where(belief_checkpoint.c.name == NAME)
_AS_OF = _as_of_query()


# -- applying events -------------------------------------------------------------------------


def _rows_after(conn: Connection, position: int) -> Iterator[Any]:
    """Events after ``position`` in order, paged, through the caller's connection."""
    query = select(ev).order_by(ev.c.position)
    while True:
        page = conn.execute(query.where(ev.c.position > position).limit(_PAGE)).all()
        yield from page
        if len(page) < _PAGE:
            return
        position = page[-1].position


class _Work:
    """One catch-up: current-state rows buffered for bulk insert, and for every proposition a
    group of events touched, the earliest valid time it touched (nothing before it changes)."""

    def __init__(self, conn: Connection, policy: BeliefPolicy):
        self.conn = conn
        self.policy = policy
        self.tx_time: int | None = None
        self.touched: dict[str, int] = {}
        self.pending: dict[Any, list[dict[str, Any]]] = {}
        self.sources: dict[str, SourceRegistered] = {}
        self.written = 0  # rows written since statistics were last refreshed

    def apply(self, row: Any) -> None:
        payload = json.loads(row.payload)
        if row.type == SourceRegistered.TYPE:
            self._buffer(belief_sources, source_id=payload["source_id"], payload=row.payload)
        elif row.type == PropositionDefined.TYPE:
            self._buffer(
                belief_propositions,
                proposition_id=payload["proposition_id"],
                payload=row.payload,
                recorded_at=row.recorded_at,
            )
        elif row.type == StatementMade.TYPE:
            self._buffer(belief_statements, **_statement_row(payload, row))
            self._touch(payload["proposition_id"], row.stated_at)
        elif row.type == CorrectionMade.TYPE:
            self.flush()
            for proposition, since in _apply_correction(self.conn, payload):
                self._touch(proposition, since)

    def _buffer(self, table: Any, **values: Any) -> None:
        self.pending.setdefault(table, []).append(values)

    def _touch(self, proposition: str, since: int) -> None:
        self.touched[proposition] = min(since, self.touched.get(proposition, since))

    def flush(self) -> None:
        for table, rows in self.pending.items():
            _insert_dicts(self.conn, table, rows)
            self.written += len(rows)
        self.pending = {}

    def analyze_if_grown(self) -> None:
        """Refresh the planner's statistics once enough rows were written that the next
        lookups could be planned as scans (see ``ledger.backends.refresh_statistics``)."""
        if self.written >= ANALYZE_AFTER:
            refresh_statistics(self.conn, _ANALYZED)
            self.written = 0

    def refresh(self) -> None:
        """Re-sweep every touched proposition from the earliest valid time touched on, and
        replace the rows in force at this group's transaction time where they changed.

        Reads and writes go in bulk (one query per table for all touched propositions), so a
        large import costs a handful of statements per group, not several per proposition.
        """
        self.flush()
        if self.tx_time is None or not self.touched:
            return
        self.analyze_if_grown()
        names = sorted(self.touched)
        definitions = _propositions(self.conn, names)
        said = _statements(self.conn, names)
        current, closed_now = _rows_in_force(self.conn, names, self.tx_time)
        speakers = {s.source for ss in said.values() for s in ss}
        sources = self._sources(speakers | {p for d in definitions.values() for p in d.parties})
        changes = _Changes()
        for name in names:
            wanted = _timeline(
                self.policy,
                definitions[name],
                sources,
                said.get(name, []),
                since=self.touched[name],
                current=current.get(name, []),
            )
            changes.plan(
                name, current.get(name, []), wanted, closed_now.get(name, {}), self.tx_time
            )
        self.written += changes.apply(self.conn, self.tx_time)
        self.touched = {}

    def _sources(self, ids: set[str]) -> dict[str, SourceRegistered]:
        missing = ids - self.sources.keys()
        if missing:
            self.sources.update(_sources(self.conn, missing))
        return {i: self.sources[i] for i in ids if i in self.sources}


def _statement_row(payload: Mapping[str, Any], row: Any) -> dict[str, Any]:
    return {
        "statement_id": payload["statement_id"],
        "proposition_id": payload["proposition_id"],
        "source_id": payload["source_id"],
        "stance": payload["stance"],
        "stated_at": row.stated_at,
        "value": _json_or_none(payload["value"]),
        "unit": payload["unit"],
        "position": row.position,
        "withdrawn": False,
    }


def _json_or_none(value: Any) -> str | None:
    return None if value is None else canonical_json(value)


def _apply_correction(conn: Connection, payload: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Apply a correction to the current statement; return (proposition, valid time) pairs
    from which each affected proposition's timeline may have changed."""
    target = belief_statements.c.statement_id == payload["corrects"]
    before = conn.execute(
        select(belief_statements.c.proposition_id, belief_statements.c.stated_at).where(target)
    ).one()
    if payload["withdraw"]:
        conn.execute(update(belief_statements).where(target).values(withdrawn=True))
        return [(before.proposition_id, before.stated_at)]
    changes: dict[str, Any] = {}
    for name, value in payload["changes"].items():
        column = _CORRECTED_COLUMN.get(name)
        if column == "stated_at":
            changes[column] = to_micros(datetime.fromisoformat(value))
        elif column == "value":
            changes[column] = _json_or_none(value)
        elif column is not None:
            changes[column] = value
    if changes.get("value", "") is None:
        changes["unit"] = None  # as ledger.events.apply_correction does
    if changes:
        conn.execute(update(belief_statements).where(target).values(**changes))
    after = (
        changes.get("proposition_id", before.proposition_id),
        changes.get("stated_at", before.stated_at),
    )
    return [(before.proposition_id, before.stated_at), after]


# -- the statements of a refresh, built once (SQLAlchemy caches their compiled form) ---------

_NAMES: BindParameter[list[str]] = bindparam("names", expanding=True)
_IDS: BindParameter[list[Any]] = bindparam("ids", expanding=True)
_PROPOSITIONS = select(belief_propositions.c.proposition_id, belief_propositions.c.payload).where(
    belief_propositions.c.proposition_id.in_(_NAMES)
)
_SOURCES = select(belief_sources.c.payload).where(belief_sources.c.source_id.in_(_IDS))
_STATEMENTS = (
    select(
        belief_statements.c.proposition_id,
        belief_statements.c.statement_id,
        belief_statements.c.source_id,
        belief_statements.c.stance,
        belief_statements.c.stated_at,
        belief_statements.c.position,
        belief_statements.c.value,
        belief_statements.c.unit,
    )
    .where(belief_statements.c.proposition_id.in_(_NAMES), belief_statements.c.withdrawn.is_(False))
    .order_by(
        belief_statements.c.proposition_id,
        belief_statements.c.stated_at,
        belief_statements.c.position,
    )
)
_IN_FORCE = (
    select(
        belief_intervals.c.id,
        belief_intervals.c.proposition_id,
        belief_intervals.c.valid_from,
        belief_intervals.c.valid_to,
        belief_intervals.c.status,
        belief_intervals.c.verdict,
        belief_intervals.c.because,
        belief_intervals.c.tx_from,
        belief_intervals.c.tx_to,
    )
    .where(
        belief_intervals.c.proposition_id.in_(_NAMES),
        belief_intervals.c.tx_to.in_([bindparam("open"), bindparam("now")]),
    )
    .order_by(belief_intervals.c.proposition_id, belief_intervals.c.valid_from)
)
_DELETE_ROWS = delete(belief_intervals).where(belief_intervals.c.id.in_(_IDS))
_SET_TX_TO = (
    update(belief_intervals)
    .where(belief_intervals.c.id.in_(_IDS))
    .values(tx_to=bindparam("new_tx_to"))
)


# -- sweeping a proposition's valid time -----------------------------------------------------


def _chunks(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """Slices small enough for an ``IN (...)`` list on every backend."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _propositions(conn: Connection, names: list[str]) -> dict[str, PropositionDefined]:
    found = {}
    for chunk in _chunks(names):
        for row in conn.execute(_PROPOSITIONS, {"names": chunk}):
            found[row.proposition_id] = _decode_proposition(row.payload)
    return found


def _decode_proposition(payload: str) -> PropositionDefined:
    # Stored payloads were validated on append; the hash chain shows they have not changed.
    event = trusted.decode(PropositionDefined.TYPE, json.loads(payload), None, 0)
    assert isinstance(event, PropositionDefined)
    return event


def _statements(conn: Connection, names: list[str]) -> dict[str, list[Said]]:
    """Each proposition's standing statements in (stated_at, position) order."""
    found: dict[str, list[Said]] = {}
    stances = {x.value: x for x in Stance}
    for chunk in _chunks(names):
        for r in conn.execute(_STATEMENTS, {"names": chunk}):
            found.setdefault(r.proposition_id, []).append(
                Said(
                    r.statement_id,
                    r.source_id,
                    stances[r.stance],
                    from_micros(r.stated_at),
                    r.position,
                    None if r.value is None else json.loads(r.value),
                    r.unit,
                )
            )
    return found


def _sources(conn: Connection, ids: set[str]) -> dict[str, SourceRegistered]:
    found: dict[str, SourceRegistered] = {}
    for chunk in _chunks(sorted(ids)):
        for payload in conn.execute(_SOURCES, {"ids": chunk}).scalars():
            event = trusted.decode(SourceRegistered.TYPE, json.loads(payload), None, 0)
            assert isinstance(event, SourceRegistered)
            found[event.source_id] = event
    return found


def _rows_in_force(
    conn: Connection, names: list[str], tx_time: int
) -> tuple[dict[str, list[Any]], dict[str, dict[Any, int]]]:
    """Per proposition: the rows in force now (open transaction time), by valid_from; and the
    rows closed at exactly ``tx_time`` by an earlier transaction sharing that instant."""
    current: dict[str, list[Any]] = {}
    closed_now: dict[str, dict[Any, int]] = {}
    for chunk in _chunks(names):
        for r in conn.execute(_IN_FORCE, {"names": chunk, "open": OPEN, "now": tx_time}):
            if r.tx_to == OPEN:
                current.setdefault(r.proposition_id, []).append(r)
            else:
                closed_now.setdefault(r.proposition_id, {})[_key(r)] = r.id
    return current, closed_now


def _timeline(
    policy: BeliefPolicy,
    definition: PropositionDefined,
    sources: Mapping[str, SourceRegistered],
    said: list[Said],
    *,
    since: int,
    current: list[Any],
) -> list[_Segment]:
    """The proposition's whole valid-time timeline, recomputing verdicts only from ``since`` on.

    Nothing stated before ``since`` changed, so the rows that end by then stand as they are and
    the evidence up to then is replayed without judging it. Equal to a sweep from the start;
    the property tests compare incremental catch-up with a full rebuild row for row.
    """
    kept = [r for r in current if r.valid_from < since]
    pending = [(r.valid_from, r.status, r.verdict, r.because) for r in kept[-1:]]
    judge = judge_for(policy, definition, sources)
    evidence = Evidence()
    add = evidence.add
    micros = [to_micros(s.stated_at) for s in said]
    n, i = len(said), 0
    while i < n and micros[i] < since:
        add(said[i])
        i += 1
    while i < n:
        day = micros[i]
        start = i
        while i < n and micros[i] == day:
            add(said[i])
            i += 1
        status, text = judge(evidence)
        if not pending or pending[-1][2] != text:
            pending.append((day, status, text, _causes_json(said[start:i], micros[start:i])))
    head = [_Segment(r.valid_from, r.valid_to, r.status, r.verdict, r.because) for r in kept[:-1]]
    tail = [
        _Segment(start, pending[n + 1][0] if n + 1 < len(pending) else OPEN, status, text, why)
        for n, (start, status, text, why) in enumerate(pending)
    ]
    return head + tail


def _causes_json(causes: Sequence[Said], micros: Sequence[int]) -> str:
    return canonical_json(
        [
            {
                "statement": s.statement,
                "source": s.source,
                "stance": s.stance.value,
                "stated_at": when,
            }
            for s, when in zip(causes, micros, strict=True)
        ]
    )


class _Changes:
    """Row changes planned for every touched proposition, then written in bulk."""

    def __init__(self) -> None:
        self.deleted: list[int] = []
        self.closed: list[int] = []
        self.reopened: list[int] = []
        self.inserted: list[dict[str, Any]] = []

    def plan(
        self,
        proposition: str,
        current: list[Any],
        segments: list[_Segment],
        closed_now: Mapping[Any, int],
        tx_time: int,
    ) -> None:
        """Rows in force that are no longer wanted close at ``tx_time`` (or vanish, if they
        opened at that same instant and so were never visible); wanted rows that are missing
        open there, or reopen if an earlier transaction of the same instant closed them."""
        wanted = {_key(s) for s in segments}
        kept = set()
        for row in current:
            key = _key(row)
            if key in wanted:
                kept.add(key)
            elif row.tx_from == tx_time:
                self.deleted.append(row.id)
            else:
                self.closed.append(row.id)
        for s in segments:
            key = _key(s)
            if key in kept:
                continue
            if key in closed_now:
                self.reopened.append(closed_now[key])
                continue
            self.inserted.append(
                {
                    "proposition_id": proposition,
                    "valid_from": s.valid_from,
                    "valid_to": s.valid_to,
                    "tx_from": tx_time,
                    "tx_to": OPEN,
                    "status": s.status,
                    "verdict": s.verdict,
                    "because": s.because,
                }
            )

    def apply(self, conn: Connection, tx_time: int) -> int:
        """Write the planned changes; returns how many rows were inserted."""
        for chunk in _chunks(self.deleted):
            conn.execute(_DELETE_ROWS, {"ids": chunk})
        for chunk in _chunks(self.closed):
            conn.execute(_SET_TX_TO, {"ids": chunk, "new_tx_to": tx_time})
        for chunk in _chunks(self.reopened):
            conn.execute(_SET_TX_TO, {"ids": chunk, "new_tx_to": OPEN})
        _insert_dicts(conn, belief_intervals, self.inserted)
        return len(self.inserted)


def _insert_dicts(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys, through the driver's bulk path."""
    if rows:
        columns = list(rows[0])
        row_of = itemgetter(*columns)
        bulk.insert_many(conn, table.name, columns, [row_of(r) for r in rows])


def _key(row: Any) -> tuple[int, int, str, str, str]:
    return (row.valid_from, row.valid_to, row.status, row.verdict, row.because)


# -- checkpoint ------------------------------------------------------------------------------


def _is_behind(conn: Connection, policy: str) -> bool:
    row = conn.execute(_STATUS).first()
    return row is None or row.policy != policy or row.position != row.head


def _hash_matches(conn: Connection, position: int, expected: str) -> bool:
    if position == 0:
        return expected == GENESIS
    found = conn.execute(select(ev.c.hash).where(ev.c.position == position)).scalar()
    return found == expected


def _save_checkpoint(conn: Connection, position: int, hash_: str, policy: str) -> None:
    values = {"position": position, "hash": hash_, "policy": policy}
    done = conn.execute(
        update(belief_checkpoint).where(belief_checkpoint.c.name == NAME).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(insert(belief_checkpoint).values(name=NAME, **values))


def _wipe(conn: Connection) -> None:
    for table in (
        belief_intervals,
        belief_statements,
        belief_propositions,
        belief_sources,
        belief_checkpoint,
    ):
        conn.execute(delete(table))
    conn.execute(insert(belief_checkpoint).values(name=NAME, position=0, hash=GENESIS, policy=""))


def _known_proposition(conn: Connection, proposition: str, known_at: int) -> PropositionDefined:
    row = conn.execute(
        select(belief_propositions.c.payload).where(
            and_(
                belief_propositions.c.proposition_id == proposition,
                belief_propositions.c.recorded_at <= known_at,
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"no proposition {proposition!r} in the ledger (as known at that time)")
    return _decode_proposition(row.payload)


def _interval(row: Any) -> Interval:
    causes = tuple(
        Cause(c["statement"], c["source"], Stance(c["stance"]), from_micros(c["stated_at"]))
        for c in json.loads(row.because)
    )
    return Interval(
        valid_from=from_micros(row.valid_from),
        valid_to=None if row.valid_to == OPEN else from_micros(row.valid_to),
        verdict=Verdict.from_json(row.verdict),
        because=causes,
    )
