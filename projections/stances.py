"""How each event changes the bitemporal stance rows: O(1) rows per event, whatever the history.

Rows are *facts*, one per version of a statement as corrected; no verdict is stored (the policy
decides at read time, see ``projections.rules``). A source's statements on one proposition form
its *chain*, ordered by (``stated_at``, log position), ``no_comment`` aside (it changes nothing,
so it never enters a chain). In valid time each chain member is the source's live stance from its
own ``stated_at`` until the next member's (``valid_to``); a member that gave a quantity keeps it
standing until the next member that gives one or retracts (``qty_to``). A retraction is a member
too: it ends what came before and is itself never live.

So an event touches a constant number of rows: a statement opens its own row and shortens its
predecessor's periods (and, with a quantity, the last quantity before it); a correction retires
one version and opens another, relinking the neighbours at both places. Changing a row at
transaction time ``T`` closes its version (``tx_to = T``) and opens a new one from ``T``, so an
answer for an earlier ``known_at`` never changes; a version opened at ``T`` itself is changed in
place (no answer can have seen it without also seeing what changes it: they share ``T``).

This module is pure (no SQL): :class:`Batch` is given the rows a batch can touch, applies the
events in log order, and hands back rows to delete, update and insert. The same code serves an
append (one batch), a catch-up (the log in windows) and a rebuild (each chain whole, from no
rows: ``projections.chainfold``), which is why they leave identical rows.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from operator import attrgetter
from typing import Any, NamedTuple

import attrs

from ledger.events import Stance
from projections.interval_index import fork
from projections.tables import OPEN

NO_COMMENT = Stance.NO_COMMENT.value
RETRACT = Stance.RETRACT.value

#: Columns of ``belief_stances`` in the order :meth:`Version.row` gives them.
COLUMNS = (
    "statement_id",
    "tx_from",
    "tx_to",
    "proposition_id",
    "source_id",
    "stance",
    "position",
    "valid_from",
    "valid_to",
    "qty_to",
    "reach_to",
    "node",
    "value",
    "unit",
)
#: What a revision in place may change (the rest of a version is fixed once opened).
REVISED = ("tx_to", "valid_to", "qty_to", "reach_to", "node")

Chain = tuple[str, str]  # (proposition_id, source_id)


class Fields(NamedTuple):
    """What a stance row says about a statement as currently corrected."""

    statement_id: str
    proposition_id: str
    source_id: str
    stance: str
    position: int  # the statement's own log position: the tie-breaker within an instant
    valid_from: int  # stated_at, microseconds
    value: str | None  # canonical JSON of the quantity
    unit: str | None

    @property
    def chain(self) -> Chain | None:
        return None if self.stance == NO_COMMENT else (self.proposition_id, self.source_id)


@attrs.define(eq=False, slots=True)
class Version:
    """The version of a statement in force, as this batch sees it."""

    fields: Fields
    tx_from: int
    valid_to: int
    qty_to: int | None
    stored: bool = False  # a row (statement_id, tx_from) holds it in the table
    dirty: bool = False  # stored, and revised in place since
    #: Its ``valid_to`` follows from the rows this batch holds (False only for a chain's
    #: earlier quantity row, loaded for its ``qty_to`` alone).
    linked: bool = True

    @property
    def order(self) -> tuple[int, int]:
        return (self.fields.valid_from, self.fields.position)

    @property
    def reach_to(self) -> int:
        return self.valid_to if self.qty_to is None else max(self.valid_to, self.qty_to)

    def row(self, tx_to: int) -> tuple[Any, ...]:
        f = self.fields
        valid_to, qty_to = self.valid_to, self.qty_to
        reach = valid_to if qty_to is None or qty_to < valid_to else qty_to  # reach_to, inlined
        return (
            f.statement_id,
            self.tx_from,
            tx_to,
            f.proposition_id,
            f.source_id,
            f.stance,
            f.position,
            f.valid_from,
            valid_to,
            qty_to,
            reach,
            fork(f.valid_from, reach),
            f.value,
            f.unit,
        )

    @classmethod
    def opened(cls, fields: Fields, tx_from: int) -> Version:
        # Periods are set by the chain's relink; a no_comment row has none.
        return cls(fields, tx_from, fields.valid_from, None)

    @classmethod
    def from_row(cls, row: Any) -> Version:
        """A stored current row, its columns in :data:`COLUMNS` order."""
        (sid, tx_from, _, proposition, source, stance, position, valid_from, valid_to, qty_to) = (
            row[:10]
        )
        value, unit = row[12], row[13]
        fields = Fields(sid, proposition, source, stance, position, valid_from, value, unit)
        return cls(fields, tx_from, valid_to, qty_to, stored=True)


# -- the operations of a batch, resolved before any row is read ------------------------------


class Add(NamedTuple):
    fields: Fields
    at: int


class Replace(NamedTuple):
    statement_id: str
    fields: Fields | None  # None: withdrawn
    at: int


Op = Add | Replace


@attrs.define
class Plan:
    """What a batch will do, and the least it must read to do it: for each chain touched, the
    earliest valid time touched (rows whose periods end before it cannot change)."""

    ops: list[Op] = attrs.Factory(list)
    since: dict[Chain, int] = attrs.Factory(dict)

    def touch(self, fields: Fields) -> None:
        chain = fields.chain
        if chain is not None:
            earlier = self.since.get(chain)
            if earlier is None or fields.valid_from < earlier:
                self.since[chain] = fields.valid_from


# -- applying a batch ------------------------------------------------------------------------


class Batch:
    """The rows a batch may change, the changes so far, and the rows to write at the end."""

    def __init__(self, plan: Plan, loaded: Iterable[Version], *, fresh: bool = False):
        self.plan = plan
        self.current: dict[str, Version] = {}
        # ``fresh``: the tables hold no row of any chain the batch meets, so each starts
        # empty (projections.chainfold); otherwise a chain the plan did not name is a bug,
        # and a KeyError says so
        self.chains: dict[Chain, list[Version]] = defaultdict(list) if fresh else {}
        for chain in plan.since:
            self.chains[chain] = []
        for version in loaded:
            self._hold(version)
        for members in self.chains.values():
            members.sort(key=_order)
        self.deleted: list[tuple[str, int]] = []
        self.updated: dict[tuple[str, int], tuple[Any, ...]] = {}
        self.inserted: list[tuple[Any, ...]] = []

    def _hold(self, version: Version) -> None:
        sid = version.fields.statement_id
        if sid in self.current:
            return  # read twice (by id and by chain): one object
        self.current[sid] = version
        chain = version.fields.chain
        if chain is not None and chain in self.chains:
            since = self.plan.since[chain]
            if version.reach_to < since:
                # Read by id only (the target of a correction that changed nothing the rules
                # see): the chain's rows between it and ``since`` were not read, so it must
                # not be relinked as if it were their neighbour. The chain read leaves it out
                # for the same reason; nothing from ``since`` on can change its periods.
                return
            version.linked = version.valid_to >= since
            self.chains[chain].append(version)

    def apply(self) -> None:
        for op in self.plan.ops:
            if isinstance(op, Add):
                self.add(op.fields, op.at)
            else:
                self.replace(op.statement_id, op.fields, op.at)

    def add(self, fields: Fields, at: int) -> None:
        """A new statement, at transaction time ``at``."""
        version = Version(fields, at, fields.valid_from, None)  # Version.opened, inlined
        self.current[fields.statement_id] = version
        if fields.stance == NO_COMMENT:
            return  # in no chain
        chain = (fields.proposition_id, fields.source_id)
        members = self.chains[chain]
        if not members or _order(members[-1]) < (fields.valid_from, fields.position):
            # the chain's last row (most statements in a log's order): no search
            members.append(version)
            self._relink(chain, at, version, len(members) - 1)
        else:
            bisect.insort(members, version, key=_order)
            self._relink(chain, at, version)

    def replace(self, statement_id: str, fields: Fields | None, at: int) -> None:
        """Retire the statement's version; open the corrected one unless it was withdrawn.
        Both places are relinked once the chains hold their final rows, so no intermediate
        state is ever written."""
        old = self.current.pop(statement_id)
        self._retire(old, at)
        anchors: list[tuple[Chain, Version]] = []
        if old.fields.chain is not None:
            members = self.chains[old.fields.chain]
            i = _index(members, old)
            del members[i]
            if i > 0:
                anchors.append((old.fields.chain, members[i - 1]))
        if fields is not None:
            new = Version.opened(fields, at)
            self.current[statement_id] = new
            if fields.chain is not None:
                bisect.insort(self.chains[fields.chain], new, key=_order)
                anchors.append((fields.chain, new))
        for chain, anchor in anchors:
            self._relink(chain, at, anchor)

    def _relink(self, chain: Chain, at: int, anchor: Version, start: int | None = None) -> None:
        """Recompute the periods a change at ``anchor`` (at ``start`` in its chain, if known)
        can affect: the anchor's own, and those of the rows before it, back to the first one
        that ends a quantity (no row before that can change: each period ends at the next
        row's start or the next quantity's)."""
        members = self.chains[chain]
        if start is None:
            start = _index(members, anchor)
        if start + 1 < len(members):
            next_from = members[start + 1].fields.valid_from
            stop = next(
                (v.fields.valid_from for v in members[start + 1 :] if _stops(v.fields)), OPEN
            )
        else:  # the anchor is the chain's last row (most statements in a log's order)
            next_from = stop = OPEN
        for j in range(start, -1, -1):
            version = members[j]
            f = version.fields
            valid_to = next_from if version.linked else version.valid_to
            next_from = f.valid_from
            qty_to = stop if f.value is not None and f.stance != RETRACT else None
            self._revise(version, at, valid_to, qty_to)
            if _stops(f):
                if j < start:
                    return
                stop = f.valid_from

    def _revise(self, version: Version, at: int, valid_to: int, qty_to: int | None) -> None:
        if (version.valid_to, version.qty_to) == (valid_to, qty_to):
            return
        if version.tx_from != at:
            self._close(version, at)
            version.tx_from, version.stored, version.dirty = at, False, False
        elif version.stored:
            version.dirty = True
        version.valid_to, version.qty_to = valid_to, qty_to

    def _retire(self, version: Version, at: int) -> None:
        if version.tx_from != at:
            self._close(version, at)
        elif version.stored:
            self.deleted.append((version.fields.statement_id, at))
            self.updated.pop((version.fields.statement_id, at), None)

    def _close(self, version: Version, at: int) -> None:
        row = version.row(at)
        if version.stored:
            self.updated[(version.fields.statement_id, version.tx_from)] = row
        else:
            self.inserted.append(row)

    def finish(self) -> None:
        """Write out the versions still in force."""
        for version in self.current.values():
            if not version.stored:
                self.inserted.append(version.row(OPEN))
            elif version.dirty:
                self.updated[(version.fields.statement_id, version.tx_from)] = version.row(OPEN)


#: A version's place in its chain, (valid_from, position): ``Version.order`` as a C-level key
#: for bisect and sort, which call it a dozen times per statement.
_order = attrgetter("fields.valid_from", "fields.position")


def _index(members: list[Version], version: Version) -> int:
    """Where ``version`` stands in its chain (orders are unique: positions are)."""
    return bisect.bisect_left(members, _order(version), key=_order)


def _stops(f: Fields) -> bool:
    """Whether the row ends the quantity before it: it gives one, or retracts."""
    return f.value is not None or f.stance == RETRACT


_REVISED_AT = tuple(COLUMNS.index(name) for name in (*REVISED, "statement_id", "tx_from"))


def revised_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """From a full row, what a stored row's update sets (:data:`REVISED`), then its key."""
    return tuple(row[i] for i in _REVISED_AT)


