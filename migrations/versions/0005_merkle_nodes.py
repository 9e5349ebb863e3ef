"""The Merkle tree's stored nodes (issue 15): one row per complete subtree, written once.

``id`` is the node's place in write order (``ledger.transparency.merkle.stored_index``), ``hash``
its 32-byte RFC 9162 hash. The table starts empty: building the tree of an existing log needs
the leaf format, which the store integration defines, and is done there, not here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    node_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "merkle_nodes",
        sa.Column("id", node_id, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merkle_nodes"),
    )


def downgrade() -> None:
    op.drop_table("merkle_nodes")
