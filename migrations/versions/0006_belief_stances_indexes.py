"""Stance rows: fewer, narrower indexes that answer a past known_at from the index alone.

Before this revision an answer on a busy proposition fetched every version in force at the
question's ``known_at`` (and every version opened since, in force now) only to drop most of them
on columns its index did not hold, and each new stance row went into four indexes keyed by
proposition in random order. Now the versions in force have one index for the stabbing query,
``ix_belief_stances_current``, holding every column the query filters on (``ends`` and
``starts`` are merged into it), the chain index covers the versions in force only, and the
closed versions' two indexes are one that holds their valid period too. No row changes: only
indexes are dropped and built, so nothing is rebuilt from the log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = 2**62
_IN_FORCE = sa.text(f"tx_to = {_OPEN}")
_CLOSED = sa.text(f"tx_to < {_OPEN}")

Indexes = Mapping[str, tuple[list[str], sa.TextClause | None]]

# name: (columns, predicate or None), as revision 0004 created them
_BEFORE: Indexes = {
    "ix_belief_stances_chain": (["proposition_id", "source_id", "tx_to", "reach_to"], None),
    "ix_belief_stances_ends": (["proposition_id", "tx_to", "node", "reach_to"], None),
    "ix_belief_stances_starts": (["proposition_id", "tx_to", "node", "valid_from"], None),
    "ix_belief_stances_closed_ends": (["proposition_id", "tx_node", "tx_to"], _CLOSED),
    "ix_belief_stances_closed_starts": (["proposition_id", "tx_node", "tx_from"], _CLOSED),
}
_AFTER: Indexes = {
    "ix_belief_stances_chain": (["proposition_id", "source_id", "reach_to"], _IN_FORCE),
    "ix_belief_stances_current": (
        ["proposition_id", "node", "reach_to", "valid_from", "tx_from"],
        _IN_FORCE,
    ),
    "ix_belief_stances_closed": (
        ["proposition_id", "tx_node", "tx_to", "tx_from", "valid_from", "reach_to"],
        _CLOSED,
    ),
}


def _swap(drop: Indexes, create: Indexes) -> None:
    for name in drop:
        op.drop_index(name, table_name="belief_stances")
    for name, (columns, where) in create.items():
        op.create_index(name, "belief_stances", columns, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    _swap(_BEFORE, _AFTER)


def downgrade() -> None:
    _swap(_AFTER, _BEFORE)
