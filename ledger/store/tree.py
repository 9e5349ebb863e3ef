"""The Merkle tree over the log, kept in step with it (issue 15, phase 2).

Leaf ``i`` is the event at position ``i + 1``, as :func:`ledger.transparency.offline.event_leaf`
defines its bytes (the event's metadata and a salted digest of its payload). Each event's salt
(16 random bytes) is stored in ``event_salts``, keyed by position, beside the event; the tree's
nodes in ``merkle_nodes`` (:mod:`ledger.store.merkle`).

* :func:`extend` runs in every append transaction, after the events are written: it stores the
  new events' salts and appends their leaves, so the tree and the log commit together.
* :func:`catch_up` builds the leaves the tree lacks from the log, checking the hash chain of
  every row it turns into a leaf (its link to the row before and its recomputed hash); it stops
  at the first row that does not verify. Migration 0007 runs it once for a ledger written before
  the tree existed, and :func:`extend` runs it when it finds the tree behind the log (rows
  written by other means). So every leaf covers a row whose chain verified when the leaf was
  made: the continuity between the chain and the tree (docs/proofs.md, "Old ledgers").
* :func:`tree_problem` recomputes every leaf from the log, and every node above them, and
  compares each with the stored node of the same place, then the root (what
  :meth:`~ledger.store.eventstore.EventStore.verify` adds to the chain check; :class:`Leaves`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, LargeBinary, Table, func, select

from ledger import hashing
from ledger.errors import InvalidRecord, NotFound
from ledger.events import EVENT_NAMESPACE, EVENT_TYPES
from ledger.store import bulk, driver
from ledger.store.backends import placeholder
from ledger.store.merkle import (
    NodeTable,
    TreeOutOfStep,
    append_leaves,
    merkle_nodes,
    root_at,
    tree_size,
)
from ledger.store.schema import EVENT_COLUMNS, Position, metadata
from ledger.store.schema import events as t
from ledger.transparency.merkle import (
    MissingNode,
    NodeId,
    fold,
    hashes_of,
    inclusion_ranges,
    leaf_hash,
    stored_count,
    stored_index,
)
from ledger.transparency.offline import SALT_SIZE, event_leaf, payload_digest

event_salts = Table(
    "event_salts",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("salt", LargeBinary(SALT_SIZE), nullable=False),
)

#: Rows read per statement when building or checking the tree from the log.
PAGE = 5_000
#: Stored nodes read per statement when checking the tree (about two a row).
NODE_PAGE = 10_000
_IN_CHUNK = 500  # stored leaf hashes read per statement when looking for a wrong leaf


def leaf_of_row(row: Sequence[Any], salt: bytes) -> bytes:
    """The leaf of a stored event: ``row`` in :data:`ledger.store.schema.EVENT_COLUMNS` order."""
    return leaf_with_digest(row, payload_digest(salt, row[7]))


def leaf_with_digest(row: Sequence[Any], digest: str) -> bytes:
    """The leaf of a stored event from its metadata and its payload's salted digest (all a
    redacted event has left: its redaction recorded the digest)."""
    position, event_id, stream_id, version, type_, stated, recorded = row[:7]
    return event_leaf(
        position=position,
        event_id=event_id,
        stream_id=stream_id,
        stream_version=version,
        type=type_,
        stated_at=stated,
        recorded_at=recorded,
        payload_digest=digest,
    )


def new_salts(count: int) -> list[bytes]:
    """``count`` fresh random salts (one system call)."""
    pool = os.urandom(SALT_SIZE * count)
    return [pool[i : i + SALT_SIZE] for i in range(0, len(pool), SALT_SIZE)]


def extend(conn: Connection, before: int, rows: Sequence[tuple[Any, ...]]) -> None:
    """Store salts and leaves for ``rows`` (tuples in ``COLUMNS`` order, positions ``before + 1``
    on), in the caller's append transaction. A tree behind ``before`` is caught up first; a tree
    that cannot be (a row that does not verify), or that is ahead of the log, is a
    :class:`TreeOutOfStep` and nothing is appended."""
    if not rows:
        return
    stored = tree_size(conn)
    if stored < before:
        stored = catch_up(conn, stored, before)
    if stored != before:
        raise TreeOutOfStep(_out_of_step(stored, before))
    salts = new_salts(len(rows))
    pairs = list(zip(rows, salts, strict=True))
    bulk.insert_many(conn, "event_salts", ("position", "salt"), [(r[0], s) for r, s in pairs])
    append_leaves(conn, before, [leaf_of_row(r, s) for r, s in pairs], checked=True)


def _out_of_step(stored: int, log: int) -> str:
    if stored > log:
        return (
            f"the Merkle tree has {stored} leaves but the log ends at position {log}: events "
            "were removed outside the ledger; nothing can be appended (run `factledger verify`)"
        )
    return (
        f"the Merkle tree stops at {stored} leaves: the event at position {stored + 1} does not "
        "verify, so it cannot be added to the tree (run `factledger verify`)"
    )


def _rows_with_salts(conn: Connection, after: int, until: int) -> Iterator[Sequence[Any]]:
    """The rows at positions ``(after, until]`` with their salt (None when none is stored), a
    page per statement."""
    columns = [t.c[name] for name in _COLUMNS]
    while after < until:
        last = min(after + PAGE, until)
        query = (
            select(*columns, event_salts.c.salt)
            .select_from(t.outerjoin(event_salts, event_salts.c.position == t.c.position))
            .where(t.c.position > after, t.c.position <= last)
            .order_by(t.c.position)
        )
        yield from conn.execute(query).all()
        after = last


_COLUMNS = EVENT_COLUMNS


def catch_up(conn: Connection, size: int, until: int) -> int:
    """Add leaves for the log's rows at positions ``size + 1`` to ``until`` to the stored tree of
    ``size`` leaves, checking each row's chain link and hash first; stop at the first row that
    does not verify. A row without a salt (written before the tree existed) gets one. Returns
    the tree's new size."""
    if size == 0:
        prev = hashing.GENESIS
    else:
        prev = conn.execute(select(t.c.hash).where(t.c.position == size)).scalar() or ""
    done = size
    leaves: list[bytes] = []
    salts: list[tuple[int, bytes]] = []
    for row in _rows_with_salts(conn, size, until):
        if not _chained(row, done + 1, prev):
            break
        salt = row[10]
        if salt is None:
            salt = os.urandom(SALT_SIZE)
            salts.append((row[0], salt))
        leaves.append(leaf_of_row(row, bytes(salt)))
        prev, done = row[9], done + 1
        if len(leaves) >= PAGE:
            _flush(conn, done - len(leaves), leaves, salts)
    _flush(conn, done - len(leaves), leaves, salts)
    return done


