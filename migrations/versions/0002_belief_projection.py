"""Tables of the materialized bitemporal belief projection.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "belief_checkpoint",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("policy", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_belief_checkpoint"),
    )
    op.create_table(
        "belief_sources",
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", name="pk_belief_sources"),
    )
    op.create_table(
        "belief_propositions",
        sa.Column("proposition_id", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("proposition_id", name="pk_belief_propositions"),
    )
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


def downgrade() -> None:
    op.drop_index("ix_belief_intervals_lookup", table_name="belief_intervals")
    op.drop_table("belief_intervals")
    op.drop_index("ix_belief_statements_proposition_id", table_name="belief_statements")
    op.drop_table("belief_statements")
    op.drop_table("belief_propositions")
    op.drop_table("belief_sources")
    op.drop_table("belief_checkpoint")