def resolved(
    events: Iterable[tuple[str, int, Any]], stored: Mapping[str, Fields]
) -> Iterator[tuple[Op, Fields | None]]:
    """Resolve a batch's statement events, in log order, into operations, each with the fields
    it replaces (None for an :class:`Add`).

    ``events`` yields ``("add", at, Fields)`` or ``("correct", at, (statement_id, corrected))``
    where ``corrected`` maps the statement's Fields to its corrected Fields (None: withdrawn);
    ``at`` is the event's recorded_at. ``stored`` holds the current Fields of every correction
    target folded before the batch (a target found neither there nor earlier in the batch was
    withdrawn, and stays so).
    """
    state: dict[str, Fields | None] = dict(stored)
    for kind, at, what in events:
        if kind == "add":
            state[what.statement_id] = what
            yield Add(what, at), None
            continue
        statement_id, corrected = what
        before = state.get(statement_id)
        if before is None:
            continue  # withdrawn earlier: no correction brings it back
        after = corrected(before)
        if after == before:
            continue  # a note, a quote, a document: nothing the rules see
        state[statement_id] = after
        yield Replace(statement_id, after, at), before


def plan_ops(events: Iterable[tuple[str, int, Any]], stored: Mapping[str, Fields]) -> Plan:
    """The batch's operations (:func:`resolved`) and the chains they touch, each from the
    earliest valid time touched."""
    plan = Plan()
    ops, touch = plan.ops, plan.touch
    for op, before in resolved(events, stored):
        ops.append(op)
        if before is not None:
            touch(before)
        if op.fields is not None:
            touch(op.fields)
    return plan