def _flush(
    conn: Connection, size: int, leaves: list[bytes], salts: list[tuple[int, bytes]]
) -> None:
    bulk.insert_many(conn, "event_salts", ("position", "salt"), salts)
    if leaves:
        append_leaves(conn, size, leaves)
    leaves.clear()
    salts.clear()


def _chained(row: Sequence[Any], position: int, prev: str) -> bool:
    """Whether ``row`` is the event at ``position`` linking to ``prev`` with its own hash right."""
    pos, event_id, stream, version, type_, stated, recorded, payload, link, digest = row[:10]
    if pos != position or link != prev:
        return False
    try:
        found = hashing.row_hash(
            prev, pos, event_id, stream, version, type_, stated, recorded, payload
        )
    except Exception:  # a damaged row (a NULL, a wrong type): it does not verify
        return False
    return bool(found == digest)


def tree_problem(
    conn: Connection, until: int, redacted: Mapping[int, str] | None = None
) -> tuple[int, str] | None:
    """Recompute the leaves of the log up to ``until`` (or as far as the stored tree goes, if it
    is shorter) and compare their root with the stored nodes'; the first position at fault and
    why, or None when they agree. ``redacted``: the payload digest each redaction recorded, by
    the position it redacted (a redacted row has neither its payload nor its salt)."""
    try:
        size = min(tree_size(conn), until)
    except TreeOutOfStep as e:  # the node table's ids are not those of any tree
        return 1, f"{e}: nodes were removed or added outside the ledger"
    leaves = Leaves(conn, size, redacted or {})
    for _ in leaves.fed(_rows_with_salts(conn, 0, size)):
        if leaves.problem is not None:
            return leaves.problem
    return leaves.compared(size)


