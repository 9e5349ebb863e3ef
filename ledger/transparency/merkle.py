"""The Merkle tree over the log: RFC 9162 section 2.1 hashing, stored complete-subtree nodes, an
incremental appender, and inclusion and consistency proofs read from the stored nodes.

Hashing (RFC 9162 section 2.1.1): a leaf hashes as ``SHA-256(0x00 || leaf)``, an interior node as
``SHA-256(0x01 || left || right)``, the empty tree as ``SHA-256("")``. A tree of ``n`` leaves
splits at ``k``, the largest power of two below ``n``, so its left subtree is always complete.

The stored-node scheme
----------------------
Node ``(level, index)`` is the hash of the *complete* subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes themselves. A node is
written exactly once, in the append that adds its last leaf (leaf ``(index + 1) * 2**level - 1``),
and never changes afterwards, so a store can keep the nodes in an insert-only table keyed by
``(level, index)`` (the same coordinates as Go's ``sumdb/tlog`` stored hashes and C2SP
``tlog-tiles``, one row per hash instead of one per 256-hash tile). ``n`` leaves make
``2n - popcount(n)`` nodes: each append writes its leaf and one node per subtree it completes,
two on average.

Nothing about a tree *size* is stored. The root of any size ``n``, and every hash a proof needs,
is either a stored node or the fold of the at most ``log2(n)`` complete subtrees that make up an
incomplete right edge (:func:`subtree_nodes`). A proof at a million leaves therefore reads at
most about 40 stored nodes, in one batch through :class:`HashReader`, and never recomputes a
subtree; a checkpoint taken at any size stays provable forever.

The :class:`Appender` keeps only the right edge of the tree (the ``popcount(n)`` complete
subtrees of :func:`subtree_nodes` ``(0, n)``), so an append costs ``O(log n)`` hashes and memory;
it resumes from a store by reading those few nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from ledger.errors import LedgerError

HASH_SIZE = 32
#: The root of the empty tree (RFC 9162 section 2.1.1: the hash of an empty string).
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


class InvalidTreeRange(LedgerError, ValueError):
    """A leaf index, tree size or size pair that no tree or proof has (index past the end,
    an old size larger than the new one, a negative size)."""


class MissingNode(LedgerError, LookupError):
    """A stored node a root or proof needs is not there: the store is behind the size asked for,
    or damaged."""

    def __init__(self, node: NodeId):
        self.node = node
        super().__init__(f"no stored Merkle node at level {node.level}, index {node.index}")


@attrs.frozen
class NodeId:
    """Where a complete subtree is stored: leaves ``[index * 2**level, (index + 1) * 2**level)``."""

    level: int
    index: int


@attrs.frozen
class Node:
    """A stored node with its hash, as the appender emits it and a store inserts it."""

    level: int
    index: int
    hash: bytes

    @property
    def id(self) -> NodeId:
        return NodeId(self.level, self.index)


class HashReader(Protocol):
    """Where proofs read stored nodes from: a store's node table, or :class:`MemoryNodes`.

    One call per root or proof, with every node it needs, so that a database store can answer in
    one statement. Raises :class:`MissingNode` for a node it does not hold."""

    def hashes(self, ids: Sequence[NodeId], /) -> Sequence[bytes]:
        """The hashes of ``ids``, in the same order."""
        ...


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 ``MTH({d})``: the hash of one leaf's bytes."""
    return hashlib.sha256(_LEAF + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash of two subtree hashes."""
    return hashlib.sha256(_NODE + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (``size >= 2``): where RFC 9162 splits."""
    return 1 << ((size - 1).bit_length() - 1)


def subtree_nodes(start: int, end: int) -> list[NodeId]:
    """The complete subtrees, largest first, whose fold is ``MTH(D[start:end])``.

    Every range RFC 9162's recursion produces starts at a multiple of the smallest power of two
    that is at least its length, which is what makes its pieces stored (aligned) nodes; any other
    range has no single Merkle tree hash, so it is refused."""
    length = end - start
    if length <= 0 or start < 0 or start % (1 << (length - 1).bit_length()):
        raise InvalidTreeRange(f"[{start}, {end}) is not a subtree of any Merkle tree")
    out: list[NodeId] = []
    for level in range(length.bit_length() - 1, -1, -1):
        if length >> level & 1:
            out.append(NodeId(level, start >> level))
            start += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a right edge given its complete subtrees' hashes, largest (leftmost) first."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def root_hash(reader: HashReader, size: int) -> bytes:
    """The root of the tree's first ``size`` leaves, from at most ``log2(size) + 1`` stored
    nodes."""
    if size < 0:
        raise InvalidTreeRange(f"a tree size is at least 0, not {size}")
    return fold(reader.hashes(subtree_nodes(0, size))) if size else EMPTY_ROOT


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 section 2.1.3.1 ``PATH(m, D[n])`` as leaf ranges, leaf end first."""
    if not 0 <= index < size:
        raise InvalidTreeRange(f"leaf index {index} is not in a tree of size {size}")
    out: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = start + _split(end - start)
        if index < k:
            out.append((k, end))
            end = k
        else:
            out.append((start, k))
            start = k
    out.reverse()  # the recursion emits the root's sibling last, the descent meets it first
    return out


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 9162 section 2.1.4.1 ``PROOF(m, D[n])`` as leaf ranges, in proof order.

    Empty when ``old`` is 0 or equals ``new``: every tree extends the empty tree and itself."""
    if not 0 <= old <= new:
        raise InvalidTreeRange(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    out: list[tuple[int, int]] = []
    start, end, whole = 0, new, True
    while end != old:
        k = start + _split(end - start)
        if old <= k:
            out.append((k, end))
            end = k
        else:
            out.append((start, k))
            start, whole = k, False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}: the old tree's last subtree
        out.append((start, end))
    out.reverse()
    return out


def hashes_of(reader: HashReader, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """``MTH`` of each range, reading every stored node they need in one call."""
    pieces = [subtree_nodes(start, end) for start, end in ranges]
    wanted = list(dict.fromkeys(node for piece in pieces for node in piece))
    if not wanted:
        return []
    got = dict(zip(wanted, reader.hashes(wanted), strict=True))
    return [fold([got[node] for node in piece]) for piece in pieces]


def inclusion_proof(reader: HashReader, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 2.1.3.1)."""
    return hashes_of(reader, inclusion_ranges(index, size))


def consistency_proof(reader: HashReader, old: int, new: int) -> list[bytes]:
    """The proof that the tree of ``new`` leaves extends the tree of ``old`` (RFC 9162 2.1.4.1)."""
    return hashes_of(reader, consistency_ranges(old, new))


def stored_index(level: int, index: int) -> int:
    """Node ``(level, index)``'s place in the order nodes are written: 0, 1, 2, ... with no gap.

    Go's ``sumdb/tlog`` ``StoredHashIndex``: the leaf hash of leaf ``n`` comes right after the
    nodes leaf ``n - 1`` completed, and each node right after its right child. A store keyed by
    this one integer only ever inserts at the end of its primary key."""
    # Node (L, i) is written right after node (L - 1, 2i + 1), so L places after leaf
    # n = (i + 1) * 2**L - 1, which comes after n leaves, n // 2 level-1 nodes, n // 4 level-2
    # nodes, ...: stored_count(n) in all (closed form: a proof computes ~30 of these).
    return stored_count(((index + 1) << level) - 1) + level


def stored_count(size: int) -> int:
    """How many nodes a tree of ``size`` leaves has stored: ``2 * size - popcount(size)``."""
    return 2 * size - size.bit_count()


def size_of_stored(count: int) -> int:
    """The tree size whose nodes number exactly ``count``; :class:`InvalidTreeRange` if none
    does (a store cut off in the middle of an append)."""
    if count < 0:
        raise InvalidTreeRange(f"a node count is at least 0, not {count}")
    # stored_count grows by 1 + trailing-ones(n) per leaf, so it lies in [2n - log2(n) - 1, 2n].
    for size in range((count + 1) // 2, (count + 1) // 2 + count.bit_length() + 2):
        if stored_count(size) == count:
            return size
    raise InvalidTreeRange(f"{count} stored nodes are not the nodes of any whole tree")


class Appender:
    """The tree's right edge, kept in memory: append leaves, get the nodes to store and the root.

    ``frontier`` holds the hashes of :func:`subtree_nodes` ``(0, size)`` (largest first), which is
    all an append needs: the new leaf merges with the frontier's trailing subtrees of its own
    size, one per trailing 1-bit of its index."""

    __slots__ = ("_frontier", "_size")

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()):
        if size < 0 or len(frontier) != size.bit_count():
            raise InvalidTreeRange(
                f"a tree of size {size} has a right edge of {max(size, 0).bit_count()} "
                f"subtrees, not {len(frontier)}"
            )
        self._size = size
        self._frontier = list(frontier)

    @classmethod
    def resume(cls, reader: HashReader, size: int) -> Appender:
        """Continue a stored tree of ``size`` leaves, reading only its right edge."""
        if size < 0:
            raise InvalidTreeRange(f"a tree size is at least 0, not {size}")
        return cls(size, reader.hashes(subtree_nodes(0, size)) if size else ())

    @property
    def size(self) -> int:
        return self._size

    def root(self) -> bytes:
        return fold(self._frontier)

    def append(self, leaf: bytes) -> list[Node]:
        """Add one leaf; return the nodes it completes, its own leaf node first."""
        return self.append_hash(leaf_hash(leaf))

    def append_hash(self, hashed: bytes) -> list[Node]:
        """Add one leaf by its leaf hash; return the nodes it completes, leaf node first."""
        if len(hashed) != HASH_SIZE:
            raise ValueError(f"a leaf hash has {HASH_SIZE} bytes, not {len(hashed)}")
        index, level = self._size, 0
        made = [Node(0, index, hashed)]
        while index & 1:
            hashed = node_hash(self._frontier.pop(), hashed)
            index, level = index >> 1, level + 1
            made.append(Node(level, index, hashed))
        self._frontier.append(hashed)
        self._size += 1
        return made

    def extend(self, leaves: Iterable[bytes]) -> list[Node]:
        """Append many leaves; the nodes they complete, in append order."""
        return [node for leaf in leaves for node in self.append(leaf)]


class MemoryNodes:
    """A :class:`HashReader` over a dictionary: for tests, examples and small offline trees."""

    def __init__(self, nodes: Mapping[NodeId, bytes] | None = None):
        self._nodes: dict[NodeId, bytes] = dict(nodes or {})

    @classmethod
    def of(cls, leaves: Iterable[bytes]) -> MemoryNodes:
        """Every stored node of the tree over ``leaves``."""
        return cls({node.id: node.hash for node in Appender().extend(leaves)})

    def add(self, nodes: Iterable[Node]) -> None:
        for node in nodes:
            self._nodes[node.id] = node.hash

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: object) -> bool:
        return node in self._nodes

    def hashes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        try:
            return [self._nodes[node] for node in ids]
        except KeyError as e:
            raise MissingNode(e.args[0]) from None


def tree_root(leaves: Iterable[bytes]) -> bytes:
    """RFC 9162 ``MTH(D[n])`` of the leaves' bytes, computed in one pass."""
    appender = Appender()
    for leaf in leaves:
        appender.append(leaf)
    return appender.root()
