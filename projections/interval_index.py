"""A relational interval tree over valid time: which stored periods contain an instant.

A stance row holds a period ``[valid_from, reach_to)`` of valid time. "Which rows of this
proposition contain the instant ``a``?" is a stabbing query, and an index on ``valid_from`` (or
on ``reach_to``) alone answers it by scanning every row that starts before ``a`` (or ends after
it): half the proposition's history on average. The Relational Interval Tree (Kriegel, Pötke and
Seidl, VLDB 2000) answers it with a bounded number of index range scans instead.

Instants are mapped onto a virtual binary tree of 63-bit integers. A period is registered at its
*fork node*: the number inside the period with the most trailing zero bits (the highest tree node
the period contains). The nodes whose periods can contain ``a`` are ``a``'s ancestors, at most
64 of them; at an ancestor left of ``a`` a registered period contains ``a`` exactly when it ends
after ``a``, at one right of ``a`` (or ``a`` itself) exactly when it starts at or before ``a``.
One composite index, ``(..., node, reach_to, valid_from, ...)``, serves both: left of ``a`` the
scan is a range of ``reach_to``; right of it, the node's entries are read and ``valid_from``
checked on the index entry (see ``projections.tables``). That order suits the question asked
most, what is believed now: at an instant after a proposition's statements its periods sit at
nodes right of it and all start before it, so every entry read is kept. The other order,
``valid_from`` first, bounds the right side instead; on the hot benchmark story it read 2.8
times the entries for questions about now, for 3-5% off questions spread over the past
(``python -m benchmarks.hot_reads``, BENCHMARKS.md, session 18).
"""

from __future__ import annotations

#: Instants are signed microseconds; the tree is over non-negative numbers.
_OFFSET = 2**62
_TOP = 63  # levels: nodes are below 2**63, so they fit a signed BIGINT


def fork(start: int, end: int) -> int:
    """The fork node of the half-open period ``[start, end)`` (an empty one sits at ``start``)."""
    lo = start + _OFFSET
    hi = (end - 1 if end > start else start) + _OFFSET  # max(end - 1, start), without the call
    if lo == hi:
        return lo
    top = (lo ^ hi).bit_length() - 1
    if lo & ((1 << (top + 1)) - 1) == 0:
        return lo
    return (hi >> top) << top


def ancestors(instant: int) -> tuple[list[int], list[int]]:
    """The tree nodes whose periods may contain ``instant``: those left of it (a period there
    contains it iff it ends after it) and those at or right of it (iff it starts by then)."""
    point = instant + _OFFSET
    level = (point & -point).bit_length()  # one above the point's own level
    # the ancestor at level t keeps the point's bits above t and sets bit t
    nodes = [(point & high) | bit for high, bit in _LEVELS[level:]]
    return [n for n in nodes if n < point], [point, *[n for n in nodes if n >= point]]


#: For each level t below the top: the mask of the bits above t, and bit t (every answer walks
#: some sixty levels, and shifting at each one was most of building its parameters).
_LEVELS = [(~((1 << (t + 1)) - 1), 1 << t) for t in range(_TOP)]