class Leaves:
    """The Merkle tree recomputed from the log's rows as they stream by: each row's leaf, folded
    into the right edge of the tree they make (an appender's frontier: ``log2(n)`` hashes, not
    ``n``), and every node that makes (the leaf's hash, then each subtree it completes) set
    against the stored node of the same id, read a page at a time in id order beside the rows.
    Nodes are stored in exactly the order an appender makes them (``stored_index``), so this
    reads the node table once, in key order, and any stored node that was edited, removed or
    never written is found, not only those the root is made from.

    :meth:`fed` passes the rows on (``EventStore.verify`` checks the hash chain on the same
    stream, so the log is read once for both checks); :meth:`compared` then sets the root
    against the stored tree's. ``problem`` is the first fault found (a row that cannot make a
    leaf: no salt, and no redaction recording its digest; or a stored node that differs), after
    which no more leaves are made."""

    def __init__(self, conn: Connection, limit: int, redacted: Mapping[int, str]):
        self.conn = conn  # where the stored nodes are read from
        self.limit = limit  # rows past the stored tree's size make no leaf
        self.redacted = redacted
        self.frontier: list[bytes] = []
        self.done = 0
        self.checked = 0  # nodes compared with the stored ones: the id of the next to compare
        self.pending: list[bytes] = []  # nodes made since, in id order
        self.problem: tuple[int, str] | None = None

    def fed(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        """``rows`` (``events`` columns, then the salt), each yielded after its leaf is made."""
        # Appender's right edge, written out: this loop runs once per event of every verify.
        sha256, leaf, digest = hashlib.sha256, event_leaf, payload_digest
        frontier, redacted, limit, pending = self.frontier, self.redacted, self.limit, self.pending
        done = self.done
        for row in rows:
            if done < limit and self.problem is None:
                position, event_id, stream, version, type_, stated, recorded, payload = row[:8]
                salt = row[10]
                if salt is not None:
                    salted = digest(bytes(salt), payload)
                elif position in redacted:
                    salted = redacted[position]
                else:
                    self.problem = (
                        position,
                        "the event has no salt: its Merkle leaf cannot be recomputed",
                    )
                    yield row
                    continue
                hashed = sha256(
                    b"\x00"
                    + leaf(
                        position=position,
                        event_id=event_id,
                        stream_id=stream,
                        stream_version=version,
                        type=type_,
                        stated_at=stated,
                        recorded_at=recorded,
                        payload_digest=salted,
                    )
                ).digest()
                pending.append(hashed)
                index = done
                while index & 1:
                    hashed = sha256(b"\x01" + frontier.pop() + hashed).digest()
                    index >>= 1
                    pending.append(hashed)
                frontier.append(hashed)
                done += 1
                self.done = done
                if len(pending) >= NODE_PAGE:
                    self._compare_nodes()
            yield row

    def _compare_nodes(self) -> None:
        """Set the nodes made since the last comparison against the stored ones of the same
        ids, read as one list (compared in one step; a difference is then located)."""
        if not self.pending or self.problem is not None:
            return
        first, made = self.checked, self.pending
        if _stored_hashes(self.conn, first, first + len(made)) != b"".join(made):
            self.problem = _node_problem(self.conn, first, made)
        self.checked += len(made)
        made.clear()  # the list fed() appends to

    def compared(self, size: int) -> tuple[int, str] | None:
        """After the rows: None when the leaves of the first ``size`` rows give the stored
        tree's root at ``size``, else the first position at fault and why."""
        self._compare_nodes()
        if self.problem is not None:
            return self.problem
        if self.done != size:
            return self.done + 1, "a row the Merkle tree covers is missing from the log"
        try:
            if fold(self.frontier) == root_at(self.conn, size):
                return None
            return _first_wrong_leaf(self.conn, size, self.redacted)
        except MissingNode as e:
            return _missing(e.node)


def _stored_hashes(conn: Connection, first: int, end: int) -> bytes:
    """The stored hashes of nodes ``first`` to ``end - 1``, in id order, as one string (compared
    in one step with the recomputed ones; a node missing makes it shorter). Some two nodes an
    event: rows through SQLAlchemy cost more than reading them, so SQLite's come through the
    driver's cursor and PostgreSQL joins them into one value."""
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT string_agg(hash, ''::bytea ORDER BY id) FROM merkle_nodes "
            "WHERE id >= %s AND id < %s"
        )
        joined = conn.exec_driver_sql(sql, (first, end)).scalar()
        return b"" if joined is None else bytes(joined)
    sql = "SELECT hash FROM merkle_nodes WHERE id >= ? AND id < ? ORDER BY id"
    return b"".join(bytes(h) for (h,) in driver.rows(conn, sql, (first, end)))


