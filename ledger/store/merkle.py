"""The Merkle tree's node table, and the statements that append to it and read proofs from it
(issue 15, phase 2 storage; the tree itself is :mod:`ledger.transparency.merkle`).

One row per stored node: ``id`` is :func:`~ledger.transparency.merkle.stored_index` of the
node's ``(level, index)``, ``hash`` its 32 bytes. Ids are written in order with no gap, so an
append only ever inserts at the end of the primary key (on SQLite the key is the rowid itself),
and the tree's size follows from the largest id alone. Rows are never updated or deleted:
redacting a payload leaves the tree as it is.

Every function here takes the caller's connection and runs inside the caller's transaction; the
store's transaction boundary translates driver errors, as for every other statement.

Not wired yet: nothing calls :func:`append_leaves` from the append transaction, because what a
leaf's bytes are (the event's metadata and a digest of its payload) is still to be decided;
see the report on issue 15 and ``docs/proofs.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import BigInteger, Column, Connection, Integer, LargeBinary, Table, func, select

from ledger.errors import LedgerError
from ledger.store import bulk
from ledger.store.schema import metadata
from ledger.transparency.merkle import (
    Appender,
    MissingNode,
    NodeId,
    consistency_proof,
    inclusion_proof,
    root_hash,
    size_of_stored,
    stored_index,
)

# On SQLite an INTEGER PRIMARY KEY is the rowid itself: no second index to maintain.
_NodeKey = BigInteger().with_variant(Integer(), "sqlite")

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("id", _NodeKey, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)


class TreeOutOfStep(LedgerError):
    """The node table does not hold the tree the caller expects: it is behind or ahead of the
    log, or was cut off in the middle of an append."""


class NodeTable:
    """A :class:`~ledger.transparency.merkle.HashReader` over ``merkle_nodes``: one statement
    per root or proof, whatever the tree's size."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def hashes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        keys = [stored_index(node.level, node.index) for node in ids]
        query = select(merkle_nodes.c.id, merkle_nodes.c.hash).where(
            merkle_nodes.c.id.in_(sorted(set(keys)))
        )
        found: dict[int, bytes] = {key: bytes(value) for key, value in self._conn.execute(query)}
        for node, key in zip(ids, keys, strict=True):
            if key not in found:
                raise MissingNode(node)
        return [found[key] for key in keys]


def tree_size(conn: Connection) -> int:
    """How many leaves the stored tree has, from the largest node id."""
    last = conn.execute(select(func.max(merkle_nodes.c.id))).scalar()
    try:
        return size_of_stored(0 if last is None else last + 1)
    except ValueError as e:
        raise TreeOutOfStep(f"the Merkle node table is damaged: {e}") from None


def append_leaves(
    conn: Connection, size: int, leaves: Iterable[bytes], *, checked: bool = False
) -> Appender:
    """Append ``leaves`` (their bytes) to the stored tree of ``size`` leaves, in the caller's
    transaction; return the appender, whose ``root()`` is the new tree head. ``checked``: the
    caller has just read the stored tree's size, in this transaction, and found ``size``.

    Reads the tree's right edge (at most ``log2(size) + 1`` rows, one statement) and inserts two
    rows per leaf on average, in one driver call (:func:`ledger.store.bulk.insert_many`)."""
    stored = size if checked else tree_size(conn)
    if stored != size:
        raise TreeOutOfStep(f"the Merkle tree has {stored} leaves; the log expects {size}")
    appender = Appender.resume(NodeTable(conn), size)
    rows = [(stored_index(node.level, node.index), node.hash) for node in appender.extend(leaves)]
    # The driver's own bulk path: two rows per leaf made Core's per-row parameter handling most
    # of the tree's cost (7.2 s against 4.3 s for 200,000 leaves on SQLite), and on PostgreSQL
    # an executemany of a delivery's 2,000 nodes was ~40 ms of it, where COPY is one stream.
    bulk.insert_many(conn, "merkle_nodes", ("id", "hash"), rows)
    return appender


def root_at(conn: Connection, size: int) -> bytes:
    """The tree head of the first ``size`` leaves (any size up to the stored one)."""
    return root_hash(NodeTable(conn), size)


def prove_inclusion(conn: Connection, index: int, size: int) -> list[bytes]:
    """The RFC 9162 audit path of leaf ``index`` in the tree of ``size`` leaves."""
    return inclusion_proof(NodeTable(conn), index, size)


def prove_consistency(conn: Connection, old: int, new: int) -> list[bytes]:
    """The RFC 9162 proof that the tree of ``new`` leaves extends the tree of ``old``."""
    return consistency_proof(NodeTable(conn), old, new)
