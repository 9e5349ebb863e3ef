"""Event salts, and the Merkle tree of a ledger written before the tree existed (issue 15).

``event_salts`` holds each event's random salt (16 bytes, keyed by position): a Merkle leaf
commits to ``SHA-256(salt || payload)``, not to the payload itself (see
``ledger.transparency.offline.event_leaf``). Then the tree is built for the events already in the
log (``ledger.store.tree.catch_up``): each row becomes a leaf only after its hash-chain link and
hash verify, in position order from the genesis; building stops at the first row that does not
verify (``factledger verify`` reports it; appends are refused until then). The leaf format is
versioned (``"v":1``), so this revision builds the same tree whenever it runs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "event_salts",
        sa.Column("position", position, primary_key=True, autoincrement=False),
        sa.Column("salt", sa.LargeBinary(16), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_event_salts"),
    )
    if context.is_offline_mode():
        return  # an SQL script cannot build the tree: the first append does (tree.extend)
    from ledger.store import merkle, tree  # noqa: PLC0415 - only when a tree is to be built

    conn = op.get_bind()
    head = conn.execute(sa.text("SELECT max(position) FROM events")).scalar() or 0
    tree.catch_up(conn, merkle.tree_size(conn), int(head))


def downgrade() -> None:
    op.drop_table("event_salts")
    op.execute("DELETE FROM merkle_nodes")  # the tree built by upgrade() (0005 made it empty)
