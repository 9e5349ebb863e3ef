"""Belief projection v2: one bitemporal row per statement version, verdicts decided at read time.

Replaces ``belief_intervals`` (a stored verdict per valid-time interval, which made every write
re-judge and rewrite the proposition's later history) and ``belief_statements`` with
``belief_stances``. Derived data only: the upgrade empties the projection and removes its
checkpoint, so the first write or query afterwards rebuilds it from the log (or run
``factledger rebuild``). The downgrade does the same the other way round.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_belief_stances_chain": ["proposition_id", "source_id", "tx_to", "reach_to"],
    "ix_belief_stances_ends": ["proposition_id", "tx_to", "node", "reach_to"],
    "ix_belief_stances_starts": ["proposition_id", "tx_to", "node", "valid_from"],
    "ix_belief_stances_stance": ["proposition_id", "stance", "valid_from", "position"],
}


_OPEN = 2**62
_CLOSED_INDEXES = {
    "ix_belief_stances_closed_ends": ["proposition_id", "tx_node", "tx_to"],
    "ix_belief_stances_closed_starts": ["proposition_id", "tx_node", "tx_from"],
}


def _reset_derived() -> None:
    for table in ("belief_propositions", "belief_sources", "belief_checkpoint"):
        op.execute(f"DELETE FROM {table}")


def upgrade() -> None:
    op.drop_index("ix_belief_intervals_lookup", table_name="belief_intervals")
    op.drop_table("belief_intervals")
    op.drop_index("ix_belief_statements_proposition_id", table_name="belief_statements")
    op.drop_table("belief_statements")
    op.create_table(
        "belief_stances",
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
        sa.PrimaryKeyConstraint("statement_id", "tx_from", name="pk_belief_stances"),
    )
    for name, columns in _INDEXES.items():
        op.create_index(name, "belief_stances", columns)
    for name, columns in _CLOSED_INDEXES.items():
        closed = sa.text(f"tx_to < {_OPEN}")
        op.create_index(
            name, "belief_stances", columns, sqlite_where=closed, postgresql_where=closed
        )
    _reset_derived()
    # Sources are now answered as known at a time too (a policy may look any of them up).
    # (Batch mode: SQLite adds a NOT NULL column only by rebuilding the table, empty here.)
    with op.batch_alter_table("belief_sources") as batch:
        batch.add_column(sa.Column("recorded_at", sa.BigInteger(), nullable=False))


def downgrade() -> None:
    _reset_derived()
    with op.batch_alter_table("belief_sources") as batch:
        batch.drop_column("recorded_at")
    for name in (*_INDEXES, *_CLOSED_INDEXES):
        op.drop_index(name, table_name="belief_stances")
    op.drop_table("belief_stances")
    op.create_table(
        "belief_statements",
        sa.Column("statement_id", sa.String(128), nullable=False),
        sa.Column("proposition_id", sa.String(128), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("stance", sa.String(20), nullable=False),
        sa.Column("stated_at", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("statement_id", name="pk_belief_statements"),
    )
    op.create_index("ix_belief_statements_proposition_id", "belief_statements", ["proposition_id"])
    op.create_table(
        "belief_intervals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposition_id", sa.String(128), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=False),
        sa.Column("tx_from", sa.BigInteger(), nullable=False),
        sa.Column("tx_to", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("verdict", sa.Text(), nullable=False),
        sa.Column("because", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_belief_intervals"),
    )
    op.create_index(
        "ix_belief_intervals_lookup",
        "belief_intervals",
        ["proposition_id", "valid_from", "tx_from"],
    )
