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
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Connection, and_, delete, func, insert, select, update

from ledger.backends import begin_write
from ledger.errors import NotFound
from ledger.events import (
    CorrectionMade,
    PropositionDefined,
    SourceRegistered,
    Stance,
    StatementMade,
    from_payload,
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

NAME = "beliefs"
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

    def catch_up(self, conn: Connection) -> int:
        """Fold every event after the checkpoint into the tables; ``conn`` holds the write lock.

        Returns how many events were folded in.
        """
        position = self._usable_checkpoint(conn)
        folded = 0
        group_time: int | None = None
        touched: set[str] = set()
        last_hash = None
        for row in _rows_after(conn, position):
            if group_time is not None and row.recorded_at != group_time:
                self._refresh(conn, touched, group_time)
                touched = set()
            group_time = row.recorded_at
            touched |= _apply(conn, row)
            position, last_hash = row.position, row.hash
            folded += 1
        if group_time is not None:
            self._refresh(conn, touched, group_time)
        if last_hash is not None or position == 0:
            _save_checkpoint(conn, position, last_hash or GENESIS, self.policy.name)
        return folded

    def ensure_current(self) -> None:
        """Catch up first if anything was appended behind the projection's back."""
        with self.store.engine.connect() as conn:
            behind = _is_behind(conn, self.policy.name)
        if behind:
            with begin_write(self.store.engine) as conn:
                self.catch_up(conn)

    def rebuild(self) -> int:
        """Drop every derived row and fold the whole log in again, atomically."""
        with begin_write(self.store.engine) as conn:
            _wipe(conn)
            return self.catch_up(conn)

    def _usable_checkpoint(self, conn: Connection) -> int:
        row = conn.execute(
            select(belief_checkpoint).where(belief_checkpoint.c.name == NAME)
        ).first()
        if row is None:
            _wipe(conn)
            return 0
        if row.policy != self.policy.name or not _hash_matches(conn, row.position, row.hash):
            _wipe(conn)
            return 0
        return int(row.position)

    def _refresh(self, conn: Connection, propositions: set[str], tx_time: int) -> None:
        for proposition in sorted(propositions):
            segments = self._sweep(conn, proposition)
            _replace_current(conn, proposition, segments, tx_time)

    def _sweep(self, conn: Connection, proposition: str) -> list[_Segment]:
        """The proposition's whole valid-time timeline, from its current statements."""
        definition = _proposition(conn, proposition)
        said = _statements(conn, proposition)
        sources = _sources(conn, {s.source for s in said} | set(definition.parties))
        return list(_segments(self.policy, definition, sources, said))

    # -- queries -------------------------------------------------------------------------

    def verdict(self, proposition: str, as_of: datetime, known_at: datetime) -> Verdict:
        self.ensure_current()
        a, k = to_micros(as_of), to_micros(known_at)
        with self.store.engine.connect() as conn:
            definition = _known_proposition(conn, proposition, k)
            row = conn.execute(
                select(belief_intervals.c.verdict).where(
                    belief_intervals.c.proposition_id == proposition,
                    belief_intervals.c.valid_from <= a,
                    belief_intervals.c.valid_to > a,
                    belief_intervals.c.tx_from <= k,
                    belief_intervals.c.tx_to > k,
                )
            ).first()
        if row is None:
            return self.policy.verdict(definition, {}, Evidence())
        return Verdict.from_json(row.verdict)

    def intervals(self, proposition: str, known_at: datetime) -> list[Interval]:
        """The proposition's valid-time timeline as known at ``known_at``."""
        self.ensure_current()
        k = to_micros(known_at)
        with self.store.engine.connect() as conn:
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
        with self.store.engine.connect() as conn:
            query = (
                select(belief_propositions.c.proposition_id)
                .where(belief_propositions.c.recorded_at <= to_micros(known_at))
                .order_by(belief_propositions.c.proposition_id)
            )
            return list(conn.execute(query).scalars())


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


def _apply(conn: Connection, row: Any) -> set[str]:
    """Fold one event into the current-state tables; return the propositions it touched."""
    payload = json.loads(row.payload)
    if row.type == SourceRegistered.TYPE:
        conn.execute(
            insert(belief_sources).values(source_id=payload["source_id"], payload=row.payload)
        )
    elif row.type == PropositionDefined.TYPE:
        conn.execute(
            insert(belief_propositions).values(
                proposition_id=payload["proposition_id"],
                payload=row.payload,
                recorded_at=row.recorded_at,
            )
        )
    elif row.type == StatementMade.TYPE:
        conn.execute(insert(belief_statements).values(_statement_row(payload, row)))
        return {payload["proposition_id"]}
    elif row.type == CorrectionMade.TYPE:
        return _apply_correction(conn, payload)
    return set()


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


def _apply_correction(conn: Connection, payload: Mapping[str, Any]) -> set[str]:
    target = belief_statements.c.statement_id == payload["corrects"]
    before = conn.execute(select(belief_statements.c.proposition_id).where(target)).scalar_one()
    if payload["withdraw"]:
        conn.execute(update(belief_statements).where(target).values(withdrawn=True))
        return {before}
    changes: dict[str, Any] = {}
    for name, value in payload["changes"].items():
        column = _CORRECTED_COLUMN.get(name)
        if column == "stated_at":
            changes[column] = to_micros(datetime.fromisoformat(value))
        elif column == "value":
            changes[column] = _json_or_none(value)
        elif column is not None:
            changes[column] = value
    if changes:
        conn.execute(update(belief_statements).where(target).values(**changes))
    return {before, changes.get("proposition_id", before)}


# -- sweeping a proposition's valid time -----------------------------------------------------


def _proposition(conn: Connection, proposition: str) -> PropositionDefined:
    payload = conn.execute(
        select(belief_propositions.c.payload).where(
            belief_propositions.c.proposition_id == proposition
        )
    ).scalar_one()
    return _decode_proposition(payload)


def _decode_proposition(payload: str) -> PropositionDefined:
    event = from_payload(PropositionDefined.TYPE, json.loads(payload), None)
    assert isinstance(event, PropositionDefined)
    return event


def _statements(conn: Connection, proposition: str) -> list[Said]:
    s = belief_statements.c
    rows = conn.execute(
        select(belief_statements)
        .where(s.proposition_id == proposition, s.withdrawn.is_(False))
        .order_by(s.stated_at, s.position)
    )
    return [
        Said(
            r.statement_id,
            r.source_id,
            Stance(r.stance),
            from_micros(r.stated_at),
            r.position,
            None if r.value is None else json.loads(r.value),
            r.unit,
        )
        for r in rows
    ]


def _sources(conn: Connection, ids: set[str]) -> dict[str, SourceRegistered]:
    found: dict[str, SourceRegistered] = {}
    wanted = sorted(ids)
    for i in range(0, len(wanted), 500):
        query = select(belief_sources.c.payload).where(
            belief_sources.c.source_id.in_(wanted[i : i + 500])
        )
        for payload in conn.execute(query).scalars():
            event = from_payload(SourceRegistered.TYPE, json.loads(payload), None)
            assert isinstance(event, SourceRegistered)
            found[event.source_id] = event
    return found


def _segments(
    policy: BeliefPolicy,
    definition: PropositionDefined,
    sources: Mapping[str, SourceRegistered],
    said: list[Said],
) -> Iterator[_Segment]:
    """Sweep statements in (stated_at, position) order; one segment per change of verdict."""
    evidence = Evidence()
    pending: list[tuple[int, str, str, str]] = []  # (valid_from, status, verdict, because)
    i = 0
    while i < len(said):
        day = said[i].stated_at
        causes = []
        while i < len(said) and said[i].stated_at == day:
            evidence.add(said[i])
            causes.append(said[i])
            i += 1
        verdict = policy.verdict(definition, sources, evidence)
        text = verdict.to_json()
        if pending and pending[-1][2] == text:
            continue
        pending.append((to_micros(day), verdict.status.value, text, _causes_json(causes)))
    for n, (start, status, text, because) in enumerate(pending):
        end = pending[n + 1][0] if n + 1 < len(pending) else OPEN
        yield _Segment(start, end, status, text, because)


def _causes_json(causes: Iterable[Said]) -> str:
    return canonical_json(
        [
            {
                "statement": s.statement,
                "source": s.source,
                "stance": s.stance.value,
                "stated_at": to_micros(s.stated_at),
            }
            for s in causes
        ]
    )


def _replace_current(
    conn: Connection, proposition: str, segments: list[_Segment], tx_time: int
) -> None:
    """Close current rows that no longer hold at ``tx_time`` and open their replacements."""
    t = belief_intervals.c
    current = conn.execute(
        select(t.id, t.valid_from, t.valid_to, t.status, t.verdict, t.because, t.tx_from).where(
            t.proposition_id == proposition, t.tx_to == OPEN
        )
    ).all()
    wanted = {(s.valid_from, s.valid_to, s.status, s.verdict, s.because) for s in segments}
    kept = set()
    for row in current:
        key = (row.valid_from, row.valid_to, row.status, row.verdict, row.because)
        if key in wanted:
            kept.add(key)
        elif row.tx_from == tx_time:  # never visible to any query: same-instant rewrite
            conn.execute(delete(belief_intervals).where(t.id == row.id))
        else:
            conn.execute(update(belief_intervals).where(t.id == row.id).values(tx_to=tx_time))
    new = [
        s
        for s in segments
        if (s.valid_from, s.valid_to, s.status, s.verdict, s.because) not in kept
    ]
    if new:
        conn.execute(
            insert(belief_intervals),
            [
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
                for s in new
            ],
        )


# -- checkpoint ------------------------------------------------------------------------------


def _is_behind(conn: Connection, policy: str) -> bool:
    checkpoint = conn.execute(
        select(belief_checkpoint.c.position, belief_checkpoint.c.policy).where(
            belief_checkpoint.c.name == NAME
        )
    ).first()
    head = conn.execute(select(func.max(ev.c.position))).scalar() or 0
    if checkpoint is None:
        return True
    return bool(checkpoint.policy != policy or checkpoint.position != head)


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