def _node_problem(conn: Connection, first: int, made: Sequence[bytes]) -> tuple[int, str]:
    """Where the stored nodes of ids ``first`` on and the recomputed ``made`` first part, and
    why (the slow path of a failed comparison)."""
    query = (
        select(merkle_nodes.c.id, merkle_nodes.c.hash)
        .where(merkle_nodes.c.id >= first, merkle_nodes.c.id < first + len(made))
        .order_by(merkle_nodes.c.id)
    )
    stored = {int(key): bytes(value) for key, value in conn.execute(query)}
    at = next(k for k, hashed in enumerate(made, first) if stored.get(k) != hashed)
    node = node_of(at)
    if at not in stored:
        return _missing(node)
    if node.level == 0:
        return node.index + 1, (
            "the event's Merkle leaf differs from the one stored when it was appended: "
            "the event, its salt or the tree was edited"
        )
    start = (node.index << node.level) + 1
    return start, (
        f"the Merkle tree's node at level {node.level}, index {node.index} (over the events "
        f"from position {start} on) is not the hash of its children: its node table was "
        "edited outside the ledger"
    )


def node_of(stored: int) -> NodeId:
    """The node whose place in the stored order is ``stored`` (:func:`stored_index` undone):
    appending leaf ``n`` stores its leaf hash, then one node per trailing 1-bit of ``n``."""
    low, high = 0, stored + 1  # the leaf n with stored_count(n) <= stored < stored_count(n + 1)
    while low + 1 < high:
        middle = (low + high) // 2
        if stored_count(middle) <= stored:
            low = middle
        else:
            high = middle
    level = stored - stored_count(low)
    return NodeId(level, low >> level)


def rows_with_salts(conn: Connection, until: int) -> Iterator[Sequence[Any]]:
    """Every row of the log up to position ``until``, its salt as an eleventh column (None when
    none is stored), in position order, a page per statement."""
    return _rows_with_salts(conn, 0, until)


def _first_wrong_leaf(conn: Connection, size: int, redacted: Mapping[int, str]) -> tuple[int, str]:
    """Where a recomputed tree and the stored one part (the slow path of a failed check)."""
    nodes = NodeTable(conn)
    rows = iter(_rows_with_salts(conn, 0, size))
    for start in range(0, size, _IN_CHUNK):
        ids = [NodeId(0, i) for i in range(start, min(start + _IN_CHUNK, size))]
        for node, stored in zip(ids, nodes.hashes(ids), strict=True):
            row = next(rows)
            if leaf_hash(_leaf(row, redacted)) != stored:
                return node.index + 1, (
                    "the event's Merkle leaf differs from the one stored when it was appended: "
                    "the event, its salt or the tree was edited"
                )
    return 1, "the Merkle tree's interior nodes were edited: its root is not the leaves' root"


def _missing(node: NodeId) -> tuple[int, str]:
    """A node the root or a leaf's check needs is not stored: where, and why."""
    where = node.index + 1 if node.level == 0 else 1  # a leaf is its event's; else no event's
    return where, (
        f"the Merkle tree has no node at level {node.level}, index {node.index}: its node table "
        "was edited outside the ledger"
    )


def _leaf(row: Sequence[Any], redacted: Mapping[int, str]) -> bytes:
    """A row's leaf, through the digest its redaction recorded when its salt is gone."""
    if row[10] is not None:
        return leaf_of_row(row, bytes(row[10]))
    return leaf_with_digest(row, redacted.get(row[0], ""))


# -- reading checkpoints and proofs ----------------------------------------------------------


def chain_hash_at(conn: Connection, position: int) -> str:
    """The hash-chain hash of the event at ``position`` (the genesis hash at 0)."""
    if position == 0:
        return hashing.GENESIS
    found = conn.execute(select(t.c.hash).where(t.c.position == position)).scalar()
    if found is None:
        raise TreeOutOfStep(f"the log has no event at position {position}")
    return str(found)


def head_position(conn: Connection) -> int:
    """The log's last position (0 when it is empty)."""
    return int(conn.execute(select(func.max(t.c.position))).scalar() or 0)


def current_size(conn: Connection) -> int:
    """The log's size, which the tree must have too (:class:`TreeOutOfStep` if it has not)."""
    head = head_position(conn)
    stored = tree_size(conn)
    if stored != head:
        raise TreeOutOfStep(
            f"the Merkle tree has {stored} leaves and the log {head} events: "
            + (
                "the next append builds the missing leaves"
                if stored < head
                else "events were removed outside the ledger (run `factledger verify`)"
            )
        )
    return head


