"""Stance rows: their key (statement_id, tx_from) a unique index, not the table's primary key.

A rebuild inserts every stance row, in the order of the chains it folds; statement ids are
random, so keeping the key up to date makes each row an insert at a random place of a large
B-tree. PostgreSQL could already drop the key for the fold and add it again by sorting the
finished table; SQLite cannot drop a table's declared key. As a unique index it can, on both
backends. By hand on SQLite, inserting the 1M benchmark ledger's 1,045,148 stance rows took
8.7-9.0 s with the key and 3.7-5.3 s without, plus 0.5-1.0 s to build it afterwards. The rows
stay unique (building the index checks every key), readers find a version by the index as they
found it by the key, and no row changes.

SQLite changes a table's key only by copying the table: the rows are copied into a table
without it and its indexes made again from their own definitions. PostgreSQL builds the index
and drops the constraint; the downgrade turns the index back into the key.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "belief_stances"
_KEY = ["statement_id", "tx_from"]
_INDEX = "uq_belief_stances_version"
_CONSTRAINT = "pk_belief_stances"


def _columns() -> list[sa.Column[object]]:
    # as revision 0004 made them (0011 changed only PostgreSQL's collation, not used here)
    return [
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


def _copy_sqlite(*, keyed: bool) -> None:
    """Copy the stance rows into a table with (``keyed``) or without the declared key, and make
    its indexes again from their stored definitions (partial ones included)."""
    conn = op.get_bind()
    indexes = [
        (name, sql)
        for name, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (_TABLE,),
        )
        if name != _INDEX
    ]
    new = f"{_TABLE}_0012"
    key = [sa.PrimaryKeyConstraint(*_KEY, name=_CONSTRAINT)] if keyed else []
    op.create_table(new, *_columns(), *key)
    names = ", ".join(c.name for c in _columns())
    op.execute(f"INSERT INTO {new} ({names}) SELECT {names} FROM {_TABLE}")
    op.drop_table(_TABLE)  # and its indexes
    op.rename_table(new, _TABLE)
    for _name, sql in indexes:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy_sqlite(keyed=False)
    else:
        op.drop_constraint(_CONSTRAINT, _TABLE, type_="primary")
    op.create_index(_INDEX, _TABLE, _KEY, unique=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy_sqlite(keyed=True)
    else:
        op.execute(
            f"ALTER TABLE {_TABLE} ADD CONSTRAINT {_CONSTRAINT} PRIMARY KEY USING INDEX {_INDEX}"
        )
