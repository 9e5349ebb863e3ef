"""Tables of the materialized belief projection (Alembic revisions 0002, 0004, 0006, 0008, 0010,
0011, 0012).

They are derived data: ``rebuild()`` can always recreate them from the log, so unlike ``events``
they are updated and deleted freely, and ``verify`` proves they are what the log implies.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, String, Table, Text, select, text

from ledger.store.schema import Micros, metadata

#: Open end of a period (valid_to, reach_to or tx_to): far beyond any real instant, a BIGINT.
OPEN = 2**62


#: An id (of a statement, proposition or source): opaque text, compared byte by byte on both
#: backends, so both order ids alike. SQLite's BINARY already does; on PostgreSQL the column
#: says COLLATE "C" (revision 0011), for the database's collation may be any locale's, whose
#: comparisons cost more: sorting a rebuild's key and indexes over these columns took a
#: quarter longer under C.UTF-8 (see the revision).
Id = String(128).with_variant(String(128, collation="C"), "postgresql")


def _closed_only(name: str, *columns: str) -> Index:
    """An index over the closed versions only (``tx_to`` before :data:`OPEN`)."""
    closed = text(f"tx_to < {OPEN}")
    return Index(name, *columns, sqlite_where=closed, postgresql_where=closed)


def _in_force_only(name: str, *columns: str) -> Index:
    """An index over the versions in force only (``tx_to`` at :data:`OPEN`): a query must say
    ``tx_to = OPEN`` with the literal for the database to use it."""
    in_force = text(f"tx_to = {OPEN}")
    return Index(name, *columns, sqlite_where=in_force, postgresql_where=in_force)


belief_checkpoint = Table(
    "belief_checkpoint",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("policy", String(200), nullable=False),
)

belief_sources = Table(
    "belief_sources",
    metadata,
    Column("source_id", Id, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("recorded_at", Micros, nullable=False),
)

belief_propositions = Table(
    "belief_propositions",
    metadata,
    Column("proposition_id", Id, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("recorded_at", Micros, nullable=False),
)

# One row per version of a statement, as corrected: facts, never verdicts (those are decided at
# read time by the policy). Periods are half-open. Valid time: the stance is the source's live
# one over [valid_from, valid_to); a quantity it gave stands over [valid_from, qty_to);
# reach_to is the later of the two and ``node`` the period's place in the interval tree
# (projections.interval_index). Transaction time: the version is in force over [tx_from, tx_to).
# See projections/stances.py for how each event changes O(1) rows.
#
# A version is identified by (statement_id, tx_from), kept unique by an index rather than a
# declared primary key (revision 0012): a rebuild drops the index while it inserts the rows and
# builds it by sorting the finished table, which SQLite cannot do with a table's declared key.
# Statement ids are random, so kept up to date row by row the key was a random insert into a
# large B-tree for every row (see the revision for the figures).
belief_stances = Table(
    "belief_stances",
    metadata,
    Column("statement_id", Id, nullable=False),
    Column("tx_from", Micros, nullable=False, autoincrement=False),
    Column("tx_to", Micros, nullable=False),
    Column("proposition_id", Id, nullable=False),
    Column("source_id", Id, nullable=False),
    Column("stance", String(20), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("valid_from", Micros, nullable=False),
    Column("valid_to", Micros, nullable=False),
    Column("qty_to", Micros, nullable=True),
    Column("reach_to", Micros, nullable=False),
    Column("node", BigInteger, nullable=False),
    Column("value", Text, nullable=True),
    Column("unit", Text, nullable=True),
    Index("uq_belief_stances_version", "statement_id", "tx_from", unique=True),
    # A source's chain of stances on a proposition, from a valid time on (maintenance reads
    # only the versions in force).
    _in_force_only("ix_belief_stances_chain", "proposition_id", "source_id", "reach_to"),
    # A stabbing query over the versions in force: one index serves both halves. Left of the
    # instant, the scan is the range of reach_to; right of it, every row at the node is read
    # from the index alone and valid_from filters it (the rows at a node are few). tx_from is
    # there so that a past known_at drops the versions opened since without fetching them:
    # before revision 0006 those fetches were most of an answer on a busy proposition. A
    # proposition with few rows in force is answered from one range of this index instead
    # (every entry of the proposition, no probe of the tree: projections.materialized).
    _in_force_only(
        "ix_belief_stances_current", "proposition_id", "node", "reach_to", "valid_from", "tx_from"
    ),
    # first support, retractions, no-comment counts
    Index("ix_belief_stances_stance", "proposition_id", "stance", "valid_from", "position"),
    # Versions in force at a past known_at and closed since: one range of tx_to from known_at
    # on, every other bound (tx_from, the valid period) checked on the index entry (revision
    # 0008; 0006 probed an interval tree of transaction time, some sixty seeks per question
    # whatever the proposition), and the columns an answer reads after them, so that no row
    # is fetched from the table (revision 0010: on a busy proposition most of an answer's rows
    # come from here).
    _closed_only(
        "ix_belief_stances_closed",
        "proposition_id",
        "tx_to",
        "tx_from",
        "valid_from",
        "reach_to",
        "valid_to",
        "qty_to",
        "statement_id",
        "source_id",
        "stance",
        "position",
        "value",
        "unit",
    ),
)


def key_of(table: Table) -> tuple[Column[Any], ...]:
    """The columns that identify a row of a derived table: its primary key, or the columns of
    the unique index that stands in for one (``belief_stances``)."""
    if table.primary_key.columns:
        return tuple(table.primary_key.columns)
    (unique,) = (index for index in table.indexes if index.unique)
    return tuple(unique.columns)


#: Every derived table, in the order a wipe empties them.
DERIVED = (belief_stances, belief_propositions, belief_sources, belief_checkpoint)


def holding_rows(conn: Connection) -> list[str]:
    """The derived tables but the checkpoint that hold any row (a lookup of one row each)."""
    return [
        table.name
        for table in (belief_stances, belief_propositions, belief_sources)
        if conn.execute(select(1).select_from(table).limit(1)).first() is not None
    ]