def position_of(conn: Connection, ident: str) -> int:
    """The position of the event named by ``ident``: its event id (a UUID), ``TYPE/KEY``
    (``statement_made/nis-1500``) or a bare record id (a source, proposition, document,
    statement or correction id), which must name exactly one event."""
    candidates: dict[str, str] = {}
    try:
        candidates[str(uuid.UUID(ident))] = ident
    except ValueError:
        kind, slash, key = ident.partition("/")
        types = [kind] if slash and kind in EVENT_TYPES else list(EVENT_TYPES)
        key = key if slash and kind in EVENT_TYPES else ident
        for name in types:
            candidates[str(uuid.uuid5(EVENT_NAMESPACE, f"{name}/{key}"))] = f"{name}/{key}"
    mark = placeholder(conn)
    ids = sorted(candidates)
    found = conn.exec_driver_sql(
        f"SELECT position, event_id FROM events WHERE event_id IN ({', '.join([mark] * len(ids))})",
        tuple(ids),
    ).all()
    if not found:
        raise NotFound(f"no event {ident!r} in the ledger (give an event id or a record id)")
    if len(found) > 1:
        names = ", ".join(sorted(candidates[row[1]] for row in found))
        raise InvalidRecord(f"{ident!r} names {len(found)} events ({names}): give one of those")
    return int(found[0][0])


class StoredNodes:
    """A :class:`~ledger.transparency.merkle.HashReader` over ``merkle_nodes`` in one
    driver-level statement (a proof's few dozen ids; no SQL expression built per call)."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def hashes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        keys = [stored_index(node.level, node.index) for node in ids]
        wanted = sorted(set(keys))
        marks = ", ".join([placeholder(self._conn)] * len(wanted))
        rows = self._conn.exec_driver_sql(
            f"SELECT id, hash FROM merkle_nodes WHERE id IN ({marks})", tuple(wanted)
        ).all()  # one fetch: row by row was a tenth of a proof's time
        found = {key: bytes(value) for key, value in rows}
        for node, key in zip(ids, keys, strict=True):
            if key not in found:
                raise MissingNode(node)
        return [found[key] for key in keys]


def root_and_path(conn: Connection, index: int, size: int) -> tuple[bytes, list[bytes]]:
    """The root of the tree of ``size`` leaves and the audit path of leaf ``index`` in it, from
    one read of the stored nodes both need."""
    root, *path = hashes_of(StoredNodes(conn), [(0, size), *inclusion_ranges(index, size)])
    return root, path


def row_with_salt(conn: Connection, position: int) -> Any:
    """The stored row at ``position`` (``EVENT_COLUMNS``) and its salt (None when it has none),
    or None when there is no such event."""
    return conn.exec_driver_sql(
        f"SELECT {', '.join(f'e.{name}' for name in _COLUMNS)}, s.salt FROM events e "
        "LEFT JOIN event_salts s ON s.position = e.position "
        f"WHERE e.position = {placeholder(conn)}",
        (position,),
    ).first()


def event_shown(conn: Connection, position: int) -> tuple[dict[str, Any], bytes]:
    """The event at ``position`` as a proof shows it (``offline.EVENT_FIELDS``), and its leaf."""
    row = row_with_salt(conn, position)
    if row is None:
        raise NotFound(f"no event at position {position}")
    if row[10] is None:
        digest = _redaction_digest(conn, row[1])
        if digest is None:
            raise TreeOutOfStep(f"the event at position {position} has no salt: it has no leaf yet")
        # A redacted event is shown by its metadata and the digest its leaf commits to: the
        # removed text and its salt are gone, the proof through the leaf is not.
        shown = dict(zip(_COLUMNS[:7], row[:7], strict=True))
        shown["payload_digest"] = digest
        return shown, leaf_with_digest(row, digest)
    salt = bytes(row[10])
    shown = dict(zip(_COLUMNS[:8], row[:8], strict=True))
    shown["salt"] = base64.b64encode(salt).decode("ascii")
    return shown, leaf_of_row(row, salt)


def _redaction_digest(conn: Connection, event_id: str) -> str | None:
    """The payload digest recorded by the redaction of ``event_id``, if it was redacted."""
    payload = conn.execute(
        select(t.c.payload).where(
            t.c.stream_id == f"redaction:{event_id}", t.c.type == "redaction_made"
        )
    ).scalar()
    return None if payload is None else str(json.loads(payload)["payload_digest"])
