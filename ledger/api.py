"""The public entry point: :class:`Ledger`, opened from a database URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

import attrs
from sqlalchemy import make_url

from ledger import proofs, redaction
from ledger.errors import DamagedDatabase, InvalidRecord, NotFound
from ledger.events import (
    Event,
    PropositionDefined,
    SourceRegistered,
    proposition_stream,
    source_stream,
    statement_stream,
)
from ledger.jsonl import exporter, importer
from ledger.jsonl.importer import ImportReport
from ledger.proofs import chain_checkpoint, read_checkpoint
from ledger.records import AppendResult, Head, RecordedEvent, VerifyReport
from ledger.redaction import Redaction
from ledger.store import migrate, privileges
from ledger.store.append import BatchesResult
from ledger.store.backends import DEFAULT_URL, make_engine
from ledger.store.eventstore import EventStore
from ledger.store.redact import scrub_file
from ledger.store.retry import RetryPolicy
from ledger.times import TimeLike, end_of_day, to_micros, utc_now
from ledger.transparency.note import SigningKey
from ledger.transparency.offline import ConsistencyProof, InclusionProof, VerifierKey
from projections import catalog
from projections import fold as reference
from projections.audit import AuditReplay, replay
from projections.beliefs import BeliefState
from projections.check import check
from projections.materialized import MaterializedProjection
from projections.policies import PolicyLog
from projections.ratings import Ratings, rated
from projections.rules import DEFAULT_POLICY, BeliefPolicy, PolicyChoice, chosen
from projections.timeline import Change, Transition, diff, intervals, transitions
from projections.track import TrackRecord, from_projection, ranked


class Ledger:
    """An append-only, hash-chained, bitemporal ledger of claims.

    >>> from ledger import Ledger, SourceRegistered
    >>> with Ledger.open("sqlite://") as lg:
    ...     _ = lg.append([SourceRegistered("kcna", "Korean Central News Agency", "state_media")])
    ...     print(lg.verify().ok, lg.head().position)
    True 1
    """

    def __init__(self, store: EventStore, url: str, policy: BeliefPolicy = DEFAULT_POLICY):
        self.store = store
        self.url = url
        self.policy = policy
        self.projection = MaterializedProjection(store, policy)
        #: The policy records and the policy in force at each known_at (issue 13).
        self.policies = PolicyLog(store, policy)

    @classmethod
    def open(
        cls,
        url: str | os.PathLike[str] = DEFAULT_URL,
        *,
        clock: Callable[[], datetime] = utc_now,
        policy: BeliefPolicy = DEFAULT_POLICY,
        retry: RetryPolicy | None = None,
        create: bool = True,
    ) -> Ledger:
        """Open (creating if needed) the ledger at ``url`` and migrate its schema to head.

        ``clock`` is where ``recorded_at`` comes from; tests pass a fake one. It is never the
        caller's say per event: transaction time belongs to the ledger. ``policy`` decides
        beliefs; the materialized projection is rebuilt if it was built with another policy.
        ``retry`` says how long a writer keeps trying when other writers hold the lock.
        With ``create=False`` a database that holds no ledger yet is an error (:class:`NotFound`)
        instead of being created: what a reader wants when a mistyped path is likelier than
        a new ledger. A bare file path (``x.db``: no ``scheme://``) is that SQLite file, as
        ``sqlite:///x.db`` is (see ``ledger.api.database_url``). An open that fails (a
        migration a reader may not run, a damaged file) leaves no connection open.
        """
        url = database_url(url)
        _require_directory(url)
        if not create:
            _require_existing(url)
        engine = make_engine(url)
        retry = retry or RetryPolicy()
        if not create and migrate.schema_revision(engine) is None:
            engine.dispose()
            raise NotFound(f"no ledger at {url}: create one with `factledger init` or an import")
        try:
            retry.run(lambda: migrate.upgrade(engine))
            return cls(EventStore(engine, clock=clock, retry=retry), url, policy)
        except BaseException:
            engine.dispose()  # no connection left open behind an error
            raise

    def close(self) -> None:
        self.store.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def now(self) -> datetime:
        """The ledger clock's current time: the default ``as_of`` and ``known_at``."""
        return self.store.clock()

    # -- the log -------------------------------------------------------------------------

    def append(
        self, events: Iterable[Event], *, expected_versions: Mapping[str, int] | None = None
    ) -> AppendResult:
        """Append one atomic batch; the belief projection is updated in the same transaction."""
        return self.store.append(
            events, expected_versions=expected_versions, within=self.projection.catch_up
        )

    def append_batches(
        self, batches: Iterable[Sequence[Event]], *, checked_at: Head | None = None
    ) -> BatchesResult:
        """Append several batches in ONE transaction, all or nothing, one batch in memory at a
        time; the belief projection catches up after each batch, in the same transaction. Lock
        contention retries the whole transaction by iterating ``batches`` again (pass a list or
        a re-iterable object, not a generator, to have that). See ``EventStore.append_batches``
        (and for ``checked_at``, what a caller that checked the batches already may claim).
        """
        return self.store.append_batches(
            batches, within=self.projection.catch_up, checked_at=checked_at
        )

    def read(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        stream_id: str | None = None,
        known_at: TimeLike | None = None,
    ) -> Iterator[RecordedEvent]:
        """Stream stored events in log order; see :meth:`EventStore.read`."""
        cutoff = None if known_at is None else end_of_day(known_at, field="known_at")
        return self.store.read(after=after, until=until, stream_id=stream_id, known_at=cutoff)

    def head(self) -> Head:
        return self.store.head()

    def stream_version(self, stream_id: str) -> int:
        return self.store.stream_version(stream_id)

    def verify(
        self,
        checkpoint: tuple[int, str] | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> VerifyReport:
        """Re-read the whole log and check every hash, link and position (streaming); then
        prove the derived tables are exactly what the log implies (``projections.check``).
        ``progress(done, total)`` is called as it goes: the log's events once for the chain
        and the Merkle tree (one read serves both; a log that fails either is read again to
        name the fault, and the count starts over) and once more for the fold of the derived
        tables' check, so ``total`` is twice the events."""
        count: Callable[[int], None] | None = None
        derived_count: Callable[[int], None] | None = None
        if progress is not None:
            total = 2 * self._last_position()
            count = lambda done: progress(done, total)  # noqa: E731
            derived_count = lambda done: progress(total // 2 + done, total)  # noqa: E731
        report = self.store.verify(checkpoint, progress=count)
        if not report.ok:
            return report
        try:
            derived = check(self.store, derived_count)
        except DamagedDatabase as e:  # a derived table or column gone: damage, not a crash
            return attrs.evolve(report, ok=False, problem=f"derived tables damaged: {e}")
        if derived.ok:
            return report
        return attrs.evolve(report, ok=False, problem=derived.problem)

    def _last_position(self) -> int:
        """For a progress bar's total: 0 when even the last position cannot be read, or is
        not a number (verify then reports what is wrong with the log, as without a bar)."""
        try:
            return self.store.last_position()
        except (DamagedDatabase, ValueError):
            return 0

    def import_jsonl(
        self,
        source: str | Path | IO[str] | IO[bytes],
        *,
        name: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        chunk_size: int | None = None,
        atomic: bool = False,
        max_line: int | None = None,
        max_size: int | None = None,
    ) -> ImportReport:
        """Validate a JSON Lines file whole, then append it: in one transaction up to
        ``importer.AUTO_CHUNK`` records, in atomic chunks of that many beyond (re-running an
        interrupted import resumes it). ``chunk_size`` sets the chunk size; ``atomic=True``
        makes any file one transaction. ``max_line`` and ``max_size`` bound a line and the
        whole input, in bytes (defaults ``importer.MAX_LINE`` and ``importer.MAX_SIZE``). The
        input is streamed: memory holds one chunk. See ``ledger.jsonl.importer``."""
        if atomic and chunk_size is not None:
            raise InvalidRecord("give atomic=True or a chunk_size, not both", field="chunk_size")
        return importer.import_jsonl(
            self,
            source,
            name=name,
            progress=progress,
            chunk_size=importer.WHOLE_FILE if atomic else chunk_size,
            max_line=max_line,
            max_size=max_size,
        )

    def export_jsonl(self, out: IO[str], *, known_at: TimeLike | None = None) -> int:
        """Write the log as JSON Lines in the import format; see ``ledger.jsonl.exporter``."""
        return exporter.export_jsonl(self, out, known_at=known_at)

    def export_csv(self, out: IO[str], *, known_at: TimeLike | None = None) -> int:
        """Write every statement, as corrected, as CSV; see ``ledger.jsonl.exporter``."""
        return exporter.export_csv(self, out, known_at=known_at)

    def history(self, proposition: str, *, known_at: TimeLike | None = None) -> list[RecordedEvent]:
        """The raw events about ``proposition`` in log order, as known at ``known_at``: its
        definition, and every event of every statement that stood under it at some transaction
        time (the statement, wherever it was first filed, and all its corrections).

        Index lookups (the stance rows, then each statement's stream), not a scan of the log. A
        statement filed under the proposition and moved away (or withdrawn) in the transaction
        that filed it never stood under it: it is in the history of the one it stood under.
        """
        k = self._bound(known_at)
        ids = catalog.statement_ids(
            self.store.engine, proposition, None if k is None else to_micros(k)
        )
        streams = [proposition_stream(proposition), *map(statement_stream, ids)]
        found = self.store.read_streams(streams, known_at=k)
        if not found:
            raise NotFound(f"no proposition {proposition!r} in the ledger")
        return found

    def sources(self, *, known_at: TimeLike | None = None) -> list[SourceRegistered]:
        """Every source registered (by ``known_at``), in log order: an indexed lookup per
        source, not a scan of the log."""
        k = self._bound(known_at)
        ids = catalog.source_ids(self.store.engine, None if k is None else to_micros(k))
        found = self.store.read_streams(map(source_stream, ids), known_at=k, first=True)
        return [r.event for r in found if isinstance(r.event, SourceRegistered)]

    def propositions(self, *, known_at: TimeLike | None = None) -> list[PropositionDefined]:
        """Every proposition defined (by ``known_at``), in log order: an indexed lookup per
        proposition, not a scan of the log."""
        k = self._bound(known_at)
        ids = catalog.proposition_ids(self.store.engine, None if k is None else to_micros(k))
        found = self.store.read_streams(map(proposition_stream, ids), known_at=k, first=True)
        return [r.event for r in found if isinstance(r.event, PropositionDefined)]

    def beliefs(
        self,
        *,
        as_of: TimeLike | None = None,
        known_at: TimeLike | None = None,
        policy: PolicyChoice | None = None,
    ) -> list[BeliefState]:
        """What was believed about every proposition as of ``as_of``, as known at
        ``known_at`` (both default to now), in proposition id order: one pass over the
        projection for all of them, not a question per proposition."""
        a, k = self._times(as_of, known_at)
        verdicts = self.projection.verdicts_at(a, k, self._deciding(k, policy))
        return [BeliefState(p, a, k, verdicts[p]) for p in sorted(verdicts)]

    # -- beliefs -------------------------------------------------------------------------

    def believed(
        self,
        proposition: str,
        *,
        as_of: TimeLike | None = None,
        known_at: TimeLike | None = None,
        via: Literal["projection", "fold"] = "projection",
        policy: PolicyChoice | None = None,
    ) -> BeliefState:
        """What was believed about ``proposition`` as of ``as_of`` (valid time), as the ledger
        knew it at ``known_at`` (transaction time). A bare date means through the end of that
        day, UTC; both default to now.

        ``via="fold"`` answers from the reference fold (replays the log: O(n)) instead of the
        materialized projection (an indexed lookup). They agree; the tests prove it.

        The policy in force at the answer's ``known_at`` decides (the latest policy record by
        then, on this ledger's own policy; ``answer.policy`` names it). ``policy`` decides
        instead, for a what-if answer that records nothing: rules (a ``BeliefPolicy``) or a
        policy record (a ``PolicySet``) applied as a recorded one would be.
        """
        if via == "fold":
            a, k = self._times(as_of, known_at)
            return reference.believed(
                self.store.read(known_at=k),
                proposition,
                as_of=a,
                known_at=k,
                policy=self.policy,
                what_if=policy,
            )
        a_given = None if as_of is None else end_of_day(as_of, field="as_of")
        k_given = None if known_at is None else end_of_day(known_at, field="known_at")
        deciding: Callable[[datetime], BeliefPolicy] = self.policies.at
        if policy is None:
            self.policies.prime()
        else:
            what_if = chosen(self.policy, policy)
            deciding = lambda _known: what_if  # noqa: E731
        return self.projection.believe(proposition, a_given, k_given, self.now, deciding)

    def policy_in_force(
        self, *, known_at: TimeLike | None = None, policy: PolicyChoice | None = None
    ) -> BeliefPolicy:
        """The policy that decides a question asked as known at ``known_at`` (default: now):
        the latest policy record by then applied to this ledger's own policy (or, given,
        ``policy`` as a ``policy=`` argument names it)."""
        _, k = self._times(None, known_at)
        return self._deciding(k, policy)

    def policy_records(self, *, known_at: TimeLike | None = None) -> list[RecordedEvent]:
        """Every policy record recorded by ``known_at`` (default: now), oldest first: the last
        is the one in force then."""
        _, k = self._times(None, known_at)
        return self.policies.history(k)

    def ratings(
        self, state: BeliefState, *, grades: bool = True, policy: PolicyChoice | None = None
    ) -> Ratings:
        """An answer's ratings (``projections.ratings``): the information credibility (1-6) of
        ``state`` and, with ``grades``, each live stance's source graded by its earned track
        record as of the answer's own ``as_of`` and ``known_at`` (a track record of every
        source: see :meth:`track_records`)."""
        if not grades:
            return rated(state)
        records = self.track_records(as_of=state.as_of, known_at=state.known_at, policy=policy)
        return rated(state, records)

    def track_records(
        self,
        *,
        as_of: TimeLike | None = None,
        known_at: TimeLike | None = None,
        policy: PolicyChoice | None = None,
    ) -> list[TrackRecord]:
        """Every source's track record as of ``as_of`` (valid time), as known at ``known_at``,
        most reliable first: one pass over the projection's stance rows. See
        ``projections.track`` and docs/belief-rules.md, "Track records"."""
        a, k = self._times(as_of, known_at)
        return ranked(from_projection(self.projection, self._deciding(k, policy), a, k).values())

    def track_record(
        self,
        source: str,
        *,
        as_of: TimeLike | None = None,
        known_at: TimeLike | None = None,
        policy: PolicyChoice | None = None,
    ) -> TrackRecord:
        """One source's track record, proposition by proposition (see :meth:`track_records`)."""
        a, k = self._times(as_of, known_at)
        deciding = self._deciding(k, policy)
        found = from_projection(self.projection, deciding, a, k, source=source).get(source)
        if found is None:
            raise NotFound(f"no source {source!r} in the ledger (as known at that time)")
        return found

    def _deciding(self, k: datetime, policy: PolicyChoice | None) -> BeliefPolicy:
        """The policy for a question as known at ``k``: ``policy`` if given, else the one in
        force then."""
        return self.policies.at(k) if policy is None else chosen(self.policy, policy)

    def timeline(
        self,
        proposition: str,
        *,
        known_at: TimeLike | None = None,
        every_change: bool = False,
        policy: PolicyChoice | None = None,
    ) -> list[Transition]:
        """Every status transition of ``proposition`` in valid time, with the statements that
        caused it, as known at ``known_at``. ``every_change`` also lists changes of supporters
        or estimates that left the status as it was."""
        _, k = self._times(None, known_at)
        judged = intervals(self.projection, proposition, k, self._deciding(k, policy))
        return transitions(judged, every_change=every_change)

    def diff(
        self,
        as_of_a: TimeLike,
        as_of_b: TimeLike,
        *,
        known_at: TimeLike | None = None,
        every_change: bool = False,
        policy: PolicyChoice | None = None,
    ) -> list[Change]:
        """Every proposition whose status or estimates differ between two valid times, and why.
        ``every_change`` also lists those whose status and estimates stayed but whose verdict
        changed (a new supporter or denier, a retraction), as ``timeline`` does."""
        a, k = self._times(as_of_a, known_at)
        b = end_of_day(as_of_b, field="as_of_b")
        return diff(
            self.projection,
            a,
            b,
            k,
            every_change=every_change,
            policy=self._deciding(k, policy),
        )

    def replay(self, known_at: TimeLike) -> AuditReplay:
        """The audit view: every belief as the ledger would have answered at ``known_at``,
        recomputed from the verified log prefix, with that prefix's last position and hash.

        The prefix is verified and folded before this returns; the beliefs are compared with
        the projection's as they are handed out (:attr:`AuditReplay.beliefs`, an iterator, a
        slice of propositions at a time), so the replay of a large ledger holds the fold and
        one slice, never every belief. ``replay(t).ok`` runs that comparison without keeping
        the beliefs; ``for b in audit.beliefs`` gets each as it is compared, and ``ok`` and
        ``mismatches`` are ready after the last."""
        _, k = self._times(None, known_at)
        return replay(self.store, self.projection, self.policy, k, self.policies.at(k))

    def grant_writer(self, role: str) -> None:
        """PostgreSQL: let ``role`` append and read, never alter or remove an event (idempotent;
        the role is created if needed). See ``ledger.store.privileges``."""
        privileges.grant_writer(self.store.engine, role)

    def grant_reader(self, role: str) -> None:
        """PostgreSQL: let ``role`` read the log and the projections, and nothing else."""
        privileges.grant_reader(self.store.engine, role)

    def grant_redactor(self, role: str) -> None:
        """PostgreSQL: what :meth:`grant_writer` grants, and the one removal a writer never
        holds: replacing a redacted event's payload and deleting its salt (:meth:`redact`)."""
        privileges.grant_redactor(self.store.engine, role)

    # -- redaction (issue 15; see ledger.redaction and docs/proofs.md) -----------------------

    def redact(self, ident: str, *, reason: str, by: str, scrub: bool = True) -> Redaction:
        """Remove the free text of one event (event id, ``TYPE/KEY`` or record id): a
        :class:`~ledger.events.RedactionMade` is appended (who, why; its ``recorded_at`` says
        when) and, in the same transaction, the event's payload becomes what the redaction
        leaves of it and its salt is deleted. Every checkpoint and proof stays valid, and
        ``verify`` still passes. ``scrub`` (SQLite): then rewrite the database file so the text
        is in none of its pages (:meth:`scrub`). On PostgreSQL see docs/proofs.md for what the
        server may still hold."""
        (done,) = self.redact_all([ident], reason=reason, by=by, scrub=scrub)
        return done

    def redact_all(
        self, idents: Sequence[str], *, reason: str, by: str, scrub: bool = True
    ) -> list[Redaction]:
        """:meth:`redact` for several events in one transaction, all or none, and one scrub."""
        done = redaction.redact(
            self.store, idents, reason=reason, by=by, within=self.projection.catch_up
        )
        if scrub:
            self.scrub()
        return done

    def redactions(self, known_at: TimeLike | None = None) -> list[Redaction]:
        """Every redaction recorded by ``known_at`` (default: all), oldest first."""
        return redaction.redactions(self.store, known_at=self._bound(known_at))

    def scrub(self) -> bool:
        """SQLite: rewrite the database file (``VACUUM``, then truncate the write-ahead log) so
        that no page, free page or log frame still holds text removed from it. Returns False
        on PostgreSQL, which cannot promise that (docs/proofs.md, *Redaction*)."""
        return scrub_file(self.store.engine)

    # -- proofs (issue 15; see ledger.proofs and docs/proofs.md) ---------------------------

    def checkpoint_note(self, key: SigningKey) -> str:
        """The ledger's checkpoint now as a C2SP signed note by ``key`` (origin: its name):
        tree size, Merkle root, and the chain head as a ``factledger-chain POS:HASH`` line."""
        return proofs.checkpoint_note(self.store, key)

    def prove(
        self, ident: str, checkpoint: str, *, keys: Sequence[VerifierKey] = ()
    ) -> InclusionProof:
        """The inclusion proof of one event (event id, ``TYPE/KEY`` or record id) against the
        signed ``checkpoint`` note (checked against ``keys`` when given), with the event as
        stored and its salt: ``proof.verify(keys, require_event=True)`` checks it offline."""
        return proofs.prove(self.store, ident, checkpoint, keys)

    def prove_consistency(
        self, old: str, new: str, *, keys: Sequence[VerifierKey] = ()
    ) -> ConsistencyProof:
        """The proof that checkpoint note ``new`` extends ``old``, both of this ledger."""
        return proofs.consistency(self.store, old, new, keys)

    def verify_checkpoint(
        self, checkpoint: str, *, keys: Sequence[VerifierKey] = ()
    ) -> VerifyReport:
        """:meth:`verify`, and that the ledger still extends the signed ``checkpoint`` note: its
        tree of that size has the note's root and its chain the note's head (signature checked
        against ``keys`` when given)."""
        cp = read_checkpoint(checkpoint, keys)
        return proofs.extends(self.store, cp, self.verify(chain_checkpoint(cp)))

    def rebuild(
        self, *, online: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Recompute the materialized projection from the whole log, in one transaction;
        returns the events folded. ``progress(done, total)`` is called as it goes.

        On PostgreSQL, a rebuild by the owner of the projection's tables has them to itself:
        readers of the projection wait until it commits (on SQLite they never wait). If
        readers must go on reading the previous rows meanwhile, pass ``online=True`` (about
        1.3 times as long at 100k events); a role that does not own the tables, or that
        cannot get them to itself within two seconds, rebuilds online anyway. See
        docs/concepts.md, "Rebuilding the projection"."""
        return self.projection.rebuild(online=online, progress=progress)

    def _bound(self, known_at: TimeLike | None) -> datetime | None:
        """``known_at`` as an instant (None: no bound), with the projection caught up."""
        self.projection.ensure_current()
        return None if known_at is None else end_of_day(known_at, field="known_at")

    def answered_at(self, known_at: TimeLike | None = None) -> datetime:
        """The transaction time an answer asked now is given for: ``known_at`` (a bare date:
        the end of that day), but never later than the last committed event, and that event's
        time when none is given (an empty ledger: now). A write in flight may yet be recorded
        at any later instant, so only these answers are final: see docs/concepts.md, "Answers
        that never change"."""
        return self._capped(known_at, self.store.head().recorded_at) or self.now()

    @staticmethod
    def _capped(known_at: TimeLike | None, recorded: datetime | None) -> datetime | None:
        """``known_at``, never later than ``recorded`` (the last committed event's time);
        ``recorded`` when none is given (None on an empty ledger)."""
        k = None if known_at is None else end_of_day(known_at, field="known_at")
        return recorded if recorded is not None and (k is None or k > recorded) else k

    def _times(
        self, as_of: TimeLike | None, known_at: TimeLike | None
    ) -> tuple[datetime, datetime]:
        a = None if as_of is None else end_of_day(as_of, field="as_of")
        recorded = self.store.head().recorded_at
        k = self._capped(known_at, recorded)
        if a is None or k is None:
            # Never earlier than the last recorded event, even if the clock has stepped back.
            now = self.now() if recorded is None else max(self.now(), recorded)
            a, k = a or now, k or now
        return a, k


def database_url(target: str | os.PathLike[str]) -> str:
    """``target`` as a database URL: a URL (``scheme://...``) as it is, a bare file path
    (``x.db``, ``data/claims.db``) as the SQLite file there (``sqlite:///x.db``)."""
    text = os.fspath(target)
    return text if "://" in text or not text else f"sqlite:///{text}"


def _require_directory(url: str) -> None:
    """A SQLite file's directory must exist: SQLite itself says only "unable to open"."""
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or path in (None, "", ":memory:"):
        return
    folder = Path(str(path)).parent
    if not str(path).startswith("file:") and not folder.is_dir():
        raise NotFound(f"cannot open the ledger at {path}: the directory {folder} does not exist")


def _require_existing(url: str) -> None:
    parsed = make_url(url)
    path = parsed.database
    on_disk = parsed.get_backend_name() == "sqlite" and path not in (None, "", ":memory:")
    if on_disk and not Path(str(path)).exists():
        raise NotFound(f"no ledger at {path}: create one with `factledger init` or an import")
