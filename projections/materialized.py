"""The materialized bitemporal belief projection: stance rows kept, verdicts decided at read time.

``belief_stances`` holds one row per version of a statement (see ``projections.stances`` for
how each event changes O(1) rows), ``belief_sources`` and ``belief_propositions`` the records the
rules look up. A question "what was believed about P as of A, as known at K?" reads the rows of
P whose valid period holds A and whose transaction period holds K (one range of P's rows in
force if it has few, else a bounded number of index range scans over an interval tree,
``projections.interval_index``), builds the policy's :class:`Evidence` from them and lets the
policy decide. Nothing the policy concludes is stored, so a policy can change without a
rebuild, and a write costs the same on a proposition with ten statements or ten thousand.

Freshness: ``Ledger.append`` catches the projection up *in the same transaction* as the append,
so readers never see events without their stances. Anything appended another way (a bare
``EventStore``) is caught up before the next query, which compares the checkpoint with the head
of the log first. A checkpoint whose hash no longer matches the log, or written by another
version of this projection, triggers a full rebuild.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Index,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from ledger import codec as trusted
from ledger.errors import NotFound
from ledger.events import (
    CorrectionMade,
    Event,
    PropositionDefined,
    SourceRegistered,
    Stance,
    StatementMade,
)
from ledger.hashing import GENESIS
from ledger.store import bulk, driver
from ledger.store.append import COLUMNS as EVENT_COLUMNS
from ledger.store.append import Read
from ledger.store.backends import reading, refresh_statistics, writing
from ledger.store.dberrors import translated, wrapped
from ledger.store.eventstore import (
    EventStore,
    _loads,  # the C scanner behind json.loads, for stored payloads
)
from ledger.store.schema import events as ev
from ledger.store.schema import streams_of
from ledger.times import from_micros, to_micros
from projections import forkfold
from projections.beliefs import BeliefState, Verdict
from projections.chainfold import BINARY, Skewed, correction_targets, fold_by_chain
from projections.eventrows import read_window, windows
from projections.forkroute import later_part
from projections.interval_index import ancestors
from projections.rules import SUPPORT, BeliefPolicy, Evidence, Said
from projections.stances import (
    COLUMNS,
    REVISED,
    Batch,
    Chain,
    Version,
    plan_ops,
    revised_values,
)
from projections.tables import (
    DERIVED,
    OPEN,
    belief_checkpoint,
    belief_propositions,
    belief_sources,
    belief_stances,
    holding_rows,
)

T = TypeVar("T")

NAME = "beliefs"
#: Written into the checkpoint: a projection built by another version of this code is rebuilt.
FORMAT = "stances-v1"
#: Events folded per batch when catching up or rebuilding: bounds the memory of a rebuild.
WINDOW = 5_000
#: After writing this many rows a catch-up refreshes the planner's statistics (PostgreSQL).
ANALYZE_AFTER = 10_000
_DERIVED_ANALYZED = ("belief_stances", "belief_propositions", "belief_sources")
_ANALYZED = ("events", *_DERIVED_ANALYZED)
_PAGE = 5_000
_IN = 500  # ids per IN (...) list
_STANCES = {s.value: s for s in Stance}
_SUPPORT = tuple(stance.value for stance in SUPPORT)  # as stored
_SOURCE_CACHE = 100_000

S = belief_stances.c


class MaterializedProjection:
    """Owns the ``belief_*`` tables: catch-up, rebuild and the queries."""

    def __init__(self, store: EventStore, policy: BeliefPolicy):
        self.store = store
        self.policy = policy
        # Sources never change once registered, but for a redaction of their text: decoded
        # once, shared by every question, and forgotten when a redaction is recorded (by
        # anyone: see _forget_if_redacted).
        self._sources: dict[str, tuple[int, SourceRegistered]] = {}
        self._head_seen: int | None = None  # the head (recorded_at) the cache was checked at
        self._redactions_seen: int | None = None  # the newest redaction's position then
        #: Propositions of this ledger found to have more rows in force than a scan reads
        #: (see :func:`_answer`): a hint, so per ledger (the same id in another ledger of the
        #: process may be small) and bounded (cleared when full).
        self.busy: set[str] = set()

    # -- maintenance ---------------------------------------------------------------------

    def catch_up(self, conn: Connection, written: Sequence[Mapping[str, Any]] = ()) -> int:
        """Fold every event after the checkpoint into the tables; ``conn`` holds the write lock.

        ``written`` may hold the rows the caller has just appended in this transaction (as
        ``EventStore.append`` passes them). They are folded on the tables as they are if the
        checkpoint sits right before them, which is known before anything is written (the
        checkpoint is moved first, but for a small write on PostgreSQL, where it was read
        ahead with the store's lookup, under the same lock, or is read now). If it does not
        (events were appended to the log alone, with ``EventStore.append``, since), the
        catch-up starts from the checkpoint instead, reading them back from the log with the
        events before them; from nothing only if the checkpoint no longer describes the log
        (or was written by another version of the projection). Returns how many events were
        folded in.
        """
        if written:
            first = written[0]
            # the store hands over its inserted tuples (same column order) where it can
            values = getattr(written, "values", None)
            rows = (
                values
                if values is not None
                else [tuple(r[c] for c in EVENT_COLUMNS) for r in written]
            )
            was = (first["position"] - 1, first["prev_hash"])
            if len(rows) < bulk.COPY_FROM:
                # One window, too small for any statistics refresh (fold_rows).
                if _fold_small(conn, list(rows), was, getattr(written, "ahead", None)):
                    return len(rows)
            elif _advance_checkpoint(conn, was, (rows[-1][0], rows[-1][9])):
                # Moved first, as on SQLite below: folding writes from its first window on.
                folded, _ = fold_rows(conn, rows)
                return folded
            # Behind the log: caught up from the checkpoint, these rows with the rest.
        position = _usable_checkpoint(conn)
        folded, last = fold_rows(conn, _rows_after(conn, position))
        if last is not None:
            _save_checkpoint(conn, *last)
        return folded

    def reads_ahead(self, conn: Connection, events: Sequence[Event]) -> list[Read]:
        """The reads a one-window :meth:`catch_up` of ``events`` will make, for the store to
        send with its own first statement (``ledger.store.append.ReadsAhead``): the checkpoint,
        and the chains the events touch. A single append on PostgreSQL is then a round trip
        shorter, and knows before it writes whether the tables are where it folds from."""
        if conn.dialect.name != "postgresql" or len(events) >= bulk.COPY_FROM:
            return []
        return [(_PG_CHECKPOINT_AHEAD, (NAME,)), *_chains_ahead(events)]

    def ensure_current(self) -> None:
        """Catch up first if anything was appended behind the projection's back."""
        with reading(self.store.engine) as conn:
            behind = _is_behind(conn)
        if behind:
            with writing(self.store.engine) as conn:
                self.catch_up(conn)

    def rebuild(
        self, *, online: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Drop every derived row and fold the whole log in again, atomically, chain by chain
        (``projections.chainfold``), or by window as appends fold when the log has too many
        corrected statements to keep or a chain too busy to fold in memory. ``progress`` is
        called with (work done, events in the log) as it goes, the first number counted in
        events: reading the log is the first half of a fold by chain (a fold that falls back
        to windows starts again from 0).

        On PostgreSQL a rebuild by the tables' owner empties them with ``TRUNCATE`` and builds
        the indexes only questions read once at the end (:func:`_indexes_deferred`): readers
        of the projection wait until it commits. ``online`` keeps them reading the previous
        rows meanwhile (a ``DELETE``, every index kept up to date row by row): about 1.3 times
        as long at 100k events, measured before the fold by chain; a role that does not own
        the tables, or that cannot have them within :data:`REBUILD_LOCK_WAIT_MS`, rebuilds
        that way. On SQLite readers read their snapshot either way, and both are the fast
        path."""
        with writing(self.store.engine) as conn:
            exclusive = not online and _takes_derived(conn)
            _wipe(conn, truncate=exclusive)
            total = conn.execute(select(func.max(ev.c.position))).scalar() or 0
            on_window = None if progress is None else (lambda done: progress(done, total))
            targets = correction_targets(conn)
            done = None
            if targets is not None:
                done = _by_chain(conn, exclusive, targets, on_window, total)
            if done is None:  # too many corrected statements to keep, or a chain too busy
                _lookups_by_index(conn)  # the window fold joins its keys to the table
                with _indexes_deferred(conn, exclusive), _page_cache(conn, REBUILD_CACHE_KIB):
                    done = fold_rows(conn, _rows_after(conn, 0), fresh=True, progress=on_window)
            folded, last = done
            if last is not None:
                _save_checkpoint(conn, *last)
            return folded

    # -- one question --------------------------------------------------------------------

    def believe(
        self,
        proposition: str,
        as_of: datetime | None,
        known_at: datetime | None,
        now: Callable[[], datetime],
        policy: Callable[[datetime], BeliefPolicy] | None = None,
    ) -> BeliefState:
        """What was believed about ``proposition`` at valid time ``as_of`` as known at
        ``known_at``, decided by the policy from the stance rows in force then (``policy``
        gives the policy for the answer's known_at; default ``self.policy``). A missing time
        means now (``now()``, never earlier than the last recorded event). The answer is given
        as known at the last committed event at most (see :func:`_stable`). One statement reads
        the rows, the definition and whether the projection is current; if it is behind (an
        append bypassed it), it catches up and asks again (three times at most, then answers
        from what the last catch-up left)."""
        k = None if known_at is None else to_micros(known_at)
        clock = now() if as_of is None or known_at is None else as_of
        a = to_micros(as_of or clock)
        for attempt in range(4):
            with translated(), _reading(self.store.engine) as conn:
                found = _answer(conn, proposition, a, k, self.busy)
                status = found.status
                if attempt == 3 or _current(status):
                    if as_of is None and status.head_at is not None and status.head_at > a:
                        a = status.head_at  # the clock is behind the log: never answer earlier
                        found = _answer(conn, proposition, a, k, self.busy)
                    if found.status.payload is None:
                        raise _unknown(proposition)
                    known = _stable(known_at, status.head_at, clock)
                    self._forget_if_redacted(conn, status.head_at)
                    verdict = self._judge(
                        conn,
                        found.status.payload,
                        found.evidence,
                        to_micros(known),
                        None if policy is None else policy(known),
                    )
                    # ``a`` moves only when no as_of was given
                    return BeliefState(proposition, as_of or from_micros(a), known, verdict)
            with writing(self.store.engine) as conn:
                self.catch_up(conn)
        raise AssertionError("unreachable")

    def _judge(
        self,
        conn: Connection,
        payload: str,
        evidence: Evidence,
        k: int,
        policy: BeliefPolicy | None = None,
    ) -> Verdict:
        definition = _decode_proposition(payload)
        chosen = self.policy if policy is None else policy
        sources = self.sources(k, conn, checked=True)
        _cache_sources(conn, self._sources, evidence.live)
        return chosen.verdict(definition, sources, evidence)

    def sources(
        self, known_at: int, conn: Connection | None = None, *, checked: bool = False
    ) -> _Sources:
        """Every source registered by ``known_at``, looked up on demand (through ``conn`` if
        given, else on a connection of its own). Unless the caller ``checked`` already, the
        cache is first checked against the redactions recorded (one indexed lookup)."""
        if len(self._sources) > _SOURCE_CACHE:
            self._sources.clear()
        if not checked:
            if conn is not None:
                self._forget_if_redacted(conn, None)
            else:
                with reading(self.store.engine) as own:
                    self._forget_if_redacted(own, None)
        return _Sources(self.store.engine, conn, known_at, self._sources)

    def _forget_if_redacted(self, conn: Connection, head_at: int | None) -> None:
        """Empty the source cache if a redaction was recorded since it was last checked (it
        may have removed a cached source's name), looking only when the log's head moved: an
        answer knows the head from its own statement, so this costs one indexed lookup per new
        head, not per question."""
        if head_at is not None and head_at == self._head_seen:
            return
        newest = conn.execute(_NEWEST_REDACTION).scalar()
        if newest != self._redactions_seen:
            self._sources.clear()
            self._redactions_seen = newest
        self._head_seen = head_at

    # -- whole histories and every proposition -------------------------------------------

    def statements(
        self, proposition: str, known_at: datetime
    ) -> tuple[PropositionDefined, list[Said], Mapping[str, SourceRegistered]]:
        """The proposition as known at ``known_at``, every statement filed under it then in
        (stated_at, position) order, and the sources known then; for timelines."""
        ((_, definition, said),) = self.statements_of([proposition], known_at)
        return definition, said, self.sources(to_micros(known_at))

    def statements_of(
        self, propositions: Sequence[str], known_at: datetime
    ) -> Iterator[tuple[str, PropositionDefined, list[Said]]]:
        """:meth:`statements` of many propositions, in the order given (the sources are
        :meth:`sources`' to ask once): their definitions and their rows read a slice of
        :data:`_IN` propositions at a time, two statements a slice, never one a proposition.
        A proposition not defined by ``known_at`` is a :class:`~ledger.errors.NotFound`."""
        self.ensure_current()
        k = to_micros(known_at)
        for chunk in _chunks(propositions, _IN):
            wanted = {"ids": list(chunk), "k": k}
            with reading(self.store.engine) as conn:
                found: dict[str, str] = {
                    p: text for p, text in conn.execute(_DEFINED_AMONG, wanted)
                }
                rows = conn.execute(_ALL_OF_THESE, wanted).all()
            filed: dict[str, list[Said]] = {p: [] for p in chunk}
            for row in rows:
                filed[row[0]].append(_said(row))
            for proposition in chunk:
                if proposition not in found:
                    raise _unknown(proposition)
                said = sorted(filed[proposition], key=lambda s: s.order)
                yield proposition, _decode_proposition(found[proposition]), said

    def verdicts_at(
        self,
        as_of: datetime,
        known_at: datetime,
        policy: BeliefPolicy | None = None,
        *,
        propositions: Iterable[str] | None = None,
    ) -> dict[str, Verdict]:
        """Every proposition's verdict at ``as_of`` as known at ``known_at``, by ``policy``
        (default ``self.policy``), in proposition id order; with ``propositions``, only theirs
        (any not defined by ``known_at`` is left out). The table is read a slice of
        propositions at a time, a few scans a slice, never a query per proposition, and each
        slice's rows are let go once its verdicts are decided: what this holds is the verdicts
        it returns and one slice's rows. To judge every proposition without holding every
        verdict (the audit replay does), ask for a slice of ids at a time: asked so, it also
        leaves alone the caches that answers share (decoded definitions and statements), which
        a pass over every proposition would fill with what no answer asks for again."""
        chosen = self.policy if policy is None else policy
        self.ensure_current()
        a, k = to_micros(as_of), to_micros(known_at)
        verdicts: dict[str, Verdict] = {}
        with reading(self.store.engine) as conn:
            shared = propositions is None
            if shared:
                ids = sorted(row[0] for row in conn.execute(_PROPOSITION_IDS_KNOWN, {"k": k}))
            else:
                ids = sorted(set(propositions or ()))
            decode = _decode_proposition if shared else _decoded
            sources = self.sources(k, conn)
            for chunk in _chunks(ids, _SLICE):
                found = _Everything(conn, a, k, chunk, shared=shared)
                # in id order as Python sorts (the database's collation may differ)
                defined = sorted(conn.execute(_DEFINED_AMONG, {"k": k, "ids": chunk}).all())
                for proposition, payload in defined:
                    verdicts[proposition] = chosen.verdict(
                        decode(payload), sources, found.evidence(proposition)
                    )
        return verdicts


# -- folding events into the tables -----------------------------------------------------------


def fold_rows(
    conn: Connection,
    rows: Iterable[tuple[Any, ...]],
    *,
    fresh: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, tuple[int, str] | None]:
    """Fold event rows (``events`` columns in table order, in log order) into the derived
    tables through ``conn``, a window at a time. Returns how many were folded and the last
    one's position and hash. ``fresh``: the tables were emptied in this transaction, so a
    chain no earlier window touched has no rows to read."""
    folded, last, written, total, due = 0, None, 0, 0, ANALYZE_AFTER
    # A rebuild never writes events, nor reads them but in order of position: their
    # statistics are the append path's business.
    tables: tuple[str, ...] = _DERIVED_ANALYZED if fresh else _ANALYZED
    touched = _Touched() if fresh else None
    for window in windows(rows, WINDOW):
        count = _fold_window(conn, window, touched)
        written += count
        total += count
        folded += len(window)
        last = (window[-1][0], window[-1][9])
        if progress is not None:
            progress(folded)
        if written >= due:
            # Later windows' lookups must not be planned as scans (ledger.store.backends).
            # Statistics half the table's size still plan index lookups, so refreshes come
            # each time the fold has doubled what it wrote: ANALYZE samples whole tables, and
            # one per 10,000 rows was half of a 100k rebuild on PostgreSQL. The fold never
            # writes events (the append path refreshes them itself): once is enough.
            refresh_statistics(conn, tables)
            tables = _DERIVED_ANALYZED
            written, due = 0, max(ANALYZE_AFTER, total)
    if written >= _CHECK_AFTER:
        _analyze_if_stale(conn)
    return folded, last


#: A catch-up that writes this many rows asks whether the planner's statistics are stale.
_CHECK_AFTER = 200
# PostgreSQL counts the rows changed since a table's last ANALYZE; once belief_stances has
# changed by as many rows as it had then (50 at first) the statistics are refreshed here,
# since autovacuum may be off (it is on the machine the tests run on) or behind, and answers
# are planned from them: without them the interval-tree lookups become scans of the
# proposition's rows. Statistics half the table's size still plan index lookups (as in
# fold_rows), and an ANALYZE samples the whole table: at 100k events one of belief_stances
# took 0.35-0.6 s, which autovacuum's own threshold (a tenth) put into every ninth daily
# delivery of 1,000 records. ``events`` only once it has doubled since (or never was): the
# append path's lookups need its statistics to exist, not to be recent, and its ANALYZE costs
# as much (its size, not its change counter, which an ANALYZE of some columns keeps).
_STALE = (
    "SELECT c.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE (s.relid = CAST('belief_stances' AS regclass) "
    "AND n_mod_since_analyze > 50 + GREATEST(c.reltuples, 0)) "
    "OR (s.relid = CAST('events' AS regclass) "
    "AND (SELECT max(position) FROM events) > 2 * GREATEST(c.reltuples, 0))"
)


def _analyze_if_stale(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    stale = {name for (name,) in conn.exec_driver_sql(_STALE)}
    if "belief_stances" in stale:
        refresh_statistics(conn, _ANALYZED if "events" in stale else _DERIVED_ANALYZED)


class _Touched:
    """The chains a fold into emptied tables has touched so far, as a bitmap of their hashes
    (a Bloom filter with one hash function): memory is fixed whatever the log, and a chain
    taken for touched by a collision only costs the lookup every chain paid before. A rebuild
    probed the chain index once per chain per window, most of them still empty."""

    _BITS = 1 << 26  # 8 MiB: about 1% collisions at a million chains

    def __init__(self) -> None:
        self.bits = bytearray(self._BITS >> 3)

    def add(self, chains: Iterable[Chain]) -> None:
        bits, mask = self.bits, self._BITS - 1
        for chain in chains:
            h = hash(chain) & mask
            bits[h >> 3] |= 1 << (h & 7)

    def __contains__(self, chain: Chain) -> bool:
        h = hash(chain) & (self._BITS - 1)
        return bool(self.bits[h >> 3] & (1 << (h & 7)))


def _fold_window(
    conn: Connection,
    rows: list[tuple[Any, ...]],
    touched: _Touched | None,
    advance: _Advance | None = None,
    ahead: _ChainsAhead | None = None,
) -> int:
    """Fold one window; returns how many rows it wrote. ``touched``: see :func:`fold_rows`;
    ``advance``: the checkpoint's move, made by this window's write (see :func:`_write`);
    ``ahead``: chain rows read ahead with the append's lookup (see :func:`_chains_ahead`)."""
    ops, targets, copied = read_window(conn, rows)
    stored = _current_by_id(conn, targets)
    plan = plan_ops(ops, {sid: v.fields for sid, v in stored.items()})
    since = plan.since
    if touched is not None:
        since = {chain: t for chain, t in since.items() if chain in touched}
        touched.add(plan.since)
    chains = _chain_rows(conn, since) if ahead is None else ahead.rows(conn, since)
    batch = Batch(plan, [*stored.values(), *chains])
    batch.apply()
    batch.finish()
    _write(conn, batch, advance)
    return copied + len(batch.inserted)


#: The newest redaction's position: redaction streams are ``redaction:<event id>``, a range of
#: the (stream_id, stream_version) index.
_NEWEST_REDACTION = select(func.max(ev.c.position)).where(streams_of("redaction"))


#: What the fold reads of an event; the other columns are read as NULL (same row shape): the
#: fold never looks at an event's id, stream or previous hash, and a rebuild would build a
#: string for each of them.
_FOLDED = ("position", "type", "stated_at", "recorded_at", "payload", "hash")
_PAGE_SQL = (
    f"SELECT {', '.join(c if c in _FOLDED else 'NULL' for c in EVENT_COLUMNS)} FROM events "
    f"WHERE position > ? ORDER BY position LIMIT {_PAGE}"
)
_PAGE_UNTIL_SQL = _PAGE_SQL.replace("WHERE position > ?", "WHERE position > ? AND position <= ?")


def _rows_after(
    conn: Connection, position: int, until: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """Events after ``position`` (up to ``until``) in order, paged, through the caller's
    connection: as the driver's own tuples (a rebuild reads every event, and wrapping each in
    SQLAlchemy's Row was a fifteenth of a million-event rebuild on PostgreSQL), its errors
    wrapped as SQLAlchemy's would have been (for ``ledger.store.dberrors``)."""
    sql = _sql(conn, _PAGE_SQL if until is None else _PAGE_UNTIL_SQL)
    cursor = conn.connection.cursor()
    try:
        while True:
            params = (position,) if until is None else (position, until)
            with wrapped(conn, sql, params):
                cursor.execute(sql, params)
                page = cursor.fetchall()
            yield from page
            if len(page) < _PAGE:
                return
            position = page[-1][0]
    finally:
        cursor.close()


def _chunks(items: Sequence[T], size: int = _IN) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


_BY_ID = select(belief_stances).where(
    S.statement_id.in_(bindparam("ids", expanding=True)), S.tx_to == OPEN
)


def _current_by_id(conn: Connection, ids: set[str]) -> dict[str, Version]:
    found: dict[str, Version] = {}
    for chunk in _chunks(sorted(ids)):
        for row in conn.execute(_BY_ID, {"ids": list(chunk)}):
            found[row.statement_id] = Version.from_row(row)
    return found


_CHAIN_SELECT = ", ".join(f"b.{c}" for c in COLUMNS)
_CHAIN_JOIN = (
    "JOIN belief_stances b ON b.proposition_id = t.p AND b.source_id = t.s "
    "AND b.tx_to = {open} AND b.reach_to >= t.since"
)
_PG_CHAINS = (
    f"SELECT {_CHAIN_SELECT} FROM unnest(CAST(%s AS TEXT[]), CAST(%s AS TEXT[]), "
    f"CAST(%s AS BIGINT[])) AS t(p, s, since) {_CHAIN_JOIN.format(open=OPEN)}"
)
_CHAINS_PER_STATEMENT = 300


def _chain_rows(conn: Connection, since: Mapping[tuple[str, str], int]) -> Iterator[Version]:
    """For each chain, the current rows whose periods reach ``since`` or later: everything a
    change from there on can touch (the row before it, the last quantity before it, and all
    after)."""
    keys = sorted(since)
    if not keys:
        return
    if conn.dialect.name == "postgresql":
        params = ([p for p, _ in keys], [s for _, s in keys], [since[key] for key in keys])
        yield from map(Version.from_row, conn.exec_driver_sql(_PG_CHAINS, params).fetchall())
        return
    for chunk in _chunks(keys, _CHAINS_PER_STATEMENT):
        values = ", ".join(["(?, ?, ?)"] * len(chunk))
        sql = (
            f"WITH t(p, s, since) AS (VALUES {values}) "
            f"SELECT {_CHAIN_SELECT} FROM t {_CHAIN_JOIN.format(open=OPEN)}"
        )
        flat = tuple(x for key in chunk for x in (*key, since[key]))
        yield from map(Version.from_row, driver.rows(conn, sql, flat))


# The same rows as _PG_CHAINS, each as one JSON array after its chain and valid time, and a
# row of its own for a chain with none (so that what was read is known): the one text column
# a read ahead gives (ledger.store.append.ReadsAhead).
_PG_CHAINS_AHEAD = (
    f"SELECT CAST(json_build_array(t.p, t.s, t.since, {_CHAIN_SELECT}) AS TEXT) "
    "FROM unnest(CAST(%s AS TEXT[]), CAST(%s AS TEXT[]), CAST(%s AS BIGINT[])) AS t(p, s, since) "
    f"LEFT {_CHAIN_JOIN.format(open=OPEN)}"
)


#: The checkpoint as one text row (a read ahead, see MaterializedProjection.reads_ahead).
_PG_CHECKPOINT_AHEAD = (
    "SELECT CAST(json_build_array(position, hash, policy) AS TEXT) FROM belief_checkpoint "
    "WHERE name = %s"
)


#: The rows of the reads ahead (MaterializedProjection.reads_ahead), in the order it names
#: them: the checkpoint's (one row, or none), then the chains' if they were read.
Ahead = list[list[str]] | None


def _checkpoint_read_ahead(ahead: Ahead) -> tuple[int, str, str] | None:
    """The checkpoint (position, hash, format) as read ahead; None if it was not read ahead,
    or there is none."""
    if not ahead or not ahead[0]:
        return None
    position, hash_, policy = _loads(ahead[0][0])
    return position, hash_, policy


def _chains_ahead(events: Sequence[Event]) -> list[Read]:
    """The chain read of a one-window catch-up of ``events``, known before they are written:
    each statement's chain from its valid time (as :class:`projections.stances.Plan` asks it).
    None with a correction: its chains are known only from the row it corrects."""
    since: dict[Chain, int] = {}
    for event in events:
        if isinstance(event, CorrectionMade):
            return []
        if isinstance(event, StatementMade) and event.stance is not Stance.NO_COMMENT:
            chain, at = (event.proposition_id, event.source_id), to_micros(event.stated_at)
            since[chain] = min(at, since.get(chain, at))
    if not since:
        return []
    keys = sorted(since)
    params = ([p for p, _ in keys], [s for _, s in keys], [since[key] for key in keys])
    return [(_PG_CHAINS_AHEAD, params)]


class _ChainsAhead:
    """The chain rows read ahead (:func:`_chains_ahead`): which chains from which valid time,
    and their rows (in ``COLUMNS`` order)."""

    def __init__(self, texts: list[str]):
        self.since: dict[Chain, int] = {}
        self.found: list[list[Any]] = []
        for text in texts:
            p, s, at, *row = _loads(text)
            self.since[(p, s)] = at
            if row[0] is not None:
                self.found.append(row)

    @classmethod
    def of(cls, ahead: Ahead) -> _ChainsAhead | None:
        # after the checkpoint's read (see Ahead)
        return cls(ahead[1]) if ahead and len(ahead) > 1 else None

    def rows(self, conn: Connection, since: Mapping[Chain, int]) -> Iterable[Version]:
        """What :func:`_chain_rows` would read for ``since``, from the rows read ahead if they
        cover it (each chain read from no later a valid time; nothing has written the stance
        rows since), else read now."""
        known = self.since
        if any(known.get(chain, at + 1) > at for chain, at in since.items()):
            return list(_chain_rows(conn, since))
        return [
            Version.from_row(row)
            for row in self.found
            if (row[3], row[4]) in since and row[10] >= since[(row[3], row[4])]
        ]


_DELETE_SQL = "DELETE FROM belief_stances WHERE statement_id = ? AND tx_from = ?"
_REVISE_SQL = (
    f"UPDATE belief_stances SET {', '.join(f'{c} = ?' for c in REVISED)} "
    "WHERE statement_id = ? AND tx_from = ?"
)


_PG_REVISE_SQL = (
    f"UPDATE belief_stances AS b SET {', '.join(f'{c} = u.{c}' for c in REVISED)} "
    f"FROM unnest({', '.join(['CAST(%s AS BIGINT[])'] * len(REVISED))}, CAST(%s AS TEXT[]), "
    f"CAST(%s AS BIGINT[])) AS u({', '.join(REVISED)}, statement_id, tx_from) "
    "WHERE b.statement_id = u.statement_id AND b.tx_from = u.tx_from"
)


class _Advance:
    """The checkpoint's move from ``was`` to ``now`` that a catch-up's write makes; ``done``:
    whether the checkpoint was at ``was`` (None until the write has run)."""

    def __init__(self, was: tuple[int, str], now: tuple[int, str]):
        self.was, self.now = was, now
        self.done: bool | None = None


def _fold_small(
    conn: Connection, rows: list[tuple[Any, ...]], was: tuple[int, str], ahead: Ahead
) -> bool:
    """Fold the rows an append has just written, one window, if the checkpoint is at ``was``
    (right before them), and move it past them; False, with nothing folded, if it is not.
    Folding writes from its first step (the window's sources and propositions), so where the
    checkpoint is must be known first: SQLite moves it first (in-process, no statement more);
    PostgreSQL has it read ahead with the store's lookup (no round trip more), and moves it in
    the window's one write statement."""
    now = (rows[-1][0], rows[-1][9])
    if conn.dialect.name != "postgresql":
        if not _advance_checkpoint(conn, was, now):
            return False
        _fold_window(conn, rows, None)
        return True
    if not _checkpoint_is(conn, was, ahead):
        return False
    advance = _Advance(was, now)
    _fold_window(conn, rows, None, advance, _ChainsAhead.of(ahead))
    if not advance.done:
        # Cannot happen: the checkpoint was read under the writer lock that is still held.
        # Were it to, the window was folded on tables the checkpoint did not describe.
        _wipe(conn)
    return bool(advance.done)


def _checkpoint_is(conn: Connection, was: tuple[int, str], ahead: Ahead) -> bool:
    """Whether the checkpoint is at ``was`` (PostgreSQL): as read ahead, or read now."""
    if ahead:
        return _checkpoint_read_ahead(ahead) == (*was, FORMAT)
    return _checkpoint_at(conn, was)


def _write(conn: Connection, batch: Batch, advance: _Advance | None = None) -> None:
    """Deletes first (a version may be replaced under the same key), then revisions, then the
    new rows through the driver's bulk path; then ``advance``, the checkpoint's move. On
    PostgreSQL a small write (one append's) is one statement, revisions, rows and checkpoint
    together: each statement is a round trip to the server, and an append's projection made
    three of them (the log's own are five)."""
    if advance is not None and _one_statement(conn, batch):
        advance.done = _write_at_once(conn, batch, advance)
        return
    if batch.deleted:
        driver.run_many(conn, _sql(conn, _DELETE_SQL), batch.deleted)
    if batch.updated:
        revisions = [revised_values(row) for row in batch.updated.values()]
        if conn.dialect.name == "postgresql":
            # One statement over arrays: executemany sends one UPDATE per row, and a window
            # of a rebuild revises thousands.
            columns = tuple(list(c) for c in zip(*revisions, strict=True))
            conn.exec_driver_sql(_PG_REVISE_SQL, columns)
        else:
            driver.run_many(conn, _sql(conn, _REVISE_SQL), revisions)
    # In chain order: the chain index is the one the rows land in at random (the key index
    # follows the log), and neighbours in it share pages. A 1M rebuild by window (what a
    # rebuild falls back to) on SQLite spilled and re-read fewer of them: 85 -> 76 s wall,
    # the same CPU (alternated twice, load 6).
    batch.inserted.sort(key=_CHAIN_ORDER)
    bulk.insert_many(conn, "belief_stances", COLUMNS, batch.inserted, binary=BINARY)
    if advance is not None:
        advance.done = _advance_checkpoint(conn, advance.was, advance.now)


_CHAIN_ORDER = itemgetter(
    COLUMNS.index("proposition_id"), COLUMNS.index("source_id"), COLUMNS.index("reach_to")
)


def _one_statement(conn: Connection, batch: Batch) -> bool:
    return (
        conn.dialect.name == "postgresql"
        and not batch.deleted
        and len(batch.inserted) < bulk.COPY_FROM
    )


def _write_at_once(conn: Connection, batch: Batch, advance: _Advance) -> bool:
    """:func:`_write` and the checkpoint's move in one PostgreSQL statement: the revisions and
    the new rows as data-modifying ``WITH`` queries (they touch different rows: a revision
    never changes a row's key), the checkpoint's ``UPDATE`` the statement's own, whose row
    count says whether the checkpoint was at ``advance.was``. The caller has made sure it is
    (read ahead: see :func:`_fold_small`). Making each part conditional on it instead cost
    a single append at 1M events 3-7% more (the new rows then went as arrays)."""
    parts: list[str] = []
    params: list[Any] = []
    if batch.updated:
        revisions = [revised_values(row) for row in batch.updated.values()]
        parts.append(f"r AS ({_PG_REVISE_SQL} RETURNING 1)")
        params += [list(c) for c in zip(*revisions, strict=True)]
    if batch.inserted:
        row = f"({', '.join(['%s'] * len(COLUMNS))})"
        rows = ", ".join([row] * len(batch.inserted))
        parts.append(
            f"i AS (INSERT INTO belief_stances ({', '.join(COLUMNS)}) VALUES {rows} RETURNING 1)"
        )
        params += [value for values in batch.inserted for value in values]
    head = f"WITH {', '.join(parts)} " if parts else ""
    params += [*advance.now, NAME, *advance.was, FORMAT]
    return conn.exec_driver_sql(head + _sql(conn, _ADVANCE), tuple(params)).rowcount == 1


# -- reading stances --------------------------------------------------------------------------

#: The periods first, then what a Said holds: so versions of a statement that differ only in
#: their periods share one Said (see :func:`_said`).
_COLUMNS_READ = (
    S.valid_to,
    S.qty_to,
    S.statement_id,
    S.source_id,
    S.stance,
    S.position,
    S.valid_from,
    S.value,
    S.unit,
)


def _visible_at_k() -> Any:
    return and_(S.tx_from <= bindparam("k"), S.tx_to > bindparam("k"))


_READ = ", ".join(c.name for c in _COLUMNS_READ)
#: A stance row of an answer, its periods told as whether they still hold at ``a`` (1, 0 or
#: NULL): small integers the driver does not allocate, where the periods' ends are two large
#: ones per row (about 6% of reading a busy proposition's rows).
_HELD = _READ.replace(
    "valid_to, qty_to", "CAST(valid_to > {a} AS INTEGER), CAST(qty_to > {a} AS INTEGER)"
)
#: On SQLite the same row as one text (see :func:`_file`): ``1``, ``0`` or ``2`` (NULL) for
#: each period, then the columns a Said holds as a JSON array (which escapes every control
#: character, so no item holds the separator between them, ``_ITEM_END``).
_SAID_COLUMNS = ", ".join(c.name for c in _COLUMNS_READ[2:])
_ITEM = (
    f"coalesce(valid_to > {{a}}, 2) || coalesce(qty_to > {{a}}, 2) || json_array({_SAID_COLUMNS})"
)
_ITEM_END = "\x1e"
_NODES = 64  # ancestors of an instant, at most (projections.interval_index)
_NO_NODE = -1  # pads a list of ancestors; no period sits there
_STATUS_ROW, _FIRST_ROW, _STANCE_ROW, _RETRACTION_ROW, _NO_COMMENT_ROW = 2, 1, 0, 3, 4
_ITEMS_ROW = 5  # SQLite: every stance row of the answer, as items of one text
_SCANNED_ROW = 6  # how many rows in force a scan read (see _answer_sql)
#: A proposition with at most this many rows in force is answered by reading them all (one
#: range of an index) rather than by probing the interval tree (some sixty index lookups);
#: see :func:`_answer`.
_SCAN_UP_TO = 256
#: Retractions and no-comments an answer reads at most; a policy asking for more (a proposition
#: with more of them) gets them all from one more statement.
_FEW = 8

#: The numbered parameters of an answer statement on SQLite, in order: each fixed-length list
#: of nodes follows the one before (``k`` is bound, and unused, when the answer is at the head).
_ARGUMENTS = (
    "p",
    "a",
    "k",
    "name",
    *(f"{side}{i}" for side in ("left_node", "right_node") for i in range(_NODES)),
)
_PADS = [(_NO_NODE,) * (_NODES - n) for n in range(_NODES + 1)]


#: The type of each parameter of an answer's statements, as PostgreSQL is told it.
_PG_TYPES = {
    "p": "TEXT",
    "a": "BIGINT",
    "k": "BIGINT",
    "name": "TEXT",
    "left_node": "BIGINT[]",
    "right_node": "BIGINT[]",
}


def _named(dialect: str, text: str) -> str:
    """``{name}`` placeholders as the driver's named parameters.

    On PostgreSQL the statement reads them from a one-row subquery it is joined to,
    ``SELECT u.* FROM (SELECT CAST(%(p)s AS TEXT) AS p, ... OFFSET 0) AS v CROSS JOIN LATERAL
    (... proposition_id = v.p ...) AS u``, which the planner sees as values known only when the
    statement runs. So the plan of an answer never depends on which proposition or times it is
    asked about, nor on which propositions ``ANALYZE``'s random sample happened to find common:
    the plan made with the values (the *custom* plan of PostgreSQL's plan cache) is the same as
    the one made without (the *generic* plan), costed the same, and the plan cache keeps the
    generic one after its five trial runs instead of planning every answer again. Before, when
    the first answers on a connection made the generic plan look dearer than the custom ones (a
    sample that did not count a hot proposition as common), every later answer was planned
    afresh: about 0.8 ms of the server's time for this statement, each time. (Each value read
    through a subquery of its own, ``(SELECT CAST(%(p)s AS TEXT))``, did the same at some forty
    init-plans an execution: 0.04-0.12 ms.)"""
    if dialect != "postgresql":
        return re.sub(r"\{(\w+)\}", r":\1", text)
    names = dict.fromkeys(re.findall(r"\{(\w+)\}", text))
    values = ", ".join(f"CAST(%({name})s AS {_PG_TYPES[name]}) AS {name}" for name in names)
    reads = re.sub(r"\{(\w+)\}", r"v.\1", text)
    return f"SELECT u.* FROM (SELECT {values} OFFSET 0) AS v CROSS JOIN LATERAL ({reads}) AS u"


def _answer_sql(dialect: str, *, past: bool, scan: bool) -> str:
    """The one statement behind an answer: the rows of ``p`` whose valid period holds ``a``
    (tag 0; on SQLite all of them as one text, tag 5), the earliest assert and confirm stated
    by ``a`` (tag 1), and the projection's status (tag 2: the proposition's definition, the
    checkpoint, the head of the log), all as known at ``k`` if ``past``, else at the head
    (where every row in force is visible and no closed one is). Written for the driver, with
    named parameters on PostgreSQL, numbered ones on SQLite (see :func:`_answer_params`);
    nodes of the interval tree go as one array on PostgreSQL (each probed by its own index
    lookup), as a fixed-length list elsewhere (so the text never changes).

    ``scan``: the rows in force are found by reading the proposition's first
    :data:`_SCAN_UP_TO` + 1 of them instead of probing the tree, and how many were read is
    told (tag 6); the answer holds only if they were all (see :func:`_answer`)."""
    pg = dialect == "postgresql"
    # SQLite: each stance row as an item of one text (tag 5). The driver builds a tuple of
    # Python objects for every row it returns, about 0.6 us each however few its columns: on
    # a busy proposition (~400 rows) more than SQLite's own work of joining them, and the
    # items are the keys by which an answer finds the rows the last ones already had (_file).
    stance_row = f"{_STANCE_ROW} AS tag, {_HELD}" if pg else f"{_ITEM} AS item"

    def stab(side: str, where: str) -> str:
        tree, nodes = "node", f"{side}_node"
        if pg:
            return (
                f"SELECT {_STANCE_ROW} AS tag, b.* FROM unnest({{{nodes}}}) "
                f"AS n(node) CROSS JOIN LATERAL (SELECT {_HELD} FROM belief_stances "
                # OFFSET 0 keeps the subquery a per-node index lookup whatever the planner's
                # statistics say (without it PostgreSQL may hash-join a scan of the rows)
                f"WHERE proposition_id = {{p}} AND {tree} = n.node AND {where} OFFSET 0) AS b"
            )
        listed = ", ".join(f"{{{nodes}{i}}}" for i in range(_NODES))
        return (
            f"SELECT {stance_row} FROM belief_stances "
            f"WHERE proposition_id = {{p}} AND {tree} IN ({listed}) AND {where}"
        )

    # Each part reads one index range (revisions 0006 and 0008): at a node left of the instant,
    # the range of reach_to; right of it, the node's few entries; over the closed versions, the
    # range of tx_to after k. Every other bound is checked on the index entry, so only the rows
    # returned are fetched. SQLite plans without statistics and once chose a range that read
    # every closed version of the proposition, so there the filtering terms are written
    # ``+column``, which no index may serve (SQLite still reads them from the index entry).
    # PostgreSQL gets them plain, as index conditions.
    f = "" if pg else "+"
    holds_left = f"reach_to > {{a}} AND {f}valid_from <= {{a}}"
    holds_right = f"valid_from <= {{a}} AND {f}reach_to > {{a}}"
    held = f"{f}valid_from <= {{a}} AND {f}reach_to > {{a}}"
    by_k = f" AND {f}tx_from <= {{k}}" if past else ""
    current = f"tx_to = {OPEN}{by_k}"

    # The first rows in force of the proposition, in the order of the tree's index, and of
    # them those whose period holds ``a``. Some sixty probes of the tree cost more than
    # reading a few hundred entries of one range, and most propositions have a few dozen rows
    # in force. SQLite reads the entries alone (every bound is on them) and fetches only the
    # rows it returns; PostgreSQL fetches each row as it reads it. The order is the index's
    # own, so reading it costs no sort, and it is what keeps PostgreSQL's plan (made once for
    # every proposition, with bitmap scans off: see _named and _fetch) on that index: without
    # it, on a ledger whose propositions average more rows than the limit, the planner took a
    # scan of the whole table as the cheaper way to the first 257 rows of any one.
    in_force = (
        f"proposition_id = {{p}} AND tx_to = {OPEN} "
        f"ORDER BY node, reach_to, valid_from, tx_from LIMIT {_SCAN_UP_TO + 1}"
    )
    if pg:
        scanned = (
            f"SELECT {_STANCE_ROW} AS tag, {_HELD} FROM (SELECT * FROM belief_stances "
            f"WHERE {in_force}) AS first WHERE {held}{by_k}"
        )
    else:
        scanned = (
            f"SELECT {stance_row} FROM belief_stances WHERE rowid IN (SELECT r FROM "
            "(SELECT rowid AS r, valid_from, reach_to, tx_from FROM belief_stances "
            f"INDEXED BY ix_belief_stances_current WHERE {in_force}) AS first "
            f"WHERE {held}{by_k})"
        )

    visible = "tx_from <= {k} AND tx_to > {k}" if past else f"tx_to = {OPEN}"
    parts = (
        [scanned]
        if scan
        else [
            stab("left", f"{current} AND {holds_left}"),
            stab("right", f"{current} AND {holds_right}"),
        ]
    )
    if past:  # versions in force at k and closed since: one range of tx_to (revision 0008)
        parts.append(
            f"SELECT {stance_row} FROM belief_stances "
            f"WHERE proposition_id = {{p}} AND tx_to < {OPEN} AND tx_to > {{k}} "
            f"AND {f}tx_from <= {{k}} AND {held}"
        )
    if not pg:
        parts = [
            f"SELECT {_ITEMS_ROW} AS tag, group_concat(item, char({ord(_ITEM_END)})), "
            f"{', '.join(['NULL'] * (len(_COLUMNS_READ) - 1))} "
            f"FROM ({' UNION ALL '.join(parts)}) AS items"
        ]
    for stance in _SUPPORT:
        parts.append(
            f"SELECT * FROM (SELECT {_FIRST_ROW} AS tag, {_READ} FROM belief_stances "
            f"WHERE proposition_id = {{p}} AND stance = '{stance}' AND valid_from <= {{a}} "
            f"AND {visible} ORDER BY valid_from, position LIMIT 1) AS first_{stance}"
        )
    # retractions (a few: all of them are read again on demand if there are more) and the
    # no-comment count, which a policy reads when no stance is live
    parts.append(
        f"SELECT * FROM (SELECT {_RETRACTION_ROW} AS tag, {_READ} FROM belief_stances "
        f"WHERE proposition_id = {{p}} AND stance = '{Stance.RETRACT.value}' "
        f"AND valid_from <= {{a}} AND {visible} ORDER BY valid_from, position "
        f"LIMIT {_FEW + 1}) AS few_retractions"
    )
    parts.append(
        f"SELECT {_NO_COMMENT_ROW} AS tag, count(*), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), "
        "CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), "
        "CAST(NULL AS TEXT), CAST(NULL AS TEXT) FROM (SELECT 1 AS one "
        f"FROM belief_stances WHERE proposition_id = {{p}} "
        f"AND stance = '{Stance.NO_COMMENT.value}' AND valid_from <= {{a}} AND {visible} "
        f"LIMIT {_FEW + 1}) AS few_no_comments"
    )
    if scan:
        indexed = "" if pg else " INDEXED BY ix_belief_stances_current"
        parts.append(
            f"SELECT {_SCANNED_ROW} AS tag, count(*), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), "
            "CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), "
            f"CAST(NULL AS TEXT), CAST(NULL AS TEXT) FROM (SELECT 1 FROM belief_stances{indexed} "
            f"WHERE {in_force}) AS scanned"
        )
    known = "{k}" if past else "h.recorded_at"
    parts.append(
        f"SELECT {_STATUS_ROW} AS tag, c.position, h.position, (SELECT payload FROM "
        f"belief_propositions WHERE proposition_id = {{p}} AND recorded_at <= {known}), "
        "c.policy, CAST(NULL AS TEXT), h.recorded_at, CAST(NULL AS BIGINT), "
        "CAST(NULL AS TEXT), CAST(NULL AS TEXT) FROM belief_checkpoint c LEFT JOIN "
        "(SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS h "
        "ON 1 = 1 WHERE c.name = {name}"
    )
    text = " UNION ALL ".join(parts)
    return _named(dialect, text) if pg else re.sub(r"\{(\w+)\}", _numbered, text)


def _numbered(placeholder: re.Match[str]) -> str:
    return f"?{_ARGUMENTS.index(placeholder[1]) + 1}"


_ANSWER_SQL = {
    (dialect, past, scan): _answer_sql(dialect, past=past, scan=scan)
    for dialect in ("sqlite", "postgresql")
    for past in (False, True)
    for scan in (False, True)
}


def _answer_params(dialect: str, p: str, a: int, k: int | None, *, scan: bool) -> Any:
    """The parameters of :data:`_ANSWER_SQL` ``[dialect, k is not None, scan]``: a dict of the
    named ones on PostgreSQL, a tuple of the numbered ones (:data:`_ARGUMENTS`) on SQLite,
    where binding some 130 parameters by name took about 25 us of every answer (the driver
    looks each name up), by number 5 us. A scan names no node of the tree."""
    if scan:
        if dialect == "postgresql":
            return {"p": p, "a": a, "name": NAME, "k": k}
        return (p, a, k, NAME)
    left, right = ancestors(a)
    if dialect == "postgresql":
        params: dict[str, Any] = {"p": p, "a": a, "name": NAME, "left_node": left}
        params["right_node"] = right
        if k is not None:
            params["k"] = k
        return params
    # each list padded to its fixed length (a longer one fails to bind: never a node dropped)
    return (p, a, k, NAME, *left, *_PADS[len(left)], *right, *_PADS[len(right)])


def _rest_sql(dialect: str) -> str:
    """Every retraction of ``p`` stated by ``a`` (tag 0, in order) and how many declined to
    comment (tag 1, the count in the first column after the tag), as known at ``k``."""
    where = (
        "WHERE proposition_id = {p} AND stance = '%s' AND valid_from <= {a} "
        "AND tx_from <= {k} AND tx_to > {k}"
    )
    text = (
        f"SELECT * FROM (SELECT 0 AS tag, {_READ} FROM belief_stances "
        + where % Stance.RETRACT.value
        + " ORDER BY valid_from, position) AS retractions UNION ALL "
        "SELECT 1, count(*), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), "
        "CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), "
        "CAST(NULL AS TEXT) FROM belief_stances " + where % Stance.NO_COMMENT.value
    )
    return _named(dialect, text)


_REST_SQL = {dialect: _rest_sql(dialect) for dialect in ("sqlite", "postgresql")}
_ALL_OF_THESE = select(S.proposition_id, *_COLUMNS_READ).where(
    S.proposition_id.in_(bindparam("ids", expanding=True)), _visible_at_k()
)


#: A ledger with at most this many sources has them all cached by the first answer that needs
#: one it has not decoded yet (one statement); a larger one has each answer's missing ones read
#: together.
_SOURCES_AT_ONCE = 2_000
_SOURCE_COLUMNS = (
    belief_sources.c.source_id,
    belief_sources.c.payload,
    belief_sources.c.recorded_at,
)
_FIRST_SOURCES = select(*_SOURCE_COLUMNS).limit(_SOURCES_AT_ONCE + 1)


def _cache_sources(
    conn: Connection, cache: dict[str, tuple[int, SourceRegistered]], wanted: Iterable[str]
) -> None:
    """Decode into ``cache`` the sources among ``wanted`` (an answer's live stances, whose
    roles the policy is about to ask) that it lacks, in one statement. One at a time, on a
    fresh process over a ledger of 300 sources, they were a query each (0.4 ms through
    SQLAlchemy) in a quarter of the first 500 answers: the part of an answer that grew most
    from a 10k ledger (33 sources) to a 1M one. The cache is what ``_Sources`` reads (entries
    ``(recorded_at, source)``, checked against the answer's known_at there)."""
    missing = [source for source in wanted if source not in cache]
    if not missing:
        return
    rows: Sequence[Any] = ()
    if not cache:
        rows = conn.execute(_FIRST_SOURCES).all()
        if len(rows) > _SOURCES_AT_ONCE:
            rows = ()
    if not rows:
        rows = [
            row
            for chunk in _chunks(missing)
            for row in conn.execute(
                select(*_SOURCE_COLUMNS).where(belief_sources.c.source_id.in_(chunk))
            )
        ]
    for source, payload, recorded_at in rows:
        cache[source] = (recorded_at, _decode_source(payload))


class _Answer(NamedTuple):
    """What one answer statement read: the status, and the evidence if it was current."""

    status: Any
    evidence: Evidence


class _Status(NamedTuple):
    payload: str | None
    policy: str | None
    position: int | None
    head: int
    head_at: int | None


def _fetch(conn: Connection, sql: str, params: Mapping[str, Any] | Sequence[Any]) -> Sequence[Any]:
    """Every row of a driver-level statement. On SQLite straight through the driver's cursor:
    SQLAlchemy's result machinery cost about 0.1 ms an answer, a tenth of reading the few
    hundred rows of a busy proposition. A driver error is raised again by the same statement
    through SQLAlchemy, so that it is translated (and the connection handled) as usual."""
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        try:
            rows: list[Any] = raw.execute(sql, params).fetchall()
            return rows
        except raw.Error:
            pass
    elif conn.dialect.name == "postgresql" and raw.info.transaction_status == _IDLE:
        # (outside a transaction only: inside one the setting would outlast the statement)
        try:
            with raw.pipeline():  # one round trip, one implicit transaction for the two
                raw.execute(_NO_BITMAP_SCANS)
                cursor = raw.execute(sql, params)
            found: list[Any] = cursor.fetchall()
            return found
        except raw.Error:
            pass
    return conn.exec_driver_sql(sql, params).fetchall()


#: For the answer statement only (PostgreSQL), set in the same implicit transaction: plan its
#: first-support, retraction and no-comment parts as ordered index scans that stop at the first
#: rows. Its plan is one for every question (see _named), whose estimates know nothing of the
#: proposition, and for a part that finds one row a bitmap scan and a sort look as cheap as the
#: ordered scan; on a busy proposition they read every row of its stance first (2,665 asserts
#: of the hot story: 2.6 ms of a 3.7 ms execution, 1.05 ms in all with this).
_NO_BITMAP_SCANS = "SELECT set_config('enable_bitmapscan', 'off', true)"
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open on the connection


def _answer(conn: Connection, proposition: str, a: int, k: int | None, busy: set[str]) -> _Answer:
    """Read what the policy needs about ``proposition`` at (``a``, ``k``; None: at the head)
    through ``conn``, with the status of the projection, in one statement (two the first time
    it is asked about a proposition with more rows in force than a scan reads, which is then
    added to ``busy``).

    ``busy`` is a hint (:attr:`MaterializedProjection.busy`): the first answer about a busy
    proposition reads its first rows in force and learns that they are not all; later ones go
    to the interval tree straight away. Either way reads the same rows, so a stale entry (a
    proposition whose statements were withdrawn since) costs time, never an answer."""
    dialect = conn.dialect.name
    scan = proposition not in busy
    found = _read_answer(conn, dialect, proposition, a, k, scan=scan)
    if found is None:  # more rows in force than a scan reads: the tree, from now on
        if len(busy) >= _BUSY_CACHE:
            busy.clear()
        busy.add(proposition)
        found = _read_answer(conn, dialect, proposition, a, k, scan=False)
        assert found is not None
    return found


#: Busy propositions a ledger remembers at most (:attr:`MaterializedProjection.busy`).
_BUSY_CACHE = 65_536


def _read_answer(
    conn: Connection, dialect: str, proposition: str, a: int, k: int | None, *, scan: bool
) -> _Answer | None:
    """:func:`_answer` by one statement, the rows in force found by a scan or by the tree;
    None if a scan did not read them all."""
    params = _answer_params(dialect, proposition, a, k, scan=scan)
    live: dict[str, Said] = {}
    quantities: dict[str, Said] = {}
    first: Said | None = None
    retractions: list[Said] = []
    no_comments = 0
    status = _Status(None, None, None, 0, None)
    cache, not_live = _SAID, _NOT_LIVE
    for row in _fetch(conn, _ANSWER_SQL[dialect, k is not None, scan], params):
        tag = row[0]
        if tag == _STANCE_ROW:  # PostgreSQL: nearly every row (_take and _said, inlined)
            said = cache.get(row[3:])
            if said is None:
                said = _said(row)
            if row[1] and said.stance not in not_live:
                live[said.source] = said
            if row[2]:
                quantities[said.source] = said
        elif tag == _ITEMS_ROW:
            if row[1] is not None:
                _file(row[1], live, quantities)
        elif tag == _STATUS_ROW:
            status = _Status(row[3], row[4], row[1], row[2] or 0, row[6])
        elif tag == _NO_COMMENT_ROW:
            no_comments = int(row[1])
        elif tag == _RETRACTION_ROW:
            retractions.append(_said(row))
        elif tag == _FIRST_ROW:
            said = _said(row)
            if first is None or said.order < first.order:
                first = said
        elif tag == _SCANNED_ROW and row[1] > _SCAN_UP_TO:
            return None
    retractions.sort(key=lambda s: s.order)
    rest = _Rest(conn, proposition, a, status.head_at if k is None else k)
    evidence = Evidence.at(
        live,
        quantities,
        first,
        rest.retractions if len(retractions) > _FEW else retractions,
        rest.no_comments if no_comments > _FEW else no_comments,
    )
    return _Answer(status, evidence)


class _Rest:
    """Every retraction and the exact no-comment count, for a proposition with more of them
    than the answer statement brings: read together, in one more statement, on first use."""

    def __init__(self, conn: Connection, proposition: str, a: int, k: int | None):
        self.conn, self.params = conn, {"p": proposition, "a": a, "k": k}
        self.read: tuple[list[Said], int] | None = None

    def _load(self) -> tuple[list[Said], int]:
        if self.read is None:
            sql = _REST_SQL[self.conn.dialect.name]
            rows = self.conn.exec_driver_sql(sql, self.params).fetchall()
            count = sum(row[1] for row in rows if row[0] == 1)
            self.read = ([_said(row) for row in rows if row[0] == 0], count)
        return self.read

    def retractions(self) -> list[Said]:
        return self._load()[0]

    def no_comments(self) -> int:
        return self._load()[1]


def _take(row: Any, said: Said, a: int, live: dict[str, Said], quantities: dict[str, Said]) -> None:
    """File a row whose period holds ``a`` as a live stance, a standing quantity, or both. The
    row has one leading column (a tag or the proposition), then :data:`_COLUMNS_READ`."""
    valid_to, qty_to = row[1], row[2]
    if valid_to > a and said.stance not in _NOT_LIVE:
        live[said.source] = said
    if qty_to is not None and qty_to > a:
        quantities[said.source] = said


_NOT_LIVE = (Stance.RETRACT, Stance.NO_COMMENT)


def _file(items: str, live: dict[str, Said], quantities: dict[str, Said]) -> None:
    """:func:`_take` for the stance rows of an answer on SQLite, as the items of one text
    (:data:`_ITEM`). An item is the whole of its row as the answer reads it, so each is looked
    up as it comes (a busy proposition's answer finds nearly all of them filed by an earlier
    one) and only a new one is decoded."""
    filed, new = _FILED.get, _filed
    for item in items.split(_ITEM_END):
        source, said, is_live, is_quantity = filed(item) or new(item)
        if is_live:
            live[source] = said
        if is_quantity:
            quantities[source] = said


def _filed(item: str) -> tuple[str, Said, bool, bool]:
    """An item as :func:`_file` files it: its source, its Said (shared with every other item
    and row of the same statement, through :data:`_SAID`) and whether it is a live stance and
    a standing quantity at the answer's ``as_of``."""
    key = tuple(_loads(item[2:]))
    said = _SAID.get(key) or _new_said(key)
    filed = (said.source, said, item[0] == "1" and said.stance not in _NOT_LIVE, item[1] == "1")
    if len(_FILED) >= _FILED_CACHE:
        _FILED.clear()
    _FILED[item] = filed
    return filed


#: Items as filed (bounded: cleared when full). Items differ from rows of the same statement
#: only by the two periods' flags, so this holds up to twice the statements of a busy
#: proposition asked about from every side (the hot story's 10,000 statements made some 8,200
#: items in 500 answers).
_FILED: dict[str, tuple[str, Said, bool, bool]] = {}
_FILED_CACHE = 16_384


def _said(row: Any) -> Said:
    """A row of one leading column (a tag or the proposition), then :data:`_COLUMNS_READ`, as
    the rules see it."""
    # Keyed by the columns a Said holds (every column after the periods), so a hit is the same
    # value whatever ledger or version of the statement it came from; on a busy proposition
    # most rows were read by an earlier answer, and building them again was a third of the
    # answer's Python time. Sharing them also lets the rules reuse what they built from them.
    key = row[3:]
    return _SAID.get(key) or _new_said(key)


def _new_said(key: tuple[Any, ...]) -> Said:
    """The Said of the columns ``key`` (:func:`_said`), built and cached."""
    if len(_SAID) >= _SAID_CACHE:
        _SAID.clear()
    sid, source, stance, position, valid_from, value, unit = key
    said = _SAID[key] = Said(
        sid,
        source,
        _STANCES[stance],
        _MOMENTS.get(valid_from) or _moment(valid_from),
        position,
        None if value is None else _loads(value),
        unit,
    )
    return said


#: Said is frozen, so answers share them (bounded: cleared when full, like _MOMENTS; this
#: holds every statement of a proposition of thirty thousand).
_SAID: dict[tuple[Any, ...], Said] = {}
_SAID_CACHE = 32_768


_MOMENTS: dict[int, datetime] = {}


def _moment(micros: int) -> datetime:
    """``from_micros``, remembered: statements crowd onto the same days (bounded)."""
    if len(_MOMENTS) >= 16_384:
        _MOMENTS.clear()
    when = _MOMENTS[micros] = from_micros(micros)
    return when


class _Everything:
    """What the evidence of each proposition of ``ids`` needs at (``a``, ``k``), read in four
    scans of their rows; their statements put in the answers' cache if ``shared``."""

    def __init__(self, conn: Connection, a: int, k: int, ids: Sequence[str], *, shared: bool):
        params = {"a": a, "k": k, "ids": list(ids)}
        build = _said if shared else _said_of
        self.a = a
        self.live: dict[str, dict[str, Said]] = {}
        self.quantities: dict[str, dict[str, Said]] = {}
        self.first: dict[str, Said] = {}
        self.retractions: dict[str, list[Said]] = {}
        for row in conn.execute(_ALL_HOLDING, params):
            said = build(row)
            p = row.proposition_id
            _take(row, said, a, self.live.setdefault(p, {}), self.quantities.setdefault(p, {}))
        for row in conn.execute(_ALL_SUPPORT, params):
            said = build(row)
            earlier = self.first.get(row.proposition_id)
            if earlier is None or said.order < earlier.order:
                self.first[row.proposition_id] = said
        for row in conn.execute(_ALL_RETRACTIONS, params):
            self.retractions.setdefault(row.proposition_id, []).append(build(row))
        self.no_comments = {p: n for p, n in conn.execute(_ALL_NO_COMMENTS, params)}

    def evidence(self, proposition: str) -> Evidence:
        return Evidence.at(
            self.live.get(proposition, {}),
            self.quantities.get(proposition, {}),
            self.first.get(proposition),
            self.retractions.get(proposition, []),
            int(self.no_comments.get(proposition, 0)),
        )


def _said_of(row: Any) -> Said:
    """:func:`_said`, without the cache: for a slice of a pass over every proposition."""
    sid, source, stance, position, valid_from, value, unit = row[3:]
    when = _MOMENTS.get(valid_from) or _moment(valid_from)
    loaded = None if value is None else _loads(value)
    return Said(sid, source, _STANCES[stance], when, position, loaded, unit)


def _decoded(payload: str) -> PropositionDefined:
    """:func:`_decode_proposition`, without the cache: for a slice of a pass over every
    proposition."""
    decoded = trusted.decode(PropositionDefined.TYPE, json.loads(payload), None, 0)
    assert isinstance(decoded, PropositionDefined)
    return decoded


#: Propositions judged together by ``verdicts_at``: its memory is one slice's rows (about 30 rows
#: a proposition in the generator's ledgers), its cost a few scans a slice.
_SLICE = _IN
_WITH_PROPOSITION = (S.proposition_id, *_COLUMNS_READ)
_AMONG = S.proposition_id.in_(bindparam("ids", expanding=True))
_ALL_HOLDING = select(*_WITH_PROPOSITION).where(
    _AMONG, S.valid_from <= bindparam("a"), S.reach_to > bindparam("a"), _visible_at_k()
)


def _first_supports() -> Any:
    ranked = (
        select(
            *_WITH_PROPOSITION,
            func.row_number()
            .over(partition_by=S.proposition_id, order_by=(S.valid_from, S.position))
            .label("rank"),
        )
        .where(_AMONG, S.stance.in_(_SUPPORT), S.valid_from <= bindparam("a"), _visible_at_k())
        .subquery()
    )
    return select(*(ranked.c[c.name] for c in _WITH_PROPOSITION)).where(ranked.c.rank == 1)


_ALL_SUPPORT = _first_supports()
_ALL_RETRACTIONS = (
    select(*_WITH_PROPOSITION)
    .where(
        _AMONG,
        S.stance == Stance.RETRACT.value,
        S.valid_from <= bindparam("a"),
        _visible_at_k(),
    )
    .order_by(S.proposition_id, S.valid_from, S.position)
)
_ALL_NO_COMMENTS = (
    select(S.proposition_id, func.count())
    .where(
        _AMONG,
        S.stance == Stance.NO_COMMENT.value,
        S.valid_from <= bindparam("a"),
        _visible_at_k(),
    )
    .group_by(S.proposition_id)
)
_PROPOSITION_IDS_KNOWN = select(belief_propositions.c.proposition_id).where(
    belief_propositions.c.recorded_at <= bindparam("k")
)
_DEFINED_AMONG = select(belief_propositions.c.proposition_id, belief_propositions.c.payload).where(
    belief_propositions.c.proposition_id.in_(bindparam("ids", expanding=True)),
    belief_propositions.c.recorded_at <= bindparam("k"),
)


class _Sources(Mapping[str, SourceRegistered]):
    """The sources registered by ``known_at``, decoded on first use and cached."""

    def __init__(
        self,
        engine: Engine,
        conn: Connection | None,
        known_at: int,
        cache: dict[str, tuple[int, SourceRegistered]],
    ):
        self.engine, self.conn, self.known_at, self.cache = engine, conn, known_at, cache

    def _query(self, query: Any, params: dict[str, Any]) -> list[Any]:
        if self.conn is not None:
            return list(self.conn.execute(query, params))
        with reading(self.engine) as conn:
            return list(conn.execute(query, params))

    def get(self, source: str, default: Any = None) -> Any:
        # Mapping.get goes through __getitem__ and a KeyError; a policy asks once per live
        # stance, so a cached source known by then is answered directly.
        entry = self.cache.get(source)
        if entry is not None and entry[0] <= self.known_at:
            return entry[1]
        try:
            return self[source]
        except KeyError:
            return default

    def __getitem__(self, source: str) -> SourceRegistered:
        entry = self.cache.get(source)
        if entry is None:
            rows = self._query(_SOURCE_BY_ID, {"s": source})
            if not rows:
                raise KeyError(source)
            entry = self.cache[source] = (rows[0].recorded_at, _decode_source(rows[0].payload))
        if entry[0] > self.known_at:
            raise KeyError(source)
        return entry[1]

    def __iter__(self) -> Iterator[str]:
        return iter([r.source_id for r in self._query(_SOURCES_KNOWN, {"k": self.known_at})])

    def __len__(self) -> int:
        return len(self._query(_SOURCES_KNOWN, {"k": self.known_at}))


_SOURCE_BY_ID = select(belief_sources.c.payload, belief_sources.c.recorded_at).where(
    belief_sources.c.source_id == bindparam("s")
)
_SOURCES_KNOWN = (
    select(belief_sources.c.source_id)
    .where(belief_sources.c.recorded_at <= bindparam("k"))
    .order_by(belief_sources.c.source_id)
)


def _decode_proposition(payload: str) -> PropositionDefined:
    # Stored payloads were validated on append; verify shows they have not changed. The event
    # is frozen and a function of the text alone, so answers share it (decoding was some 20 us
    # of every answer; bounded, cleared when full).
    event = _PROPOSITIONS.get(payload)
    if event is None:
        decoded = trusted.decode(PropositionDefined.TYPE, json.loads(payload), None, 0)
        assert isinstance(decoded, PropositionDefined)
        if len(_PROPOSITIONS) >= _SOURCE_CACHE:
            _PROPOSITIONS.clear()
        event = _PROPOSITIONS[payload] = decoded
    return event


_PROPOSITIONS: dict[str, PropositionDefined] = {}


def _decode_source(payload: str) -> SourceRegistered:
    event = trusted.decode(SourceRegistered.TYPE, json.loads(payload), None, 0)
    assert isinstance(event, SourceRegistered)
    return event


def _unknown(proposition: str) -> NotFound:
    return NotFound(f"no proposition {proposition!r} in the ledger (as known at that time)")


# -- checkpoint -------------------------------------------------------------------------------

#: The checkpoint and the head of the log, in one statement.
_STATUS = select(
    belief_checkpoint.c.position,
    belief_checkpoint.c.policy,
    func.coalesce(select(func.max(ev.c.position)).scalar_subquery(), 0).label("head"),
).where(belief_checkpoint.c.name == NAME)


def _sql(conn: Connection, text: str) -> str:
    """Driver-level SQL written with ``?`` marks, in the connection's parameter style."""
    return text.replace("?", "%s") if conn.dialect.name == "postgresql" else text


def _reading(engine: Engine) -> Connection:
    """A connection for one answer. On PostgreSQL it runs without a transaction block (no
    BEGIN and ROLLBACK round trips): an answer is one statement, seeing one snapshot, and the
    rows visible at a known_at no later than the head are never changed by later writers
    (they close versions at their own, later, recorded_at), so what the policy reads on
    demand afterwards agrees with it."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def _current(status: Any) -> bool:
    return status is not None and status.policy == FORMAT and status.position == status.head


def _is_behind(conn: Connection) -> bool:
    return not _current(conn.execute(_STATUS).first())


def _usable_checkpoint(conn: Connection) -> int:
    """The checkpoint's position if it still describes the log; else wipe the tables and start
    from 0."""
    row = conn.execute(select(belief_checkpoint).where(belief_checkpoint.c.name == NAME)).first()
    if row is None or row.policy != FORMAT or not _hash_matches(conn, row.position, row.hash):
        _wipe(conn)
        return 0
    if row.position == 0 and holding_rows(conn):
        # At 0 the tables are empty, unless rows were written with no fold to vouch for them,
        # which a fold from the first event must not build on.
        _wipe(conn)
    return int(row.position)


def _hash_matches(conn: Connection, position: int, expected: str) -> bool:
    if position == 0:
        return expected == GENESIS
    found = conn.execute(select(ev.c.hash).where(ev.c.position == position)).scalar()
    return found == expected


_ADVANCE = (
    "UPDATE belief_checkpoint SET position = ?, hash = ? "
    "WHERE name = ? AND position = ? AND hash = ? AND policy = ?"
)


def _checkpoint_at(conn: Connection, at: tuple[int, str]) -> bool:
    """Whether the checkpoint is at ``at`` (position, hash), under this projection's format."""
    row = conn.execute(select(belief_checkpoint).where(belief_checkpoint.c.name == NAME)).first()
    return row is not None and (row.position, row.hash, row.policy) == (*at, FORMAT)


def _advance_checkpoint(conn: Connection, was: tuple[int, str], now: tuple[int, str]) -> bool:
    """Move the checkpoint from ``was`` to ``now``; False if it was not at ``was``."""
    return driver.run(conn, _sql(conn, _ADVANCE), (*now, NAME, *was, FORMAT)) == 1


def _save_checkpoint(conn: Connection, position: int, hash_: str) -> None:
    values = {"position": position, "hash": hash_, "policy": FORMAT}
    done = conn.execute(
        update(belief_checkpoint).where(belief_checkpoint.c.name == NAME).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(insert(belief_checkpoint).values(name=NAME, **values))


#: SQLite page cache (KiB) for a rebuild's connection while it runs, restored after: the
#: chain and key indexes it inserts into at random outgrow the default 2 MB early on.
REBUILD_CACHE_KIB = 65_536


def _page_cache(conn: Connection, kib: int) -> AbstractContextManager[None]:
    return _sqlite_setting(conn, "cache_size", -kib, -2000, when=kib > 0)


@contextmanager
def _sqlite_setting(
    conn: Connection, name: str, value: int, default: int, *, when: bool = True
) -> Iterator[None]:
    """On SQLite (and ``when``), ``PRAGMA name = value`` while the block runs, then the
    connection's own value again (``default`` if it reads none)."""
    if conn.dialect.name != "sqlite" or not when:
        yield
        return
    before = conn.exec_driver_sql(f"PRAGMA {name}").scalar()
    conn.exec_driver_sql(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA {name} = {int(before or default)}")


#: Indexes that only questions read (the fold reads by chain and by statement id).
QUERY_INDEXES = (
    "ix_belief_stances_current",
    "ix_belief_stances_stance",
    "ix_belief_stances_closed",
)
#: The index the window fold reads chains through.
CHAIN_INDEX = "ix_belief_stances_chain"
#: The stance versions' key (statement id, tx_from), which the window fold reads; the fold by
#: chain reads nothing back.
KEY_INDEX = "uq_belief_stances_version"


@contextmanager
def _indexes_deferred(conn: Connection, exclusive: bool, *, chain: bool = False) -> Iterator[None]:
    """Drop the indexes only questions read (and with ``chain``, for a fold that reads nothing
    back, the chain index and the key too) and build them afresh at the end: for a rebuild,
    sorting the finished table costs far less than keeping them up to date row by row. On
    SQLite readers are unaffected (they read the snapshot before the write transaction); on
    PostgreSQL dropping an index locks out every reader of the table until the transaction
    ends, so only an ``exclusive`` rebuild does (see :meth:`MaterializedProjection.rebuild`).

    The key is the costliest to keep up: statement ids are random, so each row is an insert at
    a random place of a large B-tree. Inserting the 1M benchmark ledger's stance rows took
    6.9 s with it on PostgreSQL, 1.1 s without and 2.3 s more to build it at the end (by hand,
    ``INSERT ... SELECT``); on SQLite 8.7-9.0 s with it, 3.7-5.3 s without and 0.5-1.0 s to
    build it (revision 0012 made it an index SQLite can drop). Building it checks every key
    once, so a fold that gave one twice would still fail the rebuild."""
    drop = conn.dialect.name == "sqlite" or exclusive
    names = (*QUERY_INDEXES, CHAIN_INDEX, KEY_INDEX) if chain else QUERY_INDEXES
    dropped = _drop_indexes(conn, names) if drop else []
    yield
    with _sorter_threads(conn):
        for index in dropped:
            index.create(conn)


def _sorter_threads(conn: Connection) -> AbstractContextManager[None]:
    """On SQLite, let each index build sort with a helper thread while it runs (``PRAGMA
    threads``, restored after): at the end of a rebuild the second core is otherwise idle
    (its workers are done). The five builds of a 1M ledger's rebuild took 3.1-3.9 s with it
    against 4.1-4.5 s without (three rebuilds each, alternated, by hand; see BENCHMARKS.md,
    *Session 20*). PostgreSQL builds an index with parallel workers of its own."""
    return _sqlite_setting(conn, "threads", SORTER_THREADS, 0, when=forkfold.cores() >= 2)


#: Helper threads SQLite's sorter may start for each index a rebuild builds.
SORTER_THREADS = 2


_DERIVED_NAMES = ", ".join(table.name for table in DERIVED)
_OWNED = (
    "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class WHERE oid IN ("
    + ", ".join(f"CAST('{table.name}' AS regclass)" for table in DERIVED)
    + ")"
)
#: How long (ms) a rebuild waits for the derived tables to itself before it rebuilds online.
REBUILD_LOCK_WAIT_MS = 2_000


def _takes_derived(conn: Connection) -> bool:
    """Whether this rebuild may empty the derived tables with ``TRUNCATE`` and drop their
    indexes: on SQLite always; on PostgreSQL if its role owns them (both need the owner) and
    it gets their ``ACCESS EXCLUSIVE`` lock within :data:`REBUILD_LOCK_WAIT_MS`. A reader in a
    long transaction would otherwise hold the rebuild up, and every new reader queued behind
    the rebuild's lock request with it; so past that wait the rebuild goes online instead."""
    if conn.dialect.name != "postgresql":
        return True
    if not conn.exec_driver_sql(_OWNED).scalar():
        return False
    was = conn.exec_driver_sql("SHOW lock_timeout").scalar()
    savepoint = conn.begin_nested()
    try:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {REBUILD_LOCK_WAIT_MS}")
        conn.exec_driver_sql(f"LOCK TABLE {_DERIVED_NAMES} IN ACCESS EXCLUSIVE MODE")
    except DBAPIError as e:
        # lock_not_available; or deadlock_detected: a reader in a transaction (verify's
        # check, say) holding one of the tables and asking for the next behind this request
        if getattr(e.orig, "sqlstate", None) not in ("55P03", "40P01"):
            raise
        savepoint.rollback()
        return False
    savepoint.commit()
    conn.exec_driver_sql("SELECT set_config('lock_timeout', %s, true)", (str(was),))
    return True


def _by_chain(
    conn: Connection,
    exclusive: bool,
    targets: set[str],
    progress: Callable[[int], None] | None,
    total: int,
) -> tuple[int, tuple[int, str] | None] | None:
    """A rebuild's fold by chain (``projections.chainfold``), in a savepoint: None, and
    nothing written, if a partition would not fit in memory (:class:`Skewed`)."""
    # before the savepoint: PostgreSQL exports no snapshot from one
    later = later_part(conn, total, _rows_after)
    rows = _rows_after(conn, 0) if later is None else _rows_after(conn, 0, later.after)
    savepoint = conn.begin_nested()
    try:
        deferred = _indexes_deferred(conn, exclusive, chain=True)
        with deferred, _page_cache(conn, REBUILD_CACHE_KIB):
            done = fold_by_chain(conn, rows, targets, progress=progress, total=total, later=later)
    except Skewed:
        savepoint.rollback()
        return None
    savepoint.commit()
    # the window fold refreshes them as it goes; this one reads nothing back
    refresh_statistics(conn, _DERIVED_ANALYZED)
    return done


def _lookups_by_index(conn: Connection) -> None:
    """For the rest of a rebuild's transaction, let PostgreSQL join a window's few hundred keys
    to ``belief_stances`` only by its indexes. Costed with a cold cache, a hash join of the
    whole table (hashed anew for every window) looks cheaper than a few hundred index lookups
    until the table holds about a million rows; in fact the pages are cached and the lookups
    are far faster (at 100k events, one run each on a loaded machine: the revisions of the
    20 windows took 1.54 s, 0.51 s with this)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")


def _drop_indexes(conn: Connection, names: Sequence[str]) -> list[Index]:
    indexes = [i for i in belief_stances.indexes if i.name in names]
    for index in indexes:
        index.drop(conn)
    return indexes


def _wipe(conn: Connection, *, truncate: bool = False) -> None:
    """Empty the derived tables. ``truncate`` (PostgreSQL): with ``TRUNCATE``, which gives
    them new, empty files: a ``DELETE`` leaves every old row and index entry in place until a
    vacuum, and each row a rebuild inserts then checks its key against the dead one it
    replaces (at 100k events, the rebuild's inserts took 4.8 s after a ``DELETE``, 1.5 s
    after a ``TRUNCATE``). It takes the tables' ``ACCESS EXCLUSIVE`` lock."""
    if truncate and conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"TRUNCATE {_DERIVED_NAMES}")
    else:
        for table in DERIVED:
            conn.execute(delete(table))
    conn.execute(
        insert(belief_checkpoint).values(name=NAME, position=0, hash=GENESIS, policy=FORMAT)
    )


def _stable(known_at: datetime | None, head_at: int | None, clock: datetime) -> datetime:
    """The transaction time an answer is given for: ``known_at``, but never later than the
    last committed event (``head_at``), and that event's time when none was asked for.

    A write takes its ``recorded_at`` when it starts and becomes visible when it commits, and
    the store gives every write a later ``recorded_at`` than the last committed one. So nothing
    committed later can be recorded at or before ``head_at``, and an answer for ``head_at`` is
    final; an answer for a later instant is not (a write in flight may yet be recorded before
    it), so it is given, and labelled, for ``head_at``. See docs/concepts.md, "Answers that
    never change".
    """
    if head_at is None:
        return known_at or clock
    if known_at is None or to_micros(known_at) > head_at:
        return from_micros(head_at)
    return known_at
