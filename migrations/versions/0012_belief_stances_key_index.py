"""Stance rows: their key (statement_id, tx_from) a unique index, not the table's primary key;
and no ``tx_node`` column.

A rebuild inserts every stance row, in the order of the chains it folds; statement ids are
random, so keeping the key up to date makes each row an insert at a random place of a large
B-tree. PostgreSQL could already drop the key for the fold and add it again by sorting the
finished table; SQLite cannot drop a table's declared key. As a unique index it can, on both
backends. By hand on SQLite, inserting the 1M benchmark ledger's 1,045,148 stance rows took
8.7-9.0 s with the key and 3.7-5.3 s without, plus 0.5-1.0 s to build it afterwards. The rows
stay unique (building the index checks every key), readers find a version by the index as they
found it by the key, and no row changes.

``tx_node`` (a closed version's place in an interval tree of transaction time) has been read by
no index since revision 0008 and was kept only because dropping it meant rewriting the table on
SQLite, which this revision does anyway: every row written is a column shorter.

SQLite changes a table's key only by copying the table: the rows are copied into a table
without it and its other indexes made again as revisions 0006-0011 left them (named here, not
read from the catalog, so that ``alembic upgrade --sql`` can write it out). PostgreSQL builds
the index and drops the constraint and the column. The downgrade turns the index back into the
key and computes ``tx_node`` again for the closed versions, as revision 0011's code wrote it, so
its ``verify`` finds the rows it expects.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "belief_stances"
_KEY = ["statement_id", "tx_from"]
_INDEX = "uq_belief_stances_version"
_CONSTRAINT = "pk_belief_stances"
_OPEN = 2**62


def _columns(*, tx_node: bool) -> list[sa.Column[Any]]:
    # as revision 0004 made them (0011 changed only PostgreSQL's collation, not used here)
    columns: list[sa.Column[Any]] = [
        sa.Column("statement_id", sa.String(128), nullable=False),
        sa.Column("tx_from", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("tx_to", sa.BigInteger(), nullable=False),
        sa.Column("proposition_id", sa.String(128), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("stance", sa.String(20), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=False),
        sa.Column("qty_to", sa.BigInteger(), nullable=True),
        sa.Column("reach_to", sa.BigInteger(), nullable=False),
        sa.Column("node", sa.BigInteger(), nullable=False),
        sa.Column("tx_node", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
    ]
    return [c for c in columns if tx_node or c.name != "tx_node"]


#: The table's other indexes as revisions 0006-0011 left them (each a name, its columns and the
#: versions it covers: None for all).
_IN_FORCE = sa.text(f"tx_to = {_OPEN}")
_CLOSED = sa.text(f"tx_to < {_OPEN}")
_INDEXES: dict[str, tuple[list[str], sa.TextClause | None]] = {
    "ix_belief_stances_chain": (["proposition_id", "source_id", "reach_to"], _IN_FORCE),
    "ix_belief_stances_current": (
        ["proposition_id", "node", "reach_to", "valid_from", "tx_from"],
        _IN_FORCE,
    ),
    "ix_belief_stances_stance": (["proposition_id", "stance", "valid_from", "position"], None),
    "ix_belief_stances_closed": (
        [
            *("proposition_id", "tx_to", "tx_from", "valid_from", "reach_to", "valid_to"),
            *("qty_to", "statement_id", "source_id", "stance", "position", "value", "unit"),
        ],
        _CLOSED,
    ),
}


def _copy_sqlite(*, keyed: bool) -> None:
    """Copy the stance rows into a table with (``keyed``: revision 0011's, ``tx_node`` NULL) or
    without the declared key and ``tx_node``, and make its other indexes again. Plain SQL, so
    ``alembic upgrade --sql`` can write it out."""
    new = f"{_TABLE}_0012"
    key = [sa.PrimaryKeyConstraint(*_KEY, name=_CONSTRAINT)] if keyed else []
    op.create_table(new, *_columns(tx_node=keyed), *key)
    names = ", ".join(c.name for c in _columns(tx_node=False))
    op.execute(f"INSERT INTO {new} ({names}) SELECT {names} FROM {_TABLE}")
    op.drop_table(_TABLE)  # and its indexes
    op.rename_table(new, _TABLE)
    for name, (columns, where) in _INDEXES.items():
        op.create_index(name, _TABLE, columns, sqlite_where=where)


def _fork(start: int, end: int) -> int:
    """The fork node of ``[start, end)`` in revision 0011's interval tree (as
    ``projections.interval_index.fork`` computed it then)."""
    lo = start + _OPEN
    hi = (end - 1 if end > start else start) + _OPEN
    if lo == hi:
        return lo
    top = (lo ^ hi).bit_length() - 1
    if lo & ((1 << (top + 1)) - 1) == 0:
        return lo
    return (hi >> top) << top


def _fill_tx_node() -> None:
    """Give each closed version its ``tx_node`` again (the versions in force have none).
    Written out as SQL (``--sql``), the rows cannot be read: the projection is emptied instead
    and its checkpoint removed, so the first write or question rebuilds it from the log."""
    if context.is_offline_mode():
        for table in (_TABLE, "belief_propositions", "belief_sources", "belief_checkpoint"):
            op.execute(f"DELETE FROM {table}")
        return
    conn = op.get_bind()
    closed = conn.execute(
        sa.text(f"SELECT statement_id, tx_from, tx_to FROM {_TABLE} WHERE tx_to < {_OPEN}")
    ).all()
    if closed:
        conn.execute(
            sa.text(
                f"UPDATE {_TABLE} SET tx_node = :node "
                "WHERE statement_id = :statement_id AND tx_from = :tx_from"
            ),
            [
                {"node": _fork(tx_from, tx_to), "statement_id": sid, "tx_from": tx_from}
                for sid, tx_from, tx_to in closed
            ],
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy_sqlite(keyed=False)
    else:
        op.drop_constraint(_CONSTRAINT, _TABLE, type_="primary")
        op.drop_column(_TABLE, "tx_node")
    op.create_index(_INDEX, _TABLE, _KEY, unique=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy_sqlite(keyed=True)
    else:
        op.add_column(_TABLE, sa.Column("tx_node", sa.BigInteger(), nullable=True))
        op.execute(
            f"ALTER TABLE {_TABLE} ADD CONSTRAINT {_CONSTRAINT} PRIMARY KEY USING INDEX {_INDEX}"
        )
    _fill_tx_node()
