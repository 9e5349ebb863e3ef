"""Stance rows: the closed versions' index covers what an answer reads of them.

An answer about a past known_at reads the versions in force then and closed since through one
range of ``ix_belief_stances_closed`` (revision 0008); on a busy proposition that is most of
what it returns (about 300 of the 420 rows of an answer on the benchmark's hot story), and each
was then fetched from the table. With the answer's columns in the index nothing is fetched: on
the 100k benchmark ledger the hot story's answer statement took 0.99 ms of CPU instead of 1.21
on SQLite. The closed versions are few (the index stays a small fraction of the table), so the
extra columns cost little disk. No row changes: only the index is dropped and built.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_belief_stances_closed"
_CLOSED = sa.text(f"tx_to < {2**62}")
_BY_END = ["proposition_id", "tx_to", "tx_from", "valid_from", "reach_to"]
_READ = ["valid_to", "qty_to", "statement_id", "source_id", "stance", "position", "value", "unit"]


def _replace(columns: list[str]) -> None:
    op.drop_index(_NAME, table_name="belief_stances")
    op.create_index(
        _NAME, "belief_stances", columns, sqlite_where=_CLOSED, postgresql_where=_CLOSED
    )


def upgrade() -> None:
    _replace(_BY_END + _READ)


def downgrade() -> None:
    _replace(_BY_END)
